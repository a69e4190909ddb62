/* alarm_log.c: see alarm_log.h. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/uio.h>
#include <syslog.h>

#include <systemd/sd-journal.h>

#include "alarm_log.h"
#include "fileio.h"
#include "log.h"
#include "out_buffer.h"
#include "string_table.h"

static const char *const alarm_log_mode_table[_ALARM_LOG_MAX] = {
    [ALARM_LOG_AUTO] = "auto",
    [ALARM_LOG_JOURNAL] = "journal",
    [ALARM_LOG_FILE] = "file",
    [ALARM_LOG_NONE] = "none",
};
DEFINE_STRING_TABLE_LOOKUP(alarm_log_mode, enum alarm_log_mode, alarm_log_mode_table,
                           _ALARM_LOG_MAX)

struct alarm_log {
    enum alarm_log_mode mode;
    int fd;
    struct out_buffer buf;
    bool warned;
};

int alarm_log_priority(int level)
{
    switch (level) {
    case SENTRY_ALARM_MINOR:
        return LOG_WARNING;
    case SENTRY_ALARM_MAJOR:
        return LOG_ERR;
    case SENTRY_ALARM_CRITICAL:
        return LOG_CRIT;
    default:
        return LOG_NOTICE;
    }
}

int alarm_log_open(enum alarm_log_mode mode, const char *file, struct alarm_log **ret)
{
    struct alarm_log *l = calloc(1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    l->fd = -1;
    if (mode == ALARM_LOG_AUTO)
        mode = log_get_target() == LOG_TARGET_JOURNAL ? ALARM_LOG_JOURNAL : ALARM_LOG_FILE;
    l->mode = mode;
    if (mode == ALARM_LOG_FILE) {
        l->fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (l->fd < 0) {
            int r = -errno;
            free(l);
            return log_error_errno(r, "cannot open the alarm log %s: %m", file);
        }
    }
    *ret = l;
    return 0;
}

struct alarm_log *alarm_log_close(struct alarm_log *l)
{
    if (!l)
        return NULL;
    if (l->fd >= 0)
        close(l->fd);
    out_buffer_done(&l->buf);
    free(l);
    return NULL;
}

enum alarm_log_mode alarm_log_mode(const struct alarm_log *l)
{
    return l->mode;
}

static void alarm_log_journal(const struct alarm *a)
{
    char f_msg[512], f_prio[32], f_seq[40], f_id[32], f_level[48], f_type[48], f_node[300];
    char f_key[160], f_inj[32];
    _cleanup_free_ char *f_source = NULL, *f_text = NULL;
    struct iovec iov[13];
    size_t n = 0;

    snprintf(f_msg, sizeof(f_msg), "MESSAGE=alarm %u %s %s from %s%s%s (seq %" PRIu64 ")%s", a->id,
             alarm_level_to_string(a->level), alarm_type_to_string(a->type), a->source,
             *a->key ? " key " : "", a->key, a->seq, a->injected ? " [injected]" : "");
    snprintf(f_prio, sizeof(f_prio), "PRIORITY=%d", alarm_log_priority(a->level));
    snprintf(f_seq, sizeof(f_seq), "SENTRY_SEQ=%" PRIu64, a->seq);
    snprintf(f_id, sizeof(f_id), "SENTRY_ALARM_ID=%u", a->id);
    snprintf(f_level, sizeof(f_level), "SENTRY_ALARM_LEVEL=%s", alarm_level_to_string(a->level));
    snprintf(f_type, sizeof(f_type), "SENTRY_ALARM_TYPE=%s", alarm_type_to_string(a->type));
    snprintf(f_node, sizeof(f_node), "SENTRY_NODE=%s", a->node);
    snprintf(f_key, sizeof(f_key), "SENTRY_ALARM_KEY=%s", a->key);
    snprintf(f_inj, sizeof(f_inj), "SENTRY_INJECTED=%d", a->injected);
    if (asprintf(&f_source, "SENTRY_SOURCE=%s", a->source) < 0 ||
        asprintf(&f_text, "SENTRY_ALARM_TEXT=%.*s", (int) a->text_len, a->text) < 0)
        return;
    const char *fields[] = {f_msg,  f_prio, f_seq, f_id,     f_level, f_type,
                            f_node, f_key,  f_inj, f_source, f_text,  "SYSLOG_IDENTIFIER=sentryd"};
    for (size_t i = 0; i < ELEMENTSOF(fields); i++)
        iov[n++] = (struct iovec){.iov_base = (void *) fields[i], .iov_len = strlen(fields[i])};
    sd_journal_sendv(iov, (int) n);
}

void alarm_log_batch(struct alarm_log *l, struct alarm_record *const *recs, size_t n)
{
    if (l->mode == ALARM_LOG_NONE)
        return;
    if (l->mode == ALARM_LOG_JOURNAL) {
        for (size_t i = 0; i < n; i++)
            alarm_log_journal(&recs[i]->a);
        return;
    }
    /* File: the records' stream lines belong to the main thread; format our own here. */
    for (size_t i = 0; i < n; i++) {
        size_t len;
        _cleanup_free_ char *s = alarm_json_text(&recs[i]->a, &len);
        if (s) {
            s[len] = '\n';
            (void) out_buffer_append(&l->buf, s, len + 1);
        }
    }
    int r = write_all(l->fd, l->buf.data + l->buf.start, l->buf.len);
    if (r < 0 && !l->warned) {
        l->warned = true;
        log_warning_errno(r, "cannot write the alarm log: %m");
    }
    l->buf.start = l->buf.len = 0;
}
