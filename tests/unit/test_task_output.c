/* test_task_output: a task's output through its pipe into a capped log: where a chunk is cut
 * before a rotation, the files kept and their marker lines, the read budget per wake-up,
 * sentryd's own lines in order, a log reduced to one file, and the status tail across a
 * rotation (it begins with the rotation line when the run began in an older file). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fileio.h"
#include "log.h"
#include "strv.h"
#include "task_log.h"
#include "task_output.h"
#include "test_util.h"

static char dir[] = "/tmp/test_task_output.XXXXXX";
static sd_event *event;

static void test_fit(void **state)
{
    bool rotate;

    /* fits, or no cap */
    assert_int_equal(task_output_fit(0, 100, true, "abc\n", 4, &rotate), 4);
    assert_false(rotate);
    assert_int_equal(task_output_fit(96, 100, false, "abc\n", 4, &rotate), 4);
    assert_false(rotate);
    assert_int_equal(task_output_fit(1000, 0, false, "abc\n", 4, &rotate), 4);
    assert_false(rotate);
    /* does not fit: up to the last newline that fits, then rotate */
    assert_int_equal(task_output_fit(90, 100, false, "aaaa\nbbbb\ncccc\n", 15, &rotate), 10);
    assert_true(rotate);
    assert_int_equal(task_output_fit(95, 100, false, "aaaa\nbbbb\ncccc\n", 15, &rotate), 5);
    assert_true(rotate);
    /* no newline fits: the line begins the next file */
    assert_int_equal(task_output_fit(97, 100, false, "aaaa\nbbbb\n", 10, &rotate), 0);
    assert_true(rotate);
    assert_int_equal(task_output_fit(100, 100, false, "x", 1, &rotate), 0);
    assert_true(rotate);
    /* ... unless the file holds nothing but its marker: a line longer than a file is cut */
    assert_int_equal(task_output_fit(10, 100, true,
                                     "0123456789012345678901234567890123456789"
                                     "0123456789012345678901234567890123456789"
                                     "0123456789012345678901234567890123456789",
                                     120, &rotate),
                     90);
    assert_true(rotate);
    /* a file already over the cap (a smaller cap than when it was written) */
    assert_int_equal(task_output_fit(500, 100, false, "a\n", 2, &rotate), 0);
    assert_true(rotate);
}

