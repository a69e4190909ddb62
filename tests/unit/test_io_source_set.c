/* test_io_source_set: the choice of an io source per disk and stage, over a fake system: sda has
 * openEuler's blk_io_hierarchy statistics (stages rq_driver and bio), sdb has not, both are in
 * /proc/diskstats, and there is no kernel BTF (no eBPF source). Each stage comes from the best
 * source that measures it; a stage that disappears from one source comes from the next; the
 * reasons the others do not give it are kept; iodump details come only from the source a stage
 * is taken from; the setting's syntax. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "io_source_report.h"
#include "io_source_set.h"
#include "test_util.h"

static const struct disk_info sda = {.name = "sda", .devnum = (8 << 8) | 0, .type = DISK_SATA_HDD};
static const struct disk_info sdb = {.name = "sdb", .devnum = (8 << 8) | 16, .type = DISK_SATA_SSD};
static const struct disk_info sdc = {.name = "sdc", .devnum = (8 << 8) | 32, .type = DISK_SATA_SSD};

#define HIER "debug/block/sda/blk_io_hierarchy"

/* /proc/diskstats with k times the same figures for sda and sdb (20 fields). */
static void put_diskstats(const char *root, unsigned k)
{
    char text[512];

    snprintf(text, sizeof(text),
             "   8       0 sda %u 0 %u %u 0 0 0 0 0 %u %u 0 0 0 0 0 0\n"
             "   8      16 sdb %u 0 %u %u 0 0 0 0 0 %u %u 0 0 0 0 0 0\n",
             10 * k, 80 * k, 50 * k, 50 * k, 50 * k, 20 * k, 160 * k, 400 * k, 400 * k, 400 * k);
    assert_int_equal(test_write_file(root, "proc/diskstats", text), 0);
}

/* blk_io_hierarchy stats of sda: rq_driver always, bio when asked; reads only (k, k ms each). */
static void put_hierarchy(const char *root, unsigned k, bool with_bio)
{
    char text[512];
    int n = snprintf(text, sizeof(text), "rq_driver %u %u %u 0 0 0 0 0 0 0 0 0 0 0 0 0\n", k, k,
                     k * 1000000);

    if (with_bio)
        snprintf(text + n, sizeof(text) - (size_t) n, "bio %u %u %u 0 0 0 0 0 0 0 0 0 0 0 0 0\n", k,
                 k, 2 * k * 1000000);
    assert_int_equal(test_write_file(root, HIER "/stats", text), 0);
}

static int setup(void **state)
{
    char *root = strdup("/tmp/test_io_source_set.XXXXXX");

    assert_non_null(root);
    assert_non_null(mkdtemp(root));
    assert_int_equal(test_mkdirs(root, "sys/block"), 0); /* no sys/kernel/btf/vmlinux */
    put_diskstats(root, 1);
    put_hierarchy(root, 1, true);
    for (int i = 0; i < 2; i++) {
        char rel[128];
        const char *st = i ? "bio" : "rq_driver";

        snprintf(rel, sizeof(rel), HIER "/%s/threshold", st);
        assert_int_equal(test_write_file(root, rel, "1000\n"), 0);
        snprintf(rel, sizeof(rel), HIER "/%s/io_dump", st);
        assert_int_equal(test_write_file(root, rel, ""), 0);
    }
    *state = root;
    return 0;
}

static int teardown(void **state)
{
    char *root = *state;

    test_rm_rf(root);
    free(root);
    return 0;
}

static struct io_source_params params(const char *root, char (*dirs)[512])
{
    snprintf(dirs[0], sizeof(dirs[0]), "%s/sys", root);
    snprintf(dirs[1], sizeof(dirs[1]), "%s/proc", root);
    snprintf(dirs[2], sizeof(dirs[2]), "%s/debug", root);
    return (struct io_source_params){
        .sysfs_root = dirs[0], .procfs_root = dirs[1], .debugfs_root = dirs[2]};
}

static void test_spec(void **state)
{
    enum io_source_kind o[_IO_SOURCE_KIND_MAX];

    assert_int_equal(io_source_spec_parse("auto", o), 3);
    assert_int_equal(o[0], IO_SOURCE_HIERARCHY);
    assert_int_equal(o[1], IO_SOURCE_BPF);
    assert_int_equal(o[2], IO_SOURCE_DISKSTATS);
    assert_int_equal(io_source_spec_parse("bpf,diskstats", o), 2);
    assert_int_equal(o[0], IO_SOURCE_BPF);
    assert_int_equal(o[1], IO_SOURCE_DISKSTATS);
    assert_int_equal(io_source_spec_parse(" diskstats , hierarchy ", o), 2);
    assert_int_equal(o[0], IO_SOURCE_DISKSTATS);
    assert_int_equal(o[1], IO_SOURCE_HIERARCHY);
    assert_int_equal(io_source_spec_parse("bpf", o), 1);
    assert_int_equal(io_source_spec_parse("bpf,bpf", o), -EINVAL);
    assert_int_equal(io_source_spec_parse("bpf,", o), -EINVAL);
    assert_int_equal(io_source_spec_parse(",bpf", o), -EINVAL);
    assert_int_equal(io_source_spec_parse("", o), -EINVAL);
    assert_int_equal(io_source_spec_parse(NULL, o), -EINVAL);
    assert_int_equal(io_source_spec_parse("ebpf", o), -EINVAL);
    assert_int_equal(io_source_spec_parse("auto,bpf", o), -EINVAL);
    assert_int_equal(io_source_spec_parse("averyveryverylongname", o), -EINVAL);
}

