/* trace_reader.h: kernel tracepoints read by a plugin from a private tracefs instance, with
 * libtracefs and libtraceevent.
 *
 * The instance (instances/<name>) is the plugin's own: its enables, filters and ring buffers
 * touch nobody else's tracing. One left by an earlier run is taken over: cleared, or with keep
 * read from where that run stopped (so a restart misses nothing and counts nothing twice: what
 * was read was consumed). tracefs is
 * found where it is mounted (or at the configured directory); when it is not mounted anywhere it
 * is mounted at /sys/kernel/tracing if the caller allows it, never looked for only under debugfs.
 *
 * Only the formats of the ring buffer's pages and of the events asked for are parsed, from the
 * kernel's own format files: libtracefs's tracefs_local_events_system() would also parse
 * /proc/kallsyms, saved_cmdlines and printk_formats, seconds of CPU and tens of MiB at each start
 * for symbols these records never need. An event this kernel lacks is absent (its id -1), not an
 * error: each costs only what depends on it.
 *
 * The records come from the per-CPU raw buffers, all CPUs online at each read (so a CPU that comes
 * online later is read too); poll() on trace_reader_fd() only wakes the caller (the instance's
 * trace_pipe, never read). Records the kernel dropped because a ring buffer was full are counted.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tep_handle;
struct tep_event;
struct tep_record;

struct trace_event_ref {
    const char *system, *name; /* "ras", "mc_event" */
};

struct trace_reader_opts {
    const char *what;     /* what goes off without it, for messages: "OOM victims" */
    const char *instance; /* the instance's name: "sentry_mem_sentry" */
    const char *tracefs;  /* tracefs's directory, or NULL: where it is mounted */
    bool mount;           /* NULL tracefs and none mounted: mount it at /sys/kernel/tracing */
    size_t buffer_kb;     /* per-CPU ring buffer size; 0 leaves the kernel's */
    bool keep;            /* the instance outlives the reader: the kernel goes on recording
                             while the plugin is down, and the next reader reads that first */
};

struct trace_reader;

/* Opens the instance with every event of events[0..n) that this kernel has enabled. Returns 0,
 * or -errno when tracefs is not there or not one of the events is (each reason logged once);
 * events[] must outlive the reader. */
int trace_reader_open(const struct trace_reader_opts *o, const struct trace_event_ref *events,
                      size_t n, struct trace_reader **ret);
void trace_reader_free(struct trace_reader *r);

/* events[i]'s id in the reader's tep, or -1 when this kernel does not have it. */
int trace_reader_event_id(const struct trace_reader *r, size_t i);
/* Sets the kernel-side filter of events[i] ("sig == 7"): the ring then holds only what matches. */
int trace_reader_set_filter(struct trace_reader *r, size_t i, const char *filter);
struct tep_handle *trace_reader_tep(const struct trace_reader *r);
const char *trace_reader_dir(const struct trace_reader *r); /* tracefs's directory */
int trace_reader_fd(const struct trace_reader *r);          /* poll it for POLLIN */

/* Called for each record of an event asked for, in time order across CPUs: i indexes events[]. */
typedef void (*trace_record_fn)(void *ctx, size_t i, struct tep_event *event,
                                struct tep_record *record, int cpu);
/* Reads (and consumes) what every CPU's buffer holds, then returns: 0, or -errno when the instance
 * can no longer be read (the caller turns the source off). */
int trace_reader_read(struct trace_reader *r, trace_record_fn fn, void *ctx);

struct trace_reader_stats {
    uint64_t records; /* records of the events asked for */
    uint64_t lost;    /* records the kernel said it dropped (ring overruns) */
    uint64_t
        lost_unknown; /* overruns whose size the kernel did not know (each counted 1 in lost) */
};
void trace_reader_stats(const struct trace_reader *r, struct trace_reader_stats *ret);

/* A tep that knows the page header (the text of events/header_page) and nothing else; NULL with
 * errno set. Then trace_formats_add() parses one event's format file text into it and returns the
 * event's id, or -errno. The reader is made of these; tests build the same from saved formats and
 * feed byte-exact records through the same parsers. */
struct tep_handle *trace_formats_new(const char *header_page, size_t len);
int trace_formats_add(struct tep_handle *tep, const char *system, const char *format, size_t len);
