// SPDX-License-Identifier: GPL-2.0-only
/*
 * smh_queue.c - the notices on their way to user space and the answers on their way back.
 *
 * Owns the bounded ring of records that read() hands out (its capacity is fixed at load), the
 * list of notifiers waiting for an answer (each waiter lives on its notifier's stack), the ids
 * of the last waits that ended unanswered (so that a late answer gets ETIME, not ENOENT), the
 * message id counter and the counters of smh_stats. Nothing here allocates after load, so a
 * notice can be posted from the OOM path. One spinlock, never held across a copy from or to
 * user space, protects the ring, the waiters and the late ids.
 *
 * Producers: smh_reboot.c and smh_oom.c (process context). Consumer: smh_dev.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/errno.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>

#include "smh.h"

#define SMH_LATE_IDS 64 /* unanswered waits remembered for ETIME */

static DEFINE_SPINLOCK(smh_lock);
static struct sentry_msg_helper_msg *smh_ring; /* smh_cap records, smh_len from smh_head */
static unsigned int smh_cap;
static unsigned int smh_head;
static unsigned int smh_len;
static LIST_HEAD(smh_waiters);
static u64 smh_late_ids[SMH_LATE_IDS];
static unsigned int smh_late_next;
static bool smh_stopping; /* the module is going away: no new notice, no more waiting */
static atomic64_t smh_msgid = ATOMIC64_INIT(0);

DECLARE_WAIT_QUEUE_HEAD(smh_read_wq);	       /* the reader, for a new notice */
static DECLARE_WAIT_QUEUE_HEAD(smh_answer_wq); /* the waiters, for their answer */
struct smh_stats smh_stats;

int smh_queue_init(unsigned int capacity)
{
	smh_ring = kvcalloc(capacity, sizeof(*smh_ring), GFP_KERNEL);
	if (!smh_ring)
		return -ENOMEM;
	smh_cap = capacity;
	return 0;
}

/* Refuses new notices and ends every wait: the module is going away. */
void smh_queue_stop(void)
{
	unsigned long flags;

	spin_lock_irqsave(&smh_lock, flags);
	WRITE_ONCE(smh_stopping, true);
	spin_unlock_irqrestore(&smh_lock, flags);
	wake_up_all(&smh_answer_wq);
	wake_up_all(&smh_read_wq);
}

void smh_queue_exit(void)
{
	kvfree(smh_ring);
	smh_ring = NULL;
}

/* Message ids start at 1 with each load; 0 is never one. */
u64 smh_next_msgid(void)
{
	return atomic64_inc_return(&smh_msgid);
}

static bool smh_msg_expired(const struct sentry_msg_helper_msg *msg, u64 now)
{
	return div_u64(now - msg->start_send_time, NSEC_PER_MSEC) > msg->timeout_time;
}

/* Drops the expired notices at the head of the ring. */
static void smh_drop_expired_locked(u64 now)
{
	while (smh_len && smh_msg_expired(&smh_ring[smh_head], now)) {
		smh_head = (smh_head + 1) % smh_cap;
		smh_len--;
		atomic_long_inc(&smh_stats.dropped_expired);
	}
}

/*
 * Queues a notice for the reader: gives it its msgid and start_send_time (the caller has set
 * the type, the timeout_time in ms and the details, and zeroed the rest). With a waiter, the
 * waiter is registered for the answer before the reader can see the notice; the caller must
 * then call smh_notice_wait(). Returns 0, -ENOSPC when the queue is full (the notice is
 * dropped and counted) or -ESHUTDOWN when the module is going away.
 */
int smh_notice_post(struct sentry_msg_helper_msg *msg, struct smh_waiter *w)
{
	unsigned long flags;
	u64 now = ktime_get_ns();
	int ret = 0;

	msg->msgid = smh_next_msgid();
	msg->start_send_time = now;
	spin_lock_irqsave(&smh_lock, flags);
	smh_drop_expired_locked(now);
	if (smh_stopping) {
		ret = -ESHUTDOWN;
	} else if (smh_len == smh_cap) {
		atomic_long_inc(&smh_stats.dropped_full);
		ret = -ENOSPC;
	} else {
		memcpy(&smh_ring[(smh_head + smh_len) % smh_cap], msg, sizeof(*msg));
		smh_len++;
		atomic_long_inc(&smh_stats.posted);
		if (w) {
			w->msgid = msg->msgid;
			w->deadline_ns = now + msg->timeout_time * NSEC_PER_MSEC;
			w->answered = false;
			w->res = 0;
			list_add_tail(&w->node, &smh_waiters);
		}
	}
	spin_unlock_irqrestore(&smh_lock, flags);
	if (!ret)
		wake_up_interruptible(&smh_read_wq);
	return ret;
}

