/* watch_victim.c: the kernel's oom:mark_victim tracepoint, read from a private tracefs instance
 * (instances/sentry_oom_watch: our enable and buffer touch nobody else's tracing). Its format
 * file says which fields this kernel has; its trace_pipe lines give pid (always), and uid,
 * comm and memory figures on newer kernels. The comm comes from the event, else from /proc
 * (the victim may be gone), its memory cgroup from /proc/<pid>/cgroup when that can be known
 * (see victim_cgroup()), else null. Each victim is alarm 1018 (MAJOR). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json_util.h"
#include "log.h"
#include "oom_watch.h"
#include "trace_text.h"

#define INSTANCE   "sentry_oom_watch"
#define EVENT_DIR  "events/oom/mark_victim"
#define LINE_MAX_B 4096

struct watch_victim {
    struct oom_watch *w;
    char root[4096];     /* the tracefs mount */
    char instance[4200]; /* root/instances/INSTANCE */
    int pipe_fd;
    char buf[LINE_MAX_B];
    size_t have;
    bool overlong; /* dropping the rest of a line longer than buf */
};

static bool is_tracefs(const char *dir)
{
    char p[4200];
    snprintf(p, sizeof(p), "%s/%s/format", dir, EVENT_DIR);
    return access(p, R_OK) == 0;
}

static int write_str(const char *path, const char *s)
{
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_TRUNC);
    if (fd < 0 || write(fd, s, strlen(s)) < 0)
        return -errno;
    return 0;
}

static int find_root(struct watch_victim *v)
{
    static const char *const candidates[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};
    const char *cfg = v->w->cfg->tracefs;

    if (cfg) {
        snprintf(v->root, sizeof(v->root), "%s", cfg);
        return is_tracefs(cfg) ? 0 : -ENOENT;
    }
    for (size_t i = 0; i < ELEMENTSOF(candidates); i++)
        if (is_tracefs(candidates[i])) {
            snprintf(v->root, sizeof(v->root), "%s", candidates[i]);
            return 0;
        }
    return -ENOENT;
}

static int check_format(struct watch_victim *v)
{
    char path[4200], text[8192];
    char names[TRACE_FIELDS_MAX][TRACE_NAME_MAX];
    size_t len, n;
    int r;

    snprintf(path, sizeof(path), "%s/%s/format", v->root, EVENT_DIR);
    r = oom_watch_read(path, text, sizeof(text), &len);
    if (r < 0)
        return log_warning_errno(r, "%s: %m; OOM victims off", path);
    r = trace_format_fields(text, len, names, TRACE_FIELDS_MAX, &n);
    if (r < 0 || !trace_fields_contain(names, n, "pid"))
        return log_warning_errno(EBADMSG, "%s: no pid field in it; OOM victims off", path);
    log_info("oom:mark_victim has %zu field(s)%s", n,
             trace_fields_contain(names, n, "comm") ? ", comm among them" : "");
    return 0;
}

int watch_victim_open(struct oom_watch *w, struct watch_victim **ret)
{
    _cleanup_free_ struct watch_victim *v = calloc(1, sizeof(*v));
    char path[4400];
    int r;

    if (!v)
        return -ENOMEM;
    v->w = w;
    v->pipe_fd = -1;
    if (find_root(v) < 0) {
        log_warning("no tracefs with oom:mark_victim (%s): OOM victims off",
                    w->cfg->tracefs ? w->cfg->tracefs
                                    : "looked in /sys/kernel/tracing and /sys/kernel/debug/tracing;"
                                      " mount tracefs there");
        return -ENOENT;
    }
    r = check_format(v);
    if (r < 0)
        return r;
    snprintf(v->instance, sizeof(v->instance), "%s/instances/" INSTANCE, v->root);
    /* left by a plugin that was killed: take it over */
    if (mkdir(v->instance, 0700) < 0 && errno != EEXIST)
        return log_warning_errno(errno, "cannot make the trace instance %s: %m; OOM victims off",
                                 v->instance);
    snprintf(path, sizeof(path), "%s/%s/enable", v->instance, EVENT_DIR);
    r = write_str(path, "1");
    if (r < 0) {
        rmdir(v->instance);
        return log_warning_errno(r, "cannot enable %s: %m; OOM victims off", path);
    }
    snprintf(path, sizeof(path), "%s/trace_pipe", v->instance);
    v->pipe_fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (v->pipe_fd < 0) {
        r = log_warning_errno(errno, "cannot open %s: %m; OOM victims off", path);
        rmdir(v->instance);
        return r;
    }
    log_info("OOM victims from %s", v->instance);
    *ret = TAKE_PTR(v);
    return 0;
}

