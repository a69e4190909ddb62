/* bus_load: a load generator and checker for the alarm bus.
 *
 * P producer threads put N alarms on the bus: over the native socket as pipelined `report`
 * requests (W in flight per connection; every acknowledged seq is recorded), or over the xalarm
 * report socket as one 8216-byte datagram per alarm. S subscriber threads read them back (a
 * native `subscribe`, or the xalarm alarm stream). The text of each alarm carries its producer,
 * its number and the CLOCK_MONOTONIC time it was sent, so every subscriber measures the latency
 * from report to receipt and checks that it got each alarm exactly once and in order: native
 * seqs strictly increasing and equal to the acknowledged set; xalarm (no seq, no ack) each
 * producer's numbers strictly increasing and equal to what was sent. Some subscribers may read
 * FACTOR times slower than the others (--slow) or nothing at all for a while (--stall).
 *
 * Exit status: 0 when every subscriber got everything exactly once and in order, 1 otherwise,
 * 2 on a usage error. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"
#include "out_buffer.h"
#include "xalarm_record.h"

#define TEXT_TAG        "bus_load"
#define SYNC_TEXT       "bus_load sync"
#define TEXT_SIZE_MAX   4096
#define READ_BUF_SIZE   (256 * 1024)
#define READ_BUDGET     (1024 * 1024) /* bytes read per wake-up before other work */
#define SLOW_CHUNK      4096          /* bytes per read of a slow native subscriber */
#define REPORT_LINE_MAX (TEXT_SIZE_MAX + 256)
#define OUT_HIGH        (256 * 1024) /* a producer's unsent bytes before it waits */
#define WAIT_SLICE_MS   100
#define NSEC_PER_SEC    1000000000ULL
#define NSEC_PER_MSEC   1000000ULL

/* ---- options ------------------------------------------------------------------------------- */

enum bus_path {
    PATH_NATIVE,
    PATH_XALARM,
};

struct options {
    enum bus_path path;
    const char *socket, *xalarm_dir;
    unsigned producers, subscribers, window, id, text_size;
    uint64_t alarms;
    double rate;         /* alarms/s in total, 0 = as fast as possible */
    unsigned slow_count; /* the first slow_count subscribers are slow */
    double slow_factor;
    unsigned stall_count; /* the next stall_count subscribers stall */
    double stall_seconds; /* < 0: until every producer has finished */
    bool have_since;
    uint64_t since;
    double timeout; /* seconds after the producers finished */
    bool json;
};

/* ---- small tools --------------------------------------------------------------------------- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * NSEC_PER_SEC + (uint64_t) ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {.tv_sec = (time_t) (ns / NSEC_PER_SEC),
                          .tv_nsec = (long) (ns % NSEC_PER_SEC)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static void sleep_until(uint64_t t)
{
    struct timespec ts = {.tv_sec = (time_t) (t / NSEC_PER_SEC),
                          .tv_nsec = (long) (t % NSEC_PER_SEC)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* Latencies in ns: exact below 64, then 32 buckets per power of two (about 3% wide). */
#define HIST_LINEAR  64
#define HIST_SUB     32
#define HIST_BUCKETS (HIST_LINEAR + 58 * HIST_SUB)

struct histogram {
    uint64_t n, max;
    uint64_t count[HIST_BUCKETS];
};

static unsigned hist_index(uint64_t v)
{
    if (v < HIST_LINEAR)
        return (unsigned) v;
    unsigned m = 63 - (unsigned) __builtin_clzll(v);
    return HIST_LINEAR + (m - 6) * HIST_SUB + ((unsigned) (v >> (m - 5)) & (HIST_SUB - 1));
}

static uint64_t hist_value(unsigned i)
{
    if (i < HIST_LINEAR)
        return i;
    unsigned m = (i - HIST_LINEAR) / HIST_SUB + 6, sub = (i - HIST_LINEAR) % HIST_SUB;
    return ((uint64_t) (HIST_SUB + sub) << (m - 5)) + ((1ULL << (m - 5)) >> 1);
}

static void hist_add(struct histogram *h, uint64_t v)
{
    h->count[hist_index(v)]++;
    h->n++;
    h->max = MAX(h->max, v);
}

static void hist_merge(struct histogram *into, const struct histogram *h)
{
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        into->count[i] += h->count[i];
    into->n += h->n;
    into->max = MAX(into->max, h->max);
}

/* The q-quantile in µs (0 when empty). */
static double hist_quantile_us(const struct histogram *h, double q)
{
    if (h->n == 0)
        return 0;
    uint64_t want = (uint64_t) ((double) h->n * q + 0.999999), seen = 0;
    want = CLAMP(want, 1, h->n);
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->count[i];
        if (seen >= want)
            return (double) MIN(hist_value(i), h->max) / 1000.0;
    }
    return (double) h->max / 1000.0;
}

/* A growable set of small integers. */
struct bitmap {
    uint64_t *w;
    size_t n_words;
};

static int bitmap_reserve(struct bitmap *b, uint64_t bit)
{
    size_t need = (size_t) (bit / 64) + 1;
    if (need <= b->n_words)
        return 0;
    size_t n = MAX(b->n_words * 2, need);
    uint64_t *w = realloc(b->w, n * sizeof(*w));
    if (!w)
        return -ENOMEM;
    memset(w + b->n_words, 0, (n - b->n_words) * sizeof(*w));
    b->w = w;
    b->n_words = n;
    return 0;
}

/* 1 when the bit was set already, 0 when set now, -ENOMEM. */
static int bitmap_test_and_set(struct bitmap *b, uint64_t bit)
{
    int r = bitmap_reserve(b, bit);
    if (r < 0)
        return r;
    uint64_t m = 1ULL << (bit % 64);
    if (b->w[bit / 64] & m)
        return 1;
    b->w[bit / 64] |= m;
    return 0;
}

/* Bits set in a but not in b. */
static uint64_t bitmap_count_missing(const struct bitmap *a, const struct bitmap *b)
{
    uint64_t n = 0;
    for (size_t i = 0; i < a->n_words; i++)
        n += (uint64_t) __builtin_popcountll(a->w[i] & ~(i < b->n_words ? b->w[i] : 0));
    return n;
}

static void bitmap_done(struct bitmap *b)
{
    free(b->w);
    *b = (struct bitmap){0};
}

struct u64_list {
    uint64_t *v;
    size_t n, alloc;
};

static int u64_list_push(struct u64_list *l, uint64_t x)
{
    if (l->n == l->alloc) {
        size_t a = l->alloc ? l->alloc * 2 : 1024;
        uint64_t *v = realloc(l->v, a * sizeof(*v));
        if (!v)
            return -ENOMEM;
        l->v = v;
        l->alloc = a;
    }
    l->v[l->n++] = x;
    return 0;
}

/* Bytes received and not yet consumed. */
struct reader {
    char *buf;
    size_t start, len, size;
};

static int reader_init(struct reader *r, size_t size)
{
    *r = (struct reader){.buf = malloc(size), .size = size};
    return r->buf ? 0 : -ENOMEM;
}

