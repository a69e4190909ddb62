/* watch_memcg.c: the event counters of the configured memory cgroups. cgroup v2: memory.events,
 * whose changes the kernel announces as file-modified events (inotify IN_MODIFY); cgroup v1:
 * memory.oom_control, whose OOM the kernel announces on an eventfd registered in
 * cgroup.event_control. Every wake-up, and every poll_interval seconds in case one was missed,
 * all counters are read again: oom_kill growing is alarm 1018 (MAJOR); high, max, oom growing or
 * under_oom turning 1 is alarm 1017 (MINOR for high/max, MAJOR for oom). The counts at start
 * are the baseline: what happened before is not reported. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cgroup_mount.h"
#include "json_util.h"
#include "log.h"
#include "memcg_events.h"
#include "oom_watch.h"

struct memcg {
    struct cgroup_where where;
    char file[CGROUP_PATH_MAX + 32]; /* memory.events or memory.oom_control */
    int efd;                         /* v1: the eventfd of cgroup.event_control, else -1 */
    struct memcg_events last;
    bool have_last;
    bool unreadable; /* said once until it reads again */
};

struct watch_memcg {
    struct oom_watch *w;
    int inotify_fd;
    struct memcg cg[OOM_CONFIG_CGROUPS_MAX];
    int n;
};

static int read_counters(struct memcg *c, struct memcg_events *ret)
{
    char buf[1024];
    size_t len;
    int r = oom_watch_read(c->file, buf, sizeof(buf), &len);
    return r < 0 ? r : memcg_events_parse(buf, len, ret);
}

/* v1: "<eventfd> <fd of memory.oom_control>" into cgroup.event_control (memory.txt, 9). */
static int v1_register(struct memcg *c, const char *dir)
{
    char path[CGROUP_PATH_MAX + 32], line[64];
    _cleanup_close_ int ofd = open(c->file, O_RDONLY | O_CLOEXEC);
    _cleanup_close_ int cfd = -EBADF;
    int efd;

    if (ofd < 0)
        return -errno;
    snprintf(path, sizeof(path), "%s/cgroup.event_control", dir);
    cfd = open(path, O_WRONLY | O_CLOEXEC);
    if (cfd < 0)
        return -errno;
    efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0)
        return -errno;
    snprintf(line, sizeof(line), "%d %d", efd, ofd);
    if (write(cfd, line, strlen(line)) < 0) {
        int r = -errno;
        close(efd);
        return r;
    }
    c->efd = efd;
    return 0;
}

static int cgroup_add(struct watch_memcg *m, const char *dir)
{
    struct memcg *c = &m->cg[m->n];
    int r;

    *c = (struct memcg){.efd = -1};
    r = oom_watch_cgroup_where(dir, &c->where);
    if (r < 0)
        return log_warning_errno(r,
                                 "%s: not a memory cgroup (v1 memory or v2) here: %m; not "
                                 "watched",
                                 dir);
    snprintf(c->file, sizeof(c->file), "%s/%s", dir,
             c->where.version == CGROUP_V2 ? "memory.events" : "memory.oom_control");
    r = read_counters(c, &c->last);
    if (r < 0)
        return log_warning_errno(r, "%s: cannot read its counters: %m; not watched", c->file);
    c->have_last = true;
    if (c->where.version == CGROUP_V2) {
        if (inotify_add_watch(m->inotify_fd, c->file, IN_MODIFY) < 0)
            log_warning_errno(errno, "%s: no inotify watch (%m): read every poll_interval",
                              c->file);
    } else if ((r = v1_register(c, dir)) < 0)
        log_warning_errno(r, "%s: no OOM eventfd (%m): read every poll_interval", dir);
    log_info("watching %s (cgroup v%d %s)", c->file, c->where.version, c->where.name);
    m->n++;
    return 0;
}

int watch_memcg_open(struct oom_watch *w, struct watch_memcg **ret)
{
    _cleanup_free_ struct watch_memcg *m = calloc(1, sizeof(*m));

    if (!m)
        return -ENOMEM;
    m->w = w;
    m->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (m->inotify_fd < 0)
        log_warning_errno(errno, "no inotify (%m): cgroup v2 counters read every poll_interval");
    for (char **d = w->cfg->cgroups; d && *d && m->n < OOM_CONFIG_CGROUPS_MAX; d++)
        cgroup_add(m, *d);
    if (m->n == 0) {
        if (m->inotify_fd >= 0)
            close(m->inotify_fd);
        log_info("no memory cgroup to watch: memcg counters off");
        return -ENOENT;
    }
    *ret = TAKE_PTR(m);
    return 0;
}

