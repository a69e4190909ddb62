/* test_smm_answer: answer texts as the reference reads them (1004/1006 "MSGID_RES", 1008/1010
 * "MSGID_{cna:C,eid:E}_RES", the whole text), and everything a hostile reporter may send
 * refused with a reason: signs, blanks, hex, overflow, missing or extra parts, long or odd eids,
 * NULs, ids that are no answers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "smm_answer.h"

static int parse(unsigned id, const char *text, struct sentry_msg_helper_msg *m,
                 const char **reason)
{
    return smm_answer_parse(id, text, strlen(text), m, reason);
}

static void test_general(void **state)
{
    struct sentry_msg_helper_msg m;
    const char *reason = NULL;

    assert_int_equal(parse(1004, "12_0", &m, &reason), 0);
    assert_int_equal(m.type, SMH_MESSAGE_POWER_OFF);
    assert_int_equal(m.msgid, 12);
    assert_int_equal(m.res, 0);
    assert_int_equal(parse(1006, "18446744073709551615_18446744073709551615", &m, &reason), 0);
    assert_int_equal(m.type, SMH_MESSAGE_OOM);
    assert_true(m.msgid == UINT64_MAX);
    assert_true(m.res == UINT64_MAX);
    assert_int_equal(parse(1006, "007_12", &m, &reason), 0);
    assert_int_equal(m.msgid, 7);
}

static void test_remote(void **state)
{
    struct sentry_msg_helper_msg m;
    const char *reason = NULL;

    assert_int_equal(parse(1010, "5_{cna:7,eid:node-1:a.b}_3", &m, &reason), 0);
    assert_int_equal(m.type, SMH_MESSAGE_KERNEL_REBOOT);
    assert_int_equal(m.msgid, 5);
    assert_int_equal(m.res, 3);
    assert_int_equal(m.helper_msg_info.remote_info.cna, 7);
    assert_string_equal(m.helper_msg_info.remote_info.eid, "node-1:a.b");
    assert_int_equal(parse(1008, "1_{cna:4294967295,eid:}_0", &m, &reason), 0);
    assert_int_equal(m.type, SMH_MESSAGE_PANIC);
    assert_int_equal(m.helper_msg_info.remote_info.cna, 4294967295u);
    assert_string_equal(m.helper_msg_info.remote_info.eid, "");
    /* 39 bytes of eid fit */
    char text[128];
    snprintf(text, sizeof(text), "1_{cna:0,eid:%039d}_0", 0);
    assert_int_equal(parse(1010, text, &m, &reason), 0);
    assert_int_equal(strlen(m.helper_msg_info.remote_info.eid), 39);
}

static void test_refused(void **state)
{
    static const struct {
        unsigned id;
        const char *text;
        const char *reason;
    } bad[] = {
        {1004, "", "msgid is not a decimal number"},
        {1004, "12", "'_' expected after msgid"},
        {1004, "12_", "res is not a decimal number"},
        {1004, "-1_0", "msgid is not a decimal number"},
        {1004, "+1_0", "msgid is not a decimal number"},
        {1004, " 1_0", "msgid is not a decimal number"},
        {1004, "1_ 0", "res is not a decimal number"},
        {1004, "1_-1", "res is not a decimal number"},
        {1004, "0x10_0", "'_' expected after msgid"},
        {1004, "1_0 ", "trailing characters"},
        {1004, "1_0\n", "trailing characters"},
        {1006, "1_0_0", "trailing characters"},
        {1006, "18446744073709551616_0", "msgid out of range"},
        {1006, "1_18446744073709551616", "res out of range"},
        {1006, "99999999999999999999999_0", "msgid out of range"},
        {1004, "1_{cna:0,eid:x}_0", "res is not a decimal number"},
        {1010, "1_0", "'{cna:' expected"},
        {1010, "1_{cna:4294967296,eid:x}_0", "cna out of range"},
        {1010, "1_{cna:-1,eid:x}_0", "cna is not a decimal number"},
        {1010, "1_{cna:1;eid:x}_0", "',eid:' expected"},
        {1010, "1_{cna:1,eid:x}", "'}_' expected after eid"},
        {1010, "1_{cna:1,eid:x}_", "res is not a decimal number"},
        {1010, "1_{cna:1,eid:x", "'}_' expected after eid"},
        {1010, "1_{cna:1,eid:x}_0}", "trailing characters"},
        {1010, "1_{cna:1,eid:a\x1b[2Jb}_0", "control character in eid"},
        {1010, "1_{cna:1,eid:0123456789012345678901234567890123456789}_0",
         "eid longer than 39 bytes"},
        {1003, "1_0", "not an answer id"},
        {1005, "1_0", "not an answer id"},
        {1128, "1_0", "not an answer id"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sentry_msg_helper_msg m = {.msgid = 99};
        const char *reason = NULL;
        int r = parse(bad[i].id, bad[i].text, &m, &reason);
        if (r != -EINVAL || !reason || strcmp(reason, bad[i].reason) != 0)
            fail_msg("%u \"%s\": %d, reason \"%s\", expected \"%s\"", bad[i].id, bad[i].text, r,
                     reason ? reason : "(none)", bad[i].reason);
        assert_int_equal(m.msgid, 99); /* untouched */
    }
}

static void test_nul_inside(void **state)
{
    struct sentry_msg_helper_msg m;
    const char *reason = NULL;
    static const char text[] = "1_0\0_5";

    assert_int_equal(smm_answer_parse(1004, text, sizeof(text) - 1, &m, &reason), -EINVAL);
    assert_string_equal(reason, "NUL inside the text");
    /* only len bytes are read */
    assert_int_equal(smm_answer_parse(1004, "1_23", 3, &m, &reason), 0);
    assert_int_equal(m.res, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_general),
        cmocka_unit_test(test_remote),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_nul_inside),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