/* One recv() of at most max bytes: >0, 0 at EOF, -EAGAIN, -ENOBUFS when full, or -errno. */
static ssize_t reader_fill(struct reader *r, int fd, size_t max)
{
    if (r->start > 0 && (r->len == 0 || r->start + r->len + MIN(max, r->size / 2) > r->size)) {
        memmove(r->buf, r->buf + r->start, r->len);
        r->start = 0;
    }
    size_t room = MIN(r->size - r->start - r->len, max);
    if (room == 0)
        return -ENOBUFS;
    ssize_t n = recv(fd, r->buf + r->start + r->len, room, MSG_DONTWAIT);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -EAGAIN : -errno;
    r->len += (size_t) n;
    return n;
}

static void reader_consume(struct reader *r, size_t n)
{
    r->start += n;
    r->len -= n;
    if (r->len == 0)
        r->start = 0;
}

static int unix_connect(const char *path, int type, int *ret)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    _cleanup_close_ int fd = -EBADF;

    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
        return -errno;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    *ret = TAKE_FD(fd);
    return 0;
}

/* An epoll instance watching one fd. */
static int epoll_for(int fd, uint32_t events, int *ret)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = events, .data.fd = fd};
    if (ep < 0)
        return -errno;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int r = -errno;
        close(ep);
        return r;
    }
    *ret = ep;
    return 0;
}

/* Sends all of buf on a blocking-in-effect basis (waits for room with ep). */
static int send_all(int fd, int ep, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EAGAIN) {
            struct epoll_event ev;
            if (epoll_wait(ep, &ev, 1, WAIT_SLICE_MS) < 0 && errno != EINTR)
                return -errno;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        buf += n;
        len -= (size_t) n;
    }
    return 0;
}

static int parse_u64(const char *s, uint64_t *ret)
{
    char *end;
    if (!s || !*s || *s == '-')
        return -EINVAL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -EINVAL;
    *ret = v;
    return 0;
}

static int parse_double(const char *s, double *ret)
{
    char *end;
    if (!s || !*s)
        return -EINVAL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || v < 0)
        return -EINVAL;
    *ret = v;
    return 0;
}

/* Reads a decimal number at *p, moving *p past it. */
static int scan_u64(const char **p, const char *end, uint64_t *ret)
{
    uint64_t v = 0;
    const char *s = *p;
    if (s >= end || *s < '0' || *s > '9')
        return -EINVAL;
    while (s < end && *s >= '0' && *s <= '9')
        v = v * 10 + (uint64_t) (*s++ - '0');
    *p = s;
    *ret = v;
    return 0;
}

static int scan_literal(const char **p, const char *end, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t) (end - *p) < n || memcmp(*p, lit, n) != 0)
        return -EINVAL;
    *p += n;
    return 0;
}

/* ---- the alarm text: "bus_load p=<producer> n=<number> t=<ns> xxx..." ---------------------- */

struct alarm_tag {
    uint64_t producer, n, t;
};

static size_t text_format(char *buf, size_t size, unsigned text_size, unsigned producer, uint64_t n,
                          uint64_t t)
{
    int k = snprintf(buf, size, TEXT_TAG " p=%u n=%" PRIu64 " t=%" PRIu64 " ", producer, n, t);
    size_t len = k < 0 ? 0 : MIN((size_t) k, size - 1);
    while (len < text_size && len + 1 < size)
        buf[len++] = 'x';
    buf[len] = 0;
    return len;
}

static int text_parse(const char *s, const char *end, struct alarm_tag *tag)
{
    const char *p = s;
    if (scan_literal(&p, end, TEXT_TAG " p=") < 0 || scan_u64(&p, end, &tag->producer) < 0 ||
        scan_literal(&p, end, " n=") < 0 || scan_u64(&p, end, &tag->n) < 0 ||
        scan_literal(&p, end, " t=") < 0 || scan_u64(&p, end, &tag->t) < 0)
        return -EINVAL;
    return 0;
}

/* ---- shared state ---------------------------------------------------------------------------- */

enum sub_mode {
    SUB_FAST,
    SUB_SLOW,
    SUB_STALL,
};

static const char *const sub_mode_names[] = {"fast", "slow", "stalled"};

struct run;

struct producer {
    struct run *run;
    unsigned index;
    pthread_t thread;
    uint64_t quota;     /* alarms this producer sends */
    double interval_ns; /* between two alarms when paced */
    uint64_t sent, acked, errors, waits;
    struct u64_list acked_seqs; /* native */
    uint64_t t_done;
    char error[256];
};

struct subscriber {
    struct run *run;
    unsigned index;
    enum sub_mode mode;
    pthread_t thread;
    int fd, ep;
    struct reader in;
    struct bitmap seen; /* native: by seq - base - 1; xalarm: by producer offset + n */
    uint64_t *last_n;   /* xalarm: the last number per producer, +1 (0 = none yet) */
    uint64_t last_seq;  /* native */
    uint64_t received, distinct, duplicates, reordered, extra, foreign, lost;
    uint64_t checked_at; /* distinct + 1 when completeness was last checked */
    uint64_t t_last;     /* when the last alarm came */
    struct histogram lat;
    bool synced, complete, timed_out, failed;
    char error[256];
};

struct run {
    const struct options *o;
    struct producer *producers;
    struct subscriber *subscribers;
    uint64_t *producer_offset; /* xalarm: index of each producer's first alarm */
    unsigned n_fast;
    uint64_t base;             /* native: seqs above it are this run's */
    uint64_t t0;               /* production starts */
    _Atomic uint64_t produced; /* acknowledged (native) or sent (xalarm) so far */
    _Atomic unsigned producers_left;
    _Atomic uint64_t t_produced;    /* when the last producer finished */
    _Atomic uint64_t fast_received; /* by the fast subscribers together */
    _Atomic unsigned fast_left;
    _Atomic uint64_t t_fast_done; /* when the last fast subscriber finished */
    _Atomic unsigned ready, synced;
    _Atomic bool go;
    _Atomic bool abort;          /* the run cannot start: subscribers stop */
    _Atomic bool expected_ready; /* expected and expected_count are final */
    struct bitmap expected;
    uint64_t expected_count;
};

static void set_error(char *buf, size_t size, const char *what, int r)
{
    if (!buf[0])
        snprintf(buf, size, "%s: %s", what, strerror(r < 0 ? -r : r));
}

/* ---- native producer ------------------------------------------------------------------------- */

static int native_format_report(struct producer *p, char *buf, size_t size)
{
    const struct options *o = p->run->o;
    char text[TEXT_SIZE_MAX + 128];
    text_format(text, sizeof(text), o->text_size, p->index, p->sent, now_ns());
    int k = snprintf(buf, size,
                     "{\"id\":%" PRIu64 ",\"verb\":\"report\",\"alarm\":{\"id\":%u,\"level\":"
                     "\"MINOR\",\"source\":\"bus_load\",\"text\":\"%s\"}}\n",
                     p->sent + 1, o->id, text);
    return k < 0 || (size_t) k >= size ? -ENOBUFS : k;
}

/* Queues as many reports as the window, the pace and the buffer allow. Sets *next_due when the
 * pace holds the next one back. */
