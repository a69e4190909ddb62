/* slowio_main.c: see slowio_main.h. */
#include <stdio.h>

#include "log.h"
#include "plugin_args.h"
#include "sentry-build-config.h"
#include "slowio_main.h"

/* Parses --config/--help/--version (plugin_args.h) with this plugin's help. */
static const char *parse_args(enum slowio_plugin plugin, int argc, char **argv, int *exit_code)
{
    const char *name = slowio_plugin_to_string(plugin);
    char about[512];

    snprintf(about, sizeof(about),
             "sentry's %s checker: watches the io latency of the disks per block-layer\n"
             "stage through sentryd's io collector and raises alarm 1002 when a disk is\n"
             "slow (once, then RECOVER when it is well again). Runs as a sentryd task\n"
             "(see %s.mod); docs/plugins/%s.md explains the algorithm.",
             name, name, name);
    return plugin_parse_args(name, about, argc, argv, exit_code);
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
