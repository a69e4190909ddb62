/* test_terminal_escape: what sentryctl prints of sentryd's strings. Every byte class: printable
 * ASCII and backslash (kept), tab/CR/LF (\t \r \n), the other C0 controls, ESC and DEL (\xNN),
 * C1 controls written in UTF-8 (c2 80..c2 9f, each byte \xNN), valid UTF-8 above them (kept),
 * and bytes that are not UTF-8: lone continuation bytes such as 0x9b, 0xc0/0xc1/0xf5..0xff,
 * overlong forms, surrogates, code points beyond U+10FFFF, sequences cut short (each byte
 * \xNN); cutting at character boundaries; and the JSON form, which must stay valid JSON with
 * no control character and only valid UTF-8 in it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "macro.h"
#include "terminal_escape.h"

/* terminal_escape() of n bytes into a buffer that is large enough. */
static const char *esc(const char *s, size_t n)
{
    static char out[16384];
    assert_true(TERMINAL_ESCAPE_SIZE(n) <= sizeof(out));
    size_t len = terminal_escape(out, sizeof(out), s, n);
    assert_int_equal(len, strlen(out));
    return out;
}

#define ESC(lit) esc(lit, sizeof(lit) - 1)

/* True when s holds no control byte (C0, DEL) and no C1 control, and is valid UTF-8 as far as
 * the bytes >= 0x80 go (checked by escaping it: valid text escapes to itself). */
static bool terminal_safe(const char *s)
{
    for (const unsigned char *p = (const unsigned char *) s; *p; p++)
        if (*p < 0x20 || *p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0))
            return false;
    return strcmp(esc(s, strlen(s)), s) == 0;
}

static void test_printable_kept(void **state)
{
    char all[96];
    size_t n = 0;

    for (int c = 0x20; c < 0x7f; c++)
        all[n++] = (char) c;
    all[n] = 0;
    /* Every printable ASCII character, backslash and quotes included, as it is. */
    assert_string_equal(esc(all, n), all);
    /* Valid UTF-8 above the C1 controls: U+00A0, é, €, U+FFFD, U+10FFFF, an emoji. */
    static const char utf8[] = "\xc2\xa0 \xc3\xa9 \xe2\x82\xac \xef\xbf\xbd \xf4\x8f\xbf\xbf "
                               "\xf0\x9f\x94\xa5";
    assert_string_equal(ESC(utf8), utf8);
}

