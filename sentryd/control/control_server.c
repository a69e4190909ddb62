/* control_server.c: see control_server.h.
 *
 * Each connection has a bounded line reader and an output buffer. Input is read until EAGAIN
 * (at most READ_BUDGET per wake-up, for fairness) and every complete line is dispatched. Output
 * is appended and written when the socket is writable; while a client lets more than
 * OUT_HIGH_WATER bytes of answers pile up, its input is not read (backpressure instead of
 * unbounded memory). A client that shuts down its sending side still gets its pending answers.
 * Connections are reference counted so deferred answers can outlive them safely. */
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "control_conn.h"
#include "control_server.h"
#include "errno_name.h"
#include "line_buffer.h"
#include "out_buffer.h"
#include "request_parse.h"
#include "log.h"
#include "names.h"
#include "sentry/sentry.h"
#include "sentry-build-config.h"

#define READ_BUDGET    (1024 * 1024)
#define OUT_HIGH_WATER (1024 * 1024)
#define LISTEN_BACKLOG 256

struct conn {
    unsigned refs;
    struct control_server *server;
    uint64_t number; /* for log messages */
    int fd;
    sd_event_source *io;
    struct ucred cred;
    struct line_buffer in;
    struct out_buffer out;
    json_tokener *tok;
    unsigned pending; /* deferred answers not sent yet */
    bool eof;         /* the peer will send nothing more */
    bool closed;
    void *stream; /* an attached stream (alarm subscription) */
    const struct conn_stream_ops *stream_ops;
    bool dirty; /* has output to try at the end of this loop iteration */
    struct conn *dirty_next;
    struct conn *prev, *next;
};

struct control_server {
    sd_event *event;
    char *socket_path;
    int fd;
    sd_event_source *listen_source;
    unsigned max_clients;
    unsigned n_clients;
    uint64_t next_number;
    bool input_paused; /* backpressure from the alarm store: no request is read */
    const struct verb *const *verb_tables;
    void *userdata;
    struct conn *conns;
    /* Output is written once per loop iteration for every connection that got some, so that a
     * burst of answers or alarms costs one send per connection, and EPOLLOUT is asked for only
     * when a socket is full. */
    struct conn *dirty;
    sd_event_source *flusher;
};

struct pending_reply {
    struct conn *conn;
    char id[REQUEST_ID_MAX * 2 + 8];
};

static void conn_close(struct conn *c);
static void conn_update_events(struct conn *c);
static struct conn *conn_ref(struct conn *c);
static void conn_unref(struct conn *c);

/* ---- output --------------------------------------------------------------------------------- */

static void conn_mark_dirty(struct conn *c)
{
    struct control_server *s = c->server;

    if (c->closed || c->dirty)
        return;
    c->dirty = true;
    c->dirty_next = s->dirty;
    s->dirty = conn_ref(c);
}

static bool conn_has_output(const struct conn *c)
{
    return c->out.len > 0 || (c->stream_ops && c->stream_ops->pending(c->stream));
}

/* Writes what the socket takes: answers first, then the stream. <0 when the peer is gone. */
static int conn_write(struct conn *c)
{
    int r = out_buffer_flush(&c->out, c->fd);
    if (r >= 0 && c->out.len == 0 && c->stream_ops)
        r = c->stream_ops->flush(c->stream, c->fd);
    return r;
}

/* After a write: a stream whose queue ran low may add more; then the events to watch. */
static void conn_after_write(struct conn *c)
{
    if (!c->closed && c->stream_ops && c->out.len == 0)
        c->stream_ops->on_drain(c->stream);
    if (!c->closed)
        conn_update_events(c);
}

static int on_flush(sd_event_source *src, void *userdata)
{
    struct control_server *s = userdata;

    while (s->dirty) {
        struct conn *c = s->dirty;
        s->dirty = c->dirty_next;
        c->dirty = false;
        if (!c->closed) {
            int r = conn_write(c);
            if (r < 0) {
                log_debug_errno(r, "client %" PRIu64 ": write failed: %m", c->number);
                conn_close(c);
            } else
                conn_after_write(c);
        }
        conn_unref(c);
    }
    return 0;
}

static void conn_send_line(struct conn *c, const char *line, size_t len)
{
    if (c->closed)
        return;
    if (out_buffer_append(&c->out, line, len) < 0 || out_buffer_append(&c->out, "\n", 1) < 0) {
        log_error("client %" PRIu64 ": out of memory, closing", c->number);
        conn_close(c);
        return;
    }
    conn_mark_dirty(c);
}

