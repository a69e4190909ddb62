/* alarm_rate_limit.h: how many alarms one reporter may put on the bus: per (uid, source), at
 * most `burst` alarms per `interval` (ratelimit.h), the rest refused and counted. When a window
 * that refused alarms ends, the owner is handed a summary of them (how many, and the id, level,
 * type and key of the last one) to store as one record, "N alarms suppressed", as journald does
 * for log lines. Root and injected alarms are not limited: the bus decides whom to ask.
 *
 * The table holds at most ALARM_RATE_LIMIT_KEYS reporters; a key whose window is over and that
 * has nothing to report is forgotten. Pure: the caller gives the time (monotonic µs). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alarm.h"

#define ALARM_RATE_LIMIT_KEYS 1024

struct alarm_rate_limit;

/* The alarms one key refused in a window that is over. Strings valid during the callback. */
struct alarm_suppressed {
    uint32_t uid;
    const char *source;
    uint64_t count;
    uint64_t interval_us;
    unsigned burst;
    /* the last one refused */
    uint16_t id;
    uint8_t level, type, origin;
    const char *key;
};

typedef void (*alarm_suppressed_fn)(const struct alarm_suppressed *s, void *userdata);

/* burst or interval 0: nothing is limited. NULL on ENOMEM. */
struct alarm_rate_limit *alarm_rate_limit_new(unsigned burst, uint64_t interval_us);
struct alarm_rate_limit *alarm_rate_limit_free(struct alarm_rate_limit *rl);
bool alarm_rate_limit_enabled(const struct alarm_rate_limit *rl);

/* true: a may pass; false: it is refused and counted. When a's key had a window that ended with
 * refused alarms, fn gets their summary first, so it is stored before the alarm that passes. */
bool alarm_rate_limit_check(struct alarm_rate_limit *rl, const struct alarm *a, uint64_t now_us,
                            alarm_suppressed_fn fn, void *userdata);
/* Calls fn for every key whose window ended by now_us with refused alarms, and forgets keys
 * with nothing left to tell. Returns when the next window with refused alarms ends (0: none). */
uint64_t alarm_rate_limit_expire(struct alarm_rate_limit *rl, uint64_t now_us,
                                 alarm_suppressed_fn fn, void *userdata);
/* Alarms refused since the start. */
uint64_t alarm_rate_limit_suppressed_total(const struct alarm_rate_limit *rl);

/* The text of the summary record, a JSON object with "alarm_source" (so get_alarm and the
 * reference's consumers see whose it is), "suppressed", "burst", "interval_s" and "message".
 * Returns its length; the text is cut only if size is below ALARM_SUPPRESSED_TEXT_MAX. */
#define ALARM_SUPPRESSED_TEXT_MAX 2048
size_t alarm_suppressed_text(const struct alarm_suppressed *s, char *buf, size_t size);