static void test_c0_del(void **state)
{
    assert_string_equal(ESC("a\tb\rc\nd"), "a\\tb\\rc\\nd");
    assert_string_equal(ESC("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
    assert_string_equal(ESC("\x7f"), "\\x7f");
    assert_string_equal(ESC("x\0y"), "x\\x00y");
    for (int c = 0; c < 0x20; c++) {
        char in[1] = {(char) c}, expect[8];
        if (c == '\t' || c == '\r' || c == '\n')
            continue;
        snprintf(expect, sizeof(expect), "\\x%02x", c);
        assert_string_equal(esc(in, 1), expect);
    }
}

static void test_c1(void **state)
{
    /* U+0080..U+009F in UTF-8 (c2 80..c2 9f): CSI (U+009B) and the other C1 controls. */
    for (int c = 0x80; c < 0xa0; c++) {
        char in[2] = {(char) 0xc2, (char) c}, expect[16];
        snprintf(expect, sizeof(expect), "\\xc2\\x%02x", c);
        assert_string_equal(esc(in, 2), expect);
    }
    assert_string_equal(ESC("\xc2\x9b"
                            "31m"),
                        "\\xc2\\x9b31m");
}

static void test_invalid_utf8(void **state)
{
    /* Lone bytes >= 0x80: continuation bytes (0x9b is the 8-bit CSI), bytes never in UTF-8. */
    for (int c = 0x80; c < 0x100; c++) {
        char in[2] = {(char) c, 'x'}, expect[16];
        snprintf(expect, sizeof(expect), "\\x%02xx", c);
        assert_string_equal(esc(in, 2), expect);
    }
    assert_string_equal(ESC("\x9b"
                            "31m"),
                        "\\x9b31m");
    assert_string_equal(ESC("\xc0\x80"), "\\xc0\\x80");                   /* overlong NUL */
    assert_string_equal(ESC("\xe0\x80\xaf"), "\\xe0\\x80\\xaf");          /* overlong '/' */
    assert_string_equal(ESC("\xed\xa0\x80"), "\\xed\\xa0\\x80");          /* a UTF-16 surrogate */
    assert_string_equal(ESC("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80"); /* > U+10FFFF */
    assert_string_equal(ESC("ok\xe2\x82"), "ok\\xe2\\x82");               /* cut short at the end */
    assert_string_equal(ESC("\xe2\x82z"), "\\xe2\\x82z"); /* cut short by an ASCII */
}

static void test_idempotent_and_cut(void **state)
{
    static const char mixed[] = "\x1b]0;title\x07 \xc2\x9b\xff caf\xc3\xa9 \\x1b";
    char once[256], twice[256], small[16];

    terminal_escape(once, sizeof(once), mixed, sizeof(mixed) - 1);
    assert_string_equal(once, "\\x1b]0;title\\x07 \\xc2\\x9b\\xff caf\xc3\xa9 \\x1b");
    terminal_escape(twice, sizeof(twice), once, strlen(once));
    assert_string_equal(twice, once);
    assert_true(terminal_safe(once));

    /* Too long: cut at a character boundary, never inside \xNN or a UTF-8 sequence. */
    assert_int_equal(terminal_escape(small, sizeof(small), "\x1b\x1b\x1b\x1b", 4), 15);
    assert_string_equal(small, "\\x1b\\x1b\\x1b...");
    terminal_escape(small, sizeof(small), "abcdefghij\xc3\xa9\xc3\xa9\xc3\xa9", 16);
    assert_string_equal(small, "abcdefghij\xc3\xa9...");
    /* 15 bytes and the NUL fit exactly: no cut. */
    assert_int_equal(terminal_escape(small, sizeof(small),
                                     "\x1b\x1b\x1b"
                                     "abc",
                                     6),
                     15);
    assert_string_equal(small, "\\x1b\\x1b\\x1babc");
    /* Too small to say anything. */
    assert_int_equal(terminal_escape(small, 4, "abc", 3), 0);
    assert_string_equal(small, "");

    char *d = terminal_escape_dup("\x1b[2J\xff");
    assert_non_null(d);
    assert_string_equal(d, "\\x1b[2J\\xff");
    free(d);
}

/* Parses strictly (valid UTF-8 required) and returns the string member "t". */
static char *json_string_of(const char *text)
{
    json_tokener *tok = json_tokener_new();
    json_object *o, *t;
    char *r;

    assert_non_null(tok);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    o = json_tokener_parse_ex(tok, text, (int) strlen(text));
    assert_int_equal(json_tokener_get_error(tok), json_tokener_success);
    assert_non_null(o);
    assert_true(json_object_object_get_ex(o, "t", &t));
    r = strdup(json_object_get_string(t));
    json_object_put(o);
    json_tokener_free(tok);
    return r;
}

static void test_json(void **state)
{
    /* Every byte value 1..255 in one string, as json-c writes it. */
    char all[256];
    for (int c = 1; c < 256; c++)
        all[c - 1] = (char) c;
    all[255] = 0;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "t", json_object_new_string(all));
    const char *raw = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

    char *safe = terminal_escape_json(raw);
    assert_non_null(safe);
    assert_true(terminal_safe(safe));
    /* Valid JSON, and what it says: ASCII and controls as they were, each byte that was not
     * UTF-8 (all of 0x80..0xff alone) as U+FFFD. */
    char *back = json_string_of(safe);
    assert_memory_equal(back, all, 0x7f);
    for (int i = 0x7f; i < 0xff; i++)
        assert_memory_equal(back + 0x7f + (i - 0x7f) * 3, "\xef\xbf\xbd", 3);
    free(back);
    free(safe);
    json_object_put(o);

    /* C1 controls and DEL become \u escapes with the same meaning; other UTF-8 stays. */
    safe = terminal_escape_json("{\"t\":\"a\x7f\xc2\x9b\xc3\xa9\\u001b\\\"\"}");
    assert_string_equal(safe, "{\"t\":\"a\\u007f\\u009b\xc3\xa9\\u001b\\\"\"}");
    back = json_string_of(safe);
    assert_string_equal(back, "a\x7f\xc2\x9b\xc3\xa9\x1b\"");
    free(back);
    free(safe);

    /* Raw control characters: escaped inside strings, whitespace kept outside. */
    safe = terminal_escape_json("{\n\t\"t\" :\"x\ty\x1bz\"\r\n}");
    assert_string_equal(safe, "{\n\t\"t\" :\"x\\ty\\u001bz\"\r\n}");
    free(back = json_string_of(safe));
    free(safe);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_printable_kept),
        cmocka_unit_test(test_c0_del),
        cmocka_unit_test(test_c1),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_idempotent_and_cut),
        cmocka_unit_test(test_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
