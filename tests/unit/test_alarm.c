/* test_alarm: the pure pieces of the alarm bus that were only tested from outside: the validation
 * of a native report's alarm object (every member type-checked, every bound), and alarm filters
 * (id specs and lists, minimum level, types, sources; matching). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "alarm.h"
#include "alarm_filter.h"

/* alarm_from_json() of a JSON text: 0 with *a, or -EINVAL with the reason in *why. */
static int parse(const char *text, struct alarm *a, const char **why, json_object **keep)
{
    json_object *o = json_tokener_parse(text);

    assert_non_null(o);
    *keep = o; /* strings of *a point into it */
    *why = NULL;
    memset(a, 0, sizeof(*a));
    return alarm_from_json(o, a, why);
}

static void expect_refused(const char *text, const char *why_part)
{
    struct alarm a;
    const char *why;
    json_object *o;

    assert_int_equal(parse(text, &a, &why, &o), -EINVAL);
    assert_non_null(why);
    if (!strstr(why, why_part))
        fail_msg("%s: reason '%s' does not say '%s'", text, why, why_part);
    json_object_put(o);
}

static void test_valid_alarms(void **state)
{
    struct alarm a;
    const char *why;
    json_object *o;

    assert_int_equal(parse("{\"id\":1002}", &a, &why, &o), 0);
    assert_int_equal(a.id, 1002);
    assert_int_equal(a.level, SENTRY_ALARM_MINOR); /* defaults */
    assert_int_equal(a.type, SENTRY_ALARM_OCCUR);
    assert_string_equal(a.text, "");
    assert_string_equal(a.key, "");
    assert_null(a.source);
    json_object_put(o);

    assert_int_equal(parse("{\"id\":65535,\"level\":\"CRITICAL\",\"type\":\"RECOVER\","
                           "\"text\":\"disk sdb\",\"source\":\"avg_block_io\",\"key\":\"sdb/read\","
                           "\"time\":1700000000000000}",
                           &a, &why, &o),
                     0);
    assert_int_equal(a.level, SENTRY_ALARM_CRITICAL);
    assert_int_equal(a.type, SENTRY_ALARM_RECOVER);
    assert_string_equal(a.source, "avg_block_io");
    assert_string_equal(a.key, "sdb/read");
    assert_int_equal(a.text_len, 8);
    json_object_put(o);

    /* numbers for level and type, as the reference's ids; null members count as absent */
    assert_int_equal(
        parse("{\"id\":1,\"level\":2,\"type\":2,\"text\":null,\"source\":null}", &a, &why, &o), 0);
    assert_int_equal(a.level, SENTRY_ALARM_MAJOR);
    assert_int_equal(a.type, SENTRY_ALARM_RECOVER);
    json_object_put(o);

    /* a JSON object as text is carried as its text */
    assert_int_equal(parse("{\"id\":1002,\"text\":{\"disk\":\"sdb\"}}", &a, &why, &o), 0);
    assert_memory_equal(a.text, "{\"disk\":\"sdb\"}", a.text_len);
    json_object_put(o);
}

static void test_refused_alarms(void **state)
{
    char big[8300];

    expect_refused("{}", "'id'");
    expect_refused("{\"id\":0}", "'id'");
    expect_refused("{\"id\":65536}", "'id'");
    expect_refused("{\"id\":-1}", "'id'");
    expect_refused("{\"id\":\"1002\"}", "'id'");
    expect_refused("{\"id\":1002.5}", "'id'");
    expect_refused("{\"id\":null}", "'id'");
    expect_refused("{\"id\":99999999999999999999}", "'id'");
    expect_refused("{\"id\":1002,\"level\":\"LEVEL4\"}", "'level'"); /* xalarm only */
    expect_refused("{\"id\":1002,\"level\":0}", "'level'");
    expect_refused("{\"id\":1002,\"level\":[1]}", "'level'");
    expect_refused("{\"id\":1002,\"type\":\"TYPE0\"}", "'type'");
    expect_refused("{\"id\":1002,\"type\":3}", "'type'");
    expect_refused("{\"id\":1002,\"text\":5}", "'text'");
    expect_refused("{\"id\":1002,\"text\":true}", "'text'");
    expect_refused("{\"id\":1002,\"text\":\"a\\u0000b\"}", "'text'");
    expect_refused("{\"id\":1002,\"source\":\"bad name\"}", "'source'");
    expect_refused("{\"id\":1002,\"source\":\"../etc\"}", "'source'");
    expect_refused("{\"id\":1002,\"source\":7}", "'source'");
    expect_refused("{\"id\":1002,\"key\":\"a\\u001bb\"}", "'key'");
    expect_refused("{\"id\":1002,\"key\":{}}", "'key'");
    expect_refused("{\"id\":1002,\"time\":-5}", "'time'");
    expect_refused("{\"id\":1002,\"time\":\"now\"}", "'time'");

    /* text: 8191 bytes pass, 8192 do not */
    memcpy(big, "{\"id\":1002,\"text\":\"", 19);
    memset(big + 19, 'x', 8192);
    strcpy(big + 19 + 8192, "\"}");
    expect_refused(big, "8191");
    strcpy(big + 19 + 8191, "\"}");
    {
        struct alarm a;
        const char *why;
        json_object *o;
        assert_int_equal(parse(big, &a, &why, &o), 0);
        assert_int_equal(a.text_len, 8191);
        json_object_put(o);
    }
}

