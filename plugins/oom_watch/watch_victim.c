/* watch_victim.c: the kernel's oom:mark_victim tracepoint, read with libtracefs and
 * libtraceevent from a private tracefs instance (instances/sentry_oom_watch: our enable and
 * buffer touch nobody else's tracing; one left by a killed run is taken over and cleared). Only
 * the event's and the pages' format files are parsed; each record gives pid (always), and uid, comm
 * and memory figures on newer kernels. poll() watches the instance's trace_pipe only to wake up (it
 * is never read); the records come from the per-CPU raw buffers, all CPUs each time. The comm comes
 * from the event, else from /proc (the victim may be gone), its memory cgroup from
 * /proc/<pid>/cgroup when that can be known (see victim_cgroup()), else null. Each victim is
 * alarm 1018 (MAJOR). Any library failure turns this source off alone, said once. */
#include <errno.h>
#include <event-parse.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tracefs.h>
#include <unistd.h>

#include "json_util.h"
#include "log.h"
#include "oom_watch.h"
#include "victim_fields.h"

#define INSTANCE "sentry_oom_watch"
#define PID_MAX  4194304

struct watch_victim {
    struct oom_watch *w;
    struct tracefs_instance *instance; /* ours: destroyed at close */
    struct tep_handle *tep;            /* the formats of oom:mark_victim and the pages */
    int event_id;                      /* oom:mark_victim's id in tep */
    int wake_fd;                       /* the instance's trace_pipe, polled, never read */
    bool off;                          /* a read failed: the source is off */
};

static void victim_release(struct watch_victim *v)
{
    if (v->wake_fd >= 0)
        close(v->wake_fd); /* before the rmdir: an open file keeps the instance busy */
    v->wake_fd = -1;
    if (v->instance) {
        if (tracefs_instance_destroy(v->instance) < 0)
            log_warning_errno(errno, "cannot remove the trace instance " INSTANCE ": %m");
        tracefs_instance_free(v->instance);
        v->instance = NULL;
    }
    tep_free(v->tep);
    v->tep = NULL;
}

static void victim_freep(struct watch_victim **v)
{
    if (*v) {
        victim_release(*v);
        free(*v);
    }
}

/* Where tracefs is: the configured path, else the mount libtracefs finds (never mounted here). */
static int tracing_dir(struct oom_watch *w, const char **ret)
{
    const char *found = NULL, *dir;

    if (w->cfg->tracefs) {
        if (tracefs_set_tracing_dir(w->cfg->tracefs) < 0)
            return log_warning_errno(errno, "tracefs at %s: %m; OOM victims off", w->cfg->tracefs);
        *ret = w->cfg->tracefs;
        return 0;
    }
    if (tracefs_tracing_dir_is_mounted(false, &found) <= 0 || !found) {
        log_warning("tracefs is not mounted (oom_watch does not mount it): OOM victims off");
        return -ENOENT;
    }
    /* mounted, so this finds it without mounting; the path above is the caller's copy (not
     * the library's cached one) */
    dir = tracefs_tracing_dir();
    if (found != dir)
        free((char *) found);
    if (!dir) {
        log_warning("tracefs is not mounted (oom_watch does not mount it): OOM victims off");
        return -ENOENT;
    }
    *ret = dir;
    return 0;
}

/* The formats of the ring buffer's pages and of oom:mark_victim, and nothing else: libtracefs's
 * tracefs_local_events_system() also parses /proc/kallsyms, saved_cmdlines and printk_formats,
 * which cost seconds of CPU and tens of MiB at each start (minutes and hundreds of MiB under
 * a sanitizer) for symbols a victim's record never needs. NULL with errno on failure. */
static struct tep_handle *victim_formats(void)
{
    enum tep_endian endian = tep_is_bigendian() ? TEP_BIG_ENDIAN : TEP_LITTLE_ENDIAN;
    _cleanup_free_ char *header = NULL, *format = NULL;
    int header_size = 0, format_size = 0;
    struct tep_handle *tep;

    header = tracefs_instance_file_read(NULL, "events/header_page", &header_size);
    format = tracefs_event_file_read(NULL, "oom", "mark_victim", "format", &format_size);
    if (!header || !format || header_size <= 0 || format_size <= 0) {
        errno = errno ? errno : EIO;
        return NULL;
    }
    tep = tep_alloc();
    if (!tep) {
        errno = ENOMEM;
        return NULL;
    }
    tep_set_file_bigendian(tep, endian);
    tep_set_local_bigendian(tep, endian);
    tep_set_long_size(tep, sizeof(long));
    tep_set_page_size(tep, getpagesize());
    if (tep_parse_header_page(tep, header, header_size, sizeof(long)) < 0 ||
        tep_parse_event(tep, format, format_size, "oom") != TEP_ERRNO__SUCCESS) {
        tep_free(tep);
        errno = EBADMSG;
        return NULL;
    }
    return tep;
}

