/* test_smm_sigbus_memid: the [memid] lines of sentry_msg_monitor.ini: good lines become ranges,
 * every bad one is an error naming the file, key and value and is left out while the others
 * stay; lookups at the edges of a range. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "smm_memid_map.h"

static void load(struct smm_memid_map *map, struct config_msgs *msgs, const char *text)
{
    struct ini_file f = {};

    assert_int_equal(ini_file_parse_string(&f, "smm.ini", text, 0, msgs), 0);
    assert_int_equal(smm_memid_map_parse(map, &f, msgs), 0);
    ini_file_done(&f);
}

static void test_good_lines(void **state)
{
    struct smm_memid_map map = {};
    struct config_msgs msgs = {};
    uint64_t off = 0;

    load(&map, &msgs,
         "[memid]\n"
         "0 = /dev/obmm_shmdev0, 0x20000000000, 0x40000000\n"
         "17 = /dev/obmm_shmdev17 ,  4096 , 8192\n"
         "2147483647 = /dev/x, 0xFFFFFFFFFFFFE000, 0x1000\n");
    assert_int_equal(msgs.n_items, 0);
    assert_int_equal(map.n_ranges, 3);
    assert_int_equal(map.ranges[1].memid, 17);
    assert_string_equal(map.ranges[1].device, "/dev/obmm_shmdev17");
    assert_int_equal(map.ranges[1].base, 4096);
    assert_int_equal(map.ranges[1].size, 8192);

    assert_int_equal(smm_memid_map_find(&map, 0x20000000000, &off)->memid, 0);
    assert_int_equal(off, 0);
    assert_int_equal(smm_memid_map_find(&map, 0x2003fffffff, &off)->memid, 0);
    assert_int_equal(off, 0x3fffffff);
    assert_null(smm_memid_map_find(&map, 0x20040000000, &off));
    assert_null(smm_memid_map_find(&map, 4095, &off));
    assert_int_equal(smm_memid_map_find(&map, 12287, &off)->memid, 17);
    assert_int_equal(off, 8191);
    assert_int_equal(smm_memid_map_find(&map, UINT64_MAX - 0x1000, &off)->memid, 2147483647);
    assert_int_equal(off, 0xfff);
    assert_null(smm_memid_map_find(&map, UINT64_MAX, &off));
    assert_null(smm_memid_map_find(NULL, 4096, &off));
    smm_memid_map_done(&map);
    config_msgs_done(&msgs);
}

static void expect_refused(const char *line, const char *message)
{
    struct smm_memid_map map = {};
    struct config_msgs msgs = {};
    char text[512];

    snprintf(text, sizeof(text), "[memid]\n1 = /dev/ok, 0x100000, 0x1000\n%s\n", line);
    load(&map, &msgs, text);
    assert_int_equal(map.n_ranges, 1);
    assert_int_equal(map.ranges[0].memid, 1);
    assert_int_equal(msgs.n_errors, 1);
    if (!strstr(msgs.items[0].text, message))
        fail_msg("%s: got \"%s\", want \"%s\"", line, msgs.items[0].text, message);
    smm_memid_map_done(&map);
    config_msgs_done(&msgs);
}

static void test_bad_lines(void **state)
{
    expect_refused("x = /dev/a, 0, 1",
                   "smm.ini: [memid] x = '/dev/a, 0, 1': the key must be a memid, a decimal "
                   "number from 0 to 2147483647; line left out");
    expect_refused("2147483648 = /dev/a, 0, 1", "[memid] 2147483648 = '/dev/a, 0, 1': the key");
    expect_refused("-2 = /dev/a, 0, 1", "the key must be a memid");
    expect_refused("2 = /dev/a, 0", "[memid] 2 = '/dev/a, 0': must be \"device path, base "
                                    "physical address, size\"; line left out");
    expect_refused("2 = /dev/a, 0, 1, 2", "must be \"device path");
    expect_refused("2 = /dev/a, , 1", "must be \"device path");
    expect_refused("2 = dev/a, 0, 1", "the device must be an absolute path without blanks");
    expect_refused("2 = /dev/a b, 0, 1", "the device must be an absolute path");
    expect_refused("2 = /dev/a, 0x, 1", "the base physical address must be a decimal or 0x");
    expect_refused("2 = /dev/a, -1, 1", "the base physical address must be");
    expect_refused("2 = /dev/a, 0x10000000000000000, 1", "the base physical address must be");
    expect_refused("2 = /dev/a, 0x1g, 1", "the base physical address must be");
    expect_refused("2 = /dev/a, 0, 0", "the size must be a decimal or 0x hexadecimal number "
                                       "above 0");
    expect_refused("2 = /dev/a, 0, 1.5", "the size must be");
    expect_refused("2 = /dev/a, 0xffffffffffffff00, 0x101", "base + size must stay below 2^64");
    expect_refused("2 = /dev/a, 0x100800, 0x1000", "overlaps memid 1 (0x100000+0x1000)");
    expect_refused("2 = /dev/a, 0xff000, 0x1001", "overlaps memid 1");
}

static void test_duplicates_and_other_sections(void **state)
{
    struct smm_memid_map map = {};
    struct config_msgs msgs = {};

    load(&map, &msgs,
         "[memid]\n1 = /dev/a, 0, 4096\n01 = /dev/b, 8192, 4096\n2 = /dev/c, 4096, 4096\n"
         "[other]\nkey = v\n");
    /* "01" is memid 1 again */
    assert_int_equal(map.n_ranges, 2);
    assert_int_equal(msgs.n_errors, 1);
    assert_non_null(strstr(msgs.items[0].text, "[memid] 01 = '/dev/b, 8192, 4096': memid 1 is "
                                               "given twice"));
    assert_int_equal(msgs.n_items, 2);
    assert_string_equal(msgs.items[1].text, "smm.ini: [other] key = 'v': unknown section, "
                                            "ignored");
    smm_memid_map_done(&map);
    config_msgs_done(&msgs);
}

static void test_numbers(void **state)
{
    uint64_t v;

    assert_int_equal(smm_memid_parse_u64("0x20000000000", &v), 0);
    assert_int_equal(v, 0x20000000000);
    assert_int_equal(smm_memid_parse_u64("0XfFfFfFfFfFfFfFfF", &v), 0);
    assert_int_equal(v, UINT64_MAX);
    assert_int_equal(smm_memid_parse_u64("1099511627776", &v), 0);
    assert_int_equal(v, UINT64_C(1) << 40);
    assert_true(smm_memid_parse_u64("0x10000000000000000", &v) < 0);
    assert_true(smm_memid_parse_u64("99999999999999999999", &v) < 0);
    assert_true(smm_memid_parse_u64("", &v) < 0);
    assert_true(smm_memid_parse_u64(" 1", &v) < 0);
    assert_true(smm_memid_parse_u64("+1", &v) < 0);
    assert_true(smm_memid_parse_u64("0x 1", &v) < 0);
}

static void test_load_missing_file(void **state)
{
    struct smm_memid_map map = {};
    struct config_msgs msgs = {};

    assert_int_equal(smm_memid_map_load(&map, "/nonexistent/smm.ini", &msgs), 0);
    assert_int_equal(map.n_ranges, 0);
    assert_int_equal(msgs.n_items, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_lines),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_duplicates_and_other_sections),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_load_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
