/* test_line_buffer: framing of the native protocol: whole lines, partial lines, CRLF, and the
 * size limit that discards an over-long line once without losing the next one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sys/socket.h>

#include "line_buffer.h"
#include "macro.h"

static void test_lines_and_partials(void **state)
{
    struct line_buffer b;
    char *line;
    size_t len;

    line_buffer_init(&b, 16);
    assert_int_equal(line_buffer_append(&b, "ab\ncd", 5), 0);
    assert_int_equal(line_buffer_next(&b, &line, &len), 1);
    assert_string_equal(line, "ab");
    assert_int_equal(len, 2);
    assert_int_equal(line_buffer_next(&b, &line, &len), 0);
    assert_int_equal(line_buffer_append(&b, "e\r\n\n", 4), 0);
    assert_int_equal(line_buffer_next(&b, &line, &len), 1);
    assert_string_equal(line, "cde");
    assert_int_equal(line_buffer_next(&b, &line, &len), 1);
    assert_string_equal(line, "");
    assert_int_equal(line_buffer_next(&b, &line, &len), 0);
    line_buffer_done(&b);
}

static void test_too_long(void **state)
{
    struct line_buffer b;
    char *line;
    size_t len;
    char big[40];

    memset(big, 'x', sizeof(big));
    line_buffer_init(&b, 16);
    /* Exactly the limit is fine. */
    assert_int_equal(line_buffer_append(&b, big, 16), 0);
    assert_int_equal(line_buffer_append(&b, "\n", 1), 0);
    assert_int_equal(line_buffer_next(&b, &line, &len), 1);
    assert_int_equal(len, 16);
    /* One more byte, arriving in pieces without a newline: reported once, then dropped. */
    assert_int_equal(line_buffer_append(&b, big, 10), 0);
    assert_int_equal(line_buffer_next(&b, &line, &len), 0);
    assert_int_equal(line_buffer_append(&b, big, 10), 0);
    assert_int_equal(line_buffer_next(&b, &line, &len), -EMSGSIZE);
    assert_int_equal(line_buffer_append(&b, big, 30), 0);
    assert_int_equal(line_buffer_next(&b, &line, &len), 0);
    assert_int_equal(line_buffer_append(&b, "tail\nok\n", 8), 0);
    assert_int_equal(line_buffer_next(&b, &line, &len), 1);
    assert_string_equal(line, "ok");
    /* A complete over-long line in one piece. */
    assert_int_equal(line_buffer_append(&b, big, 20), 0);
    assert_int_equal(line_buffer_append(&b, "\nnext\n", 6), 0);
    assert_int_equal(line_buffer_next(&b, &line, &len), -EMSGSIZE);
    assert_int_equal(line_buffer_next(&b, &line, &len), 1);
    assert_string_equal(line, "next");
    line_buffer_done(&b);
}

static void test_fill_from_socket(void **state)
{
    struct line_buffer b;
    int sv[2];
    char *line;
    size_t len;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    line_buffer_init(&b, 1024);
    assert_int_equal(line_buffer_fill(&b, sv[0]), -EAGAIN);
    assert_int_equal(write(sv[1], "{\"a\":1}\n{\"b\"", 12), 12);
    assert_int_equal(line_buffer_fill(&b, sv[0]), 12);
    assert_int_equal(line_buffer_next(&b, &line, &len), 1);
    assert_string_equal(line, "{\"a\":1}");
    assert_int_equal(line_buffer_next(&b, &line, &len), 0);
    close(sv[1]);
    assert_int_equal(line_buffer_fill(&b, sv[0]), 0);
    close(sv[0]);
    line_buffer_done(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_and_partials),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_fill_from_socket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
