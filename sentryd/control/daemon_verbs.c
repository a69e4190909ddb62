/* daemon_verbs.c: verbs about sentryd itself: hello (protocol handshake and verb list). */
#include "daemon.h"
#include "sentry-build-config.h"
#include "sentry/sentry.h"

static const struct verb *const *all_verb_tables(void);

static int verb_hello(struct request *r)
{
    struct daemon *d = r->userdata;
    json_object *res = json_object_new_object(), *verbs = json_object_new_array();

    json_object_object_add(res, "server", json_object_new_string("sentryd"));
    json_object_object_add(res, "version", json_object_new_string(SENTRY_VERSION));
    json_object_object_add(res, "protocol", json_object_new_int(SENTRY_PROTOCOL_VERSION));
    json_object_object_add(res, "node", json_object_new_string(d->config.node));
    json_object_object_add(res, "uid", json_object_new_int64((int64_t) request_uid(r)));
    for (const struct verb *const *t = all_verb_tables(); *t; t++)
        for (const struct verb *v = *t; v->name; v++) {
            json_object *o = json_object_new_object();
            json_object_object_add(o, "name", json_object_new_string(v->name));
            json_object_object_add(o, "root_only", json_object_new_boolean(v->flags & VERB_ROOT));
            json_object_object_add(o, "summary", json_object_new_string(v->summary));
            json_object_array_add(verbs, o);
        }
    json_object_object_add(res, "verbs", verbs);
    return request_reply(r, res);
}

const struct verb daemon_verbs[] = {
    {"hello", verb_hello, 0, "protocol version, server version, node name, the verbs"},
    {NULL, NULL, 0, NULL},
};

static const struct verb *const verb_tables[] = {daemon_verbs, task_verbs, alarm_verbs,
                                                 io_verbs,     set_verbs,  NULL};

static const struct verb *const *all_verb_tables(void)
{
    return verb_tables;
}

const struct verb *const *daemon_verb_tables(void)
{
    return verb_tables;
}
