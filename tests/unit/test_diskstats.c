/* test_diskstats: /proc/diskstats lines of every layout the kernel has printed (14, 18 and 20
 * columns), and the diskstats io source over a fake /proc tree: whole-device figures as stage
 * bio, ms turned into ns, 32-bit wrap of the ms fields, counters that restart. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "diskstats.h"
#include "io_source.h"
#include "log.h"

/* Byte-exact lines as the kernel formats them ("%4d %7d %s %lu ..."). */
#define LINE14 "   8       0 sda 1200 30 96000 1500 800 12 64000 2400 0 3100 3900\n"
#define LINE18 "   8      16 sdb 1200 30 96000 1500 800 12 64000 2400 0 3100 3900 7 0 5600 21\n"
#define LINE20 \
    "   7       0 loop0 319 0 2552 70605 218 12192 99280 97396 0 23404 168002 5 0 40 9 3 12\n"
#define PART20 "   7       1 loop0p1 10 0 80 5 0 0 0 0 0 5 5 0 0 0 0 0 0\n"

static void test_parse_layouts(void **state)
{
    struct diskstats_entry e;

    assert_int_equal(diskstats_parse_line(LINE14, &e), 0);
    assert_int_equal(e.major, 8);
    assert_int_equal(e.minor, 0);
    assert_string_equal(e.name, "sda");
    assert_int_equal(e.n_fields, 11);
    assert_int_equal(e.field[DISKSTATS_READ_IOS], 1200);
    assert_int_equal(e.field[DISKSTATS_READ_TICKS], 1500);
    assert_int_equal(e.field[DISKSTATS_WRITE_IOS], 800);
    assert_int_equal(e.field[DISKSTATS_WRITE_TICKS], 2400);
    assert_int_equal(e.field[DISKSTATS_TIME_IN_QUEUE], 3900);
    assert_int_equal(diskstats_op_ios_field(IO_OP_DISCARD, e.n_fields), -1);
    assert_int_equal(diskstats_op_ios_field(IO_OP_FLUSH, e.n_fields), -1);

    assert_int_equal(diskstats_parse_line(LINE18, &e), 0);
    assert_int_equal(e.n_fields, 15);
    assert_int_equal(e.minor, 16);
    assert_int_equal(diskstats_op_ios_field(IO_OP_DISCARD, e.n_fields), DISKSTATS_DISCARD_IOS);
    assert_int_equal(diskstats_op_ticks_field(IO_OP_DISCARD, e.n_fields), DISKSTATS_DISCARD_TICKS);
    assert_int_equal(e.field[DISKSTATS_DISCARD_IOS], 7);
    assert_int_equal(e.field[DISKSTATS_DISCARD_TICKS], 21);
    assert_int_equal(diskstats_op_ios_field(IO_OP_FLUSH, e.n_fields), -1);

    assert_int_equal(diskstats_parse_line(LINE20, &e), 0);
    assert_int_equal(e.n_fields, 17);
    assert_string_equal(e.name, "loop0");
    assert_int_equal(e.field[DISKSTATS_FLUSH_IOS], 3);
    assert_int_equal(e.field[DISKSTATS_FLUSH_TICKS], 12);
    assert_int_equal(diskstats_op_ios_field(IO_OP_FLUSH, e.n_fields), DISKSTATS_FLUSH_IOS);
    assert_int_equal(diskstats_op_ticks_field(IO_OP_FLUSH, e.n_fields), DISKSTATS_FLUSH_TICKS);

    /* a future kernel with more fields: the known ones are used */
    assert_int_equal(diskstats_parse_line("   7 0 loop1 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 "
                                          "18 19",
                                          &e),
                     0);
    assert_int_equal(e.n_fields, 17);
    assert_int_equal(e.field[DISKSTATS_FLUSH_TICKS], 17);
}

static void test_parse_rejects(void **state)
{
    static const char *const bad[] = {
        "",
        "   8       0 sda",
        "   8       0 sda 1 2 3 4 5 6 7 8 9 10",                         /* 10 fields */
        "   8       0 sda 1 2 3 4 5 6 7 8 9 10 x1",                      /* not a number */
        "   8       0 sda 1 2 3 4 5 6 7 8 9 10 -1",                      /* negative */
        "   8       0 sda 1 2 3 4 5 6 7 8 9 10 1.5",                     /* not an integer */
        "   8       0 ../x 1 2 3 4 5 6 7 8 9 10 11",                     /* a name we refuse */
        "   x       0 sda 1 2 3 4 5 6 7 8 9 10 11",                      /* bad major */
        "   8       0 sda 1 2 3 4 5 6 7 8 9 10 99999999999999999999999", /* overflow */
        "   8 4294967296 sda 1 2 3 4 5 6 7 8 9 10 11",                   /* minor out of range */
        "   8       0 sda 1 2 3 4 5 6 7 8 9 10 "
        "11111111111111111111111111111111111111111111111111", /* token too long */
    };
    struct diskstats_entry e;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(diskstats_parse_line(bad[i], &e), -EINVAL);
}

