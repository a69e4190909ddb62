/* test_smm_notice: every kind of notice becomes the reference's alarm id and exact text; the
 * 1013 JSON is byte for byte what json-c writes for the same object; values outside the ABI and
 * the kinds the reference only logs give no alarm. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "smm_notice.h"

static void expect_alarm(const struct sentry_msg_helper_msg *m, unsigned id, const char *text)
{
    char buf[SMM_TEXT_MAX];
    unsigned short got_id = 0;
    size_t len = 0;

    assert_int_equal(smm_notice_to_alarm(m, &got_id, buf, &len), 0);
    assert_int_equal(got_id, id);
    assert_string_equal(buf, text);
    assert_int_equal(len, strlen(text));
}

static void test_power_off(void **state)
{
    struct sentry_msg_helper_msg m = {.type = SMH_MESSAGE_POWER_OFF, .msgid = 42};
    expect_alarm(&m, 1003, "42");
    m.msgid = UINT64_MAX;
    expect_alarm(&m, 1003, "18446744073709551615");
}

static void test_oom_lists_eight_nodes(void **state)
{
    struct sentry_msg_helper_msg m = {.type = SMH_MESSAGE_OOM, .msgid = 7};
    m.helper_msg_info.oom_info.nr_nid = 2;
    m.helper_msg_info.oom_info.nid[0] = 0;
    m.helper_msg_info.oom_info.nid[1] = 3;
    m.helper_msg_info.oom_info.sync = 1;
    m.helper_msg_info.oom_info.timeout = 30000;
    m.helper_msg_info.oom_info.reason = 1;
    expect_alarm(&m, 1005, "7_{nr_nid:2,nid:[0,3,0,0,0,0,0,0],sync:1,timeout:30000,reason:1}");
    m.helper_msg_info.oom_info.nid[7] = -1;
    m.helper_msg_info.oom_info.timeout = -5;
    expect_alarm(&m, 1005, "7_{nr_nid:2,nid:[0,3,0,0,0,0,0,-1],sync:1,timeout:-5,reason:1}");
}

static void test_panic_and_reboot(void **state)
{
    struct sentry_msg_helper_msg m = {.type = SMH_MESSAGE_PANIC, .msgid = 9};
    m.helper_msg_info.remote_info.cna = 16777215;
    strcpy(m.helper_msg_info.remote_info.eid, "node-1:a.b_c");
    expect_alarm(&m, 1007, "9_{cna:16777215,eid:node-1:a.b_c}");
    m.type = SMH_MESSAGE_KERNEL_REBOOT;
    expect_alarm(&m, 1009, "9_{cna:16777215,eid:node-1:a.b_c}");
    /* the module's default: no eid */
    memset(m.helper_msg_info.remote_info.eid, 0, SMH_EID_LEN);
    m.helper_msg_info.remote_info.cna = 0;
    expect_alarm(&m, 1009, "9_{cna:0,eid:}");
}

static void test_eid_without_nul(void **state)
{
    struct sentry_msg_helper_msg m = {.type = SMH_MESSAGE_KERNEL_REBOOT, .msgid = 1};
    memset(m.helper_msg_info.remote_info.eid, 'e', SMH_EID_LEN);
    char want[128];
    snprintf(want, sizeof(want), "1_{cna:0,eid:%.*s}", SMH_EID_LEN - 1,
             m.helper_msg_info.remote_info.eid);
    expect_alarm(&m, 1009, want);
}

/* json-c's default serialization of the reference's object. */
static void json_c_text(uint64_t msgid, int type, int raw, const char *pa, int memid, char *out,
                        size_t size)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "msgid", json_object_new_int64((int64_t) msgid));
    json_object_object_add(o, "sentry_ubus_mem_err_type", json_object_new_int(type));
    json_object_object_add(o, "raw_ubus_mem_err_type", json_object_new_int(raw));
    json_object_object_add(o, "pa", json_object_new_string(pa));
    json_object_object_add(o, "memid", json_object_new_int64(memid));
    snprintf(out, size, "%s", json_object_to_json_string(o));
    json_object_put(o);
}

static void test_ub_mem_err_json(void **state)
{
    struct sentry_msg_helper_msg m = {.type = SMH_MESSAGE_UB_MEM_ERR, .msgid = 123};
    char want[SMM_TEXT_MAX];

    m.helper_msg_info.ub_mem_info.pa = 0x12345678;
    m.helper_msg_info.ub_mem_info.raw_ubus_mem_err_type = SMH_RAW_READ_DATA_ERR;
    json_c_text(123, SMM_MEM_ERR_UCE, SMH_RAW_READ_DATA_ERR, "0x12345678", -1, want, sizeof(want));
    expect_alarm(&m, 1013, want);
    assert_string_equal(want, "{ \"msgid\": 123, \"sentry_ubus_mem_err_type\": 6, "
                              "\"raw_ubus_mem_err_type\": 1, \"pa\": \"0x12345678\", "
                              "\"memid\": -1 }");

    m.helper_msg_info.ub_mem_info.pa = UINT64_MAX;
    m.helper_msg_info.ub_mem_info.raw_ubus_mem_err_type = SMH_RAW_ILLEGAL_ACCESS_ERR;
    json_c_text(123, SMM_MEM_ERR_BUS, SMH_RAW_ILLEGAL_ACCESS_ERR, "0xffffffffffffffff", -1, want,
                sizeof(want));
    expect_alarm(&m, 1013, want);
}

