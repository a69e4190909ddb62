/* event_switches.c: see event_switches.h.
 *
 * Owns the counts of clients per switch and at most one module load per switch directory (a
 * child process followed by a pidfd event source, with a kill timer). Nothing here blocks the
 * loop for longer than a write to /proc. */
#include <fcntl.h>
#include <signal.h>

#include "event_switches.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "process_spawn.h"
#include "time_util.h"

#define LOAD_TIMEOUT_USEC (3 * USEC_PER_SEC) /* the reference's modprobe timeout */
#define SWITCH_READ_MAX   64
#define SENTRY_MODULE     "sentry_msg_helper" /* makes both directories */
#define LOAD_DIRS         2

/* Loading the module of one switch directory: tried once per run, one candidate at a time. */
struct module_load {
    struct event_switches *owner;
    const char *dir;
    const char *candidates[2]; /* the reference's module name, then ours */
    unsigned next;             /* candidate to run next */
    bool started;              /* tried this run: never again */
    sd_event_source *child, *timer;
};

struct event_switches {
    sd_event *event;
    char *dir, *loader;
    struct kernel_switch_refs refs;
    bool waiting[KERNEL_SWITCH_COUNT];        /* to turn on once the load ends */
    bool missing_logged[KERNEL_SWITCH_COUNT]; /* "no kernel switch" said once per id */
    struct module_load loads[LOAD_DIRS];
};

static int switch_index(const struct kernel_switch *k)
{
    return (int) (k - kernel_switches);
}

static struct module_load *switch_load(struct event_switches *s, const struct kernel_switch *k)
{
    for (int i = 0; i < LOAD_DIRS; i++)
        if (streq(s->loads[i].dir, k->dir))
            return &s->loads[i];
    return NULL;
}

static bool module_load_running(const struct module_load *l)
{
    return l->child != NULL;
}

static int module_load_start(struct module_load *l);

/* Writes "on\n" / "off\n". -errno. */
static int switch_write(const char *path, bool on)
{
    _cleanup_close_ int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    return on ? write_all(fd, "on\n", 3) : write_all(fd, "off\n", 4);
}

/* Whether the switch reads "on" (with or without the newline). */
static bool switch_reads_on(const char *path)
{
    _cleanup_free_ char *text = NULL;
    size_t len;

    if (read_file_bounded(AT_FDCWD, path, O_NOFOLLOW, SWITCH_READ_MAX, &text, &len, NULL) < 0)
        return false;
    return streq(text, "on\n") || streq(text, "on");
}

static bool dir_exists(const struct event_switches *s, const char *dir)
{
    _cleanup_free_ char *p = NULL;
    if (asprintf(&p, "%s/%s", s->dir, dir) < 0)
        return false;
    return access(p, F_OK) >= 0;
}

static void switch_missing(struct event_switches *s, const struct kernel_switch *k,
                           const char *path)
{
    int i = switch_index(k);
    if (s->missing_logged[i])
        return;
    s->missing_logged[i] = true;
    log_info("no kernel switch for event %u: %s does not exist (is the " SENTRY_MODULE
             " module loaded?)",
             k->id, path);
}

/* Sets one switch as its count says. */
static void switch_apply(struct event_switches *s, const struct kernel_switch *k, bool on)
{
    _cleanup_free_ char *path = NULL;
    int r;

    if (asprintf(&path, "%s/%s/%s", s->dir, k->dir, k->file) < 0) {
        log_oom();
        return;
    }
    if (on && switch_reads_on(path)) {
        log_debug("kernel switch %s already on (event %u)", path, k->id);
        return;
    }
    r = switch_write(path, on);
    if (r == -ENOENT && on) {
        struct module_load *l = switch_load(s, k);
        /* a missing directory is a module not loaded; a missing file one it does not have */
        if (l && !l->started && !isempty(s->loader) && !dir_exists(s, k->dir) &&
            module_load_start(l) >= 0) {
            s->waiting[switch_index(k)] = true;
            return;
        }
        if (l && module_load_running(l)) {
            s->waiting[switch_index(k)] = true;
            return;
        }
        switch_missing(s, k, path);
        return;
    }
    if (r == -ENOENT) /* off: nothing to turn off */
        return;
    if (r < 0) {
        log_warning_errno(r, "cannot turn kernel switch %s %s (event %u): %m", path,
                          on ? "on" : "off", k->id);
        return;
    }
    log_info("kernel switch %s turned %s (event %u: %s)", path, on ? "on" : "off", k->id,
             on ? "a client subscribed" : "its last client left");
}

/* The load of l's directory ended (or gave up): the switches that waited for it are tried
 * again, or the next candidate module runs while the directory is still missing. */
static void module_load_ended(struct module_load *l)
{
    struct event_switches *s = l->owner;

    l->child = sd_event_source_disable_unref(l->child);
    l->timer = sd_event_source_disable_unref(l->timer);
    if (!dir_exists(s, l->dir) && l->next < ELEMENTSOF(l->candidates) && module_load_start(l) >= 0)
        return;
    for (int i = 0; i < KERNEL_SWITCH_COUNT; i++) {
        const struct kernel_switch *k = &kernel_switches[i];
        if (!s->waiting[i] || !streq(k->dir, l->dir))
            continue;
        s->waiting[i] = false;
        if (s->refs.count[i] > 0)
            switch_apply(s, k, true);
    }
}