static void test_find(void **state)
{
    static const char text[] = LINE14 LINE18 LINE20 PART20 "garbage line\n";
    struct diskstats_entry e;

    assert_int_equal(diskstats_find(text, makedev(7, 0), &e), 0);
    assert_string_equal(e.name, "loop0");
    assert_int_equal(diskstats_find(text, makedev(7, 1), &e), 0);
    assert_string_equal(e.name, "loop0p1");
    assert_int_equal(diskstats_find(text, makedev(8, 16), &e), 0);
    assert_string_equal(e.name, "sdb");
    assert_int_equal(diskstats_find(text, makedev(8, 32), &e), -ENOENT);
    assert_int_equal(diskstats_find("", makedev(8, 0), &e), -ENOENT);
}

/* ---- the source over a fake /proc ---------------------------------------------------------- */

struct fake_proc {
    char dir[64];
    char path[128];
};

static void fake_write(struct fake_proc *f, const char *text)
{
    char tmp[160];
    FILE *fp;

    snprintf(tmp, sizeof(tmp), "%s.new", f->path);
    fp = fopen(tmp, "w");
    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(rename(tmp, f->path), 0);
}

static int setup_proc(void **state)
{
    struct fake_proc *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    strcpy(f->dir, "/tmp/test_diskstats.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/diskstats", f->dir);
    *state = f;
    return 0;
}

