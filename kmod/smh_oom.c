// SPDX-License-Identifier: GPL-2.0-only
/*
 * smh_oom.c - an out-of-memory allocation waits for user space to free memory.
 *
 * Owns the OOM notifier and its guards. out_of_memory() calls the notifier chain (global OOMs
 * only, not a memory cgroup's) with oom_lock held, before it looks for a victim: this file
 * queues an OOM notice and waits up to oom_timeout_ms for the answer, whose res is the number
 * of pages user space freed (or lent); that count goes back through the chain's freed count,
 * so the allocation is retried instead of a task being killed. Unanswered, the kernel kills as
 * usual after the wait.
 *
 * The chain is called again on every retry while the OOM lasts, also while a victim is dying,
 * and a retry after an answer may come seconds later (reclaim first), so one OOM must cost at
 * most one wait. An episode begins with a notice; the wait's end decides:
 *  - answered, and the free pages grew by at least half the res while it waited: the memory is
 *    there, the episode is over, the next OOM sends a new notice whenever it comes;
 *  - otherwise (no answer, res 0, or a res that freed nothing) the episode stays open: calls of
 *    the chain less than max(oom_timeout_ms, 1 s) apart from the last one (or from the wait's
 *    end) go straight on to the kernel's own handling, counted in oom_suppressed.
 * Besides, a task that is dying already (a fatal signal, exiting, an OOM victim) never waits,
 * and oom_rate_limit caps the notices per second and NUMA node, per reason, as the reference.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpuset.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mutex.h>
#include <linux/nodemask.h>
#include <linux/notifier.h>
#include <linux/oom.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/string.h>
#include <linux/vmstat.h>

#include "smh.h"

#define SMH_OOM_EPISODE_MIN_MS 1000
#define SMH_RATE_SPEC_LEN      256

static const char *const smh_reason_names[SMH_RR_COUNT] = {
	[SMH_RR_KSWAPD] = "RR_KSWAPD",
	[SMH_RR_DIRECT_RECLAIM] = "RR_DIRECT_RECLAIM",
	[SMH_RR_HUGEPAGE_RECLAIM] = "RR_HUGEPAGE_RECLAIM",
};

/*
 * The OOM state. The chain runs under the kernel's oom_lock; smh_oom_mutex (taken with
 * trylock in the notifier) guards it all the same, and the rate limit against /proc writes.
 */
static DEFINE_MUTEX(smh_oom_mutex);
static bool smh_oom_open;     /* an episode whose wait did not end it */
static u64 smh_oom_last_call; /* ktime_get_ns() of its last call (or of the wait's end) */
static u64 smh_oom_window_ns; /* calls closer than this belong to it */
static int smh_rate_limit[SMH_RR_COUNT] = { -1, -1, -1 }; /* per second; -1: none, 0: off */
static struct {
	unsigned long window; /* jiffies when the current one-second window began */
	int count;
} smh_rate_state[SMH_RR_COUNT][SMH_NUMA_NODES_MAX];

/* Whether a notice for this reason and node is within the rate limit (and counts it). */
static bool smh_rate_allow(int reason, int nid)
{
	int limit = smh_rate_limit[reason];

	if (limit < 0)
		return true;
	if (nid < 0 || nid >= SMH_NUMA_NODES_MAX)
		nid = SMH_NUMA_NODES_MAX - 1; /* nodes past the record's share the last slot */
	if (time_after_eq(jiffies, smh_rate_state[reason][nid].window + HZ)) {
		smh_rate_state[reason][nid].window = jiffies;
		smh_rate_state[reason][nid].count = 0;
	}
	if (smh_rate_state[reason][nid].count >= limit)
		return false;
	smh_rate_state[reason][nid].count++;
	return true;
}

/* The record's nodes: those with memory that the allocating task may use, up to 8. */
static void smh_oom_fill_nodes(struct sentry_msg_helper_msg *msg)
{
	int i, nid;
	int n = 0;

	for (i = 0; i < SMH_NUMA_NODES_MAX; i++)
		msg->helper_msg_info.oom_info.nid[i] = -1;
	for_each_node_state(nid, N_MEMORY) {
		if (!node_isset(nid, cpuset_current_mems_allowed))
			continue;
		if (n == SMH_NUMA_NODES_MAX)
			break;
		msg->helper_msg_info.oom_info.nid[n++] = nid;
	}
	msg->helper_msg_info.oom_info.nr_nid = n;
}

/* Whether this call of the chain may send a notice and wait. */
static bool smh_oom_may_wait(const struct sentry_msg_helper_msg *msg)
{
	u64 now = ktime_get_ns();
	int i;

	if (smh_oom_open) {
		bool same_episode = now - smh_oom_last_call < smh_oom_window_ns;

		smh_oom_last_call = now;
		if (same_episode)
			return false;
		smh_oom_open = false;
	}
	if (fatal_signal_pending(current) || (current->flags & PF_EXITING) ||
	    tsk_is_oom_victim(current))
		return false;
	if (!msg->helper_msg_info.oom_info.nr_nid)
		return smh_rate_allow(SMH_RR_DIRECT_RECLAIM, 0);
	for (i = 0; i < msg->helper_msg_info.oom_info.nr_nid; i++)
		if (smh_rate_allow(SMH_RR_DIRECT_RECLAIM, msg->helper_msg_info.oom_info.nid[i]))
			return true;
	return false;
}

