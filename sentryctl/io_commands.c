/* io_commands.c: sentryctl iostat, the live figures of the io collector, and iostat --sources,
 * where each stage comes from and why the other sources do not give it. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sentryctl.h"

static const char *const all_ops[] = {"read", "write", "flush", "discard"};

static double jnum(json_object *a, size_t i)
{
    return json_object_get_double(json_object_array_get_idx(a, i));
}

static size_t count_entries(json_object *data)
{
    size_t n = 0;

    /* json-c's foreach dereferences anything that is not an object: check first */
    if (!json_object_is_type(data, json_type_object))
        return 0;
    json_object_object_foreach(data, disk, stages)
    {
        (void) disk;
        if (!json_object_is_type(stages, json_type_object))
            continue;
        json_object_object_foreach(stages, stage, ops)
        {
            (void) stage;
            if (json_object_is_type(ops, json_type_object))
                n += (size_t) json_object_object_length(ops);
        }
    }
    return n;
}

static void print_table(json_object *disks, json_object *data, bool all)
{
    ctl_print_line("%-10s %-9s %-9s %-7s %12s %7s %8s %10s  %s", "DISK", "TYPE", "STAGE", "OP",
                   "LATENCY_US", "IODUMP", "QUEUE", "IOPS", "SOURCE");
    for (size_t i = 0; i < json_array_length(disks); i++) {
        json_object *d = json_object_array_get_idx(disks, i), *stages;
        const char *name = json_object_get_string(json_object_object_get(d, "name"));
        const char *type = json_object_get_string(json_object_object_get(d, "type"));
        json_object *from = json_object_object_get(d, "stage_sources");
        if (!json_object_object_get_ex(data, name, &stages) ||
            !json_object_is_type(stages, json_type_object))
            continue;
        json_object_object_foreach(stages, stage, ops)
        {
            const char *src = json_object_get_string(json_object_object_get(from, stage));
            for (size_t o = 0; o < 4; o++) {
                json_object *v;
                if (!json_object_object_get_ex(ops, all_ops[o], &v))
                    continue;
                /* Quiet rows are left out unless asked for. */
                if (!all && jnum(v, 3) == 0 && jnum(v, 1) == 0)
                    continue;
                ctl_print_line("%-10s %-9s %-9s %-7s %12.1f %7.0f %8.1f %10.1f  %s", strna(name),
                               strna(type), stage, all_ops[o], jnum(v, 0), jnum(v, 1), jnum(v, 2),
                               jnum(v, 3), src ? src : "-");
            }
        }
    }
}

static bool list_has(json_object *list, const char *s)
{
    for (size_t i = 0; i < json_array_length(list); i++)
        if (streq(json_object_get_string(json_object_array_get_idx(list, i)), s))
            return true;
    return false;
}

/* One line per source: on, or why not, and its parts that are off. */
static void print_sources_header(json_object *rep)
{
    json_object *sources = json_object_object_get(rep, "sources");

    ctl_print_line("io sources (%s), best first:",
                   strna(json_object_get_string(json_object_object_get(rep, "spec"))));
    for (size_t i = 0; i < json_array_length(sources); i++) {
        json_object *src = json_object_array_get_idx(sources, i);
        json_object *parts = json_object_object_get(src, "parts");
        const char *name = json_object_get_string(json_object_object_get(src, "name"));
        size_t on = 0, n = json_array_length(parts);

        if (!json_object_get_boolean(json_object_object_get(src, "available"))) {
            ctl_print_line("  %-10s not available: %s", strna(name),
                           strna(json_object_get_string(json_object_object_get(src, "why"))));
            continue;
        }
        for (size_t k = 0; k < n; k++)
            on += streq_ptr(json_object_get_string(json_object_object_get(
                                json_object_array_get_idx(parts, k), "state")),
                            "on");
        if (n == 0)
            ctl_print_line("  %-10s on", strna(name));
        else
            ctl_print_line("  %-10s on, %zu of %zu programs", strna(name), on, n);
        for (size_t k = 0; k < n; k++) {
            json_object *pt = json_object_array_get_idx(parts, k);
            const char *state = json_object_get_string(json_object_object_get(pt, "state"));
            if (streq_ptr(state, "on"))
                continue;
            ctl_print_line("  %-10s   %s (%s) %s: %s", "",
                           strna(json_object_get_string(json_object_object_get(pt, "name"))),
                           strna(json_object_get_string(json_object_object_get(pt, "event"))),
                           strna(state),
                           strna(json_object_get_string(json_object_object_get(pt, "reason"))));
        }
    }
}