int watch_memcg_fds(struct watch_memcg *m, struct pollfd *fds, int max)
{
    int k = 0;

    if (!m)
        return 0;
    if (m->inotify_fd >= 0 && k < max)
        fds[k++] = (struct pollfd){.fd = m->inotify_fd, .events = POLLIN};
    for (int i = 0; i < m->n && k < max; i++)
        if (m->cg[i].efd >= 0)
            fds[k++] = (struct pollfd){.fd = m->cg[i].efd, .events = POLLIN};
    return k;
}

static json_object *counters_json(const struct memcg_events *e)
{
    json_object *o = json_object_new_object();
    for (int i = 0; i < _MEMCG_COUNTER_MAX; i++)
        if (e->has[i])
            json_object_object_add(o, memcg_counter_to_string(i),
                                   json_object_new_uint64(e->value[i]));
    return o;
}

static json_object *grown_json(const struct memcg_delta *d)
{
    json_object *o = json_object_new_object();
    for (int i = 0; i < _MEMCG_COUNTER_MAX; i++)
        if (d->grew[i])
            json_object_object_add(o, memcg_counter_to_string(i), json_object_new_uint64(d->by[i]));
    return o;
}

static void report(struct watch_memcg *m, struct memcg *c, const struct memcg_events *now,
                   const struct memcg_delta *d)
{
    const char *file = c->where.version == CGROUP_V2 ? "memory.events" : "memory.oom_control";

    if (d->grew[MEMCG_OOM_KILL]) {
        json_object *t = oom_watch_text_new(m->w, "memcg_oom_kill");
        json_object_object_add(t, "cgroup", json_object_new_string(c->where.name));
        json_object_object_add(t, "file", json_object_new_string(file));
        json_object_object_add(t, "killed", json_object_new_uint64(d->by[MEMCG_OOM_KILL]));
        json_object_object_add(t, "counters", counters_json(now));
        oom_watch_alarm(m->w, SENTRY_ALARM_ID_OOM_KILL, SENTRY_ALARM_MAJOR, c->where.name, t);
    }
    bool oom = d->grew[MEMCG_OOM] || d->grew[MEMCG_UNDER_OOM];
    if (oom || d->grew[MEMCG_HIGH] || d->grew[MEMCG_MAX]) {
        json_object *t = oom_watch_text_new(m->w, "memcg_events");
        json_object_object_add(t, "cgroup", json_object_new_string(c->where.name));
        json_object_object_add(t, "file", json_object_new_string(file));
        json_object_object_add(t, "grown", grown_json(d));
        json_object_object_add(t, "counters", counters_json(now));
        oom_watch_alarm(m->w, SENTRY_ALARM_ID_MEMORY_PRESSURE,
                        oom ? SENTRY_ALARM_MAJOR : SENTRY_ALARM_MINOR, c->where.name, t);
    }
}

static void drain(int fd)
{
    char buf[4096];
    while (fd >= 0 && read(fd, buf, sizeof(buf)) > 0)
        ;
}

void watch_memcg_handle(struct watch_memcg *m, const struct pollfd *fds, int n)
{
    if (!m)
        return;
    for (int i = 0; i < n; i++)
        if (fds[i].revents & POLLIN)
            drain(fds[i].fd);
    for (int i = 0; i < m->n; i++) {
        struct memcg *c = &m->cg[i];
        struct memcg_events now;
        struct memcg_delta d;
        int r = read_counters(c, &now);

        if (r < 0) {
            if (!c->unreadable)
                log_warning_errno(r, "%s: cannot read it (%m): the cgroup is gone? Trying on",
                                  c->file);
            c->unreadable = true;
            c->have_last = false;
            continue;
        }
        if (c->unreadable)
            log_info("%s: readable again; counting from here", c->file);
        c->unreadable = false;
        if (c->have_last) {
            memcg_events_delta(&c->last, &now, &d);
            if (d.any)
                report(m, c, &now, &d);
        }
        c->last = now;
        c->have_last = true;
    }
}

struct watch_memcg *watch_memcg_close(struct watch_memcg *m)
{
    if (!m)
        return NULL;
    for (int i = 0; i < m->n; i++)
        if (m->cg[i].efd >= 0)
            close(m->cg[i].efd);
    if (m->inotify_fd >= 0)
        close(m->inotify_fd);
    free(m);
    return NULL;
}
