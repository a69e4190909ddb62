/* memcg_events.h: the event counters of a memory cgroup and what changed between two reads.
 * cgroup v2 memory.events ("low N", "high N", "max N", "oom N", "oom_kill N", ...) and cgroup
 * v1 memory.oom_control ("oom_kill_disable 0", "under_oom 0", "oom_kill N") are both
 * "name value" lines; one table says which names matter. Pure: no file is opened here. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum memcg_counter {
    MEMCG_HIGH,      /* v2: usage passed memory.high (throttled, reclaimed) */
    MEMCG_MAX,       /* v2: usage hit memory.max (an allocation had to reclaim or fail) */
    MEMCG_OOM,       /* v2: the cgroup ran out of memory */
    MEMCG_OOM_KILL,  /* v2 and v1 (4.13+): processes the OOM killer killed in it */
    MEMCG_UNDER_OOM, /* v1: 1 while the cgroup is out of memory (a state, not a counter) */
    _MEMCG_COUNTER_MAX,
};
const char *memcg_counter_to_string(enum memcg_counter c);

struct memcg_events {
    bool has[_MEMCG_COUNTER_MAX];
    uint64_t value[_MEMCG_COUNTER_MAX];
};

/* Parses memory.events or memory.oom_control text (len bytes). Unknown names are skipped (the
 * kernel adds some over time); a line that is not "name decimal", or a name twice, is -EBADMSG;
 * so is a text where no counter of ours appears. */
int memcg_events_parse(const char *text, size_t len, struct memcg_events *ret);

/* What grew from old to now. A counter that went down (the cgroup was removed and made again
 * with the same path) counts from 0. under_oom is "grown" when it turned to 1. */
struct memcg_delta {
    bool grew[_MEMCG_COUNTER_MAX];
    uint64_t by[_MEMCG_COUNTER_MAX];
    bool any;
};
void memcg_events_delta(const struct memcg_events *old, const struct memcg_events *now,
                        struct memcg_delta *ret);
