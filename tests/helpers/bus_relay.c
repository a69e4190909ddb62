/* bus_relay: the smallest relay that speaks the alarm bus's sockets, as a baseline for the bus
 * benchmark. No storage, no filter, no seq that survives anything.
 *
 *   native: an AF_UNIX stream socket of newline-delimited JSON. A `report` is answered at once
 *           with {"seq":N} and {"seq":N,"alarm":{...}} goes to every connection that sent
 *           `subscribe`; any other verb gets ENOSYS.
 *   xalarm: <dir>/report (datagrams) and <dir>/alarm (stream): every 8216-byte record received
 *           is written as is to every stream client; what clients send is read and ignored.
 *
 * One thread, one epoll loop. Output waits in per-client buffers; while a subscriber has more
 * than RELAY_HIGH bytes waiting, producers are not read (so nothing is lost, as on the bus).
 * Prints "ready" on stdout once listening; stops on SIGTERM or SIGINT. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "json_util.h"
#include "line_buffer.h"
#include "macro.h"
#include "xalarm_record.h"

#define RELAY_LINE_MAX 65536
#define RELAY_HIGH     (1024 * 1024)     /* bytes waiting for one subscriber: pause producers */
#define RELAY_LOW      (512 * 1024)      /* ... resume them */
#define RELAY_SNDBUF   (2 * 1024 * 1024) /* as sentryd gives its subscribers */
#define RECV_BATCH     16
#define MAX_EVENTS     64

/* ---- output buffers ---------------------------------------------------------------------------
 * Like sentry_common's out_buffer, but the allocation is kept when drained: a relay under load
 * drains and refills its buffers all the time, and giving the memory back costs page faults. */

struct obuf {
    char *data;
    size_t start, len, alloc;
};

static char *obuf_reserve(struct obuf *b, size_t n)
{
    if (b->start > 0 && b->start + b->len + n > b->alloc) {
        memmove(b->data, b->data + b->start, b->len);
        b->start = 0;
    }
    if (b->len + n > b->alloc) {
        size_t a = b->alloc ? b->alloc : 65536;
        while (a < b->len + n)
            a *= 2;
        char *d = realloc(b->data, a);
        if (!d)
            return NULL;
        b->data = d;
        b->alloc = a;
    }
    return b->data + b->start + b->len;
}

static int obuf_append(struct obuf *b, const void *p, size_t n)
{
    char *d = obuf_reserve(b, n);
    if (!d)
        return -ENOMEM;
    memcpy(d, p, n);
    b->len += n;
    return 0;
}

/* send() until empty or EAGAIN: 0, or -errno when the peer is gone. */
static int obuf_flush(struct obuf *b, int fd)
{
    while (b->len > 0) {
        ssize_t n = send(fd, b->data + b->start, b->len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN ? 0 : -errno;
        b->start += (size_t) n;
        b->len -= (size_t) n;
    }
    b->start = 0;
    return 0;
}

enum source_kind {
    SOURCE_LISTEN,
    SOURCE_REPORT,
    SOURCE_SIGNAL,
    SOURCE_CLIENT,
};

/* What an epoll event points to: every watched thing starts with its kind. */
struct source {
    enum source_kind kind;
    int fd;
};

struct client {
    struct source src; /* first */
    struct line_buffer in;
    struct obuf out;
    uint32_t events;
    bool subscriber, over_high, dead;
    struct client *next;
};

struct relay {
    bool xalarm;
    int ep;
    struct source listen, report, signal;
    char *listen_path, *report_path;
    struct client *clients;
    unsigned over_high; /* subscribers above RELAY_HIGH */
    bool paused;
    uint64_t seq;
    json_tokener *tok;
    struct alarm_info *rbuf; /* RECV_BATCH records */
    bool stop;
};

/* ---- sockets ------------------------------------------------------------------------------- */

static int bind_unix(const char *path, int type, int *ret)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    _cleanup_close_ int fd = -EBADF;

    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (unlink(path) < 0 && errno != ENOENT)
        return -errno;
    if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
        return -errno;
    if (type == SOCK_STREAM && listen(fd, 256) < 0)
        return -errno;
    *ret = TAKE_FD(fd);
    return 0;
}

static int watch(struct relay *r, struct source *s, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = s};
    return epoll_ctl(r->ep, EPOLL_CTL_ADD, s->fd, &ev) < 0 ? -errno : 0;
}

static int rewatch(struct relay *r, struct source *s, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = s};
    return epoll_ctl(r->ep, EPOLL_CTL_MOD, s->fd, &ev) < 0 ? -errno : 0;
}