static struct alarm alarm_of(uint16_t id, int level, int type, const char *source)
{
    return (struct alarm){.id = id,
                          .level = (uint8_t) level,
                          .type = (uint8_t) type,
                          .source = source,
                          .key = "",
                          .text = "",
                          .node = "n"};
}

static void test_filter_ids(void **state)
{
    struct alarm_filter f = {0};
    const char *why = NULL;
    struct alarm a1002 = alarm_of(1002, 1, 1, "t"), a1007 = alarm_of(1007, 1, 1, "t"),
                 a1128 = alarm_of(1128, 1, 1, "t"), a2000 = alarm_of(2000, 1, 1, "t");

    /* empty: everything */
    assert_true(alarm_filter_match(&f, &a2000));
    assert_int_equal(alarm_filter_add_ids(&f, "1001-1003, 1007", &why), 0);
    assert_true(alarm_filter_match(&f, &a1002));
    assert_true(alarm_filter_match(&f, &a1007));
    assert_false(alarm_filter_match(&f, &a1128));
    alarm_filter_done(&f);

    static const char *const bad[] = {
        "abc",  "1001-", "-5", "1003-1001", "0", "65536", "1001-1003-1005", "99999999999999999999",
        "1001x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        assert_int_equal(alarm_filter_add_ids(&f, bad[i], &why), -EINVAL);
        assert_non_null(why);
        alarm_filter_done(&f);
    }
    /* the whole sysSentry range, and a spec of every id of it one by one */
    assert_int_equal(alarm_filter_add_ids(&f, "1001-1128", &why), 0);
    assert_true(alarm_filter_match(&f, &a1128));
    assert_false(alarm_filter_match(&f, &a2000));
    alarm_filter_done(&f);
}

static void test_filter_json(void **state)
{
    struct alarm_filter f;
    const char *why = NULL;
    json_object *req = json_tokener_parse("{\"ids\":[1002,\"1007-1010\"],\"min_level\":\"MAJOR\","
                                          "\"types\":[\"RECOVER\"],\"sources\":[\"a\",\"b_2\"]}");
    struct alarm ok = alarm_of(1008, SENTRY_ALARM_CRITICAL, SENTRY_ALARM_RECOVER, "b_2");

    assert_int_equal(alarm_filter_from_json(req, &f, &why), 0);
    assert_true(alarm_filter_match(&f, &ok));
    ok.level = SENTRY_ALARM_MINOR;
    assert_false(alarm_filter_match(&f, &ok)); /* below the minimum level */
    ok.level = SENTRY_ALARM_MAJOR;
    ok.type = SENTRY_ALARM_OCCUR;
    assert_false(alarm_filter_match(&f, &ok)); /* type */
    ok.type = SENTRY_ALARM_RECOVER;
    ok.source = "c";
    assert_false(alarm_filter_match(&f, &ok)); /* source */
    ok.source = "a";
    ok.id = 1011;
    assert_false(alarm_filter_match(&f, &ok)); /* id */

    json_object *back = alarm_filter_to_json(&f);
    assert_string_equal(json_object_to_json_string_ext(back, JSON_C_TO_STRING_PLAIN),
                        "{\"ids\":[\"1002\",\"1007-1010\"],\"min_level\":\"MAJOR\",\"types\":["
                        "\"RECOVER\"],\"sources\":[\"a\",\"b_2\"]}");
    json_object_put(back);
    alarm_filter_done(&f);
    json_object_put(req);

    static const char *const bad[] = {
        "{\"ids\":5}",
        "{\"ids\":[true]}",
        "{\"ids\":[\"x\"]}",
        "{\"min_level\":9}",
        "{\"min_level\":\"LOW\"}",
        "{\"min_level\":[1]}",
        "{\"types\":\"OCCUR\"}",
        "{\"types\":[\"NEVER\"]}",
        "{\"types\":[1]}",
        "{\"sources\":\"a\"}",
        "{\"sources\":[\"bad name\"]}",
        "{\"sources\":[3]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        req = json_tokener_parse(bad[i]);
        assert_non_null(req);
        why = NULL;
        assert_int_equal(alarm_filter_from_json(req, &f, &why), -EINVAL);
        assert_non_null(why);
        alarm_filter_done(&f);
        json_object_put(req);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_alarms),
        cmocka_unit_test(test_refused_alarms),
        cmocka_unit_test(test_filter_ids),
        cmocka_unit_test(test_filter_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
