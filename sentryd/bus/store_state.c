/* store_state.c: see store_state.h.
 *
 * A copy is one line, NUL-padded to its slot:
 *   sentry-store-state 1 gen=17 mark=40960 failed=301-310,512-512 sum=1a2b3c4d
 * sum is the FNV-1a hash of the bytes before " sum=". Slot (generation % 2) holds a copy. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "log.h"
#include "macro.h"
#include "store_state.h"

#define STATE_HEAD "sentry-store-state 1 gen="

static uint32_t fnv1a(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t) p[i];
        h *= 16777619u;
    }
    return h;
}

int store_state_format(const struct store_state *st, uint64_t generation, char *buf, size_t size)
{
    size_t at = 0;
    int n = snprintf(buf, size, STATE_HEAD "%" PRIu64 " mark=%" PRIu64 " failed=", generation,
                     st->seq_mark);

    if (n < 0 || (size_t) n >= size)
        return -ENOBUFS;
    at = (size_t) n;
    for (size_t i = 0; i < st->n_failed; i++) {
        n = snprintf(buf + at, size - at, "%s%" PRIu64 "-%" PRIu64, i ? "," : "",
                     st->failed[i].first, st->failed[i].last);
        if (n < 0 || (size_t) n >= size - at)
            return -ENOBUFS;
        at += (size_t) n;
    }
    n = snprintf(buf + at, size - at, " sum=%08x\n", fnv1a(buf, at));
    if (n < 0 || (size_t) n >= size - at)
        return -ENOBUFS;
    return (int) (at + (size_t) n);
}

/* Digits at *p as a uint64_t; moves *p past them. -EBADMSG when none or too many. */
static int parse_u64(const char **p, const char *end, uint64_t *ret)
{
    uint64_t v = 0;
    const char *s = *p;

    if (s >= end || *s < '0' || *s > '9')
        return -EBADMSG;
    for (; s < end && *s >= '0' && *s <= '9'; s++) {
        if (v > (UINT64_MAX - (uint64_t) (*s - '0')) / 10)
            return -EBADMSG;
        v = v * 10 + (uint64_t) (*s - '0');
    }
    *p = s;
    *ret = v;
    return 0;
}

static bool skip(const char **p, const char *end, const char *word)
{
    size_t n = strlen(word);
    if ((size_t) (end - *p) < n || memcmp(*p, word, n) != 0)
        return false;
    *p += n;
    return true;
}

int store_state_parse(const char *text, size_t len, struct store_state *st, uint64_t *generation)
{
    const char *nl = memchr(text, '\n', len), *p = text;
    struct store_state s = STORE_STATE_INIT;
    uint64_t gen, sum;

    if (!nl || !skip(&p, nl, STATE_HEAD) || parse_u64(&p, nl, &gen) < 0 ||
        !skip(&p, nl, " mark=") || parse_u64(&p, nl, &s.seq_mark) < 0 || !skip(&p, nl, " failed="))
        return -EBADMSG;
    while (p < nl && *p != ' ') {
        struct seq_range r;
        if (s.n_failed == STORE_STATE_FAILED_MAX || (s.n_failed > 0 && !skip(&p, nl, ",")) ||
            parse_u64(&p, nl, &r.first) < 0 || !skip(&p, nl, "-") ||
            parse_u64(&p, nl, &r.last) < 0 || r.first > r.last)
            return -EBADMSG;
        s.failed[s.n_failed++] = r;
    }
    const char *at_sum = p;
    if (!skip(&p, nl, " sum=") || nl - p != 8)
        return -EBADMSG;
    sum = 0;
    for (; p < nl; p++) {
        int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
        if (d < 0)
            return -EBADMSG;
        sum = sum * 16 + (uint64_t) d;
    }
    if (sum != fnv1a(text, (size_t) (at_sum - text)))
        return -EBADMSG;
    s.fd = st->fd;
    *st = s;
    *generation = gen;
    return 0;
}

void store_state_close(struct store_state *st)
{
    if (st->fd >= 0)
        close(st->fd);
    *st = (struct store_state) STORE_STATE_INIT;
}

int store_state_open(struct store_state *st, const char *path, bool *damaged)
{
    char buf[2 * STORE_STATE_SLOT_SIZE];
    struct stat sb;
    bool found = false;
    int r;

    *damaged = false;
    store_state_close(st);
    st->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (st->fd < 0)
        return -errno;
    if (fstat(st->fd, &sb) < 0) {
        r = -errno;
        goto fail;
    }
    if (!S_ISREG(sb.st_mode)) {
        r = -EBADFD;
        goto fail;
    }
    /* Room for both copies, allocated now: later writes are in place. */
    if (sb.st_size < (off_t) sizeof(buf)) {
        r = -posix_fallocate(st->fd, 0, sizeof(buf));
        if (r < 0)
            goto fail;
    }
    ssize_t n = pread(st->fd, buf, sizeof(buf), 0);
    if (n < 0) {
        r = -errno;
        goto fail;
    }
    memset(buf + n, 0, sizeof(buf) - (size_t) n);
    for (int slot = 0; slot < 2; slot++) {
        struct store_state s = {.fd = st->fd};
        uint64_t gen;
        if (store_state_parse(buf + slot * STORE_STATE_SLOT_SIZE, STORE_STATE_SLOT_SIZE, &s, &gen) <
                0 ||
            (found && gen <= st->generation))
            continue;
        *st = s;
        st->generation = gen;
        found = true;
    }
    /* A file with bytes in it but no valid copy was damaged (or is not ours). */
    for (size_t i = 0; !found && i < sizeof(buf); i++)
        if (buf[i]) {
            *damaged = true;
            break;
        }
    return 0;
fail:
    store_state_close(st);
    return r;
}

int store_state_save(struct store_state *st)
{
    char buf[STORE_STATE_SLOT_SIZE] = {0};
    uint64_t gen = st->generation + 1;
    int n;

    if (st->fd < 0)
        return -EBADF;
    n = store_state_format(st, gen, buf, sizeof(buf));
    if (n < 0)
        return n;
    ssize_t k = pwrite(st->fd, buf, sizeof(buf), (off_t) (gen % 2) * STORE_STATE_SLOT_SIZE);
    if (k < 0)
        return -errno;
    if ((size_t) k != sizeof(buf))
        return -EIO;
    if (fdatasync(st->fd) < 0)
        return -errno;
    st->generation = gen;
    return 0;
}

int store_state_add_failed(struct store_state *st, uint64_t first, uint64_t last)
{
    if (st->n_failed > 0 && st->failed[st->n_failed - 1].last + 1 >= first &&
        st->failed[st->n_failed - 1].first <= first) {
        st->failed[st->n_failed - 1].last = MAX(st->failed[st->n_failed - 1].last, last);
        return 0;
    }
    if (st->n_failed == STORE_STATE_FAILED_MAX)
        return -ENOSPC;
    st->failed[st->n_failed++] = (struct seq_range){first, last};
    return 0;
}
