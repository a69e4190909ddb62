/* alarm_commands.c: sentryctl inject, alarms, get_alarm, stats. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alarm_vocab.h"
#include "sentryctl.h"
#include "terminal_escape.h"

static const char *jstr(json_object *o, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
        return "";
    return json_object_get_string(v);
}

static uint64_t ju64(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_uint64(v) : 0;
}

/* A number option in min..max: 0 and *ret, or EXIT_USAGE after saying what is wrong. */
static int parse_number_arg(const char *cmd, const char *opt, const char *v, uint64_t min,
                            uint64_t max, uint64_t *ret)
{
    if (ctl_parse_uint(v, min, max, ret) < 0)
        return ctl_usage_error(cmd, "%s needs a number in %" PRIu64 "..%" PRIu64 ", got '%s'", opt,
                               min, max, v);
    return 0;
}

/* ---- inject ------------------------------------------------------------------------------------
 */

static int cmd_inject(struct ctl *ctl, int argc, char **argv)
{
    static const char help[] =
        "Usage: sentryctl inject --id ID [OPTIONS]\n\n"
        "Puts an alarm on the bus, marked as injected (root only): for fault-injection\n"
        "harnesses. It is stored, logged and delivered like any other alarm.\n"
        "  -i, --id ID           alarm id (1..65535; 1001-1128 is the sysSentry range)\n"
        "  -l, --level LEVEL     MINOR (default), MAJOR or CRITICAL\n"
        "  -t, --type TYPE       OCCUR (default) or RECOVER\n"
        "  -x, --text TEXT       the alarm text (usually a JSON object), at most 8191 bytes\n"
        "  -S, --source NAME     the task it is attributed to (default: inject)\n"
        "  -k, --key KEY         what it is about (active alarms are per id, source and key)\n"
        "Prints the alarm's seq.\n";
    static const struct option opts[] = {{"id", required_argument, NULL, 'i'},
                                         {"level", required_argument, NULL, 'l'},
                                         {"type", required_argument, NULL, 't'},
                                         {"text", required_argument, NULL, 'x'},
                                         {"source", required_argument, NULL, 'S'},
                                         {"key", required_argument, NULL, 'k'},
                                         CTL_COMMON_OPTIONS,
                                         {NULL, 0, NULL, 0}};
    _cleanup_json_ json_object *args = json_object_new_object(), *res = NULL;
    json_object *a = json_object_new_object();
    bool done, have_id = false;
    uint64_t id;
    int c;

    json_object_object_add(args, "alarm", a);
    while ((c = ctl_getopt(ctl, argc, argv, "i:l:t:x:S:k:" CTL_COMMON_SHORT, opts, help, &done)) !=
           -1) {
        if (done)
            return c;
        switch (c) {
        case 'i':
            if (parse_number_arg(argv[0], "--id", optarg, CTL_ALARM_ID_MIN, CTL_ALARM_ID_MAX, &id))
                return EXIT_USAGE;
            json_object_object_add(a, "id", json_object_new_int((int) id));
            have_id = true;
            break;
        case 'l':
            json_object_object_add(a, "level", json_object_new_string(optarg));
            break;
        case 't':
            json_object_object_add(a, "type", json_object_new_string(optarg));
            break;
        case 'x':
            json_object_object_add(a, "text", json_object_new_string(optarg));
            break;
        case 'S':
            json_object_object_add(a, "source", json_object_new_string(optarg));
            break;
        case 'k':
            json_object_object_add(a, "key", json_object_new_string(optarg));
            break;
        default:
            return EXIT_USAGE;
        }
    }
    if (!have_id)
        return ctl_usage_error(argv[0], "--id is required");
    if (optind != argc)
        return ctl_usage_error(argv[0], "unrecognized arguments: %s", argv[optind]);
    int r = ctl_call(ctl, "inject", args, &res);
    if (r != EXIT_OK)
        return r;
    if (ctl->json)
        ctl_print_json(res);
    else
        printf("injected, seq %" PRIu64 "\n", ju64(res, "seq"));
    return EXIT_OK;
}

