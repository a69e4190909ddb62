/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * sentry_msg_helper.h - the ABI of /dev/sentry_msg_helper, shared by sentry's kernel module
 * (kmod/sentry_msg_helper) and its reader (plugins/sentry_msg_monitor).
 *
 * It is the ABI of openEuler's sysSentry driver of the same name, so that its user-space tools
 * and sentry's work with either module: the record layout, the message type numbers, the ioctl
 * numbers and the version (1.6) are that driver's. A read() returns one record; an answer is
 * the record written back through SMH_MSG_ACK with its msgid and res.
 */
#ifndef _UAPI_SENTRY_MSG_HELPER_H
#define _UAPI_SENTRY_MSG_HELPER_H

#ifdef __KERNEL__
#include <linux/ioctl.h>
#include <linux/types.h>
#else
#include <stdint.h>
#include <sys/ioctl.h>
#endif

#define SMH_DEVICE_NAME   "sentry_msg_helper"
#define SMH_VERSION_MAJOR 1
#define SMH_VERSION_MINOR 6 /* the kinds of notice: panic, reboot, power-off, oom, mem err, link */

#define SMH_NUMA_NODES_MAX 8
#define SMH_EID_LEN        40 /* 39 characters and the NUL */

/* Message types; the values are the ABI. */
enum sentry_msg_helper_msg_type {
	SMH_MESSAGE_POWER_OFF = 0,	/* power-off / reset / halt of this node: answer to go on */
	SMH_MESSAGE_OOM = 1,		/* out of memory: the answer's res is pages freed */
	SMH_MESSAGE_PANIC = 2,		/* a (remote) node panics */
	SMH_MESSAGE_KERNEL_REBOOT = 3,	/* a (remote) node's kernel reboots */
	SMH_MESSAGE_UB_MEM_ERR = 4,	/* a fault in shared memory at a physical address */
	SMH_MESSAGE_PANIC_ACK = 5,
	SMH_MESSAGE_KERNEL_REBOOT_ACK = 6,
	SMH_MESSAGE_HEARTBEAT = 7,
	SMH_MESSAGE_HEARTBEAT_ACK = 8,
	SMH_MESSAGE_LINK_EVENT = 9,	/* a link of the memory fabric went up or down */
	SMH_MESSAGE_UNKNOWN = 10,
};

/* The memory fault kinds of the bus driver, as its records carry them (ABI). */
enum smh_raw_mem_err {
	SMH_RAW_ATOMIC_DATA_ERR = 0,
	SMH_RAW_READ_DATA_ERR = 1,
	SMH_RAW_FLOW_POISON = 2,
	SMH_RAW_FLOW_READ_AUTH_POISON = 3,
	SMH_RAW_FLOW_READ_AUTH_RESPERR = 4,
	SMH_RAW_TIMEOUT_POISON = 5,
	SMH_RAW_TIMEOUT_RESPERR = 6,
	SMH_RAW_READ_DATA_POISON = 7,
	SMH_RAW_READ_DATA_RESPERR = 8,
	SMH_RAW_NOPORT_VLD_INT_ERR = 9,
	SMH_RAW_FLUX_INT_ERR = 10,
	SMH_RAW_WITHOUT_CXT_ERR = 11,
	SMH_RAW_RSP_BKPRE_OVER_TIMEOUT_ERR = 12,
	SMH_RAW_NEAR_AUTH_FAIL_ERR = 13,
	SMH_RAW_FAR_AUTH_FAIL_ERR = 14,
	SMH_RAW_TIMEOUT_ERR = 15,
	SMH_RAW_ILLEGAL_ACCESS_ERR = 16,
	SMH_RAW_REMOTE_READ_OR_WRITE_RESPONSE_ERR = 17,
};

/* One notice, as read() returns it and as SMH_MSG_ACK takes it back (88 bytes on LP64). */
struct sentry_msg_helper_msg {
	enum sentry_msg_helper_msg_type type;
	uint64_t msgid;			/* unique per notice; the answer names it */
	uint64_t start_send_time;	/* ktime_get_ns() when the kernel queued it */
	uint64_t timeout_time;		/* ms the kernel waits for the answer from then */
	union {
		struct {
			int nr_nid;	/* nodes in nid[] */
			int nid[SMH_NUMA_NODES_MAX];
			int sync;	/* the allocation waits for the answer */
			int timeout;	/* ms */
			int reason;
		} oom_info;
		struct {
			uint32_t cna;
			char eid[SMH_EID_LEN];
		} remote_info;
		struct {
			uint64_t pa;	/* physical address of the fault */
			int mem_type;
			int fault_with_kill;
			enum smh_raw_mem_err raw_ubus_mem_err_type;
		} ub_mem_info;
		struct {
			uint16_t port_id;
			uint32_t scna;
			int link_event; /* 1 up, 0 down */
		} link_info;
	} helper_msg_info;
	unsigned long res;		/* in an answer: the result (OOM: pages freed) */
};

struct smh_version_info {
	uint32_t major;
	uint32_t minor;
};

#define SMH_IOCTL_MAGIC   '}'
#define SMH_MSG_ACK       _IO(SMH_IOCTL_MAGIC, 0x10)
#define SMH_VERSION_CHECK _IOR(SMH_IOCTL_MAGIC, 0x11, struct smh_version_info)

#endif /* _UAPI_SENTRY_MSG_HELPER_H */
