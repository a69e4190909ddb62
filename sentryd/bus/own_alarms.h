/* own_alarms.h: the alarms sentryd raises about itself. They come from source "sentryd" with ids
 * above the sysSentry range: 1129..1199 are kept for them (docs/alarms.md, "sentryd's own
 * alarms"), so native subscribers see them and xalarm clients, whose range ends at 1128, do not.
 * Each is stored and sent like any other alarm. */
#pragma once

#define SENTRYD_ALARM_SOURCE "sentryd"

enum sentryd_alarm_id {
    /* The alarm store lost alarms: moved aside as damaged, found emptied, or pages that cannot
     * be read. key says which ("damaged", "emptied", "unreadable"); text is a JSON object. */
    SENTRYD_ALARM_ID_STORE = 1129,
};
