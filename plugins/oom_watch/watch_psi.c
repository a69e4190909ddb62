/* watch_psi.c: PSI triggers (Documentation/accounting/psi.rst) on /proc/pressure/memory and on
 * the memory.pressure of every configured cgroup v2: one fd per trigger, POLLPRI when the stall
 * passed the threshold within the window. Each firing is alarm 1017 with the averages read from
 * the file ("some" MINOR, "full" MAJOR). A trigger the kernel refuses is off alone. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup_mount.h"
#include "json_util.h"
#include "log.h"
#include "oom_watch.h"
#include "psi.h"

#define SYSTEM_PRESSURE "/proc/pressure/memory"
#define TRIGGERS_MAX    (2 * (OOM_CONFIG_CGROUPS_MAX + 1))

struct psi_trigger {
    int fd;
    enum psi_kind kind;
    char spec[64];                /* what was written: "some 150000 1000000" */
    char cgroup[CGROUP_PATH_MAX]; /* "/" for the system */
    char path[CGROUP_PATH_MAX + 32];
};

struct watch_psi {
    struct oom_watch *w;
    struct psi_trigger t[TRIGGERS_MAX];
    int n;
};

/* Writes the trigger, with its terminating NUL as psi.rst shows (the kernel drops the last byte
 * written). Without CAP_SYS_RESOURCE the kernel takes only windows that are a multiple of 2 s:
 * refused so, the trigger is tried again with the window rounded up, and the log says it. */
static int trigger_write(struct psi_trigger *t, enum psi_kind kind, unsigned stall, unsigned window)
{
    int r = psi_trigger_format(kind, stall, window, t->spec, sizeof(t->spec));
    if (r < 0)
        return r;
    return write(t->fd, t->spec, strlen(t->spec) + 1) < 0 ? -errno : 0;
}

static int trigger_open(struct watch_psi *p, const char *path, const char *cgroup,
                        enum psi_kind kind, unsigned stall)
{
    unsigned window = p->w->cfg->window_us, wider = psi_window_unprivileged(window);
    struct psi_trigger *t = &p->t[p->n];
    int r;

    if (stall == 0 || p->n >= TRIGGERS_MAX)
        return 0;
    t->fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (t->fd < 0)
        return log_warning_errno(errno, "cannot open %s: %m; PSI of %s off", path, cgroup);
    r = trigger_write(t, kind, stall, window);
    if (r == -EINVAL && wider != window) {
        log_warning("%s refused '%s' (no CAP_SYS_RESOURCE?): trying a %u µs window, the "
                    "unprivileged rule",
                    path, t->spec, wider);
        close(t->fd);
        t->fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        r = t->fd < 0 ? -errno : trigger_write(t, kind, stall, wider);
    }
    if (r < 0) {
        log_warning_errno(r, "%s refused the trigger '%s': %m; that trigger off", path, t->spec);
        if (t->fd >= 0)
            close(t->fd);
        return r;
    }
    t->kind = kind;
    snprintf(t->cgroup, sizeof(t->cgroup), "%s", cgroup);
    snprintf(t->path, sizeof(t->path), "%s", path);
    log_info("PSI trigger '%s' on %s (cgroup %s)", t->spec, path, cgroup);
    p->n++;
    return 0;
}

static void open_both(struct watch_psi *p, const char *path, const char *cgroup)
{
    trigger_open(p, path, cgroup, PSI_SOME, p->w->cfg->some_stall_us);
    trigger_open(p, path, cgroup, PSI_FULL, p->w->cfg->full_stall_us);
}

int watch_psi_open(struct oom_watch *w, struct watch_psi **ret)
{
    _cleanup_free_ struct watch_psi *p = calloc(1, sizeof(*p));
    char path[CGROUP_PATH_MAX + 32];

    if (!p)
        return -ENOMEM;
    p->w = w;
    if (access(SYSTEM_PRESSURE, F_OK) < 0) {
        log_warning("%s is not there (a kernel without CONFIG_PSI, or psi=0): PSI off",
                    SYSTEM_PRESSURE);
        return -ENOENT;
    }
    open_both(p, SYSTEM_PRESSURE, "/");
    for (char **d = w->cfg->cgroups; d && *d; d++) {
        struct cgroup_where where;
        int r = oom_watch_cgroup_where(*d, &where);
        if (r < 0 || where.version != CGROUP_V2) {
            log_info("%s: no cgroup v2 directory, no PSI of its own (v1 has none)", *d);
            continue;
        }
        snprintf(path, sizeof(path), "%s/memory.pressure", *d);
        open_both(p, path, where.name);
    }
    if (p->n == 0) {
        log_warning("no PSI trigger could be set: PSI off");
        return -ENODEV;
    }
    *ret = TAKE_PTR(p);
    return 0;
}

int watch_psi_fds(struct watch_psi *p, struct pollfd *fds, int max)
{
    int k = 0;
    for (int i = 0; p && i < p->n && k < max; i++)
        if (p->t[i].fd >= 0)
            fds[k++] = (struct pollfd){.fd = p->t[i].fd, .events = POLLPRI};
    return k;
}

static json_object *line_json(const struct psi_line *l)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "avg10", json_object_new_double(l->avg10));
    json_object_object_add(o, "avg60", json_object_new_double(l->avg60));
    json_object_object_add(o, "avg300", json_object_new_double(l->avg300));
    json_object_object_add(o, "total_us", json_object_new_uint64(l->total));
    return o;
}

static void fired(struct watch_psi *p, struct psi_trigger *t)
{
    char buf[1024];
    size_t len;
    struct psi_stats st;
    json_object *text = oom_watch_text_new(p->w, "psi");
    json_object *pressure = json_object_new_object();

    json_object_object_add(text, "cgroup", json_object_new_string(t->cgroup));
    json_object_object_add(text, "trigger", json_object_new_string(t->spec));
    if (oom_watch_read(t->path, buf, sizeof(buf), &len) >= 0 &&
        psi_stats_parse(buf, len, &st) >= 0) {
        json_object_object_add(pressure, "some", line_json(&st.some));
        if (st.full.present)
            json_object_object_add(pressure, "full", line_json(&st.full));
    } else
        log_warning("%s: cannot read or parse the pressure figures", t->path);
    json_object_object_add(text, "pressure", pressure);
    oom_watch_alarm(p->w, SENTRY_ALARM_ID_MEMORY_PRESSURE,
                    t->kind == PSI_FULL ? SENTRY_ALARM_MAJOR : SENTRY_ALARM_MINOR, t->cgroup, text);
}

void watch_psi_handle(struct watch_psi *p, const struct pollfd *fds, int n)
{
    for (int i = 0; p && i < n; i++) {
        if (!fds[i].revents)
            continue;
        for (int k = 0; k < p->n; k++) {
            struct psi_trigger *t = &p->t[k];
            if (t->fd != fds[i].fd)
                continue;
            if (fds[i].revents & (POLLERR | POLLHUP | POLLNVAL)) {
                /* the cgroup went away with its file */
                log_warning("%s: trigger '%s' gone (cgroup removed?), off", t->path, t->spec);
                close(t->fd);
                t->fd = -1;
            } else if (fds[i].revents & POLLPRI)
                fired(p, t);
        }
    }
}

struct watch_psi *watch_psi_close(struct watch_psi *p)
{
    for (int i = 0; p && i < p->n; i++)
        if (p->t[i].fd >= 0)
            close(p->t[i].fd);
    free(p);
    return NULL;
}
