/* smm_notice.c: notices as alarms (see smm_notice.h). Everything is printed with snprintf into
 * the caller's buffer; the 1013 JSON holds only numbers and a hex string, so it is printed
 * directly in json-c's default layout (the reference's bytes) instead of building a json-c
 * object, which would allocate while the node may be out of memory. A unit test pins the text
 * to json-c's own output. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "sentry/alarm_ids.h"
#include "smm_notice.h"

static_assert(sizeof(struct sentry_msg_helper_msg) == 88, "the ABI's record is 88 bytes");

static const char *const notice_type_table[] = {
    [SMH_MESSAGE_POWER_OFF] = "POWER_OFF",
    [SMH_MESSAGE_OOM] = "OOM",
    [SMH_MESSAGE_PANIC] = "PANIC",
    [SMH_MESSAGE_KERNEL_REBOOT] = "KERNEL_REBOOT",
    [SMH_MESSAGE_UB_MEM_ERR] = "UB_MEM_ERR",
    [SMH_MESSAGE_PANIC_ACK] = "PANIC_ACK",
    [SMH_MESSAGE_KERNEL_REBOOT_ACK] = "KERNEL_REBOOT_ACK",
    [SMH_MESSAGE_HEARTBEAT] = "HEARTBEAT",
    [SMH_MESSAGE_HEARTBEAT_ACK] = "HEARTBEAT_ACK",
    [SMH_MESSAGE_LINK_EVENT] = "LINK_EVENT",
    [SMH_MESSAGE_UNKNOWN] = "UNKNOWN",
};

const char *smm_notice_type_to_string(int type)
{
    return type >= 0 && (size_t) type < ELEMENTSOF(notice_type_table) ? notice_type_table[type]
                                                                      : NULL;
}

/* The reference's mapping of the bus driver's error kinds. */
static const int mem_err_table[] = {
    [SMH_RAW_ATOMIC_DATA_ERR] = SMM_MEM_ERR_ROUTE,
    [SMH_RAW_READ_DATA_ERR] = SMM_MEM_ERR_UCE,
    [SMH_RAW_FLOW_POISON] = SMM_MEM_ERR_UCE,
    [SMH_RAW_FLOW_READ_AUTH_POISON] = SMM_MEM_ERR_INBOUND_TRANSLATION,
    [SMH_RAW_FLOW_READ_AUTH_RESPERR] = SMM_MEM_ERR_INBOUND_TRANSLATION,
    [SMH_RAW_TIMEOUT_POISON] = SMM_MEM_ERR_TIMEOUT,
    [SMH_RAW_TIMEOUT_RESPERR] = SMM_MEM_ERR_TIMEOUT,
    [SMH_RAW_READ_DATA_POISON] = SMM_MEM_ERR_UCE,
    [SMH_RAW_READ_DATA_RESPERR] = SMM_MEM_ERR_UCE,
    [SMH_RAW_NOPORT_VLD_INT_ERR] = SMM_MEM_ERR_FLUX_INT,
    [SMH_RAW_FLUX_INT_ERR] = SMM_MEM_ERR_NO_REPORT,
    [SMH_RAW_WITHOUT_CXT_ERR] = SMM_MEM_ERR_NO_REPORT,
    /* The reference has no mapping for it: refused as unknown, as there. */
    [SMH_RAW_RSP_BKPRE_OVER_TIMEOUT_ERR] = -EINVAL,
    [SMH_RAW_NEAR_AUTH_FAIL_ERR] = SMM_MEM_ERR_OUTBOUND_TRANSLATION,
    [SMH_RAW_FAR_AUTH_FAIL_ERR] = SMM_MEM_ERR_INBOUND_TRANSLATION,
    [SMH_RAW_TIMEOUT_ERR] = SMM_MEM_ERR_TIMEOUT,
    [SMH_RAW_ILLEGAL_ACCESS_ERR] = SMM_MEM_ERR_BUS,
    [SMH_RAW_REMOTE_READ_OR_WRITE_RESPONSE_ERR] = SMM_MEM_ERR_UCE,
};

int smm_mem_err_from_raw(int raw)
{
    return raw >= 0 && (size_t) raw < ELEMENTSOF(mem_err_table) ? mem_err_table[raw] : -EINVAL;
}

/* snprintf's result as 0 / -EMSGSIZE, with the length. */
static int text_done(int n, size_t size, size_t *ret_len)
{
    if (n < 0 || (size_t) n >= size)
        return -EMSGSIZE;
    *ret_len = (size_t) n;
    return 0;
}

static int format_oom(const struct sentry_msg_helper_msg *m, char *text, size_t *ret_len)
{
    const int *nid = m->helper_msg_info.oom_info.nid;

    /* All eight entries, whatever nr_nid says: the reference's text. */
    static_assert(SMH_NUMA_NODES_MAX == 8, "the text lists eight nodes");
    int n = snprintf(text, SMM_TEXT_MAX,
                     "%" PRIu64 "_{nr_nid:%d,nid:[%d,%d,%d,%d,%d,%d,%d,%d],sync:%d,timeout:%d,"
                     "reason:%d}",
                     m->msgid, m->helper_msg_info.oom_info.nr_nid, nid[0], nid[1], nid[2], nid[3],
                     nid[4], nid[5], nid[6], nid[7], m->helper_msg_info.oom_info.sync,
                     m->helper_msg_info.oom_info.timeout, m->helper_msg_info.oom_info.reason);
    return text_done(n, SMM_TEXT_MAX, ret_len);
}

