/* watch_victim.c: the kernel's oom:mark_victim tracepoint, read from a private tracefs instance
 * (instances/sentry_oom_watch, trace_reader.h). Each record gives pid (always), and uid, comm
 * and memory figures on newer kernels. The comm comes
 * from the event, else from /proc (the victim may be gone), its memory cgroup from
 * /proc/<pid>/cgroup when that can be known (see victim_cgroup()), else null. Each victim is
 * alarm 1018 (MAJOR). Any library failure turns this source off alone, said once. */
#include <errno.h>
#include <event-parse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json_util.h"
#include "log.h"
#include "oom_watch.h"
#include "trace_reader.h"
#include "victim_fields.h"

#define INSTANCE "sentry_oom_watch"
#define PID_MAX  4194304

static const struct trace_event_ref victim_events[] = {{"oom", "mark_victim"}};

struct watch_victim {
    struct oom_watch *w;
    struct trace_reader *reader;
    bool off; /* a read failed: the source is off */
};

static void victim_freep(struct watch_victim **v)
{
    if (*v) {
        trace_reader_free((*v)->reader);
        free(*v);
    }
}

int watch_victim_open(struct oom_watch *w, struct watch_victim **ret)
{
    _cleanup_(victim_freep) struct watch_victim *v = calloc(1, sizeof(*v));
    const struct trace_reader_opts opts = {
        .what = "OOM victims",
        .instance = INSTANCE,
        .tracefs = w->cfg->tracefs,
        .mount = false, /* oom_watch never mounts tracefs */
    };
    struct tep_event *ev;
    int r;

    if (!v)
        return -ENOMEM;
    v->w = w;
    r = trace_reader_open(&opts, victim_events, ELEMENTSOF(victim_events), &v->reader);
    if (r < 0)
        return r;
    ev = tep_find_event(trace_reader_tep(v->reader), trace_reader_event_id(v->reader, 0));
    if (!ev || !tep_find_field(ev, victim_fields[VICTIM_FIELD_PID].name))
        return log_warning_errno(EBADMSG, "oom:mark_victim in %s has no pid field; OOM victims off",
                                 trace_reader_dir(v->reader));
    log_info("oom:mark_victim has %d field(s)%s", ev->format.nr_fields,
             tep_find_field(ev, "comm") ? ", comm among them" : "");
    log_info("OOM victims from %s/instances/" INSTANCE, trace_reader_dir(v->reader));
    *ret = TAKE_PTR(v);
    return 0;
}

int watch_victim_fds(struct watch_victim *v, struct pollfd *fds, int max)
{
    if (!v || v->off || max < 1)
        return 0;
    fds[0] = (struct pollfd){.fd = trace_reader_fd(v->reader), .events = POLLIN};
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

static void victim_record(void *ctx, size_t i, struct tep_event *event, struct tep_record *record,
                          int cpu)
{
    victim(ctx, event, record);
}

void watch_victim_handle(struct watch_victim *v, const struct pollfd *fds, int n)
{
    if (!v || v->off || n < 1 || !(fds[0].revents & (POLLIN | POLLERR | POLLHUP)))
        return;
    if (trace_reader_read(v->reader, victim_record, v) < 0) {
        v->off = true;
        trace_reader_free(v->reader);
        v->reader = NULL;
    }
}

struct watch_victim *watch_victim_close(struct watch_victim *v)
{
    victim_freep(&v);
    return NULL;
}
