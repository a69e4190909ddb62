/* test_oom_watch_victim_fields: the oom:mark_victim fields as the alarm writes them (numbers with
 * the kernel's units, signed ones sign-extended, hostile strings made printable and cut, only the
 * fields the event had), and the alarm gate: one alarm per id and cgroup per interval, the
 * held-back ones counted. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "alarm_gate.h"
#include "victim_fields.h"

static const struct victim_field *field(const char *name)
{
    for (size_t i = 0; i < VICTIM_FIELDS_N; i++)
        if (strcmp(victim_fields[i].name, name) == 0)
            return &victim_fields[i];
    return NULL;
}

static void test_table(void **state)
{
    assert_string_equal(victim_fields[VICTIM_FIELD_PID].name, "pid");
    /* the keys of the kernel's print format, not the format file's names */
    assert_string_equal(field("total_vm")->key, "total-vm");
    assert_string_equal(field("file_rss")->key, "file-rss");
    assert_string_equal(field("anon_rss")->unit, "kB");
    assert_int_equal(field("comm")->kind, VICTIM_FIELD_STRING);
    assert_null(field("common_pid"));
}

static void test_numbers(void **state)
{
    char buf[VICTIM_VALUE_MAX];

    assert_int_equal(victim_number(1234, 4, true), 1234);
    assert_int_equal(victim_number(0xfffffc18ULL, 4, true), -1000);
    assert_int_equal(victim_number(0xfc18, 2, true), -1000);
    assert_int_equal(victim_number(0xfc18, 2, false), 0xfc18);
    assert_int_equal(victim_number(0xff, 1, true), -1);
    assert_int_equal(victim_number(0x1ffffffffULL, 4, false), 0xffffffffLL);

    victim_number_format(field("pid"), 77, 4, true, buf, sizeof(buf));
    assert_string_equal(buf, "77");
    victim_number_format(field("total_vm"), 204800, 8, false, buf, sizeof(buf));
    assert_string_equal(buf, "204800kB");
    victim_number_format(field("oom_score_adj"), 0xfc18, 2, true, buf, sizeof(buf));
    assert_string_equal(buf, "-1000");
    victim_number_format(field("uid"), 0xfffffffeULL, 4, false, buf, sizeof(buf));
    assert_string_equal(buf, "4294967294");
    victim_number_format(field("pgtables"), ~0ULL, 8, false, buf, sizeof(buf));
    assert_string_equal(buf, "18446744073709551615kB");
}

static void test_strings(void **state)
{
    char buf[VICTIM_VALUE_MAX], small[4];
    char longs[200];

    victim_string_clean("my hog", 6, buf, sizeof(buf));
    assert_string_equal(buf, "my hog");
    /* a fixed char[16] field: ends at the NUL */
    victim_string_clean("python3\0\0\0\0\0\0\0\0\0", 16, buf, sizeof(buf));
    assert_string_equal(buf, "python3");
    /* /proc/<pid>/comm: ends at the newline */
    victim_string_clean("sh\n", 3, buf, sizeof(buf));
    assert_string_equal(buf, "sh");
    /* hostile: control and high bytes replaced, not NUL-terminated, cut to fit */
    victim_string_clean("a\x1b[2J\xff", 6, buf, sizeof(buf));
    assert_string_equal(buf, "a?[2J?");
    victim_string_clean("abcdef", 3, buf, sizeof(buf));
    assert_string_equal(buf, "abc");
    victim_string_clean("abcdef", 6, small, sizeof(small));
    assert_string_equal(small, "abc");
    memset(longs, 'A', sizeof(longs));
    victim_string_clean(longs, sizeof(longs), buf, sizeof(buf));
    assert_int_equal(strlen(buf), VICTIM_VALUE_MAX - 1);
    victim_string_clean("", 0, buf, sizeof(buf));
    assert_string_equal(buf, "");
}

static void test_json(void **state)
{
    struct victim_values old = {0}, new = {0};
    json_object *o, *m;

    /* an old kernel: pid only */
    old.have[VICTIM_FIELD_PID] = true;
    snprintf(old.value[VICTIM_FIELD_PID], VICTIM_VALUE_MAX, "1240");
    o = victim_fields_json(&old);
    assert_non_null(o);
    assert_int_equal(json_object_object_length(o), 1);
    assert_true(json_object_object_get_ex(o, "pid", &m));
    assert_string_equal(json_object_get_string(m), "1240");
    assert_false(json_object_object_get_ex(o, "comm", NULL));
    json_object_put(o);

    for (size_t i = 0; i < VICTIM_FIELDS_N; i++) {
        new.have[i] = true;
        snprintf(new.value[i], VICTIM_VALUE_MAX, "v%zu", i);
    }
    o = victim_fields_json(&new);
    assert_int_equal(json_object_object_length(o), VICTIM_FIELDS_N);
    assert_true(json_object_object_get_ex(o, "shmem-rss", &m));
    assert_string_equal(json_object_get_string(m), "v6");
    json_object_put(o);
}

static void test_gate(void **state)
{
    static struct alarm_gate g;
    uint64_t held, s = 1000000;

    alarm_gate_init(&g, 60 * s);
    assert_true(alarm_gate_pass(&g, 1017, "/a", 10 * s, &held));
    assert_int_equal(held, 0);
    assert_false(alarm_gate_pass(&g, 1017, "/a", 11 * s, &held));
    assert_false(alarm_gate_pass(&g, 1017, "/a", 69 * s, &held));
    /* another cgroup, another id: their own windows */
    assert_true(alarm_gate_pass(&g, 1017, "/b", 11 * s, &held));
    assert_true(alarm_gate_pass(&g, 1018, "/a", 11 * s, &held));
    assert_true(alarm_gate_pass(&g, 1017, "/a", 70 * s, &held));
    assert_int_equal(held, 2);
    assert_false(alarm_gate_pass(&g, 1017, "/a", 71 * s, &held));

    /* more keys than slots: the last slot is shared, never an unlimited flood */
    char key[32];
    for (int i = 0; i < ALARM_GATE_SLOTS + 10; i++) {
        snprintf(key, sizeof(key), "/k%d", i);
        alarm_gate_pass(&g, 1017, key, 100 * s, &held);
    }
    assert_false(alarm_gate_pass(&g, 1017, "/new", 101 * s, &held));

    alarm_gate_init(&g, 0);
    assert_true(alarm_gate_pass(&g, 1017, "/a", 1, &held));
    assert_true(alarm_gate_pass(&g, 1017, "/a", 1, &held));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),   cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_strings), cmocka_unit_test(test_json),
        cmocka_unit_test(test_gate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
