/* test_hierarchy: openEuler's blk_io_hierarchy formats, byte for byte as the kernel prints them
 * (stats with and without io dump support, request and bio io_dump lines), and the hierarchy
 * io source over a fake debugfs tree: stage list, op order, thresholds, dump counts, details. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "hierarchy_format.h"
#include "io_source.h"
#include "log.h"

/* stats: "%s " then 12 "%llu" (read, write, discard, flush × dispatched, completed, latency),
 * then with io dump support " %llu %llu %llu %llu" (slow ios), then "\n" */
#define STATS_RQ_DRIVER "rq_driver 120 118 354000000 40 40 8000000 3 3 2000000 7 6 1000000 2 0 1 0"
#define STATS_BIO_OLD   "bio 5 4 4000 6 6 6000 0 0 0 1 1 100"

/* io_dump: request stages print "%s-%d %s stage %s " + the request + " started %llu ns ago}" */
#define DUMP_RQ                                                                             \
    "fio-4242 sda stage rq_driver 00000000a1b2c3d4 {.op=READ, .cmd_flags=SYNC|IDLE, "       \
    ".rq_flags=STARTED|ELVPRIV|IO_STAT|STATS, .state=in_flight, .tag=12, .internal_tag=-1 " \
    "started 1500000000 ns ago}"
/* bio stages: "%s-%d %s stage %s bio %s %lu + %u cgroup %s started %llu ns ago" */
#define DUMP_BIO \
    "kworker/u8:2-117 sda stage wbt bio WS 2048 + 8 cgroup /user.slice started 2000000001 ns ago"

static void test_stats_line(void **state)
{
    struct hierarchy_stats_line l;

    assert_int_equal(hierarchy_stats_parse_line(STATS_RQ_DRIVER, &l), 0);
    assert_string_equal(l.stage, "rq_driver");
    assert_true(l.has_slow);
    assert_int_equal(l.dispatched[IO_OP_READ], 120);
    assert_int_equal(l.completed[IO_OP_READ], 118);
    assert_int_equal(l.latency_ns[IO_OP_READ], 354000000);
    assert_int_equal(l.completed[IO_OP_WRITE], 40);
    assert_int_equal(l.latency_ns[IO_OP_WRITE], 8000000);
    /* the kernel prints discard before flush */
    assert_int_equal(l.completed[IO_OP_DISCARD], 3);
    assert_int_equal(l.latency_ns[IO_OP_DISCARD], 2000000);
    assert_int_equal(l.dispatched[IO_OP_FLUSH], 7);
    assert_int_equal(l.completed[IO_OP_FLUSH], 6);
    assert_int_equal(l.latency_ns[IO_OP_FLUSH], 1000000);
    assert_int_equal(l.slow[IO_OP_READ], 2);
    assert_int_equal(l.slow[IO_OP_DISCARD], 1);

    /* kernels without io dump support: 13 fields */
    assert_int_equal(hierarchy_stats_parse_line(STATS_BIO_OLD, &l), 0);
    assert_string_equal(l.stage, "bio");
    assert_false(l.has_slow);
    assert_int_equal(l.completed[IO_OP_FLUSH], 1);
    assert_int_equal(l.latency_ns[IO_OP_FLUSH], 100);
    assert_int_equal(l.latency_ns[IO_OP_WRITE], 6000);
}

static void test_stats_line_rejects(void **state)
{
    static const char *const bad[] = {
        "",
        "bio",
        "bio 1 2 3 4 5 6 7 8 9 10 11",                   /* 11 numbers */
        "bio 1 2 3 4 5 6 7 8 9 10 11 12 13",             /* 13 */
        "bio 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", /* 17 */
        "bio 1 2 3 4 5 6 7 8 9 10 11 x",
        "bio 1 2 3 4 5 6 7 8 9 10 11 -12",
        "b/o 1 2 3 4 5 6 7 8 9 10 11 12",
        "bio 1 2 3 4 5 6 7 8 9 10 11 99999999999999999999999",
        "a_stage_name_much_too_long_for_us 1 2 3 4 5 6 7 8 9 10 11 12",
    };
    struct hierarchy_stats_line l;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(hierarchy_stats_parse_line(bad[i], &l), -EINVAL);
}