/* ---- alarms ------------------------------------------------------------------------------------
 */

/* Most bytes of an alarm's text in its row; longer texts are cut and end in "...". */
#define ALARM_ROW_TEXT_MAX 60

static void print_alarm_row(json_object *a)
{
    char ts[32] = "", text[ALARM_ROW_TEXT_MAX + STRLEN("...") + 1];
    time_t sec = (time_t) (ju64(a, "time") / 1000000);
    struct tm tm;
    const char *t = jstr(a, "text");

    if (localtime_r(&sec, &tm))
        strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
    /* Cut at a character boundary, escaped (the whole line is escaped again, which keeps it). */
    terminal_escape(text, sizeof(text), t, strlen(t));
    ctl_print_line("%8" PRIu64 "  %s  %4" PRIu64 "  %-8s  %-7s  %-16s  %-10s  %s%s", ju64(a, "seq"),
                   ts, ju64(a, "id"), jstr(a, "level"), jstr(a, "type"), jstr(a, "source"),
                   *jstr(a, "key") ? jstr(a, "key") : "-", text,
                   json_object_get_boolean(json_object_object_get(a, "injected")) ? " [injected]"
                                                                                  : "");
}

static void print_alarm_header(void)
{
    printf("%8s  %-19s  %4s  %-8s  %-7s  %-16s  %-10s  %s\n", "SEQ", "TIME", "ID", "LEVEL", "TYPE",
           "SOURCE", "KEY", "TEXT");
}

static volatile sig_atomic_t follow_stop;

static void on_follow_signal(int sig)
{
    follow_stop = 1;
}

static void follow_message(json_object *msg, void *userdata)
{
    struct ctl *ctl = userdata;
    json_object *a = json_object_object_get(msg, "alarm");

    if (!a)
        return;
    if (ctl->json)
        ctl_print_json_line(msg);
    else
        print_alarm_row(a);
    fflush(stdout);
}

static int follow(struct ctl *ctl, json_object *args)
{
    _cleanup_json_ json_object *res = NULL;
    struct sigaction sa = {.sa_handler = on_follow_signal};
    int r;

    /* Alarms that arrive before the answer are printed too. */
    if (!ctl->conn && (r = ctl_call(ctl, "hello", NULL, NULL)) != EXIT_OK)
        return r;
    client_conn_set_stream_cb(ctl->conn, follow_message, ctl);
    if (!ctl->json)
        print_alarm_header();
    r = ctl_call(ctl, "subscribe", args, &res);
    if (r != EXIT_OK)
        return r;
    fflush(stdout);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    while (!follow_stop) {
        json_object *msg = NULL;
        int k = client_conn_read(ctl->conn, &msg);
        if (k == -EINTR)
            continue;
        if (k < 0) {
            if (follow_stop)
                break;
            fprintf(stderr, "sentryctl: alarms: %s\n",
                    k == -EPIPE ? "sentryd closed the connection" : strerror(-k));
            return EXIT_UNREACHABLE;
        }
        follow_message(msg, ctl);
        json_object_put(msg);
    }
    return EXIT_OK;
}

