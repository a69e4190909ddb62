/* test_oom_watch_trace: the oom:mark_victim format files of an old kernel (pid only) and a new
 * one (pid, uid, comm, memory figures), its trace_pipe lines (comm with a space, "key:value"
 * pairs, other events, junk), and the alarm gate: one alarm per id and cgroup per interval,
 * the held-back ones counted. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "alarm_gate.h"
#include "trace_text.h"

static const char format_old[] =
    "name: mark_victim\n"
    "ID: 412\n"
    "format:\n"
    "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
    "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
    "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
    "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
    "\n"
    "\tfield:int pid;\toffset:8;\tsize:4;\tsigned:1;\n"
    "\n"
    "print fmt: \"pid=%d\", REC->pid\n";

static const char format_new[] =
    "name: mark_victim\n"
    "ID: 501\n"
    "format:\n"
    "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
    "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
    "\n"
    "\tfield:int pid;\toffset:8;\tsize:4;\tsigned:1;\n"
    "\tfield:__data_loc char[] comm;\toffset:12;\tsize:4;\tsigned:0;\n"
    "\tfield:unsigned long total_vm;\toffset:16;\tsize:8;\tsigned:0;\n"
    "\tfield:uid_t uid;\toffset:56;\tsize:4;\tsigned:0;\n"
    "\tfield:char name[16];\toffset:60;\tsize:16;\tsigned:0;\n"
    "\n"
    "print fmt: \"pid=%d uid=%u comm=%s total-vm=%lukB\", REC->pid, ...\n";

static void test_format(void **state)
{
    char names[TRACE_FIELDS_MAX][TRACE_NAME_MAX];
    size_t n;

    assert_int_equal(
        trace_format_fields(format_old, strlen(format_old), names, TRACE_FIELDS_MAX, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(names[0], "pid");
    assert_int_equal(
        trace_format_fields(format_new, strlen(format_new), names, TRACE_FIELDS_MAX, &n), 0);
    assert_int_equal(n, 5);
    assert_true(trace_fields_contain(names, n, "comm"));
    assert_true(trace_fields_contain(names, n, "uid"));
    assert_true(trace_fields_contain(names, n, "name"));
    assert_false(trace_fields_contain(names, n, "common_pid"));
    /* at most max kept */
    assert_int_equal(trace_format_fields(format_new, strlen(format_new), names, 2, &n), 0);
    assert_int_equal(n, 2);
    const char junk[] = "name: x\nID: 1\n";
    assert_int_equal(trace_format_fields(junk, strlen(junk), names, TRACE_FIELDS_MAX, &n),
                     -EBADMSG);
    const char bad[] = "format:\n\tfield:int ;\toffset:8;\n";
    assert_int_equal(trace_format_fields(bad, strlen(bad), names, TRACE_FIELDS_MAX, &n), -EBADMSG);
}

static void test_lines(void **state)
{
    struct trace_kv kv[TRACE_FIELDS_MAX];
    size_t n;
    const char old[] = "          python3-1234    [001] d..1.   123.456789: mark_victim: pid=1240";
    const char new[] = "  hog-77 [000] ..... 99.1: mark_victim: pid=77 uid=0 comm=my hog "
                       "total-vm=204800kB anon-rss=98304kB file-rss:0kB shmem-rss:0kB "
                       "pgtables=256kB oom_score_adj=0\n";

    assert_int_equal(trace_line_parse(old, strlen(old), "mark_victim", kv, TRACE_FIELDS_MAX, &n),
                     0);
    assert_int_equal(n, 1);
    assert_string_equal(trace_kv_get(kv, n, "pid"), "1240");
    assert_null(trace_kv_get(kv, n, "comm"));

    assert_int_equal(trace_line_parse(new, strlen(new), "mark_victim", kv, TRACE_FIELDS_MAX, &n),
                     0);
    assert_string_equal(trace_kv_get(kv, n, "pid"), "77");
    assert_string_equal(trace_kv_get(kv, n, "comm"), "my hog");
    assert_string_equal(trace_kv_get(kv, n, "total-vm"), "204800kB");
    assert_string_equal(trace_kv_get(kv, n, "file-rss"), "0kB");
    assert_string_equal(trace_kv_get(kv, n, "oom_score_adj"), "0");

    const char other[] = " sh-1 [000] ..... 1.0: oom_score_adj_update: pid=1 comm=sh";
    assert_int_equal(
        trace_line_parse(other, strlen(other), "mark_victim", kv, TRACE_FIELDS_MAX, &n), -ENOMSG);
    /* hostile: long values cut, control bytes replaced, at most max pairs */
    char longline[400] = " x-1 [0] . 1.0: mark_victim: pid=1 comm=";
    memset(longline + strlen(longline), 'A', 200);
    assert_int_equal(trace_line_parse(longline, strlen(longline), "mark_victim", kv, 1, &n), 0);
    assert_int_equal(n, 1);
    const char ctl[] = " x-1 [0] . 1.0: mark_victim: pid=1\x1b[2J";
    assert_int_equal(trace_line_parse(ctl, strlen(ctl), "mark_victim", kv, TRACE_FIELDS_MAX, &n),
                     0);
    assert_string_equal(trace_kv_get(kv, n, "pid"), "1?[2J");
}

static void test_gate(void **state)
{
    static struct alarm_gate g;
    uint64_t held, s = 1000000;

    alarm_gate_init(&g, 60 * s);
    assert_true(alarm_gate_pass(&g, 1017, "/a", 10 * s, &held));
    assert_int_equal(held, 0);
    assert_false(alarm_gate_pass(&g, 1017, "/a", 11 * s, &held));
    assert_false(alarm_gate_pass(&g, 1017, "/a", 69 * s, &held));
    /* another cgroup, another id: their own windows */
    assert_true(alarm_gate_pass(&g, 1017, "/b", 11 * s, &held));
    assert_true(alarm_gate_pass(&g, 1018, "/a", 11 * s, &held));
    assert_true(alarm_gate_pass(&g, 1017, "/a", 70 * s, &held));
    assert_int_equal(held, 2);
    assert_false(alarm_gate_pass(&g, 1017, "/a", 71 * s, &held));

    /* more keys than slots: the last slot is shared, never an unlimited flood */
    char key[32];
    for (int i = 0; i < ALARM_GATE_SLOTS + 10; i++) {
        snprintf(key, sizeof(key), "/k%d", i);
        alarm_gate_pass(&g, 1017, key, 100 * s, &held);
    }
    assert_false(alarm_gate_pass(&g, 1017, "/new", 101 * s, &held));

    alarm_gate_init(&g, 0);
    assert_true(alarm_gate_pass(&g, 1017, "/a", 1, &held));
    assert_true(alarm_gate_pass(&g, 1017, "/a", 1, &held));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_gate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
