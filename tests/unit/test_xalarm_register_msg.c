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
    assert_int_equal(parse("{\"action\":\"update_filter\",\"id_filter\":null}", &m, &why),
                     -EINVAL);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_members_refused),
        cmocka_unit_test(test_actions),
        cmocka_unit_test(test_all_ids_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
