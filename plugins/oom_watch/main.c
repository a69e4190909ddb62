/* oom_watch: OOM early warning and panics of earlier boots, on any kernel and without sentry's
 * kernel module (docs/plugins/oom_watch.md). Four sources, each on or off alone: PSI triggers
 * (watch_psi.c), memory cgroup counters (watch_memcg.c), the oom:mark_victim tracepoint
 * (watch_victim.c) and pstore (pstore_scan.c, once at start). One thread, one poll() over
 * every descriptor; SIGTERM ends it with the result PASS. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "json_util.h"
#include "log.h"
#include "oom_watch.h"
#include "plugin_args.h"
#include "sentry-build-config.h"

/* Heartbeats go at least this often: the .mod asks for one every 60 s. */
#define HEARTBEAT_USEC (20 * USEC_PER_SEC)

static volatile sig_atomic_t stop_asked;

static void on_stop(int sig)
{
    stop_asked = 1;
}

static const char about[] =
    "sentry's OOM early warning: PSI triggers and memory cgroup counters raise\n"
    "alarm 1017, OOM kills alarm 1018, panics kept in pstore alarm 1019.\n"
    "Runs as a sentryd task (oom_watch.mod); docs/plugins/oom_watch.md.";

static void result(struct oom_watch *w, enum sentry_result_level level, json_object *details)
{
    int r = sentry_result(w->client, w->task, level, json_plain(details, NULL));
    if (r < 0)
        log_warning_errno(r, "cannot report the result: %m (%s)",
                          strna(sentry_error_message(w->client)));
}

static void source_state(json_object *o, const char *name, bool configured, bool on)
{
    json_object_object_add(o, name,
                           json_object_new_string(!configured ? "off (configuration)"
                                                  : on        ? "on"
                                                              : "off (not available here)"));
}

int main(int argc, char **argv)
{
    static struct oom_watch w;
    struct oom_config cfg;
    struct config_msgs msgs = {0};
    struct watch_psi *psi = NULL;
    struct watch_memcg *memcg = NULL;
    struct watch_victim *victim = NULL;
    int exit_code = 0, r;

    const char *path = plugin_parse_args("oom_watch", about, argc, argv, &exit_code);
    if (!path)
        return exit_code;
    log_setup("oom_watch", LOG_TARGET_STDERR, LOG_INFO);
    signal(SIGPIPE, SIG_IGN);
    w.task = sentry_task_name() ? sentry_task_name() : "oom_watch";
    r = sentry_connect(NULL, &w.client);
    if (r < 0)
        return log_error_errno(r, "cannot connect to sentryd: %m"), 1;

    if (oom_config_init(&cfg) < 0)
        return log_oom(), 1;
    r = oom_config_load(&cfg, path, &msgs);
    config_msgs_log(&msgs);
    if (r < 0) {
        _cleanup_free_ char *errors = config_msgs_join(&msgs, CONFIG_MSG_ERROR, "; ");
        _cleanup_json_ json_object *d = json_object_new_object();
        json_object_object_add(d, "msg",
                               json_object_new_string(errors && *errors ? errors : strerror(-r)));
        result(&w, SENTRY_RESULT_FAIL, d);
        config_msgs_done(&msgs);
        oom_config_done(&cfg);
        sentry_close(w.client);
        return 1;
    }
    config_msgs_done(&msgs);
    log_set_max_level(cfg.log_level);
    w.cfg = &cfg;
    if (gethostname(w.node, sizeof(w.node) - 1) < 0)
        snprintf(w.node, sizeof(w.node), "unknown");
    alarm_gate_init(&w.gate, (uint64_t) cfg.rate_limit_interval * USEC_PER_SEC);

    struct sigaction sa = {.sa_handler = on_stop};
    sigset_t block, unblocked;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    /* blocked except inside ppoll(): a stop can never fall between the check and the wait */
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &unblocked);

    if (cfg.psi)
        watch_psi_open(&w, &psi);
    if (cfg.memcg)
        watch_memcg_open(&w, &memcg);
    if (cfg.oom_victim)
        watch_victim_open(&w, &victim);
    bool pstore_ok = cfg.pstore && pstore_scan(&w) >= 0;

    _cleanup_json_ json_object *details = json_object_new_object();
    json_object *sources = json_object_new_object();
    source_state(sources, "psi", cfg.psi, psi);
    source_state(sources, "memcg", cfg.memcg, memcg);
    source_state(sources, "oom_victim", cfg.oom_victim, victim);
    source_state(sources, "pstore", cfg.pstore, pstore_ok);
    json_object_object_add(details, "sources", sources);
    result(&w, SENTRY_RESULT_PASS, details);
    log_info("started: %s", json_plain(sources, NULL));

    uint64_t last_beat = now_monotonic_usec();
    while (!stop_asked && (psi || memcg || victim)) {
        struct pollfd fds[OOM_WATCH_FDS_MAX];
        int np = watch_psi_fds(psi, fds, OOM_WATCH_FDS_MAX);
        int nm = watch_memcg_fds(memcg, fds + np, OOM_WATCH_FDS_MAX - np);
        int nv = watch_victim_fds(victim, fds + np + nm, OOM_WATCH_FDS_MAX - np - nm);
        unsigned wait_s = MIN(cfg.poll_interval, (unsigned) (HEARTBEAT_USEC / USEC_PER_SEC));
        struct timespec ts = {.tv_sec = wait_s};

        r = ppoll(fds, (nfds_t) (np + nm + nv), &ts, &unblocked);
        if (r < 0 && errno != EINTR) {
            log_error_errno(errno, "poll: %m");
            exit_code = 1;
            break;
        }
        if (r > 0) {
            watch_psi_handle(psi, fds, np);
            watch_victim_handle(victim, fds + np + nm, nv);
        }
        /* also on the timeout: a missed wake-up costs at most poll_interval */
        if (r >= 0)
            watch_memcg_handle(memcg, fds + np, r > 0 ? nm : 0);
        if (now_monotonic_usec() - last_beat >= HEARTBEAT_USEC) {
            r = sentry_heartbeat(w.client, w.task);
            if (r < 0)
                log_warning_errno(r, "heartbeat: %m");
            last_beat = now_monotonic_usec();
        }
    }
    if (stop_asked)
        log_info("stop asked, exiting");
    else if (exit_code == 0)
        log_info("nothing left to watch, exiting");
    result(&w, exit_code ? SENTRY_RESULT_FAIL : SENTRY_RESULT_PASS, details);
    watch_victim_close(victim);
    watch_memcg_close(memcg);
    watch_psi_close(psi);
    oom_config_done(&cfg);
    sentry_close(w.client);
    return exit_code;
}