/* ---- clients ------------------------------------------------------------------------------- */

/* The events a client wants: output when some waits, input unless it is a producer held back. */
static void client_update_events(struct relay *r, struct client *c)
{
    bool reads = r->xalarm || c->subscriber || !r->paused;
    uint32_t want = (reads ? EPOLLIN : 0) | (c->out.len ? EPOLLOUT : 0);
    if (c->dead || want == c->events)
        return;
    if (rewatch(r, &c->src, want) < 0)
        c->dead = true;
    else
        c->events = want;
}

static void client_kill(struct relay *r, struct client *c)
{
    if (c->dead)
        return;
    c->dead = true;
    if (c->over_high) {
        c->over_high = false;
        r->over_high--;
    }
    (void) epoll_ctl(r->ep, EPOLL_CTL_DEL, c->src.fd, NULL);
}

/* Frees the clients that died during the last batch of events. */
static void clients_reap(struct relay *r)
{
    for (struct client **p = &r->clients; *p;) {
        struct client *c = *p;
        if (!c->dead) {
            p = &c->next;
            continue;
        }
        *p = c->next;
        close(c->src.fd);
        line_buffer_done(&c->in);
        free(c->out.data);
        free(c);
    }
}

static void client_queue(struct relay *r, struct client *c, const void *p, size_t n)
{
    if (c->dead)
        return;
    if (obuf_append(&c->out, p, n) < 0) {
        fprintf(stderr, "bus_relay: out of memory, dropping a client\n");
        client_kill(r, c);
        return;
    }
    if (!c->over_high && c->out.len > RELAY_HIGH) {
        c->over_high = true;
        r->over_high++;
    }
}

static void broadcast(struct relay *r, const void *p, size_t n)
{
    for (struct client *c = r->clients; c; c = c->next)
        if (c->subscriber)
            client_queue(r, c, p, n);
}

static void on_accept(struct relay *r)
{
    int sndbuf = RELAY_SNDBUF;
    for (;;) {
        int fd = accept4(r->listen.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR)
                fprintf(stderr, "bus_relay: accept: %s\n", strerror(errno));
            return;
        }
        struct client *c = calloc(1, sizeof(*c));
        if (!c) {
            close(fd);
            continue;
        }
        c->src = (struct source){.kind = SOURCE_CLIENT, .fd = fd};
        c->subscriber = r->xalarm; /* every xalarm stream client is one */
        if (c->subscriber)
            (void) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
        line_buffer_init(&c->in, RELAY_LINE_MAX);
        c->events = EPOLLIN;
        if (watch(r, &c->src, c->events) < 0) {
            close(fd);
            free(c);
            continue;
        }
        c->next = r->clients;
        r->clients = c;
    }
}

/* ---- native -------------------------------------------------------------------------------- */

static void native_reply_error(struct relay *r, struct client *c, const char *id, const char *code)
{
    char buf[512];
    int n = snprintf(buf, sizeof(buf),
                     "{\"id\":%s,\"ok\":false,\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}\n",
                     id, code, "not supported by the relay");
    if (n > 0 && (size_t) n < sizeof(buf))
        client_queue(r, c, buf, (size_t) n);
}

static void native_report(struct relay *r, struct client *c, const char *id, json_object *alarm)
{
    char head[64], reply[256 + 128];
    size_t alen;
    const char *a = json_plain(alarm, &alen);
    uint64_t seq = ++r->seq;

    int n = snprintf(reply, sizeof(reply),
                     "{\"id\":%s,\"ok\":true,\"result\":{\"seq\":%" PRIu64 "}}\n", id, seq);
    if (n > 0 && (size_t) n < sizeof(reply))
        client_queue(r, c, reply, (size_t) n);
    int h = snprintf(head, sizeof(head), "{\"seq\":%" PRIu64 ",\"alarm\":", seq);
    for (struct client *s = r->clients; s; s = s->next) {
        if (!s->subscriber || s->dead)
            continue;
        char *d = obuf_reserve(&s->out, (size_t) h + alen + 2);
        if (!d) {
            client_kill(r, s);
            continue;
        }
        memcpy(d, head, (size_t) h);
        memcpy(d + h, a, alen);
        memcpy(d + h + alen, "}\n", 2);
        s->out.len += (size_t) h + alen + 2;
        if (!s->over_high && s->out.len > RELAY_HIGH) {
            s->over_high = true;
            r->over_high++;
        }
    }
}

