/* log.h: logging for sentryd and the plugins.
 *
 * One process-wide logger (named global state: log_state in log.c). Messages go to journald with
 * structured fields when journald is there, otherwise to stderr with a timestamp. Every call can
 * carry extra journal fields ("KEY=value"); SENTRY_TASK names the task a message is about.
 * The *_errno variants take an errno value (either sign), make %m print it, and return it
 * negative, so `return log_error_errno(r, "...: %m");` reads naturally. */
#pragma once

#include <stdarg.h>
#include <syslog.h>

#include "macro.h"

enum log_target {
    LOG_TARGET_AUTO,    /* journal when reachable, else stderr */
    LOG_TARGET_JOURNAL, /* journald native protocol */
    LOG_TARGET_STDERR,  /* stderr, one line per message with a timestamp */
    LOG_TARGET_NULL,    /* nothing (tests, fuzzers) */
    _LOG_TARGET_MAX,
};

const char *log_target_to_string(enum log_target t);
int log_target_from_string(const char *s); /* enum value or -EINVAL */
const char *log_level_to_string(int level);
int log_level_from_string(const char *s); /* LOG_ERR..LOG_DEBUG or -EINVAL */

/* ident: SYSLOG_IDENTIFIER and stderr prefix. */
void log_setup(const char *ident, enum log_target target, int max_level);
void log_set_max_level(int level);
int log_get_max_level(void);
/* The target in use after AUTO was resolved. */
enum log_target log_get_target(void);

/* fields: NULL or a NULL-terminated array of "KEY=value" journal fields. */
int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *const *fields, const char *format, ...) _printf_(7, 8);
int log_internalv(int level, int error, const char *file, int line, const char *func,
                  const char *const *fields, const char *format, va_list ap) _printf_(7, 0);

#define log_full_errno(level, error, fields, ...) \
    log_internal((level), (error), __FILE__, __LINE__, __func__, (fields), __VA_ARGS__)

#define log_debug(...)   log_full_errno(LOG_DEBUG, 0, NULL, __VA_ARGS__)
#define log_info(...)    log_full_errno(LOG_INFO, 0, NULL, __VA_ARGS__)
#define log_notice(...)  log_full_errno(LOG_NOTICE, 0, NULL, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, NULL, __VA_ARGS__)
#define log_error(...)   log_full_errno(LOG_ERR, 0, NULL, __VA_ARGS__)

#define log_debug_errno(e, ...)   log_full_errno(LOG_DEBUG, (e), NULL, __VA_ARGS__)
#define log_info_errno(e, ...)    log_full_errno(LOG_INFO, (e), NULL, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), NULL, __VA_ARGS__)
#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, (e), NULL, __VA_ARGS__)

/* Messages about one task carry SENTRY_TASK=<name>. */
#define log_task_full_errno(level, e, task_name, ...)              \
    ({                                                             \
        char _f_[300];                                             \
        snprintf(_f_, sizeof(_f_), "SENTRY_TASK=%s", (task_name)); \
        const char *const _fv_[] = {_f_, NULL};                    \
        log_full_errno((level), (e), _fv_, __VA_ARGS__);           \
    })
#define log_task_info(t, ...)             log_task_full_errno(LOG_INFO, 0, (t), __VA_ARGS__)
#define log_task_notice(t, ...)           log_task_full_errno(LOG_NOTICE, 0, (t), __VA_ARGS__)
#define log_task_warning(t, ...)          log_task_full_errno(LOG_WARNING, 0, (t), __VA_ARGS__)
#define log_task_error(t, ...)            log_task_full_errno(LOG_ERR, 0, (t), __VA_ARGS__)
#define log_task_debug(t, ...)            log_task_full_errno(LOG_DEBUG, 0, (t), __VA_ARGS__)
#define log_task_error_errno(t, e, ...)   log_task_full_errno(LOG_ERR, (e), (t), __VA_ARGS__)
#define log_task_warning_errno(t, e, ...) log_task_full_errno(LOG_WARNING, (e), (t), __VA_ARGS__)

#define log_oom() log_error_errno(ENOMEM, "out of memory")
