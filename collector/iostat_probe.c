/* iostat_probe.c: sentry-iostat-probe, a debugging tool for the io sources.
 *
 * Opens the io sources the way the collector does ("auto": every available one, each stage from
 * the best that measures it; or the kinds named with --source), follows the given disks (all
 * disks when none is given) and prints, every interval, the per-stage, per-op figures of the last
 * interval computed the way the collector does: latency = Δlatency/Δfinished (µs), iops =
 * Δfinished/interval, io_length = Δlatency/interval, and the dump gauge. --json prints one JSON
 * object per interval on one line, for scripts and tests; --sources prints, once, where each
 * stage comes from and why the other sources do not give it. Not installed. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "disk_discovery.h"
#include "io_source_report.h"
#include "io_source_set.h"
#include "log.h"
#include "macro.h"
#include "parse_number.h"

#define MAX_DETAILS 10

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    stop = 1;
}

struct probe_disk {
    struct disk_info info;
    struct io_source_reading last;
};

struct probe_args {
    const char *source; /* io_source_set.h spec */
    double interval;
    long count; /* 0 = until interrupted */
    uint64_t threshold_ms;
    bool json, all, dumps, sources;
    const char *sysfs_root, *procfs_root, *debugfs_root;
};

static void usage(FILE *f)
{
    fprintf(
        f, "Usage: sentry-iostat-probe [OPTIONS] [DISK...]\n"
           "Prints per-stage io figures of the given disks (all disks when none) every "
           "interval.\n\n"
           "  -s, --source=KINDS      auto (default: each stage from the best source that has it)\n"
           "                          or hierarchy, bpf, diskstats in order, comma-separated\n"
           "  -S, --sources           print where each stage comes from (and why not the\n"
           "                          others) as JSON, then the figures\n"
           "  -i, --interval=SEC      seconds between samples (default 1)\n"
           "  -c, --count=N           stop after N intervals (default: until interrupted)\n"
           "  -t, --threshold-ms=MS   iodump threshold for every disk type (default 1000)\n"
           "  -j, --json              one JSON object per interval\n"
           "  -a, --all               also print stages and ops without any io\n"
           "  -d, --dumps             also print the iodump details\n"
           "      --sysfs-root=DIR, --procfs-root=DIR, --debugfs-root=DIR\n"
           "                          read a fake tree instead of the system's\n"
           "  -v, --verbose           debug logging\n"
           "  -h, --help\n");
}

