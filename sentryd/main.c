/* main.c: sentryd's command line. Everything else lives in daemon.c. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>

#include "daemon.h"
#include "daemon_lifecycle.h"
#include "log.h"
#include "memory_lock.h"
#include "sentry-build-config.h"
#include "strv.h"

static void help(void)
{
    printf("Usage: sentryd [OPTIONS]\n"
           "\n"
           "The sentry fault management daemon: runs the checkers (tasks) defined in the tasks\n"
           "directory and serves sentryctl, plugins and subscribers on its socket. It always\n"
           "runs in the foreground (systemd Type=notify); SIGTERM stops it cleanly, SIGHUP\n"
           "reloads the tasks.\n"
           "\n"
           "Options:\n"
           "  -c, --config FILE      configuration file (default %s)\n"
           "  -r, --root DIR         prefix of every path sentryd uses (overrides [daemon] root)\n"
           "      --log-level LEVEL  error, warning, notice, info or debug (overrides the file)\n"
           "      --log-target T     auto, journal or stderr (overrides the file)\n"
           "      --check            load the configuration and every task file, print the\n"
           "                         problems found and exit (1 when a task failed to load)\n"
           "  -f, --foreground       accepted for compatibility; sentryd never forks\n"
           "  -h, --help             this text\n"
           "  -V, --version          the version\n"
           "\n"
           "Exit status: 0 after a clean stop, 1 on a start-up error, 17 when another sentryd\n"
           "already runs with the same root. Documentation: docs/sentryd.md.\n",
           SENTRY_DEFAULT_CONFIG);
}

struct options {
    const char *config;
    const char *root;
    int log_level;
    int log_target;
    bool check;
};

static int parse_args(int argc, char **argv, struct options *o)
{
    enum { OPT_LOG_LEVEL = 0x100, OPT_LOG_TARGET, OPT_CHECK };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"root", required_argument, NULL, 'r'},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"log-target", required_argument, NULL, OPT_LOG_TARGET},
        {"check", no_argument, NULL, OPT_CHECK},
        {"foreground", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;

    *o = (struct options){.log_level = -1, .log_target = -1};
    while ((c = getopt_long(argc, argv, "c:r:fhV", longopts, NULL)) >= 0) {
        switch (c) {
        case 'c':
            o->config = optarg;
            break;
        case 'r':
            if (optarg[0] != '/') {
                fprintf(stderr, "sentryd: --root needs an absolute path, got '%s'\n", optarg);
                return -EINVAL;
            }
            o->root = optarg;
            break;
        case OPT_LOG_LEVEL:
            o->log_level = log_level_from_string(optarg);
            if (o->log_level < 0) {
                fprintf(stderr, "sentryd: unknown log level '%s'\n", optarg);
                return -EINVAL;
            }
            break;
        case OPT_LOG_TARGET:
            o->log_target = log_target_from_string(optarg);
            if (o->log_target < 0 || o->log_target == LOG_TARGET_NULL) {
                fprintf(stderr, "sentryd: unknown log target '%s'\n", optarg);
                return -EINVAL;
            }
            break;
        case OPT_CHECK:
            o->check = true;
            break;
        case 'f':
            break;
        case 'h':
            help();
            return 0;
        case 'V':
            printf("sentryd %s\n", SENTRY_VERSION);
            return 0;
        default:
            fprintf(stderr, "Try 'sentryd --help'.\n");
            return -EINVAL;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "sentryd: unexpected argument '%s'\nTry 'sentryd --help'.\n", argv[optind]);
        return -EINVAL;
    }
    return 1;
}

/* --check: loads the tasks without running anything. */
static int check_tasks(struct daemon *d)
{
    struct task_manager_params tp = {
        .tasks_dir = d->config.tasks_dir,
        .log_dir = d->config.log_dir,
        .socket_path = d->config.socket_path,
        .defaults = {.interval = d->config.default_interval,
                     .stop_timeout = d->config.stop_timeout},
        .hook_timeout = d->config.hook_timeout,
    };
    struct task_manager *m;
    _cleanup_free_ char *msg = NULL;
    _cleanup_strv_free_ char **warnings = NULL;

    if (task_manager_new(&tp, &m) < 0)
        return 1;
    int r = task_manager_reload(m, NULL, &msg, &warnings);
    printf("%s: %s\n", d->config.tasks_dir, strna(msg));
    for (char **w = warnings; w && *w; w++)
        printf("  %s\n", *w);
    task_manager_free(m);
    return r < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    struct daemon d = {.started = now_usec(CLOCK_MONOTONIC), .lock_fd = -1};
    struct options o;
    sigset_t mask;
    int r;

    /* Signals are taken through signalfd and children through pidfd: block them before any
     * thread exists. SIGPIPE is handled as EPIPE on each socket. */
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Files sentryd creates (alarm store, logs) are not for everyone; tasks get 022 back. */
    umask(0027);

    r = parse_args(argc, argv, &o);
    if (r <= 0)
        return r < 0 ? 2 : 0;

    log_setup("sentryd", o.log_target >= 0 ? o.log_target : LOG_TARGET_STDERR,
              o.log_level >= 0 ? o.log_level : LOG_INFO);
    r = daemon_config_load(o.config, o.config != NULL, o.root, &d.config);
    if (r < 0)
        return 1;
    log_setup("sentryd", o.log_target >= 0 ? o.log_target : d.config.log_target,
              o.log_level >= 0 ? o.log_level : d.config.log_level);

    if (o.check) {
        r = check_tasks(&d);
        daemon_config_done(&d.config);
        return r;
    }

    memory_lock_apply(d.config.lock_memory);
    r = daemon_setup(&d);
    if (r < 0) {
        daemon_teardown(&d);
        return r == -EEXIST ? 17 : 1;
    }
    r = daemon_run(&d);
    daemon_teardown(&d);
    if (r < 0) {
        log_error_errno(r, "event loop failed: %m");
        return 1;
    }
    log_info("stopped");
    return r;
}