static int native_fill(struct producer *p, struct out_buffer *out, uint64_t *next_due)
{
    const struct options *o = p->run->o;
    uint64_t now = now_ns();

    *next_due = 0;
    while (p->sent < p->quota && p->sent - p->acked - p->errors < o->window &&
           out->len < OUT_HIGH) {
        if (o->rate > 0) {
            uint64_t due = p->run->t0 + (uint64_t) ((double) p->sent * p->interval_ns);
            if (due > now) {
                *next_due = due;
                break;
            }
        }
        char *d = out_buffer_reserve(out, REPORT_LINE_MAX);
        if (!d)
            return -ENOMEM;
        int k = native_format_report(p, d, REPORT_LINE_MAX);
        if (k < 0)
            return k;
        out_buffer_commit(out, (size_t) k);
        p->sent++;
    }
    return 0;
}

static int native_ack(struct producer *p, const char *line, size_t len)
{
    const char *end = line + len, *seq = memmem(line, len, "\"seq\":", 6);
    uint64_t v;

    if (memmem(line, len, "\"ok\":true", 9) && seq) {
        seq += 6;
        if (scan_u64(&seq, end, &v) < 0)
            return -EBADMSG;
        p->acked++;
        atomic_fetch_add_explicit(&p->run->produced, 1, memory_order_relaxed);
        return u64_list_push(&p->acked_seqs, v);
    }
    p->errors++;
    if (!p->error[0])
        snprintf(p->error, sizeof(p->error), "report refused: %.*s", (int) MIN(len, 200), line);
    return 0;
}

/* Reads every answer that is there. >0 when something was read, 0 when nothing, -errno. */
static int native_read_acks(struct producer *p, int fd, struct reader *in)
{
    size_t total = 0;
    for (;;) {
        ssize_t n = reader_fill(in, fd, in->size);
        if (n == -EAGAIN)
            return total > 0;
        if (n == 0)
            return -ECONNRESET;
        if (n < 0)
            return (int) n;
        total += (size_t) n;
        char *nl;
        while ((nl = memchr(in->buf + in->start, '\n', in->len))) {
            size_t len = (size_t) (nl - (in->buf + in->start));
            int r = native_ack(p, in->buf + in->start, len);
            if (r < 0)
                return r;
            reader_consume(in, len + 1);
        }
        if (total >= READ_BUDGET)
            return 1;
    }
}

static int timer_arm(int tfd, uint64_t at)
{
    struct itimerspec its = {.it_value = {.tv_sec = (time_t) (at / NSEC_PER_SEC),
                                          .tv_nsec = (long) (at % NSEC_PER_SEC)}};
    return timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0 ? -errno : 0;
}

static int native_produce(struct producer *p)
{
    const struct options *o = p->run->o;
    _cleanup_close_ int fd = -EBADF, ep = -EBADF, tfd = -EBADF;
    _cleanup_(out_buffer_done) struct out_buffer out = {0};
    _cleanup_(freep) char *inbuf = NULL;
    struct reader in;
    uint32_t events = EPOLLIN;
    uint64_t last_progress = now_ns();
    int r;

    if ((r = reader_init(&in, READ_BUF_SIZE)) < 0)
        return r;
    inbuf = in.buf;
    if ((r = unix_connect(o->socket, SOCK_STREAM, &fd)) < 0) {
        set_error(p->error, sizeof(p->error), o->socket, r);
        return r;
    }
    if ((r = epoll_for(fd, events, &ep)) < 0)
        return r;
    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct epoll_event tev = {.events = EPOLLIN, .data.fd = tfd};
    if (tfd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &tev) < 0)
        return -errno;

    while (p->acked + p->errors < p->quota) {
        uint64_t next_due;
        if ((r = native_fill(p, &out, &next_due)) < 0)
            return r;
        if (out.len > 0 && (r = out_buffer_flush(&out, fd)) < 0)
            return r;
        if ((r = native_read_acks(p, fd, &in)) < 0) {
            set_error(p->error, sizeof(p->error), "reading answers", r);
            return r;
        }
        uint64_t now = now_ns();
        if (r > 0)
            last_progress = now;
        bool more = p->sent < p->quota && p->sent - p->acked - p->errors < o->window &&
                    out.len < OUT_HIGH && !next_due;
        if (more)
            continue;
        uint32_t want = EPOLLIN | (out.len ? EPOLLOUT : 0);
        struct epoll_event ev = {.events = want, .data.fd = fd};
        if (want != events && epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) < 0)
            return -errno;
        events = want;
        if (next_due && (r = timer_arm(tfd, next_due)) < 0)
            return r;
        struct epoll_event evs[2];
        int n = epoll_wait(ep, evs, 2, WAIT_SLICE_MS);
        if (n < 0 && errno != EINTR)
            return -errno;
        for (int i = 0; i < n; i++)
            if (evs[i].data.fd == tfd) {
                uint64_t ticks;
                (void) !read(tfd, &ticks, sizeof(ticks));
            }
        if (now - last_progress > (uint64_t) (o->timeout * NSEC_PER_SEC)) {
            snprintf(p->error, sizeof(p->error),
                     "no answer for %.0f s (%" PRIu64 " of %" PRIu64 " acknowledged)", o->timeout,
                     p->acked, p->quota);
            return -ETIMEDOUT;
        }
    }
    return 0;
}

/* ---- xalarm producer ------------------------------------------------------------------------- */

static int xalarm_send_record(struct producer *p, int fd, int ep, const struct alarm_info *rec)
{
    uint64_t start = now_ns();
    for (;;) {
        ssize_t n = send(fd, rec, sizeof(*rec), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n == (ssize_t) sizeof(*rec))
            return 0;
        if (n >= 0)
            return -EMSGSIZE;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != ENOBUFS)
            return -errno;
        /* The server's datagram queue is full: that is its backpressure. */
        p->waits++;
        if (errno == ENOBUFS)
            sleep_ns(50 * 1000);
        else {
            struct epoll_event ev;
            if (epoll_wait(ep, &ev, 1, WAIT_SLICE_MS) < 0 && errno != EINTR)
                return -errno;
        }
        if (now_ns() - start > (uint64_t) (p->run->o->timeout * NSEC_PER_SEC))
            return -ETIMEDOUT;
    }
}

static int xalarm_produce(struct producer *p)
{
    const struct options *o = p->run->o;
    _cleanup_close_ int fd = -EBADF, ep = -EBADF;
    _cleanup_free_ struct alarm_info *rec = malloc(sizeof(*rec));
    char path[sizeof(((struct sockaddr_un *) NULL)->sun_path)];
    char text[TEXT_SIZE_MAX + 128];
    int r;

    if (!rec)
        return -ENOMEM;
    if ((size_t) snprintf(path, sizeof(path), "%s/" XALARM_SOCKET_REPORT, o->xalarm_dir) >=
        sizeof(path))
        return -ENAMETOOLONG;
    if ((r = unix_connect(path, SOCK_DGRAM, &fd)) < 0) {
        set_error(p->error, sizeof(p->error), path, r);
        return r;
    }
    if ((r = epoll_for(fd, EPOLLOUT, &ep)) < 0)
        return r;
    for (; p->sent < p->quota; p->sent++) {
        if (o->rate > 0)
            sleep_until(p->run->t0 + (uint64_t) ((double) p->sent * p->interval_ns));
        struct timespec rt;
        clock_gettime(CLOCK_REALTIME, &rt);
        struct timeval tv = {.tv_sec = rt.tv_sec, .tv_usec = rt.tv_nsec / 1000};
        size_t len = text_format(text, sizeof(text), o->text_size, p->index, p->sent, now_ns());
        if ((r = xalarm_record_build(rec, o->id, MINOR_ALM, ALARM_TYPE_OCCUR, &tv, text, len)) < 0)
            return r;
        if ((r = xalarm_send_record(p, fd, ep, rec)) < 0) {
            set_error(p->error, sizeof(p->error), "sending a report", r);
            return r;
        }
        p->acked++;
        atomic_fetch_add_explicit(&p->run->produced, 1, memory_order_relaxed);
    }
    return 0;
}

