/* daemon.c: sentryd's life: set-up in a fixed order (directories, instance lock, event loop,
 * tasks, control socket, READY), signals (TERM/INT stop, HUP reloads the tasks), and the
 * orderly shutdown that stops every task before the loop exits. */
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>

#include <systemd/sd-daemon.h>

#include "daemon.h"
#include "daemon_lifecycle.h"
#include "fileio.h"
#include "instance_lock.h"
#include "sentry/sentry.h"
#include "log.h"
#include "collector.h"
#include "metrics.h"
#include "socket_listener.h"
#include "xalarm_record.h"
#include "xalarm_server.h"
#include "strv.h"

/* Variables of sentryd's own service manager context that must not leak into tasks. */
static const char *const private_env[] = {
    "NOTIFY_SOCKET", "LISTEN_PID",     "LISTEN_FDS",    "LISTEN_FDNAMES", "WATCHDOG_PID",
    "WATCHDOG_USEC", "JOURNAL_STREAM", "INVOCATION_ID", SENTRY_ENV_TASK,  SENTRY_ENV_SOCKET,
};

/* Tasks get sentryd's environment without its own service variables, a PATH, and where the
 * xalarm sockets are (libxalarm reads $SENTRY_XALARM_DIR: a plugin of a sentryd with another
 * [xalarm] dir or root still finds them). */
static char **daemon_make_base_env(const struct daemon_config *c)
{
    extern char **environ;
    char **env = strv_copy(environ);

    if (!env)
        return NULL;
    for (size_t i = 0; i < ELEMENTSOF(private_env); i++)
        strv_env_unset(env, private_env[i]);
    if (c->xalarm_enabled && strv_env_set(&env, XALARM_ENV_DIR, c->xalarm_dir) < 0)
        return strv_free(env);
    if (strv_env_find(env, "PATH") < 0 &&
        strv_env_set(&env, "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") <
            0)
        return strv_free(env);
    return env;
}

static void daemon_notify_status(struct daemon *d)
{
    sd_notifyf(false, "STATUS=%zu task(s), %zu running", task_manager_count(d->tasks),
               task_manager_count_active(d->tasks));
}

static int on_shutdown_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct daemon *d = userdata;
    log_warning("tasks did not stop in time, exiting anyway (they are killed)");
    sd_event_exit(d->event, d->exit_code);
    return 0;
}

/* The store cannot keep up: stop reading reports until it has caught up. */
static void on_backpressure(bool paused, void *userdata)
{
    struct daemon *d = userdata;
    if (d->control)
        control_server_pause_input(d->control, paused);
    xalarm_server_pause(d->xalarm, paused);
}

static void on_bus_change(void *userdata)
{
    struct daemon *d = userdata;
    metrics_writer_touch(d->metrics);
}

static void on_all_idle(void *userdata)
{
    struct daemon *d = userdata;
    log_info("every task stopped, exiting");
    sd_event_exit(d->event, d->exit_code);
}

void daemon_begin_shutdown(struct daemon *d)
{
    if (d->stopping) {
        log_notice("second stop request: exiting now");
        sd_event_exit(d->event, d->exit_code);
        return;
    }
    d->stopping = true;
    sd_notify(false, "STOPPING=1\nSTATUS=stopping tasks");
    log_info("stopping: ending %zu running task(s)", task_manager_count_active(d->tasks));
    /* The longest a task may take: its stop grace, then task_post. */
    usec_t deadline = (usec_t) (d->config.stop_timeout + d->config.hook_timeout + 5) * USEC_PER_SEC;
    sd_event_add_time_relative(d->event, &d->shutdown_timer, CLOCK_MONOTONIC, deadline,
                               USEC_PER_SEC, on_shutdown_deadline, d);
    task_manager_shutdown(d->tasks);
}

void daemon_reload_tasks(struct daemon *d)
{
    _cleanup_free_ char *message = NULL;
    _cleanup_strv_free_ char **warnings = NULL;

    sd_notify(false, "RELOADING=1");
    int r = task_manager_reload(d->tasks, NULL, &message, &warnings);
    log_full_errno(r < 0 ? LOG_WARNING : LOG_INFO, 0, NULL, "reload: %s", strna(message));
    sd_notify(false, "READY=1");
    daemon_notify_status(d);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
    struct daemon *d = userdata;

    switch (si->ssi_signo) {
    case SIGHUP:
        log_info("SIGHUP: reloading the tasks");
        daemon_reload_tasks(d);
        break;
    default:
        log_info("SIG%s received", sigabbrev_np((int) si->ssi_signo));
        daemon_begin_shutdown(d);
    }
    return 0;
}

