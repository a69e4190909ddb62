/* xalarm_register_msg.h: one message a client sends on the xalarm alarm socket (the reference's
 * register_events / unregister_events / update_filter), checked member by member. Pure: the
 * server decides what to do with it. */
#pragma once

#include <stdbool.h>

#include "json_util.h"
#include "xalarm_ids.h"

enum xalarm_msg_action {
    XALARM_MSG_OTHER, /* an action this version does not know: ignored, as the reference does */
    XALARM_MSG_REGISTER,
    XALARM_MSG_UNREGISTER,
    XALARM_MSG_UPDATE,
};

struct xalarm_register_msg {
    enum xalarm_msg_action action;
    bool has_filter;             /* "id_filter" was given (not null) */
    struct xalarm_id_set ids;    /* its ids, when has_filter (not read when unregistering) */
    unsigned ignored;            /* its elements wholly outside 1001..1128 */
    bool has_events;             /* "event_ids" was given (not null) */
    struct xalarm_id_set events; /* its ids (those outside 1001..1128 left out) */
};

/* Reads msg into *ret. -EBADMSG / -EINVAL with *why (a static string) when a member has the
 * wrong type or value: not an object, "action" not a string, "event_ids" / "id_filter" not
 * arrays of ids, update_filter without "id_filter". */
int xalarm_register_msg_parse(json_object *msg, struct xalarm_register_msg *ret, const char **why);
