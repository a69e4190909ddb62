/* collector.h: the io collector inside sentryd: it follows the disks, samples the best io source
 * once per period, keeps the last max_save periods of figures per disk, stage and op, and
 * answers queries with the reference's semantics.
 *
 * Sampling runs only while someone wants the data: every query extends a lease; when the lease
 * runs out the source is closed (the eBPF programs detach) and the figures are dropped. So an
 * idle sentryd does not sample and does not wake up for it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>
#include <systemd/sd-event.h>

#include "disk.h"
#include "io_source.h"
#include "io_source_set.h"
#include "io_stage.h"

#define COLLECTOR_MAX_SAVE_MAX 300
#define COLLECTOR_DUMPS_MAX    10 /* iodump details kept per disk for the newest period */

/* The figures of one stage and op for one period: the reference's [latency, iodump,
 * io_length, iops]. */
struct io_sample {
    double latency_us; /* mean time in the stage of the ios that finished it in the period */
    uint64_t iodump;   /* ios in the stage for longer than the disk type's threshold, at the end */
    double io_length;  /* mean number of ios in the stage during the period (queue length) */
    double iops;       /* ios that finished the stage per second */
};

struct collector_params {
    sd_event *event;
    struct io_source_params src;
    const char *source;   /* "auto" or io source kinds in order (io_source_set.h) */
    unsigned period_time; /* seconds between samples */
    unsigned max_save;    /* periods kept */
    char **disks;         /* NULL: every disk; else these names */
    unsigned lease;       /* seconds sampling goes on after the last query */
};

struct collector;

int collector_new(const struct collector_params *p, struct collector **ret);
struct collector *collector_free(struct collector *c);

/* Someone wants data: starts sampling (opening the source, following the disks) or extends
 * the lease. -errno when no source can be opened. */
int collector_touch(struct collector *c);
bool collector_active(const struct collector *c);
/* The source setting ("auto", "bpf,diskstats", ...). */
const char *collector_source_spec(const struct collector *c);
/* The open io sources, or NULL while idle. */
struct io_source_set *collector_sources(const struct collector *c);
/* What the io sources measure per disk and stage, and why (io_source_report.h); NULL while idle
 * or out of memory. */
json_object *collector_sources_report(const struct collector *c);
/* The io source kind the stage of the disk came from in the newest sample, or IO_SOURCE_NONE. */
int collector_stage_source(const struct collector *c, const char *disk, enum io_stage stage);
unsigned collector_period_time(const struct collector *c);
/* Periods sampled so far: a client that sees the same value twice got the same sample. */
uint64_t collector_ticks(const struct collector *c);
unsigned collector_max_save(const struct collector *c);

size_t collector_disk_count(const struct collector *c);
const struct disk_info *collector_disk(const struct collector *c, size_t i);
const struct disk_info *collector_find_disk(const struct collector *c, const char *name);
/* Whether the source can see this stage (for any op) of the disk. */
bool collector_stage_valid(const struct collector *c, const char *disk, enum io_stage stage);
/* Periods sampled so far for the disk (at most max_save). */
unsigned collector_samples(const struct collector *c, const char *disk);

/* The sample from period/period_time periods back (the reference's semantics: one sample, not an
 * aggregate). -EINVAL unless period is a multiple of period_time within period_time ..
 * period_time * max_save; -ENOENT for an unknown disk; -ENODATA when not sampled that far yet
 * or the source cannot see the stage. */
int collector_sample(const struct collector *c, const char *disk, enum io_stage stage,
                     enum io_op op, unsigned period, struct io_sample *ret);
/* The iodump details of the newest period ("task,pid,stage,ptr,ms"): *ret points into the
 * collector, valid until the next sample. Returns how many. */
int collector_dumps(const struct collector *c, const char *disk,
                    const char (**ret)[IO_DUMP_DETAIL_MAX]);
