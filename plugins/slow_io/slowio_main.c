/* slowio_main.c: see slowio_main.h. */
#include <getopt.h>
#include <stdio.h>

#include "config_msg.h"
#include "log.h"
#include "sentry-build-config.h"
#include "slowio_main.h"

const char *slowio_parse_args(enum slowio_plugin plugin, int argc, char **argv, int *exit_code)
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

void slowio_log_config_msgs(const struct config_msgs *msgs, char **errors)
{
    for (size_t i = 0; i < msgs->n_items; i++)
        log_full_errno(msgs->items[i].level == CONFIG_MSG_ERROR ? LOG_ERR : LOG_WARNING, 0, NULL,
                       "%s", msgs->items[i].text);
    *errors = config_msgs_join(msgs, CONFIG_MSG_ERROR, "; ");
}
