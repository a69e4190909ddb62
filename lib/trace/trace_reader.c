/* trace_reader.c: a plugin's private tracefs instance (trace_reader.h). */
#include <errno.h>
#include <event-parse.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <tracefs.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "trace_reader.h"

#define TRACEFS_DEFAULT "/sys/kernel/tracing"

struct trace_reader {
    const char *what;
    bool keep;
    char *instance_name;
    char *dir;                         /* tracefs's directory */
    struct tracefs_instance *instance; /* ours: destroyed at free */
    struct tep_handle *tep;
    const struct trace_event_ref *events;
    size_t n;
    int *ids;    /* per events[i]: its id in tep, -1 when absent */
    int wake_fd; /* the instance's trace_pipe, polled, never read */
    struct trace_reader_stats stats;
    trace_record_fn fn; /* during trace_reader_read() */
    void *ctx;
};

static bool is_tracefs(const char *dir)
{
    char path[4096];
    struct stat st;

    /* every tracefs has these at its top (a debugfs mount point has neither) */
    snprintf(path, sizeof(path), "%s/events/header_page", dir);
    return stat(path, &st) == 0;
}

/* Where tracefs is: the configured path; else the mount libtracefs finds; else, when allowed, the
 * standard place, mounted here (never a guess under debugfs). */
static int find_tracefs(const struct trace_reader_opts *o, char **ret)
{
    const char *found = NULL;

    if (o->tracefs) {
        if (!is_tracefs(o->tracefs))
            return log_warning_errno(ENOENT, "no tracefs at %s: %m; %s off", o->tracefs, o->what);
        *ret = strdup(o->tracefs);
        return *ret ? 0 : -ENOMEM;
    }
    if (tracefs_tracing_dir_is_mounted(false, &found) > 0 && found) {
        *ret = (char *) found; /* the library's find gives the caller a malloc'ed copy */
        return 0;
    }
    if (!o->mount) {
        log_warning("tracefs is not mounted (not mounting it here): %s off", o->what);
        return -ENOENT;
    }
    if (mount("nodev", TRACEFS_DEFAULT, "tracefs", 0, NULL) < 0)
        return log_warning_errno(errno,
                                 "tracefs is not mounted and mounting it at " TRACEFS_DEFAULT
                                 " failed: %m; %s off",
                                 o->what);
    log_info("mounted tracefs at " TRACEFS_DEFAULT);
    *ret = strdup(TRACEFS_DEFAULT);
    return *ret ? 0 : -ENOMEM;
}

/* The page header and the formats of the events this kernel has. */
static int read_formats(struct trace_reader *r)
{
    _cleanup_free_ char *header = NULL;
    int size = 0, found = 0;

    header = tracefs_instance_file_read(NULL, "events/header_page", &size);
    if (!header || size <= 0)
        return log_warning_errno(errno ? errno : EIO,
                                 "cannot read %s/events/header_page: %m; %s off", r->dir, r->what);
    r->tep = trace_formats_new(header, (size_t) size);
    if (!r->tep)
        return log_warning_errno(errno, "cannot parse %s/events/header_page: %m; %s off", r->dir,
                                 r->what);
    for (size_t i = 0; i < r->n; i++) {
        const struct trace_event_ref *e = &r->events[i];
        _cleanup_free_ char *format = NULL;

        r->ids[i] = -1;
        if (!tracefs_event_file_exists(NULL, e->system, e->name, "format")) {
            log_info("no %s:%s in this kernel", e->system, e->name);
            continue;
        }
        format = tracefs_event_file_read(NULL, e->system, e->name, "format", &size);
        int id =
            format && size > 0 ? trace_formats_add(r->tep, e->system, format, (size_t) size) : -EIO;
        if (id < 0) {
            log_warning_errno(id, "cannot read the format of %s:%s: %m; it is off", e->system,
                              e->name);
            continue;
        }
        r->ids[i] = id;
        found++;
    }
    if (!found) {
        log_warning("none of the %zu events in %s: %s off", r->n, r->dir, r->what);
        return -ENOENT;
    }
    return 0;
}

