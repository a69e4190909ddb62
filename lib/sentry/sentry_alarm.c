/* sentry_alarm.c: libsentry's alarm calls: sentry_report() and subscriptions. A subscription
 * lives on the client's connection: when sentryd goes away, sentry_dispatch() / sentry_run()
 * return the loss and the program subscribes again from sentry_last_seq(), which reconnects. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "alarm_vocab.h"
#include "client_conn.h"
#include "macro.h"
#include "names.h"
#include "sentry/sentry.h"
#include "sentry_client_private.h"

/* A level or type name from sentryd, or -1 for one this library does not know. */
static int known_or_minus_one(int r)
{
    return r < 0 ? -1 : r;
}

_public_ int sentry_report(sentry_client *c, const struct sentry_alarm *alarm, uint64_t *seq)
{
    _cleanup_json_ json_object *args = NULL, *res = NULL;
    json_object *a, *v;
    const char *source;
    int r;

    assert_return(c && alarm, -EINVAL);
    assert_return(alarm->id > 0, -EINVAL);
    assert_return(alarm->level >= SENTRY_ALARM_MINOR && alarm->level <= SENTRY_ALARM_CRITICAL,
                  -EINVAL);
    assert_return(alarm->type == SENTRY_ALARM_OCCUR || alarm->type == SENTRY_ALARM_RECOVER,
                  -EINVAL);
    assert_return(!alarm->text || strlen(alarm->text) <= SENTRY_ALARM_TEXT_MAX, -EINVAL);
    source = alarm->source ? alarm->source : sentry_task_name();
    assert_return(!source || task_name_is_valid(source), -EINVAL);

    args = json_object_new_object();
    a = json_object_new_object();
    if (!args || !a) {
        json_object_put(a);
        return -ENOMEM;
    }
    json_object_object_add(a, "id", json_object_new_int(alarm->id));
    json_object_object_add(a, "level", json_object_new_string(alarm_level_to_string(alarm->level)));
    json_object_object_add(a, "type", json_object_new_string(alarm_type_to_string(alarm->type)));
    json_object_object_add(a, "text", json_object_new_string(alarm->text ? alarm->text : ""));
    if (source)
        json_object_object_add(a, "source", json_object_new_string(source));
    if (!isempty(alarm->key))
        json_object_object_add(a, "key", json_object_new_string(alarm->key));
    if (alarm->time_usec)
        json_object_object_add(a, "time", json_object_new_int64((int64_t) alarm->time_usec));
    json_object_object_add(args, "alarm", a);
    /* Sent again on a new connection only when it never left: a report that sentryd may have
     * stored must not be stored twice. */
    r = sentry_client_call(c, "report", args, false, &res);
    if (r < 0)
        return r;
    if (seq)
        *seq = res && json_object_object_get_ex(res, "seq", &v) ? json_object_get_uint64(v) : 0;
    return 0;
}

static const char *member_str(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : "";
}

/* {"seq":N,"alarm":{...}} -> callback. Other lines (answers) are ignored here. */
void sentry_client_on_stream_message(json_object *msg, void *userdata)
{
    sentry_client *c = userdata;
    json_object *a, *v;

    if (c->stop || !c->alarm_fn || !json_object_object_get_ex(msg, "alarm", &a) ||
        !json_object_is_type(a, json_type_object))
        return;
    struct sentry_alarm al = {
        .seq = json_object_object_get_ex(a, "seq", &v) ? json_object_get_uint64(v) : 0,
        .id = (uint16_t) (json_object_object_get_ex(a, "id", &v) ? json_object_get_int(v) : 0),
        .level = known_or_minus_one(alarm_level_from_string(member_str(a, "level"))),
        .type = known_or_minus_one(alarm_type_from_string(member_str(a, "type"))),
        .time_usec = json_object_object_get_ex(a, "time", &v) ? json_object_get_uint64(v) : 0,
        .source = member_str(a, "source"),
        .key = member_str(a, "key"),
        .node = member_str(a, "node"),
        .origin = member_str(a, "origin"),
        .text = member_str(a, "text"),
        .injected = json_object_object_get_ex(a, "injected", &v) && json_object_get_boolean(v),
    };
    c->last_seq = al.seq;
    if (c->alarm_fn(&al, c->alarm_userdata) < 0)
        c->stop = true;
}