/* Whether the source named is available (its reasons are in the header, not repeated). */
static bool source_available(json_object *rep, const char *name)
{
    json_object *sources = json_object_object_get(rep, "sources");
    for (size_t i = 0; i < json_array_length(sources); i++) {
        json_object *src = json_object_array_get_idx(sources, i);
        if (streq_ptr(json_object_get_string(json_object_object_get(src, "name")), name))
            return json_object_get_boolean(json_object_object_get(src, "available"));
    }
    return false;
}

static void print_sources(json_object *rep, json_object *want_disks, json_object *want_stages)
{
    print_sources_header(rep);
    printf("\n");
    ctl_print_line("%-10s %-9s %-9s  %s", "DISK", "STAGE", "SOURCE", "WHY NOT FROM THE OTHERS");
    json_object *disks = json_object_object_get(rep, "disks");
    if (!json_object_is_type(disks, json_type_object))
        return;
    json_object_object_foreach(disks, disk, stages)
    {
        if ((json_array_length(want_disks) && !list_has(want_disks, disk)) ||
            !json_object_is_type(stages, json_type_object))
            continue;
        json_object_object_foreach(stages, stage, info)
        {
            const char *src = json_object_get_string(json_object_object_get(info, "source"));
            json_object *why_not = json_object_object_get(info, "why_not");
            _cleanup_free_ char *line = NULL;
            size_t len = 0;
            bool first = true;

            if (json_array_length(want_stages) && !list_has(want_stages, stage))
                continue;
            FILE *f = open_memstream(&line, &len);
            if (!f) {
                fputs("sentryctl: out of memory\n", stderr);
                return;
            }
            fprintf(f, "%-10s %-9s %s", disk, stage, src ? src : "-");
            if (json_object_is_type(why_not, json_type_object)) {
                json_object_object_foreach(why_not, other, why)
                {
                    if (!source_available(rep, other))
                        continue;
                    /* the reasons line up in their column */
                    fprintf(f, "%*s%s: %s", first ? 9 - (int) strlen(src ? src : "-") + 2 : 0,
                            first ? "" : "; ", other, strna(json_object_get_string(why)));
                    first = false;
                }
            }
            if (fclose(f) != 0) {
                fputs("sentryctl: out of memory\n", stderr);
                return;
            }
            ctl_print_line("%s", line);
        }
    }
}