static int smh_oom_notify(struct notifier_block *nb, unsigned long unused, void *parm)
{
	unsigned long *freed = parm;
	struct sentry_msg_helper_msg msg;
	struct smh_waiter w;
	unsigned int timeout_ms = READ_ONCE(smh_oom_timeout_ms);
	long free_before, free_after;
	unsigned long lent;
	bool answered;
	u64 t0, waited_ms;

	if (!READ_ONCE(smh_oom_on))
		return NOTIFY_DONE;
	if (!mutex_trylock(&smh_oom_mutex)) {
		atomic_long_inc(&smh_stats.oom_suppressed);
		return NOTIFY_DONE;
	}
	memset(&msg, 0, sizeof(msg));
	msg.type = SMH_MESSAGE_OOM;
	msg.timeout_time = timeout_ms;
	smh_oom_fill_nodes(&msg);
	msg.helper_msg_info.oom_info.sync = 1;
	msg.helper_msg_info.oom_info.timeout = timeout_ms;
	msg.helper_msg_info.oom_info.reason = SMH_RR_DIRECT_RECLAIM;
	if (!smh_oom_may_wait(&msg)) {
		atomic_long_inc(&smh_stats.oom_suppressed);
		goto out;
	}

	t0 = ktime_get_ns();
	if (smh_notice_post(&msg, &w))
		goto out;
	atomic_long_inc(&smh_stats.oom_notices);
	lent = smh_reserve_lend();
	/* counted after the reserve: only what the answer frees is growth */
	free_before = global_zone_page_state(NR_FREE_PAGES);
	pr_info("OOM notice %llu queued (pid %d %s), %lu reserve pages freed, waiting up to %u ms for the answer\n",
		msg.msgid, task_pid_nr(current), current->comm, lent, timeout_ms);
	answered = smh_notice_wait(&w, timeout_ms);
	smh_reserve_refill_later();
	free_after = global_zone_page_state(NR_FREE_PAGES);
	waited_ms = div_u64(ktime_get_ns() - t0, NSEC_PER_MSEC);
	if (answered) {
		*freed += min_t(unsigned long, w.res, totalram_pages());
		pr_info("OOM notice %llu answered after %llu ms: %lu pages freed (free pages %ld -> %ld)\n",
			msg.msgid, waited_ms, w.res, free_before, free_after);
	} else {
		pr_info("OOM notice %llu: no answer after %llu ms\n", msg.msgid, waited_ms);
	}
	/* the episode is over only if the answer brought the memory it speaks of */
	smh_oom_open = !answered || !w.res || free_after - free_before < (long)(w.res / 2);
	smh_oom_last_call = ktime_get_ns();
	smh_oom_window_ns =
		(u64)max_t(unsigned int, timeout_ms, SMH_OOM_EPISODE_MIN_MS) * NSEC_PER_MSEC;
	if (smh_oom_open)
		pr_info("OOM episode of notice %llu goes on: no new notice until the OOM path is quiet for %llu ms\n",
			msg.msgid, div_u64(smh_oom_window_ns, NSEC_PER_MSEC));
out:
	mutex_unlock(&smh_oom_mutex);
	return NOTIFY_DONE;
}

static struct notifier_block smh_oom_nb = {
	.notifier_call = smh_oom_notify,
	.priority = INT_MAX,
};

/*
 * Sets the rate limit from the reference's format, "RR_DIRECT_RECLAIM:5,RR_KSWAPD:10": notices
 * per second and node for each reason named; a reason not named has none; "" clears them all.
 */
int smh_oom_rate_limit_set(const char *spec)
{
	int limit[SMH_RR_COUNT] = { -1, -1, -1 };
	char buf[SMH_RATE_SPEC_LEN];
	char *cur, *item, *value;
	int i, v;

	if (strscpy(buf, spec, sizeof(buf)) < 0)
		return -EINVAL;
	cur = strim(buf);
	while ((item = strsep(&cur, ",")) != NULL) {
		if (!*item && !cur)
			break; /* "" or a trailing comma */
		value = strchr(item, ':');
		if (!value)
			return -EINVAL;
		*value++ = '\0';
		if (kstrtoint(value, 10, &v) || v < 0)
			return -EINVAL;
		for (i = 0; i < SMH_RR_COUNT; i++)
			if (!strcmp(item, smh_reason_names[i]))
				break;
		if (i == SMH_RR_COUNT)
			return -EINVAL;
		limit[i] = v;
	}
	mutex_lock(&smh_oom_mutex);
	memcpy(smh_rate_limit, limit, sizeof(limit));
	memset(smh_rate_state, 0, sizeof(smh_rate_state));
	mutex_unlock(&smh_oom_mutex);
	return 0;
}

/* The rate limit in the format smh_oom_rate_limit_set() takes, with a newline. */
int smh_oom_rate_limit_show(char *buf, size_t size)
{
	int limit[SMH_RR_COUNT];
	size_t len = 0;
	int i;

	mutex_lock(&smh_oom_mutex);
	memcpy(limit, smh_rate_limit, sizeof(limit));
	mutex_unlock(&smh_oom_mutex);
	for (i = 0; i < SMH_RR_COUNT; i++)
		if (limit[i] >= 0)
			len += scnprintf(buf + len, size - len, "%s%s:%d", len ? "," : "",
					 smh_reason_names[i], limit[i]);
	len += scnprintf(buf + len, size - len, "\n");
	return len;
}

int smh_oom_init(const char *rate_limit)
{
	int ret;

	if (rate_limit) {
		ret = smh_oom_rate_limit_set(rate_limit);
		if (ret) {
			pr_err("oom_rate_limit=%s: want REASON:N[,REASON:N...]\n", rate_limit);
			return ret;
		}
	}
	return register_oom_notifier(&smh_oom_nb);
}

void smh_oom_exit(void)
{
	unregister_oom_notifier(&smh_oom_nb);
}
