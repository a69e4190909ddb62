/* slowio_main.c: see slowio_main.h. */
#include <getopt.h>
#include <stdio.h>

#include "log.h"
#include "sentry-build-config.h"
#include "slowio_main.h"

/* Parses --config/--help/--version; returns the config path, or NULL with *exit_code set when
 * the program must end (help shown or bad usage). */
static const char *parse_args(enum slowio_plugin plugin, int argc, char **argv, int *exit_code)
{
    static char path[512];
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *name = slowio_plugin_to_string(plugin);
    int c;

    snprintf(path, sizeof(path), "%s/plugins/%s.ini", SENTRY_CONFDIR, name);
    while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            snprintf(path, sizeof(path), "%s", optarg);
            break;
        case 'h':
            printf("Usage: %s [--config FILE]\n\n"
                   "sentry's %s checker: watches the io latency of the disks per block-layer\n"
                   "stage through sentryd's io collector and raises alarm 1002 when a disk is\n"
                   "slow (once, then RECOVER when it is well again). Runs as a sentryd task\n"
                   "(see %s.mod); docs/plugins/%s.md explains the algorithm.\n\n"
                   "  -c, --config FILE   configuration (default %s)\n",
                   name, name, name, name, path);
            *exit_code = 0;
            return NULL;
        case 'V':
            printf("%s %s\n", name, SENTRY_VERSION);
            *exit_code = 0;
            return NULL;
        default:
            *exit_code = 2;
            return NULL;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", name, argv[optind]);
        *exit_code = 2;
        return NULL;
    }
    return path;
}

int slowio_main(const struct slowio_plugin_ops *ops, void *cfg, void *state, int argc, char **argv)
{
    static struct slowio_period period;
    struct slowio_runtime rt;
    struct config_msgs msgs = {0};
    _cleanup_free_ char *errors = NULL;
    int exit_code = 0, r;

    const char *path = parse_args(ops->plugin, argc, argv, &exit_code);
    if (!path)
        return exit_code;
    log_setup(slowio_plugin_to_string(ops->plugin), LOG_TARGET_STDERR, LOG_INFO);
    slowio_install_signals();
    if (slowio_runtime_open(&rt, ops->plugin) < 0)
        return 1;

    r = ops->load(cfg, path, &msgs);
    config_msgs_log(&msgs);
    errors = config_msgs_join(&msgs, CONFIG_MSG_ERROR, "; ");
    config_msgs_done(&msgs);
    if (r < 0) {
        /* A configuration error is the task result FAIL, with every error in it. */
        slowio_runtime_fail(&rt, errors && *errors ? errors : strerror(-r));
        slowio_runtime_close(&rt);
        return 1;
    }
    const struct slowio_common *common = ops->common(cfg);
    log_set_max_level(common->log_level);
    char why[1024];
    r = slowio_runtime_resolve(&rt, common, why, sizeof(why));
    if (r < 0) {
        /* the real reason, for the first line of `sentryctl status` */
        slowio_runtime_fail(&rt, why);
        exit_code = 1;
        goto out;
    }
    r = ops->build(state, &rt, cfg);
    if (r < 0) {
        snprintf(why, sizeof(why), "cannot start: %s", strerror(-r));
        slowio_runtime_fail(&rt, why);
        exit_code = 1;
        goto out;
    }
    slowio_runtime_report_watch(&rt);
    log_info("%s: %zu disk(s), period %u s", slowio_plugin_to_string(ops->plugin), rt.n_disks,
             rt.period_time);

    while ((r = slowio_runtime_next(&rt, common, &period)) >= 0)
        ops->period(state, &rt, cfg, &period);
    if (r == -EINTR) {
        log_info("stop asked, exiting");
        slowio_runtime_pass(&rt);
    } else
        exit_code = 1; /* sentryd went away */
out:
    ops->done(state, cfg);
    slowio_runtime_close(&rt);
    return exit_code;
}
