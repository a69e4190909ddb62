/* test_alarm_vocab: the one alarm vocabulary: level and type names both ways (the xalarm extras
 * 4, 5 and 0 included), the reference's get_alarm names, the reserved ids and their pairs, and the
 * io vocabulary's disk type names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "alarm_vocab.h"
#include "io_vocab.h"
#include "sentry/register_xalarm.h"

static void test_levels_and_types(void **state)
{
    static const char *const levels[] = {NULL, "MINOR", "MAJOR", "CRITICAL", "LEVEL4", "LEVEL5"};
    static const char *const types[] = {"TYPE0", "OCCUR", "RECOVER"};

    for (int l = 1; l < ALARM_LEVEL_SLOTS; l++) {
        assert_string_equal(alarm_level_to_string(l), levels[l]);
        assert_int_equal(alarm_level_from_string(levels[l]), l);
    }
    assert_null(alarm_level_to_string(0));
    assert_null(alarm_level_to_string(6));
    assert_null(alarm_level_to_string(-1));
    assert_int_equal(alarm_level_from_string("minor"), -EINVAL);
    assert_int_equal(alarm_level_from_string(NULL), -EINVAL);
    for (int t = 0; t < ALARM_TYPE_SLOTS; t++) {
        assert_string_equal(alarm_type_to_string(t), types[t]);
        assert_int_equal(alarm_type_from_string(types[t]), t);
    }
    assert_null(alarm_type_to_string(3));
    assert_string_equal(alarm_level_to_reference_string(SENTRY_ALARM_MAJOR), "MAJOR_ALM");
    assert_string_equal(alarm_level_to_reference_string(4), "UNKNOWN_LEVEL");
    assert_string_equal(alarm_type_to_reference_string(SENTRY_ALARM_RECOVER), "ALARM_TYPE_RECOVER");
    assert_string_equal(alarm_type_to_reference_string(0), "UNKNOWN_TYPE");
    /* the reference's names are the same values */
    assert_int_equal(MINOR_ALM, SENTRY_ALARM_MINOR);
    assert_int_equal(CRITICAL_ALM, SENTRY_ALARM_CRITICAL);
    assert_int_equal(ALARM_TYPE_RECOVER, SENTRY_ALARM_RECOVER);
}

static void test_reserved_ids(void **state)
{
    size_t n;
    const struct alarm_kind *k = alarm_kinds(&n);

    assert_true(n >= 14);
    for (size_t i = 0; i < n; i++) {
        assert_true(alarm_id_in_syssentry_range(k[i].id));
        if (i > 0)
            assert_true(k[i].id > k[i - 1].id); /* in id order, each once */
        assert_ptr_equal(alarm_kind_find(k[i].id), &k[i]);
        if (k[i].answered_by)
            assert_int_equal(alarm_kind_find(k[i].answered_by)->answers, k[i].id);
    }
    assert_null(alarm_kind_find(1011));
    assert_null(alarm_kind_find(0));
    assert_string_equal(alarm_kind_find(ALARM_OOM_ACK_EVENT)->name, "oom_answer");
    assert_string_equal(alarm_kind_find(SYSSENTRY_DOWN_ALARM_ID)->reference,
                        "SYSSENTRY_DOWN_ALARM_ID");
    assert_false(alarm_id_in_syssentry_range(1000));
    assert_false(alarm_id_in_syssentry_range(1129));
    assert_int_equal(MAX_NUM_OF_ALARM_ID, SENTRY_ALARM_ID_MAX - SENTRY_ALARM_ID_MIN + 1);
}

static void test_disk_types(void **state)
{
    static const char *const names[] = {"nvme_ssd", "sata_ssd", "sata_hdd", "virtual"};

    for (int t = 0; t < _DISK_TYPE_MAX; t++) {
        assert_string_equal(disk_type_to_string(t), names[t]);
        assert_int_equal(disk_type_from_string(names[t]), t);
    }
    assert_int_equal(disk_type_from_string("ssd"), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels_and_types),
        cmocka_unit_test(test_reserved_ids),
        cmocka_unit_test(test_disk_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
