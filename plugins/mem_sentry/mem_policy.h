/* mem_policy.h: what to do about each corrected memory error, decided without any I/O.
 *
 * Each corrected error (CE) is counted in leaky buckets (leaky_bucket.h) at four levels: its
 * page, its row, its DIMM and its socket, each in a bounded table (mem_table.h). A level whose
 * bucket fills gives one THRESHOLD decision and stays latched until the bucket drains, which
 * gives RECOVER (mem_policy_tick()). A page that fills is instead offlined (OFFLINE, with the
 * configured action) while the isolation budget lasts, then REFUSED; with action "account" it is
 * a THRESHOLD like the others.
 *
 * Storms: all CEs also fill one storm bucket (storm threshold / window). When it fills the
 * policy says STORM_BEGIN once and stops taking new pages into the page table (those already
 * there, and the row, DIMM and socket levels, go on counting); when a whole storm window had
 * fewer than half the threshold it says STORM_END with the number of CEs the storm had. So memory
 * stays bounded and a storm is one alarm, not a million.
 *
 * The caller turns decisions into sysfs writes and alarms; nothing here reads a clock either:
 * times come in (ns, one monotonic clock) so that tests can play any history. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leaky_bucket.h"
#include "mem_config.h"
#include "mem_table.h"
#include "mem_vocab.h"

#define MEM_POLICY_MAX_DIMMS   4096
#define MEM_POLICY_MAX_SOCKETS 256

/* One corrected error record, as the event source decoded it. */
struct mem_ce_event {
    uint64_t phys_addr;
    bool addr_valid;     /* false: no page level for this record */
    bool row_valid;      /* row: the source packs controller, rank, bank and row */
    struct mem_key row;  /* into a key; the policy only compares them */
    bool dimm_valid;     /* dimm: memory controller and the DIMM's layer ids */
    struct mem_key dimm; /* likewise packed by the source */
    int32_t socket;      /* -1: unknown */
    uint32_t count;      /* errors the record stands for (ras:mc_event error_count); 0 is 1 */
};

enum mem_decision_kind {
    MEM_DECISION_THRESHOLD,       /* level's bucket filled: alarm */
    MEM_DECISION_RECOVER,         /* a latched level's bucket drained */
    MEM_DECISION_OFFLINE,         /* offline page pfn with action */
    MEM_DECISION_BUDGET_REFUSED,  /* page pfn should go offline, the budget is spent */
    MEM_DECISION_STORM_BEGIN,     /* CE storm: summary alarm */
    MEM_DECISION_STORM_END,       /* the storm is over; storm_events CEs in it */
    MEM_DECISION_CORRUPTED_OVER,  /* HardwareCorrupted passed its limit */
    MEM_DECISION_CORRUPTED_UNDER, /* and is back under it */
    _MEM_DECISION_KIND_MAX,
    _MEM_DECISION_KIND_INVALID = -EINVAL,
};
const char *mem_decision_kind_to_string(enum mem_decision_kind k); /* "threshold", ... */
int mem_decision_kind_from_string(const char *s);

struct mem_decision {
    enum mem_decision_kind kind;
    enum mem_level level;   /* THRESHOLD, RECOVER, OFFLINE, BUDGET_REFUSED */
    struct mem_key key;     /* the page (pfn in key.a), row, DIMM or socket (key.a) */
    enum mem_action action; /* OFFLINE: soft, hard or soft-then-hard */
    uint32_t level_count;   /* events in the bucket now */
    uint32_t total;         /* events since the entity was tracked */
    uint32_t threshold_n;   /* the threshold: n / window_s */
    uint64_t window_s;      /* (HardwareCorrupted: the limit in kB in threshold_n) */
    uint64_t storm_events;  /* STORM_*: CEs counted since the storm began */
    uint64_t corrupted_kb;  /* CORRUPTED_*: the value read */
};

/* Decisions of one event: at most storm, page, row, DIMM and socket. */
#define MEM_DECISIONS_MAX 6

struct mem_policy_stats {
    uint64_t events;          /* CE records */
    uint64_t offlined_pages;  /* OFFLINE decisions (the isolation budget spent) */
    uint64_t refused_pages;   /* BUDGET_REFUSED decisions */
    uint64_t storms;          /* STORM_BEGIN decisions */
    uint64_t storm_untracked; /* pages not taken into the table during storms */
};

struct mem_policy {
    struct mem_config cfg;
    unsigned page_size;
    struct leaky_rate rate[_MEM_LEVEL_MAX];
    struct mem_table table[_MEM_LEVEL_MAX]; /* only levels that are on */
    struct leaky_rate storm_rate;
    struct leaky_bucket storm_bucket; /* when to begin */
    bool storm;
    uint64_t storm_events;
    uint64_t storm_window_start_ns; /* during a storm: the current window ... */
    uint64_t storm_window_events;   /* ... and its CEs, to see the rate fall */
    bool corrupted_over;
    struct mem_policy_stats stats;
};

/* cfg is copied. page_size: the kernel's (sysconf(_SC_PAGESIZE)), a power of two. The thread
 * that calls the policy must be an RCU reader (mem_table.h). */
int mem_policy_init(struct mem_policy *p, const struct mem_config *cfg, unsigned page_size);
void mem_policy_done(struct mem_policy *p);

/* Accounts one CE at now; writes what to do to out (room for MEM_DECISIONS_MAX) and returns
 * how many decisions there are (0: nothing to do), -ENOMEM when an entry could not be made. */
int mem_policy_ce(struct mem_policy *p, const struct mem_ce_event *ev, uint64_t now_ns,
                  struct mem_decision *out);

/* Periodic: RECOVER for every latched level that drained and STORM_END when the storm passed
 * without events. Writes at most max decisions and returns how many; the rest come next time. */
size_t mem_policy_tick(struct mem_policy *p, uint64_t now_ns, struct mem_decision *out, size_t max);

/* The HardwareCorrupted value of /proc/meminfo, in kB: CORRUPTED_OVER when it goes past the
 * limit, CORRUPTED_UNDER when it comes back (0 or 1 decision in *out). */
int mem_policy_meminfo(struct mem_policy *p, uint64_t corrupted_kb, struct mem_decision *out);
