/* test_event_switches: the id -> switch table, the counting of clients per switch (a client
 * counts once per id however many messages it sends; panic and reboot stay on), and the writes
 * to fake switch files, with and without a module loader. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <cmocka.h>

#include "test_util.h"

#include "event_switches.h"
#include "kernel_switch.h"
#include "time_util.h"

static struct xalarm_id_set ids(int n, ...)
{
    struct xalarm_id_set s = {0};
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        xalarm_id_set_add(&s, (unsigned) va_arg(ap, int));
    va_end(ap);
    return s;
}

static void test_table(void **state)
{
    assert_string_equal(kernel_switch_find(1005)->file, "oom");
    assert_string_equal(kernel_switch_find(1005)->dir, "sentry_reporter");
    assert_string_equal(kernel_switch_find(1003)->file, "power_off");
    assert_string_equal(kernel_switch_find(1013)->file, "ub_mem_fault");
    assert_string_equal(kernel_switch_find(1016)->file, "link_event");
    assert_string_equal(kernel_switch_find(1007)->dir, "sentry_remote_reporter");
    assert_true(kernel_switch_find(1007)->sticky);
    assert_true(kernel_switch_find(1009)->sticky);
    assert_false(kernel_switch_find(1005)->sticky);
    assert_null(kernel_switch_find(1001));
    assert_null(kernel_switch_find(1004));
}

static void test_refs(void **state)
{
    struct kernel_switch_refs refs = {0};
    struct xalarm_id_set a = {0}, b = {0}, on, off, want;

    want = ids(3, 1005, 1009, 1001);
    kernel_switch_refs_change(&refs, &a, &want, &on, &off);
    assert_true(xalarm_id_set_has(&on, 1005));
    assert_true(xalarm_id_set_has(&on, 1009));
    assert_int_equal(xalarm_id_set_count(&on), 2);
    assert_false(xalarm_id_set_has(&a, 1001)); /* switches nothing: not held */
    /* the same registration again: counted once */
    for (int i = 0; i < 1000; i++) {
        kernel_switch_refs_change(&refs, &a, &want, &on, &off);
        assert_int_equal(xalarm_id_set_count(&on), 0);
    }
    assert_int_equal(kernel_switch_refs_get(&refs, 1005), 1);
    want = ids(1, 1005);
    kernel_switch_refs_change(&refs, &b, &want, &on, &off);
    assert_int_equal(xalarm_id_set_count(&on), 0);
    assert_int_equal(kernel_switch_refs_get(&refs, 1005), 2);
    /* the first leaves: still on */
    want = ids(0);
    kernel_switch_refs_change(&refs, &a, &want, &on, &off);
    assert_int_equal(xalarm_id_set_count(&off), 0); /* 1009 is sticky */
    assert_int_equal(kernel_switch_refs_get(&refs, 1009), 0);
    assert_int_equal(kernel_switch_refs_get(&refs, 1005), 1);
    /* the last leaves: off */
    kernel_switch_refs_change(&refs, &b, &want, &on, &off);
    assert_true(xalarm_id_set_has(&off, 1005));
    assert_int_equal(xalarm_id_set_count(&off), 1);
    assert_int_equal(kernel_switch_refs_get(&refs, 1005), 0);
    /* leaving twice changes nothing */
    kernel_switch_refs_change(&refs, &b, &want, &on, &off);
    assert_int_equal(xalarm_id_set_count(&off), 0);
    assert_int_equal(kernel_switch_refs_get(&refs, 1005), 0);
}