static void *producer_main(void *arg)
{
    struct producer *p = arg;
    struct run *run = p->run;
    int r = run->o->path == PATH_NATIVE ? native_produce(p) : xalarm_produce(p);

    if (r < 0)
        set_error(p->error, sizeof(p->error), "producer", r);
    p->t_done = now_ns();
    if (atomic_fetch_sub(&run->producers_left, 1) == 1)
        atomic_store(&run->t_produced, p->t_done);
    return NULL;
}

/* ---- subscribers: what they count ---------------------------------------------------------- */

static void subscriber_count_latency(struct subscriber *s, uint64_t t, uint64_t now)
{
    /* Alarms of an earlier run (replayed with --since) carry an older time. */
    if (t >= s->run->t0 && t <= now)
        hist_add(&s->lat, now - t);
}

/* One alarm of this run: bit is its place in s->seen, in_order whether it came after the last. */
static int subscriber_take(struct subscriber *s, uint64_t bit, bool in_order)
{
    int r = bitmap_test_and_set(&s->seen, bit);
    if (r < 0)
        return r;
    if (r > 0)
        s->duplicates++;
    else {
        s->distinct++;
        if (!in_order)
            s->reordered++;
    }
    return 0;
}

static int native_take_line(struct subscriber *s, const char *line, size_t len, uint64_t now)
{
    const char *end = line + len, *p = line, *text;
    struct alarm_tag tag;
    uint64_t seq;

    if (scan_literal(&p, end, "{\"seq\":") < 0 || scan_u64(&p, end, &seq) < 0) {
        s->foreign++;
        return 0;
    }
    s->received++;
    s->t_last = now;
    text = memmem(line, len, "\"text\":\"", 8);
    if (text && text_parse(text + 8, end, &tag) == 0)
        subscriber_count_latency(s, tag.t, now);
    if (seq <= s->run->base) {
        s->extra++; /* before this run's base: not ours to check */
        return 0;
    }
    bool in_order = seq > s->last_seq;
    if (in_order)
        s->last_seq = seq;
    return subscriber_take(s, seq - s->run->base - 1, in_order);
}

static int xalarm_take_record(struct subscriber *s, const char *rec, uint64_t now)
{
    const struct options *o = s->run->o;
    const char *text = rec + offsetof(struct alarm_info, pucParas);
    const char *end = memchr(text, 0, ALARM_INFO_MAX_PARAS_LEN);
    unsigned short id;
    struct alarm_tag tag;

    memcpy(&id, rec, sizeof(id));
    if (!end) {
        s->foreign++;
        return 0;
    }
    if (!s->synced) {
        /* Everything before the first sync record predates this run. */
        if (streq(text, SYNC_TEXT)) {
            s->synced = true;
            atomic_fetch_add(&s->run->synced, 1);
        }
        return 0;
    }
    if (id != o->id || text_parse(text, end, &tag) < 0 || tag.producer >= o->producers ||
        tag.n >= s->run->producers[tag.producer].quota) {
        if (!streq(text, SYNC_TEXT))
            s->foreign++;
        return 0;
    }
    s->received++;
    s->t_last = now;
    subscriber_count_latency(s, tag.t, now);
    bool in_order = tag.n + 1 > s->last_n[tag.producer];
    if (in_order)
        s->last_n[tag.producer] = tag.n + 1;
    return subscriber_take(s, s->run->producer_offset[tag.producer] + tag.n, in_order);
}

/* Consumes the complete lines or records held. Returns how many alarms were taken, or -errno. */
static int subscriber_consume(struct subscriber *s, uint64_t now)
{
    struct reader *in = &s->in;
    uint64_t before = s->received;
    int r;

    if (s->run->o->path == PATH_NATIVE) {
        char *nl;
        while ((nl = memchr(in->buf + in->start, '\n', in->len))) {
            size_t len = (size_t) (nl - (in->buf + in->start));
            if ((r = native_take_line(s, in->buf + in->start, len, now)) < 0)
                return r;
            reader_consume(in, len + 1);
        }
    } else {
        while (in->len >= XALARM_RECORD_SIZE) {
            if ((r = xalarm_take_record(s, in->buf + in->start, now)) < 0)
                return r;
            reader_consume(in, XALARM_RECORD_SIZE);
        }
    }
    return (int) MIN(s->received - before, (uint64_t) INT32_MAX);
}

/* ---- subscribers: setting up ----------------------------------------------------------------- */

/* Reads one line (the answer to subscribe) within the timeout. */
static int native_read_answer(struct subscriber *s, char **line, size_t *len)
{
    uint64_t deadline = now_ns() + (uint64_t) (s->run->o->timeout * NSEC_PER_SEC);
    for (;;) {
        char *nl = memchr(s->in.buf + s->in.start, '\n', s->in.len);
        if (nl) {
            *line = s->in.buf + s->in.start;
            *len = (size_t) (nl - *line);
            *nl = 0;
            return 0;
        }
        ssize_t n = reader_fill(&s->in, s->fd, s->in.size);
        if (n == 0)
            return -ECONNRESET;
        if (n == -EAGAIN) {
            struct epoll_event ev;
            if (now_ns() > deadline)
                return -ETIMEDOUT;
            if (epoll_wait(s->ep, &ev, 1, WAIT_SLICE_MS) < 0 && errno != EINTR)
                return -errno;
        } else if (n < 0)
            return (int) n;
    }
}

static int native_subscribe(struct subscriber *s)
{
    const struct options *o = s->run->o;
    char req[256], *line = NULL;
    size_t len = 0;
    int r;

    if ((r = unix_connect(o->socket, SOCK_STREAM, &s->fd)) < 0) {
        set_error(s->error, sizeof(s->error), o->socket, r);
        return r;
    }
    if ((r = epoll_for(s->fd, EPOLLIN, &s->ep)) < 0)
        return r;
    if (o->have_since)
        snprintf(req, sizeof(req),
                 "{\"id\":1,\"verb\":\"subscribe\",\"ids\":\"%u\",\"since\":%" PRIu64 "}\n", o->id,
                 o->since);
    else
        snprintf(req, sizeof(req), "{\"id\":1,\"verb\":\"subscribe\",\"ids\":\"%u\"}\n", o->id);
    if ((r = send_all(s->fd, s->ep, req, strlen(req))) < 0 ||
        (r = native_read_answer(s, &line, &len)) < 0) {
        set_error(s->error, sizeof(s->error), "subscribe", r);
        return r;
    }
    const char *head = strstr(line, "\"head\":");
    uint64_t h;
    if (!strstr(line, "\"ok\":true") || !head || (head += 7, scan_u64(&head, line + len, &h) < 0)) {
        snprintf(s->error, sizeof(s->error), "subscribe refused: %.200s", line);
        return -EPROTO;
    }
    reader_consume(&s->in, len + 1);
    /* Every alarm of this run comes after the head of the first subscription. */
    if (s->index == 0)
        s->run->base = o->have_since ? MIN(o->since, h) : h;
    return 0;
}

