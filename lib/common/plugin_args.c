/* plugin_args.c: see plugin_args.h. */
#include <getopt.h>
#include <stdio.h>

#include "plugin_args.h"
#include "sentry-build-config.h"

const char *plugin_parse_args(const char *name, const char *about, int argc, char **argv,
                              int *exit_code)
{
    static char path[4096];
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;

    snprintf(path, sizeof(path), "%s/plugins/%s.ini", SENTRY_CONFDIR, name);
    while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            snprintf(path, sizeof(path), "%s", optarg);
            break;
        case 'h':
            printf("Usage: %s [--config FILE]\n\n%s\n\n"
                   "  -c, --config FILE   configuration (default %s)\n"
                   "  -h, --help          this help\n"
                   "  -V, --version       the version\n",
                   name, about, path);
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
