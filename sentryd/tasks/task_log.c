/* task_log.c: see task_log.h. The tail is found by walking the window backwards, line by line,
 * from its end: lines are kept until there are max_lines of them, the run's marker line was
 * kept, or the next one would pass the byte budget. Nothing here blocks for long: one bounded
 * pread of a regular file. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "macro.h"
#include "strv.h"
#include "task_log.h"
#include "terminal_escape.h"

int task_log_format_marker(char *buf, size_t size, uint64_t run, usec_t realtime, bool with_pre)
{
    char when[64];
    int n = snprintf(buf, size, TASK_LOG_MARKER "%" PRIu64 " started at %s%s\n", run,
                     format_timestamp_local(when, sizeof(when), realtime, true),
                     with_pre ? " (task_pre first)" : "");
    return n < 0 || (size_t) n >= size ? -ENOBUFS : 0;
}

int task_log_format_rotated(char *buf, size_t size, usec_t realtime, uint64_t max_size,
                            const char *where)
{
    char when[64];
    int n = snprintf(buf, size,
                     TASK_LOG_ROTATED_MARKER "at %s (the file reached %" PRIu64
                                             " bytes, log_max_size): %s\n",
                     format_timestamp_local(when, sizeof(when), realtime, true), max_size, where);
    return n < 0 || (size_t) n >= size ? -ENOBUFS : 0;
}

int task_log_format_dropped(char *buf, size_t size, uint64_t n, const char *why)
{
    int k = snprintf(buf, size, "-- sentryd: %" PRIu64 " bytes of output dropped: %s\n", n, why);
    return k < 0 || (size_t) k >= size ? -ENOBUFS : 0;
}

int task_log_tail_lines(const char *buf, size_t len, bool at_start, unsigned max_lines, char ***ret)
{
    _cleanup_strv_free_ char **newest_first = NULL;
    size_t lo = 0, end = len, budget = TASK_LOG_TAIL_TEXT_MAX, n = 0;
    char **l;

    *ret = NULL;
    if (!at_start) {
        /* The window begins inside a line: that line is not whole. */
        const char *nl = memchr(buf, '\n', len);
        if (nl)
            lo = (size_t) (nl - buf) + 1;
    }
    if (end > lo && buf[end - 1] == '\n')
        end--; /* the newline that ends the last line */
    while (max_lines > 0 && lo < len) {
        const char *nl = end > lo ? memrchr(buf + lo, '\n', end - lo) : NULL;
        size_t start = nl ? (size_t) (nl - buf) + 1 : lo, line_len = end - start;
        bool marker =
            (line_len >= STRLEN(TASK_LOG_MARKER) &&
             memcmp(buf + start, TASK_LOG_MARKER, STRLEN(TASK_LOG_MARKER)) == 0) ||
            (line_len >= STRLEN(TASK_LOG_ROTATED_MARKER) &&
             memcmp(buf + start, TASK_LOG_ROTATED_MARKER, STRLEN(TASK_LOG_ROTATED_MARKER)) == 0);
        char text[TASK_LOG_LINE_MAX];

        if (line_len > 0 && buf[start + line_len - 1] == '\r')
            line_len--; /* CRLF output */
        size_t tl = terminal_escape(text, sizeof(text), buf + start, line_len);
        if (tl + 1 > budget)
            break;
        budget -= tl + 1;
        if (strv_extend(&newest_first, text) < 0)
            return -ENOMEM;
        n++;
        if (n >= max_lines || marker || start == lo)
            break;
        end = start - 1;
    }

    l = calloc(n + 1, sizeof(char *));
    if (!l)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        l[i] = TAKE_PTR(newest_first[n - 1 - i]);
    *ret = l;
    return 0;
}

int task_log_read_tail(const char *path, unsigned max_lines, char ***ret)
{
    _cleanup_close_ int fd = -EBADF;
    _cleanup_free_ char *buf = NULL;
    struct stat st;
    off_t from;
    size_t got = 0;

    *ret = NULL;
    /* O_NONBLOCK: a FIFO put in place of the log must not stall sentryd. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return -EBADFD;
    from = st.st_size > TASK_LOG_TAIL_READ_MAX ? st.st_size - TASK_LOG_TAIL_READ_MAX : 0;
    buf = malloc(TASK_LOG_TAIL_READ_MAX);
    if (!buf)
        return -ENOMEM;
    while (got < TASK_LOG_TAIL_READ_MAX) {
        ssize_t k = pread(fd, buf + got, TASK_LOG_TAIL_READ_MAX - got, from + (off_t) got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -errno;
        if (k == 0)
            break; /* the file shrank (log rotation with copytruncate) or ends here */
        got += (size_t) k;
    }
    return task_log_tail_lines(buf, got, from == 0, max_lines, ret);
}