static int xalarm_subscribe(struct subscriber *s)
{
    const struct options *o = s->run->o;
    char path[sizeof(((struct sockaddr_un *) NULL)->sun_path)], req[160];
    int r;

    if ((size_t) snprintf(path, sizeof(path), "%s/" XALARM_SOCKET_ALARM, o->xalarm_dir) >=
        sizeof(path))
        return -ENAMETOOLONG;
    if ((r = unix_connect(path, SOCK_STREAM, &s->fd)) < 0) {
        set_error(s->error, sizeof(s->error), path, r);
        return r;
    }
    if ((r = epoll_for(s->fd, EPOLLIN, &s->ep)) < 0)
        return r;
    s->last_n = calloc(o->producers, sizeof(*s->last_n));
    if (!s->last_n)
        return -ENOMEM;
    snprintf(req, sizeof(req),
             "{\"action\":\"" XALARM_ACTION_REGISTER "\",\"event_ids\":[],\"id_filter\":[%u]}\n",
             o->id);
    return send_all(s->fd, s->ep, req, strlen(req));
}

/* ---- subscribers: reading ------------------------------------------------------------------- */

/* How many alarms a slow subscriber may have read by now: 1/FACTOR of what the fast ones have
 * (or of what was produced, without fast ones); once they are done, at 1/FACTOR of their rate. */
static uint64_t slow_allowance(struct run *run, uint64_t now)
{
    double f = MAX(run->o->slow_factor, 1.0), count;
    uint64_t done_at;

    if (run->n_fast > 0) {
        count = (double) atomic_load(&run->fast_received) / run->n_fast;
        done_at = atomic_load(&run->t_fast_done);
    } else {
        count = (double) atomic_load(&run->produced);
        done_at = atomic_load(&run->t_produced);
    }
    if (done_at > run->t0 && now > done_at)
        count += count / (double) (done_at - run->t0) * (double) (now - done_at);
    return (uint64_t) (count / f);
}

static bool subscriber_stalled(struct subscriber *s, uint64_t now)
{
    const struct options *o = s->run->o;
    if (s->mode != SUB_STALL || !atomic_load(&s->run->go))
        return false;
    if (o->stall_seconds < 0)
        return atomic_load(&s->run->t_produced) == 0;
    return now < s->run->t0 + (uint64_t) (o->stall_seconds * NSEC_PER_SEC);
}

/* Has it everything it should have? Checked once the expected set is known. */
static bool subscriber_has_all(struct subscriber *s)
{
    struct run *run = s->run;
    if (!atomic_load(&run->expected_ready) || s->distinct < run->expected_count ||
        s->distinct + 1 == s->checked_at)
        return false;
    s->checked_at = s->distinct + 1;
    return bitmap_count_missing(&run->expected, &s->seen) == 0;
}

static bool subscriber_past_deadline(struct subscriber *s, uint64_t now)
{
    uint64_t done = atomic_load(&s->run->t_produced);
    return done && now > done + (uint64_t) (s->run->o->timeout * NSEC_PER_SEC);
}

static int subscriber_read(struct subscriber *s)
{
    const struct options *o = s->run->o;
    bool xalarm = o->path == PATH_XALARM;
    size_t total = 0;

    while (total < READ_BUDGET) {
        uint64_t now = now_ns();
        size_t chunk = s->in.size;
        if (s->mode == SUB_SLOW && atomic_load(&s->run->go)) {
            if (s->received >= slow_allowance(s->run, now)) {
                sleep_ns(NSEC_PER_MSEC);
                return 0;
            }
            chunk = xalarm ? XALARM_RECORD_SIZE : SLOW_CHUNK;
        }
        ssize_t n = reader_fill(&s->in, s->fd, chunk);
        if (n == -EAGAIN) {
            struct epoll_event ev;
            if (epoll_wait(s->ep, &ev, 1, WAIT_SLICE_MS) < 0 && errno != EINTR)
                return -errno;
            return 0;
        }
        if (n == 0)
            return -ECONNRESET;
        if (n < 0)
            return (int) n;
        total += (size_t) n;
        int k = subscriber_consume(s, now);
        if (k < 0)
            return k;
        if (s->mode == SUB_FAST && k > 0)
            atomic_fetch_add_explicit(&s->run->fast_received, (uint64_t) k, memory_order_relaxed);
        if (s->mode == SUB_SLOW)
            return 0;
    }
    return 0;
}

static int subscriber_loop(struct subscriber *s)
{
    for (;;) {
        uint64_t now = now_ns();
        if (atomic_load(&s->run->abort))
            return 0;
        if (subscriber_has_all(s)) {
            s->complete = true;
            return 0;
        }
        if (subscriber_past_deadline(s, now)) {
            s->timed_out = true;
            return 0;
        }
        if (subscriber_stalled(s, now)) {
            sleep_ns(10 * NSEC_PER_MSEC);
            continue;
        }
        int r = subscriber_read(s);
        if (r < 0) {
            set_error(s->error, sizeof(s->error), "reading alarms", r);
            return r;
        }
    }
}

static void *subscriber_main(void *arg)
{
    struct subscriber *s = arg;
    struct run *run = s->run;
    int r = reader_init(&s->in, READ_BUF_SIZE);

    if (r >= 0)
        r = run->o->path == PATH_NATIVE ? native_subscribe(s) : xalarm_subscribe(s);
    if (r < 0) {
        set_error(s->error, sizeof(s->error), "subscribing", r);
        s->failed = true;
    }
    atomic_fetch_add(&run->ready, 1);
    if (r >= 0 && subscriber_loop(s) < 0)
        s->failed = true;
    if (s->mode == SUB_FAST && atomic_fetch_sub(&run->fast_left, 1) == 1)
        atomic_store(&run->t_fast_done, now_ns());
    if (s->fd >= 0)
        close(s->fd);
    if (s->ep >= 0)
        close(s->ep);
    s->fd = s->ep = -1;
    return NULL;
}

/* ---- the run ------------------------------------------------------------------------------- */

static int wait_count(_Atomic unsigned *v, unsigned want, double seconds)
{
    uint64_t deadline = now_ns() + (uint64_t) (seconds * NSEC_PER_SEC);
    while (atomic_load(v) < want) {
        if (now_ns() > deadline)
            return -ETIMEDOUT;
        sleep_ns(NSEC_PER_MSEC);
    }
    return 0;
}

/* xalarm has no answer to a registration: send sync records until every subscriber saw one, so
 * each of them is known to be registered before the first alarm of the run. */
