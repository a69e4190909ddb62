// SPDX-License-Identifier: GPL-2.0-only
/*
 * smh_reboot.c - this node's own reboot, halt and power-off wait for an answer.
 *
 * Owns the reboot notifier. The kernel calls it in process context, in the task that asked for
 * the reboot, before it shuts the devices down; user space still runs (if it was not killed
 * first). Which notice goes out:
 *   restart (also kexec)  SMH_MESSAGE_KERNEL_REBOOT (alarm 1009) with this node's cna and eid,
 *                         switch kernel_reboot, wait kernel_reboot_timeout_ms
 *   halt, power-off       SMH_MESSAGE_POWER_OFF (alarm 1003),
 *                         switch power_off, wait reboot_timeout_ms
 * The reboot goes on when the answer comes, when the wait times out, when the notice cannot be
 * queued, or when the rebooting task gets SIGKILL; the answer's res is logged only (a reboot
 * notifier cannot veto).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/reboot.h>
#include <linux/string.h>

#include "smh.h"

static int smh_reboot_notify(struct notifier_block *nb, unsigned long action, void *data)
{
	struct sentry_msg_helper_msg msg;
	struct smh_waiter w;
	unsigned int timeout_ms;
	const char *what;
	u64 t0;
	int ret;

	memset(&msg, 0, sizeof(msg));
	switch (action) {
	case SYS_RESTART:
		if (!READ_ONCE(smh_kernel_reboot_on))
			return NOTIFY_DONE;
		what = "reboot";
		msg.type = SMH_MESSAGE_KERNEL_REBOOT;
		timeout_ms = READ_ONCE(smh_kernel_reboot_timeout_ms);
		mutex_lock(&smh_config_mutex);
		msg.helper_msg_info.remote_info.cna = smh_cna;
		strscpy(msg.helper_msg_info.remote_info.eid, smh_eid, SMH_EID_LEN);
		mutex_unlock(&smh_config_mutex);
		break;
	case SYS_HALT:
	case SYS_POWER_OFF:
		if (!READ_ONCE(smh_power_off_on))
			return NOTIFY_DONE;
		what = action == SYS_HALT ? "halt" : "power-off";
		msg.type = SMH_MESSAGE_POWER_OFF;
		timeout_ms = READ_ONCE(smh_reboot_timeout_ms);
		break;
	default:
		return NOTIFY_DONE;
	}
	msg.timeout_time = timeout_ms;

	t0 = ktime_get_ns();
	ret = smh_notice_post(&msg, &w);
	if (ret) {
		pr_warn("%s notice not queued (%d): the %s goes on\n", what, ret, what);
		return NOTIFY_DONE;
	}
	pr_info("%s notice %llu queued, waiting up to %u ms for the answer\n", what, msg.msgid,
		timeout_ms);
	if (smh_notice_wait(&w, timeout_ms))
		pr_info("%s notice %llu answered after %llu ms (res %lu): the %s goes on\n", what,
			msg.msgid, div_u64(ktime_get_ns() - t0, NSEC_PER_MSEC), w.res, what);
	else
		pr_warn("%s notice %llu: no answer after %llu ms: the %s goes on\n", what,
			msg.msgid, div_u64(ktime_get_ns() - t0, NSEC_PER_MSEC), what);
	return NOTIFY_DONE;
}

static struct notifier_block smh_reboot_nb = {
	.notifier_call = smh_reboot_notify,
	.priority = INT_MAX, /* first: before others start shutting things down */
};

int smh_reboot_init(void)
{
	return register_reboot_notifier(&smh_reboot_nb);
}

void smh_reboot_exit(void)
{
	unregister_reboot_notifier(&smh_reboot_nb);
}
