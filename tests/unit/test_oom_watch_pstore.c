/* test_oom_watch_pstore: pstore record names (dmesg of each backend, compressed, others), the
 * panic / oops classification of ramoops kmsg dumps as the kernel writes them (header, syslog
 * prefixes, binary junk), and the state file: round trip, damaged lines, foreign files, limits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pstore_record.h"
#include "pstore_state.h"

static void test_names(void **state)
{
    char b[16];

    assert_int_equal(pstore_name_classify("dmesg-ramoops-0", b, sizeof(b)), PSTORE_NAME_DMESG);
    assert_string_equal(b, "ramoops");
    assert_int_equal(pstore_name_classify("dmesg-efi-171234567801001", b, sizeof(b)),
                     PSTORE_NAME_DMESG);
    assert_string_equal(b, "efi");
    assert_int_equal(pstore_name_classify("dmesg-ramoops-1.enc.z", b, sizeof(b)),
                     PSTORE_NAME_DMESG_COMPRESSED);
    assert_int_equal(pstore_name_classify("dmesg-erst-7085285298475483137", b, 3),
                     PSTORE_NAME_DMESG);
    assert_string_equal(b, "er");
    assert_int_equal(pstore_name_classify("console-ramoops-0", b, sizeof(b)), PSTORE_NAME_OTHER);
    assert_int_equal(pstore_name_classify("pmsg-ramoops-0", b, sizeof(b)), PSTORE_NAME_OTHER);
    assert_int_equal(pstore_name_classify("dmesg-", b, sizeof(b)), PSTORE_NAME_OTHER);
    assert_int_equal(pstore_name_classify("dmesg-ramoops-", b, sizeof(b)), PSTORE_NAME_OTHER);
    assert_int_equal(pstore_name_classify(".", NULL, 0), PSTORE_NAME_OTHER);
}

static const char panic_record[] =
    "Panic#1 Part1\n"
    "<6>[    0.000000] Linux version 6.1.0-57-amd64 (debian-kernel@lists.debian.org)\n"
    "<4>[   41.912345] sysrq: Trigger a crash\n"
    "<0>[   41.912400] Kernel panic - not syncing: sysrq triggered crash\n"
    "<4>[   41.912500] CPU: 0 PID: 312 Comm: sh Not tainted 6.1.0-57-amd64 #1  Debian\n";

static const char oops_record[] =
    "Oops#1 Part1\n"
    "<1>[  120.000001] BUG: kernel NULL pointer dereference, address: 0000000000000000\n"
    "<4>[  120.000010] Oops: 0002 [#1] PREEMPT SMP NOPTI\n"
    "<4>[  120.000020] RIP: 0010:smh_inject+0x10/0x20\n";

static void test_classify(void **state)
{
    struct pstore_classification c;

    pstore_record_classify(panic_record, strlen(panic_record), &c);
    assert_int_equal(c.finding, PSTORE_FINDING_PANIC);
    assert_string_equal(c.header, "Panic#1 Part1");
    assert_string_equal(c.line, "[   41.912400] Kernel panic - not syncing: sysrq triggered crash");

    pstore_record_classify(oops_record, strlen(oops_record), &c);
    assert_int_equal(c.finding, PSTORE_FINDING_OOPS);
    assert_string_equal(c.header, "Oops#1 Part1");
    assert_string_equal(c.line, "[  120.000010] Oops: 0002 [#1] PREEMPT SMP NOPTI");

    /* a panic after an oops (panic_on_oops): the panic wins */
    const char both[] = "Oops#1 Part1\n<4>[1.0] Oops: 0000 [#1] SMP\n"
                        "<0>[1.1] Kernel panic - not syncing: Fatal exception\n";
    pstore_record_classify(both, strlen(both), &c);
    assert_int_equal(c.finding, PSTORE_FINDING_PANIC);
    assert_string_equal(c.line, "[1.1] Kernel panic - not syncing: Fatal exception");

    /* a Panic# header whose panic line was cut off (a later part) */
    const char part2[] = "Panic#1 Part2\n<6>[1.0] some earlier line\n";
    pstore_record_classify(part2, strlen(part2), &c);
    assert_int_equal(c.finding, PSTORE_FINDING_PANIC);
    assert_string_equal(c.line, "");

    const char shutdown[] = "Shutdown#1 Part1\n<6>[9.0] reboot: Power down\n";
    pstore_record_classify(shutdown, strlen(shutdown), &c);
    assert_int_equal(c.finding, PSTORE_FINDING_NONE);

    /* binary junk around the line: kept printable, never past the buffer */
    char junk[600];
    memset(junk, '\x01', sizeof(junk));
    memcpy(junk + 100, "Kernel panic - not syncing: x\x7f\xff", 32);
    pstore_record_classify(junk, sizeof(junk), &c);
    assert_int_equal(c.finding, PSTORE_FINDING_PANIC);
    assert_int_equal(strlen(c.line), PSTORE_LINE_MAX - 1);
    for (const char *p = c.line; *p; p++)
        assert_true(*p >= 0x20 && *p < 0x7f);
    pstore_record_classify("", 0, &c);
    assert_int_equal(c.finding, PSTORE_FINDING_NONE);
}