/* ---- connections ---------------------------------------------------------------------------- */

static struct conn *conn_ref(struct conn *c)
{
    c->refs++;
    return c;
}

static void conn_unref(struct conn *c)
{
    if (!c || --c->refs > 0)
        return;
    line_buffer_done(&c->in);
    out_buffer_done(&c->out);
    json_tokener_free(c->tok);
    free(c);
}

static void conn_close(struct conn *c)
{
    struct control_server *s = c->server;

    if (c->closed)
        return;
    c->closed = true;
    if (c->stream_ops) {
        const struct conn_stream_ops *ops = c->stream_ops;
        void *stream = c->stream;
        c->stream_ops = NULL;
        c->stream = NULL;
        ops->on_close(stream);
    }
    c->io = sd_event_source_disable_unref(c->io);
    close(c->fd);
    c->fd = -1;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->n_clients--;
    log_debug("client %" PRIu64 " (pid %d uid %d) disconnected", c->number, (int) c->cred.pid,
              (int) c->cred.uid);
    conn_unref(c);
}

/* Input is read while the peer sends, answers do not pile up and the store keeps pace; output
 * when there is some. Without requested events the source stays registered so that a full
 * hang-up of the peer (EPOLLHUP) is still seen. */
static void conn_update_events(struct conn *c)
{
    uint32_t ev = 0;

    if (c->closed)
        return;
    if (c->eof && c->out.len == 0 && c->pending == 0 && !c->stream) {
        conn_close(c);
        return;
    }
    if (!c->eof && c->out.len < OUT_HIGH_WATER && !c->server->input_paused)
        ev |= EPOLLIN;
    /* Output waits for EPOLLOUT only when the socket was full; otherwise the flusher writes. */
    if (conn_has_output(c) && !c->dirty)
        ev |= EPOLLOUT;
    sd_event_source_set_io_events(c->io, ev);
}

struct conn *request_conn(const struct request *r)
{
    return r->conn;
}

void conn_attach_stream(struct conn *c, void *stream, const struct conn_stream_ops *ops)
{
    c->stream = stream;
    c->stream_ops = ops;
}

void conn_detach_stream(struct conn *c)
{
    c->stream = NULL;
    c->stream_ops = NULL;
    conn_update_events(c);
}

void *conn_get_stream(const struct conn *c)
{
    return c->stream;
}

void conn_send_raw(struct conn *c, const void *data, size_t len)
{
    if (c->closed)
        return;
    if (out_buffer_append(&c->out, data, len) < 0) {
        log_error("client %" PRIu64 ": out of memory, closing", c->number);
        conn_close(c);
        return;
    }
    conn_mark_dirty(c);
}

void conn_stream_ready(struct conn *c)
{
    conn_mark_dirty(c);
}

size_t conn_queued(const struct conn *c)
{
    return c->out.len;
}

void conn_grow_sndbuf(struct conn *c, int bytes)
{
    /* SO_SNDBUFFORCE passes the system limit when sentryd has CAP_NET_ADMIN (root). */
    if (setsockopt(c->fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof(bytes)) < 0)
        (void) setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
}

void control_server_pause_input(struct control_server *s, bool paused)
{
    if (s->input_paused == paused)
        return;
    s->input_paused = paused;
    for (struct conn *c = s->conns, *n; c; c = n) {
        n = c->next;
        conn_update_events(c);
    }
}

/* ---- requests ------------------------------------------------------------------------------ */

uid_t request_uid(const struct request *r)
{
    return r->conn->cred.uid;
}

pid_t request_pid(const struct request *r)
{
    return r->conn->cred.pid;
}

static void send_answer(struct conn *c, const char *id, const char *body)
{
    _cleanup_free_ char *line = NULL;
    int n = asprintf(&line, "{\"id\":%s,%s}", id, body);
    if (n < 0) {
        conn_close(c);
        return;
    }
    conn_send_line(c, line, (size_t) n);
}

static void send_result(struct conn *c, const char *id, json_object *result)
{
    _cleanup_free_ char *body = NULL;
    const char *rs = result ? json_plain(result, NULL) : "{}";
    if (asprintf(&body, "\"ok\":true,\"result\":%s", rs ? rs : "{}") < 0)
        body = NULL;
    if (body)
        send_answer(c, id, body);
    json_object_put(result);
}

