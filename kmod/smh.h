/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * smh.h - what the parts of sentry_msg_helper share.
 *
 * The switches and timeouts (defined in smh_main.c, shown and set in smh_proc.c), the notice
 * queue with its answers and counters (smh_queue.c), and each part's init and exit. The record
 * layout, message types and ioctls are the ABI in include/uapi/sentry_msg_helper.h.
 */
#ifndef SMH_H
#define SMH_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/types.h>
#include <linux/wait.h>

#include "uapi/sentry_msg_helper.h"

#define SMH_TIMEOUT_MS_MAX 3600000U /* every wait: 0 to one hour, as the reference */
#define SMH_QUEUE_LEN_MAX  4096U
#define SMH_CNA_MAX	   0xffffffU /* 24 bits, as the reference */
#define SMH_RESERVE_KB_MAX 262144U   /* the OOM reserve: at most 256 MiB */

/* The reclaim reasons of the reference's OOM notices (oom_info.reason, oom_rate_limit). */
enum smh_oom_reason {
	SMH_RR_KSWAPD = 0,
	SMH_RR_DIRECT_RECLAIM = 1, /* the only one this module sends: an allocation's own OOM */
	SMH_RR_HUGEPAGE_RECLAIM = 2,
	SMH_RR_COUNT = 3,
};

/* Switches and timeouts (ms): module parameters at load, /proc at run time. */
extern bool smh_power_off_on;
extern bool smh_oom_on;
extern bool smh_panic_on;
extern bool smh_kernel_reboot_on;
extern unsigned int smh_reboot_timeout_ms;
extern unsigned int smh_oom_timeout_ms;
extern unsigned int smh_panic_timeout_ms;
extern unsigned int smh_kernel_reboot_timeout_ms;
extern unsigned int smh_cna;
extern char smh_eid[SMH_EID_LEN]; /* always NUL-terminated; written under smh_config_mutex */
extern struct mutex smh_config_mutex;
extern u64 smh_boot_id; /* random per load: tells this boot's msgids from the last one's */

/* smh_main.c */
int smh_eid_set(const char *eid);

/*
 * A notifier waiting for the answer to its notice. It lives on the notifier's stack, on the
 * queue's list of waiters from smh_notice_post() to smh_notice_wait().
 */
struct smh_waiter {
	struct list_head node;
	u64 msgid;
	u64 deadline_ns; /* ktime_get_ns(): an answer after it gets ETIME */
	bool answered;
	unsigned long res;
};

/* Counters, shown in /sys/class/misc/sentry_msg_helper/stats/. */
struct smh_stats {
	atomic_long_t posted;		/* notices queued */
	atomic_long_t delivered;	/* notices read */
	atomic_long_t dropped_full;	/* notices not queued: the queue was full */
	atomic_long_t dropped_expired;	/* notices dropped unread: their deadline had passed */
	atomic_long_t answered;		/* answers taken in time */
	atomic_long_t answered_late;	/* answers refused with ETIME */
	atomic_long_t answers_unknown;	/* answers refused with ENOENT */
	atomic_long_t unanswered;	/* waits that ended without an answer */
	atomic_long_t oom_notices;	/* OOM notices sent */
	atomic_long_t oom_suppressed;	/* OOM calls with no notice: same episode, rate limit */
	atomic_long_t panic_notices;	/* panic notices sent (seen after a kdump) */
	atomic_long_t oom_reserve_lent; /* OOM notices that freed the page reserve */
};

extern struct smh_stats smh_stats;
extern wait_queue_head_t smh_read_wq;

/* smh_queue.c */
int smh_queue_init(unsigned int capacity);
void smh_queue_stop(void);
void smh_queue_exit(void);
u64 smh_next_msgid(void);
int smh_notice_post(struct sentry_msg_helper_msg *msg, struct smh_waiter *w);
bool smh_notice_wait(struct smh_waiter *w, unsigned int timeout_ms);
int smh_answer(u64 msgid, unsigned long res);
int smh_queue_peek(struct sentry_msg_helper_msg *msg);
void smh_queue_commit(u64 msgid);
bool smh_queue_nonempty(void);
unsigned int smh_queue_len(void);
unsigned int smh_queue_capacity(void);

/* smh_dev.c */
int smh_dev_init(void);
void smh_dev_exit(void);

/* smh_proc.c */
int smh_proc_init(void);
void smh_proc_exit(void);

/* smh_reboot.c */
int smh_reboot_init(void);
void smh_reboot_exit(void);

/* smh_oom.c */
int smh_oom_init(const char *rate_limit);
void smh_oom_exit(void);
int smh_oom_rate_limit_set(const char *spec);
int smh_oom_rate_limit_show(char *buf, size_t size);

/* smh_reserve.c */
void smh_reserve_init(unsigned int kb);
void smh_reserve_exit(void);
unsigned long smh_reserve_lend(void);
void smh_reserve_refill_later(void);
unsigned long smh_reserve_pages(void);

/* smh_panic.c */
int smh_panic_init(const char *targets, unsigned int ack_port, unsigned int ack_baud);
void smh_panic_exit(void);
int smh_panic_targets_set(const char *spec);
int smh_panic_targets_show(char *buf, size_t size);
void smh_panic_check_enable(void);

/* smh_inject.c */
void smh_inject_init(void);
void smh_inject_exit(void);

#endif /* SMH_H */
