/* mem_sentry: memory errors from the kernel's RAS tracepoints, corrected errors counted per page,
 * row, DIMM and socket, pages offlined and the offline verified (docs/plugins/mem_sentry.md).
 * One thread, one ppoll() over the trace instance and the configuration's directory (inotify:
 * an edited file is reloaded live, as on SIGHUP); SIGTERM ends it with the result PASS. */
#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>
#include <urcu.h>

#include "json_util.h"
#include "log.h"
#include "mem_sentry.h"
#include "mem_view_fit.h"
#include "plugin_args.h"
#include "sentry-build-config.h"

#define HEARTBEAT_NS  (20ULL * 1000000000ULL) /* the .mod asks for one every 60 s */
#define TICK_NS       (5ULL * 1000000000ULL)  /* buckets draining, HardwareCorrupted */
#define VIEW_EVERY_NS (2ULL * 1000000000ULL)  /* the result's details, when they changed */

/* The view's JSON at most: a protocol line holds it with the request around it. */
#define VIEW_MAX (SENTRY_LINE_MAX - 4096)

static const char *const view_tables[] = {"dimms", "pages", "offlined", NULL};

static volatile sig_atomic_t stop_asked, reload_asked;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        reload_asked = 1;
    else
        stop_asked = 1;
}

static const char about[] =
    "sentry's memory error checker: machine checks, EDAC, memory failures and\n"
    "firmware error logs from the kernel's RAS tracepoints; corrected errors\n"
    "counted per page, row, DIMM and socket; pages offlined and verified. Alarm\n"
    "1001. Runs as a sentryd task (mem_sentry.mod); SIGHUP or an edit of the\n"
    "configuration reloads it. docs/plugins/mem_sentry.md.";

static void result(struct mem_sentry *m, enum sentry_result_level level, json_object *details)
{
    int r = sentry_result(m->client, m->task, level, json_plain(details, NULL));
    if (r < 0)
        log_warning_errno(r, "cannot report the result: %m (%s)",
                          strna(sentry_error_message(m->client)));
}

static void publish_view(struct mem_sentry *m, const char *config_error)
{
    _cleanup_json_ json_object *d = mem_view(m);

    if (!d)
        return;
    if (config_error)
        json_object_object_add(d, "config_error", json_object_new_string(config_error));
    if (mem_view_fit(d, view_tables, VIEW_MAX) < 0)
        log_warning("the view does not fit a protocol line: not published");
    else
        result(m, SENTRY_RESULT_PASS, d);
    m->view_dirty = false;
}

/* Loads path into cfg; the errors joined into *errors (malloc'ed) when it is invalid. */
static int load_config(const char *path, struct mem_config *cfg, char **errors)
{
    struct config_msgs msgs = {0};
    int r;

    mem_config_init(cfg);
    r = mem_config_load(cfg, path, &msgs);
    config_msgs_log(&msgs);
    if (r < 0) {
        char *e = config_msgs_join(&msgs, CONFIG_MSG_ERROR, "; ");
        if (!e || !*e) {
            free(e);
            e = strdup(strerror(-r));
        }
        *errors = e;
    }
    config_msgs_done(&msgs);
    return r;
}

static int start_policy(struct mem_sentry *m)
{
    int r = mem_policy_init(&m->policy, &m->cfg, m->page_size);

    m->policy_ok = r >= 0;
    if (r < 0)
        return log_error_errno(r, "cannot set up the policy: %m");
    /* pages already offlined (the state file) count against the isolation budget */
    m->policy.stats.offlined_pages = m->offlined.n;
    unsigned cpus_gone = m->cpu.offlined; /* CPUs offlined stay counted across a reload */
    cpu_policy_done(&m->cpu);
    r = cpu_policy_init(&m->cpu, &m->cfg);
    if (r < 0)
        return log_error_errno(r, "cannot set up the CPU policy: %m");
    m->cpu.offlined = cpus_gone;
    return 0;
}

/* A reload: the new file checked whole before anything changes; invalid: the old one stays. */
static void reload(struct mem_sentry *m, const char *path, char **config_error)
{
    struct mem_config cfg;
    char *errors = NULL;

    if (load_config(path, &cfg, &errors) < 0) {
        log_error("%s not reloaded, the configuration in use stays: %s", path, strna(errors));
        free(*config_error);
        *config_error = errors;
        m->view_dirty = true;
        return;
    }
    free(*config_error);
    *config_error = NULL;
    bool source_changed = strcmp(cfg.tracefs, m->cfg.tracefs) != 0 ||
                          cfg.mount_tracefs != m->cfg.mount_tracefs ||
                          cfg.buffer_kb != m->cfg.buffer_kb;
    if (m->policy_ok)
        mem_policy_done(&m->policy);
    m->cfg = cfg;
    start_policy(m);
    if (source_changed || !m->reader) {
        trace_reader_free(m->reader);
        m->reader = NULL;
        memset(m->source_on, 0, sizeof(m->source_on));
        mem_run_open_source(m);
    }
    log_info("%s reloaded: the counting starts again", path);
    m->view_dirty = true;
}

/* inotify on the configuration's directory: editors replace files (rename), so the file itself
 * cannot be watched. -1 when inotify is not there: SIGHUP still reloads. */
static int watch_config(const char *path, char **name)
{
    _cleanup_free_ char *copy = strdup(path), *copy2 = strdup(path);
    int fd;

    if (!copy || !copy2)
        return -1;
    fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0)
        return log_warning_errno(errno, "inotify: %m; only SIGHUP reloads the configuration"), -1;
    if (inotify_add_watch(fd, dirname(copy), IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE) < 0) {
        log_warning_errno(errno, "cannot watch %s: %m; only SIGHUP reloads the configuration",
                          copy);
        close(fd);
        return -1;
    }
    *name = strdup(basename(copy2));
    return fd;
}