static void test_state_round_trip(void **state)
{
    struct pstore_state s = {0}, t = {0};
    struct pstore_seen a = {.name = "dmesg-ramoops-0",
                            .mtime = 1700000000,
                            .size = 4000,
                            .hash = pstore_hash(panic_record, strlen(panic_record))};
    struct pstore_seen b = {.name = "dmesg-ramoops-1.enc.z", .mtime = -1, .size = 7, .hash = 1};
    size_t skipped = 99;

    assert_int_equal(pstore_state_add(&s, &a), 0);
    assert_int_equal(pstore_state_add(&s, &b), 0);
    char *text = pstore_state_format(&s);
    assert_non_null(text);
    assert_int_equal(pstore_state_parse(&t, text, strlen(text), &skipped), 0);
    assert_int_equal(skipped, 0);
    assert_int_equal(t.n, 2);
    assert_true(pstore_state_contains(&t, &a));
    assert_true(pstore_state_contains(&t, &b));
    /* same name, other content: a new crash */
    struct pstore_seen a2 = a;
    a2.hash ^= 1;
    assert_false(pstore_state_contains(&t, &a2));
    a2 = a;
    a2.size++;
    assert_false(pstore_state_contains(&t, &a2));
    /* the mtime is not part of the identity */
    a2 = a;
    a2.mtime = 5;
    assert_true(pstore_state_contains(&t, &a2));
    /* adding a name again replaces it */
    a2.hash ^= 1;
    assert_int_equal(pstore_state_add(&t, &a2), 0);
    assert_int_equal(t.n, 2);
    assert_false(pstore_state_contains(&t, &a));
    free(text);
    pstore_state_done(&s);
    pstore_state_done(&t);
}

static void test_state_hostile(void **state)
{
    struct pstore_state s = {0};
    size_t skipped;

    assert_int_equal(pstore_state_parse(&s, "", 0, &skipped), -EBADMSG);
    const char foreign[] = "root:x:0:0:root:/root:/bin/bash\n";
    assert_int_equal(pstore_state_parse(&s, foreign, strlen(foreign), &skipped), -EBADMSG);
    const char text[] = PSTORE_STATE_MAGIC "\n"
                                           "dmesg-ramoops-0\t1\t2\t00000000000000ff\n"
                                           "../etc/passwd\t1\t2\t00000000000000ff\n"
                                           "dmesg-ramoops-1\t1\t-2\t00000000000000ff\n"
                                           "dmesg-ramoops-2\t1\t2\tff\n"
                                           "dmesg-ramoops-3\t1\t2\t00000000000000ff\textra\n"
                                           "dmesg-ramoops-4\tx\t2\t00000000000000ff\n"
                                           "dmesg ramoops\t1\t2\t00000000000000ff\n"
                                           "\n"
                                           "dmesg-ramoops-5\t1\t2\t0000000000000010";
    assert_int_equal(pstore_state_parse(&s, text, strlen(text), &skipped), 0);
    assert_int_equal(skipped, 6);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.items[1].name, "dmesg-ramoops-5");
    assert_true(s.items[1].hash == 16);
    pstore_state_done(&s);

    /* full: the rest is refused, not grown without bound */
    struct pstore_seen r = {.size = 1};
    for (int i = 0; i < PSTORE_STATE_MAX; i++) {
        snprintf(r.name, sizeof(r.name), "dmesg-ramoops-%d", i);
        assert_int_equal(pstore_state_add(&s, &r), 0);
    }
    snprintf(r.name, sizeof(r.name), "dmesg-ramoops-x");
    assert_int_equal(pstore_state_add(&s, &r), -E2BIG);
    snprintf(r.name, sizeof(r.name), "a/b");
    assert_int_equal(pstore_state_add(&s, &r), -EINVAL);
    pstore_state_done(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_state_round_trip),
        cmocka_unit_test(test_state_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