int watch_victim_fds(struct watch_victim *v, struct pollfd *fds, int max)
{
    if (!v || v->pipe_fd < 0 || max < 1)
        return 0;
    fds[0] = (struct pollfd){.fd = v->pipe_fd, .events = POLLIN};
    return 1;
}

/* Whether pid is exiting (PF_EXITING in the flags of /proc/<pid>/stat) or gone. */
static bool exiting(long pid)
{
    char path[64], text[1024];
    size_t len;
    unsigned long flags;

    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
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
static bool victim_cgroup(long pid, char *buf, size_t size)
{
    char path[64], text[8192];
    size_t len;
    bool have_v1 = false, have_unified = false;
    char v1[1024] = "", unified[1024] = "";

    snprintf(path, sizeof(path), "/proc/%ld/cgroup", pid);
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

static void victim(struct watch_victim *v, const char *line, size_t len)
{
    struct trace_kv kv[TRACE_FIELDS_MAX];
    char comm[64] = "", cgroup[1024] = "", path[64], key[64];
    size_t n, clen;
    const char *pid_s, *c;
    char *end;

    if (trace_line_parse(line, len, "mark_victim", kv, TRACE_FIELDS_MAX, &n) < 0)
        return;
    pid_s = trace_kv_get(kv, n, "pid");
    errno = 0;
    long pid = pid_s ? strtol(pid_s, &end, 10) : -1;
    if (!pid_s || errno || *end || pid <= 0 || pid > 4194304) {
        log_warning("oom:mark_victim line without a valid pid: %.200s", line);
        return;
    }
    c = trace_kv_get(kv, n, "comm");
    if (c)
        snprintf(comm, sizeof(comm), "%s", c);
    else {
        snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
        if (oom_watch_read(path, comm, sizeof(comm), &clen) >= 0) {
            comm[strcspn(comm, "\n")] = '\0';
            for (char *q = comm; *q; q++)
                if (*q < 0x20 || *q >= 0x7f)
                    *q = '?';
        }
    }
    bool have_cgroup = victim_cgroup(pid, cgroup, sizeof(cgroup));
    json_object *t = oom_watch_text_new(v->w, "oom_victim");
    json_object_object_add(t, "pid", json_object_new_int64(pid));
    json_object_object_add(t, "comm", *comm ? json_object_new_string(comm) : NULL);
    json_object_object_add(t, "cgroup", have_cgroup ? json_object_new_string(cgroup) : NULL);
    json_object *fields = json_object_new_object();
    for (size_t i = 0; i < n; i++)
        json_object_object_add(fields, kv[i].key, json_object_new_string(kv[i].value));
    json_object_object_add(t, "fields", fields);
    snprintf(key, sizeof(key), "pid:%ld", pid);
    oom_watch_alarm(v->w, SENTRY_ALARM_ID_OOM_KILL, SENTRY_ALARM_MAJOR, have_cgroup ? cgroup : key,
                    t);
}

void watch_victim_handle(struct watch_victim *v, const struct pollfd *fds, int n)
{
    if (!v || n < 1 || !(fds[0].revents & POLLIN))
        return;
    for (;;) {
        ssize_t got = read(v->pipe_fd, v->buf + v->have, sizeof(v->buf) - v->have);
        if (got <= 0)
            break;
        v->have += (size_t) got;
        char *start = v->buf, *nl;
        while ((nl = memchr(start, '\n', v->have - (size_t) (start - v->buf)))) {
            if (!v->overlong)
                victim(v, start, (size_t) (nl - start));
            v->overlong = false;
            start = nl + 1;
        }
        v->have -= (size_t) (start - v->buf);
        memmove(v->buf, start, v->have);
        if (v->have == sizeof(v->buf)) {
            /* no trace line is this long: drop it rather than wait forever */
            v->have = 0;
            v->overlong = true;
        }
    }
}

struct watch_victim *watch_victim_close(struct watch_victim *v)
{
    char path[4400];

    if (!v)
        return NULL;
    if (v->pipe_fd >= 0)
        close(v->pipe_fd);
    snprintf(path, sizeof(path), "%s/%s/enable", v->instance, EVENT_DIR);
    write_str(path, "0");
    rmdir(v->instance);
    free(v);
    return NULL;
}
