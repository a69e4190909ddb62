/* smm_notice.h: a notice of /dev/sentry_msg_helper turned into the alarm that carries it, with
 * the reference's alarm ids and texts (docs/plugins/sentry_msg_monitor.md):
 *
 *   POWER_OFF      1003  msgid
 *   OOM            1005  msgid_{nr_nid:N,nid:[a,b,c,d,e,f,g,h],sync:S,timeout:T,reason:R}
 *   PANIC          1007  msgid_{cna:C,eid:E}
 *   KERNEL_REBOOT  1009  msgid_{cna:C,eid:E}
 *   UB_MEM_ERR     1013  { "msgid": ..., "sentry_ubus_mem_err_type": ..., ... } (json-c's text;
 *                        after a SIGBUS search also "pids", "vaddrs", "signalled", "truncated")
 *   LINK_EVENT     1016  msgid_{port_id:P,scna:S,event:up|down}
 *
 * Pure functions into a caller's buffer: no allocation, so the sender can run them while the
 * node is out of memory. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "sentry_msg_helper.h"
#include "smm_sigbus.h"

/* Room for an alarm text and its NUL: the reference's limit. */
#define SMM_TEXT_MAX 1024

/* What a UB memory fault is to the pool manager (the reference's sentry_ubus_mem_err_type). */
enum smm_mem_err {
    SMM_MEM_ERR_ROUTE = 0,
    SMM_MEM_ERR_FLUX_INT = 1,
    SMM_MEM_ERR_OUTBOUND_TRANSLATION = 2,
    SMM_MEM_ERR_INBOUND_TRANSLATION = 3,
    SMM_MEM_ERR_TIMEOUT = 4,
    SMM_MEM_ERR_BUS = 5,
    SMM_MEM_ERR_UCE = 6,
    SMM_MEM_ERR_NO_REPORT = 1000, /* logged, no alarm */
};

/* The sentry type of a raw bus error; -EINVAL for a value the ABI does not know. */
int smm_mem_err_from_raw(int raw);

/* "POWER_OFF", "OOM", ... for the message types of the ABI; NULL otherwise. */
const char *smm_notice_type_to_string(int type);

/* The alarm of notice m: its id in *ret_id and its text in text (NUL-terminated, *ret_len bytes
 * before the NUL). -ENOMSG: a notice the reference only logs (a UB memory fault of kind
 * FLUX_INT_ERR or WITHOUT_CXT_ERR, or an ack/heartbeat type that is no request); -EBADMSG: a
 * value outside the ABI (type, raw memory error, link event); -EMSGSIZE: the text would not fit
 * (cannot happen with the ABI's field sizes). */
int smm_notice_to_alarm(const struct sentry_msg_helper_msg *m, unsigned short *ret_id,
                        char text[SMM_TEXT_MAX], size_t *ret_len);

/* The reference's FD_MODE: memory mmap'ed from a shared memory device, which the kernel's own
 * memory-failure path does not reach. */
#define SMM_MEM_TYPE_FD_MODE 0

/* Whether UB_MEM_ERR notice m asks for SIGBUS to the users of its address: fd mode with
 * fault_with_kill set, as the reference. */
bool smm_notice_wants_sigbus(const struct sentry_msg_helper_msg *m);

/* The 1013 alarm of UB_MEM_ERR notice m after the SIGBUS search r (smm_sigbus_deliver()): r's
 * memid, and who was told. Returns as smm_notice_to_alarm(); -EINVAL for another type. */
int smm_notice_ub_mem_to_alarm(const struct sentry_msg_helper_msg *m,
                               const struct smm_sigbus_result *r, char text[SMM_TEXT_MAX],
                               size_t *ret_len);
