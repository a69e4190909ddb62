/* alarm_stats.h: the bus's counters (main thread only), shown by `sentryctl stats` and written
 * to the node_exporter textfile. */
#pragma once

#include <stdint.h>

#include "alarm.h"

enum { STATS_NATIVE, STATS_XALARM, _STATS_KIND_MAX };

struct alarm_stats {
    uint64_t reported[_ALARM_ORIGIN_MAX]; /* accepted onto the bus */
    uint64_t rejected[_ALARM_ORIGIN_MAX]; /* refused as invalid */
    uint64_t filtered_xalarm;             /* dropped by [xalarm] id_mask */
    uint64_t committed;
    uint64_t commit_failed;
    uint64_t delivered[_STATS_KIND_MAX];   /* alarms written to subscribers */
    uint64_t caught_up[_STATS_KIND_MAX];   /* of those, read back from the store */
    uint64_t fell_behind[_STATS_KIND_MAX]; /* times a subscriber switched to the store */
    uint64_t by_level[ALARM_LEVEL_SLOTS];
    uint64_t by_id[SENTRY_ALARM_ID_MAX - SENTRY_ALARM_ID_MIN + 1];
    uint64_t by_id_other; /* ids outside 1001..1128 */
};

static inline void alarm_stats_count(struct alarm_stats *s, const struct alarm *a)
{
    s->committed++;
    if (a->level < ALARM_LEVEL_SLOTS)
        s->by_level[a->level]++;
    if (a->id >= SENTRY_ALARM_ID_MIN && a->id <= SENTRY_ALARM_ID_MAX)
        s->by_id[a->id - SENTRY_ALARM_ID_MIN]++;
    else
        s->by_id_other++;
}
