/* test_oom_watch_psi: pressure files as the kernel writes them (with and without "full", with a
 * line a newer kernel may add), hostile ones refused (averages above 100, overflow, junk,
 * doubles), and the trigger text with the kernel's window bounds and the unprivileged rule. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "psi.h"

static int parse(const char *s, struct psi_stats *st)
{
    return psi_stats_parse(s, strlen(s), st);
}

static void test_parse_kernel_text(void **state)
{
    struct psi_stats st;

    assert_int_equal(parse("some avg10=1.25 avg60=0.50 avg300=0.00 total=123456\n"
                           "full avg10=0.99 avg60=100.00 avg300=0.01 total=42\n",
                           &st),
                     0);
    assert_true(st.some.present && st.full.present);
    assert_float_equal(st.some.avg10, 1.25, 1e-9);
    assert_float_equal(st.some.avg60, 0.5, 1e-9);
    assert_int_equal(st.some.total, 123456);
    assert_float_equal(st.full.avg60, 100.0, 1e-9);
    assert_int_equal(st.full.total, 42);

    /* cpu.pressure of older kernels: no full line; an unknown line is skipped */
    assert_int_equal(parse("some avg10=0.00 avg60=0.00 avg300=0.00 total=0", &st), 0);
    assert_false(st.full.present);
    assert_int_equal(parse("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nnew x=1\n", &st), 0);
    assert_int_equal(
        parse("some avg10=0.00 avg60=0.00 avg300=0.00 total=18446744073709551615\n", &st), 0);
    assert_true(st.some.total == UINT64_MAX);
}

static void test_parse_hostile(void **state)
{
    struct psi_stats st;
    const char *bad[] = {
        "",
        "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
        "some avg10=100.01 avg60=0.00 avg300=0.00 total=0\n",
        "some avg10=-1.00 avg60=0.00 avg300=0.00 total=0\n",
        "some avg10=0.00 avg60=0.00 avg300=0.00 total=18446744073709551616\n",
        "some avg10=0.00 avg60=0.00 avg300=0.00\n",
        "some avg10=0.00 avg60=0.00 avg300=0.00 total=1 extra=2\n",
        "some avg60=0.00 avg10=0.00 avg300=0.00 total=0\n",
        "some avg10=. avg60=0.00 avg300=0.00 total=0\n",
        "some avg10=0.00 avg60=0.00 avg300=0.00 total=1.5\n",
        "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nsome avg10=0.00 avg60=0.00 "
        "avg300=0.00 total=0\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(parse(bad[i], &st), -EBADMSG);
    /* not NUL-terminated: only len bytes are read */
    const char text[] = "some avg10=0.00 avg60=0.00 avg300=0.00 total=7XXXX";
    assert_int_equal(psi_stats_parse(text, strlen(text) - 4, &st), 0);
    assert_int_equal(st.some.total, 7);
}

static void test_trigger(void **state)
{
    char buf[64];

    assert_int_equal(psi_trigger_format(PSI_SOME, 150000, 1000000, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "some 150000 1000000");
    assert_int_equal(psi_trigger_format(PSI_FULL, 500000, 500000, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "full 500000 500000");
    assert_int_equal(psi_trigger_format(PSI_SOME, 1, 499999, buf, sizeof(buf)), -EINVAL);
    assert_int_equal(psi_trigger_format(PSI_SOME, 1, 10000001, buf, sizeof(buf)), -EINVAL);
    assert_int_equal(psi_trigger_format(PSI_SOME, 0, 1000000, buf, sizeof(buf)), -EINVAL);
    assert_int_equal(psi_trigger_format(PSI_SOME, 1000001, 1000000, buf, sizeof(buf)), -EINVAL);
    assert_int_equal(psi_trigger_format(PSI_SOME, 1, 1000000, buf, 8), -ENOBUFS);

    assert_int_equal(psi_window_unprivileged(500000), 2000000);
    assert_int_equal(psi_window_unprivileged(2000000), 2000000);
    assert_int_equal(psi_window_unprivileged(2000001), 4000000);
    assert_int_equal(psi_window_unprivileged(10000000), 10000000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_kernel_text),
        cmocka_unit_test(test_parse_hostile),
        cmocka_unit_test(test_trigger),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