static int daemon_make_dirs(struct daemon *d)
{
    const struct {
        const char *path;
        mode_t mode;
    } dirs[] = {
        {d->config.run_dir, 0755},
        {d->config.state_dir, 0700},
        {d->config.log_dir, 0700},
    };
    for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
        int r = mkdir_parents(dirs[i].path, dirs[i].mode);
        if (r < 0)
            return log_error_errno(r, "cannot create %s: %m", dirs[i].path);
    }
    struct stat st;
    if (stat(d->config.tasks_dir, &st) < 0)
        log_warning("tasks directory %s does not exist: no task is loaded", d->config.tasks_dir);
    return 0;
}

int daemon_setup(struct daemon *d)
{
    _cleanup_free_ char *lock_path = NULL;
    pid_t holder = 0;
    int r;

    d->lock_fd = -1;
    r = daemon_make_dirs(d);
    if (r < 0)
        return r;

    if (asprintf(&lock_path, "%s/sentryd.pid", d->config.run_dir) < 0)
        return -ENOMEM;
    r = instance_lock_acquire(lock_path, &d->lock_fd, &holder);
    if (r == -EEXIST) {
        log_error("another sentryd (pid %d) already runs with root %s (lock %s): refusing to "
                  "start a second one",
                  (int) holder, d->config.root, lock_path);
        return -EEXIST;
    }
    if (r < 0)
        return log_error_errno(r, "cannot take the lock %s: %m", lock_path);

    r = sd_event_default(&d->event);
    if (r < 0)
        return log_error_errno(r, "cannot create the event loop: %m");
    /* Pings the service manager's watchdog when WatchdogSec= is set; a no-op otherwise. */
    (void) sd_event_set_watchdog(d->event, true);

    d->base_env = daemon_make_base_env(&d->config);
    if (!d->base_env)
        return log_oom();

    struct task_manager_params tp = {
        .event = d->event,
        .tasks_dir = d->config.tasks_dir,
        .log_dir = d->config.log_dir,
        .socket_path = d->config.socket_path,
        .base_env = d->base_env,
        .proc_root = "/proc",
        .defaults = {.interval = d->config.default_interval,
                     .stop_timeout = d->config.stop_timeout},
        .hook_timeout = d->config.hook_timeout,
        .cgroup = d->config.task_cgroup,
        .root = d->config.root,
        .log_max_size = d->config.task_log_max_size,
        .log_max_files = d->config.task_log_max_files,
        .on_all_idle = on_all_idle,
        .userdata = d,
    };
    r = task_manager_new(&tp, &d->tasks);
    if (r < 0)
        return log_oom();
    (void) task_manager_load_all(d->tasks);

    struct alarm_bus_params bp = {
        .event = d->event,
        .db_path = d->config.store_path,
        .sync_full = d->config.store_sync_full,
        .retention_count = d->config.retention_count,
        .retention_age_s = (uint64_t) d->config.retention_days * 86400,
        .node = d->config.node,
        .log_mode = d->config.alarm_log_mode,
        .log_file = d->config.alarm_log_file,
        .max_inflight = d->config.max_inflight,
        .rate_limit_burst = d->config.rate_limit_burst,
        .rate_limit_interval_us = (uint64_t) d->config.rate_limit_interval * USEC_PER_SEC,
        .on_backpressure = on_backpressure,
        .on_change = on_bus_change,
        .userdata = d,
    };
    r = alarm_bus_new(&bp, &d->bus);
    if (r < 0)
        return log_error_errno(r, "cannot open the alarm store %s: %m", d->config.store_path);

    /* Every client may hold a descriptor; sentryd itself needs some more (store, logs, tasks,
     * the collector). */
    unsigned xalarm_clients = d->config.xalarm_enabled ? d->config.xalarm_max_clients : 0;
    char fd_users[160];
    snprintf(fd_users, sizeof(fd_users),
             "[control] max_clients = %u, [xalarm] max_clients = %u and sentryd's own 256",
             d->config.max_clients, xalarm_clients);
    (void) fd_limit_ensure(d->config.max_clients + xalarm_clients + 256, fd_users);
    struct control_server_params cp = {
        .event = d->event,
        .socket_path = d->config.socket_path,
        .socket_mode = d->config.socket_mode,
        .socket_group = d->config.socket_group,
        .max_clients = d->config.max_clients,
        .max_clients_per_uid = d->config.max_clients_per_uid,
        .reserved_clients = d->config.reserved_clients,
        .max_pending = d->config.max_pending,
        .verb_tables = daemon_verb_tables(),
        .userdata = d,
    };
    r = control_server_new(&cp, &d->control);
    if (r < 0)
        return r;

    if (d->config.xalarm_enabled) {
        struct xalarm_server_params xp = {
            .event = d->event,
            .bus = d->bus,
            .tasks = d->tasks,
            .dir = d->config.xalarm_dir,
            .id_mask = d->config.xalarm_id_mask,
            .max_clients = d->config.xalarm_max_clients,
            .max_clients_per_uid = d->config.xalarm_max_clients_per_uid,
            .reserved_clients = d->config.xalarm_reserved_clients,
            .socket_mode = d->config.socket_mode,
            .socket_group = d->config.socket_group,
            /* queued records hold only the head of their 8 KiB form (see record_queue.h) */
            .queue_limit = d->config.subscriber_queue,
            .sndbuf = (int) d->config.subscriber_sndbuf,
            .kernel_switch_dir = d->config.kernel_switch_dir,
            .module_loader = d->config.module_loader,
        };
        r = xalarm_server_new(&xp, &d->xalarm);
        if (r < 0)
            return r;
    }
    if (d->config.collector_enabled) {
        _cleanup_strv_free_ char **disks = NULL;
        if (d->config.collector_disks && !streq(d->config.collector_disks, "default")) {
            char *save = NULL, *copy = strdupa(d->config.collector_disks);
            for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
                if (strv_extend(&disks, t) < 0)
                    return log_oom();
        }
        struct collector_params cp2 = {
            .event = d->event,
            .source = d->config.collector_source,
            .period_time = d->config.collector_period_time,
            .max_save = d->config.collector_max_save,
            .disks = disks,
            .lease = d->config.collector_lease,
        };
        for (int t = 0; t < _DISK_TYPE_MAX; t++)
            cp2.src.dump_threshold_ms[t] = d->config.dump_threshold_ms[t];
        r = collector_new(&cp2, &d->collector);
        if (r < 0)
            return log_error_errno(r, "cannot set up the io collector: %m");
    }
    if (d->config.metrics_dir) {
        r = metrics_writer_new(d, d->config.metrics_dir, d->config.metrics_interval, &d->metrics);
        if (r < 0)
            return r;
    }

    if ((r = sd_event_add_signal(d->event, &d->sig_term, SIGTERM, on_signal, d)) < 0 ||
        (r = sd_event_add_signal(d->event, &d->sig_int, SIGINT, on_signal, d)) < 0 ||
        (r = sd_event_add_signal(d->event, &d->sig_hup, SIGHUP, on_signal, d)) < 0)
        return log_error_errno(r, "cannot watch signals: %m");
    return 0;
}

