/* log.c: the process-wide logger (see log.h).
 *
 * Global state: `log_state`, written by log_setup() before any thread starts, read afterwards.
 * stderr lines are written with one write() so that lines of concurrent threads do not mix. */
#include <stdatomic.h>
#include <sys/uio.h>
#include <time.h>

#include <systemd/sd-journal.h>

#include "log.h"
#include "time_util.h"
#include "string_table.h"

static struct {
    const char *ident;
    enum log_target target;
    atomic_int max_level;
} log_state = {"sentry", LOG_TARGET_STDERR, LOG_INFO};

static const char *const log_target_table[_LOG_TARGET_MAX] = {
    [LOG_TARGET_AUTO] = "auto",
    [LOG_TARGET_JOURNAL] = "journal",
    [LOG_TARGET_STDERR] = "stderr",
    [LOG_TARGET_NULL] = "null",
};

static const char *const log_level_table[] = {
    [LOG_EMERG] = "emerg",     [LOG_ALERT] = "alert",   [LOG_CRIT] = "crit", [LOG_ERR] = "error",
    [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

DEFINE_STRING_TABLE_LOOKUP(log_target, enum log_target, log_target_table, _LOG_TARGET_MAX)

const char *log_level_to_string(int level)
{
    return level >= 0 && (size_t) level < ELEMENTSOF(log_level_table) ? log_level_table[level]
                                                                      : NULL;
}

int log_level_from_string(const char *s)
{
    if (!s)
        return -EINVAL;
    for (size_t i = 0; i < ELEMENTSOF(log_level_table); i++)
        if (streq(s, log_level_table[i]))
            return (int) i;
    if (streq(s, "warn"))
        return LOG_WARNING;
    if (streq(s, "err"))
        return LOG_ERR;
    if (streq(s, "critical"))
        return LOG_CRIT;
    return -EINVAL;
}

static bool journal_reachable(void)
{
    /* Stderr already connected to journald (a systemd unit) or the native socket exists. */
    return getenv("JOURNAL_STREAM") || access("/run/systemd/journal/socket", W_OK) == 0;
}

void log_setup(const char *ident, enum log_target target, int max_level)
{
    log_state.ident = ident;
    if (target == LOG_TARGET_AUTO)
        target = journal_reachable() ? LOG_TARGET_JOURNAL : LOG_TARGET_STDERR;
    log_state.target = target;
    atomic_store(&log_state.max_level, max_level);
}

void log_set_max_level(int level)
{
    atomic_store(&log_state.max_level, level);
}

int log_get_max_level(void)
{
    return atomic_load(&log_state.max_level);
}

enum log_target log_get_target(void)
{
    return log_state.target;
}

static void log_write_stderr(int level, const char *msg, const char *const *fields)
{
    char ts[64], line[8192];
    const char *task = NULL;

    for (const char *const *f = fields; f && *f; f++)
        if (startswith(*f, "SENTRY_TASK="))
            task = *f + STRLEN("SENTRY_TASK=");

    format_timestamp_local(ts, sizeof(ts), now_usec(CLOCK_REALTIME), true);
    int n =
        snprintf(line, sizeof(line), "%s %s[%d]: %s: %s%s%s\n", ts, log_state.ident, (int) getpid(),
                 log_level_to_string(level), task ? task : "", task ? ": " : "", msg);
    if (n < 0)
        return;
    if ((size_t) n >= sizeof(line)) {
        n = sizeof(line) - 1;
        line[n - 1] = '\n';
    }
    /* A failed log write has nowhere to be reported. */
    ssize_t _unused_ w = write(STDERR_FILENO, line, (size_t) n);
}

static void log_write_journal(int level, int error, const char *file, int line, const char *func,
                              const char *msg, const char *const *fields)
{
    char prio[32], ident[128], cfile[512], cline[32], cfunc[256], errf[32];
    _cleanup_free_ char *message = NULL;
    struct iovec iov[32];
    size_t n = 0;

    if (asprintf(&message, "MESSAGE=%s", msg) < 0)
        return;
    snprintf(prio, sizeof(prio), "PRIORITY=%d", level);
    snprintf(ident, sizeof(ident), "SYSLOG_IDENTIFIER=%s", log_state.ident);
    snprintf(cfile, sizeof(cfile), "CODE_FILE=%s", file);
    snprintf(cline, sizeof(cline), "CODE_LINE=%d", line);
    snprintf(cfunc, sizeof(cfunc), "CODE_FUNC=%s", func);
    const char *base[] = {message, prio, ident, cfile, cline, cfunc};
    for (size_t i = 0; i < ELEMENTSOF(base); i++)
        iov[n++] = (struct iovec){.iov_base = (void *) base[i], .iov_len = strlen(base[i])};
    if (error != 0) {
        snprintf(errf, sizeof(errf), "ERRNO=%d", error > 0 ? error : -error);
        iov[n++] = (struct iovec){.iov_base = errf, .iov_len = strlen(errf)};
    }
    for (const char *const *f = fields; f && *f && n < ELEMENTSOF(iov); f++)
        iov[n++] = (struct iovec){.iov_base = (void *) *f, .iov_len = strlen(*f)};

    if (sd_journal_sendv(iov, (int) n) < 0)
        log_write_stderr(level, msg, fields);
}

int log_internalv(int level, int error, const char *file, int line, const char *func,
                  const char *const *fields, const char *format, va_list ap)
{
    char msg[4096];
    int saved_errno = errno;

    if (level > atomic_load(&log_state.max_level) || log_state.target == LOG_TARGET_NULL) {
        errno = saved_errno;
        return negative_errno_or_zero(error);
    }
    /* Makes %m print the given error. */
    if (error != 0)
        errno = error > 0 ? error : -error;
    vsnprintf(msg, sizeof(msg), format, ap);

    if (log_state.target == LOG_TARGET_JOURNAL)
        log_write_journal(level, error, file, line, func, msg, fields);
    else
        log_write_stderr(level, msg, fields);
    errno = saved_errno;
    return negative_errno_or_zero(error);
}

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *const *fields, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int r = log_internalv(level, error, file, line, func, fields, format, ap);
    va_end(ap);
    return r;
}
