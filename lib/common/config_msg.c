/* config_msg.c: message lists of the configuration readers (see config_msg.h). */
#include <assert.h>
#include <stdio.h>

#include "config_msg.h"
#include "log.h"
#include "string_table.h"

static const char *const config_msg_level_table[_CONFIG_MSG_LEVEL_MAX] = {
    [CONFIG_MSG_ERROR] = "error",
    [CONFIG_MSG_WARNING] = "warning",
};
DEFINE_STRING_TABLE_LOOKUP(config_msg_level, enum config_msg_level, config_msg_level_table,
                           _CONFIG_MSG_LEVEL_MAX)

void config_msgs_done(struct config_msgs *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_items; i++)
        free(m->items[i].text);
    free(m->items);
    *m = (struct config_msgs){};
}

int config_msgs_addv(struct config_msgs *m, enum config_msg_level level, const char *format,
                     va_list ap)
{
    struct config_msg *items;
    char *text;

    assert_return(m && format, -EINVAL);
    assert_return((unsigned) level < _CONFIG_MSG_LEVEL_MAX, -EINVAL);
    if (vasprintf(&text, format, ap) < 0)
        return -ENOMEM;
    items = reallocarray(m->items, m->n_items + 1, sizeof(*items));
    if (!items) {
        free(text);
        return -ENOMEM;
    }
    m->items = items;
    m->items[m->n_items++] = (struct config_msg){.level = level, .text = text};
    if (level == CONFIG_MSG_ERROR)
        m->n_errors++;
    return 0;
}

int config_msgs_add(struct config_msgs *m, enum config_msg_level level, const char *format, ...)
{
    va_list ap;
    int r;

    va_start(ap, format);
    r = config_msgs_addv(m, level, format, ap);
    va_end(ap);
    return r;
}

void config_value_escape(const char *s, char *buf, size_t size)
{
    size_t o = 0;

    assert(buf && size >= 4);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char) *s;
        char esc[5];
        size_t n;

        if (c == '\n')
            n = (size_t) snprintf(esc, sizeof(esc), "\\n");
        else if (c == '\t')
            n = (size_t) snprintf(esc, sizeof(esc), "\\t");
        else if (c == '\'' || c == '\\')
            n = (size_t) snprintf(esc, sizeof(esc), "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            n = (size_t) snprintf(esc, sizeof(esc), "\\x%02x", c);
        else {
            esc[0] = (char) c;
            n = 1;
        }
        if (o + n + 4 > size) { /* keep room for "..." and the NUL */
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(buf + o, esc, n);
        o += n;
    }
    buf[o] = 0;
}

int config_msgs_add_key(struct config_msgs *m, enum config_msg_level level, const char *file,
                        const char *section, const char *key, const char *value, const char *format,
                        ...)
{
    _cleanup_free_ char *what = NULL;
    char quoted[CONFIG_VALUE_QUOTE_MAX];
    va_list ap;
    int r;

    assert_return(m && file && section && key && format, -EINVAL);
    va_start(ap, format);
    r = vasprintf(&what, format, ap);
    va_end(ap);
    if (r < 0)
        return -ENOMEM;
    config_value_escape(value, quoted, sizeof(quoted));
    return config_msgs_add(m, level, "%s: [%s] %s = '%s': %s", file, section, key, quoted, what);
}

char *config_msgs_join(const struct config_msgs *m, enum config_msg_level level, const char *sep)
{
    size_t total = 1, ls;
    char *r, *p;
    bool first = true;

    if (!m || !sep)
        return NULL;
    ls = strlen(sep);
    for (size_t i = 0; i < m->n_items; i++)
        if (m->items[i].level == level)
            total += strlen(m->items[i].text) + ls;
    r = p = malloc(total);
    if (!r)
        return NULL;
    *p = 0;
    for (size_t i = 0; i < m->n_items; i++) {
        if (m->items[i].level != level)
            continue;
        if (!first)
            p = stpcpy(p, sep);
        p = stpcpy(p, m->items[i].text);
        first = false;
    }
    return r;
}

void config_msgs_log(const struct config_msgs *m)
{
    for (size_t i = 0; m && i < m->n_items; i++)
        if (m->items[i].level == CONFIG_MSG_ERROR)
            log_error("%s", m->items[i].text);
        else
            log_warning("%s", m->items[i].text);
}