static void test_iodump_request_line(void **state)
{
    struct iodump_entry e;

    assert_int_equal(iodump_parse_line(DUMP_RQ, &e), 0);
    assert_string_equal(e.task, "fio");
    assert_int_equal(e.pid, 4242);
    assert_string_equal(e.disk, "sda");
    assert_string_equal(e.stage, "rq_driver");
    assert_false(e.is_bio);
    assert_string_equal(e.ptr, "00000000a1b2c3d4");
    assert_int_equal(e.op, IO_OP_READ);
    assert_int_equal(e.age_ns, 1500000000ULL);

    /* task names with '-' and blanks, other ops */
    assert_int_equal(iodump_parse_line("kworker/0:1H-kblockd-88 nvme0n1 stage hctx "
                                       "ffff888101234567 {.op=WRITE_ZEROES, .cmd_flags=, "
                                       ".rq_flags=, .state=idle, .tag=-1, .internal_tag=3 "
                                       "started 7 ns ago}",
                                       &e),
                     0);
    assert_string_equal(e.task, "kworker/0:1H-kblockd");
    assert_int_equal(e.pid, 88);
    assert_string_equal(e.disk, "nvme0n1");
    assert_int_equal(e.op, IO_OP_WRITE);
    assert_int_equal(e.age_ns, 7);

    assert_int_equal(iodump_parse_line("my prog-9 sdb stage requeue 0000000012345678 "
                                       "{.op=FLUSH, .cmd_flags=PREFLUSH, .rq_flags=, "
                                       ".state=idle, .tag=1, .internal_tag=-1 started 3000000 "
                                       "ns ago}",
                                       &e),
                     0);
    assert_string_equal(e.task, "my prog");
    assert_int_equal(e.op, IO_OP_FLUSH);

    assert_int_equal(iodump_parse_line("null-0 sdb stage deadline 0000000012345678 "
                                       "{.op=DISCARD, .cmd_flags=, .rq_flags=, .state=idle, "
                                       ".tag=1, .internal_tag=-1 started 1 ns ago}",
                                       &e),
                     0);
    assert_string_equal(e.task, "null");
    assert_int_equal(e.pid, 0);
    assert_int_equal(e.op, IO_OP_DISCARD);

    /* an op that is none of the four */
    assert_int_equal(iodump_parse_line("a-1 sdb stage hctx 0000000012345678 {.op=DRV_IN, "
                                       ".cmd_flags=, .rq_flags=, .state=idle, .tag=1, "
                                       ".internal_tag=-1 started 1 ns ago}",
                                       &e),
                     0);
    assert_int_equal(e.op, -1);
}

static void test_iodump_bio_line(void **state)
{
    struct iodump_entry e;

    assert_int_equal(iodump_parse_line(DUMP_BIO, &e), 0);
    assert_string_equal(e.task, "kworker/u8:2");
    assert_int_equal(e.pid, 117);
    assert_string_equal(e.stage, "wbt");
    assert_true(e.is_bio);
    assert_string_equal(e.ptr, "");
    assert_int_equal(e.op, IO_OP_WRITE);
    assert_int_equal(e.age_ns, 2000000001ULL);

    static const struct {
        const char *rwbs;
        const char *sectors;
        int op;
    } rwbs[] = {
        {"R", "8", IO_OP_READ},     {"RA", "8", IO_OP_READ},
        {"W", "8", IO_OP_WRITE},    {"WFS", "8", IO_OP_WRITE},
        {"FWS", "8", IO_OP_WRITE},  {"FWS", "0", IO_OP_FLUSH},
        {"F", "0", IO_OP_FLUSH},    {"D", "2048", IO_OP_DISCARD},
        {"DE", "8", IO_OP_DISCARD}, {"N", "0", -1},
    };
    for (size_t i = 0; i < sizeof(rwbs) / sizeof(rwbs[0]); i++) {
        char line[256];

        snprintf(line, sizeof(line),
                 "dd-5 sdc stage throtl bio %s 100 + %s cgroup /t started 1 ns ago", rwbs[i].rwbs,
                 rwbs[i].sectors);
        assert_int_equal(iodump_parse_line(line, &e), 0);
        assert_int_equal(e.op, rwbs[i].op);
    }
}

static void test_iodump_rejects(void **state)
{
    static const char *const bad[] = {
        "",
        "no stage here",
        "fio-x sda stage rq_driver 00000000a1b2c3d4 {.op=READ} started 1 ns ago}",
        "fio sda stage rq_driver 00000000a1b2c3d4 {.op=READ} started 1 ns ago}",
        "fio-1 sda stage rq_driver zz000000a1b2c3d4 {.op=READ} started 1 ns ago}",
        "fio-1 sda stage rq_driver 00000000a1b2c3d4 {.op=READ} started x ns ago}",
        "fio-1 sda stage rq_driver 00000000a1b2c3d4 {.op=READ}",
        "fio-1 sda stage rq_driver 00000000a1b2c3d4 started 1 ns ago}",
        "fio-1 sda stage wbt bio WS x + 8 cgroup / started 1 ns ago",
        "fio-1 sda stage wbt bio WS 1 - 8 cgroup / started 1 ns ago",
        "-1 sda stage wbt bio WS 1 + 8 cgroup / started 1 ns ago",
    };
    struct iodump_entry e;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(iodump_parse_line(bad[i], &e), -EINVAL);
}