/*
 * Waits up to timeout_ms for the answer to the notice of w (posted with it), or until a fatal
 * signal or the module's unloading ends the wait early. Returns whether it was answered; the
 * answer's res is in w->res. Afterwards an answer to this msgid gets ETIME.
 */
bool smh_notice_wait(struct smh_waiter *w, unsigned int timeout_ms)
{
	unsigned long flags;
	bool answered;

	if (timeout_ms)
		wait_event_killable_timeout(smh_answer_wq,
					    READ_ONCE(w->answered) || READ_ONCE(smh_stopping),
					    msecs_to_jiffies(timeout_ms));
	spin_lock_irqsave(&smh_lock, flags);
	list_del(&w->node);
	answered = w->answered;
	if (!answered) {
		smh_late_ids[smh_late_next] = w->msgid;
		smh_late_next = (smh_late_next + 1) % SMH_LATE_IDS;
	}
	spin_unlock_irqrestore(&smh_lock, flags);
	if (!answered)
		atomic_long_inc(&smh_stats.unanswered);
	return answered;
}

/*
 * An answer from user space (SMH_MSG_ACK): 0 when a notifier waits for it and it comes in
 * time, -ETIME when that wait has ended (or its deadline passed), -ENOENT for any other msgid
 * (never sent, answered already, or one that needs no answer).
 */
int smh_answer(u64 msgid, unsigned long res)
{
	struct smh_waiter *w;
	unsigned long flags;
	u64 now = ktime_get_ns();
	unsigned int i;
	int ret = -ENOENT;

	spin_lock_irqsave(&smh_lock, flags);
	list_for_each_entry(w, &smh_waiters, node) {
		if (w->msgid != msgid || w->answered)
			continue;
		if (now > w->deadline_ns) {
			ret = -ETIME;
		} else {
			w->answered = true;
			w->res = res;
			ret = 0;
		}
		break;
	}
	for (i = 0; ret == -ENOENT && msgid && i < SMH_LATE_IDS; i++)
		if (smh_late_ids[i] == msgid)
			ret = -ETIME;
	spin_unlock_irqrestore(&smh_lock, flags);

	if (!ret) {
		atomic_long_inc(&smh_stats.answered);
		wake_up_all(&smh_answer_wq);
	} else if (ret == -ETIME) {
		atomic_long_inc(&smh_stats.answered_late);
	} else {
		atomic_long_inc(&smh_stats.answers_unknown);
	}
	return ret;
}

/*
 * Copies the oldest notice still in time to msg without taking it off the queue (the reader
 * commits it once user space has it). Returns 0, or -EAGAIN when there is none.
 */
int smh_queue_peek(struct sentry_msg_helper_msg *msg)
{
	unsigned long flags;
	int ret = -EAGAIN;

	spin_lock_irqsave(&smh_lock, flags);
	smh_drop_expired_locked(ktime_get_ns());
	if (smh_len) {
		memcpy(msg, &smh_ring[smh_head], sizeof(*msg));
		ret = 0;
	}
	spin_unlock_irqrestore(&smh_lock, flags);
	return ret;
}

/* Takes the notice msgid off the head of the queue, if it is still there. */
void smh_queue_commit(u64 msgid)
{
	unsigned long flags;

	spin_lock_irqsave(&smh_lock, flags);
	if (smh_len && smh_ring[smh_head].msgid == msgid) {
		smh_head = (smh_head + 1) % smh_cap;
		smh_len--;
		atomic_long_inc(&smh_stats.delivered);
	}
	spin_unlock_irqrestore(&smh_lock, flags);
}

/* Whether a notice is queued (it may have expired: smh_queue_peek() tells). Lockless. */
bool smh_queue_nonempty(void)
{
	return READ_ONCE(smh_len) != 0;
}

unsigned int smh_queue_len(void)
{
	return READ_ONCE(smh_len);
}

unsigned int smh_queue_capacity(void)
{
	return smh_cap;
}
