/* test_smm_sigbus_text: who was told, in the 1013 alarm and the one-shot output, byte for byte
 * what json-c writes for the same object; the worst case (every field at its widest, every
 * listed slot used) fits the reference's 1023 bytes; which notices ask for SIGBUS. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "smm_notice.h"

/* json-c's text of the 1013 object with the result's members. */
static void json_c_text(const struct sentry_msg_helper_msg *m, int type,
                        const struct smm_sigbus_result *r, char *out, size_t size)
{
    json_object *o = json_object_new_object();
    json_object *pids = json_object_new_array();
    json_object *vaddrs = json_object_new_array();
    char pa[32];

    snprintf(pa, sizeof(pa), "0x%" PRIx64, m->helper_msg_info.ub_mem_info.pa);
    json_object_object_add(o, "msgid", json_object_new_uint64(m->msgid));
    json_object_object_add(o, "sentry_ubus_mem_err_type", json_object_new_int(type));
    json_object_object_add(
        o, "raw_ubus_mem_err_type",
        json_object_new_int((int) m->helper_msg_info.ub_mem_info.raw_ubus_mem_err_type));
    json_object_object_add(o, "pa", json_object_new_string(pa));
    json_object_object_add(o, "memid", json_object_new_int64(r->memid));
    for (unsigned i = 0; i < r->n_listed; i++) {
        char v[32];

        snprintf(v, sizeof(v), "0x%" PRIx64, r->hits[i].vaddr);
        json_object_array_add(pids, json_object_new_int(r->hits[i].pid));
        json_object_array_add(vaddrs, json_object_new_string(v));
    }
    json_object_object_add(o, "pids", pids);
    json_object_object_add(o, "vaddrs", vaddrs);
    json_object_object_add(o, "signalled", json_object_new_int64(r->n_signalled));
    json_object_object_add(o, "truncated",
                           json_object_new_boolean(r->n_signalled > r->n_listed || r->stopped));
    snprintf(out, size, "%s", json_object_to_json_string(o));
    json_object_put(o);
}

static struct sentry_msg_helper_msg ub_mem(uint64_t msgid, uint64_t pa)
{
    struct sentry_msg_helper_msg m = {.type = SMH_MESSAGE_UB_MEM_ERR, .msgid = msgid};

    m.helper_msg_info.ub_mem_info.pa = pa;
    m.helper_msg_info.ub_mem_info.mem_type = SMM_MEM_TYPE_FD_MODE;
    m.helper_msg_info.ub_mem_info.fault_with_kill = 1;
    m.helper_msg_info.ub_mem_info.raw_ubus_mem_err_type = SMH_RAW_READ_DATA_ERR;
    return m;
}

static void expect_json_c(const struct sentry_msg_helper_msg *m, const struct smm_sigbus_result *r)
{
    char text[SMM_TEXT_MAX], want[4096];
    size_t len = 0;

    assert_int_equal(smm_notice_ub_mem_to_alarm(m, r, text, &len), 0);
    json_c_text(m, SMM_MEM_ERR_UCE, r, want, sizeof(want));
    assert_string_equal(text, want);
    assert_int_equal(len, strlen(want));
}

static void test_nobody_told(void **state)
{
    struct sentry_msg_helper_msg m = ub_mem(5, 0x1000);
    struct smm_sigbus_result r = {.memid = SMM_MEMID_UNKNOWN};
    char text[SMM_TEXT_MAX];
    size_t len;

    expect_json_c(&m, &r);
    assert_int_equal(smm_notice_ub_mem_to_alarm(&m, &r, text, &len), 0);
    assert_string_equal(text, "{ \"msgid\": 5, \"sentry_ubus_mem_err_type\": 6, "
                              "\"raw_ubus_mem_err_type\": 1, \"pa\": \"0x1000\", \"memid\": -1, "
                              "\"pids\": [ ], \"vaddrs\": [ ], \"signalled\": 0, "
                              "\"truncated\": false }");
}

