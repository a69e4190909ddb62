/* test_task_log: the tail of a task's log as `sentryctl status` shows it (escaped with
 * terminal_escape(), tested in test_terminal_escape): the cut at the last run's marker, the
 * window's partial first line, the byte budget, and the file rules (no symlink, no FIFO, bounded
 * read). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "strv.h"
#include "task_log.h"
#include "test_util.h"

static char dir[] = "/tmp/test_task_log.XXXXXX";

static char **tail(const char *buf, bool at_start, unsigned n)
{
    char **l = NULL;
    assert_int_equal(task_log_tail_lines(buf, strlen(buf), at_start, n, &l), 0);
    assert_non_null(l);
    return l;
}

static void assert_lines(char **l, ...)
{
    va_list ap;
    size_t i = 0;
    const char *want;

    va_start(ap, l);
    while ((want = va_arg(ap, const char *))) {
        assert_non_null(l[i]);
        assert_string_equal(l[i], want);
        i++;
    }
    va_end(ap);
    if (l[i])
        fail_msg("unexpected line %zu: '%s'", i, l[i]);
    strv_free(l);
}

static void test_marker(void **state)
{
    char buf[256];
    assert_int_equal(
        task_log_format_marker(buf, sizeof(buf), 3, 1800000000ULL * USEC_PER_SEC, false), 0);
    assert_non_null(startswith(buf, TASK_LOG_MARKER "3 started at 20"));
    assert_true(endswith(buf, "\n"));
    assert_int_equal(
        task_log_format_marker(buf, sizeof(buf), 4, 1800000000ULL * USEC_PER_SEC, true), 0);
    assert_true(endswith(buf, " (task_pre first)\n"));
    assert_int_equal(task_log_format_marker(buf, 20, 4, 1, false), -ENOBUFS);
}

static void test_tail_last_run(void **state)
{
    const char *log =
        "old 1\nold 2\n" TASK_LOG_MARKER "1 started at X\nrun1 a\nrun1 b\n" TASK_LOG_MARKER
        "2 started at Y\nrun2 a\nrun2 b\nrun2 c\n";

    /* only the last run, its marker first */
    assert_lines(tail(log, true, 10), TASK_LOG_MARKER "2 started at Y", "run2 a", "run2 b",
                 "run2 c", NULL);
    /* the last N lines of it */
    assert_lines(tail(log, true, 2), "run2 b", "run2 c", NULL);
    assert_lines(tail(log, true, 4), TASK_LOG_MARKER "2 started at Y", "run2 a", "run2 b", "run2 c",
                 NULL);
    assert_lines(tail(log, true, 0), NULL);
    /* no marker (a log from before markers, or a window inside one run): every whole line */
    assert_lines(tail("a\nb\nc\n", true, 10), "a", "b", "c", NULL);
    /* a last line still being written counts; an empty line too; CRLF loses its CR */
    assert_lines(tail("a\n\nb\r\nhalf", true, 10), "a", "", "b", "half", NULL);
    /* empty log */
    assert_lines(tail("", true, 10), NULL);
    /* something that only looks like a marker in the middle of a line does not cut */
    assert_lines(tail("x " TASK_LOG_MARKER "9\ny\n", true, 10), "x " TASK_LOG_MARKER "9", "y",
                 NULL);
}

static void test_tail_window(void **state)
{
    /* a window that begins inside a line drops that line */
    assert_lines(tail("rt of a line\nwhole\n", false, 10), "whole", NULL);
    assert_lines(tail("partial\n", false, 10), NULL);
    /* no newline at all: the window is the end of one long line */
    assert_lines(tail("tail of a long line", false, 10), "tail of a long line", NULL);
    /* a marker split by the window's start is not one */
    assert_lines(tail("run 5 started\nz\n", false, 10), "z", NULL);
    /* lines are escaped */
    assert_lines(tail("\x1b]0;title\x07\n\xff\xfe\n", true, 10), "\\x1b]0;title\\x07", "\\xff\\xfe",
                 NULL);
}

static void test_tail_budget(void **state)
{
    /* one long line is cut; many lines stop at the byte budget, newest kept */
    size_t n = 3 * TASK_LOG_LINE_MAX;
    _cleanup_free_ char *buf = malloc(n + 2);
    assert_non_null(buf);
    memset(buf, 'x', n);
    buf[n] = '\n';
    buf[n + 1] = 0;
    char **l = tail(buf, true, 10);
    assert_int_equal(strv_length(l), 1);
    assert_int_equal(strlen(l[0]), TASK_LOG_LINE_MAX - 1);
    assert_true(endswith(l[0], "..."));
    strv_free(l);

    /* 64 lines of control bytes escape to 4x; together they pass the budget */
    size_t lines = 64, per = 200, total = 0;
    _cleanup_free_ char *many = malloc(lines * (per + 1) + 1);
    assert_non_null(many);
    char *p = many;
    for (size_t i = 0; i < lines; i++) {
        memset(p, 0x01, per);
        p[per] = '\n';
        p += per + 1;
    }
    *p = 0;
    l = tail(many, true, TASK_LOG_LINES_MAX);
    assert_true(strv_length(l) > 0 && strv_length(l) < lines);
    for (char **q = l; *q; q++)
        total += strlen(*q) + 1;
    assert_true(total <= TASK_LOG_TAIL_TEXT_MAX);
    strv_free(l);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "we");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void test_read_tail_file(void **state)
{
    char path[256], link[256], fifo[256];
    char **l = NULL;

    snprintf(path, sizeof(path), "%s/t.log", dir);
    snprintf(link, sizeof(link), "%s/link.log", dir);
    snprintf(fifo, sizeof(fifo), "%s/fifo.log", dir);
    assert_int_equal(task_log_read_tail(path, 10, &l), -ENOENT);
    assert_null(l);

    write_text(path, "before\n" TASK_LOG_MARKER "1 started at T\nhello\nworld\n");
    assert_int_equal(task_log_read_tail(path, 10, &l), 0);
    assert_lines(l, TASK_LOG_MARKER "1 started at T", "hello", "world", NULL);

    /* a big log is read from its end only: the first lines are out of the window */
    FILE *f = fopen(path, "we");
    assert_non_null(f);
    for (int i = 0; i < 10000; i++)
        fprintf(f, "line %d\n", i);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(task_log_read_tail(path, 3, &l), 0);
    assert_lines(l, "line 9997", "line 9998", "line 9999", NULL);
    assert_int_equal(task_log_read_tail(path, TASK_LOG_LINES_MAX, &l), 0);
    assert_true(strv_length(l) < 10000 && strv_length(l) > 100);
    assert_string_equal(l[strv_length(l) - 1], "line 9999");
    strv_free(l);

    /* never through a symlink, never from a FIFO (that would block sentryd) */
    assert_int_equal(symlink(path, link), 0);
    assert_int_equal(task_log_read_tail(link, 10, &l), -ELOOP);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(task_log_read_tail(fifo, 10, &l), -EBADFD);
    assert_int_equal(task_log_read_tail(dir, 10, &l), -EBADFD);
    assert_null(l);
}

static int setup(void **state)
{
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    return test_rm_rf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_marker),         cmocka_unit_test(test_tail_last_run),
        cmocka_unit_test(test_tail_window),    cmocka_unit_test(test_tail_budget),
        cmocka_unit_test(test_read_tail_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