int watch_victim_open(struct oom_watch *w, struct watch_victim **ret)
{
    _cleanup_(victim_freep) struct watch_victim *v = calloc(1, sizeof(*v));
    const char *dir = NULL;
    struct tep_event *ev;
    int r;

    if (!v)
        return -ENOMEM;
    v->w = w;
    v->wake_fd = -1;
    r = tracing_dir(w, &dir);
    if (r < 0)
        return r;
    if (!tracefs_event_file_exists(NULL, "oom", "mark_victim", "format")) {
        log_warning("no oom:mark_victim in tracefs at %s: OOM victims off", dir);
        return -ENOENT;
    }
    v->tep = victim_formats();
    if (!v->tep)
        return log_warning_errno(errno ? errno : EIO,
                                 "cannot read the oom event formats in %s: %m; OOM victims off",
                                 dir);
    ev = tep_find_event_by_name(v->tep, "oom", "mark_victim");
    if (!ev || !tep_find_field(ev, victim_fields[VICTIM_FIELD_PID].name))
        return log_warning_errno(EBADMSG, "oom:mark_victim in %s has no pid field; OOM victims off",
                                 dir);
    v->event_id = ev->id;
    log_info("oom:mark_victim has %d field(s)%s", ev->format.nr_fields,
             tep_find_field(ev, "comm") ? ", comm among them" : "");

    v->instance = tracefs_instance_create(INSTANCE);
    if (!v->instance)
        return log_warning_errno(errno ? errno : EIO, "cannot make the trace instance " INSTANCE
                                                      ": %m; OOM victims off");
    if (!tracefs_instance_is_new(v->instance)) {
        /* left by a plugin that was killed: take it over, as new */
        tracefs_event_disable(v->instance, NULL, NULL);
        tracefs_instance_file_clear(v->instance, "trace");
        log_info("took over the trace instance " INSTANCE " left by an earlier run");
    }
    if (tracefs_event_enable(v->instance, "oom", "mark_victim") < 0)
        return log_warning_errno(errno ? errno : EIO, "cannot enable oom:mark_victim in " INSTANCE
                                                      ": %m; OOM victims off");
    if (tracefs_trace_on(v->instance) < 0)
        return log_warning_errno(errno ? errno : EIO,
                                 "cannot turn tracing on in " INSTANCE ": %m; OOM victims off");
    v->wake_fd =
        tracefs_instance_file_open(v->instance, "trace_pipe", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (v->wake_fd < 0)
        return log_warning_errno(errno ? errno : EIO,
                                 "cannot open trace_pipe of " INSTANCE ": %m; OOM victims off");
    log_info("OOM victims from %s/instances/" INSTANCE, dir);
    *ret = TAKE_PTR(v);
    return 0;
}

int watch_victim_fds(struct watch_victim *v, struct pollfd *fds, int max)
{
    if (!v || v->off || v->wake_fd < 0 || max < 1)
        return 0;
    fds[0] = (struct pollfd){.fd = v->wake_fd, .events = POLLIN};
    return 1;
}

/* Whether pid is exiting (PF_EXITING in the flags of /proc/<pid>/stat) or gone. */
static bool exiting(long long pid)
{
    char path[64], text[1024];
    size_t len;
    unsigned long flags;

    snprintf(path, sizeof(path), "/proc/%lld/stat", pid);
    if (oom_watch_read(path, text, sizeof(text), &len) < 0)
        return true;
    /* "pid (comm) S ppid pgrp session tty tpgid flags ...": comm may hold ") " */
    const char *p = strrchr(text, ')');
    if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
        return true;
    return (flags & 0x4) != 0; /* PF_EXITING */
}

/* The memory cgroup of pid from /proc/<pid>/cgroup: the v1 memory line ("N:memory:/x"), or on
 * a system without one the unified line ("0::/x"). A v1 line of an exiting task says "/" (the
 * kernel shows v1 paths only of live tasks), so then the cgroup is unknown: no guess. */
static bool victim_cgroup(long long pid, char *buf, size_t size)
{
    char path[64], text[8192];
    size_t len;
    bool have_v1 = false, have_unified = false;
    char v1[1024] = "", unified[1024] = "";

    snprintf(path, sizeof(path), "/proc/%lld/cgroup", pid);
    if (oom_watch_read(path, text, sizeof(text), &len) < 0)
        return false;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char *a = strchr(l, ':'), *b = a ? strchr(a + 1, ':') : NULL;
        if (!b)
            continue;
        *b = '\0';
        /* the controllers are a comma list: "memory" alone or among others */
        char *ctl = a + 1;
        bool memory = false;
        for (char *s2 = NULL, *c = strtok_r(ctl, ",", &s2); c; c = strtok_r(NULL, ",", &s2))
            memory |= strcmp(c, "memory") == 0;
        if (memory) {
            snprintf(v1, sizeof(v1), "%s", b + 1);
            have_v1 = true;
        } else if (a == l + 1 && l[0] == '0' && !*ctl) {
            snprintf(unified, sizeof(unified), "%s", b + 1);
            have_unified = true;
        }
    }
    if (have_v1) {
        if (exiting(pid))
            return false;
        snprintf(buf, size, "%s", v1);
        return true;
    }
    if (have_unified)
        snprintf(buf, size, "%s", unified);
    return have_unified;
}

