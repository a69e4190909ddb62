/* test_slow_reason: the reason table on its own: row order, order within a row, both plugins'
 * spellings and avg_block_io's block_stack. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "macro.h"
#include "slow_reason.h"

static enum slow_reason select_of(const char *const *stages, const char **decider)
{
    size_t n = 0;
    while (stages[n])
        n++;
    return slow_reason_select(stages, n, decider);
}

static void test_rows(void **state)
{
    static const struct {
        const char *stages[6];
        enum slow_reason reason;
        const char *decider;
    } cases[] = {
        {{"bio", "throtl", NULL}, SLOW_REASON_IO_PRESS, "throtl"},
        {{"wbt", NULL}, SLOW_REASON_IO_PRESS, "wbt"},
        {{"iocost", "bio", NULL}, SLOW_REASON_IO_PRESS, "iocost"},
        {{"bfq", NULL}, SLOW_REASON_IO_PRESS, "bfq"},
        {{"rq_driver", "bio", NULL}, SLOW_REASON_DRIVER_SLOW, "rq_driver"},
        {{"gettag", NULL}, SLOW_REASON_KERNEL_SLOW, "gettag"},
        {{"plug", NULL}, SLOW_REASON_KERNEL_SLOW, "plug"},
        {{"deadline", NULL}, SLOW_REASON_KERNEL_SLOW, "deadline"},
        {{"hctx", NULL}, SLOW_REASON_KERNEL_SLOW, "hctx"},
        {{"requeue", NULL}, SLOW_REASON_KERNEL_SLOW, "requeue"},
        {{"bio", NULL}, SLOW_REASON_UNKNOWN, NULL},
        {{"bio", "some_new_stage", NULL}, SLOW_REASON_UNKNOWN, NULL},
        {{NULL}, SLOW_REASON_UNKNOWN, NULL},
        /* Rows are checked in order... */
        {{"requeue", "rq_driver", "bfq", "bio", NULL}, SLOW_REASON_IO_PRESS, "bfq"},
        {{"gettag", "rq_driver", NULL}, SLOW_REASON_DRIVER_SLOW, "rq_driver"},
        /* ...and stages within a row in the table's order, not the caller's. */
        {{"bfq", "wbt", "throtl", NULL}, SLOW_REASON_IO_PRESS, "throtl"},
        {{"requeue", "deadline", NULL}, SLOW_REASON_KERNEL_SLOW, "deadline"},
    };

    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        const char *decider = "x";
        assert_int_equal(select_of(cases[i].stages, &decider), cases[i].reason);
        if (cases[i].decider)
            assert_string_equal(decider, cases[i].decider);
        else
            assert_null(decider);
    }
    assert_int_equal(slow_reason_select(NULL, 0, NULL), SLOW_REASON_UNKNOWN);
}

static void test_spellings(void **state)
{
    static const struct {
        enum slow_reason r;
        const char *avg, *ai;
    } names[] = {
        {SLOW_REASON_IO_PRESS, "IO press", "io_press"},
        {SLOW_REASON_DRIVER_SLOW, "driver slow", "driver_slow"},
        {SLOW_REASON_KERNEL_SLOW, "kernel slow", "kernel_slow"},
        {SLOW_REASON_UNKNOWN, "unknown", "unknown"},
    };

    for (size_t i = 0; i < ELEMENTSOF(names); i++) {
        assert_string_equal(slow_reason_to_string(names[i].r, SLOWIO_PLUGIN_AVG_BLOCK_IO),
                            names[i].avg);
        assert_string_equal(slow_reason_to_string(names[i].r, SLOWIO_PLUGIN_AI_BLOCK_IO),
                            names[i].ai);
        assert_int_equal(slow_reason_from_string(names[i].avg), names[i].r);
        assert_int_equal(slow_reason_from_string(names[i].ai), names[i].r);
    }
    assert_null(slow_reason_to_string(_SLOW_REASON_MAX, SLOWIO_PLUGIN_AI_BLOCK_IO));
    assert_null(slow_reason_to_string(SLOW_REASON_UNKNOWN, _SLOWIO_PLUGIN_MAX));
    /* Names from the reference's documentation that it never sends. */
    assert_int_equal(slow_reason_from_string("disk_slow"), -EINVAL);
    assert_int_equal(slow_reason_from_string("kernel_stack"), -EINVAL);
}

static void test_block_stack(void **state)
{
    char buf[32];

    assert_int_equal(slow_reason_block_stack(SLOW_REASON_IO_PRESS, "wbt", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "bio,wbt");
    assert_int_equal(
        slow_reason_block_stack(SLOW_REASON_DRIVER_SLOW, "rq_driver", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "bio,rq_driver");
    assert_int_equal(slow_reason_block_stack(SLOW_REASON_UNKNOWN, NULL, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "bio");
    assert_int_equal(slow_reason_block_stack(SLOW_REASON_KERNEL_SLOW, NULL, buf, sizeof(buf)),
                     -EINVAL);
    assert_int_equal(slow_reason_block_stack(SLOW_REASON_KERNEL_SLOW, "requeue", buf, 8), -ENOBUFS);
}

static void test_vocabulary(void **state)
{
    assert_string_equal(slowio_plugin_to_string(SLOWIO_PLUGIN_AVG_BLOCK_IO), "avg_block_io");
    assert_int_equal(slowio_plugin_from_string("ai_block_io"), SLOWIO_PLUGIN_AI_BLOCK_IO);
    assert_string_equal(disk_type_to_string(DISK_VIRTUAL), "virtual");
    assert_int_equal(disk_type_from_string("sata_hdd"), DISK_SATA_HDD);
    assert_int_equal(disk_type_from_string("hdd"), -EINVAL);
    assert_string_equal(io_op_to_string(IO_OP_WRITE), "write");
    assert_int_equal(slowio_iotype_from_string("flush"), -EINVAL);
    assert_int_equal(io_stage_from_string("rq_driver"), IO_STAGE_RQ_DRIVER);
    assert_null(io_stage_to_string(_IO_STAGE_MAX));
    for (int s = 0; s < _IO_STAGE_MAX; s++)
        assert_int_equal(io_stage_from_string(io_stage_to_string(s)), s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_spellings),
        cmocka_unit_test(test_block_stack),
        cmocka_unit_test(test_vocabulary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
