// SPDX-License-Identifier: GPL-2.0-only
/*
 * smh_proc.c - the switches in /proc, named as the reference's modules name theirs.
 *
 *   /proc/sentry_reporter/         power_off, oom                on|off
 *                                  reboot_timeout, oom_timeout   ms, 0-3600000
 *                                  oom_rate_limit                REASON:N[,REASON:N...]
 *   /proc/sentry_remote_reporter/  panic, kernel_reboot          on|off
 *                                  panic_timeout,
 *                                  kernel_reboot_timeout         ms, 0-3600000
 *                                  cna                           0-16777215
 *                                  eid                           up to 39 of [0-9A-Za-z:._-]
 *                                  panic_target                  netpoll targets (smh_panic.c)
 *
 * Directories 0550, files 0600, as the reference. Reads give the value and a newline. A write
 * is the new value (a trailing newline is fine); a bad one is refused with EINVAL and changes
 * nothing. The values themselves live in smh_main.c, smh_oom.c and smh_panic.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/mutex.h>
#include <linux/proc_fs.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "smh.h"

#define SMH_PROC_BUF 320

enum smh_proc_kind {
	SMH_PROC_SWITCH,  /* bool, on|off */
	SMH_PROC_TIMEOUT, /* unsigned int, ms */
	SMH_PROC_CNA,
	SMH_PROC_EID,
	SMH_PROC_RATE_LIMIT,
	SMH_PROC_TARGETS,
};

struct smh_proc_entry {
	const char *name;
	enum smh_proc_kind kind;
	void *value; /* bool * or unsigned int *, for switches and timeouts */
};

static const struct smh_proc_entry smh_reporter_entries[] = {
	{ "power_off", SMH_PROC_SWITCH, &smh_power_off_on },
	{ "oom", SMH_PROC_SWITCH, &smh_oom_on },
	{ "reboot_timeout", SMH_PROC_TIMEOUT, &smh_reboot_timeout_ms },
	{ "oom_timeout", SMH_PROC_TIMEOUT, &smh_oom_timeout_ms },
	{ "oom_rate_limit", SMH_PROC_RATE_LIMIT, NULL },
};

static const struct smh_proc_entry smh_remote_entries[] = {
	{ "panic", SMH_PROC_SWITCH, &smh_panic_on },
	{ "kernel_reboot", SMH_PROC_SWITCH, &smh_kernel_reboot_on },
	{ "panic_timeout", SMH_PROC_TIMEOUT, &smh_panic_timeout_ms },
	{ "kernel_reboot_timeout", SMH_PROC_TIMEOUT, &smh_kernel_reboot_timeout_ms },
	{ "cna", SMH_PROC_CNA, NULL },
	{ "eid", SMH_PROC_EID, NULL },
	{ "panic_target", SMH_PROC_TARGETS, NULL },
};

static struct proc_dir_entry *smh_reporter_dir;
static struct proc_dir_entry *smh_remote_dir;

static ssize_t smh_proc_read(struct file *file, char __user *ubuf, size_t count, loff_t *ppos)
{
	const struct smh_proc_entry *e = pde_data(file_inode(file));
	char buf[SMH_PROC_BUF];
	int len = 0;

	switch (e->kind) {
	case SMH_PROC_SWITCH:
		len = scnprintf(buf, sizeof(buf), "%s\n",
				READ_ONCE(*(bool *)e->value) ? "on" : "off");
		break;
	case SMH_PROC_TIMEOUT:
		len = scnprintf(buf, sizeof(buf), "%u\n", READ_ONCE(*(unsigned int *)e->value));
		break;
	case SMH_PROC_CNA:
		len = scnprintf(buf, sizeof(buf), "%u\n", READ_ONCE(smh_cna));
		break;
	case SMH_PROC_EID:
		mutex_lock(&smh_config_mutex);
		len = scnprintf(buf, sizeof(buf), "%s\n", smh_eid);
		mutex_unlock(&smh_config_mutex);
		break;
	case SMH_PROC_RATE_LIMIT:
		len = smh_oom_rate_limit_show(buf, sizeof(buf));
		break;
	case SMH_PROC_TARGETS:
		len = smh_panic_targets_show(buf, sizeof(buf));
		break;
	}
	return simple_read_from_buffer(ubuf, count, ppos, buf, len);
}

