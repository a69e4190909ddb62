/* ctl_common.c: connection, error reporting and output helpers of sentryctl.
 *
 * Every string sentryd sends may hold what a task or a client put there, so nothing from it
 * reaches the terminal raw: text lines go through ctl_print_line() / ctl_eprint_line(), which
 * escape control characters and bytes that are not UTF-8 (terminal_escape.h), and JSON goes
 * through ctl_print_json() / ctl_print_json_line(), which keep it valid JSON without a control
 * character in it. */
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "errno_name.h"
#include "sentry-build-config.h"
#include "sentry/sentry.h"
#include "sentryctl.h"
#include "terminal_escape.h"

/* Formats one line, escapes all of it and writes it with a newline to f. Our own format strings
 * hold no control character, so only what came from outside is changed. */
_printf_(2, 0) static void ctl_vline(FILE *f, const char *fmt, va_list ap)
{
    _cleanup_free_ char *line = NULL, *safe = NULL;

    if (vasprintf(&line, fmt, ap) < 0 || !(safe = terminal_escape_dup(line))) {
        fputs("sentryctl: out of memory\n", stderr);
        return;
    }
    fputs(safe, f);
    fputc('\n', f);
}

void ctl_print_line(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ctl_vline(stdout, fmt, ap);
    va_end(ap);
}

void ctl_eprint_line(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ctl_vline(stderr, fmt, ap);
    va_end(ap);
}

static const char *ctl_socket(const struct ctl *ctl)
{
    const char *p = ctl->socket_path ? ctl->socket_path : getenv(SENTRY_ENV_SOCKET);
    return isempty(p) ? SENTRY_SOCKET_DEFAULT : p;
}

/* "sentryctl: VERB: MESSAGE" (verb NULL: "sentryctl: MESSAGE"), or the JSON error object. */
void ctl_print_error(struct ctl *ctl, int err, const char *verb, const char *message)
{
    if (ctl->json) {
        _cleanup_json_ json_object *o = json_object_new_object(), *e = json_object_new_object();
        json_object_object_add(e, "code", json_object_new_string(errno_to_name(err)));
        json_object_object_add(e, "message", json_object_new_string(message));
        json_object_object_add(o, "error", json_object_get(e));
        ctl_print_json(o);
        return;
    }
    if (verb)
        ctl_eprint_line("sentryctl: %s: %s", verb, message);
    else
        ctl_eprint_line("sentryctl: %s", message);
}

/* The socket could not be opened: who may open it, or whether sentryd runs. Returns the exit
 * code. */
static int ctl_connect_error(struct ctl *ctl, int err)
{
    const char *path = ctl_socket(ctl);
    char msg[1024];
    struct stat st;

    if (err == -EACCES || err == -EPERM) {
        /* The socket's own group says who may (the default when the file cannot be seen). */
        char group[256];
        bool root_only = false;
        snprintf(group, sizeof(group), "%s", SENTRY_GROUP);
        if (stat(path, &st) >= 0) {
            struct group *g = st.st_gid != 0 ? getgrgid(st.st_gid) : NULL;
            root_only = st.st_gid == 0;
            if (g)
                snprintf(group, sizeof(group), "%s", g->gr_name);
            else if (!root_only)
                snprintf(group, sizeof(group), "%u", (unsigned) st.st_gid);
        }
        if (root_only)
            snprintf(msg, sizeof(msg),
                     "permission denied: cannot open %s: only root may use sentryd here (its "
                     "[control] socket_group names the group whose members may)",
                     path);
        else
            snprintf(msg, sizeof(msg),
                     "permission denied: cannot open %s: only root and members of group '%s' may "
                     "use sentryd",
                     path, group);
        ctl_print_error(ctl, err, NULL, msg);
        return EXIT_PERMISSION;
    }
    snprintf(msg, sizeof(msg), "cannot connect to sentryd at %s: %s%s", path, strerror(-err),
             err == -ENOENT || err == -ECONNREFUSED ? " (is sentryd running?)" : "");
    ctl_print_error(ctl, err, "error", msg);
    return EXIT_UNREACHABLE;
}

int ctl_call(struct ctl *ctl, const char *verb, json_object *args, json_object **ret)
{
    _cleanup_free_ char *message = NULL;
    int r;

    if (!ctl->conn) {
        r = client_conn_open(ctl_socket(ctl), &ctl->conn);
        if (r < 0)
            return ctl_connect_error(ctl, r);
        if (ctl->timeout)
            (void) client_conn_set_timeout(ctl->conn, ctl->timeout);
    }
    r = client_conn_call(ctl->conn, verb, args, ret, &message);
    if (r == 0)
        return EXIT_OK;
    if (!message) {
        char msg[256];
        snprintf(msg, sizeof(msg), "communication with sentryd failed: %s", strerror(-r));
        ctl_print_error(ctl, r, verb, msg);
        return r == -EPROTO ? EXIT_FAILED : EXIT_UNREACHABLE;
    }
    ctl_print_error(ctl, r, verb, message);
    return r == -EPERM || r == -EACCES ? EXIT_PERMISSION : EXIT_FAILED;
}