static void test_some_told(void **state)
{
    struct sentry_msg_helper_msg m = ub_mem(6, 0x12106e123);
    struct smm_sigbus_result r = {.memid = 3, .n_signalled = 2, .n_listed = 2};

    r.hits[0] = (struct smm_sigbus_hit){.pid = 14888, .vaddr = 0x7f1448723123};
    r.hits[1] = (struct smm_sigbus_hit){.pid = 2, .vaddr = 0x123};
    expect_json_c(&m, &r);
}

static void test_widest_fits(void **state)
{
    struct sentry_msg_helper_msg m = ub_mem(UINT64_MAX, UINT64_MAX);
    struct smm_sigbus_result r = {
        .memid = INT32_MIN, .n_signalled = UINT32_MAX, .n_listed = SMM_SIGBUS_LISTED_MAX};

    /* raw kinds are small numbers; the widest in the table */
    m.helper_msg_info.ub_mem_info.raw_ubus_mem_err_type = SMH_RAW_REMOTE_READ_OR_WRITE_RESPONSE_ERR;
    for (unsigned i = 0; i < SMM_SIGBUS_LISTED_MAX; i++)
        r.hits[i] = (struct smm_sigbus_hit){.pid = INT32_MAX, .vaddr = UINT64_MAX};
    char text[SMM_TEXT_MAX], want[4096];
    size_t len = 0;

    assert_int_equal(smm_notice_ub_mem_to_alarm(&m, &r, text, &len), 0);
    json_c_text(&m, SMM_MEM_ERR_UCE, &r, want, sizeof(want));
    assert_string_equal(text, want);
    assert_non_null(strstr(text, "\"truncated\": true }"));
}

static void test_members_alone(void **state)
{
    struct smm_sigbus_result r = {.memid = 1, .n_signalled = 1, .n_listed = 1, .stopped = true};
    char buf[256], small[40];
    size_t len;

    r.hits[0] = (struct smm_sigbus_hit){.pid = 7, .vaddr = 0xabc};
    assert_int_equal(smm_sigbus_result_format(&r, buf, sizeof(buf), &len), 0);
    assert_string_equal(buf, ", \"pids\": [ 7 ], \"vaddrs\": [ \"0xabc\" ], \"signalled\": 1, "
                             "\"truncated\": true");
    assert_int_equal(len, strlen(buf));
    assert_int_equal(smm_sigbus_result_format(&r, small, sizeof(small), &len), -EMSGSIZE);
    assert_int_equal(smm_sigbus_result_format(&r, small, 0, &len), -EMSGSIZE);
}

static void test_who_asks_for_sigbus(void **state)
{
    struct sentry_msg_helper_msg m = ub_mem(1, 0x1000);
    struct smm_sigbus_result r = {};
    char text[SMM_TEXT_MAX];
    size_t len;

    assert_true(smm_notice_wants_sigbus(&m));
    m.helper_msg_info.ub_mem_info.fault_with_kill = 0;
    assert_false(smm_notice_wants_sigbus(&m));
    m.helper_msg_info.ub_mem_info.fault_with_kill = 2;
    assert_true(smm_notice_wants_sigbus(&m));
    m.helper_msg_info.ub_mem_info.mem_type = 1;
    assert_false(smm_notice_wants_sigbus(&m));
    m = ub_mem(1, 0x1000);
    m.type = SMH_MESSAGE_OOM;
    assert_false(smm_notice_wants_sigbus(&m));
    assert_int_equal(smm_notice_ub_mem_to_alarm(&m, &r, text, &len), -EINVAL);
    /* kinds the reference only logs stay unreported after a search too */
    m = ub_mem(1, 0x1000);
    m.helper_msg_info.ub_mem_info.raw_ubus_mem_err_type = SMH_RAW_FLUX_INT_ERR;
    assert_int_equal(smm_notice_ub_mem_to_alarm(&m, &r, text, &len), -ENOMSG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nobody_told),         cmocka_unit_test(test_some_told),
        cmocka_unit_test(test_widest_fits),         cmocka_unit_test(test_members_alone),
        cmocka_unit_test(test_who_asks_for_sigbus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
