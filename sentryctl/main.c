/* main.c: sentryctl, the operator's command line for sentryd: global options, then a command
 * from one of the command tables. */
#include <stdio.h>
#include <string.h>

#include "sentry-build-config.h"
#include "sentry/sentry.h"
#include "sentryctl.h"

static const struct ctl_command *const command_tables[] = {
    task_commands, alarm_commands, io_commands, set_commands, mem_commands, NULL};

static void help(void)
{
    printf("Usage: sentryctl [OPTIONS] COMMAND [ARGS...]\n"
           "\n"
           "Controls sentryd, the sentry fault management daemon.\n"
           "\n"
           "Commands:\n");
    for (const struct ctl_command *const *t = command_tables; *t; t++)
        for (const struct ctl_command *c = *t; c->name; c++) {
            char usage[80];
            snprintf(usage, sizeof(usage), "%s %s", c->name, c->args);
            printf("  %-44s %s\n", usage, c->summary);
        }
    printf("\n"
           "Options:\n"
           "  -s, --socket PATH   sentryd's socket (default $%s or %s)\n"
           "  -r, --root DIR      use DIR/run/sentry/sentryd.sock (a sentryd started with --root)\n"
           "  -j, --json          print JSON for machines (also accepted after the command)\n"
           "  -t, --timeout SEC   give up waiting for sentryd after SEC seconds\n"
           "  -h, --help          this text; 'sentryctl COMMAND --help' for one command\n"
           "  -V, --version       the version\n"
           "\n"
           "Exit status: 0 success, 1 the request failed, 2 bad usage, 3 sentryd not reachable,\n"
           "4 permission denied.\n",
           SENTRY_ENV_SOCKET, SENTRY_SOCKET_DEFAULT);
}

static const struct ctl_command *find_command(const char *name)
{
    for (const struct ctl_command *const *t = command_tables; *t; t++)
        for (const struct ctl_command *c = *t; c->name; c++)
            if (streq(c->name, name))
                return c;
    return NULL;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"socket", required_argument, NULL, 's'},
        {"root", required_argument, NULL, 'r'},
        {"json", no_argument, NULL, 'j'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct ctl ctl = {0};
    _cleanup_free_ char *root_socket = NULL;
    const struct ctl_command *cmd;
    int c, r;

    while ((c = getopt_long(argc, argv, "+s:r:jt:hV", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            ctl.socket_path = optarg;
            break;
        case 'r':
            if (asprintf(&root_socket, "%s/run/sentry/sentryd.sock", optarg) < 0)
                return EXIT_FAILED;
            ctl.socket_path = root_socket;
            break;
        case 'j':
            ctl.json = true;
            break;
        case 't':
            if (ctl_parse_seconds(optarg, CTL_TIMEOUT_MIN_SEC, CTL_TIMEOUT_MAX_SEC, &ctl.timeout) <
                0) {
                ctl_eprint_line("sentryctl: --timeout needs seconds in %g..%g, got '%s'",
                                CTL_TIMEOUT_MIN_SEC, CTL_TIMEOUT_MAX_SEC, optarg);
                return EXIT_USAGE;
            }
            break;
        case 'h':
            help();
            return EXIT_OK;
        case 'V':
            printf("sentryctl %s\n", SENTRY_VERSION);
            return EXIT_OK;
        default:
            fprintf(stderr, "Try 'sentryctl --help'.\n");
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "sentryctl: missing command\nTry 'sentryctl --help'.\n");
        return EXIT_USAGE;
    }
    if (streq(argv[optind], "help")) {
        if (optind + 1 < argc && (cmd = find_command(argv[optind + 1]))) {
            char *hargv[] = {argv[optind + 1], (char *) "--help", NULL};
            optind = 0;
            return cmd->run(&ctl, 2, hargv);
        }
        help();
        return EXIT_OK;
    }
    cmd = find_command(argv[optind]);
    if (!cmd) {
        ctl_eprint_line("sentryctl: unknown command '%s'", argv[optind]);
        fprintf(stderr, "Try 'sentryctl --help'.\n");
        return EXIT_USAGE;
    }
    argc -= optind;
    argv += optind;
    optind = 0; /* getopt restarts for the command's own options */
    r = cmd->run(&ctl, argc, argv);
    client_conn_free(ctl.conn);
    return r;
}
