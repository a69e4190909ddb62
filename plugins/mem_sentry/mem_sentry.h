/* mem_sentry.h: the plugin at run time (docs/plugins/mem_sentry.md). One thread: the kernel's RAS
 * events from a private trace instance (trace_reader.h, mem_events.h) go through the policy
 * (mem_policy.h); its decisions become page offlines that are verified (page_offline.h), kept
 * (offline_state.h) and retried, and alarms 1001 (mem_alarm.c). */
#pragma once

#include <sentry/sentry.h>
#include <stdbool.h>
#include <stdint.h>

#include "cpu_policy.h"
#include "mem_config.h"
#include "mem_events.h"
#include "mem_policy.h"
#include "offline_state.h"
#include "page_offline.h"

#define MEM_DIMMS_SHOWN   256 /* DIMMs / controller channels with their counts, for the view */
#define MEM_PAGES_SHOWN   64  /* pages over their threshold, for the view */
#define MEM_RETRIES_MAX   256 /* offlines waiting for another try */
#define MEM_BATCH_MAX     512 /* events of one read, held to pair SIGBUS with memory failures */
#define MEM_LABEL_MAX     64
#define MEM_POISONED_KEPT 4096 /* pages poisoned by the kernel, kept beyond the budget's */

struct mem_dimm_stat {
    struct mem_key key;
    char name[48];             /* "mc0 1:0:-1" or "socket 0 bank 7 channel 1" */
    char label[MEM_LABEL_MAX]; /* the kernel's DIMM label, when it gives one */
    uint64_t corrected, uncorrected;
    bool crossed;
};

struct mem_page_stat {
    uint64_t pfn;
    const char *state; /* "over threshold", "offlined", "offline failed", "refused" */
};

struct mem_counts {
    uint64_t events, corrected, uncorrected, lost, offlined, offline_failed, refused, storms,
        killed, cpu_corrected, cpus_offlined, alarms_failed;
    uint64_t hardware_corrupted_kb;
};

struct mem_sentry {
    struct mem_config cfg;
    struct mem_policy policy;
    bool policy_ok;
    struct cpu_policy cpu;
    sentry_client *client;
    const char *task;
    char node[256];
    unsigned page_size, page_shift;
    struct page_offline_roots roots;
    struct trace_reader *reader;
    bool source_on[_MEM_EVENT_KIND_MAX];
    struct offline_state offlined;
    struct page_offline_retry retries[MEM_RETRIES_MAX];
    size_t n_retries;
    struct mem_dimm_stat dimms[MEM_DIMMS_SHOWN];
    size_t n_dimms;
    struct mem_page_stat pages[MEM_PAGES_SHOWN];
    size_t n_pages;
    struct mem_counts counts;
    struct mem_event batch[MEM_BATCH_MAX];
    uint64_t batch_ts[MEM_BATCH_MAX];
    size_t n_batch;
    bool view_dirty;
};

/* The clock the policy runs on (CLOCK_MONOTONIC, ns). */
uint64_t mem_now_ns(void);

/* Alarms (mem_alarm.c): each kind once, with its level and type. */
enum mem_alarm_kind {
    MEM_ALARM_CE_THRESHOLD,
    MEM_ALARM_CE_RECOVER,
    MEM_ALARM_PAGE_OFFLINED,
    MEM_ALARM_OFFLINE_FAILED,
    MEM_ALARM_BUDGET_SPENT,
    MEM_ALARM_STORM,
    MEM_ALARM_STORM_END,
    MEM_ALARM_CORRUPTED_OVER,
    MEM_ALARM_CORRUPTED_UNDER,
    MEM_ALARM_UNCORRECTED,
    MEM_ALARM_DEFERRED,
    MEM_ALARM_MEMORY_FAILURE,
    MEM_ALARM_PROCESS_KILLED,
    MEM_ALARM_OTHER_ERROR, /* arm, non-standard, AER: level by severity */
    MEM_ALARM_EVENTS_LOST,
    MEM_ALARM_CPU_THRESHOLD, /* a CPU's corrected errors past [cpu] threshold (and its offline) */
    MEM_ALARM_CPU_RECOVER,
    _MEM_ALARM_KIND_MAX,
};
struct json_object;
/* A JSON object with alarm_source, event (the kind's name) and node. */
struct json_object *mem_alarm_text(struct mem_sentry *m, enum mem_alarm_kind k);
/* Reports kind about key with text (taken). level 0: the kind's own. -errno when not stored. */
int mem_alarm(struct mem_sentry *m, enum mem_alarm_kind k, int level, const char *key,
              struct json_object *text);
const char *mem_alarm_kind_to_string(enum mem_alarm_kind k);

/* Events and decisions (mem_run.c). */
int mem_run_open_source(struct mem_sentry *m);
/* Reads what the trace instance holds and acts on it; -errno when the source broke (it is off). */
int mem_run_read(struct mem_sentry *m);
/* Periodic: policy tick, HardwareCorrupted, retries due. */
void mem_run_tick(struct mem_sentry *m);
/* At start: every page of the state file offlined again. */
void mem_run_reoffline(struct mem_sentry *m);
/* One parsed event (taken), as if read at now_ns; also the entry point of byte-exact records. */
void mem_run_event(struct mem_sentry *m, struct mem_event *ev, uint64_t now_ns);
/* The earliest retry due time, or UINT64_MAX. */
uint64_t mem_run_next_retry(const struct mem_sentry *m);

/* The task result's details: sources, counts, DIMMs, pages, offlined pages (mem_view.c). */
struct json_object *mem_view(struct mem_sentry *m);
