/* test_store_state: the state file beside the alarm store: its two copies survive a torn or
 * garbled write of either one (the newest valid copy wins), hostile text is refused, failed seq
 * ranges are joined when they touch and bounded, and a file that is not ours is reported. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_state.h"

static char dir[] = "/tmp/test_store_state.XXXXXX";
static char path[256];

static int setup(void **state)
{
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof(path), "%s/alarms.db.state", dir);
    return 0;
}

static int teardown(void **state)
{
    unlink(path);
    rmdir(dir);
    return 0;
}

static void test_format_parse_round_trip(void **state)
{
    struct store_state st = STORE_STATE_INIT, back = STORE_STATE_INIT;
    char buf[STORE_STATE_SLOT_SIZE];
    uint64_t gen = 0;

    st.seq_mark = 40960;
    assert_int_equal(store_state_add_failed(&st, 301, 310), 0);
    assert_int_equal(store_state_add_failed(&st, 512, 512), 0);
    int n = store_state_format(&st, 17, buf, sizeof(buf));
    assert_true(n > 0);
    assert_string_equal(buf + n - 1, "\n");
    assert_non_null(strstr(buf, "gen=17 mark=40960 failed=301-310,512-512 sum="));
    assert_int_equal(store_state_parse(buf, (size_t) n, &back, &gen), 0);
    assert_int_equal(gen, 17);
    assert_int_equal(back.seq_mark, 40960);
    assert_int_equal(back.n_failed, 2);
    assert_int_equal(back.failed[0].first, 301);
    assert_int_equal(back.failed[0].last, 310);
    assert_int_equal(back.failed[1].first, 512);

    /* the biggest state fits a slot */
    for (size_t i = st.n_failed; i < STORE_STATE_FAILED_MAX; i++)
        assert_int_equal(
            store_state_add_failed(&st, UINT64_MAX - 10 * (20 - i), UINT64_MAX - 10 * (20 - i) + 1),
            0);
    st.seq_mark = UINT64_MAX;
    assert_true(store_state_format(&st, UINT64_MAX, buf, sizeof(buf)) > 0);
    assert_int_equal(store_state_parse(buf, sizeof(buf), &back, &gen), 0);
    assert_int_equal(back.n_failed, STORE_STATE_FAILED_MAX);
}