static void native_subscribe(struct relay *r, struct client *c, const char *id)
{
    char reply[256 + 128];
    int n = snprintf(reply, sizeof(reply),
                     "{\"id\":%s,\"ok\":true,\"result\":{\"head\":%" PRIu64 ",\"oldest\":1}}\n", id,
                     r->seq);
    if (n > 0 && (size_t) n < sizeof(reply))
        client_queue(r, c, reply, (size_t) n);
    if (!c->subscriber) {
        int sz = RELAY_SNDBUF;
        (void) setsockopt(c->src.fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    }
    c->subscriber = true;
}

static void native_line(struct relay *r, struct client *c, const char *line, size_t len)
{
    _cleanup_json_ json_object *msg = NULL;
    json_object *verb, *idv, *alarm;
    char id[160] = "null";

    json_tokener_reset(r->tok);
    msg = json_tokener_parse_ex(r->tok, line, (int) len);
    if (!msg || json_tokener_get_error(r->tok) != json_tokener_success ||
        !json_object_is_type(msg, json_type_object)) {
        native_reply_error(r, c, id, "EBADMSG");
        return;
    }
    if (json_object_object_get_ex(msg, "id", &idv)) {
        size_t n;
        const char *s = json_plain(idv, &n);
        if (n < sizeof(id))
            memcpy(id, s, n + 1);
    }
    const char *v =
        json_object_object_get_ex(msg, "verb", &verb) ? json_object_get_string(verb) : "";
    if (streq(v, "report") && json_object_object_get_ex(msg, "alarm", &alarm) &&
        json_object_is_type(alarm, json_type_object))
        native_report(r, c, id, alarm);
    else if (streq(v, "subscribe"))
        native_subscribe(r, c, id);
    else
        native_reply_error(r, c, id, "ENOSYS");
}

/* Reads what the client sent: native requests are answered, xalarm registrations ignored. */
static void on_client_input(struct relay *r, struct client *c)
{
    for (int round = 0; round < 16; round++) {
        ssize_t n = line_buffer_fill(&c->in, c->src.fd);
        if (n == -EAGAIN)
            return;
        if (n <= 0) {
            client_kill(r, c);
            return;
        }
        char *line;
        size_t len;
        int k;
        while ((k = line_buffer_next(&c->in, &line, &len)) != 0)
            if (k > 0 && !r->xalarm)
                native_line(r, c, line, len);
    }
}

/* ---- xalarm -------------------------------------------------------------------------------- */

static void on_report(struct relay *r)
{
    struct mmsghdr msgs[RECV_BATCH];
    struct iovec iov[RECV_BATCH];

    for (int round = 0; round < 64 && !r->paused; round++) {
        for (int i = 0; i < RECV_BATCH; i++) {
            iov[i] = (struct iovec){.iov_base = &r->rbuf[i], .iov_len = XALARM_RECORD_SIZE};
            msgs[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
        }
        int n = recvmmsg(r->report.fd, msgs, RECV_BATCH, MSG_DONTWAIT, NULL);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                fprintf(stderr, "bus_relay: report socket: %s\n", strerror(errno));
            return;
        }
        for (int i = 0; i < n; i++)
            if (msgs[i].msg_len == XALARM_RECORD_SIZE && !(msgs[i].msg_hdr.msg_flags & MSG_TRUNC))
                broadcast(r, &r->rbuf[i], XALARM_RECORD_SIZE);
        if (n < RECV_BATCH)
            return;
    }
}

/* ---- the loop ------------------------------------------------------------------------------ */

static void set_paused(struct relay *r, bool paused)
{
    if (r->paused == paused)
        return;
    r->paused = paused;
    if (r->xalarm)
        (void) rewatch(r, &r->report, paused ? 0 : EPOLLIN);
    for (struct client *c = r->clients; c; c = c->next)
        client_update_events(r, c);
}

/* Writes what waits, then decides whether producers may be read. */
static void flush_all(struct relay *r)
{
    for (struct client *c = r->clients; c; c = c->next) {
        if (c->dead)
            continue;
        if (c->out.len > 0 && obuf_flush(&c->out, c->src.fd) < 0) {
            client_kill(r, c);
            continue;
        }
        if (c->over_high && c->out.len < RELAY_LOW) {
            c->over_high = false;
            r->over_high--;
        }
        client_update_events(r, c);
    }
    set_paused(r, r->over_high > 0);
}

static void dispatch(struct relay *r, struct epoll_event *ev)
{
    struct source *s = ev->data.ptr;
    switch (s->kind) {
    case SOURCE_LISTEN:
        on_accept(r);
        break;
    case SOURCE_REPORT:
        on_report(r);
        break;
    case SOURCE_SIGNAL: {
        struct signalfd_siginfo si;
        if (read(s->fd, &si, sizeof(si)) == (ssize_t) sizeof(si) || errno != EAGAIN)
            r->stop = true;
        break;
    }
    case SOURCE_CLIENT: {
        struct client *c = (struct client *) s;
        if (c->dead)
            break;
        if (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR))
            on_client_input(r, c);
        break;
    }
    }
}