static int cmd_iostat(struct ctl *ctl, int argc, char **argv)
{
    static const char help[] =
        "Usage: sentryctl iostat [OPTIONS]\n\n"
        "Per disk, io stage and io type: mean latency (us), iodump (ios stuck over the disk\n"
        "type's threshold), queue length and iops of the last period, as the io collector in\n"
        "sentryd sees them. The first call starts the collector; it waits for the first period.\n"
        "  -d, --disk NAME     only this disk (repeatable)\n"
        "  -s, --stage STAGE   only this stage: bio, rq_driver, gettag, wbt, ... (repeatable)\n"
        "  -p, --period SECS   the figures of SECS seconds back (a multiple of the period)\n"
        "  -a, --all           also the rows without any io\n"
        "  -S, --sources       where each stage comes from (hierarchy, bpf, diskstats) and why\n"
        "                      the other sources do not give it, instead of the figures\n"
        "  -j, --json          the answer of io_query (io_sources with -S) as JSON\n";
    static const struct option opts[] = {{"disk", required_argument, NULL, 'd'},
                                         {"stage", required_argument, NULL, 's'},
                                         {"period", required_argument, NULL, 'p'},
                                         {"all", no_argument, NULL, 'a'},
                                         {"sources", no_argument, NULL, 'S'},
                                         CTL_COMMON_OPTIONS,
                                         {NULL, 0, NULL, 0}};
    _cleanup_json_ json_object *info = NULL, *res = NULL;
    json_object *disks = json_object_new_array(), *stages = json_object_new_array();
    _cleanup_json_ json_object *args = json_object_new_object();
    uint64_t period = 0;
    bool done, all = false, sources = false;
    int c, r;

    json_object_object_add(args, "disks", disks);
    json_object_object_add(args, "stages", stages);
    while ((c = ctl_getopt(ctl, argc, argv, "d:s:p:aS" CTL_COMMON_SHORT, opts, help, &done)) !=
           -1) {
        if (done)
            return c;
        switch (c) {
        case 'd':
            json_object_array_add(disks, json_object_new_string(optarg));
            break;
        case 's':
            json_object_array_add(stages, json_object_new_string(optarg));
            break;
        case 'p':
            if (ctl_parse_uint(optarg, 1, CTL_IO_PERIOD_MAX, &period) < 0)
                return ctl_usage_error(argv[0], "--period needs seconds in 1..%d, got '%s'",
                                       CTL_IO_PERIOD_MAX, optarg);
            break;
        case 'a':
            all = true;
            break;
        case 'S':
            sources = true;
            break;
        default:
            return EXIT_USAGE;
        }
    }
    if (optind != argc)
        return ctl_usage_error(argv[0], "unrecognized arguments: %s", argv[optind]);

    if (sources) {
        r = ctl_call(ctl, "io_sources", NULL, &res);
        if (r != EXIT_OK)
            return r;
        if (ctl->json)
            ctl_print_json(res);
        else
            print_sources(res, disks, stages);
        return EXIT_OK;
    }
    r = ctl_call(ctl, "io_disks", NULL, &info);
    if (r != EXIT_OK)
        return r;
    json_object *known = json_object_object_get(info, "disks");
    unsigned pt = (unsigned) json_object_get_int(json_object_object_get(info, "period_time"));
    if (json_array_length(disks) == 0)
        for (size_t i = 0; i < json_array_length(known) && i < 10; i++)
            json_object_array_add(disks, json_object_get(json_object_object_get(
                                             json_object_array_get_idx(known, i), "name")));
    json_object *ops = json_object_new_array();
    for (size_t o = 0; o < 4; o++)
        json_object_array_add(ops, json_object_new_string(all_ops[o]));
    json_object_object_add(args, "iotypes", ops);
    json_object_object_add(args, "period", json_object_new_uint64(period ? period : pt));

    /* Right after the collector started there is nothing yet: wait a few periods. */
    for (int attempt = 0; attempt < 4; attempt++) {
        json_object_put(res);
        res = NULL;
        r = ctl_call(ctl, "io_query", args, &res);
        if (r != EXIT_OK)
            return r;
        if (count_entries(json_object_object_get(res, "data")) > 0)
            break;
        sleep(pt ? pt : 1);
    }
    if (ctl->json) {
        ctl_print_json(res);
        return EXIT_OK;
    }
    ctl_print_line("io sources %s, period %u s",
                   strna(json_object_get_string(json_object_object_get(info, "source"))), pt);
    print_table(known, json_object_object_get(res, "data"), all);
    json_object *unknown = json_object_object_get(res, "unknown_disks");
    for (size_t i = 0; i < json_array_length(unknown); i++)
        ctl_eprint_line("sentryctl: iostat: no disk %s",
                        strna(json_object_get_string(json_object_array_get_idx(unknown, i))));
    return json_array_length(unknown) ? EXIT_FAILED : EXIT_OK;
}

const struct ctl_command io_commands[] = {
    {"iostat", cmd_iostat, "[-d DISK] [-s STAGE] [-p SECS] [--sources]",
     "live io figures per disk/stage; --sources: where each stage comes from"},
    {NULL, NULL, NULL, NULL},
};
