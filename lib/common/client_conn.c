/* client_conn.c: see client_conn.h. Everything sent goes through client_conn_send_all() with
 * MSG_NOSIGNAL: a sentryd that restarted or refused the connection is an error returned to the
 * caller (-EPIPE, -ECONNRESET), never a SIGPIPE that kills sentryctl or a plugin. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include "client_conn.h"
#include "unix_connect.h"
#include "errno_name.h"
#include "fileio.h"
#include "line_buffer.h"
#include "macro.h"
#include "sentry/sentry.h"

struct client_conn {
    int fd;
    uint64_t next_id;
    struct line_buffer in;
    json_tokener *tok;
    client_stream_cb stream_cb;
    void *stream_userdata;
    bool nonblocking;
    int timeout_ms;    /* -1: forever */
    bool request_sent; /* the last request left, at least in part */
};

int client_conn_open(const char *path, struct client_conn **ret)
{
    _cleanup_close_ int fd = -EBADF;
    struct client_conn *c;
    int r;

    if (!path)
        path = getenv(SENTRY_ENV_SOCKET);
    if (isempty(path))
        path = SENTRY_SOCKET_DEFAULT;
    r = unix_connect(path, &fd);
    if (r < 0)
        return r;

    c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->tok = json_tokener_new_ex(32);
    if (!c->tok) {
        free(c);
        return -ENOMEM;
    }
    c->fd = TAKE_FD(fd);
    c->next_id = 1;
    c->timeout_ms = -1;
    line_buffer_init(&c->in, SENTRY_LINE_MAX);
    *ret = c;
    return 0;
}

struct client_conn *client_conn_free(struct client_conn *c)
{
    if (!c)
        return NULL;
    if (c->fd >= 0)
        close(c->fd);
    line_buffer_done(&c->in);
    json_tokener_free(c->tok);
    free(c);
    return NULL;
}

int client_conn_fd(const struct client_conn *c)
{
    return c->fd;
}

int client_conn_set_timeout(struct client_conn *c, usec_t timeout)
{
    struct timeval tv = {.tv_sec = (time_t) (timeout / USEC_PER_SEC),
                         .tv_usec = (suseconds_t) (timeout % USEC_PER_SEC)};
    /* poll() takes milliseconds: at least 1 (0 would not wait at all), at most INT_MAX. */
    c->timeout_ms = timeout ? (int) CLAMP(timeout / USEC_PER_MSEC, 1, (usec_t) INT_MAX) : -1;
    if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
        setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
        return -errno;
    return 0;
}

void client_conn_set_stream_cb(struct client_conn *c, client_stream_cb cb, void *userdata)
{
    c->stream_cb = cb;
    c->stream_userdata = userdata;
}

/* Sends all of buf. A non-blocking connection waits in poll() for room, up to the timeout;
 * SO_SNDTIMEO makes a blocking one give up with EAGAIN, which becomes -ETIMEDOUT. */
static int client_conn_send_all(struct client_conn *c, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN) /* EWOULDBLOCK is EAGAIN on Linux */
                return -errno;
            if (!c->nonblocking)
                return -ETIMEDOUT;
            struct pollfd p = {.fd = c->fd, .events = POLLOUT};
            int k = poll(&p, 1, c->timeout_ms);
            if (k < 0 && errno != EINTR)
                return -errno;
            if (k == 0)
                return -ETIMEDOUT;
            continue;
        }
        c->request_sent = true;
        buf += n;
        len -= (size_t) n;
    }
    return 0;
}

bool client_conn_request_sent(const struct client_conn *c)
{
    return c->request_sent;
}

