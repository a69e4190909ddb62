/* config_msg.h: the messages a configuration reader gives back to its caller instead of printing
 * them: errors (the configuration must not be used) and warnings (something was ignored). The
 * caller decides where they go (the log, a task's warnings, a plugin's FAIL report). Also the one
 * format every message about a key uses:
 *   <file>: [<section>] <key> = '<value>': <what is wrong>
 * and the one about a place in the file:
 *   <file>: line <n>: <what is wrong>
 * so an operator can find the line without reading the code. */
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>

#include "macro.h"

enum config_msg_level {
    CONFIG_MSG_ERROR,
    CONFIG_MSG_WARNING,
    _CONFIG_MSG_LEVEL_MAX,
    _CONFIG_MSG_LEVEL_INVALID = -EINVAL,
};
const char *config_msg_level_to_string(enum config_msg_level l); /* "error", "warning" */
int config_msg_level_from_string(const char *s);                 /* -EINVAL when unknown */

struct config_msg {
    enum config_msg_level level;
    char *text;
};

/* Zero-initialise; free with config_msgs_done(). */
struct config_msgs {
    struct config_msg *items;
    size_t n_items;
    size_t n_errors;
};

void config_msgs_done(struct config_msgs *m);
int config_msgs_add(struct config_msgs *m, enum config_msg_level level, const char *format, ...)
    _printf_(3, 4);
int config_msgs_addv(struct config_msgs *m, enum config_msg_level level, const char *format,
                     va_list ap) _printf_(3, 0);
/* A message about one key, in the format above; value is quoted with control characters
 * escaped and cut at a sane length. */
int config_msgs_add_key(struct config_msgs *m, enum config_msg_level level, const char *file,
                        const char *section, const char *key, const char *value, const char *format,
                        ...) _printf_(7, 8);
/* The texts of one level joined with sep, "" when there are none; NULL on ENOMEM. */
char *config_msgs_join(const struct config_msgs *m, enum config_msg_level level, const char *sep);
/* Logs every message, errors as errors and warnings as warnings (log.h). */
void config_msgs_log(const struct config_msgs *m);

/* Writes s into buf with control characters and quotes escaped, cut with "..." to fit. A buffer
 * of CONFIG_VALUE_QUOTE_MAX is what messages use: values are short, a runaway one is cut. */
#define CONFIG_VALUE_QUOTE_MAX 160
void config_value_escape(const char *s, char *buf, size_t size);
