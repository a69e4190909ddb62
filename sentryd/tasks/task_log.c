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

/* Length of the valid UTF-8 character at s (1..4), or 0 when s does not start one. */
static size_t utf8_char_length(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    size_t len;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c == 0xe0) {
        len = 3;
        lo = 0xa0; /* no overlong forms */
    } else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef)
        len = 3;
    else if (c == 0xed) {
        len = 3;
        hi = 0x9f; /* no UTF-16 surrogates */
    } else if (c == 0xf0) {
        len = 4;
        lo = 0x90;
    } else if (c >= 0xf1 && c <= 0xf3)
        len = 4;
    else if (c == 0xf4) {
        len = 4;
        hi = 0x8f; /* nothing above U+10FFFF */
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if (s[k] < 0x80 || s[k] > 0xbf)
            return 0;
    return len;
}

static size_t escape_byte(char *out, unsigned char c)
{
    switch (c) {
    case '\t':
        return (size_t) sprintf(out, "\\t");
    case '\r':
        return (size_t) sprintf(out, "\\r");
    case '\n':
        return (size_t) sprintf(out, "\\n");
    default:
        return (size_t) sprintf(out, "\\x%02x", c);
    }
}

/* The printable form of the character at s[i] into piece (16 bytes): *len gets how many input
 * bytes it took. Returns the length of the piece. */
static size_t sanitize_piece(const unsigned char *s, size_t n, size_t i, char *piece, size_t *len)
{
    size_t l = utf8_char_length(s + i, n - i), plen = 0;
    bool escape = l == 0 || (l == 1 && (s[i] < 0x20 || s[i] == 0x7f)) ||
                  (l == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0); /* C1 controls */

    if (l == 0)
        l = 1;
    if (escape)
        for (size_t k = 0; k < l; k++)
            plen += escape_byte(piece + plen, s[i + k]);
    else {
        memcpy(piece, s + i, l);
        plen = l;
    }
    *len = l;
    return plen;
}

size_t text_sanitize(char *out, size_t size, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *) s;
    size_t o = 0, total = 0, len;
    char piece[16];

    if (size < 8) {
        if (size > 0)
            out[0] = 0;
        return 0;
    }
    /* Whether all of it fits decides whether room must be kept for the "..." of a cut. */
    for (size_t i = 0; i < n && total < size; i += len)
        total += sanitize_piece(u, n, i, piece, &len);
    size_t reserve = total < size ? 0 : STRLEN("...");
    for (size_t i = 0; i < n; i += len) {
        size_t plen = sanitize_piece(u, n, i, piece, &len);
        if (o + plen + reserve + 1 > size) {
            memcpy(out + o, "...", STRLEN("..."));
            o += STRLEN("...");
            break;
        }
        memcpy(out + o, piece, plen);
        o += plen;
    }
    out[o] = 0;
    return o;
}

int task_log_format_marker(char *buf, size_t size, uint64_t run, usec_t realtime, bool with_pre)
{
    char when[64];
    int n = snprintf(buf, size, TASK_LOG_MARKER "%" PRIu64 " started at %s%s\n", run,
                     format_timestamp_local(when, sizeof(when), realtime, true),
                     with_pre ? " (task_pre first)" : "");
    return n < 0 || (size_t) n >= size ? -ENOBUFS : 0;
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
        bool marker = line_len >= STRLEN(TASK_LOG_MARKER) &&
                      memcmp(buf + start, TASK_LOG_MARKER, STRLEN(TASK_LOG_MARKER)) == 0;
        char text[TASK_LOG_LINE_MAX];

        if (line_len > 0 && buf[start + line_len - 1] == '\r')
            line_len--; /* CRLF output */
        size_t tl = text_sanitize(text, sizeof(text), buf + start, line_len);
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