static int parse_args(int argc, char **argv, struct probe_args *a, int *first_disk)
{
    enum { ARG_SYSFS = 0x100, ARG_PROCFS, ARG_DEBUGFS };
    static const struct option options[] = {
        {"source", required_argument, NULL, 's'},
        {"sources", no_argument, NULL, 'S'},
        {"interval", required_argument, NULL, 'i'},
        {"count", required_argument, NULL, 'c'},
        {"threshold-ms", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {"all", no_argument, NULL, 'a'},
        {"dumps", no_argument, NULL, 'd'},
        {"sysfs-root", required_argument, NULL, ARG_SYSFS},
        {"procfs-root", required_argument, NULL, ARG_PROCFS},
        {"debugfs-root", required_argument, NULL, ARG_DEBUGFS},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {},
    };
    int c;

    while ((c = getopt_long(argc, argv, "s:Si:c:t:jadvh", options, NULL)) >= 0) {
        uint64_t u;

        switch (c) {
        case 's': {
            enum io_source_kind order[_IO_SOURCE_KIND_MAX];
            if (io_source_spec_parse(optarg, order) < 0) {
                log_error("bad source '%s' (auto, or hierarchy, bpf, diskstats comma-separated)",
                          optarg);
                return -EINVAL;
            }
            a->source = optarg;
            break;
        }
        case 'S':
            a->sources = true;
            break;
        case 'i':
            if (parse_double(optarg, &a->interval) < 0 || a->interval < 0.05 ||
                a->interval > 3600) {
                log_error("bad interval '%s' (0.05..3600 s)", optarg);
                return -EINVAL;
            }
            break;
        case 'c':
            if (parse_uint_digits(optarg, &u) < 0 || u > 1000000) {
                log_error("bad count '%s'", optarg);
                return -EINVAL;
            }
            a->count = (long) u;
            break;
        case 't':
            if (parse_uint_digits(optarg, &u) < 0 || u == 0 || u > 3600 * 1000) {
                log_error("bad threshold '%s' (ms)", optarg);
                return -EINVAL;
            }
            a->threshold_ms = u;
            break;
        case 'j':
            a->json = true;
            break;
        case 'a':
            a->all = true;
            break;
        case 'd':
            a->dumps = true;
            break;
        case ARG_SYSFS:
            a->sysfs_root = optarg;
            break;
        case ARG_PROCFS:
            a->procfs_root = optarg;
            break;
        case ARG_DEBUGFS:
            a->debugfs_root = optarg;
            break;
        case 'v':
            log_set_max_level(LOG_DEBUG);
            break;
        case 'h':
            usage(stdout);
            exit(EXIT_SUCCESS);
        default:
            usage(stderr);
            return -EINVAL;
        }
    }
    *first_disk = optind;
    return 0;
}

static int disks_collect(int argc, char **argv, int first, struct probe_disk **ret, size_t *ret_n)
{
    _cleanup_disk_discovery_ struct disk_discovery *dd = NULL;
    _cleanup_free_ struct probe_disk *l = NULL;
    size_t n = 0;
    int r;

    r = disk_discovery_new(&dd);
    if (r < 0)
        return log_error_errno(r, "cannot start disk discovery: %m");

    if (first >= argc) {
        _cleanup_free_ struct disk_info *all = NULL;
        size_t n_all = 0;

        r = disk_discovery_enumerate(dd, &all, &n_all);
        if (r < 0)
            return r;
        l = calloc(n_all ? n_all : 1, sizeof(*l));
        if (!l)
            return -ENOMEM;
        for (size_t i = 0; i < n_all; i++)
            l[n++].info = all[i];
    } else {
        l = calloc((size_t) (argc - first), sizeof(*l));
        if (!l)
            return -ENOMEM;
        for (int i = first; i < argc; i++) {
            const char *name = argv[i];

            if (startswith(name, "/dev/"))
                name += STRLEN("/dev/");
            r = disk_discovery_find(dd, name, &l[n].info);
            if (r < 0)
                return log_error_errno(r, "%s: not a disk: %m", argv[i]);
            n++;
        }
    }
    *ret = TAKE_PTR(l);
    *ret_n = n;
    return 0;
}

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void sleep_seconds(double s)
{
    struct timespec ts = {.tv_sec = (time_t) s,
                          .tv_nsec = (long) ((s - (double) (time_t) s) * 1e9)};

    while (!stop && nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

struct figures {
    uint64_t finished, dump;
    double latency_us, iops, io_length;
};

static struct figures figures_compute(const struct io_stage_counters *now,
                                      const struct io_stage_counters *last, double period)
{
    struct figures f = {.dump = now->dump};
    uint64_t dfin = now->finished >= last->finished ? now->finished - last->finished : 0;
    uint64_t dlat = now->latency_ns >= last->latency_ns ? now->latency_ns - last->latency_ns : 0;

    f.finished = dfin;
    f.latency_us = dfin > 0 ? (double) dlat / (double) dfin / 1000.0 : 0;
    f.iops = period > 0 ? (double) dfin / period : 0;
    f.io_length = period > 0 ? (double) dlat / 1000.0 / (period * 1e6) : 0;
    return f;
}

static int print_interval(struct io_source_set *src, struct probe_disk *disks, size_t n_disks,
                          double period, const struct probe_args *a)
{
    struct json_object *root = NULL, *jdisks = NULL, *jdumps = NULL, *jsources = NULL;
    int r;

    if (a->json) {
        root = json_object_new_object();
        jdisks = json_object_new_object();
        jdumps = json_object_new_object();
        jsources = json_object_new_object();
        if (!root || !jdisks || !jdumps || !jsources) {
            json_object_put(root);
            json_object_put(jdisks);
            json_object_put(jdumps);
            json_object_put(jsources);
            return -ENOMEM;
        }
        json_object_object_add(root, "source", json_object_new_string(io_source_set_spec(src)));
        json_object_object_add(root, "interval_s", json_object_new_double(period));
        json_object_object_add(root, "disks", jdisks);
        json_object_object_add(root, "dumps", jdumps);
        json_object_object_add(root, "stage_sources", jsources);
    } else {
        printf("%-10s %-10s %-8s %-9s %10s %12s %10s %8s\n", "disk", "stage", "op", "source",
               "iops", "latency_us", "io_length", "dump");
    }

    for (size_t i = 0; i < n_disks; i++) {
        struct probe_disk *pd = &disks[i];
        struct io_source_reading now;
        struct json_object *jd = NULL, *jfrom = NULL;

        r = io_source_set_read(src, &pd->info, &now);
        if (r < 0) {
            log_warning_errno(r, "%s: cannot read: %m", pd->info.name);
            continue;
        }
        if (a->json) {
            jd = json_object_new_object();
            jfrom = json_object_new_object();
            if (!jd || !jfrom) {
                json_object_put(jd);
                json_object_put(jfrom);
                return -ENOMEM;
            }
            json_object_object_add(jdisks, pd->info.name, jd);
            json_object_object_add(jsources, pd->info.name, jfrom);
        }
        for (int st = 0; st < _IO_STAGE_MAX; st++) {
            struct json_object *js = NULL;

            /* figures need two reads from one source */
            if (now.from[st] == IO_SOURCE_NONE || now.from[st] != pd->last.from[st])
                continue;
            if (jfrom)
                json_object_object_add(
                    jfrom, io_stage_to_string(st),
                    json_object_new_string(io_source_kind_to_string(now.from[st])));
            for (int op = 0; op < _IO_OP_MAX; op++) {
                struct figures f;

                if (!now.c[st][op].valid)
                    continue;
                f = figures_compute(&now.c[st][op], &pd->last.c[st][op], period);
                if (a->json) {
                    struct json_object *jo = json_object_new_object();
                    if (!jo)
                        return -ENOMEM;
                    if (!js) {
                        js = json_object_new_object();
                        if (!js) {
                            json_object_put(jo);
                            return -ENOMEM;
                        }
                        json_object_object_add(jd, io_stage_to_string(st), js);
                    }
                    json_object_object_add(jo, "finished", json_object_new_uint64(f.finished));
                    json_object_object_add(jo, "latency_us", json_object_new_double(f.latency_us));
                    json_object_object_add(jo, "iops", json_object_new_double(f.iops));
                    json_object_object_add(jo, "io_length", json_object_new_double(f.io_length));
                    json_object_object_add(jo, "dump", json_object_new_uint64(f.dump));
                    json_object_object_add(js, io_op_to_string(op), jo);
                } else if (a->all || f.finished > 0 || f.dump > 0) {
                    printf("%-10s %-10s %-8s %-9s %10.1f %12.1f %10.3f %8" PRIu64 "\n",
                           pd->info.name, io_stage_to_string(st), io_op_to_string(op),
                           io_source_kind_to_string(now.from[st]), f.iops, f.latency_us,
                           f.io_length, f.dump);
                }
            }
        }
        pd->last = now;

        if (a->dumps) {
            char details[MAX_DETAILS][IO_DUMP_DETAIL_MAX];
            int k = io_source_set_read_dumps(src, &pd->info, &now, details, MAX_DETAILS);
            struct json_object *jl = NULL;

            if (k > 0 && a->json) {
                jl = json_object_new_array();
                if (!jl)
                    return -ENOMEM;
                json_object_object_add(jdumps, pd->info.name, jl);
            }
            for (int j = 0; j < k; j++) {
                if (jl)
                    json_object_array_add(jl, json_object_new_string(details[j]));
                else if (!a->json)
                    printf("%-10s iodump %s\n", pd->info.name, details[j]);
            }
        }
    }

    if (a->json) {
        puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
        json_object_put(root);
    } else {
        putchar('\n');
    }
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    struct probe_args a = {.source = IO_SOURCE_SPEC_AUTO, .interval = 1.0};
    struct io_source_params p = {};
    struct io_source_set *src = NULL;
    _cleanup_free_ struct probe_disk *disks = NULL;
    size_t n_disks = 0;
    int first, r, ret = EXIT_FAILURE;

    log_setup("sentry-iostat-probe", LOG_TARGET_STDERR, LOG_INFO);
    r = parse_args(argc, argv, &a, &first);
    if (r < 0)
        return EXIT_FAILURE;

    p.sysfs_root = a.sysfs_root;
    p.procfs_root = a.procfs_root;
    p.debugfs_root = a.debugfs_root;
    for (size_t i = 0; i < _DISK_TYPE_MAX; i++)
        p.dump_threshold_ms[i] = a.threshold_ms;

    r = disks_collect(argc, argv, first, &disks, &n_disks);
    if (r < 0)
        return EXIT_FAILURE;

    r = io_source_set_open(a.source, &p, &src);
    if (r < 0) {
        log_error_errno(r, "cannot open the io sources '%s': %m", a.source);
        return r == -EOPNOTSUPP ? 77 : EXIT_FAILURE; /* 77: "skipped" for test drivers */
    }

    for (size_t i = 0; i < n_disks; i++) {
        r = io_source_set_add_disk(src, &disks[i].info);
        if (r < 0) {
            log_error_errno(r, "%s: cannot follow: %m", disks[i].info.name);
            goto out;
        }
        r = io_source_set_read(src, &disks[i].info, &disks[i].last);
        if (r < 0) {
            log_error_errno(r, "%s: cannot read: %m", disks[i].info.name);
            goto out;
        }
    }
    if (a.sources) {
        _cleanup_free_ struct disk_info *infos = calloc(n_disks ? n_disks : 1, sizeof(*infos));
        json_object *rep;

        for (size_t i = 0; infos && i < n_disks; i++)
            infos[i] = disks[i].info;
        rep = infos ? io_source_report(src, infos, n_disks) : NULL;
        if (!rep) {
            log_oom();
            goto out;
        }
        puts(json_object_to_json_string_ext(rep, a.json ? JSON_C_TO_STRING_PLAIN
                                                        : JSON_C_TO_STRING_PRETTY));
        json_object_put(rep);
        fflush(stdout);
    }

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);

    double last = now_seconds();
    for (long k = 0; !stop && (a.count == 0 || k < a.count); k++) {
        sleep_seconds(a.interval);
        if (stop)
            break;
        double t = now_seconds();
        r = print_interval(src, disks, n_disks, t - last, &a);
        if (r < 0) {
            log_error_errno(r, "cannot print: %m");
            goto out;
        }
        last = t;
    }
    ret = EXIT_SUCCESS;
out:
    io_source_set_free(src);
    return ret;
}
