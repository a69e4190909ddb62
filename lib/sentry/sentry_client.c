/* sentry_client.c: libsentry's connection, result and heartbeat calls (sentry.h), and getting a
 * new connection when sentryd went away (sentry_client_private.h says when). */
#include <stdlib.h>
#include <string.h>

#include "client_conn.h"
#include "macro.h"
#include "names.h"
#include "sentry/sentry.h"
#include "sentry_client_private.h"

/* A new connection for c, with the client's stream callback. */
static int sentry_client_open(sentry_client *c, struct client_conn **ret)
{
    int r = client_conn_open(c->path, ret);
    if (r < 0)
        return r;
    client_conn_set_stream_cb(*ret, sentry_client_on_stream_message, c);
    return 0;
}

_public_ int sentry_connect(const char *path, sentry_client **ret)
{
    sentry_client *c;
    int r;

    assert_return(ret, -EINVAL);
    c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    if (path) {
        c->path = strdup(path);
        if (!c->path) {
            free(c);
            return -ENOMEM;
        }
    }
    r = sentry_client_open(c, &c->conn);
    if (r < 0) {
        free(c->path);
        free(c);
        return r;
    }
    *ret = c;
    return 0;
}

_public_ sentry_client *sentry_close(sentry_client *c)
{
    if (!c)
        return NULL;
    client_conn_free(c->conn);
    free(c->path);
    free(c->error_message);
    free(c);
    return NULL;
}

_public_ const char *sentry_error_message(const sentry_client *c)
{
    return c ? c->error_message : NULL;
}

_public_ const char *sentry_task_name(void)
{
    const char *n = getenv(SENTRY_ENV_TASK);
    return task_name_is_valid(n) ? n : NULL;
}

bool sentry_client_error_is_lost(int r)
{
    return r == -EPIPE || r == -ECONNRESET || r == -ENOTCONN;
}

int sentry_client_lose(sentry_client *c, int r)
{
    c->lost = r;
    c->subscribed = false;
    return r;
}

int sentry_client_reconnect(sentry_client *c)
{
    struct client_conn *n = NULL;
    int r;

    if (!c->lost)
        return 0;
    r = sentry_client_open(c, &n);
    if (r < 0)
        return r;
    /* The old descriptor is closed only now: a program that polls it sees it end, and is told
     * by the call's result (or sentry_fd()) that there is a new one. */
    client_conn_free(c->conn);
    c->conn = n;
    c->lost = 0;
    c->subscribed = false;
    c->stop = false;
    return 0;
}

int sentry_client_call(sentry_client *c, const char *verb, json_object *args, bool resend,
                       json_object **ret)
{
    bool fresh = c->lost != 0;
    int r;

    free(c->error_message);
    c->error_message = NULL;
    /* Lost by an earlier call: connect again first, once. */
    r = sentry_client_reconnect(c);
    if (r < 0)
        return r;
    r = client_conn_call(c->conn, verb, args, ret, &c->error_message);
    if (!sentry_client_error_is_lost(r))
        return r;
    sentry_client_lose(c, r);
    /* Lost during this call: one more try on a new connection, when the request cannot be
     * carried out twice (it never left, or the verb does not mind). A connection made in this
     * call is not given up on a second time. */
    if (fresh || (!resend && client_conn_request_sent(c->conn)))
        return r;
    if (sentry_client_reconnect(c) < 0)
        return r; /* sentryd is not back yet: the loss is the answer; the next call tries again */
    r = client_conn_call(c->conn, verb, args, ret, &c->error_message);
    if (sentry_client_error_is_lost(r))
        sentry_client_lose(c, r);
    return r;
}

/* The task name argument or the one from the environment, validated. */
static const char *task_or_env(const char *task)
{
    if (!task)
        task = sentry_task_name();
    return task_name_is_valid(task) ? task : NULL;
}

_public_ int sentry_result(sentry_client *c, const char *task, enum sentry_result_level level,
                           const char *details_json)
{
    _cleanup_(json_object_putp) json_object *args = NULL;
    json_object *details = NULL;
    const char *name;

    assert_return(c, -EINVAL);
    assert_return(sentry_result_level_to_string(level), -EINVAL);
    name = task_or_env(task);
    assert_return(name, -EINVAL);

    if (details_json) {
        details = json_tokener_parse(details_json);
        /* A JSON string that holds an object is accepted, as the reference does. */
        if (details && json_object_is_type(details, json_type_string)) {
            json_object *inner = json_tokener_parse(json_object_get_string(details));
            json_object_put(details);
            details = inner;
        }
        if (!details || !json_object_is_type(details, json_type_object)) {
            json_object_put(details);
            return -EINVAL;
        }
    }
    args = json_object_new_object();
    if (!args) {
        json_object_put(details);
        return -ENOMEM;
    }
    json_object_object_add(args, "task", json_object_new_string(name));
    json_object_object_add(args, "result",
                           json_object_new_string(sentry_result_level_to_string(level)));
    json_object_object_add(args, "details", details ? details : json_object_new_object());
    /* The last result is what sentryd keeps: the same one twice changes nothing. */
    return sentry_client_call(c, "result", args, true, NULL);
}

_public_ int sentry_heartbeat(sentry_client *c, const char *task)
{
    _cleanup_(json_object_putp) json_object *args = NULL;
    const char *name;

    assert_return(c, -EINVAL);
    name = task_or_env(task);
    assert_return(name, -EINVAL);
    args = json_object_new_object();
    if (!args)
        return -ENOMEM;
    json_object_object_add(args, "task", json_object_new_string(name));
    return sentry_client_call(c, "heartbeat", args, true, NULL);
}