static int format_remote(const struct sentry_msg_helper_msg *m, char *text, size_t *ret_len)
{
    /* The kernel's eid may lack its NUL: at most its 39 characters. */
    int eid_len = (int) strnlen(m->helper_msg_info.remote_info.eid, SMH_EID_LEN - 1);
    int n =
        snprintf(text, SMM_TEXT_MAX, "%" PRIu64 "_{cna:%" PRIu32 ",eid:%.*s}", m->msgid,
                 m->helper_msg_info.remote_info.cna, eid_len, m->helper_msg_info.remote_info.eid);
    return text_done(n, SMM_TEXT_MAX, ret_len);
}

/* The 1013 JSON; r adds who was told by the SIGBUS search (NULL: no search). */
static int format_ub_mem(const struct sentry_msg_helper_msg *m, const struct smm_sigbus_result *r,
                         char *text, size_t *ret_len)
{
    int raw = (int) m->helper_msg_info.ub_mem_info.raw_ubus_mem_err_type;
    int type = smm_mem_err_from_raw(raw);
    size_t len = 0, more = 0;
    int k;

    if (type == SMM_MEM_ERR_NO_REPORT)
        return -ENOMSG;
    if (type < 0)
        return -EBADMSG;
    /* json-c's json_object_to_json_string() layout, keys in the reference's order. */
    k = snprintf(text, SMM_TEXT_MAX,
                 "{ \"msgid\": %" PRIu64 ", \"sentry_ubus_mem_err_type\": %d, "
                 "\"raw_ubus_mem_err_type\": %d, \"pa\": \"0x%" PRIx64 "\", \"memid\": %d",
                 m->msgid, type, raw, m->helper_msg_info.ub_mem_info.pa,
                 r ? r->memid : SMM_MEMID_UNKNOWN);
    if (text_done(k, SMM_TEXT_MAX, &len) < 0)
        return -EMSGSIZE;
    if (r && smm_sigbus_result_format(r, text + len, SMM_TEXT_MAX - len, &more) < 0)
        return -EMSGSIZE;
    len += more;
    k = snprintf(text + len, SMM_TEXT_MAX - len, " }");
    if (text_done(k, SMM_TEXT_MAX - len, &more) < 0)
        return -EMSGSIZE;
    *ret_len = len + more;
    return 0;
}

bool smm_notice_wants_sigbus(const struct sentry_msg_helper_msg *m)
{
    return m->type == SMH_MESSAGE_UB_MEM_ERR &&
           m->helper_msg_info.ub_mem_info.mem_type == SMM_MEM_TYPE_FD_MODE &&
           m->helper_msg_info.ub_mem_info.fault_with_kill != 0;
}

int smm_notice_ub_mem_to_alarm(const struct sentry_msg_helper_msg *m,
                               const struct smm_sigbus_result *r, char text[SMM_TEXT_MAX],
                               size_t *ret_len)
{
    assert_return(m && r && text && ret_len, -EINVAL);
    assert_return(m->type == SMH_MESSAGE_UB_MEM_ERR, -EINVAL);
    return format_ub_mem(m, r, text, ret_len);
}

static int format_link(const struct sentry_msg_helper_msg *m, char *text, size_t *ret_len)
{
    int event = m->helper_msg_info.link_info.link_event;

    if (event != 0 && event != 1)
        return -EBADMSG;
    int n = snprintf(text, SMM_TEXT_MAX, "%" PRIu64 "_{port_id:%u,scna:%" PRIu32 ",event:%s}",
                     m->msgid, (unsigned) m->helper_msg_info.link_info.port_id,
                     m->helper_msg_info.link_info.scna, event ? "up" : "down");
    return text_done(n, SMM_TEXT_MAX, ret_len);
}

int smm_notice_to_alarm(const struct sentry_msg_helper_msg *m, unsigned short *ret_id,
                        char text[SMM_TEXT_MAX], size_t *ret_len)
{
    unsigned short id;
    size_t len = 0;
    int r;

    switch ((int) m->type) {
    case SMH_MESSAGE_POWER_OFF:
        id = SENTRY_ALARM_ID_POWER_OFF;
        r = text_done(snprintf(text, SMM_TEXT_MAX, "%" PRIu64, m->msgid), SMM_TEXT_MAX, &len);
        break;
    case SMH_MESSAGE_OOM:
        id = SENTRY_ALARM_ID_OOM;
        r = format_oom(m, text, &len);
        break;
    case SMH_MESSAGE_PANIC:
        id = SENTRY_ALARM_ID_PANIC;
        r = format_remote(m, text, &len);
        break;
    case SMH_MESSAGE_KERNEL_REBOOT:
        id = SENTRY_ALARM_ID_KERNEL_REBOOT;
        r = format_remote(m, text, &len);
        break;
    case SMH_MESSAGE_UB_MEM_ERR:
        id = SENTRY_ALARM_ID_SHARED_MEMORY_FAULT;
        r = format_ub_mem(m, NULL, text, &len);
        break;
    case SMH_MESSAGE_LINK_EVENT:
        id = SENTRY_ALARM_ID_LINK_EVENT;
        r = format_link(m, text, &len);
        break;
    case SMH_MESSAGE_PANIC_ACK:
    case SMH_MESSAGE_KERNEL_REBOOT_ACK:
    case SMH_MESSAGE_HEARTBEAT:
    case SMH_MESSAGE_HEARTBEAT_ACK:
        /* Traffic between nodes in the reference's module, no request of this node. */
        return -ENOMSG;
    default:
        return -EBADMSG;
    }
    if (r < 0)
        return r;
    *ret_id = id;
    *ret_len = len;
    return 0;
}