static void send_error(struct conn *c, const char *id, int err, const char *message)
{
    _cleanup_json_ json_object *e = json_object_new_object();
    _cleanup_free_ char *body = NULL;

    json_object_object_add(e, "code", json_object_new_string(errno_to_name(err)));
    json_object_object_add(e, "message", json_object_new_string(message));
    if (asprintf(&body, "\"ok\":false,\"error\":%s", json_plain(e, NULL)) >= 0)
        send_answer(c, id, body);
}

int request_reply(struct request *r, json_object *result)
{
    r->answered = true;
    send_result(r->conn, r->id, result);
    return 0;
}

int request_reply_error(struct request *r, int err, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    r->answered = true;
    send_error(r->conn, r->id, err, msg);
    return -(err < 0 ? -err : err);
}

struct pending_reply *request_defer(struct request *r)
{
    struct pending_reply *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->conn = conn_ref(r->conn);
    p->conn->pending++;
    memcpy(p->id, r->id, sizeof(p->id));
    r->answered = true;
    return p;
}

static void pending_reply_finish(struct pending_reply *p)
{
    struct conn *c = p->conn;
    c->pending--;
    if (!c->closed)
        conn_update_events(c);
    conn_unref(c);
    free(p);
}

void pending_reply_ok(struct pending_reply *p, json_object *result)
{
    send_result(p->conn, p->id, result);
    pending_reply_finish(p);
}

void pending_reply_ok_raw(struct pending_reply *p, const char *result_json)
{
    char body[4096];
    snprintf(body, sizeof(body), "\"ok\":true,\"result\":%s", result_json);
    send_answer(p->conn, p->id, body);
    pending_reply_finish(p);
}

void pending_reply_error(struct pending_reply *p, int err, const char *message)
{
    send_error(p->conn, p->id, err, message);
    pending_reply_finish(p);
}

static json_object *request_member(struct request *r, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(r->msg, key, &v) ? v : NULL;
}

int request_get_string(struct request *r, const char *key, bool required, size_t max,
                       const char **ret)
{
    json_object *v = request_member(r, key);
    if (!v || json_object_is_type(v, json_type_null)) {
        if (required)
            return request_reply_error(r, EINVAL, "missing member '%s'", key);
        return 0;
    }
    if (!json_object_is_type(v, json_type_string))
        return request_reply_error(r, EINVAL, "member '%s' must be a string", key);
    if ((size_t) json_object_get_string_len(v) > max)
        return request_reply_error(r, EINVAL, "member '%s' is longer than %zu bytes", key, max);
    if (strlen(json_object_get_string(v)) != (size_t) json_object_get_string_len(v))
        return request_reply_error(r, EINVAL, "member '%s' contains a NUL character", key);
    *ret = json_object_get_string(v);
    return 0;
}

int request_get_task_name(struct request *r, const char **ret)
{
    const char *name = NULL;
    /* 256 as the reference's client limit; longer names are refused before any lookup. */
    int k = request_get_string(r, "task", true, 256, &name);
    if (k < 0)
        return k;
    *ret = name;
    return 0;
}

int request_get_bool(struct request *r, const char *key, bool *ret)
{
    json_object *v = request_member(r, key);
    if (!v || json_object_is_type(v, json_type_null))
        return 0;
    if (!json_object_is_type(v, json_type_boolean))
        return request_reply_error(r, EINVAL, "member '%s' must be true or false", key);
    *ret = json_object_get_boolean(v);
    return 0;
}

int request_get_uint64(struct request *r, const char *key, bool required, uint64_t max,
                       uint64_t *ret)
{
    json_object *v = request_member(r, key);
    if (!v || json_object_is_type(v, json_type_null)) {
        if (required)
            return request_reply_error(r, EINVAL, "missing member '%s'", key);
        return 0;
    }
    if (!json_object_is_type(v, json_type_int))
        return request_reply_error(r, EINVAL, "member '%s' must be an integer", key);
    errno = 0;
    int64_t s = json_object_get_int64(v);
    uint64_t u = json_object_get_uint64(v);
    if ((s < 0 && u == 0) || u > max)
        return request_reply_error(r, EINVAL, "member '%s' must be in 0..%" PRIu64, key, max);
    *ret = u;
    return 0;
}

int request_get_object(struct request *r, const char *key, bool required, json_object **ret)
{
    json_object *v = request_member(r, key);
    if (!v || json_object_is_type(v, json_type_null)) {
        if (required)
            return request_reply_error(r, EINVAL, "missing member '%s'", key);
        return 0;
    }
    if (!json_object_is_type(v, json_type_object))
        return request_reply_error(r, EINVAL, "member '%s' must be an object", key);
    *ret = v;
    return 0;
}