static void test_parse_refuses_hostile_text(void **state)
{
    struct store_state st = STORE_STATE_INIT;
    char good[STORE_STATE_SLOT_SIZE];
    uint64_t gen;

    st.seq_mark = 99;
    int n = store_state_format(&st, 3, good, sizeof(good));
    assert_true(n > 0);
    /* any one byte changed: refused (checksum or syntax) */
    for (int i = 0; i < n - 1; i++) {
        char bad[STORE_STATE_SLOT_SIZE];
        memcpy(bad, good, sizeof(bad));
        bad[i] = bad[i] == '7' ? '8' : '7';
        assert_int_not_equal(store_state_parse(bad, (size_t) n, &st, &gen), 0);
    }
    const char *texts[] = {
        "",
        "sentry-store-state 1 gen=1 mark=1 failed= sum=00000000", /* no newline */
        "sentry-store-state 2 gen=1 mark=1 failed= sum=00000000\n",
        "sentry-store-state 1 gen=99999999999999999999 mark=1 failed= sum=00000000\n",
        "sentry-store-state 1 gen=1 mark=-1 failed= sum=00000000\n",
        "sentry-store-state 1 gen=1 mark=1 failed=5-3 sum=00000000\n",
        "sentry-store-state 1 gen=1 mark=1 failed=1-2,,3-4 sum=00000000\n",
        "sentry-store-state 1 gen=1 mark=1 failed= sum=0000000\n",
        "sentry-store-state 1 gen=1 mark=1 failed= sum=0000000g\n",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        assert_int_equal(store_state_parse(texts[i], strlen(texts[i]), &st, &gen), -EBADMSG);
}

static void test_failed_ranges(void **state)
{
    struct store_state st = STORE_STATE_INIT;

    assert_int_equal(store_state_add_failed(&st, 10, 20), 0);
    assert_int_equal(store_state_add_failed(&st, 21, 30), 0); /* touches: joined */
    assert_int_equal(st.n_failed, 1);
    assert_int_equal(st.failed[0].last, 30);
    assert_int_equal(store_state_add_failed(&st, 40, 40), 0); /* a gap: a range of its own */
    assert_int_equal(st.n_failed, 2);
    for (size_t i = st.n_failed; i < STORE_STATE_FAILED_MAX; i++)
        assert_int_equal(store_state_add_failed(&st, 100 * i, 100 * i), 0);
    assert_int_equal(store_state_add_failed(&st, 5000, 5000), -ENOSPC);
    assert_int_equal(store_state_add_failed(&st, 100 * (STORE_STATE_FAILED_MAX - 1) + 1,
                                            100 * (STORE_STATE_FAILED_MAX - 1) + 9),
                     0); /* touches the last one: still joined */
}

static void test_save_reopen_and_torn_copy(void **state)
{
    struct store_state st = STORE_STATE_INIT;
    bool damaged;

    assert_int_equal(store_state_open(&st, path, &damaged), 0);
    assert_false(damaged);
    assert_int_equal(st.seq_mark, 0); /* a new file */
    st.seq_mark = 4096;
    assert_int_equal(store_state_save(&st), 0);
    st.seq_mark = 8192;
    assert_int_equal(store_state_add_failed(&st, 7, 9), 0);
    assert_int_equal(store_state_save(&st), 0);
    uint64_t gen = st.generation;
    store_state_close(&st);

    assert_int_equal(store_state_open(&st, path, &damaged), 0);
    assert_false(damaged);
    assert_int_equal(st.seq_mark, 8192);
    assert_int_equal(st.generation, gen);
    assert_int_equal(st.n_failed, 1);
    store_state_close(&st);

    /* The newest copy torn (half written): the previous one is the state. */
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(
        pwrite(fd, "sentry-store-state 1 gen=", 25, (off_t) (gen % 2) * STORE_STATE_SLOT_SIZE + 10),
        25);
    close(fd);
    assert_int_equal(store_state_open(&st, path, &damaged), 0);
    assert_false(damaged);
    assert_int_equal(st.seq_mark, 4096);
    assert_int_equal(st.generation, gen - 1);
    /* the next save goes over the torn one, and wins */
    st.seq_mark = 12288;
    assert_int_equal(store_state_save(&st), 0);
    store_state_close(&st);
    assert_int_equal(store_state_open(&st, path, &damaged), 0);
    assert_int_equal(st.seq_mark, 12288);
    store_state_close(&st);

    /* Both copies garbled: an empty state, and the file is said to be damaged. */
    fd = open(path, O_WRONLY);
    char junk[2 * STORE_STATE_SLOT_SIZE];
    memset(junk, 'x', sizeof(junk));
    assert_int_equal(pwrite(fd, junk, sizeof(junk), 0), (ssize_t) sizeof(junk));
    close(fd);
    assert_int_equal(store_state_open(&st, path, &damaged), 0);
    assert_true(damaged);
    assert_int_equal(st.seq_mark, 0);
    store_state_close(&st);
}

static void test_not_a_regular_file(void **state)
{
    struct store_state st = STORE_STATE_INIT;
    char link[300];
    bool damaged;

    snprintf(link, sizeof(link), "%s/link.state", dir);
    assert_int_equal(symlink("/etc/passwd", link), 0);
    assert_int_equal(store_state_open(&st, link, &damaged), -ELOOP);
    assert_false(store_state_is_open(&st));
    unlink(link);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_parse_round_trip),
        cmocka_unit_test(test_parse_refuses_hostile_text),
        cmocka_unit_test(test_failed_ranges),
        cmocka_unit_test(test_save_reopen_and_torn_copy),
        cmocka_unit_test(test_not_a_regular_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