int daemon_run(struct daemon *d)
{
    usec_t ready = now_usec(CLOCK_MONOTONIC) - d->started;

    log_info("sentryd ready in %.1f ms: root %s, %zu task(s), socket %s", ready / 1000.0,
             d->config.root, task_manager_count(d->tasks), d->config.socket_path);
    sd_notify(false, "READY=1");
    task_manager_start_onstart(d->tasks);
    daemon_notify_status(d);
    return sd_event_loop(d->event);
}

void daemon_teardown(struct daemon *d)
{
    /* Answer what is in flight before the clients go; xalarm clients hear "service down". */
    if (d->control)
        control_server_pause_input(d->control, true);
    alarm_bus_sync(d->bus);
    d->xalarm = xalarm_server_free(d->xalarm);
    d->metrics = metrics_writer_free(d->metrics);
    d->control = control_server_free(d->control);
    d->collector = collector_free(d->collector);
    d->bus = alarm_bus_free(d->bus);
    d->tasks = task_manager_free(d->tasks);
    d->sig_term = sd_event_source_disable_unref(d->sig_term);
    d->sig_int = sd_event_source_disable_unref(d->sig_int);
    d->sig_hup = sd_event_source_disable_unref(d->sig_hup);
    d->shutdown_timer = sd_event_source_disable_unref(d->shutdown_timer);
    d->event = sd_event_unref(d->event);
    d->base_env = strv_free(d->base_env);
    if (d->lock_fd >= 0) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/sentryd.pid", d->config.run_dir);
        unlink(path);
        close(d->lock_fd);
        d->lock_fd = -1;
    }
    daemon_config_done(&d->config);
}