/* ---- the source over a fake debugfs ---------------------------------------------------------- */

struct fake_debugfs {
    char root[64];
};

static void put(const char *root, const char *rel, const char *text)
{
    char path[512], tmp[520];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    f = fopen(tmp, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, path), 0);
}

static char *get(const char *root, const char *rel)
{
    static char buf[256];
    char path[512];
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    f = fopen(path, "r");
    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static void mkdirs(const char *root, const char *rel)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(path, 0755);
            *p = '/';
        }
    mkdir(path, 0755);
}

static const char *const stages[] = {"throtl", "wbt",     "gettag",    "plug", "deadline",
                                     "hctx",   "requeue", "rq_driver", "bio"};

static int setup_debugfs(void **state)
{
    struct fake_debugfs *f = calloc(1, sizeof(*f));
    char rel[256];

    assert_non_null(f);
    strcpy(f->root, "/tmp/test_hierarchy.XXXXXX");
    assert_non_null(mkdtemp(f->root));
    mkdirs(f->root, "block/sdb"); /* a disk without blk_io_hierarchy */
    for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
        snprintf(rel, sizeof(rel), "block/sda/blk_io_hierarchy/%s", stages[i]);
        mkdirs(f->root, rel);
        snprintf(rel, sizeof(rel), "block/sda/blk_io_hierarchy/%s/threshold", stages[i]);
        put(f->root, rel, "1000\n");
        snprintf(rel, sizeof(rel), "block/sda/blk_io_hierarchy/%s/io_dump", stages[i]);
        put(f->root, rel, "");
    }
    *state = f;
    return 0;
}

static int teardown_debugfs(void **state)
{
    struct fake_debugfs *f = *state;
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* The stats file as the kernel would print it, every stage with the same figures times k. */
static void put_stats(const char *root, unsigned k, const char *extra_line)
{
    char text[4096] = "";
    size_t n = 0;

    for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++)
        n += (size_t) snprintf(text + n, sizeof(text) - n,
                               "%s %u %u %u %u %u %u %u %u %u %u %u %u 0 0 0 0\n", stages[i],
                               10 * k, 10 * k, 1000000 * k, 20 * k, 20 * k, 4000000 * k, 1 * k,
                               1 * k, 3000000 * k, 2 * k, 2 * k, 5000000 * k);
    if (extra_line)
        snprintf(text + n, sizeof(text) - n, "%s\n", extra_line);
    put(root, "block/sda/blk_io_hierarchy/stats", text);
}

