/* test_mem_config: mem_sentry.ini: the defaults, a full valid file, "N / window" parsing, and
 * every invalid value refused with the file, section, key and value in its message. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mem_config.h"

static int load(const char *text, struct mem_config *c, struct config_msgs *m)
{
    mem_config_init(c);
    return mem_config_load_string(c, "mem_sentry.ini", text, m);
}

static void test_defaults(void **state)
{
    struct mem_config c;
    struct config_msgs m = {0};

    assert_int_equal(load("", &c, &m), 0);
    assert_int_equal(m.n_items, 0);
    assert_true(c.threshold[MEM_LEVEL_PAGE].on);
    assert_int_equal(c.threshold[MEM_LEVEL_PAGE].n, 2);
    assert_int_equal(c.threshold[MEM_LEVEL_PAGE].window_s, 86400);
    assert_int_equal(c.threshold[MEM_LEVEL_DIMM].n, 10);
    assert_int_equal(c.threshold[MEM_LEVEL_SOCKET].n, 100);
    assert_int_equal(c.action, MEM_ACTION_SOFT);
    assert_int_equal(c.max_pages, 256);
    assert_int_equal(c.max_tracked_pages, 65536);
    assert_int_equal(c.storm_threshold, 1000);
    assert_int_equal(c.storm_window_s, 60);
    assert_int_equal(c.hardware_corrupted_limit_kb, 4096);
    config_msgs_done(&m);
}

static void test_valid(void **state)
{
    struct mem_config c;
    struct config_msgs m = {0};
    const char text[] = "[thresholds]\npage = 50/24h\nrow = off\ndimm = 5 / 30m\nsocket = 7/2d\n"
                        "[offline]\naction = soft-then-hard\nmax_pages = 10\nmax_mib = 1\n"
                        "[tracking]\nmax_tracked_pages = 1024\nmax_tracked_rows = 64\n"
                        "[storm]\nthreshold = 5000\nwindow = 10s\n"
                        "[meminfo]\nhardware_corrupted_limit_kb = 0\n";

    assert_int_equal(load(text, &c, &m), 0);
    assert_int_equal(m.n_items, 0);
    assert_int_equal(c.threshold[MEM_LEVEL_PAGE].n, 50);
    assert_false(c.threshold[MEM_LEVEL_ROW].on);
    assert_int_equal(c.threshold[MEM_LEVEL_DIMM].n, 5);
    assert_int_equal(c.threshold[MEM_LEVEL_DIMM].window_s, 1800);
    assert_int_equal(c.threshold[MEM_LEVEL_SOCKET].window_s, 2 * 86400);
    assert_int_equal(c.action, MEM_ACTION_SOFT_THEN_HARD);
    assert_int_equal(c.max_mib, 1);
    assert_int_equal(c.max_tracked_rows, 64);
    assert_int_equal(c.storm_threshold, 5000);
    assert_int_equal(c.storm_window_s, 10);
    assert_int_equal(c.hardware_corrupted_limit_kb, 0);
    config_msgs_done(&m);
}

/* The text must be refused with exactly this error. */
static void refused(const char *text, const char *msg)
{
    struct mem_config c;
    struct config_msgs m = {0};

    if (load(text, &c, &m) != -EINVAL || m.n_errors != 1)
        fail_msg("not refused once: %s", text);
    char *all = config_msgs_join(&m, CONFIG_MSG_ERROR, "; ");
    assert_non_null(all);
    if (!streq(all, msg))
        fail_msg("'%s' is not '%s'", all, msg);
    free(all);
    config_msgs_done(&m);
}

#define RATE_WHY \
    "expected N / window such as 2/24h (N 1..10000; window 1s..7d in s, m, h or d) or off"

static void test_invalid(void **state)
{
    refused("[thresholds]\npage = 2\n", "mem_sentry.ini: [thresholds] page = '2': " RATE_WHY);
    refused("[thresholds]\ndimm = 0/24h\n",
            "mem_sentry.ini: [thresholds] dimm = '0/24h': " RATE_WHY);
    refused("[thresholds]\nrow = 10001/24h\n",
            "mem_sentry.ini: [thresholds] row = '10001/24h': " RATE_WHY);
    refused("[thresholds]\nsocket = 5/8d\n",
            "mem_sentry.ini: [thresholds] socket = '5/8d': " RATE_WHY);
    refused("[thresholds]\npage = 2/24x\n",
            "mem_sentry.ini: [thresholds] page = '2/24x': " RATE_WHY);
    refused("[thresholds]\npage = 2/0h\n", "mem_sentry.ini: [thresholds] page = '2/0h': " RATE_WHY);
    refused("[thresholds]\npage = /24h\n", "mem_sentry.ini: [thresholds] page = '/24h': " RATE_WHY);
    refused("[offline]\naction = reboot\n",
            "mem_sentry.ini: [offline] action = 'reboot': must be one of off, account, soft, "
            "hard, soft-then-hard");
    refused("[offline]\nmax_pages = 0\n",
            "mem_sentry.ini: [offline] max_pages = '0': must be an integer in 1..1048576");
    refused("[tracking]\nmax_tracked_pages = 1000\n",
            "mem_sentry.ini: [tracking] max_tracked_pages = '1000': must be an integer in "
            "1024..16777216");
    refused("[storm]\nthreshold = 1\n",
            "mem_sentry.ini: [storm] threshold = '1': must be an integer in 2..10000");
    refused("[storm]\nwindow = 2d\n", "mem_sentry.ini: [storm] window = '2d': expected a duration "
                                      "such as 60s, 5m, 1h or 1d, at most 1d");
    refused("[meminfo]\nhardware_corrupted_limit_kb = -1\n",
            "mem_sentry.ini: [meminfo] hardware_corrupted_limit_kb = '-1': must be an integer in "
            "0..2147483647");
    refused("[offline]\nmax_pages = 2000\n[tracking]\nmax_tracked_pages = 2000\n",
            "mem_sentry.ini: [offline] max_pages = '2000': must be below [tracking] "
            "max_tracked_pages = 2000");
}

static void test_unknown_warned(void **state)
{
    struct mem_config c;
    struct config_msgs m = {0};

    assert_int_equal(load("[storm]\nsize = 1\n[other]\nx = 1\n", &c, &m), 0);
    assert_int_equal(m.n_errors, 0);
    assert_int_equal(m.n_items, 2);
    config_msgs_done(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_unknown_warned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