static int on_load_exit(sd_event_source *src, const siginfo_t *si, void *userdata)
{
    struct module_load *l = userdata;
    char how[96];

    process_describe_exit(si->si_code, si->si_status, how, sizeof(how));
    log_debug("%s %s %s", l->owner->loader, l->candidates[l->next - 1], how);
    module_load_ended(l);
    return 0;
}

static int on_load_timeout(sd_event_source *src, uint64_t usec, void *userdata)
{
    struct module_load *l = userdata;

    log_warning("%s %s did not end within %llu s: killed", l->owner->loader,
                l->candidates[l->next - 1],
                (unsigned long long) (LOAD_TIMEOUT_USEC / USEC_PER_SEC));
    /* the exit event follows and ends the load; if the signal cannot be sent, end it here */
    if (sd_event_source_send_child_signal(l->child, SIGKILL, NULL, 0) < 0)
        module_load_ended(l);
    return 0;
}

/* Runs the next candidate: loader MODULE, output to /dev/null, a minimal environment. */
static int module_load_start(struct module_load *l)
{
    struct event_switches *s = l->owner;
    char *env[] = {(char *) "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
    char *argv[] = {s->loader, (char *) l->candidates[l->next], NULL};
    struct spawn_params sp = {.argv = argv, .env = env, .output_fd = -1, .cgroup_fd = -1};
    _cleanup_close_ int pidfd = -EBADF;
    const char *step;
    pid_t pid;
    int r;

    l->started = true;
    l->next++;
    r = process_spawn(&sp, &pid, &pidfd, &step);
    if (r < 0)
        return log_warning_errno(r, "cannot run %s %s%s%s: %m", s->loader, argv[1],
                                 step ? ": " : "", step ? step : "");
    r = sd_event_add_child_pidfd(s->event, &l->child, pidfd, WEXITED, on_load_exit, l);
    if (r < 0) {
        (void) kill(pid, SIGKILL);
        (void) waitpid(pid, NULL, 0);
        return log_warning_errno(r, "cannot follow %s: %m", s->loader);
    }
    (void) sd_event_source_set_child_pidfd_own(l->child, true);
    TAKE_FD(pidfd);
    /* freeing the source kills and reaps the child */
    (void) sd_event_source_set_child_process_own(l->child, true);
    r = sd_event_add_time_relative(s->event, &l->timer, CLOCK_MONOTONIC, LOAD_TIMEOUT_USEC, 0,
                                   on_load_timeout, l);
    if (r < 0) {
        l->child = sd_event_source_disable_unref(l->child);
        return log_warning_errno(r, "cannot time %s: %m", s->loader);
    }
    log_info("loading kernel module %s for %s/%s (%s)", argv[1], s->dir, l->dir, s->loader);
    return 0;
}

int event_switches_new(const struct event_switches_params *p, struct event_switches **ret)
{
    struct event_switches *s = calloc(1, sizeof(*s));

    if (!s)
        return -ENOMEM;
    s->event = p->event;
    s->dir = strdup(p->dir);
    s->loader = p->loader ? strdup(p->loader) : NULL;
    if (!s->dir || (p->loader && !s->loader)) {
        event_switches_free(s);
        return -ENOMEM;
    }
    static const char *const dirs[LOAD_DIRS] = {"sentry_reporter", "sentry_remote_reporter"};
    for (int i = 0; i < LOAD_DIRS; i++)
        s->loads[i] = (struct module_load){
            .owner = s, .dir = dirs[i], .candidates = {dirs[i], SENTRY_MODULE}};
    *ret = s;
    return 0;
}

struct event_switches *event_switches_free(struct event_switches *s)
{
    if (!s)
        return NULL;
    for (int i = 0; i < LOAD_DIRS; i++) {
        sd_event_source_disable_unref(s->loads[i].timer);
        sd_event_source_unref(s->loads[i].child); /* kills and reaps a load still running */
    }
    free(s->dir);
    free(s->loader);
    free(s);
    return NULL;
}

void event_switches_change(struct event_switches *s, struct xalarm_id_set *held,
                           const struct xalarm_id_set *want)
{
    struct xalarm_id_set on, off;

    if (!s)
        return;
    kernel_switch_refs_change(&s->refs, held, want, &on, &off);
    for (int i = 0; i < KERNEL_SWITCH_COUNT; i++) {
        const struct kernel_switch *k = &kernel_switches[i];
        if (xalarm_id_set_has(&on, k->id))
            switch_apply(s, k, true);
        else if (xalarm_id_set_has(&off, k->id)) {
            s->waiting[i] = false;
            switch_apply(s, k, false);
        }
    }
}

unsigned event_switches_clients(const struct event_switches *s, unsigned id)
{
    return s ? kernel_switch_refs_get(&s->refs, id) : 0;
}