static int xalarm_sync(struct run *run)
{
    const struct options *o = run->o;
    char path[sizeof(((struct sockaddr_un *) NULL)->sun_path)];
    _cleanup_close_ int fd = -EBADF;
    _cleanup_free_ struct alarm_info *rec = malloc(sizeof(*rec));
    int r;

    if (!rec)
        return -ENOMEM;
    if ((size_t) snprintf(path, sizeof(path), "%s/" XALARM_SOCKET_REPORT, o->xalarm_dir) >=
        sizeof(path))
        return -ENAMETOOLONG;
    if ((r = unix_connect(path, SOCK_DGRAM, &fd)) < 0)
        return r;
    if ((r = xalarm_record_build(rec, o->id, MINOR_ALM, ALARM_TYPE_OCCUR, NULL, SYNC_TEXT,
                                 strlen(SYNC_TEXT))) < 0)
        return r;
    uint64_t deadline = now_ns() + (uint64_t) (o->timeout * NSEC_PER_SEC);
    while (atomic_load(&run->synced) < o->subscribers) {
        if (now_ns() > deadline)
            return -ETIMEDOUT;
        if (send(fd, rec, sizeof(*rec), MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && errno != EAGAIN &&
            errno != ENOBUFS && errno != EINTR)
            return -errno;
        for (int i = 0; i < 50 && atomic_load(&run->synced) < o->subscribers; i++)
            sleep_ns(2 * NSEC_PER_MSEC);
    }
    return 0;
}

/* The set every subscriber must have: acknowledged seqs (native) or everything sent (xalarm). */
static int build_expected(struct run *run)
{
    const struct options *o = run->o;
    int r;

    run->expected_count = 0;
    for (unsigned i = 0; i < o->producers; i++) {
        struct producer *p = &run->producers[i];
        if (o->path == PATH_XALARM) {
            for (uint64_t n = 0; n < p->acked; n++)
                if ((r = bitmap_test_and_set(&run->expected, run->producer_offset[i] + n)) < 0)
                    return r;
            run->expected_count += p->acked;
            continue;
        }
        for (size_t k = 0; k < p->acked_seqs.n; k++) {
            uint64_t seq = p->acked_seqs.v[k];
            if (seq <= run->base)
                continue; /* cannot happen while subscribers subscribe first */
            r = bitmap_test_and_set(&run->expected, seq - run->base - 1);
            if (r < 0)
                return r;
            run->expected_count += r == 0;
        }
    }
    return 0;
}

static void run_assign_modes(struct run *run)
{
    const struct options *o = run->o;
    for (unsigned i = 0; i < o->subscribers; i++) {
        struct subscriber *s = &run->subscribers[i];
        *s = (struct subscriber){.run = run, .index = i, .fd = -1, .ep = -1};
        if (i < o->slow_count)
            s->mode = SUB_SLOW;
        else if (i < o->slow_count + o->stall_count)
            s->mode = SUB_STALL;
        else
            run->n_fast++;
    }
    atomic_store(&run->fast_left, run->n_fast);
}

static void run_assign_quotas(struct run *run)
{
    const struct options *o = run->o;
    uint64_t offset = 0;
    for (unsigned i = 0; i < o->producers; i++) {
        struct producer *p = &run->producers[i];
        *p = (struct producer){.run = run, .index = i};
        p->quota = o->alarms / o->producers + (i < o->alarms % o->producers);
        p->interval_ns = o->rate > 0 ? (double) NSEC_PER_SEC * o->producers / o->rate : 0;
        run->producer_offset[i] = offset;
        offset += p->quota;
    }
}

static void start_threads(struct run *run, bool producers)
{
    const struct options *o = run->o;
    unsigned n = producers ? o->producers : o->subscribers;
    for (unsigned i = 0; i < n; i++) {
        int r = producers ? pthread_create(&run->producers[i].thread, NULL, producer_main,
                                           &run->producers[i])
                          : pthread_create(&run->subscribers[i].thread, NULL, subscriber_main,
                                           &run->subscribers[i]);
        if (r != 0) {
            fprintf(stderr, "bus_load: pthread_create: %s\n", strerror(r));
            exit(1);
        }
    }
}

/* ---- results ------------------------------------------------------------------------------- */

struct summary {
    uint64_t acked, errors, waits, lost, duplicates, reordered, extra;
    double wall_s, produce_s, ack_rate;
    double rate_min, rate_mean, rate_max; /* alarms/s per subscriber */
    double fast_min, fast_mean, fast_max; /* the same, fast subscribers only */
    struct histogram lat;                 /* fast subscribers (all when none is fast) */
    unsigned failed_subscribers, failed_producers, timed_out;
    bool ok;
};

static double subscriber_rate(const struct subscriber *s, uint64_t t0)
{
    return s->t_last > t0 ? (double) s->received / ((double) (s->t_last - t0) / NSEC_PER_SEC) : 0;
}

static void summarize(struct run *run, uint64_t t_end, struct summary *m)
{
    const struct options *o = run->o;
    uint64_t t_produced = run->t0;
    unsigned n_fast = 0;

    *m = (struct summary){.rate_min = -1, .fast_min = -1};
    for (unsigned i = 0; i < o->producers; i++) {
        struct producer *p = &run->producers[i];
        m->acked += p->acked;
        m->errors += p->errors;
        m->waits += p->waits;
        m->failed_producers += p->error[0] != 0;
        t_produced = MAX(t_produced, p->t_done);
    }
    m->produce_s = (double) (t_produced - run->t0) / NSEC_PER_SEC;
    m->wall_s = (double) (t_end - run->t0) / NSEC_PER_SEC;
    m->ack_rate = m->produce_s > 0 ? (double) m->acked / m->produce_s : 0;
    for (unsigned i = 0; i < o->subscribers; i++) {
        struct subscriber *s = &run->subscribers[i];
        s->lost = bitmap_count_missing(&run->expected, &s->seen);
        s->extra += bitmap_count_missing(&s->seen, &run->expected);
        m->lost += s->lost;
        m->duplicates += s->duplicates;
        m->reordered += s->reordered;
        m->extra += s->extra;
        m->failed_subscribers += s->failed;
        m->timed_out += s->timed_out;
        double r = subscriber_rate(s, run->t0);
        m->rate_min = m->rate_min < 0 ? r : MIN(m->rate_min, r);
        m->rate_max = MAX(m->rate_max, r);
        m->rate_mean += r / o->subscribers;
        if (s->mode == SUB_FAST || run->n_fast == 0)
            hist_merge(&m->lat, &s->lat);
        if (s->mode == SUB_FAST) {
            n_fast++;
            m->fast_min = m->fast_min < 0 ? r : MIN(m->fast_min, r);
            m->fast_max = MAX(m->fast_max, r);
            m->fast_mean += r;
        }
    }
    m->rate_min = MAX(m->rate_min, 0);
    m->fast_min = MAX(m->fast_min, 0);
    m->fast_mean = n_fast ? m->fast_mean / n_fast : 0;
    m->ok = m->lost == 0 && m->duplicates == 0 && m->reordered == 0 && m->errors == 0 &&
            m->failed_subscribers == 0 && m->failed_producers == 0 && m->timed_out == 0 &&
            m->acked == o->alarms;
}

static void print_json_subscriber(const struct subscriber *s, uint64_t t0, bool last)
{
    printf("    {\"index\":%u,\"mode\":\"%s\",\"received\":%" PRIu64 ",\"rate\":%.1f,"
           "\"lost\":%" PRIu64 ",\"duplicates\":%" PRIu64 ",\"reordered\":%" PRIu64
           ",\"extra\":%" PRIu64 ",\"foreign\":%" PRIu64
           ",\"p50_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f,"
           "\"complete\":%s,\"timed_out\":%s,\"error\":\"",
           s->index, sub_mode_names[s->mode], s->received, subscriber_rate(s, t0), s->lost,
           s->duplicates, s->reordered, s->extra, s->foreign, hist_quantile_us(&s->lat, 0.5),
           hist_quantile_us(&s->lat, 0.99), (double) s->lat.max / 1000.0,
           s->complete ? "true" : "false", s->timed_out ? "true" : "false");
    for (const char *c = s->error; *c; c++)
        if (*c != '"' && *c != '\\' && (unsigned char) *c >= 0x20)
            putchar(*c);
    printf("\"}%s\n", last ? "" : ",");
}

static void print_json(struct run *run, const struct summary *m)
{
    const struct options *o = run->o;
    printf("{\"path\":\"%s\",\"producers\":%u,\"subscribers\":%u,\"alarms\":%" PRIu64
           ",\"window\":%u,\"rate\":%.1f,\"text_size\":%u,\"slow\":%u,\"slow_factor\":%.1f,"
           "\"stalled\":%u,\n",
           o->path == PATH_NATIVE ? "native" : "xalarm", o->producers, o->subscribers, o->alarms,
           o->window, o->rate, o->text_size, o->slow_count, o->slow_factor, o->stall_count);
    printf(" \"acked\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"producer_waits\":%" PRIu64
           ",\"produce_s\":%.3f,\"wall_s\":%.3f,\"ack_rate\":%.1f,\n",
           m->acked, m->errors, m->waits, m->produce_s, m->wall_s, m->ack_rate);
    printf(" \"delivery_rate\":{\"min\":%.1f,\"mean\":%.1f,\"max\":%.1f},"
           "\"fast_rate\":{\"min\":%.1f,\"mean\":%.1f,\"max\":%.1f},\n",
           m->rate_min, m->rate_mean, m->rate_max, m->fast_min, m->fast_mean, m->fast_max);
    printf(" \"latency_us\":{\"p50\":%.1f,\"p99\":%.1f,\"max\":%.1f,\"samples\":%" PRIu64 "},\n",
           hist_quantile_us(&m->lat, 0.5), hist_quantile_us(&m->lat, 0.99),
           (double) m->lat.max / 1000.0, m->lat.n);
    printf(" \"lost\":%" PRIu64 ",\"duplicates\":%" PRIu64 ",\"reordered\":%" PRIu64
           ",\"extra\":%" PRIu64 ",\"timed_out\":%u,\"ok\":%s,\n \"per_subscriber\":[\n",
           m->lost, m->duplicates, m->reordered, m->extra, m->timed_out, m->ok ? "true" : "false");
    for (unsigned i = 0; i < o->subscribers; i++)
        print_json_subscriber(&run->subscribers[i], run->t0, i + 1 == o->subscribers);
    printf(" ]}\n");
}

static void print_text(struct run *run, const struct summary *m)
{
    const struct options *o = run->o;
    printf("bus_load: %s path, %u producer(s)", o->path == PATH_NATIVE ? "native" : "xalarm",
           o->producers);
    if (o->path == PATH_NATIVE)
        printf(" (window %u)", o->window);
    printf(", %u subscriber(s) (%u slow x%.0f, %u stalled), %" PRIu64 " alarms", o->subscribers,
           o->slow_count, o->slow_factor, o->stall_count, o->alarms);
    if (o->rate > 0)
        printf(" at %.0f/s", o->rate);
    printf("\n  producers:   %" PRIu64 " %s in %.3f s = %.0f alarms/s, %" PRIu64 " errors\n",
           m->acked, o->path == PATH_NATIVE ? "acknowledged" : "sent", m->produce_s, m->ack_rate,
           m->errors);
    printf("  subscribers: alarms/s min %.0f mean %.0f max %.0f (fast ones: min %.0f mean %.0f "
           "max %.0f)\n",
           m->rate_min, m->rate_mean, m->rate_max, m->fast_min, m->fast_mean, m->fast_max);
    printf("  latency:     p50 %.1f us  p99 %.1f us  max %.1f us  (%" PRIu64 " samples)\n",
           hist_quantile_us(&m->lat, 0.5), hist_quantile_us(&m->lat, 0.99),
           (double) m->lat.max / 1000.0, m->lat.n);
    printf("  checks:      lost %" PRIu64 ", duplicates %" PRIu64 ", reordered %" PRIu64
           ", extra %" PRIu64 ", timed out %u\n",
           m->lost, m->duplicates, m->reordered, m->extra, m->timed_out);
    for (unsigned i = 0; i < o->producers; i++)
        if (run->producers[i].error[0])
            printf("  producer %u: %s\n", i, run->producers[i].error);
    for (unsigned i = 0; i < o->subscribers; i++) {
        const struct subscriber *s = &run->subscribers[i];
        bool bad = s->lost || s->duplicates || s->reordered || s->timed_out || s->failed;
        if (o->subscribers <= 16 || bad || s->mode != SUB_FAST)
            printf("  #%-3u %-7s received %" PRIu64 ", %.0f/s, lost %" PRIu64 ", dup %" PRIu64
                   ", reordered %" PRIu64 ", p99 %.1f us%s%s%s\n",
                   i, sub_mode_names[s->mode], s->received, subscriber_rate(s, run->t0), s->lost,
                   s->duplicates, s->reordered, hist_quantile_us(&s->lat, 0.99),
                   s->timed_out ? ", TIMED OUT" : "", s->error[0] ? ", " : "", s->error);
    }
    printf("  wall %.3f s: %s\n", m->wall_s, m->ok ? "OK" : "FAILED");
}

/* ---- options ------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bus_load [options]\n"
            "Drives the alarm bus with producers and subscribers and checks what arrives.\n"
            "  --path native|xalarm   which sockets (default native)\n"
            "  --socket PATH          the native socket\n"
            "  --xalarm-dir DIR       the directory of the xalarm sockets\n"
            "  --producers P          producer threads (default 1)\n"
            "  --subscribers S        subscriber threads (default 1)\n"
            "  --alarms N             alarms in total (default 100000)\n"
            "  --window W             native reports in flight per producer (default 256)\n"
            "  --rate R               alarms/s in total, 0 = as fast as possible (default 0)\n"
            "  --id ID                alarm id (default 1050)\n"
            "  --text-size BYTES      length of each alarm text (default 128, max %d)\n"
            "  --slow K:FACTOR        K subscribers read FACTOR times slower than the others\n"
            "  --stall K:SECONDS      K subscribers read nothing for SECONDS after the start\n"
            "                         ('done': until every producer has finished)\n"
            "  --since SEQ            native subscribers replay from SEQ\n"
            "  --timeout SEC          how long to wait after the producers finished (default "
            "300)\n"
            "  --json                 print one JSON object\n"
            "  --help\n"
            "Exit status: 0 when every subscriber got every alarm exactly once and in order,\n"
            "1 otherwise, 2 on a usage error.\n",
            TEXT_SIZE_MAX);
}

/* "K:VALUE" */
static int parse_pair(const char *arg, unsigned *k, const char **value)
{
    const char *colon = strchr(arg, ':');
    char head[32];
    uint64_t v;
    if (!colon || (size_t) (colon - arg) >= sizeof(head))
        return -EINVAL;
    memcpy(head, arg, (size_t) (colon - arg));
    head[colon - arg] = 0;
    if (parse_u64(head, &v) < 0 || v > 100000)
        return -EINVAL;
    *k = (unsigned) v;
    *value = colon + 1;
    return 0;
}

static int parse_uint_opt(const char *arg, uint64_t min, uint64_t max, unsigned *ret)
{
    uint64_t v;
    if (parse_u64(arg, &v) < 0 || v < min || v > max)
        return -EINVAL;
    *ret = (unsigned) v;
    return 0;
}

static int parse_one_option(int c, const char *arg, struct options *o)
{
    const char *value;
    switch (c) {
    case 'p':
        if (streq(arg, "native"))
            o->path = PATH_NATIVE;
        else if (streq(arg, "xalarm"))
            o->path = PATH_XALARM;
        else
            return -EINVAL;
        return 0;
    case 's':
        o->socket = arg;
        return 0;
    case 'x':
        o->xalarm_dir = arg;
        return 0;
    case 'P':
        return parse_uint_opt(arg, 1, 4096, &o->producers);
    case 'S':
        return parse_uint_opt(arg, 1, 4096, &o->subscribers);
    case 'N':
        return parse_u64(arg, &o->alarms) < 0 || o->alarms == 0 ? -EINVAL : 0;
    case 'W':
        return parse_uint_opt(arg, 1, 1000000, &o->window);
    case 'R':
        return parse_double(arg, &o->rate);
    case 'i':
        return parse_uint_opt(arg, 1, 65535, &o->id);
    case 'T':
        return parse_uint_opt(arg, 0, TEXT_SIZE_MAX, &o->text_size);
    case 'l':
        return parse_pair(arg, &o->slow_count, &value) < 0 ||
                       parse_double(value, &o->slow_factor) < 0 || o->slow_factor < 1
                   ? -EINVAL
                   : 0;
    case 't':
        if (parse_pair(arg, &o->stall_count, &value) < 0)
            return -EINVAL;
        if (streq(value, "done")) {
            o->stall_seconds = -1;
            return 0;
        }
        return parse_double(value, &o->stall_seconds);
    case 'e':
        o->have_since = true;
        return parse_u64(arg, &o->since);
    case 'o':
        return parse_double(arg, &o->timeout) < 0 || o->timeout <= 0 ? -EINVAL : 0;
    case 'j':
        o->json = true;
        return 0;
    }
    return -EINVAL;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"path", required_argument, NULL, 'p'},
        {"socket", required_argument, NULL, 's'},
        {"xalarm-dir", required_argument, NULL, 'x'},
        {"producers", required_argument, NULL, 'P'},
        {"subscribers", required_argument, NULL, 'S'},
        {"alarms", required_argument, NULL, 'N'},
        {"window", required_argument, NULL, 'W'},
        {"rate", required_argument, NULL, 'R'},
        {"id", required_argument, NULL, 'i'},
        {"text-size", required_argument, NULL, 'T'},
        {"slow", required_argument, NULL, 'l'},
        {"stall", required_argument, NULL, 't'},
        {"since", required_argument, NULL, 'e'},
        {"timeout", required_argument, NULL, 'o'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c, idx = 0;

    *o = (struct options){.producers = 1,
                          .subscribers = 1,
                          .alarms = 100000,
                          .window = 256,
                          .id = 1050,
                          .text_size = 128,
                          .slow_factor = 1,
                          .timeout = 300};
    while ((c = getopt_long(argc, argv, "", longopts, &idx)) != -1) {
        if (c == 'h') {
            usage(stdout);
            exit(0);
        }
        if (c == '?' || parse_one_option(c, optarg, o) < 0) {
            if (c != '?')
                fprintf(stderr, "bus_load: invalid value for --%s: %s\n", longopts[idx].name,
                        optarg);
            return -EINVAL;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "bus_load: unexpected argument %s\n", argv[optind]);
        return -EINVAL;
    }
    if (o->path == PATH_NATIVE && !o->socket) {
        fprintf(stderr, "bus_load: --socket is needed for the native path\n");
        return -EINVAL;
    }
    if (o->path == PATH_XALARM && !o->xalarm_dir) {
        fprintf(stderr, "bus_load: --xalarm-dir is needed for the xalarm path\n");
        return -EINVAL;
    }
    if (o->path == PATH_XALARM && (!xalarm_id_valid(o->id) || o->have_since)) {
        fprintf(stderr, "bus_load: xalarm needs an id in %d-%d and has no --since\n",
                SENTRY_ALARM_ID_MIN, SENTRY_ALARM_ID_MAX);
        return -EINVAL;
    }
    if (o->slow_count + o->stall_count > o->subscribers) {
        fprintf(stderr, "bus_load: more slow and stalled subscribers than subscribers\n");
        return -EINVAL;
    }
    return 0;
}

/* ---- main ---------------------------------------------------------------------------------- */

static int run_all(struct run *run)
{
    const struct options *o = run->o;
    int r;

    run_assign_modes(run);
    run_assign_quotas(run);
    start_threads(run, false);
    r = wait_count(&run->ready, o->subscribers, o->timeout);
    for (unsigned i = 0; r >= 0 && i < o->subscribers; i++)
        if (run->subscribers[i].failed)
            r = -ENOTCONN;
    if (r >= 0 && o->path == PATH_XALARM && (r = xalarm_sync(run)) < 0)
        fprintf(stderr, "bus_load: xalarm subscribers did not register: %s\n", strerror(-r));
    run->t0 = now_ns();
    atomic_store(&run->producers_left, o->producers);
    atomic_store(&run->go, true);
    if (r < 0) {
        /* Nothing is produced: the subscribers stop at once. */
        for (unsigned i = 0; i < o->producers; i++)
            run->producers[i].t_done = run->t0;
        atomic_store(&run->t_produced, run->t0);
        atomic_store(&run->abort, true);
    } else
        start_threads(run, true);
    for (unsigned i = 0; r >= 0 && i < o->producers; i++)
        pthread_join(run->producers[i].thread, NULL);
    int e = build_expected(run);
    if (e < 0)
        return e;
    atomic_store(&run->expected_ready, true);
    for (unsigned i = 0; i < o->subscribers; i++)
        pthread_join(run->subscribers[i].thread, NULL);
    return r;
}

int main(int argc, char **argv)
{
    struct options o;
    struct run run = {0};
    struct summary m;

    if (parse_options(argc, argv, &o) < 0) {
        usage(stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    run.o = &o;
    run.producers = calloc(o.producers, sizeof(*run.producers));
    run.subscribers = calloc(o.subscribers, sizeof(*run.subscribers));
    run.producer_offset = calloc(o.producers, sizeof(*run.producer_offset));
    if (!run.producers || !run.subscribers || !run.producer_offset) {
        fprintf(stderr, "bus_load: out of memory\n");
        return 1;
    }
    int r = run_all(&run);
    if (r < 0 && r != -ENOTCONN && r != -ETIMEDOUT)
        fprintf(stderr, "bus_load: %s\n", strerror(-r));
    summarize(&run, now_ns(), &m);
    if (r < 0)
        m.ok = false;
    if (o.json)
        print_json(&run, &m);
    else
        print_text(&run, &m);
    for (unsigned i = 0; i < o.producers; i++)
        free(run.producers[i].acked_seqs.v);
    for (unsigned i = 0; i < o.subscribers; i++) {
        bitmap_done(&run.subscribers[i].seen);
        free(run.subscribers[i].last_n);
        free(run.subscribers[i].in.buf);
    }
    bitmap_done(&run.expected);
    free(run.producers);
    free(run.subscribers);
    free(run.producer_offset);
    return m.ok ? 0 : 1;
}
