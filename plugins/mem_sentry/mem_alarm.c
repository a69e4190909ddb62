/* mem_alarm.c: the kinds of memory alarm (all id 1001, the reference's memory alarm), each
 * declared once here with its level and type, and the one way mem_sentry reports them. */
#include <json-c/json.h>
#include <stdio.h>

#include "json_util.h"
#include "log.h"
#include "mem_sentry.h"

struct mem_alarm_def {
    const char *event; /* "event" in the alarm's text */
    int level;
    int type;
};

static const struct mem_alarm_def defs[_MEM_ALARM_KIND_MAX] = {
    /* a page, row, DIMM or socket past its corrected-error threshold */
    [MEM_ALARM_CE_THRESHOLD] = {"ce_threshold", SENTRY_ALARM_MINOR, SENTRY_ALARM_OCCUR},
    /* and its bucket drained since */
    [MEM_ALARM_CE_RECOVER] = {"ce_threshold", SENTRY_ALARM_MINOR, SENTRY_ALARM_RECOVER},
    /* a page offlined, its hwpoison bit read back */
    [MEM_ALARM_PAGE_OFFLINED] = {"page_offlined", SENTRY_ALARM_MINOR, SENTRY_ALARM_OCCUR},
    /* an offline refused or without effect: retried with backoff */
    [MEM_ALARM_OFFLINE_FAILED] = {"page_offline_failed", SENTRY_ALARM_MAJOR, SENTRY_ALARM_OCCUR},
    /* the isolation budget is spent: this page stays in use */
    [MEM_ALARM_BUDGET_SPENT] = {"offline_budget_spent", SENTRY_ALARM_MAJOR, SENTRY_ALARM_OCCUR},
    /* corrected errors faster than the storm threshold: one alarm for all */
    [MEM_ALARM_STORM] = {"ce_storm", SENTRY_ALARM_MAJOR, SENTRY_ALARM_OCCUR},
    [MEM_ALARM_STORM_END] = {"ce_storm", SENTRY_ALARM_MAJOR, SENTRY_ALARM_RECOVER},
    /* HardwareCorrupted of /proc/meminfo past its limit, and back */
    [MEM_ALARM_CORRUPTED_OVER] = {"hardware_corrupted", SENTRY_ALARM_MAJOR, SENTRY_ALARM_OCCUR},
    [MEM_ALARM_CORRUPTED_UNDER] = {"hardware_corrupted", SENTRY_ALARM_MAJOR, SENTRY_ALARM_RECOVER},
    /* an uncorrected memory error (machine check, EDAC, firmware log) */
    [MEM_ALARM_UNCORRECTED] = {"uncorrected", SENTRY_ALARM_CRITICAL, SENTRY_ALARM_OCCUR},
    /* a deferred error: not consumed yet */
    [MEM_ALARM_DEFERRED] = {"deferred", SENTRY_ALARM_MAJOR, SENTRY_ALARM_OCCUR},
    /* the kernel's memory-failure handling of a poisoned page, with the processes it killed */
    [MEM_ALARM_MEMORY_FAILURE] = {"memory_failure", SENTRY_ALARM_CRITICAL, SENTRY_ALARM_OCCUR},
    /* a process killed (SIGBUS) for touching corrupted memory */
    [MEM_ALARM_PROCESS_KILLED] = {"process_killed", SENTRY_ALARM_CRITICAL, SENTRY_ALARM_OCCUR},
    /* an ARM processor error, a non-standard CPER section, a PCIe AER error */
    [MEM_ALARM_OTHER_ERROR] = {"hardware_error", SENTRY_ALARM_MINOR, SENTRY_ALARM_OCCUR},
    /* the kernel dropped records of the trace instance (its ring was full) */
    [MEM_ALARM_EVENTS_LOST] = {"events_lost", SENTRY_ALARM_MAJOR, SENTRY_ALARM_OCCUR},
    /* a CPU's corrected errors (not memory) past their threshold, with its offline if asked */
    [MEM_ALARM_CPU_THRESHOLD] = {"cpu_ce_threshold", SENTRY_ALARM_MAJOR, SENTRY_ALARM_OCCUR},
    [MEM_ALARM_CPU_RECOVER] = {"cpu_ce_threshold", SENTRY_ALARM_MAJOR, SENTRY_ALARM_RECOVER},
};

const char *mem_alarm_kind_to_string(enum mem_alarm_kind k)
{
    return k >= 0 && k < _MEM_ALARM_KIND_MAX ? defs[k].event : NULL;
}

json_object *mem_alarm_text(struct mem_sentry *m, enum mem_alarm_kind k)
{
    json_object *o = json_object_new_object();

    if (!o)
        return NULL;
    json_object_object_add(o, "alarm_source", json_object_new_string("mem_sentry"));
    json_object_object_add(o, "event", json_object_new_string(defs[k].event));
    json_object_object_add(o, "node", json_object_new_string(m->node));
    return o;
}

int mem_alarm(struct mem_sentry *m, enum mem_alarm_kind k, int level, const char *key,
              json_object *text)
{
    _cleanup_json_ json_object *t = text;
    uint64_t seq = 0;
    int r;

    if (!t)
        return log_oom();
    const char *s = json_plain(t, NULL);
    struct sentry_alarm a = {
        .id = SENTRY_ALARM_ID_MEMORY,
        .level = level ? level : defs[k].level,
        .type = defs[k].type,
        .key = key,
        .text = s,
    };
    r = sentry_report(m->client, &a, &seq);
    if (r < 0) {
        m->counts.alarms_failed++;
        return log_warning_errno(r, "cannot report alarm 1001 (%s): %m (%s)", s,
                                 strna(sentry_error_message(m->client)));
    }
    log_info("alarm 1001 seq %llu: %s", (unsigned long long) seq, s);
    return 0;
}