static void test_source(void **state)
{
    struct fake_debugfs *f = *state;
    struct io_source_params p = {.debugfs_root = f->root,
                                 .dump_threshold_ms = {[DISK_SATA_SSD] = 500}};
    struct disk_info sda = {.name = "sda", .devnum = makedev(8, 0), .type = DISK_SATA_SSD};
    struct disk_info sdb = {.name = "sdb", .devnum = makedev(8, 16), .type = DISK_SATA_SSD};
    struct io_stage_counters c[_IO_STAGE_MAX][_IO_OP_MAX];
    char details[8][IO_DUMP_DETAIL_MAX];
    struct io_source *s = NULL;

    /* no stats anywhere yet: not this kernel */
    assert_int_equal(io_source_open(IO_SOURCE_HIERARCHY, &p, &s, NULL, 0), -EOPNOTSUPP);

    put_stats(f->root, 1, "kyber 1 1 1 1 1 1 1 1 1 1 1 1\nnewstage 1 1 1 1 1 1 1 1 1 1 1 1");
    assert_int_equal(io_source_open(IO_SOURCE_HIERARCHY, &p, &s, NULL, 0), 0);
    assert_string_equal(io_source_name(s), "hierarchy");
    assert_int_equal(io_source_add_disk(s, &sdb), -ENODEV);
    assert_int_equal(io_source_add_disk(s, &sda), 0);

    /* every stage's threshold now says the disk type's */
    assert_string_equal(get(f->root, "block/sda/blk_io_hierarchy/rq_driver/threshold"), "500");
    assert_string_equal(get(f->root, "block/sda/blk_io_hierarchy/bio/threshold"), "500");

    assert_int_equal(io_source_read(s, &sda, c), 0);
    for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
        int st = io_stage_from_string(stages[i]);
        for (int op = 0; op < _IO_OP_MAX; op++) {
            assert_true(c[st][op].valid);
            assert_int_equal(c[st][op].finished, 0);
            assert_int_equal(c[st][op].dump, 0);
        }
    }
    assert_false(c[IO_STAGE_IOCOST][IO_OP_READ].valid);
    assert_false(c[IO_STAGE_BFQ][IO_OP_READ].valid);
    assert_true(c[IO_STAGE_KYBER][IO_OP_READ].valid);

    /* three times the figures: the deltas since following began */
    put_stats(f->root, 3, NULL);
    put(f->root, "block/sda/blk_io_hierarchy/rq_driver/io_dump",
        DUMP_RQ "\n"
                "fio-4242 sda stage rq_driver 00000000a1b2c3d5 {.op=WRITE, .cmd_flags=SYNC, "
                ".rq_flags=STARTED, .state=in_flight, .tag=13, .internal_tag=-1 started "
                "900000000 ns ago}\n"
                "fio-4242 sda stage rq_driver 00000000a1b2c3d6 {.op=WRITE_ZEROES, .cmd_flags=, "
                ".rq_flags=STARTED, .state=in_flight, .tag=14, .internal_tag=-1 started "
                "800000000 ns ago}\n"
                "garbage that does not parse\n");
    put(f->root, "block/sda/blk_io_hierarchy/wbt/io_dump", DUMP_BIO "\n");
    assert_int_equal(io_source_read(s, &sda, c), 0);
    assert_int_equal(c[IO_STAGE_BIO][IO_OP_READ].finished, 20);
    assert_int_equal(c[IO_STAGE_BIO][IO_OP_READ].latency_ns, 2000000);
    assert_int_equal(c[IO_STAGE_BIO][IO_OP_WRITE].finished, 40);
    assert_int_equal(c[IO_STAGE_BIO][IO_OP_WRITE].latency_ns, 8000000);
    assert_int_equal(c[IO_STAGE_BIO][IO_OP_DISCARD].finished, 2);
    assert_int_equal(c[IO_STAGE_BIO][IO_OP_DISCARD].latency_ns, 6000000);
    assert_int_equal(c[IO_STAGE_BIO][IO_OP_FLUSH].finished, 4);
    assert_int_equal(c[IO_STAGE_BIO][IO_OP_FLUSH].latency_ns, 10000000);
    assert_int_equal(c[IO_STAGE_RQ_DRIVER][IO_OP_READ].dump, 1);
    assert_int_equal(c[IO_STAGE_RQ_DRIVER][IO_OP_WRITE].dump, 2);
    assert_int_equal(c[IO_STAGE_RQ_DRIVER][IO_OP_FLUSH].dump, 0);
    assert_int_equal(c[IO_STAGE_WBT][IO_OP_WRITE].dump, 1);
    assert_int_equal(c[IO_STAGE_BIO][IO_OP_WRITE].dump, 0);
    /* kyber left the file: no longer valid */
    assert_false(c[IO_STAGE_KYBER][IO_OP_READ].valid);

    /* details in the reference format */
    assert_int_equal(io_source_read_dumps(s, &sda, details, 8), 4);
    assert_string_equal(details[0], "kworker/u8:2,117,wbt,,2000");
    assert_string_equal(details[1], "fio,4242,rq_driver,00000000a1b2c3d4,1500");
    assert_string_equal(details[2], "fio,4242,rq_driver,00000000a1b2c3d5,900");
    assert_int_equal(io_source_read_dumps(s, &sda, details, 2), 2);
    assert_int_equal(io_source_read_dumps(s, &sda, details, 0), 0);

    /* the kernel's counters restart (queue re-created): ours keep growing */
    put_stats(f->root, 1, NULL);
    assert_int_equal(io_source_read(s, &sda, c), 0);
    assert_int_equal(c[IO_STAGE_BIO][IO_OP_READ].finished, 30);

    /* the disk goes away */
    char stats[256];
    snprintf(stats, sizeof(stats), "%s/block/sda/blk_io_hierarchy/stats", f->root);
    assert_int_equal(unlink(stats), 0);
    assert_int_equal(io_source_read(s, &sda, c), -ENODEV);
    io_source_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_line),
        cmocka_unit_test(test_stats_line_rejects),
        cmocka_unit_test(test_iodump_request_line),
        cmocka_unit_test(test_iodump_bio_line),
        cmocka_unit_test(test_iodump_rejects),
        cmocka_unit_test_setup_teardown(test_source, setup_debugfs, teardown_debugfs),
    };
    log_setup("test_hierarchy", LOG_TARGET_NULL, LOG_DEBUG);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