static char *read_rel(const char *root, const char *rel, char *buf, size_t size)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static void test_files(void **state)
{
    char dir[] = "/tmp/test_event_switches.XXXXXX", buf[64];
    struct event_switches *s;
    struct xalarm_id_set a = {0}, b = {0}, want;
    sd_event *e;

    assert_non_null(mkdtemp(dir));
    assert_int_equal(test_write_file(dir, "sentry_reporter/oom", "off\n"), 0);
    assert_int_equal(test_write_file(dir, "sentry_remote_reporter/kernel_reboot", "off\n"), 0);
    assert_int_equal(sd_event_new(&e), 0);
    struct event_switches_params p = {.event = e, .dir = dir, .loader = NULL};
    assert_int_equal(event_switches_new(&p, &s), 0);

    want = ids(3, 1005, 1009, 1013); /* no ub_mem_fault file: nothing breaks */
    event_switches_change(s, &a, &want);
    assert_string_equal(read_rel(dir, "sentry_reporter/oom", buf, sizeof(buf)), "on\n");
    assert_string_equal(read_rel(dir, "sentry_remote_reporter/kernel_reboot", buf, sizeof(buf)),
                        "on\n");
    assert_null(read_rel(dir, "sentry_reporter/ub_mem_fault", buf, sizeof(buf)));
    assert_int_equal(event_switches_clients(s, 1013), 1);
    want = ids(1, 1005);
    event_switches_change(s, &b, &want);
    want = ids(0);
    event_switches_change(s, &a, &want);
    assert_string_equal(read_rel(dir, "sentry_reporter/oom", buf, sizeof(buf)), "on\n");
    event_switches_change(s, &b, &want);
    assert_string_equal(read_rel(dir, "sentry_reporter/oom", buf, sizeof(buf)), "off\n");
    assert_string_equal(read_rel(dir, "sentry_remote_reporter/kernel_reboot", buf, sizeof(buf)),
                        "on\n");
    /* already on: left alone */
    assert_int_equal(test_write_file(dir, "sentry_reporter/power_off", "on"), 0);
    want = ids(1, 1003);
    event_switches_change(s, &a, &want);
    assert_string_equal(read_rel(dir, "sentry_reporter/power_off", buf, sizeof(buf)), "on");
    event_switches_free(s);
    /* stopping leaves the switches as they are */
    assert_string_equal(read_rel(dir, "sentry_reporter/power_off", buf, sizeof(buf)), "on");
    sd_event_unref(e);
    test_rm_rf(dir);
}

/* A missing directory runs the loader (here a script that makes the switch), and the write is
 * made once it ends. */
static void test_loader(void **state)
{
    char dir[] = "/tmp/test_event_switches.XXXXXX", loader[1100], text[2200], buf[64];
    struct event_switches *s;
    struct xalarm_id_set a = {0}, want = ids(1, 1005);
    sd_event *e;

    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD); /* as in sentryd: children are followed by the loop */
    assert_int_equal(sigprocmask(SIG_BLOCK, &chld, NULL), 0);
    assert_non_null(mkdtemp(dir));
    snprintf(loader, sizeof(loader), "%s/modprobe", dir);
    snprintf(text, sizeof(text),
             "#!/bin/sh\n[ \"$1\" = sentry_msg_helper ] || exit 1\n"
             "mkdir -p %s/proc/sentry_reporter && echo off > %s/proc/sentry_reporter/oom\n",
             dir, dir);
    assert_int_equal(test_write_file(dir, "modprobe", text), 0);
    assert_int_equal(chmod(loader, 0755), 0);
    assert_int_equal(test_mkdirs(dir, "proc"), 0);
    snprintf(text, sizeof(text), "%s/proc", dir);
    assert_int_equal(sd_event_new(&e), 0);
    struct event_switches_params p = {.event = e, .dir = text, .loader = loader};
    assert_int_equal(event_switches_new(&p, &s), 0);
    event_switches_change(s, &a, &want);
    usec_t end = now_usec(CLOCK_MONOTONIC) + 10 * USEC_PER_SEC;
    while (now_usec(CLOCK_MONOTONIC) < end &&
           !(read_rel(dir, "proc/sentry_reporter/oom", buf, sizeof(buf)) && streq(buf, "on\n")))
        assert_true(sd_event_run(e, 100 * USEC_PER_MSEC) >= 0);
    assert_non_null(read_rel(dir, "proc/sentry_reporter/oom", buf, sizeof(buf)));
    assert_string_equal(buf, "on\n");
    event_switches_free(s);
    sd_event_unref(e);
    test_rm_rf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_refs),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_loader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