static void test_mem_err_table(void **state)
{
    static const int want[] = {
        SMM_MEM_ERR_ROUTE,
        SMM_MEM_ERR_UCE,
        SMM_MEM_ERR_UCE,
        SMM_MEM_ERR_INBOUND_TRANSLATION,
        SMM_MEM_ERR_INBOUND_TRANSLATION,
        SMM_MEM_ERR_TIMEOUT,
        SMM_MEM_ERR_TIMEOUT,
        SMM_MEM_ERR_UCE,
        SMM_MEM_ERR_UCE,
        SMM_MEM_ERR_FLUX_INT,
        SMM_MEM_ERR_NO_REPORT,
        SMM_MEM_ERR_NO_REPORT,
        -EINVAL,
        SMM_MEM_ERR_OUTBOUND_TRANSLATION,
        SMM_MEM_ERR_INBOUND_TRANSLATION,
        SMM_MEM_ERR_TIMEOUT,
        SMM_MEM_ERR_BUS,
        SMM_MEM_ERR_UCE,
    };
    for (int raw = 0; raw < (int) (sizeof(want) / sizeof(want[0])); raw++)
        assert_int_equal(smm_mem_err_from_raw(raw), want[raw]);
    assert_int_equal(smm_mem_err_from_raw(18), -EINVAL);
    assert_int_equal(smm_mem_err_from_raw(-1), -EINVAL);
}

static void test_not_reported(void **state)
{
    struct sentry_msg_helper_msg m = {.type = SMH_MESSAGE_UB_MEM_ERR, .msgid = 1};
    char buf[SMM_TEXT_MAX];
    unsigned short id = 0;
    size_t len = 0;

    m.helper_msg_info.ub_mem_info.raw_ubus_mem_err_type = SMH_RAW_FLUX_INT_ERR;
    assert_int_equal(smm_notice_to_alarm(&m, &id, buf, &len), -ENOMSG);
    m.helper_msg_info.ub_mem_info.raw_ubus_mem_err_type = SMH_RAW_WITHOUT_CXT_ERR;
    assert_int_equal(smm_notice_to_alarm(&m, &id, buf, &len), -ENOMSG);
    m.helper_msg_info.ub_mem_info.raw_ubus_mem_err_type = (enum smh_raw_mem_err) 99;
    assert_int_equal(smm_notice_to_alarm(&m, &id, buf, &len), -EBADMSG);
    m.type = SMH_MESSAGE_HEARTBEAT;
    assert_int_equal(smm_notice_to_alarm(&m, &id, buf, &len), -ENOMSG);
    m.type = SMH_MESSAGE_UNKNOWN;
    assert_int_equal(smm_notice_to_alarm(&m, &id, buf, &len), -EBADMSG);
    m.type = (enum sentry_msg_helper_msg_type) - 1;
    assert_int_equal(smm_notice_to_alarm(&m, &id, buf, &len), -EBADMSG);
    assert_int_equal(id, 0);
}

static void test_link_event(void **state)
{
    struct sentry_msg_helper_msg m = {.type = SMH_MESSAGE_LINK_EVENT, .msgid = 5};
    char buf[SMM_TEXT_MAX];
    unsigned short id;
    size_t len;

    m.helper_msg_info.link_info.port_id = 65535;
    m.helper_msg_info.link_info.scna = 4294967295u;
    m.helper_msg_info.link_info.link_event = 1;
    expect_alarm(&m, 1016, "5_{port_id:65535,scna:4294967295,event:up}");
    m.helper_msg_info.link_info.port_id = 3;
    m.helper_msg_info.link_info.scna = 17;
    m.helper_msg_info.link_info.link_event = 0;
    expect_alarm(&m, 1016, "5_{port_id:3,scna:17,event:down}");
    m.helper_msg_info.link_info.link_event = 2;
    assert_int_equal(smm_notice_to_alarm(&m, &id, buf, &len), -EBADMSG);
}

static void test_type_names(void **state)
{
    assert_string_equal(smm_notice_type_to_string(SMH_MESSAGE_OOM), "OOM");
    assert_string_equal(smm_notice_type_to_string(SMH_MESSAGE_LINK_EVENT), "LINK_EVENT");
    assert_null(smm_notice_type_to_string(11));
    assert_null(smm_notice_type_to_string(-1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_power_off),        cmocka_unit_test(test_oom_lists_eight_nodes),
        cmocka_unit_test(test_panic_and_reboot), cmocka_unit_test(test_eid_without_nul),
        cmocka_unit_test(test_ub_mem_err_json),  cmocka_unit_test(test_mem_err_table),
        cmocka_unit_test(test_not_reported),     cmocka_unit_test(test_link_event),
        cmocka_unit_test(test_type_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
