/* control_server.c: see control_server.h.
 *
 * Each connection has a bounded line reader and an output buffer. Work is budgeted per
 * connection and wake-up: at most READ_BUDGET bytes read and DISPATCH_BUDGET requests
 * dispatched; a connection with requests left over goes to the back of the backlog, which a
 * defer source works through after the other sources had their turn, so one client's pipelined
 * requests cannot hold the loop. Output is appended and written at the end of the loop
 * iteration (flush_list.h), or when the socket is writable again.
 *
 * A connection stops being read (its requests wait in its buffer and in the kernel) while
 *   - more than OUT_HIGH_WATER bytes of its answers wait for it to read them,
 *   - more than max_pending of its requests wait for a deferred answer (reports in flight), or
 *   - the alarm store falls behind and some of its reports are still in flight;
 * every other connection is served meanwhile: `sentryctl status` is answered while a reporter
 * floods. A client that shuts down its sending side still gets every answer, the last request
 * included even when it lacks its newline. Connections are reference counted so deferred answers
 * can outlive them safely. Accepting and the connection limits: socket_listener.h. */
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>

#include "control_conn.h"
#include "control_server.h"
#include "errno_name.h"
#include "flush_list.h"
#include "json_escape.h"
#include "line_buffer.h"
#include "log.h"
#include "out_buffer.h"
#include "request_parse.h"
#include "sentry/sentry.h"
#include "sentry-build-config.h"
#include "socket_listener.h"

#define READ_BUDGET     (1024 * 1024)
#define DISPATCH_BUDGET 16
#define OUT_HIGH_WATER  (1024 * 1024)

struct conn {
    unsigned refs;
    struct control_server *server;
    uint64_t number; /* for log messages */
    int fd;
    sd_event_source *io;
    struct ucred cred;
    struct client_slot slot;
    struct line_buffer in;
    struct out_buffer out;
    json_tokener *tok;
    unsigned pending;   /* deferred answers not sent yet (reports in flight) */
    bool eof;           /* the peer will send nothing more */
    bool input_done;    /* after eof: the last, unterminated request was handled too */
    bool lines_waiting; /* complete requests may wait in `in` (dispatch stopped early) */
    bool closed;
    void *stream; /* an attached stream (alarm subscription) */
    const struct conn_stream_ops *stream_ops;
    struct flush_entry flush;
    bool in_backlog;
    struct conn *backlog_next;
    struct conn *prev, *next;
};