_public_ int sentry_subscribe(sentry_client *c, const struct sentry_filter *filter, uint64_t since,
                              sentry_alarm_fn fn, void *userdata)
{
    _cleanup_json_ json_object *args = json_object_new_object(), *res = NULL;
    json_object *v;
    int r;

    assert_return(c && fn, -EINVAL);
    if (!args)
        return -ENOMEM;
    if (filter) {
        if (filter->ids)
            json_object_object_add(args, "ids", json_object_new_string(filter->ids));
        if (filter->min_level)
            json_object_object_add(args, "min_level", json_object_new_int(filter->min_level));
        if (filter->sources) {
            json_object *s = json_object_new_array();
            for (const char *const *p = filter->sources; *p; p++)
                json_object_array_add(s, json_object_new_string(*p));
            json_object_object_add(args, "sources", s);
        }
        if (filter->types) {
            json_object *t = json_object_new_array();
            for (int i = SENTRY_ALARM_OCCUR; i <= SENTRY_ALARM_RECOVER; i++)
                if (filter->types & (1u << i))
                    json_object_array_add(t, json_object_new_string(alarm_type_to_string(i)));
            json_object_object_add(args, "types", t);
        }
    }
    if (since != SENTRY_SINCE_NOW)
        json_object_object_add(args, "since", json_object_new_uint64(since));
    c->alarm_fn = fn;
    c->alarm_userdata = userdata;
    c->last_seq = since == SENTRY_SINCE_NOW ? 0 : since;
    c->stop = false;
    /* Alarms that arrive while later calls wait for their answer still reach fn (every
     * connection of the client has the stream callback). A lost connection is replaced first;
     * the request is sent again only when it never left. */
    r = sentry_client_call(c, "subscribe", args, false, &res);
    if (r < 0)
        return r;
    c->subscribed = true;
    /* Without since, the subscription starts after head: resuming from there misses nothing. */
    if (since == SENTRY_SINCE_NOW && res && json_object_object_get_ex(res, "head", &v))
        c->last_seq = MAX(c->last_seq, json_object_get_uint64(v));
    return client_conn_set_nonblocking(c->conn);
}

_public_ int sentry_fd(const sentry_client *c)
{
    assert_return(c, -EINVAL);
    return client_conn_fd(c->conn);
}

/* The subscription's state before reading: the loss that ended it, or -ENOTCONN when the
 * client's connection has none (it was replaced after a loss). */
static int sentry_subscription_check(const sentry_client *c)
{
    if (c->lost)
        return c->lost;
    return c->subscribed ? 0 : -ENOTCONN;
}

_public_ int sentry_dispatch(sentry_client *c)
{
    int r;

    assert_return(c && c->alarm_fn, -EINVAL);
    r = sentry_subscription_check(c);
    if (r < 0)
        return r;
    r = client_conn_read_available(c->conn, sentry_client_on_stream_message, c);
    return sentry_client_error_is_lost(r) ? sentry_client_lose(c, r) : r;
}

_public_ int sentry_run(sentry_client *c)
{
    int r;

    assert_return(c && c->alarm_fn, -EINVAL);
    r = sentry_subscription_check(c);
    if (r < 0)
        return r;
    c->stop = false;
    while (!c->stop) {
        json_object *msg = NULL;
        r = client_conn_read(c->conn, &msg);
        if (r == -EINTR)
            continue;
        if (r < 0)
            return sentry_client_error_is_lost(r) ? sentry_client_lose(c, r) : r;
        sentry_client_on_stream_message(msg, c);
        json_object_put(msg);
    }
    return 0;
}

_public_ uint64_t sentry_last_seq(const sentry_client *c)
{
    return c ? c->last_seq : 0;
}