static void test_file_name(void **state)
{
    char buf[32];

    assert_int_equal(task_output_file_name("t", 0, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "t.log");
    assert_int_equal(task_output_file_name("t", 2, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "t.log.2");
    assert_int_equal(task_output_file_name("a_long_task_name", 12, buf, 10), -ENAMETOOLONG);
}

static char *read_log(const char *name)
{
    char path[512];
    char *text = NULL;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (read_file_bounded(AT_FDCWD, path, 0, 64 * 1024 * 1024, &text, NULL, NULL) < 0)
        return NULL;
    return text;
}

static off_t file_size(const char *name)
{
    char path[512];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return stat(path, &st) < 0 ? -1 : st.st_size;
}

/* 40 bytes that make a line long enough for a file of 16 KiB to hold fewer lines than a tail's
 * most (TASK_LOG_LINES_MAX). */
#define PAD "........................................"

/* Writes lines "NAME line N PAD" to fd, n of them: the total number of bytes. */
static size_t write_lines(int fd, const char *name, unsigned from, unsigned n)
{
    char line[128];
    size_t total = 0;

    for (unsigned i = from; i < from + n; i++) {
        int k = snprintf(line, sizeof(line), "%s line %05u " PAD "\n", name, i);
        assert_int_equal(write_all(fd, line, (size_t) k), 0);
        total += (size_t) k;
    }
    return total;
}

static void run_loop(unsigned iterations)
{
    for (unsigned i = 0; i < iterations; i++)
        assert_true(sd_event_run(event, 0) >= 0);
}

static void test_rotation(void **state)
{
    struct task_output_limits lim = {.max_size = 16384, .max_files = 3};
    struct task_output *o;
    char note[256];

    assert_int_equal(task_output_new(event, dir, "rot", &lim, &o), 0);
    int fd = task_output_pipe(o);
    assert_true(fd >= 0);
    assert_int_equal(task_output_pipe(o), fd); /* one pipe per task */
    assert_int_equal(task_log_format_marker(note, sizeof(note), 1, 0, false), 0);
    task_output_note(o, note);

    /* 56 bytes a line: 6000 lines fill twenty files of 16 KiB */
    unsigned lines = 0;
    for (int round = 0; round < 30; round++) {
        write_lines(fd, "rot", lines, 200);
        lines += 200;
        run_loop(4);
    }
    task_output_flush(o);

    /* three files, none over the cap, no fourth */
    assert_true(file_size("rot.log") > 0 && file_size("rot.log") <= 16384);
    assert_true(file_size("rot.log.1") > 16000 && file_size("rot.log.1") <= 16384);
    assert_true(file_size("rot.log.2") > 16000 && file_size("rot.log.2") <= 16384);
    assert_int_equal(file_size("rot.log.3"), -1);

    /* each rotated file begins with the marker, then whole lines only; the last line of all
     * that was written is the last of the current file */
    _cleanup_free_ char *cur = read_log("rot.log"), *old = read_log("rot.log.1");
    assert_non_null(cur);
    assert_non_null(old);
    assert_true(strncmp(cur, TASK_LOG_ROTATED_MARKER, strlen(TASK_LOG_ROTATED_MARKER)) == 0);
    assert_non_null(strstr(cur, "the older output is in rot.log.1\n"));
    assert_true(strncmp(old, TASK_LOG_ROTATED_MARKER, strlen(TASK_LOG_ROTATED_MARKER)) == 0);
    assert_int_equal(old[strlen(old) - 1], '\n');
    char last[128];
    snprintf(last, sizeof(last), "rot line %05u " PAD "\n", lines - 1);
    assert_true(endswith(cur, last));
    /* lines follow each other across the rotation: the first line of the current file is the
     * one after the last of .1 */
    const char *first = strchr(cur, '\n') + 1, *prev = old + strlen(old) - 1;
    while (prev > old && prev[-1] != '\n')
        prev--;
    unsigned a, b;
    assert_int_equal(sscanf(prev, "rot line %u", &a), 1);
    assert_int_equal(sscanf(first, "rot line %u", &b), 1);
    assert_int_equal(b, a + 1);

    /* the tail of `status` reads the current file only: the run's marker is in an older one,
     * so the tail begins with the rotation line, which says where the rest is */
    char path[512];
    _cleanup_strv_free_ char **tail = NULL;
    snprintf(path, sizeof(path), "%s/rot.log", dir);
    assert_int_equal(task_log_read_tail(path, 1000, &tail), 0);
    assert_non_null(tail[0]);
    assert_true(strncmp(tail[0], TASK_LOG_ROTATED_MARKER, strlen(TASK_LOG_ROTATED_MARKER)) == 0);
    assert_non_null(strstr(tail[0], "rot.log.1"));

    /* a new run: its marker comes after what the pipe held, and the tail begins there */
    write_lines(fd, "rot", lines, 3);
    assert_int_equal(task_log_format_marker(note, sizeof(note), 2, 0, false), 0);
    task_output_note(o, note);
    write_lines(fd, "run2", 0, 2);
    task_output_flush(o);
    strv_free(tail);
    assert_int_equal(task_log_read_tail(path, 1000, &tail), 0);
    assert_int_equal(strv_length(tail), 3);
    /* (a rotation may have come between the marker and the run's lines) */
    assert_true(strncmp(tail[0], TASK_LOG_MARKER "2 ", strlen(TASK_LOG_MARKER) + 2) == 0 ||
                strncmp(tail[0], TASK_LOG_ROTATED_MARKER, strlen(TASK_LOG_ROTATED_MARKER)) == 0);
    assert_string_equal(tail[1], "run2 line 00000 " PAD);
    assert_string_equal(tail[2], "run2 line 00001 " PAD);
    task_output_free(o);
}

static void test_read_budget(void **state)
{
    struct task_output_limits lim = {.max_size = 0, .max_files = 1};
    struct task_output *o;

    assert_int_equal(task_output_new(event, dir, "budget", &lim, &o), 0);
    int fd = task_output_pipe(o);
    assert_true(fd >= 0);
    assert_int_equal(fd_set_nonblock(fd, 1), 0); /* the test must not wait on its own pipe */
    /* more than one wake-up's budget: one iteration of the loop moves at most the budget */
    char chunk[4096];
    memset(chunk, 'x', sizeof(chunk));
    chunk[sizeof(chunk) - 1] = '\n';
    size_t total = 0;
    while (total < 3 * TASK_OUTPUT_READ_BUDGET) {
        ssize_t n = write(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EAGAIN)
            break;
        assert_true(n > 0);
        total += (size_t) n;
    }
    assert_true(total >= 2 * TASK_OUTPUT_READ_BUDGET); /* the pipe took that much */
    assert_true(sd_event_run(event, 0) >= 0);
    assert_int_equal(file_size("budget.log"), TASK_OUTPUT_READ_BUDGET);
    run_loop(10);
    assert_int_equal(file_size("budget.log"), (off_t) total);
    task_output_free(o);
}

static void test_single_file_and_free(void **state)
{
    struct task_output_limits lim = {.max_size = 16384, .max_files = 1};
    struct task_output *o;

    assert_int_equal(task_output_new(event, dir, "one", &lim, &o), 0);
    int fd = task_output_pipe(o);
    assert_int_equal(fd_set_nonblock(fd, 1), 0); /* fails rather than waits on a full pipe */
    write_lines(fd, "one", 0, 2000); /* 114000 bytes: rotations, the older parts dropped */
    /* freeing the writer moves what the pipe holds first */
    task_output_free(o);
    assert_int_equal(file_size("one.log.1"), -1);
    assert_true(file_size("one.log") <= 16384);
    _cleanup_free_ char *cur = read_log("one.log");
    assert_non_null(strstr(cur, "the older output was dropped (log_max_files = 1)"));
    assert_true(endswith(cur, "one line 01999 " PAD "\n"));
}

static void test_unwritable_log(void **state)
{
    struct task_output_limits lim = {.max_size = 16384, .max_files = 2};
    struct task_output *o;
    char missing[600];

    /* a log directory that does not exist: the output is dropped, counted, and said once the
     * directory is there */
    snprintf(missing, sizeof(missing), "%s/later", dir);
    assert_int_equal(task_output_new(event, missing, "lost", &lim, &o), 0);
    int fd = task_output_pipe(o);
    write_lines(fd, "lost", 0, 10);
    task_output_flush(o);
    assert_int_equal(mkdir(missing, 0700), 0);
    task_output_note(o, "-- sentryd: run 2 started\n");
    task_output_free(o);
    _cleanup_free_ char *text = read_log("later/lost.log");
    assert_non_null(text);
    assert_non_null(strstr(text, "-- sentryd: 570 bytes of output dropped: "));
    assert_non_null(strstr(text, "-- sentryd: run 2 started\n"));
}

static int setup(void **state)
{
    log_setup("test", LOG_TARGET_NULL, LOG_DEBUG);
    assert_non_null(mkdtemp(dir));
    return sd_event_new(&event) < 0;
}

static int teardown(void **state)
{
    sd_event_unref(event);
    return test_rm_rf(dir) != 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fit),
        cmocka_unit_test(test_file_name),
        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_read_budget),
        cmocka_unit_test(test_single_file_and_free),
        cmocka_unit_test(test_unwritable_log),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