static int cmd_alarms(struct ctl *ctl, int argc, char **argv)
{
    static const char help[] =
        "Usage: sentryctl alarms [OPTIONS]\n\n"
        "Shows stored alarms (the newest, oldest first), the active ones, or follows new ones.\n"
        "  -a, --active        only active alarms (OCCUR without a later RECOVER for the same\n"
        "                      id, source and key)\n"
        "  -s, --since SEQ     the alarms after SEQ, oldest first (with --follow: then go on)\n"
        "  -f, --follow        keep printing alarms as they arrive (until Ctrl-C)\n"
        "  -i, --id SPEC       only these ids: 1002, 1001-1010 or 1001,1003 (repeatable)\n"
        "  -l, --level LEVEL   at least MINOR, MAJOR or CRITICAL\n"
        "  -S, --source NAME   only from this task (repeatable)\n"
        "  -t, --type TYPE     only OCCUR or RECOVER\n"
        "  -n, --limit N       at most N alarms (default 100, at most 10000)\n"
        "  -j, --json          JSON (with --follow: one stream message per line)\n";
    static const struct option opts[] = {{"active", no_argument, NULL, 'a'},
                                         {"since", required_argument, NULL, 's'},
                                         {"follow", no_argument, NULL, 'f'},
                                         {"id", required_argument, NULL, 'i'},
                                         {"level", required_argument, NULL, 'l'},
                                         {"source", required_argument, NULL, 'S'},
                                         {"type", required_argument, NULL, 't'},
                                         {"limit", required_argument, NULL, 'n'},
                                         CTL_COMMON_OPTIONS,
                                         {NULL, 0, NULL, 0}};
    _cleanup_json_ json_object *args = json_object_new_object(), *res = NULL;
    json_object *ids = NULL, *sources = NULL, *types = NULL;
    bool done, active = false, do_follow = false;
    uint64_t v;
    int c;

    while ((c = ctl_getopt(ctl, argc, argv, "as:fi:l:S:t:n:" CTL_COMMON_SHORT, opts, help,
                           &done)) != -1) {
        if (done)
            return c;
        switch (c) {
        case 'a':
            active = true;
            break;
        case 's':
            if (parse_number_arg(argv[0], "--since", optarg, 0, CTL_SEQ_MAX, &v))
                return EXIT_USAGE;
            json_object_object_add(args, "since", json_object_new_uint64(v));
            break;
        case 'f':
            do_follow = true;
            break;
        case 'i':
            if (ctl_parse_id_spec(optarg) < 0)
                return ctl_usage_error(argv[0],
                                       "--id needs ids in %d..%d or ranges such as 1001-1010, "
                                       "got '%s'",
                                       CTL_ALARM_ID_MIN, CTL_ALARM_ID_MAX, optarg);
            if (!ids)
                ids = json_object_new_array();
            /* One item per id or range: sentryd takes "1001-1010", not "1001,1003". */
            for (char *save = NULL, *t = strtok_r(optarg, ID_SPEC_SEPARATORS, &save); t;
                 t = strtok_r(NULL, ID_SPEC_SEPARATORS, &save))
                json_object_array_add(ids, json_object_new_string(t));
            break;
        case 'l':
            json_object_object_add(args, "min_level", json_object_new_string(optarg));
            break;
        case 'S':
            if (!sources)
                sources = json_object_new_array();
            json_object_array_add(sources, json_object_new_string(optarg));
            break;
        case 't':
            if (!types)
                types = json_object_new_array();
            json_object_array_add(types, json_object_new_string(optarg));
            break;
        case 'n':
            if (parse_number_arg(argv[0], "--limit", optarg, 1, CTL_ALARMS_LIMIT_MAX, &v))
                return EXIT_USAGE;
            json_object_object_add(args, "limit", json_object_new_uint64(v));
            break;
        default:
            return EXIT_USAGE;
        }
    }
    if (optind != argc)
        return ctl_usage_error(argv[0], "unrecognized arguments: %s", argv[optind]);
    if (ids)
        json_object_object_add(args, "ids", ids);
    if (sources)
        json_object_object_add(args, "sources", sources);
    if (types)
        json_object_object_add(args, "types", types);
    if (do_follow) {
        if (active)
            return ctl_usage_error(argv[0], "--follow and --active do not go together");
        json_object_object_del(args, "limit");
        return follow(ctl, args);
    }
    if (active)
        json_object_object_add(args, "active", json_object_new_boolean(true));
    int r = ctl_call(ctl, "alarms", args, &res);
    if (r != EXIT_OK)
        return r;
    if (ctl->json) {
        ctl_print_json(res);
        return EXIT_OK;
    }
    json_object *list = json_object_object_get(res, "alarms");
    print_alarm_header();
    for (size_t i = 0; i < json_object_array_length(list); i++)
        print_alarm_row(json_object_array_get_idx(list, i));
    return EXIT_OK;
}

/* ---- get_alarm ---------------------------------------------------------------------------------
 */