static int relay_loop(struct relay *r)
{
    struct epoll_event evs[MAX_EVENTS];
    while (!r->stop) {
        int n = epoll_wait(r->ep, evs, MAX_EVENTS, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        for (int i = 0; i < n; i++)
            dispatch(r, &evs[i]);
        flush_all(r);
        clients_reap(r);
    }
    return 0;
}

static int relay_open(struct relay *r, const char *socket_path, const char *dir)
{
    sigset_t mask;
    int k;

    r->ep = epoll_create1(EPOLL_CLOEXEC);
    r->tok = json_tokener_new_ex(32);
    r->rbuf = calloc(RECV_BATCH, sizeof(*r->rbuf));
    if (r->ep < 0 || !r->tok || !r->rbuf)
        return -ENOMEM;
    if (r->xalarm) {
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
            return -errno;
        if (asprintf(&r->listen_path, "%s/" XALARM_SOCKET_ALARM, dir) < 0 ||
            asprintf(&r->report_path, "%s/" XALARM_SOCKET_REPORT, dir) < 0)
            return -ENOMEM;
        r->report = (struct source){.kind = SOURCE_REPORT, .fd = -1};
        if ((k = bind_unix(r->report_path, SOCK_DGRAM, &r->report.fd)) < 0 ||
            (k = watch(r, &r->report, EPOLLIN)) < 0)
            return k;
    } else if (!(r->listen_path = strdup(socket_path)))
        return -ENOMEM;
    r->listen = (struct source){.kind = SOURCE_LISTEN, .fd = -1};
    if ((k = bind_unix(r->listen_path, SOCK_STREAM, &r->listen.fd)) < 0 ||
        (k = watch(r, &r->listen, EPOLLIN)) < 0)
        return k;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
        return -errno;
    r->signal = (struct source){.kind = SOURCE_SIGNAL,
                                .fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)};
    if (r->signal.fd < 0)
        return -errno;
    return watch(r, &r->signal, EPOLLIN);
}

static void relay_close(struct relay *r)
{
    for (struct client *c = r->clients; c; c = c->next)
        client_kill(r, c);
    clients_reap(r);
    if (r->listen_path && r->listen.fd >= 0)
        unlink(r->listen_path);
    if (r->report_path && r->report.fd >= 0)
        unlink(r->report_path);
    if (r->listen.fd >= 0)
        close(r->listen.fd);
    if (r->report.fd >= 0)
        close(r->report.fd);
    if (r->signal.fd >= 0)
        close(r->signal.fd);
    if (r->ep >= 0)
        close(r->ep);
    if (r->tok)
        json_tokener_free(r->tok);
    free(r->listen_path);
    free(r->report_path);
    free(r->rbuf);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bus_relay --path native --socket PATH\n"
               "       bus_relay --path xalarm --xalarm-dir DIR\n"
               "A minimal relay of the alarm bus's sockets, without storage. Prints \"ready\"\n"
               "once listening; stops on SIGTERM or SIGINT.\n");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"path", required_argument, NULL, 'p'},
        {"socket", required_argument, NULL, 's'},
        {"xalarm-dir", required_argument, NULL, 'x'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct relay r = {.ep = -1, .listen = {.fd = -1}, .report = {.fd = -1}, .signal = {.fd = -1}};
    const char *path = "native", *socket_path = NULL, *dir = NULL;
    int c, k;

    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            path = optarg;
            break;
        case 's':
            socket_path = optarg;
            break;
        case 'x':
            dir = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    r.xalarm = streq(path, "xalarm");
    if (optind < argc || (!r.xalarm && !streq(path, "native")) || (r.xalarm && !dir) ||
        (!r.xalarm && !socket_path)) {
        usage(stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    k = relay_open(&r, socket_path, dir);
    if (k < 0) {
        fprintf(stderr, "bus_relay: cannot listen: %s\n", strerror(-k));
        relay_close(&r);
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    k = relay_loop(&r);
    if (k < 0)
        fprintf(stderr, "bus_relay: %s\n", strerror(-k));
    relay_close(&r);
    return k < 0 ? 1 : 0;
}