static void test_per_stage(void **state)
{
    const char *root = *state;
    char dirs[3][512];
    struct io_source_params p = params(root, dirs);
    struct io_source_set *set = NULL;
    struct io_source_reading r;
    struct io_stage_origin o;

    assert_int_equal(io_source_set_open("auto", &p, &set), 0);
    assert_string_equal(io_source_set_spec(set), "auto");
    assert_int_equal(io_source_set_size(set), 3);
    assert_non_null(io_source_set_source(set, 0));
    assert_null(io_source_set_source(set, 1)); /* no BTF: no eBPF source */
    assert_non_null(strstr(io_source_set_why(set, 1), "no kernel BTF"));
    assert_non_null(io_source_set_source(set, 2));

    assert_int_equal(io_source_set_add_disk(set, &sda), 0);
    assert_int_equal(io_source_set_add_disk(set, &sdb), 0);
    assert_int_equal(io_source_set_add_disk(set, &sda), -EEXIST);
    assert_int_equal(io_source_set_add_disk(set, &sdc), -ENODEV); /* nobody sees it */
    assert_int_equal(io_source_set_read(set, &sdc, &r), -ENOENT);

    /* sda: both its stages from blk_io_hierarchy; nothing else is measured */
    put_hierarchy(root, 3, true);
    assert_int_equal(io_source_set_read(set, &sda, &r), 0);
    for (int st = 0; st < _IO_STAGE_MAX; st++)
        assert_int_equal(r.from[st], st == IO_STAGE_RQ_DRIVER || st == IO_STAGE_BIO
                                         ? IO_SOURCE_HIERARCHY
                                         : IO_SOURCE_NONE);
    assert_int_equal(r.c[IO_STAGE_BIO][IO_OP_READ].finished, 2);
    assert_int_equal(r.c[IO_STAGE_BIO][IO_OP_READ].latency_ns, 4000000);
    assert_int_equal(r.c[IO_STAGE_RQ_DRIVER][IO_OP_READ].latency_ns, 2000000);

    /* sdb: the whole device from diskstats */
    put_diskstats(root, 2);
    assert_int_equal(io_source_set_read(set, &sdb, &r), 0);
    for (int st = 0; st < _IO_STAGE_MAX; st++)
        assert_int_equal(r.from[st], st == IO_STAGE_BIO ? IO_SOURCE_DISKSTATS : IO_SOURCE_NONE);
    assert_int_equal(r.c[IO_STAGE_BIO][IO_OP_READ].finished, 20);
    assert_int_equal(r.c[IO_STAGE_BIO][IO_OP_READ].latency_ns, 400 * 1000000ULL);

    /* why: sdb's bio comes from diskstats because the better two cannot give it */
    assert_int_equal(io_source_set_explain(set, &sdb, IO_STAGE_BIO, &o), 0);
    assert_int_equal(o.from, IO_SOURCE_DISKSTATS);
    assert_string_equal(o.why_not[0], "cannot follow sdb: it does not see the disk");
    assert_non_null(strstr(o.why_not[1], "not available: no kernel BTF"));
    assert_string_equal(o.why_not[2], "");
    /* sda's wbt comes from nowhere: each says why */
    assert_int_equal(io_source_set_explain(set, &sda, IO_STAGE_WBT, &o), 0);
    assert_int_equal(o.from, IO_SOURCE_NONE);
    assert_string_equal(o.why_not[0], "the blk_io_hierarchy statistics of sda have no stage wbt");
    assert_string_equal(o.why_not[2], "diskstats sees the whole device only (stage bio)");
    assert_int_equal(io_source_set_explain(set, &sdc, IO_STAGE_BIO, &o), -ENOENT);

    /* the kernel stops listing sda's bio stage: it comes from diskstats from the next read */
    put_hierarchy(root, 4, false);
    assert_int_equal(io_source_set_read(set, &sda, &r), 0);
    assert_int_equal(r.from[IO_STAGE_RQ_DRIVER], IO_SOURCE_HIERARCHY);
    assert_int_equal(r.from[IO_STAGE_BIO], IO_SOURCE_DISKSTATS);
    assert_int_equal(r.c[IO_STAGE_BIO][IO_OP_READ].finished, 10);
    assert_int_equal(io_source_set_explain(set, &sda, IO_STAGE_BIO, &o), 0);
    assert_int_equal(o.from, IO_SOURCE_DISKSTATS);

    io_source_set_remove_disk(set, sda.devnum);
    assert_int_equal(io_source_set_read(set, &sda, &r), -ENOENT);
    assert_int_equal(io_source_set_add_disk(set, &sda), 0);
    assert_null(io_source_set_free(set));
}