static int start_instance(struct trace_reader *r, const struct trace_reader_opts *o)
{
    r->instance = tracefs_instance_create(r->instance_name);
    if (!r->instance)
        return log_warning_errno(errno ? errno : EIO,
                                 "cannot make the trace instance %s: %m; %s off", r->instance_name,
                                 r->what);
    if (!tracefs_instance_is_new(r->instance)) {
        /* left by an earlier run: what it recorded since is read first, or it starts anew */
        tracefs_event_disable(r->instance, NULL, NULL);
        if (!o->keep)
            tracefs_instance_file_clear(r->instance, "trace");
        log_info("took over the trace instance %s left by an earlier run%s", r->instance_name,
                 o->keep ? ", with what it recorded since" : "");
    }
    /* wake-ups at every record, not at a watermark (buffer_percent, 50 by default since 6.1, is
     * what kept rasdaemon 0.6.8's poll() of per-CPU buffers asleep); older kernels lack it */
    if (tracefs_file_exists(r->instance, "buffer_percent") &&
        tracefs_instance_file_write(r->instance, "buffer_percent", "0") < 0)
        log_warning_errno(errno ? errno : EIO, "cannot set buffer_percent of %s to 0: %m",
                          r->instance_name);
    if (o->buffer_kb && tracefs_instance_set_buffer_size(r->instance, o->buffer_kb, -1) < 0)
        log_warning_errno(errno ? errno : EIO, "cannot size the buffers of %s to %zu kB: %m",
                          r->instance_name, o->buffer_kb);
    for (size_t i = 0; i < r->n; i++) {
        if (r->ids[i] < 0)
            continue;
        if (tracefs_event_enable(r->instance, r->events[i].system, r->events[i].name) < 0) {
            log_warning_errno(errno ? errno : EIO, "cannot enable %s:%s in %s: %m; it is off",
                              r->events[i].system, r->events[i].name, r->instance_name);
            r->ids[i] = -1;
        }
    }
    if (tracefs_trace_on(r->instance) < 0)
        return log_warning_errno(errno ? errno : EIO, "cannot turn tracing on in %s: %m; %s off",
                                 r->instance_name, r->what);
    r->wake_fd =
        tracefs_instance_file_open(r->instance, "trace_pipe", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (r->wake_fd < 0)
        return log_warning_errno(errno ? errno : EIO, "cannot open trace_pipe of %s: %m; %s off",
                                 r->instance_name, r->what);
    return 0;
}

int trace_reader_open(const struct trace_reader_opts *o, const struct trace_event_ref *events,
                      size_t n, struct trace_reader **ret)
{
    struct trace_reader *r;
    int k;

    if (!o || !o->instance || !o->what || !events || n == 0 || !ret)
        return -EINVAL;
    r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->what = o->what;
    r->keep = o->keep;
    r->events = events;
    r->n = n;
    r->wake_fd = -1;
    r->ids = calloc(n, sizeof(*r->ids));
    r->instance_name = strdup(o->instance);
    if (!r->ids || !r->instance_name) {
        trace_reader_free(r);
        return -ENOMEM;
    }
    k = find_tracefs(o, &r->dir);
    if (k >= 0 && tracefs_set_tracing_dir(r->dir) < 0)
        k = log_warning_errno(errno ? errno : EIO, "tracefs at %s: %m; %s off", r->dir, o->what);
    if (k >= 0)
        k = read_formats(r);
    if (k >= 0)
        k = start_instance(r, o);
    if (k < 0) {
        trace_reader_free(r);
        return k;
    }
    *ret = r;
    return 0;
}

void trace_reader_free(struct trace_reader *r)
{
    if (!r)
        return;
    if (r->wake_fd >= 0)
        close(r->wake_fd); /* before the rmdir: an open file keeps the instance busy */
    if (r->instance) {
        if (r->keep)
            log_info("the trace instance %s stays, recording until the next run", r->instance_name);
        else if (tracefs_instance_destroy(r->instance) < 0)
            log_warning_errno(errno, "cannot remove the trace instance %s: %m", r->instance_name);
        tracefs_instance_free(r->instance);
    }
    tep_free(r->tep);
    free(r->ids);
    free(r->dir);
    free(r->instance_name);
    free(r);
}

int trace_reader_event_id(const struct trace_reader *r, size_t i)
{
    return r && i < r->n ? r->ids[i] : -1;
}

int trace_reader_set_filter(struct trace_reader *r, size_t i, const char *filter)
{
    if (!r || i >= r->n || r->ids[i] < 0 || !filter)
        return -EINVAL;
    if (tracefs_event_file_write(r->instance, r->events[i].system, r->events[i].name, "filter",
                                 filter) < 0)
        return log_warning_errno(errno ? errno : EIO, "cannot set the filter '%s' of %s:%s: %m",
                                 filter, r->events[i].system, r->events[i].name);
    return 0;
}

struct tep_handle *trace_reader_tep(const struct trace_reader *r)
{
    return r ? r->tep : NULL;
}

const char *trace_reader_dir(const struct trace_reader *r)
{
    return r ? r->dir : NULL;
}

int trace_reader_fd(const struct trace_reader *r)
{
    return r ? r->wake_fd : -1;
}

static int one_record(struct tep_event *event, struct tep_record *record, int cpu, void *ctx)
{
    struct trace_reader *r = ctx;

    /* the ring buffer was full: the kernel dropped records before this one (-1: how many is not
     * known); only the events asked for are on in the instance, so they were theirs */
    if (record->missed_events > 0) {
        r->stats.lost += (uint64_t) record->missed_events;
        log_warning("trace buffer of CPU %d in %s dropped %lld record(s)", cpu, r->instance_name,
                    record->missed_events);
    } else if (record->missed_events < 0) {
        r->stats.lost++;
        r->stats.lost_unknown++;
        log_warning("trace buffer of CPU %d in %s dropped record(s)", cpu, r->instance_name);
    }
    if (!event)
        return 0;
    for (size_t i = 0; i < r->n; i++)
        if (r->ids[i] == event->id) {
            r->stats.records++;
            r->fn(r->ctx, i, event, record, cpu);
            break;
        }
    return 0;
}

int trace_reader_read(struct trace_reader *r, trace_record_fn fn, void *ctx)
{
    if (!r || !fn)
        return -EINVAL;
    r->fn = fn;
    r->ctx = ctx;
    errno = 0;
    if (tracefs_iterate_raw_events(r->tep, r->instance, NULL, 0, one_record, r) < 0)
        return log_warning_errno(errno ? errno : EIO,
                                 "cannot read the trace instance %s: %m; %s off", r->instance_name,
                                 r->what);
    return 0;
}

void trace_reader_stats(const struct trace_reader *r, struct trace_reader_stats *ret)
{
    *ret = r ? r->stats : (struct trace_reader_stats){0};
}
