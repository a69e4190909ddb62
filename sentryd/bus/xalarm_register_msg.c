/* xalarm_register_msg.c: see xalarm_register_msg.h. */
#include <string.h>

#include "macro.h"
#include "xalarm_record.h"
#include "xalarm_register_msg.h"

int xalarm_register_msg_parse(json_object *msg, struct xalarm_register_msg *ret, const char **why)
{
    json_object *action, *v;

    *ret = (struct xalarm_register_msg){0};
    if (!json_object_is_type(msg, json_type_object)) {
        *why = "a message must be a JSON object";
        return -EBADMSG;
    }
    if (!json_object_object_get_ex(msg, "action", &action) ||
        !json_object_is_type(action, json_type_string)) {
        *why = "'action' must be a string";
        return -EINVAL;
    }
    const char *a = json_object_get_string(action);
    ret->action = streq(a, XALARM_ACTION_REGISTER)     ? XALARM_MSG_REGISTER
                  : streq(a, XALARM_ACTION_UNREGISTER) ? XALARM_MSG_UNREGISTER
                  : streq(a, XALARM_ACTION_UPDATE)     ? XALARM_MSG_UPDATE
                                                       : XALARM_MSG_OTHER;
    if (ret->action == XALARM_MSG_OTHER)
        return 0;
    /* event_ids switch kernel reporting on and off (kernel_switch.h). The message's length
     * bounds how many elements there are; a set holds each id once however often it is named. */
    ret->has_events =
        json_object_object_get_ex(msg, "event_ids", &v) && !json_object_is_type(v, json_type_null);
    if (ret->has_events && xalarm_id_set_from_json(v, &ret->events, NULL, why) < 0) {
        *why = "'event_ids' must be an array of ids";
        return -EINVAL;
    }
    ret->has_filter =
        json_object_object_get_ex(msg, "id_filter", &v) && !json_object_is_type(v, json_type_null);
    if (ret->action == XALARM_MSG_UPDATE && !ret->has_filter) {
        *why = "'update_filter' needs 'id_filter'";
        return -EINVAL;
    }
    /* an unregistering client's filter no longer matters */
    if (ret->has_filter && ret->action != XALARM_MSG_UNREGISTER)
        return xalarm_id_set_from_json(v, &ret->ids, &ret->ignored, why);
    return 0;
}