static int teardown_proc(void **state)
{
    struct fake_proc *f = *state;

    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static char *line20(unsigned minor, const char *name, uint64_t rios, uint64_t rticks, uint64_t wios,
                    uint64_t wticks, uint64_t dios, uint64_t dticks, uint64_t fios, uint64_t fticks)
{
    static char buf[512];

    snprintf(buf, sizeof(buf),
             "%4d %7u %s %lu %lu %lu %lu %lu %lu %lu %lu %u %u %u %lu %lu %lu %lu %lu %lu\n", 7,
             minor, name, (unsigned long) rios, 0UL, (unsigned long) rios * 8,
             (unsigned long) rticks, (unsigned long) wios, 0UL, (unsigned long) wios * 8,
             (unsigned long) wticks, 0U, 100U, 100U, (unsigned long) dios, 0UL,
             (unsigned long) dios * 8, (unsigned long) dticks, (unsigned long) fios,
             (unsigned long) fticks);
    return buf;
}

static const struct disk_info loop0 = {.name = "loop0", .devnum = 0x700, .type = DISK_VIRTUAL};

static void check_op(struct io_stage_counters c[_IO_STAGE_MAX][_IO_OP_MAX], enum io_op op,
                     uint64_t finished, uint64_t latency_ms)
{
    assert_true(c[IO_STAGE_BIO][op].valid);
    assert_int_equal(c[IO_STAGE_BIO][op].finished, finished);
    assert_int_equal(c[IO_STAGE_BIO][op].latency_ns, latency_ms * 1000000ULL);
    assert_int_equal(c[IO_STAGE_BIO][op].dump, 0);
}

static void test_source_20(void **state)
{
    struct fake_proc *f = *state;
    struct io_source_params p = {.procfs_root = f->dir};
    struct io_stage_counters c[_IO_STAGE_MAX][_IO_OP_MAX];
    struct disk_info d = loop0;
    struct io_source *s = NULL;
    char text[2048];

    d.devnum = makedev(7, 0);
    snprintf(text, sizeof(text), "%s%s", line20(0, "loop0", 100, 5000, 50, 900, 4, 8, 2, 6),
             PART20);
    fake_write(f, text);
    assert_int_equal(io_source_open(IO_SOURCE_DISKSTATS, &p, &s, NULL, 0), 0);
    assert_string_equal(io_source_name(s), "diskstats");
    assert_int_equal(io_source_add_disk(s, &d), 0);
    assert_int_equal(io_source_add_disk(s, &d), -EEXIST);

    /* counted from when the source started following the disk */
    assert_int_equal(io_source_read(s, &d, c), 0);
    for (int op = 0; op < _IO_OP_MAX; op++)
        check_op(c, op, 0, 0);
    for (int st = 0; st < _IO_STAGE_MAX; st++)
        for (int op = 0; op < _IO_OP_MAX; op++)
            assert_int_equal(c[st][op].valid, st == IO_STAGE_BIO);

    fake_write(f, line20(0, "loop0", 110, 5500, 54, 940, 6, 14, 3, 9));
    assert_int_equal(io_source_read(s, &d, c), 0);
    check_op(c, IO_OP_READ, 10, 500);
    check_op(c, IO_OP_WRITE, 4, 40);
    check_op(c, IO_OP_DISCARD, 2, 6);
    check_op(c, IO_OP_FLUSH, 1, 3);

    /* the ms fields are 32-bit and wrap */
    fake_write(f, line20(0, "loop0", 111, 4294967000ULL, 54, 940, 6, 14, 3, 9));
    assert_int_equal(io_source_read(s, &d, c), 0);
    check_op(c, IO_OP_READ, 11, 500 + (4294967000ULL - 5500));
    fake_write(f, line20(0, "loop0", 112, 200, 54, 940, 6, 14, 3, 9));
    assert_int_equal(io_source_read(s, &d, c), 0);
    check_op(c, IO_OP_READ, 12,
             500 + (4294967000ULL - 5500) + (200 + 4294967296ULL - 4294967000ULL));

    /* the device was re-created: counters restart from zero, ours go on growing */
    fake_write(f, line20(0, "loop0", 3, 30, 1, 10, 0, 0, 0, 0));
    assert_int_equal(io_source_read(s, &d, c), 0);
    check_op(c, IO_OP_READ, 15, 500 + (4294967000ULL - 5500) + 496 + 30);
    check_op(c, IO_OP_WRITE, 5, 50);

    /* gone from the file */
    fake_write(f, PART20);
    assert_int_equal(io_source_read(s, &d, c), -ENODEV);

    /* not followed */
    d.devnum = makedev(7, 9);
    assert_int_equal(io_source_read(s, &d, c), -ENOENT);
    assert_int_equal(io_source_read_dumps(s, &d, NULL, 0), -ENOENT);
    io_source_remove_disk(s, makedev(7, 0));
    d.devnum = makedev(7, 0);
    assert_int_equal(io_source_read(s, &d, c), -ENOENT);
    assert_null(io_source_close(s));
}

static void test_source_old_layouts(void **state)
{
    struct fake_proc *f = *state;
    struct io_source_params p = {.procfs_root = f->dir};
    struct io_stage_counters c[_IO_STAGE_MAX][_IO_OP_MAX];
    struct disk_info sda = {.name = "sda", .devnum = makedev(8, 0), .type = DISK_SATA_HDD};
    struct disk_info sdb = {.name = "sdb", .devnum = makedev(8, 16), .type = DISK_SATA_SSD};
    struct disk_info sdc = {.name = "sdc", .devnum = makedev(8, 32), .type = DISK_SATA_SSD};
    char dumps[4][IO_DUMP_DETAIL_MAX];
    struct io_source *s = NULL;

    fake_write(f, LINE14 LINE18);
    assert_int_equal(io_source_open(IO_SOURCE_DISKSTATS, &p, &s, NULL, 0), 0);
    assert_int_equal(io_source_add_disk(s, &sda), 0);
    assert_int_equal(io_source_add_disk(s, &sdb), 0);
    assert_int_equal(io_source_add_disk(s, &sdc), -ENODEV);

    fake_write(f, "   8       0 sda 1201 30 96008 1502 800 12 64000 2400 0 3100 3900\n"
                  "   8      16 sdb 1200 30 96000 1500 801 12 64008 2401 0 3100 3900 9 0 5616 "
                  "25\n");
    assert_int_equal(io_source_read(s, &sda, c), 0);
    check_op(c, IO_OP_READ, 1, 2);
    check_op(c, IO_OP_WRITE, 0, 0);
    assert_false(c[IO_STAGE_BIO][IO_OP_DISCARD].valid);
    assert_false(c[IO_STAGE_BIO][IO_OP_FLUSH].valid);

    assert_int_equal(io_source_read(s, &sdb, c), 0);
    check_op(c, IO_OP_WRITE, 1, 1);
    check_op(c, IO_OP_DISCARD, 2, 4);
    assert_false(c[IO_STAGE_BIO][IO_OP_FLUSH].valid);

    /* diskstats cannot tell how long an io has been in flight */
    assert_int_equal(io_source_read_dumps(s, &sda, dumps, 4), 0);
    io_source_close(s);
}

static void test_source_unavailable(void **state)
{
    struct io_source_params p = {.procfs_root = "/nonexistent-proc"};
    struct io_source *s = NULL;
    char why[IO_SOURCE_WHY_MAX];

    assert_int_equal(io_source_open(IO_SOURCE_DISKSTATS, &p, &s, NULL, 0), -EOPNOTSUPP);
    assert_null(s);
    /* the reason reaches the caller, for `iostat --sources` */
    assert_int_equal(io_source_open(IO_SOURCE_DISKSTATS, &p, &s, why, sizeof(why)), -EOPNOTSUPP);
    assert_string_equal(why, "cannot read /nonexistent-proc/diskstats: No such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_layouts),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_find),
        cmocka_unit_test_setup_teardown(test_source_20, setup_proc, teardown_proc),
        cmocka_unit_test_setup_teardown(test_source_old_layouts, setup_proc, teardown_proc),
        cmocka_unit_test(test_source_unavailable),
    };
    log_setup("test_diskstats", LOG_TARGET_NULL, LOG_DEBUG);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