static int cmd_get_alarm(struct ctl *ctl, int argc, char **argv)
{
    static const char help[] =
        "Usage: sentryctl get_alarm TASK [-s SECONDS] [-d]\n\n"
        "The task's alarms of the last SECONDS (default 10, never beyond the task's\n"
        "alarm_clear_time), newest first, as the sysSentry command prints them.\n"
        "  -s, --time_range SECONDS   how far back\n"
        "  -d, --detailed             keep each alarm's details (values as strings)\n";
    static const struct option opts[] = {{"time_range", required_argument, NULL, 's'},
                                         {"detailed", no_argument, NULL, 'd'},
                                         CTL_COMMON_OPTIONS,
                                         {NULL, 0, NULL, 0}};
    _cleanup_json_ json_object *args = json_object_new_object(), *res = NULL;
    bool done;
    int64_t range;
    int c;

    while ((c = ctl_getopt(ctl, argc, argv, "s:d" CTL_COMMON_SHORT, opts, help, &done)) != -1) {
        if (done)
            return c;
        if (c == 's') {
            int k = ctl_parse_time_range(optarg, &range);
            if (k == -ERANGE)
                return ctl_usage_error(argv[0], "time_range is beyond %lld seconds: %s",
                                       (long long) CTL_TIME_RANGE_MAX, optarg);
            if (k < 0) {
                ctl_eprint_line("time_range is not a positive integer: %s", optarg);
                return EXIT_USAGE;
            }
            json_object_object_add(args, "time_range", json_object_new_int64(range));
        } else if (c == 'd')
            json_object_object_add(args, "detailed", json_object_new_boolean(true));
        else
            return EXIT_USAGE;
    }
    const char *name;
    if (ctl_task_operand(argc, argv, &name) != EXIT_OK)
        return EXIT_USAGE;
    json_object_object_add(args, "task", json_object_new_string(name));
    int r = ctl_call(ctl, "get_alarm", args, &res);
    if (r != EXIT_OK)
        return r;
    ctl_print_json(res);
    return EXIT_OK;
}

/* ---- stats -------------------------------------------------------------------------------------
 */

/* "LABEL k v k v ...": the members of res[key] on one line. */
static void print_group(json_object *res, const char *key, const char *label)
{
    json_object *o = json_object_object_get(res, key);
    _cleanup_free_ char *line = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&line, &len);

    if (!f) {
        fputs("sentryctl: out of memory\n", stderr);
        return;
    }
    fprintf(f, "%-22s", label);
    if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, k, v)
        {
            fprintf(f, " %s %s", k, json_object_get_string(v));
        }
    }
    if (fclose(f) != 0) {
        fputs("sentryctl: out of memory\n", stderr);
        return;
    }
    ctl_print_line("%s", line);
}