static void test_dumps_from_the_chosen_source(void **state)
{
    const char *root = *state;
    char dirs[3][512];
    struct io_source_params p = params(root, dirs);
    struct io_source_set *set = NULL;
    struct io_source_reading r;
    char out[4][IO_DUMP_DETAIL_MAX];

    assert_int_equal(io_source_set_open("auto", &p, &set), 0);
    assert_int_equal(io_source_set_add_disk(set, &sda), 0);
    assert_int_equal(
        test_write_file(root, HIER "/rq_driver/io_dump",
                        "fio-4242 sda stage rq_driver 00000000a1b2c3d4 {.op=READ, .cmd_flags=SYNC, "
                        ".rq_flags=STARTED, .state=in_flight, .tag=12, .internal_tag=-1 "
                        "started 1500000000 ns ago}\n"),
        0);
    assert_int_equal(test_write_file(root, HIER "/bio/io_dump",
                                     "fio-4242 sda stage bio bio R 2048 + 8 cgroup / started "
                                     "2000000001 ns ago\n"),
                     0);
    assert_int_equal(io_source_set_read(set, &sda, &r), 0);
    assert_int_equal(io_source_set_read_dumps(set, &sda, &r, out, 4), 2);
    assert_string_equal(out[0], "fio,4242,rq_driver,00000000a1b2c3d4,1500");
    assert_string_equal(out[1], "fio,4242,bio,,2000");

    /* bio now comes from diskstats: blk_io_hierarchy's bio details are not shown for it */
    put_hierarchy(root, 2, false);
    assert_int_equal(io_source_set_read(set, &sda, &r), 0);
    assert_int_equal(io_source_set_read_dumps(set, &sda, &r, out, 4), 1);
    assert_string_equal(out[0], "fio,4242,rq_driver,00000000a1b2c3d4,1500");
    assert_int_equal(io_source_set_read_dumps(set, &sda, &r, out, 0), 0);
    io_source_set_free(set);
    put_hierarchy(root, 1, true);
}

static void test_spec_limits_the_sources(void **state)
{
    const char *root = *state;
    char dirs[3][512];
    struct io_source_params p = params(root, dirs);
    struct io_source_set *set = NULL;
    struct io_source_reading r;

    /* diskstats first: it takes bio even where blk_io_hierarchy has it */
    assert_int_equal(io_source_set_open("diskstats,hierarchy", &p, &set), 0);
    assert_int_equal(io_source_set_add_disk(set, &sda), 0);
    assert_int_equal(io_source_set_read(set, &sda, &r), 0);
    assert_int_equal(r.from[IO_STAGE_BIO], IO_SOURCE_DISKSTATS);
    assert_int_equal(r.from[IO_STAGE_RQ_DRIVER], IO_SOURCE_HIERARCHY);
    io_source_set_free(set);

    /* only sources that are not here: nothing to open */
    set = NULL;
    assert_int_equal(io_source_set_open("bpf", &p, &set), -EOPNOTSUPP);
    assert_null(set);
    assert_int_equal(io_source_set_open("bpf,bpf", &p, &set), -EINVAL);
}

static void test_report(void **state)
{
    const char *root = *state;
    char dirs[3][512];
    struct io_source_params p = params(root, dirs);
    struct io_source_set *set = NULL;
    const struct disk_info disks[] = {sda, sdb};
    json_object *rep, *v;

    assert_int_equal(io_source_set_open("auto", &p, &set), 0);
    assert_int_equal(io_source_set_add_disk(set, &sda), 0);
    assert_int_equal(io_source_set_add_disk(set, &sdb), 0);
    rep = io_source_report(set, disks, 2);
    assert_non_null(rep);
    assert_string_equal(json_object_get_string(json_object_object_get(rep, "spec")), "auto");
    v = json_object_array_get_idx(json_object_object_get(rep, "sources"), 1);
    assert_string_equal(json_object_get_string(json_object_object_get(v, "name")), "bpf");
    assert_false(json_object_get_boolean(json_object_object_get(v, "available")));
    assert_non_null(strstr(json_object_get_string(json_object_object_get(v, "why")), "BTF"));
    v = json_object_object_get(json_object_object_get(rep, "disks"), "sdb");
    v = json_object_object_get(v, "bio");
    assert_string_equal(json_object_get_string(json_object_object_get(v, "source")), "diskstats");
    assert_string_equal(json_object_get_string(json_object_object_get(
                            json_object_object_get(v, "why_not"), "hierarchy")),
                        "cannot follow sdb: it does not see the disk");
    v = json_object_object_get(json_object_object_get(json_object_object_get(rep, "disks"), "sda"),
                               "kyber");
    assert_true(json_object_is_type(json_object_object_get(v, "source"), json_type_null));
    json_object_put(rep);
    io_source_set_free(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec),
        cmocka_unit_test_setup_teardown(test_per_stage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dumps_from_the_chosen_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spec_limits_the_sources, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