int client_conn_send(struct client_conn *c, json_object *msg)
{
    size_t len;
    const char *s = json_object_to_json_string_length(
        msg, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    _cleanup_free_ char *line = NULL;

    if (!s)
        return -ENOMEM;
    if (len > SENTRY_LINE_MAX)
        return -EMSGSIZE;
    line = malloc(len + 1);
    if (!line)
        return -ENOMEM;
    memcpy(line, s, len);
    line[len] = '\n';
    c->request_sent = false;
    return client_conn_send_all(c, line, len + 1);
}

/* The next complete line already received, as a JSON object: 1 and *ret, 0 when none is
 * complete, -EPROTO for a line that is too long or not an object. */
static int next_message(struct client_conn *c, json_object **ret)
{
    char *line;
    size_t len;
    int r = line_buffer_next(&c->in, &line, &len);

    if (r == -EMSGSIZE)
        return -EPROTO;
    if (r <= 0)
        return r;
    json_tokener_reset(c->tok);
    json_object *o = json_tokener_parse_ex(c->tok, line, (int) len);
    if (!o || json_tokener_get_error(c->tok) != json_tokener_success ||
        !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        return -EPROTO;
    }
    *ret = o;
    return 1;
}

int client_conn_read(struct client_conn *c, json_object **ret)
{
    for (;;) {
        int r = next_message(c, ret);
        if (r != 0)
            return r < 0 ? r : 0;
        ssize_t n = line_buffer_fill(&c->in, c->fd);
        if (n == 0)
            return -EPIPE;
        if (n == -EINTR)
            return -EINTR; /* the caller decides whether a signal ends the wait */
        if (n == -EAGAIN && c->nonblocking) {
            /* A subscription made the socket non-blocking: wait here. */
            struct pollfd p = {.fd = c->fd, .events = POLLIN};
            int k = poll(&p, 1, c->timeout_ms);
            if (k == 0)
                return -ETIMEDOUT;
            if (k < 0)
                return -errno;
            continue;
        }
        if (n < 0)
            return n == -EAGAIN ? -ETIMEDOUT : (int) n;
    }
}

int client_conn_set_nonblocking(struct client_conn *c)
{
    int r = fd_set_nonblock(c->fd, 1);
    if (r >= 0)
        c->nonblocking = true;
    return r;
}

int client_conn_read_available(struct client_conn *c, client_stream_cb fn, void *userdata)
{
    int n = 0;

    for (;;) {
        json_object *o = NULL;
        int r = next_message(c, &o);
        if (r < 0)
            return r;
        if (r > 0) {
            fn(o, userdata);
            json_object_put(o);
            n++;
            continue;
        }
        if (n > 0)
            return n;
        ssize_t k = line_buffer_fill(&c->in, c->fd);
        if (k == 0)
            return -EPIPE;
        if (k == -EAGAIN || k == -EINTR)
            return 0;
        if (k < 0)
            return (int) k;
    }
}

/* Reply {"id":N,"ok":bool,"result":...,"error":{"code":"EPERM","message":"..."}}. */
static int client_conn_parse_reply(json_object *reply, json_object **ret_result, char **ret_message)
{
    json_object *ok, *v;

    if (!json_object_object_get_ex(reply, "ok", &ok) || !json_object_is_type(ok, json_type_boolean))
        return -EPROTO;
    if (json_object_get_boolean(ok)) {
        if (ret_result) {
            *ret_result =
                json_object_object_get_ex(reply, "result", &v) ? json_object_get(v) : NULL;
        }
        return 0;
    }
    json_object *err = NULL, *code = NULL, *msg = NULL;
    if (!json_object_object_get_ex(reply, "error", &err) ||
        !json_object_is_type(err, json_type_object))
        return -EPROTO;
    json_object_object_get_ex(err, "code", &code);
    json_object_object_get_ex(err, "message", &msg);
    if (ret_message && msg)
        *ret_message = strdup(json_object_get_string(msg));
    int e = errno_from_name(code ? json_object_get_string(code) : NULL);
    return e > 0 ? -e : -EREMOTEIO;
}

int client_conn_call(struct client_conn *c, const char *verb, json_object *args,
                     json_object **ret_result, char **ret_message)
{
    json_object *req = json_object_new_object();
    uint64_t id = c->next_id++;
    int r;

    if (ret_result)
        *ret_result = NULL;
    if (ret_message)
        *ret_message = NULL;
    if (!req)
        return -ENOMEM;
    json_object_object_add(req, "id", json_object_new_uint64(id));
    json_object_object_add(req, "verb", json_object_new_string(verb));
    if (args) {
        json_object_object_foreach(args, k, v)
        {
            json_object_object_add(req, k, json_object_get(v));
        }
    }
    r = client_conn_send(c, req);
    json_object_put(req);
    if (r < 0)
        return r;

    for (;;) {
        json_object *msg = NULL, *rid;
        r = client_conn_read(c, &msg);
        if (r == -EINTR)
            continue;
        if (r < 0)
            return r;
        if (json_object_object_get_ex(msg, "id", &rid) && json_object_is_type(rid, json_type_int) &&
            json_object_get_uint64(rid) == id) {
            r = client_conn_parse_reply(msg, ret_result, ret_message);
            json_object_put(msg);
            return r;
        }
        if (c->stream_cb)
            c->stream_cb(msg, c->stream_userdata);
        json_object_put(msg);
    }
}