/* Whether the events read name the configuration file. */
static bool config_touched(int fd, const char *name)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool hit = false;
    ssize_t n;

    while ((n = read(fd, buf, sizeof(buf))) > 0)
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *e = (struct inotify_event *) p;
            if (e->len && name && strcmp(e->name, name) == 0)
                hit = true;
            p += sizeof(*e) + e->len;
        }
    return hit;
}

int main(int argc, char **argv)
{
    static struct mem_sentry m;
    _cleanup_free_ char *config_error = NULL, *config_name = NULL;
    int exit_code = 0, r;

    const char *path = plugin_parse_args("mem_sentry", about, argc, argv, &exit_code);
    if (!path)
        return exit_code;
    log_setup("mem_sentry", LOG_TARGET_STDERR, LOG_INFO);
    signal(SIGPIPE, SIG_IGN);
    rcu_register_thread(); /* the policy's tables are liburcu hash tables */
    m.task = sentry_task_name() ? sentry_task_name() : "mem_sentry";
    m.roots = (struct page_offline_roots){.sysfs = "/sys", .proc = "/proc"};
    m.page_size = (unsigned) sysconf(_SC_PAGESIZE);
    m.page_shift = (unsigned) __builtin_ctz(m.page_size);
    if (gethostname(m.node, sizeof(m.node) - 1) < 0)
        snprintf(m.node, sizeof(m.node), "unknown");
    r = sentry_connect(NULL, &m.client);
    if (r < 0)
        return log_error_errno(r, "cannot connect to sentryd: %m"), 1;

    if (load_config(path, &m.cfg, &config_error) < 0) {
        _cleanup_json_ json_object *d = json_object_new_object();
        json_object_object_add(d, "msg", json_object_new_string(config_error));
        result(&m, SENTRY_RESULT_FAIL, d);
        sentry_close(m.client);
        return 1;
    }
    struct config_msgs msgs = {0};
    /* the budget's pages, and room for pages the kernel poisoned itself (memory failures) */
    r = offline_state_init(
        &m.offlined, MIN((size_t) m.cfg.max_pages + MEM_POISONED_KEPT, OFFLINE_STATE_MAX_ENTRIES));
    if (r >= 0)
        r = offline_state_load(&m.offlined, m.cfg.state_file, &msgs);
    config_msgs_log(&msgs);
    config_msgs_done(&msgs);
    if (r < 0)
        log_error_errno(r, "the offlined pages of %s are not used (the file is left alone): %m",
                        m.cfg.state_file);
    start_policy(&m);
    mem_run_open_source(&m);
    mem_run_reoffline(&m);

    struct sigaction sa = {.sa_handler = on_signal};
    sigset_t block, unblocked;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    /* blocked except inside ppoll(): a signal never falls between the check and the wait */
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, &unblocked);
    int ino = watch_config(path, &config_name);

    publish_view(&m, NULL);
    log_info("started");
    uint64_t last_beat = mem_now_ns(), last_tick = 0, last_view = mem_now_ns();
    while (!stop_asked) {
        struct pollfd fds[2];
        nfds_t n = 0;
        int fd = trace_reader_fd(m.reader);
        if (fd >= 0)
            fds[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
        if (ino >= 0)
            fds[n++] = (struct pollfd){.fd = ino, .events = POLLIN};
        uint64_t now = mem_now_ns(), wait = TICK_NS, next = mem_run_next_retry(&m);
        if (next != UINT64_MAX)
            wait = next > now ? MIN(wait, next - now) : 0;
        if (m.view_dirty)
            wait = MIN(wait, VIEW_EVERY_NS);
        struct timespec ts = {.tv_sec = (time_t) (wait / 1000000000ULL),
                              .tv_nsec = (long) (wait % 1000000000ULL)};

        r = ppoll(fds, n, &ts, &unblocked);
        if (r < 0 && errno != EINTR) {
            log_error_errno(errno, "poll: %m");
            exit_code = 1;
            break;
        }
        for (nfds_t i = 0; r > 0 && i < n; i++) {
            if (!fds[i].revents)
                continue;
            if (fds[i].fd == ino) {
                if (config_touched(ino, config_name))
                    reload_asked = 1;
            } else if (m.reader && mem_run_read(&m) < 0) {
                log_error("the trace instance cannot be read any more: memory error events off");
            }
        }
        if (reload_asked) {
            reload_asked = 0;
            reload(&m, path, &config_error);
        }
        now = mem_now_ns();
        if (now - last_tick >= TICK_NS || mem_run_next_retry(&m) <= now) {
            mem_run_tick(&m);
            last_tick = now;
        }
        if (m.view_dirty && now - last_view >= VIEW_EVERY_NS) {
            publish_view(&m, config_error);
            last_view = now;
        }
        if (now - last_beat >= HEARTBEAT_NS) {
            r = sentry_heartbeat(m.client, m.task);
            if (r < 0)
                log_warning_errno(r, "heartbeat: %m");
            last_beat = now;
        }
    }
    if (stop_asked)
        log_info("stop asked, exiting");
    if (m.reader)
        mem_run_read(&m); /* what came before the stop */
    publish_view(&m, config_error);
    if (ino >= 0)
        close(ino);
    trace_reader_free(m.reader);
    if (m.policy_ok)
        mem_policy_done(&m.policy);
    cpu_policy_done(&m.cpu);
    offline_state_done(&m.offlined);
    sentry_close(m.client);
    rcu_unregister_thread();
    return exit_code;
}
