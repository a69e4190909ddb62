/* oom_config.h: oom_watch.ini (config/plugins/oom_watch.ini documents every key): which
 * sources are on, the PSI thresholds, the cgroups, pstore and the alarm rate limit. Every value
 * is checked; an error names the file, section, key and value (config_msg.h). */
#pragma once

#include <stdbool.h>

#include "config_msg.h"

#define OOM_CONFIG_CGROUPS_MAX 64

struct oom_config {
    int log_level; /* LOG_DEBUG..LOG_ERR */
    /* [sources] */
    bool psi, memcg, oom_victim, pstore;
    /* [psi]: µs of stall per window that fire a trigger; 0 turns that kind off */
    unsigned some_stall_us, full_stall_us, window_us;
    /* [memcg] */
    char **cgroups;         /* absolute cgroup directories (v1 memory or v2), NULL: none */
    unsigned poll_interval; /* seconds between reads of the counters without a wake-up */
    /* [oom_victim] */
    char *tracefs; /* NULL: look in /sys/kernel/tracing, then /sys/kernel/debug/tracing */
    /* [pstore] */
    char *pstore_dir;
    char *state_file;
    bool remove_after_report;
    /* [alarm] */
    unsigned rate_limit_interval; /* seconds; 0: no limit */
};

/* The defaults (what an empty file gives). */
int oom_config_init(struct oom_config *c);
void oom_config_done(struct oom_config *c);

/* Reads the file at path into c (initialised with oom_config_init()). Every problem is a message;
 * -EINVAL when there was an error (c is then not to be used), other -errno when the file cannot
 * be read. */
int oom_config_load(struct oom_config *c, const char *path, struct config_msgs *msgs);
/* The same from text, for tests; path names it in messages. */
int oom_config_load_string(struct oom_config *c, const char *path, const char *text,
                           struct config_msgs *msgs);