static int cmd_stats(struct ctl *ctl, int argc, char **argv)
{
    static const char help[] = "Usage: sentryctl stats [--json]\n\n"
                               "Counters and gauges of the alarm bus and the tasks.\n";
    static const struct option opts[] = {CTL_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
    _cleanup_json_ json_object *res = NULL;
    bool done;
    int c = ctl_getopt(ctl, argc, argv, CTL_COMMON_SHORT, opts, help, &done);

    if (done)
        return c;
    if (optind != argc)
        return ctl_usage_error(argv[0], "unrecognized arguments: %s", argv[optind]);
    int r = ctl_call(ctl, "stats", NULL, &res);
    if (r != EXIT_OK)
        return r;
    if (ctl->json) {
        ctl_print_json(res);
        return EXIT_OK;
    }
    printf("%-22s %" PRIu64 " (oldest stored %" PRIu64 ")\n", "last seq", ju64(res, "head"),
           ju64(res, "oldest"));
    printf("%-22s %" PRIu64 " in %" PRIu64 " transactions, %" PRIu64 " failed\n", "stored",
           ju64(res, "committed"), ju64(res, "transactions"), ju64(res, "commit_failed"));
    print_group(res, "reported", "reported");
    print_group(res, "rejected", "rejected");
    printf("%-22s %" PRIu64 "\n", "xalarm id_mask drops", ju64(res, "filtered_xalarm"));
    print_group(res, "delivered", "delivered");
    print_group(res, "caught_up", "from the store");
    print_group(res, "fell_behind", "fell behind");
    print_group(res, "by_level", "by level");
    print_group(res, "by_id", "by id");
    print_group(res, "subscribers", "subscribers");
    print_group(res, "queues", "queues");
    printf("%-22s %" PRIu64 "\n", "active alarms", ju64(res, "active_alarms"));
    printf("%-22s %" PRIu64 "\n", "clients", ju64(res, "clients"));
    print_group(res, "tasks", "tasks");
    return EXIT_OK;
}

/* The alarm vocabulary compiled into sentryctl (the same table as sentryd's): no daemon needed. */
static int cmd_alarm_ids(struct ctl *ctl, int argc, char **argv)
{
    static const char help[] =
        "Usage: sentryctl alarm_ids [--json]\n\n"
        "Lists the alarm ids sentry reserves in the sysSentry range 1001-1128: the name, the\n"
        "reference's macro in register_xalarm.h, which request an answer id answers (or which\n"
        "id answers a request) and what the alarm means. Other ids of the range are free.\n";
    static const struct option opts[] = {CTL_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
    size_t n;
    const struct alarm_kind *k = alarm_kinds(&n);
    bool done;
    int c = ctl_getopt(ctl, argc, argv, "+" CTL_COMMON_SHORT, opts, help, &done);

    if (done)
        return c;
    if (c != -1)
        return EXIT_USAGE;
    if (optind != argc)
        return ctl_usage_error(argv[0], "unrecognized arguments: %s", argv[optind]);
    if (ctl->json) {
        _cleanup_json_ json_object *o = json_object_new_object(), *a = json_object_new_array();
        json_object_object_add(o, "min", json_object_new_int(SENTRY_ALARM_ID_MIN));
        json_object_object_add(o, "max", json_object_new_int(SENTRY_ALARM_ID_MAX));
        for (size_t i = 0; i < n; i++) {
            json_object *e = json_object_new_object();
            json_object_object_add(e, "id", json_object_new_int(k[i].id));
            json_object_object_add(e, "name", json_object_new_string(k[i].name));
            json_object_object_add(e, "reference", json_new_string_or_null(k[i].reference));
            json_object_object_add(e, "answered_by",
                                   k[i].answered_by ? json_object_new_int(k[i].answered_by) : NULL);
            json_object_object_add(e, "answers",
                                   k[i].answers ? json_object_new_int(k[i].answers) : NULL);
            json_object_object_add(e, "meaning", json_object_new_string(k[i].meaning));
            json_object_array_add(a, e);
        }
        json_object_object_add(o, "ids", json_object_get(a));
        ctl_print_json(o);
        return EXIT_OK;
    }
    printf("%-5s %-21s %-30s %-8s %s\n", "ID", "NAME", "REFERENCE", "PAIR", "MEANING");
    for (size_t i = 0; i < n; i++) {
        char pair[16] = "-";
        if (k[i].answered_by)
            snprintf(pair, sizeof(pair), "-> %u", k[i].answered_by);
        else if (k[i].answers)
            snprintf(pair, sizeof(pair), "<- %u", k[i].answers);
        printf("%-5u %-21s %-30s %-8s %s\n", k[i].id, k[i].name,
               k[i].reference ? k[i].reference : "-", pair, k[i].meaning);
    }
    return EXIT_OK;
}

const struct ctl_command alarm_commands[] = {
    {"alarms", cmd_alarms, "[--active|--since SEQ|--follow] ...", "show or follow alarms"},
    {"get_alarm", cmd_get_alarm, "TASK [-s SECS] [-d]", "a task's recent alarms (sysSentry view)"},
    {"inject", cmd_inject, "--id ID [--level L] [--text T] ...", "put an alarm on the bus (root)"},
    {"stats", cmd_stats, "", "counters of the alarm bus"},
    {"alarm_ids", cmd_alarm_ids, "", "the alarm ids sentry reserves, and what they mean"},
    {NULL, NULL, NULL, NULL},
};
