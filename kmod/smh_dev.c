// SPDX-License-Identifier: GPL-2.0-only
/*
 * smh_dev.c - /dev/sentry_msg_helper: read() hands out notices, ioctl() takes the answers.
 *
 * Owns the misc device (root's, 0600) and its counters in sysfs,
 * /sys/class/misc/sentry_msg_helper/stats/. One reader at a time: the first open file that
 * reads owns the queue until it is closed; a read from another open file, or a second read at
 * once, gets EPERM. Any open file may answer (SMH_MSG_ACK) and ask the version
 * (SMH_VERSION_CHECK), so a reader may answer from another thread or process.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>

#include "smh.h"

static struct file *smh_reader;	  /* the open file that reads, or NULL */
static unsigned long smh_reading; /* bit 0: a read is in progress */

static int smh_claim_reader(struct file *file)
{
	struct file *owner = cmpxchg(&smh_reader, NULL, file);

	return owner == NULL || owner == file ? 0 : -EPERM;
}

/* Blocks (unless O_NONBLOCK) until a notice is queued; returns one record. */
static ssize_t smh_read(struct file *file, char __user *buf, size_t count, loff_t *ppos)
{
	struct sentry_msg_helper_msg msg;
	int ret;

	if (count < sizeof(msg))
		return -EINVAL;
	ret = smh_claim_reader(file);
	if (ret)
		return ret;
	if (test_and_set_bit_lock(0, &smh_reading))
		return -EPERM;
	for (;;) {
		ret = smh_queue_peek(&msg);
		if (ret != -EAGAIN || (file->f_flags & O_NONBLOCK))
			break;
		ret = wait_event_interruptible(smh_read_wq, smh_queue_nonempty());
		if (ret)
			break;
	}
	if (!ret) {
		if (copy_to_user(buf, &msg, sizeof(msg))) {
			ret = -EFAULT; /* the notice stays queued */
		} else {
			smh_queue_commit(msg.msgid);
			ret = sizeof(msg);
		}
	}
	clear_bit_unlock(0, &smh_reading);
	return ret;
}

static __poll_t smh_poll(struct file *file, poll_table *wait)
{
	poll_wait(file, &smh_read_wq, wait);
	return smh_queue_nonempty() ? EPOLLIN | EPOLLRDNORM : 0;
}

static long smh_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case SMH_MSG_ACK: {
		struct sentry_msg_helper_msg msg;

		if (copy_from_user(&msg, argp, sizeof(msg)))
			return -EFAULT;
		return smh_answer(msg.msgid, msg.res);
	}
	case SMH_VERSION_CHECK: {
		struct smh_version_info version = {
			.major = SMH_VERSION_MAJOR,
			.minor = SMH_VERSION_MINOR,
		};

		return copy_to_user(argp, &version, sizeof(version)) ? -EFAULT : 0;
	}
	default:
		return -ENOTTY;
	}
}

static int smh_release(struct inode *inode, struct file *file)
{
	cmpxchg(&smh_reader, file, NULL);
	return 0;
}

static const struct file_operations smh_fops = {
	.owner = THIS_MODULE,
	.open = nonseekable_open,
	.read = smh_read,
	.poll = smh_poll,
	.unlocked_ioctl = smh_ioctl,
	.release = smh_release,
	.llseek = no_llseek,
};

/* The counters: one read-only file each, named after the field of struct smh_stats. */
struct smh_counter_attr {
	struct device_attribute attr;
	atomic_long_t *counter;
};

static ssize_t smh_counter_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct smh_counter_attr *c = container_of(attr, struct smh_counter_attr, attr);

	return sysfs_emit(buf, "%ld\n", atomic_long_read(c->counter));
}

#define SMH_COUNTER(_name)                                           \
	static struct smh_counter_attr smh_attr_##_name = {          \
		.attr = __ATTR(_name, 0444, smh_counter_show, NULL), \
		.counter = &smh_stats._name,                         \
	}

SMH_COUNTER(posted);
SMH_COUNTER(delivered);
SMH_COUNTER(dropped_full);
SMH_COUNTER(dropped_expired);
SMH_COUNTER(answered);
SMH_COUNTER(answered_late);
SMH_COUNTER(answers_unknown);
SMH_COUNTER(unanswered);
SMH_COUNTER(oom_notices);
SMH_COUNTER(oom_suppressed);
SMH_COUNTER(panic_notices);
SMH_COUNTER(oom_reserve_lent);

static ssize_t queued_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", smh_queue_len());
}
static DEVICE_ATTR_RO(queued);

static ssize_t capacity_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", smh_queue_capacity());
}
static DEVICE_ATTR_RO(capacity);

static ssize_t boot_id_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%016llx\n", smh_boot_id);
}
static DEVICE_ATTR_RO(boot_id);

static ssize_t oom_reserve_pages_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lu\n", smh_reserve_pages());
}
static DEVICE_ATTR_RO(oom_reserve_pages);

static struct attribute *smh_stats_attrs[] = {
	&dev_attr_queued.attr,
	&dev_attr_capacity.attr,
	&dev_attr_boot_id.attr,
	&dev_attr_oom_reserve_pages.attr,
	&smh_attr_posted.attr.attr,
	&smh_attr_delivered.attr.attr,
	&smh_attr_dropped_full.attr.attr,
	&smh_attr_dropped_expired.attr.attr,
	&smh_attr_answered.attr.attr,
	&smh_attr_answered_late.attr.attr,
	&smh_attr_answers_unknown.attr.attr,
	&smh_attr_unanswered.attr.attr,
	&smh_attr_oom_notices.attr.attr,
	&smh_attr_oom_suppressed.attr.attr,
	&smh_attr_panic_notices.attr.attr,
	&smh_attr_oom_reserve_lent.attr.attr,
	NULL,
};

static const struct attribute_group smh_stats_group = {
	.name = "stats",
	.attrs = smh_stats_attrs,
};

static const struct attribute_group *smh_groups[] = {
	&smh_stats_group,
	NULL,
};

static struct miscdevice smh_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = SMH_DEVICE_NAME,
	.fops = &smh_fops,
	.groups = smh_groups,
	.mode = 0600,
};

int smh_dev_init(void)
{
	return misc_register(&smh_miscdev);
}

void smh_dev_exit(void)
{
	misc_deregister(&smh_miscdev);
}