int request_check_members(struct request *r, const char *const *allowed)
{
    json_object_object_foreach(r->msg, key, val)
    {
        bool ok = streq(key, "id") || streq(key, "verb");
        (void) val;
        for (const char *const *a = allowed; !ok && a && *a; a++)
            ok = streq(key, *a);
        if (!ok)
            return request_reply_error(r, EINVAL, "unknown member '%.64s' for verb '%s'", key,
                                       r->verb);
    }
    return 0;
}

static const struct verb *server_find_verb(struct control_server *s, const char *name)
{
    for (const struct verb *const *t = s->verb_tables; t && *t; t++)
        for (const struct verb *v = *t; v->name; v++)
            if (streq(v->name, name))
                return v;
    return NULL;
}

static void conn_dispatch(struct conn *c, const char *line, size_t len)
{
    struct control_server *s = c->server;
    struct request r = {.conn = c, .userdata = s->userdata};
    struct parsed_request p;
    const struct verb *v;
    char why[256];

    int e = request_parse(c->tok, line, len, &p, why, sizeof(why));
    _cleanup_json_ json_object *msg = p.msg;
    memcpy(r.id, p.id, sizeof(r.id));
    if (e) {
        request_reply_error(&r, e, "%s", why);
        return;
    }
    r.msg = msg;
    r.verb = p.verb;
    v = server_find_verb(s, r.verb);
    if (!v) {
        request_reply_error(&r, ENOSYS, "unknown verb '%.64s'", r.verb);
        return;
    }
    if ((v->flags & VERB_ROOT) && c->cred.uid != 0) {
        request_reply_error(&r, EPERM, "permission denied: %s needs root (you are uid %d)", v->name,
                            (int) c->cred.uid);
        return;
    }
    int k = v->handler(&r);
    if (!r.answered)
        request_reply_error(&r, k < 0 ? -k : EIO, "%s failed: %s", v->name,
                            strerror(k < 0 ? -k : EIO));
}

static void conn_read(struct conn *c)
{
    size_t budget = READ_BUDGET;

    while (!c->closed && !c->eof && budget > 0) {
        ssize_t n = line_buffer_fill(&c->in, c->fd);
        if (n == -EAGAIN)
            break;
        if (n == -EINTR)
            continue;
        if (n < 0) {
            log_debug_errno((int) n, "client %" PRIu64 ": read failed: %m", c->number);
            conn_close(c);
            return;
        }
        if (n == 0)
            c->eof = true;
        budget = (size_t) n > budget ? 0 : budget - (size_t) n;

        for (;;) {
            char *line;
            size_t len;
            int r = line_buffer_next(&c->in, &line, &len);
            if (r == 0)
                break;
            if (r == -EMSGSIZE) {
                struct request req = {.conn = c};
                strcpy(req.id, "null");
                request_reply_error(&req, EMSGSIZE, "request longer than %d bytes, discarded",
                                    SENTRY_LINE_MAX);
                continue;
            }
            if (len > 0)
                conn_dispatch(c, line, len);
            if (c->closed)
                return;
        }
        if (c->out.len >= OUT_HIGH_WATER)
            break;
    }
}

static int on_conn_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
    struct conn *c = conn_ref(userdata);

    if ((revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->eof && !c->server->input_paused)
        conn_read(c);
    if (!c->closed && (revents & EPOLLOUT)) {
        int r = conn_write(c);
        if (r < 0) {
            log_debug_errno(r, "client %" PRIu64 ": write failed: %m", c->number);
            conn_close(c);
        }
    }
    /* The peer is gone for good (not just done sending). */
    if (!c->closed && (revents & (EPOLLHUP | EPOLLERR)) && (c->eof || c->server->input_paused))
        conn_close(c);
    if (!c->closed && (revents & EPOLLOUT))
        conn_after_write(c);
    else if (!c->closed)
        conn_update_events(c);
    conn_unref(c);
    return 0;
}

