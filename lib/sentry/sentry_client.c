/* sentry_client.c: libsentry's connection, result and heartbeat calls (sentry.h). */
#include <stdlib.h>

#include "client_conn.h"
#include "macro.h"
#include "names.h"
#include "sentry/sentry.h"
#include "sentry_client_private.h"

_public_ int sentry_connect(const char *path, sentry_client **ret)
{
    sentry_client *c;
    int r;

    assert_return(ret, -EINVAL);
    c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    r = client_conn_open(path, &c->conn);
    if (r < 0) {
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

int sentry_client_call(sentry_client *c, const char *verb, json_object *args, json_object **ret)
{
    free(c->error_message);
    c->error_message = NULL;
    return client_conn_call(c->conn, verb, args, ret, &c->error_message);
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
    return sentry_client_call(c, "result", args, NULL);
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
    return sentry_client_call(c, "heartbeat", args, NULL);
}