/* One field of the record as text into vals, when the event has it and it reads. */
static void record_field(struct tep_event *event, struct tep_record *record, size_t i,
                         struct victim_values *vals)
{
    const struct victim_field *f = &victim_fields[i];
    struct tep_format_field *field = tep_find_field(event, f->name);
    unsigned long long val;
    const char *raw;
    int len;

    if (!field)
        return;
    if (f->kind == VICTIM_FIELD_STRING) {
        raw = tep_get_field_raw(NULL, event, f->name, record, &len, 0);
        /* inside the record, whatever the kernel's data_loc said */
        if (!raw || len < 0 || raw < (const char *) record->data ||
            raw + len > (const char *) record->data + record->size)
            return;
        victim_string_clean(raw, (size_t) len, vals->value[i], VICTIM_VALUE_MAX);
    } else {
        if (field->offset < 0 || field->size <= 0 || field->offset + field->size > record->size ||
            tep_get_field_val(NULL, event, f->name, record, &val, 0) < 0)
            return;
        victim_number_format(f, val, field->size, field->flags & TEP_FIELD_IS_SIGNED,
                             vals->value[i], VICTIM_VALUE_MAX);
    }
    vals->have[i] = true;
}

static void victim(struct watch_victim *v, struct tep_event *event, struct tep_record *record)
{
    struct victim_values vals = {0};
    struct tep_format_field *pid_field = tep_find_field(event, "pid");
    char comm[64] = "", cgroup[1024] = "", path[64], key[64];
    unsigned long long raw;
    size_t clen;

    for (size_t i = 0; i < VICTIM_FIELDS_N; i++)
        record_field(event, record, i, &vals);
    if (!vals.have[VICTIM_FIELD_PID] ||
        tep_get_field_val(NULL, event, "pid", record, &raw, 0) < 0) {
        log_warning("oom:mark_victim record without a pid");
        return;
    }
    long long pid = victim_number(raw, pid_field->size, pid_field->flags & TEP_FIELD_IS_SIGNED);
    if (pid <= 0 || pid > PID_MAX) {
        log_warning("oom:mark_victim record with pid %lld", pid);
        return;
    }
    for (size_t i = 0; i < VICTIM_FIELDS_N; i++)
        if (vals.have[i] && streq(victim_fields[i].name, "comm"))
            snprintf(comm, sizeof(comm), "%s", vals.value[i]);
    if (!*comm) {
        char text[64];

        snprintf(path, sizeof(path), "/proc/%lld/comm", pid);
        if (oom_watch_read(path, text, sizeof(text), &clen) >= 0)
            victim_string_clean(text, clen, comm, sizeof(comm));
    }
    bool have_cgroup = victim_cgroup(pid, cgroup, sizeof(cgroup));
    json_object *t = oom_watch_text_new(v->w, "oom_victim");
    json_object_object_add(t, "pid", json_object_new_int64(pid));
    json_object_object_add(t, "comm", *comm ? json_object_new_string(comm) : NULL);
    json_object_object_add(t, "cgroup", have_cgroup ? json_object_new_string(cgroup) : NULL);
    json_object_object_add(t, "fields", victim_fields_json(&vals));
    snprintf(key, sizeof(key), "pid:%lld", pid);
    oom_watch_alarm(v->w, SENTRY_ALARM_ID_OOM_KILL, SENTRY_ALARM_MAJOR, have_cgroup ? cgroup : key,
                    t);
}

static int victim_record(struct tep_event *event, struct tep_record *record, int cpu, void *ctx)
{
    struct watch_victim *v = ctx;

    /* the ring buffer was full: the kernel dropped events before this one (-1: how many is not
     * known); only mark_victim is on in the instance, so they were victims */
    if (record->missed_events > 0)
        log_warning("trace buffer of CPU %d dropped %lld oom:mark_victim event(s)", cpu,
                    record->missed_events);
    else if (record->missed_events < 0)
        log_warning("trace buffer of CPU %d dropped oom:mark_victim event(s)", cpu);
    if (event && event->id == v->event_id)
        victim(v, event, record);
    return 0;
}

void watch_victim_handle(struct watch_victim *v, const struct pollfd *fds, int n)
{
    if (!v || v->off || n < 1 || !(fds[0].revents & (POLLIN | POLLERR | POLLHUP)))
        return;
    /* reads (and consumes) what every CPU's buffer holds, then returns */
    errno = 0;
    if (tracefs_iterate_raw_events(v->tep, v->instance, NULL, 0, victim_record, v) < 0) {
        log_warning_errno(errno ? errno : EIO,
                          "cannot read the trace instance " INSTANCE ": %m; OOM victims off");
        v->off = true;
        victim_release(v);
    }
}

struct watch_victim *watch_victim_close(struct watch_victim *v)
{
    victim_freep(&v);
    return NULL;
}
