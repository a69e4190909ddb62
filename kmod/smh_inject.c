// SPDX-License-Identifier: GPL-2.0-only
/*
 * smh_inject.c - notices on demand, for tests of the readers: debugfs
 * /sys/kernel/debug/sentry_msg_helper/inject (root only).
 *
 * A write of "TYPE TIMEOUT_MS [nowait]" (TYPE: power_off, oom, kernel_reboot or a number 0-10)
 * posts a notice as the notifiers do and, unless nowait, waits in the writing task for the
 * answer exactly as they do: the write returns once answered, fails with ETIMEDOUT when the
 * wait ends without an answer, with ENOSPC when the queue is full. A read gives the outcome of
 * the last write that waited: "msgid=N answered=0|1 res=R waited_ms=T".
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mutex.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "smh.h"

static struct dentry *smh_debugfs_dir;
static DEFINE_MUTEX(smh_inject_mutex); /* the last outcome */
static struct {
	u64 msgid;
	bool answered;
	unsigned long res;
	u64 waited_ms;
} smh_inject_last;

static int smh_inject_parse(char *buf, struct sentry_msg_helper_msg *msg, bool *nowait)
{
	char *type = strsep(&buf, " ");
	char *timeout = strsep(&buf, " ");
	unsigned int n;

	if (!strcmp(type, "power_off"))
		msg->type = SMH_MESSAGE_POWER_OFF;
	else if (!strcmp(type, "oom"))
		msg->type = SMH_MESSAGE_OOM;
	else if (!strcmp(type, "kernel_reboot"))
		msg->type = SMH_MESSAGE_KERNEL_REBOOT;
	else if (!kstrtouint(type, 10, &n) && n <= SMH_MESSAGE_UNKNOWN)
		msg->type = n;
	else
		return -EINVAL;
	if (!timeout || kstrtouint(timeout, 10, &n) || n > SMH_TIMEOUT_MS_MAX)
		return -EINVAL;
	msg->timeout_time = n;
	*nowait = buf && !strcmp(buf, "nowait");
	if (buf && !*nowait)
		return -EINVAL;
	if (msg->type == SMH_MESSAGE_OOM) {
		memset(msg->helper_msg_info.oom_info.nid, 0xff,
		       sizeof(msg->helper_msg_info.oom_info.nid));
		msg->helper_msg_info.oom_info.sync = !*nowait;
		msg->helper_msg_info.oom_info.timeout = n;
		msg->helper_msg_info.oom_info.reason = SMH_RR_DIRECT_RECLAIM;
	} else if (msg->type == SMH_MESSAGE_KERNEL_REBOOT) {
		mutex_lock(&smh_config_mutex);
		msg->helper_msg_info.remote_info.cna = smh_cna;
		strscpy(msg->helper_msg_info.remote_info.eid, smh_eid, SMH_EID_LEN);
		mutex_unlock(&smh_config_mutex);
	}
	return 0;
}

static ssize_t smh_inject_write(struct file *file, const char __user *ubuf, size_t count,
				loff_t *ppos)
{
	struct sentry_msg_helper_msg msg;
	struct smh_waiter w;
	char buf[64];
	bool nowait, answered;
	u64 t0;
	int ret;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	memset(&msg, 0, sizeof(msg));
	ret = smh_inject_parse(strim(buf), &msg, &nowait);
	if (ret)
		return ret;
	if (nowait)
		return smh_notice_post(&msg, NULL) ?: count;

	t0 = ktime_get_ns();
	ret = smh_notice_post(&msg, &w);
	if (ret)
		return ret;
	answered = smh_notice_wait(&w, msg.timeout_time);
	mutex_lock(&smh_inject_mutex);
	smh_inject_last.msgid = msg.msgid;
	smh_inject_last.answered = answered;
	smh_inject_last.res = w.res;
	smh_inject_last.waited_ms = div_u64(ktime_get_ns() - t0, NSEC_PER_MSEC);
	mutex_unlock(&smh_inject_mutex);
	return answered ? count : -ETIMEDOUT;
}

static ssize_t smh_inject_read(struct file *file, char __user *ubuf, size_t count, loff_t *ppos)
{
	char buf[128];
	int len;

	mutex_lock(&smh_inject_mutex);
	len = scnprintf(buf, sizeof(buf), "msgid=%llu answered=%d res=%lu waited_ms=%llu\n",
			smh_inject_last.msgid, smh_inject_last.answered, smh_inject_last.res,
			smh_inject_last.waited_ms);
	mutex_unlock(&smh_inject_mutex);
	return simple_read_from_buffer(ubuf, count, ppos, buf, len);
}

static const struct file_operations smh_inject_fops = {
	.owner = THIS_MODULE,
	.read = smh_inject_read,
	.write = smh_inject_write,
	.llseek = default_llseek,
};

void smh_inject_init(void)
{
	smh_debugfs_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("inject", 0600, smh_debugfs_dir, NULL, &smh_inject_fops);
}

void smh_inject_exit(void)
{
	debugfs_remove(smh_debugfs_dir);
}
