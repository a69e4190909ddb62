/* test_json_escape: every answer sentryd writes is valid UTF-8 JSON, whatever bytes came from
 * files and clients: utf8_is_valid() knows valid UTF-8 from the rest (stray continuation bytes,
 * overlong forms, surrogates, past U+10FFFF, cut sequences), and json_text_fix_utf8() turns what
 * json-c serialises (it passes such bytes through) into the same JSON with U+FFFD in their place;
 * json_escape() does the same for the stream lines. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "json_escape.h"
#include "json_util.h"

static const struct {
    const char *bytes;
    bool valid;
} utf8_cases[] = {
    {"", true},
    {"plain ascii", true},
    {"caf\xc3\xa9", true},       /* é */
    {"\xe2\x82\xac", true},      /* € */
    {"\xf0\x9f\x98\x80", true},  /* U+1F600 */
    {"\xf4\x8f\xbf\xbf", true},  /* U+10FFFF */
    {"\xff", false},             /* never in UTF-8 */
    {"\x80", false},             /* stray continuation */
    {"caf\xc3", false},          /* cut */
    {"\xe2\x82", false},         /* cut */
    {"\xc0\xaf", false},         /* overlong '/' */
    {"\xe0\x80\xaf", false},     /* overlong */
    {"\xed\xa0\x80", false},     /* surrogate U+D800 */
    {"\xf4\x90\x80\x80", false}, /* past U+10FFFF */
    {"ok \xc3\xa9 then \xfe bad", false},
};

static void test_utf8_is_valid(void **state)
{
    for (size_t i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]); i++)
        if (utf8_is_valid(utf8_cases[i].bytes, strlen(utf8_cases[i].bytes)) != utf8_cases[i].valid)
            fail_msg("case %zu: expected %s", i, utf8_cases[i].valid ? "valid" : "invalid");
}

/* What json-c makes of a string with these bytes, after the fix: valid UTF-8, parses back, and
 * the valid characters survive. */
static void check_fixed(const char *bytes, const char *want)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "message", json_object_new_string(bytes));
    size_t n;
    const char *text = json_plain(o, &n);
    char *out = malloc(JSON_ESCAPE_MAX(n));
    assert_non_null(out);
    size_t m = json_text_fix_utf8(out, text, n);
    assert_true(utf8_is_valid(out, m));
    json_tokener *tok = json_tokener_new();
    json_object *back = json_tokener_parse_ex(tok, out, (int) m), *v;
    assert_non_null(back);
    assert_int_equal(json_tokener_get_parse_end(tok), m);
    assert_true(json_object_object_get_ex(back, "message", &v));
    assert_string_equal(json_object_get_string(v), want);
    json_object_put(back);
    json_tokener_free(tok);
    json_object_put(o);
    free(out);
}

static void test_fix_json_text(void **state)
{
    check_fixed("no change", "no change");
    check_fixed("caf\xc3\xa9", "caf\xc3\xa9");
    check_fixed("bad \xff\xfe utf8", "bad \xef\xbf\xbd\xef\xbf\xbd utf8");
    check_fixed("cut \xe2\x82", "cut \xef\xbf\xbd\xef\xbf\xbd");
    check_fixed("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd");
    check_fixed("quote \" and \\ and \x01 stay escaped \xed\xa0\x80",
                "quote \" and \\ and \x01 stay escaped \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

static void test_escape(void **state)
{
    const char in[] = "a\xff\"\n\xc3\xa9";
    char out[JSON_ESCAPE_MAX(sizeof(in))];
    size_t n = json_escape(out, in, strlen(in));
    assert_true(utf8_is_valid(out, n));
    json_object *o = json_tokener_parse(strndupa(out, n));
    assert_non_null(o);
    assert_string_equal(json_object_get_string(o), "a\xef\xbf\xbd\"\n\xc3\xa9");
    json_object_put(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_is_valid),
        cmocka_unit_test(test_fix_json_text),
        cmocka_unit_test(test_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