static int on_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
    struct control_server *s = userdata;

    for (;;) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        socklen_t sl = sizeof(struct ucred);
        struct conn *c;

        if (cfd < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return 0;
            log_warning_errno(errno, "accept on %s failed: %m", s->socket_path);
            return 0;
        }
        if (s->n_clients >= s->max_clients) {
            static const char msg[] = "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"EUSERS\","
                                      "\"message\":\"too many clients\"}}\n";
            ssize_t _unused_ w = send(cfd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            close(cfd);
            log_warning("refused a client: %u clients connected (max_clients)", s->n_clients);
            continue;
        }
        c = calloc(1, sizeof(*c));
        if (!c || !(c->tok = json_tokener_new_ex(32))) {
            free(c);
            close(cfd);
            continue;
        }
        c->refs = 1;
        c->server = s;
        c->fd = cfd;
        c->number = ++s->next_number;
        line_buffer_init(&c->in, SENTRY_LINE_MAX);
        if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &c->cred, &sl) < 0 ||
            sd_event_add_io(s->event, &c->io, cfd, EPOLLIN, on_conn_io, c) < 0) {
            close(cfd);
            json_tokener_free(c->tok);
            free(c);
            continue;
        }
        c->next = s->conns;
        if (s->conns)
            s->conns->prev = c;
        s->conns = c;
        s->n_clients++;
        log_debug("client %" PRIu64 " connected (pid %d uid %d)", c->number, (int) c->cred.pid,
                  (int) c->cred.uid);
    }
}

/* Who may connect: the socket file's mode and group. A group that cannot be given leaves the
 * socket to root (and to others only if the mode says so): never wider than configured. */
static int control_socket_set_access(const char *path, unsigned mode, const char *group)
{
    if (chmod(path, mode) < 0)
        return log_error_errno(errno, "chmod %s: %m", path);
    if (!group) {
        if ((mode & 0006) == 0)
            log_notice("%s is for root only: group '%s' does not exist. To let operators use "
                       "sentryctl without root, create it (systemd-sysusers, or groupadd --system "
                       "%s), add them to it and restart sentryd; or name a group in [control] "
                       "socket_group",
                       path, SENTRY_GROUP, SENTRY_GROUP);
        return 0;
    }
    errno = 0;
    struct group *g = getgrnam(group);
    if (!g)
        log_warning_errno(errno ? errno : ENOENT, "%s keeps group root: group '%s' not found: %m",
                          path, group);
    else if (chown(path, (uid_t) -1, g->gr_gid) < 0)
        log_warning_errno(errno, "%s keeps group root: cannot give it to group '%s': %m", path,
                          group);
    else
        log_debug("%s: mode %04o, group %s", path, mode, group);
    return 0;
}

int control_server_new(const struct control_server_params *p, struct control_server **ret)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    _cleanup_close_ int fd = -EBADF;
    struct control_server *s;
    int r;

    if (strlen(p->socket_path) >= sizeof(sa.sun_path))
        return log_error_errno(ENAMETOOLONG, "socket path %s is too long", p->socket_path);
    strcpy(sa.sun_path, p->socket_path);

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return log_error_errno(errno, "socket: %m");
    /* The instance lock is held, so a socket file left here is a stale one. */
    if (unlink(p->socket_path) < 0 && errno != ENOENT)
        return log_error_errno(errno, "cannot remove stale %s: %m", p->socket_path);
    if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
        return log_error_errno(errno, "cannot bind %s: %m", p->socket_path);
    r = control_socket_set_access(p->socket_path, p->socket_mode, p->socket_group);
    if (r < 0)
        return r;
    if (listen(fd, LISTEN_BACKLOG) < 0)
        return log_error_errno(errno, "listen on %s: %m", p->socket_path);

    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->event = p->event;
    s->max_clients = p->max_clients;
    s->verb_tables = p->verb_tables;
    s->userdata = p->userdata;
    s->socket_path = strdup(p->socket_path);
    s->fd = TAKE_FD(fd);
    r = sd_event_add_io(p->event, &s->listen_source, s->fd, EPOLLIN, on_accept, s);
    /* A post source runs after any other source was dispatched: it stays on (it costs no
     * wake-up of its own) and finds the dirty list empty most of the time. */
    if (r >= 0)
        r = sd_event_add_post(p->event, &s->flusher, on_flush, s);
    if (r < 0 || !s->socket_path) {
        control_server_free(s);
        return r < 0 ? r : -ENOMEM;
    }
    *ret = s;
    return 0;
}

struct control_server *control_server_free(struct control_server *s)
{
    if (!s)
        return NULL;
    /* What is queued goes out if the sockets take it. */
    on_flush(NULL, s);
    while (s->conns)
        conn_close(s->conns);
    sd_event_source_disable_unref(s->flusher);
    sd_event_source_disable_unref(s->listen_source);
    if (s->fd >= 0)
        close(s->fd);
    if (s->socket_path)
        unlink(s->socket_path);
    free(s->socket_path);
    free(s);
    return NULL;
}

unsigned control_server_clients(const struct control_server *s)
{
    return s->n_clients;
}
