/* test_xalarm_register_msg: every member of an xalarm client's message is type-checked before
 * use ({"action":null} once crashed sentryd), and a filter of all 128 ids is kept whole. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "xalarm_register_msg.h"

static int parse(const char *text, struct xalarm_register_msg *m, const char **why)
{
    json_object *o = json_tokener_parse(text);
    *why = NULL;
    int r = xalarm_register_msg_parse(o, m, why);
    json_object_put(o);
    if (r < 0)
        assert_non_null(*why);
    return r;
}

static void test_bad_members_refused(void **state)
{
    struct xalarm_register_msg m;
    const char *why;

    assert_int_equal(parse("{\"action\":null}", &m, &why), -EINVAL);
    assert_string_equal(why, "'action' must be a string");
    assert_int_equal(parse("{\"action\":5}", &m, &why), -EINVAL);
    assert_int_equal(parse("{}", &m, &why), -EINVAL);
    assert_int_equal(parse("[1]", &m, &why), -EBADMSG);
    assert_int_equal(parse("\"register_events\"", &m, &why), -EBADMSG);
    assert_int_equal(parse("{\"action\":\"register_events\",\"id_filter\":5}", &m, &why), -EINVAL);
    assert_int_equal(parse("{\"action\":\"register_events\",\"id_filter\":[{}]}", &m, &why),
                     -EINVAL);
    assert_int_equal(parse("{\"action\":\"register_events\",\"event_ids\":\"x\"}", &m, &why),
                     -EINVAL);
    assert_string_equal(why, "'event_ids' must be an array of ids");
    assert_int_equal(parse("{\"action\":\"update_filter\"}", &m, &why), -EINVAL);
    assert_string_equal(why, "'update_filter' needs 'id_filter'");
    assert_int_equal(parse("{\"action\":\"update_filter\",\"id_filter\":null}", &m, &why), -EINVAL);
}

static void test_actions(void **state)
{
    struct xalarm_register_msg m;
    const char *why;

    assert_int_equal(parse("{\"action\":\"something_new\",\"id_filter\":5}", &m, &why), 0);
    assert_int_equal(m.action, XALARM_MSG_OTHER);
    assert_int_equal(parse("{\"action\":\"unregister_events\",\"id_filter\":5}", &m, &why), 0);
    assert_int_equal(m.action, XALARM_MSG_UNREGISTER);
    assert_int_equal(parse("{\"action\":\"register_events\"}", &m, &why), 0);
    assert_int_equal(m.action, XALARM_MSG_REGISTER);
    assert_false(m.has_filter);
}

static void test_all_ids_kept(void **state)
{
    struct xalarm_register_msg m;
    const char *why;
    struct alarm_filter f = {0};

    assert_int_equal(parse("{\"action\":\"register_events\",\"id_filter\":[\"1001-1128\",5,"
                           "\"2000-3000\"]}",
                           &m, &why),
                     0);
    assert_true(m.has_filter);
    assert_int_equal(xalarm_id_set_count(&m.ids), 128);
    assert_int_equal(m.ignored, 2);
    xalarm_id_set_to_filter(&m.ids, &f);
    struct alarm a = {.id = 1128, .level = 1, .type = 1};
    assert_true(alarm_filter_match(&f, &a));
    a.id = 1065;
    assert_true(alarm_filter_match(&f, &a));
    alarm_filter_done(&f);
}

/* event_ids are kept as a set: repeats count once, ids outside the range are left out, and a
 * message of a thousand ids costs no more than the set. */
static void test_event_ids(void **state)
{
    struct xalarm_register_msg m;
    const char *why;
    char big[4096];
    size_t n =
        (size_t) snprintf(big, sizeof(big), "{\"action\":\"register_events\",\"event_ids\":[");

    assert_int_equal(
        parse("{\"action\":\"register_events\",\"event_ids\":[1005,1005,1009,7]}", &m, &why), 0);
    assert_true(m.has_events);
    assert_int_equal(xalarm_id_set_count(&m.events), 2);
    assert_true(xalarm_id_set_has(&m.events, 1005));
    assert_true(xalarm_id_set_has(&m.events, 1009));
    assert_int_equal(parse("{\"action\":\"register_events\",\"event_ids\":null}", &m, &why), 0);
    assert_false(m.has_events);
    assert_int_equal(parse("{\"action\":\"unregister_events\"}", &m, &why), 0);
    assert_false(m.has_events);
    assert_int_equal(parse("{\"action\":\"unregister_events\",\"event_ids\":[1003]}", &m, &why), 0);
    assert_true(m.has_events);
    assert_true(xalarm_id_set_has(&m.events, 1003));
    for (int i = 0; i < 800 && n < sizeof(big) - 16; i++)
        n += (size_t) snprintf(big + n, sizeof(big) - n, "%s1005", i ? "," : "");
    snprintf(big + n, sizeof(big) - n, "]}");
    assert_int_equal(parse(big, &m, &why), 0);
    assert_int_equal(xalarm_id_set_count(&m.events), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_members_refused),
        cmocka_unit_test(test_actions),
        cmocka_unit_test(test_all_ids_kept),
        cmocka_unit_test(test_event_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