json_object *ctl_task_args(const char *name)
{
    json_object *a = json_object_new_object();
    json_object_object_add(a, "task", json_object_new_string(name));
    return a;
}

int ctl_call_task(struct ctl *ctl, const char *verb, const char *name, json_object **ret)
{
    _cleanup_json_ json_object *args = ctl_task_args(name);

    return ctl_call(ctl, verb, args, ret);
}

/* One JSON scalar (or key), serialized by json-c and made safe for the terminal. */
static void print_json_scalar(json_object *o)
{
    _cleanup_free_ char *safe = terminal_escape_json(o ? json_plain(o, NULL) : "null");

    fputs(safe ? safe : "null", stdout);
}

/* Prints like Python's json.dumps(indent=4), the reference's output format. */
static void print_indented(json_object *o, int depth)
{
    enum json_type t = o ? json_object_get_type(o) : json_type_null;

    if (t == json_type_object && json_object_object_length(o) > 0) {
        size_t i = 0, n = (size_t) json_object_object_length(o);
        printf("{\n");
        json_object_object_foreach(o, k, v)
        {
            _cleanup_json_ json_object *key = json_object_new_string(k);
            printf("%*s", (depth + 1) * 4, "");
            print_json_scalar(key);
            printf(": ");
            print_indented(v, depth + 1);
            printf(++i < n ? ",\n" : "\n");
        }
        printf("%*s}", depth * 4, "");
    } else if (t == json_type_array && json_object_array_length(o) > 0) {
        size_t n = json_object_array_length(o);
        printf("[\n");
        for (size_t i = 0; i < n; i++) {
            printf("%*s", (depth + 1) * 4, "");
            print_indented(json_object_array_get_idx(o, i), depth + 1);
            printf(i + 1 < n ? ",\n" : "\n");
        }
        printf("%*s]", depth * 4, "");
    } else if (t == json_type_object)
        printf("{}");
    else if (t == json_type_array)
        printf("[]");
    else
        print_json_scalar(o);
}

void ctl_print_json(json_object *o)
{
    print_indented(o, 0);
    printf("\n");
}

void ctl_print_json_line(json_object *o)
{
    const char *s =
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    _cleanup_free_ char *safe = terminal_escape_json(s ? s : "null");

    printf("%s\n", safe ? safe : "null");
}

int ctl_usage_error(const char *cmd, const char *fmt, ...)
{
    _cleanup_free_ char *msg = NULL;
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vasprintf(&msg, fmt, ap);
    va_end(ap);
    /* The message quotes the command line: escaped too, it is shown as it was typed. */
    ctl_eprint_line("sentryctl: %s: %s", cmd, r < 0 ? "bad usage" : msg);
    fprintf(stderr, "Try 'sentryctl %s --help'.\n", cmd);
    return EXIT_USAGE;
}

int ctl_task_operand(int argc, char **argv, const char **name)
{
    if (optind + 1 != argc)
        return ctl_usage_error(argv[0],
                               optind >= argc ? "missing task name" : "unrecognized arguments: %s",
                               optind < argc ? argv[optind + 1] : "");
    *name = argv[optind];
    return ctl_check_task_arg(argv[0], *name);
}

int ctl_check_task_arg(const char *cmd, const char *name)
{
    if (strlen(name) > 256) {
        fprintf(stderr, "sentryctl: task name is longer than 256\n");
        return EXIT_USAGE;
    }
    (void) cmd;
    return EXIT_OK;
}

int ctl_command_help(const char *text)
{
    fputs(text, stdout);
    return EXIT_OK;
}

int ctl_getopt(struct ctl *ctl, int argc, char **argv, const char *shortopts,
               const struct option *longopts, const char *help, bool *done)
{
    *done = false;
    for (;;) {
        int c = getopt_long(argc, argv, shortopts, longopts, NULL);
        switch (c) {
        case 'j':
            ctl->json = true;
            continue;
        case 'h':
            *done = true;
            return ctl_command_help(help);
        case '?':
        case ':':
            *done = true;
            fprintf(stderr, "Try 'sentryctl %s --help'.\n", argv[0]);
            return EXIT_USAGE;
        default:
            return c; /* -1 at the end, or the command's own option */
        }
    }
}