static int smh_parse_switch(const char *value, bool *on)
{
	if (!strcmp(value, "on"))
		*on = true;
	else if (!strcmp(value, "off"))
		*on = false;
	else
		return -EINVAL;
	return 0;
}

static int smh_parse_uint_max(const char *value, unsigned int max, unsigned int *out)
{
	int ret = kstrtouint(value, 10, out);

	if (ret)
		return ret;
	return *out > max ? -EINVAL : 0;
}

static int smh_proc_set(const struct smh_proc_entry *e, const char *value)
{
	unsigned int n;
	bool on;
	int ret;

	switch (e->kind) {
	case SMH_PROC_SWITCH:
		ret = smh_parse_switch(value, &on);
		if (ret)
			return ret;
		WRITE_ONCE(*(bool *)e->value, on);
		pr_info("%s %s\n", e->name, on ? "on" : "off");
		if (on && e->value == &smh_panic_on)
			smh_panic_check_enable();
		return 0;
	case SMH_PROC_TIMEOUT:
		ret = smh_parse_uint_max(value, SMH_TIMEOUT_MS_MAX, &n);
		if (!ret)
			WRITE_ONCE(*(unsigned int *)e->value, n);
		return ret;
	case SMH_PROC_CNA:
		ret = smh_parse_uint_max(value, SMH_CNA_MAX, &n);
		if (!ret)
			WRITE_ONCE(smh_cna, n);
		return ret;
	case SMH_PROC_EID:
		return smh_eid_set(value);
	case SMH_PROC_RATE_LIMIT:
		return smh_oom_rate_limit_set(value);
	case SMH_PROC_TARGETS:
		return smh_panic_targets_set(value);
	}
	return -EINVAL;
}

static ssize_t smh_proc_write(struct file *file, const char __user *ubuf, size_t count,
			      loff_t *ppos)
{
	const struct smh_proc_entry *e = pde_data(file_inode(file));
	char buf[SMH_PROC_BUF];
	int ret;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	ret = smh_proc_set(e, strim(buf));
	return ret ? ret : count;
}

static const struct proc_ops smh_proc_ops = {
	.proc_read = smh_proc_read,
	.proc_write = smh_proc_write,
};

static struct proc_dir_entry *smh_proc_dir(const char *name, const struct smh_proc_entry *entries,
					   size_t n)
{
	struct proc_dir_entry *dir = proc_mkdir_mode(name, 0550, NULL);
	size_t i;

	if (!dir) {
		pr_err("cannot create /proc/%s (is the reference's module of that name loaded?)\n",
		       name);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (!proc_create_data(entries[i].name, 0600, dir, &smh_proc_ops,
				      (void *)&entries[i])) {
			proc_remove(dir);
			return NULL;
		}
	}
	return dir;
}

int smh_proc_init(void)
{
	smh_reporter_dir = smh_proc_dir("sentry_reporter", smh_reporter_entries,
					ARRAY_SIZE(smh_reporter_entries));
	if (!smh_reporter_dir)
		return -ENOMEM;
	smh_remote_dir = smh_proc_dir("sentry_remote_reporter", smh_remote_entries,
				      ARRAY_SIZE(smh_remote_entries));
	if (!smh_remote_dir) {
		proc_remove(smh_reporter_dir);
		return -ENOMEM;
	}
	return 0;
}

void smh_proc_exit(void)
{
	proc_remove(smh_remote_dir);
	proc_remove(smh_reporter_dir);
}
