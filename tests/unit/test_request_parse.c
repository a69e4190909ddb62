/* test_request_parse: the limits and type checks a native-protocol line passes before any verb
 * sees it: valid strict JSON, an object, an id that is an integer or a short string, a verb that
 * is a string without NUL, numbers that fit 64 bits (never clamped). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "request_parse.h"

struct outcome {
    int err;
    char why[256];
    char id[REQUEST_ID_MAX * 2 + 8];
    char verb[64];
};

static struct outcome parse(const char *line, size_t len)
{
    json_tokener *tok = json_tokener_new();
    struct parsed_request p;
    struct outcome o = {0};

    assert_non_null(tok);
    o.err = request_parse(tok, line, len, &p, o.why, sizeof(o.why));
    snprintf(o.id, sizeof(o.id), "%s", p.id);
    if (o.err == 0)
        snprintf(o.verb, sizeof(o.verb), "%s", p.verb);
    json_object_put(p.msg);
    json_tokener_free(tok);
    return o;
}

#define PARSE(s) parse((s), strlen(s))

static void test_valid(void **state)
{
    struct outcome o = PARSE("{\"id\":7,\"verb\":\"hello\"}");
    assert_int_equal(o.err, 0);
    assert_string_equal(o.verb, "hello");
    assert_string_equal(o.id, "7");

    o = PARSE("{\"id\":\"abc\",\"verb\":\"list\",\"x\":[1,2.5,-3]}  \t");
    assert_int_equal(o.err, 0);
    assert_string_equal(o.id, "\"abc\"");

    o = PARSE("{\"verb\":\"list\"}");
    assert_int_equal(o.err, 0);
    assert_string_equal(o.id, "null");
}

static void test_not_json_or_not_object(void **state)
{
    assert_int_equal(PARSE("").err, EBADMSG);
    assert_int_equal(PARSE("{\"verb\":\"list\"").err, EBADMSG);
    assert_int_equal(PARSE("{'verb':'list'}").err, EBADMSG);             /* strict: no quotes */
    assert_int_equal(PARSE("{\"verb\":\"list\"} /* c */").err, EBADMSG); /* no comments */
    struct outcome o = PARSE("{\"verb\":\"list\"}{\"verb\":\"list\"}");
    assert_int_equal(o.err, EBADMSG);
    assert_non_null(strstr(o.why, "text after the object"));
    o = PARSE("[\"verb\",\"list\"]");
    assert_int_equal(o.err, EBADMSG);
    assert_non_null(strstr(o.why, "must be a JSON object"));
    assert_int_equal(PARSE("null").err, EBADMSG);
}

static void test_id_checked(void **state)
{
    char line[512], id[REQUEST_ID_MAX + 2];

    memset(id, 'x', sizeof(id) - 1);
    id[REQUEST_ID_MAX] = 0; /* exactly the limit: accepted */
    snprintf(line, sizeof(line), "{\"id\":\"%s\",\"verb\":\"list\"}", id);
    assert_int_equal(PARSE(line).err, 0);
    id[REQUEST_ID_MAX] = 'x'; /* one more: refused */
    id[REQUEST_ID_MAX + 1] = 0;
    snprintf(line, sizeof(line), "{\"id\":\"%s\",\"verb\":\"list\"}", id);
    struct outcome o = PARSE(line);
    assert_int_equal(o.err, EINVAL);
    assert_non_null(strstr(o.why, "member 'id'"));
    assert_string_equal(o.id, "null");

    assert_int_equal(PARSE("{\"id\":{},\"verb\":\"list\"}").err, EINVAL);
    assert_int_equal(PARSE("{\"id\":[1],\"verb\":\"list\"}").err, EINVAL);
    assert_int_equal(PARSE("{\"id\":1.5,\"verb\":\"list\"}").err, EINVAL);
    assert_int_equal(PARSE("{\"id\":true,\"verb\":\"list\"}").err, EINVAL);
    assert_int_equal(PARSE("{\"id\":null,\"verb\":\"list\"}").err, 0);
}

static void test_verb_checked(void **state)
{
    assert_int_equal(PARSE("{\"id\":1}").err, EINVAL);
    assert_int_equal(PARSE("{\"verb\":null}").err, EINVAL);
    assert_int_equal(PARSE("{\"verb\":42}").err, EINVAL);
    assert_int_equal(PARSE("{\"verb\":[\"list\"]}").err, EINVAL);
    /* a NUL inside the verb would make "list\0x" run `list` */
    struct outcome o = PARSE("{\"id\":3,\"verb\":\"list\\u0000x\"}");
    assert_int_equal(o.err, EINVAL);
    assert_string_equal(o.id, "3"); /* the error answer still carries the id */
}

static void test_numbers_not_clamped(void **state)
{
    struct outcome o = PARSE("{\"verb\":\"alarms\",\"limit\":99999999999999999999}");
    assert_int_equal(o.err, EBADMSG);
    assert_non_null(strstr(o.why, "does not fit 64 bits"));
    assert_int_equal(PARSE("{\"verb\":\"x\",\"n\":18446744073709551615}").err, 0);
    assert_int_equal(PARSE("{\"verb\":\"x\",\"n\":18446744073709551616}").err, EBADMSG);
    assert_int_equal(PARSE("{\"verb\":\"x\",\"n\":-9223372036854775808}").err, 0);
    assert_int_equal(PARSE("{\"verb\":\"x\",\"n\":-9223372036854775809}").err, EBADMSG);
    assert_int_equal(PARSE("{\"verb\":\"x\",\"n\":1e999}").err, EBADMSG);
    /* digits inside strings are not numbers */
    assert_int_equal(PARSE("{\"verb\":\"x\",\"s\":\"99999999999999999999\\\"1\"}").err, 0);
}

static void test_numbers_fit_scanner(void **state)
{
    assert_true(json_text_numbers_fit("", 0));
    assert_true(json_text_numbers_fit("[1,-2,3.5e10]", 13));
    assert_false(json_text_numbers_fit("[1,99999999999999999999]", 24));
    /* only the first n bytes count */
    assert_true(json_text_numbers_fit("[1,99999999999999999999]", 3));
    char big[200];
    memset(big, '1', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    assert_false(json_text_numbers_fit(big, strlen(big)));
}

static void test_bytes_past_len_ignored(void **state)
{
    const char *line = "{\"verb\":\"list\"}GARBAGE";
    assert_int_equal(parse(line, 15).err, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_not_json_or_not_object),
        cmocka_unit_test(test_id_checked),
        cmocka_unit_test(test_verb_checked),
        cmocka_unit_test(test_numbers_not_clamped),
        cmocka_unit_test(test_numbers_fit_scanner),
        cmocka_unit_test(test_bytes_past_len_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
