/* cpu_policy.h: corrected-error storms of a CPU (machine checks of its caches, TLBs, buses: the
 * ones that are not memory errors), counted per CPU in a leaky bucket ([cpu] threshold), and the
 * optional offline of a CPU past it, at most [cpu] max_offline of them ([cpu] offline, off by
 * default: taking a CPU away is an operator's choice). Pure: the caller gives the time, does the
 * sysfs write (cpu_offline()) and raises the alarms. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "leaky_bucket.h"
#include "mem_config.h"

#define CPU_POLICY_MAX_CPUS 8192 /* the kernel's largest NR_CPUS on x86_64 and arm64 */

enum cpu_decision {
    CPU_DECISION_NONE,
    CPU_DECISION_THRESHOLD, /* past the threshold: alarm (offline is off) */
    CPU_DECISION_OFFLINE,   /* past it, and it may go: offline it */
    CPU_DECISION_LIMIT,     /* past it, but max_offline CPUs went already */
    CPU_DECISION_RECOVER,   /* a CPU past it drained (cpu_policy_tick()) */
};

struct cpu_policy {
    bool on; /* the threshold is not off */
    bool offline;
    unsigned max_offline, offlined;
    struct leaky_rate rate;
    struct leaky_bucket *buckets; /* CPU_POLICY_MAX_CPUS */
    uint8_t *crossed;             /* one byte each: past the threshold, until it drains */
    unsigned n_crossed;
};

int cpu_policy_init(struct cpu_policy *p, const struct mem_config *cfg);
void cpu_policy_done(struct cpu_policy *p);

/* One corrected error of cpu at now. CPUs beyond CPU_POLICY_MAX_CPUS are not counted. */
enum cpu_decision cpu_policy_ce(struct cpu_policy *p, unsigned cpu, uint64_t now_ns);
/* The next CPU past the threshold whose bucket drained at now, from *cursor on (start at 0):
 * true with *ret_cpu, and it is no longer past it. */
bool cpu_policy_tick(struct cpu_policy *p, uint64_t now_ns, unsigned *cursor, unsigned *ret_cpu);

/* Writes 0 to <sysfs>/devices/system/cpu/cpu<N>/online and reads it back: 0 when the CPU is
 * offline, -ENOENT when it cannot be offlined (no online file, as CPU 0 on most systems), the
 * write's -errno, or -EIO when the write was taken but the CPU is still online. */
int cpu_offline(const char *sysfs, unsigned cpu);
