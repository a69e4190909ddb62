/* mem_config.h: mem_sentry.ini (config/plugins/mem_sentry.ini and docs/plugins/mem_sentry.md
 * document every key): the thresholds per level, the page action and its isolation budget, the
 * table bounds, storm detection and the HardwareCorrupted limit. Every value is checked; an
 * error names the file, section, key and value (config_msg.h). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "config_msg.h"
#include "mem_vocab.h"

/* "N / window": N corrected errors within window cross the threshold. */
struct mem_threshold {
    bool on; /* "off" turns the level off */
    uint32_t n;
    uint64_t window_s;
};

#define MEM_CONFIG_PATH_MAX 255

struct mem_config {
    /* [source] where the kernel's events come from */
    char tracefs[MEM_CONFIG_PATH_MAX + 1]; /* "": wherever tracefs is mounted */
    bool mount_tracefs;                    /* none mounted: mount it at /sys/kernel/tracing */
    unsigned buffer_kb;                    /* per-CPU ring of the instance */
    bool keep_instance; /* the instance records while the plugin is down (trace_reader.h) */
    /* [thresholds] page, row, dimm, socket */
    struct mem_threshold threshold[_MEM_LEVEL_MAX];
    /* [offline] */
    enum mem_action action;
    unsigned max_pages;                       /* isolation budget in pages */
    unsigned max_mib;                         /* and in MiB; 0: no MiB limit */
    unsigned max_tries;                       /* offline attempts of one page, the first included */
    char state_file[MEM_CONFIG_PATH_MAX + 1]; /* the offlined pages (offline_state.h) */
    /* [tracking] bounds of the tables */
    unsigned max_tracked_pages, max_tracked_rows;
    /* [storm] */
    unsigned storm_threshold; /* corrected errors of all kinds ... */
    uint64_t storm_window_s;  /* ... within this many seconds start a storm */
    /* [cpu] corrected errors of a CPU (not memory) */
    struct mem_threshold cpu_threshold;
    bool cpu_offline;         /* offline a CPU past its threshold */
    unsigned cpu_max_offline; /* at most this many */
    /* [meminfo] */
    unsigned hardware_corrupted_limit_kb; /* 0: not watched */
};

/* The defaults (what an empty file gives). */
void mem_config_init(struct mem_config *c);

/* Parses "N / window" (window: digits and s, m, h or d) or "off". -EINVAL when not one or out
 * of range (N 1..LEAKY_RATE_N_MAX, window 1 s..7 d). */
int mem_threshold_parse(const char *s, struct mem_threshold *ret);
/* A duration as in a threshold's window, in seconds. */
int mem_duration_parse(const char *s, uint64_t *ret_s);

/* Reads the file at path into c (initialised with mem_config_init()). Every problem is a
 * message; -EINVAL when there was an error (c is then not to be used), other -errno when the
 * file cannot be read. */
int mem_config_load(struct mem_config *c, const char *path, struct config_msgs *msgs);
/* The same from text, for tests; path names it in messages. */
int mem_config_load_string(struct mem_config *c, const char *path, const char *text,
                           struct config_msgs *msgs);
