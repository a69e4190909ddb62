/* test_io_stage: the name tables of ops, stages, disk types and source kinds, and the disk type
 * rule of the reference (nvme*, sd* by rotational, everything else virtual). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "disk.h"
#include "io_source.h"
#include "io_stage.h"

static void test_op_table(void **state)
{
    static const char *const names[] = {"read", "write", "flush", "discard"};

    assert_int_equal(_IO_OP_MAX, 4);
    for (int i = 0; i < _IO_OP_MAX; i++) {
        assert_string_equal(io_op_to_string(i), names[i]);
        assert_int_equal(io_op_from_string(names[i]), i);
    }
    assert_null(io_op_to_string(_IO_OP_MAX));
    assert_null(io_op_to_string(-1));
    assert_int_equal(io_op_from_string("READ"), -EINVAL);
    assert_int_equal(io_op_from_string(""), -EINVAL);
    assert_int_equal(io_op_from_string(NULL), -EINVAL);
}

static void test_stage_table(void **state)
{
    /* the reference's names, in the lead's enum order, then ours */
    static const char *const names[] = {"throtl",  "wbt",       "iocost",   "bfq",
                                        "gettag",  "plug",      "deadline", "hctx",
                                        "requeue", "rq_driver", "bio",      "kyber"};

    assert_int_equal(_IO_STAGE_MAX, (int) (sizeof(names) / sizeof(names[0])));
    for (int i = 0; i < _IO_STAGE_MAX; i++) {
        assert_string_equal(io_stage_to_string(i), names[i]);
        assert_int_equal(io_stage_from_string(names[i]), i);
    }
    assert_int_equal(io_stage_from_string("BIO"), -EINVAL);
    assert_int_equal(io_stage_from_string("rq-driver"), -EINVAL);
    assert_int_equal(io_stage_from_string("bio "), -EINVAL);
    assert_null(io_stage_to_string(_IO_STAGE_MAX));
}

static void test_disk_type_table(void **state)
{
    static const char *const names[] = {"nvme_ssd", "sata_ssd", "sata_hdd", "virtual"};

    for (int i = 0; i < _DISK_TYPE_MAX; i++) {
        assert_string_equal(disk_type_to_string(i), names[i]);
        assert_int_equal(disk_type_from_string(names[i]), i);
    }
    assert_int_equal(disk_type_from_string("ssd"), -EINVAL);
    assert_null(disk_type_to_string(_DISK_TYPE_MAX));
}

static void test_source_kind_table(void **state)
{
    static const char *const names[] = {"hierarchy", "bpf", "diskstats"};

    for (int i = 0; i < _IO_SOURCE_KIND_MAX; i++) {
        assert_string_equal(io_source_kind_to_string(i), names[i]);
        assert_int_equal(io_source_kind_from_string(names[i]), i);
    }
    assert_int_equal(io_source_kind_from_string("ebpf"), -EINVAL);
}

static void test_disk_type_classify(void **state)
{
    static const struct {
        const char *name;
        bool rotational;
        enum disk_type type;
    } cases[] = {
        {"nvme0n1", false, DISK_NVME_SSD}, {"nvme12n3", true, DISK_NVME_SSD},
        {"sda", false, DISK_SATA_SSD},     {"sdab", false, DISK_SATA_SSD},
        {"sda", true, DISK_SATA_HDD},      {"sdz", true, DISK_SATA_HDD},
        {"vda", false, DISK_VIRTUAL},      {"vdb", true, DISK_VIRTUAL},
        {"loop0", false, DISK_VIRTUAL},    {"nbd3", false, DISK_VIRTUAL},
        {"zram0", false, DISK_VIRTUAL},    {"dm-0", false, DISK_VIRTUAL},
        {"md127", true, DISK_VIRTUAL},     {"hda", true, DISK_VIRTUAL},
        {"xvda", false, DISK_VIRTUAL},     {"", false, DISK_VIRTUAL},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(disk_type_classify(cases[i].name, cases[i].rotational), cases[i].type);
    assert_int_equal(disk_type_classify(NULL, true), DISK_VIRTUAL);
}

static void test_disk_name_rules(void **state)
{
    static const char *const good[] = {"sda",        "nvme0n1", "loop7", "dm-0", "md127",
                                       "cciss!c0d0", "mmcblk0", "nbd15", "a"};
    static const char *const bad[] = {"",      ".",    "..",        "sd/a",  "sd a",
                                      "sda\n", "x;rm", "../../etc", "sd\x01"};
    char longname[DISK_NAME_MAX + 1];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(disk_name_is_valid(good[i]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(disk_name_is_valid(bad[i]));
    assert_false(disk_name_is_valid(NULL));
    memset(longname, 'a', DISK_NAME_MAX);
    longname[DISK_NAME_MAX] = 0;
    assert_false(disk_name_is_valid(longname));
    longname[DISK_NAME_MAX - 1] = 0; /* 31 characters: fits with its NUL */
    assert_true(disk_name_is_valid(longname));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_op_table),           cmocka_unit_test(test_stage_table),
        cmocka_unit_test(test_disk_type_table),    cmocka_unit_test(test_source_kind_table),
        cmocka_unit_test(test_disk_type_classify), cmocka_unit_test(test_disk_name_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