struct control_server {
    sd_event *event;
    char *socket_path;
    struct socket_listener *listener;
    unsigned max_pending;
    uint64_t next_number;
    bool store_behind; /* the alarm store falls behind: reporters wait */
    const struct verb *const *verb_tables;
    void *userdata;
    struct conn *conns;
    struct flush_list flushes;
    /* connections with work left after their budget, first come first served */
    struct conn *backlog_head, *backlog_tail;
    sd_event_source *backlog_defer;
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
    if (!c->closed)
        flush_list_add(&c->server->flushes, &c->flush);
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

static void conn_flush(struct flush_entry *e)
{
    struct conn *c = (struct conn *) ((char *) e - offsetof(struct conn, flush));

    if (c->closed)
        return;
    int r = conn_write(c);
    if (r < 0) {
        log_debug_errno(r, "client %" PRIu64 ": write failed: %m", c->number);
        conn_close(c);
    } else
        conn_after_write(c);
}

/* Appends one line (the newline added here). Every answer passes here: what is not valid UTF-8
 * (bytes of a client's own strings, of files) becomes U+FFFD, so every line is valid UTF-8. */
static void conn_send_line(struct conn *c, const char *line, size_t len)
{
    if (c->closed)
        return;
    char *d = out_buffer_reserve(&c->out, JSON_ESCAPE_MAX(len) + 1);
    if (!d) {
        log_error("client %" PRIu64 ": out of memory, closing", c->number);
        conn_close(c);
        return;
    }
    size_t n;
    if (utf8_is_valid(line, len)) {
        memcpy(d, line, len);
        n = len;
    } else
        n = json_text_fix_utf8(d, line, len);
    d[n++] = '\n';
    out_buffer_commit(&c->out, n);
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
    flush_list_remove(&s->flushes, &c->flush);
    c->io = sd_event_source_disable_unref(c->io);
    close(c->fd);
    c->fd = -1;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    /* A descriptor and a slot are free again. */
    socket_listener_release(s->listener, &c->slot);
    log_debug("client %" PRIu64 " (pid %d uid %d) disconnected", c->number, (int) c->cred.pid,
              (int) c->cred.uid);
    conn_unref(c); /* the backlog may hold a reference of its own */
}

/* Whether the connection's requests must wait (see the top of the file). */
static bool conn_input_blocked(const struct conn *c)
{
    const struct control_server *s = c->server;
    return c->out.len >= OUT_HIGH_WATER || c->pending >= s->max_pending ||
           (s->store_behind && c->pending > 0);
}

/* Work to do later, after the other sources: requests left over, or the end of input. */
static void conn_backlog(struct conn *c)
{
    struct control_server *s = c->server;

    if (c->closed || c->in_backlog)
        return;
    c->in_backlog = true;
    c->backlog_next = NULL;
    if (s->backlog_tail)
        s->backlog_tail->backlog_next = c;
    else
        s->backlog_head = c;
    s->backlog_tail = conn_ref(c);
    (void) sd_event_source_set_enabled(s->backlog_defer, SD_EVENT_ONESHOT);
}

/* Input is read while the peer sends, the connection is not blocked and no work waits in the
 * backlog; output is asked for when some waits and the flusher could not write it. Without
 * requested events the source stays registered so that a full hang-up (EPOLLHUP) is seen. */
static void conn_update_events(struct conn *c)
{
    uint32_t ev = 0;

    if (c->closed)
        return;
    bool blocked = conn_input_blocked(c);
    if (!blocked && !c->in_backlog && (c->lines_waiting || (c->eof && !c->input_done)))
        conn_backlog(c);
    if (c->eof && c->input_done && c->out.len == 0 && c->pending == 0 && !c->stream) {
        conn_close(c);
        return;
    }
    if (!c->eof && !blocked && !c->in_backlog)
        ev |= EPOLLIN;
    if (conn_has_output(c) && !flush_entry_queued(&c->flush))
        ev |= EPOLLOUT;
    (void) sd_event_source_set_io_events(c->io, ev);
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
    if (s->store_behind == paused)
        return;
    s->store_behind = paused;
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

/* {"id":ID,BODY} where BODY is KEY:JSON. */
static void send_answer(struct conn *c, const char *id, const char *key, const char *json)
{
    _cleanup_free_ char *line = NULL;
    int n = asprintf(&line, "{\"id\":%s,%s%s}", id, key, json);
    if (n < 0) {
        log_error("client %" PRIu64 ": out of memory, closing", c->number);
        conn_close(c);
        return;
    }
    conn_send_line(c, line, (size_t) n);
}

static void send_result(struct conn *c, const char *id, json_object *result)
{
    const char *rs = result ? json_plain(result, NULL) : "{}";
    send_answer(c, id, "\"ok\":true,\"result\":", rs ? rs : "{}");
    json_object_put(result);
}

static void send_error(struct conn *c, const char *id, int err, const char *message)
{
    _cleanup_json_ json_object *e = json_object_new_object();

    if (!e || json_object_object_add(e, "code", json_object_new_string(errno_to_name(err))) < 0 ||
        json_object_object_add(e, "message", json_object_new_string(message)) < 0) {
        log_error("client %" PRIu64 ": out of memory, closing", c->number);
        conn_close(c);
        return;
    }
    send_answer(c, id, "\"ok\":false,\"error\":", json_plain(e, NULL));
}

int request_reply(struct request *r, json_object *result)
{
    r->answered = true;
    send_result(r->conn, r->id, result);
    return 0;
}

int request_reply_error(struct request *r, int err, const char *fmt, ...)
{
    _cleanup_free_ char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    r->answered = true;
    send_error(r->conn, r->id, err, n < 0 ? "out of memory" : msg);
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

void pending_reply_stored(struct pending_reply *p, uint64_t seq)
{
    char result[64];
    snprintf(result, sizeof(result), "{\"seq\":%" PRIu64 "}", seq);
    send_answer(p->conn, p->id, "\"ok\":true,\"result\":", result);
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
    /* The parser refuses numbers that do not fit 64 bits (request_parse.c), so these are the
     * client's: a negative one reads as 0 unsigned, a huge one as INT64_MAX signed. */
    int64_t s = json_object_get_int64(v);
    uint64_t u = json_object_get_uint64(v);
    if (s < 0 || u > max)
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
        request_reply_error(&r, EPERM, "permission denied: %s needs root (you are uid %u)", v->name,
                            (unsigned) c->cred.uid);
        return;
    }
    int k = v->handler(&r);
    if (!r.answered)
        request_reply_error(&r, k < 0 ? -k : EIO, "%s failed: %s", v->name,
                            strerror(k < 0 ? -k : EIO));
}

/* Dispatches the complete requests held, within *budget and while the connection may go on.
 * Returns true when it stopped with requests possibly left. */
static bool conn_dispatch_lines(struct conn *c, unsigned *budget)
{
    for (;;) {
        char *line;
        size_t len;

        if (*budget == 0 || conn_input_blocked(c)) {
            c->lines_waiting = true;
            return true;
        }
        int r = line_buffer_next(&c->in, &line, &len);
        if (r == 0) {
            c->lines_waiting = false;
            return false;
        }
        (*budget)--;
        if (r == -EMSGSIZE) {
            struct request req = {.conn = c};
            strcpy(req.id, "null");
            request_reply_error(&req, EMSGSIZE, "request longer than %d bytes, discarded",
                                SENTRY_LINE_MAX);
        } else if (len > 0)
            conn_dispatch(c, line, len);
        if (c->closed)
            return false;
    }
}

/* The peer sends nothing more: a last request without its newline is still a request. */
static void conn_finish_input(struct conn *c)
{
    unsigned one = 1;

    c->input_done = true;
    if (line_buffer_pending(&c->in) == 0)
        return;
    if (line_buffer_append(&c->in, "\n", 1) < 0) {
        log_error("client %" PRIu64 ": out of memory, closing", c->number);
        conn_close(c);
        return;
    }
    (void) conn_dispatch_lines(c, &one);
}

/* Reads and dispatches within this wake-up's budgets. */
static void conn_pump(struct conn *c)
{
    unsigned budget = DISPATCH_BUDGET;
    size_t read_left = READ_BUDGET;

    while (!c->closed) {
        /* The requests held first: reading more would only grow the buffer. */
        if (conn_dispatch_lines(c, &budget)) {
            if (budget == 0)
                conn_backlog(c); /* after the other sources */
            return;
        }
        if (c->closed)
            return;
        if (c->eof) {
            if (!c->input_done)
                conn_finish_input(c);
            return;
        }
        if (read_left == 0)
            return; /* the socket stays readable: back after the other sources */
        ssize_t n = line_buffer_fill(&c->in, c->fd);
        if (n == -EAGAIN)
            return;
        if (n == -EINTR)
            continue;
        if (n < 0) {
            log_debug_errno((int) n, "client %" PRIu64 ": read failed: %m", c->number);
            conn_close(c);
            return;
        }
        if (n == 0)
            c->eof = true;
        read_left -= MIN((size_t) n, read_left);
    }
}

static int on_backlog(sd_event_source *src, void *userdata)
{
    struct control_server *s = userdata;
    /* One turn for each connection waiting now; those that still have work queue again. */
    struct conn *list = s->backlog_head;

    s->backlog_head = s->backlog_tail = NULL;
    while (list) {
        struct conn *c = list;
        list = c->backlog_next;
        c->backlog_next = NULL;
        c->in_backlog = false;
        if (!c->closed) {
            conn_pump(c);
            conn_update_events(c);
        }
        conn_unref(c);
    }
    return 0;
}

static int on_conn_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
    struct conn *c = conn_ref(userdata);

    if (revents & EPOLLOUT) {
        int r = conn_write(c);
        if (r < 0) {
            log_debug_errno(r, "client %" PRIu64 ": write failed: %m", c->number);
            conn_close(c);
        }
    }
    if (!c->closed && (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->eof && !c->in_backlog &&
        !conn_input_blocked(c))
        conn_pump(c);
    /* The peer is gone for good (not just done sending), and nothing more will be read. */
    if (!c->closed && (revents & (EPOLLHUP | EPOLLERR)) &&
        ((c->eof && c->input_done) || conn_input_blocked(c)))
        conn_close(c);
    if (!c->closed && (revents & EPOLLOUT))
        conn_after_write(c);
    else if (!c->closed)
        conn_update_events(c);
    conn_unref(c);
    return 0;
}

/* ---- accepting ------------------------------------------------------------------------------ */

/* The refused peer learns why, in one answer (id null), if its socket takes it at once. */
static void on_refuse(int fd, const struct ucred *cred, const char *why, void *userdata)
{
    char message[JSON_ESCAPE_MAX(256) + 1], line[sizeof(message) + 128];
    size_t ml = json_escape(message, why, strnlen(why, 256));

    message[ml] = 0;
    int n = snprintf(line, sizeof(line),
                     "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"EUSERS\",\"message\":%s}}\n",
                     message);
    if (n > 0 && (size_t) n < sizeof(line)) {
        ssize_t _unused_ w = send(fd, line, (size_t) n, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
}

static int on_accept(int fd, const struct ucred *cred, const struct client_slot *slot,
                     void *userdata)
{
    struct control_server *s = userdata;
    struct conn *c = calloc(1, sizeof(*c));

    if (!c)
        return log_oom();
    c->tok = json_tokener_new_ex(32);
    if (!c->tok) {
        free(c);
        return log_oom();
    }
    c->refs = 1;
    c->server = s;
    c->fd = fd;
    c->cred = *cred;
    c->slot = *slot;
    c->number = ++s->next_number;
    c->flush.flush = conn_flush;
    line_buffer_init(&c->in, SENTRY_LINE_MAX);
    int r = sd_event_add_io(s->event, &c->io, fd, EPOLLIN, on_conn_io, c);
    if (r < 0) {
        json_tokener_free(c->tok);
        free(c);
        return log_error_errno(r, "cannot watch a client: %m");
    }
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    log_debug("client %" PRIu64 " connected (pid %d uid %d%s)", c->number, (int) cred->pid,
              (int) cred->uid, slot->privileged && cred->uid != 0 ? ", a task of sentryd" : "");
    return 0;
}

int control_server_new(const struct control_server_params *p, struct control_server **ret)
{
    _cleanup_close_ int fd = -EBADF;
    struct control_server *s;
    int r;

    r = socket_bind(p->socket_path, SOCK_STREAM, p->socket_mode, p->socket_group, "control socket",
                    &fd);
    if (r < 0)
        return r;
    if (!p->socket_group && (p->socket_mode & 0006) == 0)
        log_notice("%s is for root only: group '%s' does not exist. To let operators use "
                   "sentryctl without root, create it (systemd-sysusers, or groupadd --system "
                   "%s), add them to it and restart sentryd; or name a group in [control] "
                   "socket_group",
                   p->socket_path, SENTRY_GROUP, SENTRY_GROUP);

    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->event = p->event;
    s->max_pending = p->max_pending ? p->max_pending : 1024;
    s->verb_tables = p->verb_tables;
    s->userdata = p->userdata;
    s->socket_path = strdup(p->socket_path);
    struct socket_listener_params lp = {
        .event = p->event,
        .fd = TAKE_FD(fd),
        .what = "control socket",
        .limits = {.max_clients = p->max_clients,
                   .per_uid = p->max_clients_per_uid,
                   .reserved = p->reserved_clients},
        .on_accept = on_accept,
        .on_refuse = on_refuse,
        .userdata = s,
    };
    r = flush_list_init(&s->flushes, p->event);
    if (r >= 0)
        r = sd_event_add_defer(p->event, &s->backlog_defer, on_backlog, s);
    if (r >= 0)
        r = sd_event_source_set_enabled(s->backlog_defer, SD_EVENT_OFF);
    if (r >= 0)
        r = socket_listener_new(&lp, &s->listener);
    else
        close(lp.fd);
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
    flush_list_run(&s->flushes);
    while (s->conns)
        conn_close(s->conns);
    while (s->backlog_head) {
        struct conn *c = s->backlog_head;
        s->backlog_head = c->backlog_next;
        conn_unref(c);
    }
    s->listener = socket_listener_free(s->listener);
    flush_list_done(&s->flushes);
    sd_event_source_disable_unref(s->backlog_defer);
    if (s->socket_path)
        unlink(s->socket_path);
    free(s->socket_path);
    free(s);
    return NULL;
}

unsigned control_server_clients(const struct control_server *s)
{
    return socket_listener_clients(s->listener);
}
