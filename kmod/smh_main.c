// SPDX-License-Identifier: GPL-2.0-only
/*
 * smh_main.c - sentry_msg_helper: the kernel's panic, reboot, power-off and OOM notices to
 * sentry, each answered within its timeout (docs/kmod.md).
 *
 * Owns the module: its parameters (the load-time values of the switches, timeouts and
 * identity that /proc shows and changes at run time, smh_proc.c), their validation, and the
 * order in which the parts start and stop:
 *   smh_queue.c   the notice queue and the answers
 *   smh_dev.c     /dev/sentry_msg_helper and its counters
 *   smh_proc.c    /proc/sentry_reporter, /proc/sentry_remote_reporter
 *   smh_panic.c   panic notifier: netpoll UDP out, polled serial line back
 *   smh_reboot.c  reboot notifier: KERNEL_REBOOT or POWER_OFF, waits for the answer
 *   smh_oom.c     OOM notifier: waits for pages to be freed, one wait per episode
 *   smh_reserve.c the pages an OOM notice frees, so that its answer can be carried
 *   smh_inject.c  debugfs: notices on demand, for tests of the readers
 * One module stands for the reference's sentry_msg_helper, sentry_reporter and
 * sentry_remote_reporter; the latter two names are aliases of it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ctype.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/random.h>
#include <linux/string.h>

#include "smh.h"

static unsigned int smh_queue_len_param = 256;
module_param_named(smh_message_buffer_length, smh_queue_len_param, uint, 0444);
MODULE_PARM_DESC(smh_message_buffer_length, "notices the queue holds (1-4096, default 256)");

bool smh_power_off_on;
module_param_named(power_off, smh_power_off_on, bool, 0444);
MODULE_PARM_DESC(power_off, "halt and power-off wait for the answer to a POWER_OFF notice");
bool smh_oom_on;
module_param_named(oom, smh_oom_on, bool, 0444);
MODULE_PARM_DESC(oom, "an OOM waits for the answer to an OOM notice");
bool smh_panic_on;
module_param_named(panic, smh_panic_on, bool, 0444);
MODULE_PARM_DESC(panic, "a panic sends a notice to the peers and waits for the answer");
bool smh_kernel_reboot_on;
module_param_named(kernel_reboot, smh_kernel_reboot_on, bool, 0444);
MODULE_PARM_DESC(kernel_reboot, "a reboot waits for the answer to a KERNEL_REBOOT notice");

unsigned int smh_reboot_timeout_ms = 30000;
module_param_named(reboot_timeout_ms, smh_reboot_timeout_ms, uint, 0444);
MODULE_PARM_DESC(reboot_timeout_ms, "wait for a POWER_OFF answer, ms (0-3600000, 30000)");
unsigned int smh_oom_timeout_ms = 30000;
module_param_named(oom_timeout_ms, smh_oom_timeout_ms, uint, 0444);
MODULE_PARM_DESC(oom_timeout_ms, "wait for an OOM answer, ms (0-3600000, 30000)");
unsigned int smh_panic_timeout_ms = 35000;
module_param_named(panic_timeout_ms, smh_panic_timeout_ms, uint, 0444);
MODULE_PARM_DESC(panic_timeout_ms, "a panic's grace for the answer, ms (0-3600000, 35000)");
unsigned int smh_kernel_reboot_timeout_ms = 35000;
module_param_named(kernel_reboot_timeout_ms, smh_kernel_reboot_timeout_ms, uint, 0444);
MODULE_PARM_DESC(kernel_reboot_timeout_ms,
		 "wait for a KERNEL_REBOOT answer, ms (0-3600000, 35000)");

unsigned int smh_cna;
module_param_named(cna, smh_cna, uint, 0444);
MODULE_PARM_DESC(cna, "this node's CNA, in its reboot and panic notices (0-16777215)");
static char *smh_eid_param;
module_param_named(eid, smh_eid_param, charp, 0);
MODULE_PARM_DESC(eid, "this node's EID, in its reboot and panic notices (up to 39 characters)");

static unsigned int smh_oom_reserve_kb = 4096;
module_param_named(oom_reserve_kb, smh_oom_reserve_kb, uint, 0444);
MODULE_PARM_DESC(oom_reserve_kb,
		 "pages kept for the answer to an OOM notice, KiB (0-262144, 4096)");
static char *smh_oom_rate_limit_param;
module_param_named(oom_rate_limit, smh_oom_rate_limit_param, charp, 0);
MODULE_PARM_DESC(oom_rate_limit, "OOM notices per second and node: RR_DIRECT_RECLAIM:N,...");
static char *smh_panic_target_param;
module_param_named(panic_target, smh_panic_target_param, charp, 0);
MODULE_PARM_DESC(panic_target,
		 "panic notice peers: [sport]@[sip]/[dev],[dport]@dip/[dmac][;...] (netconsole's)");
static unsigned int smh_panic_ack_port;
module_param_named(panic_ack_port, smh_panic_ack_port, uint, 0444);
MODULE_PARM_DESC(panic_ack_port, "8250 UART io port of the panic answer line (0x2f8: ttyS1)");
static unsigned int smh_panic_ack_baud;
module_param_named(panic_ack_baud, smh_panic_ack_baud, uint, 0444);
MODULE_PARM_DESC(panic_ack_baud, "program that UART to 8N1 at this speed (0: leave it)");

char smh_eid[SMH_EID_LEN];
DEFINE_MUTEX(smh_config_mutex);
u64 smh_boot_id;

/* Sets this node's EID: up to 39 of [0-9A-Za-z:._-]; "" clears it. */
int smh_eid_set(const char *eid)
{
	size_t i, len = strlen(eid);

	if (len >= SMH_EID_LEN)
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (!isalnum(eid[i]) && !strchr(":._-", eid[i]))
			return -EINVAL;
	mutex_lock(&smh_config_mutex);
	memset(smh_eid, 0, sizeof(smh_eid));
	memcpy(smh_eid, eid, len);
	mutex_unlock(&smh_config_mutex);
	return 0;
}

static int __init smh_check_params(void)
{
	static const struct {
		const char *name;
		unsigned int *value;
	} timeouts[] = {
		{ "reboot_timeout_ms", &smh_reboot_timeout_ms },
		{ "oom_timeout_ms", &smh_oom_timeout_ms },
		{ "panic_timeout_ms", &smh_panic_timeout_ms },
		{ "kernel_reboot_timeout_ms", &smh_kernel_reboot_timeout_ms },
	};
	size_t i;

	if (!smh_queue_len_param || smh_queue_len_param > SMH_QUEUE_LEN_MAX) {
		pr_err("smh_message_buffer_length=%u: want 1-%u\n", smh_queue_len_param,
		       SMH_QUEUE_LEN_MAX);
		return -EINVAL;
	}
	for (i = 0; i < ARRAY_SIZE(timeouts); i++) {
		if (*timeouts[i].value > SMH_TIMEOUT_MS_MAX) {
			pr_err("%s=%u: want 0-%u\n", timeouts[i].name, *timeouts[i].value,
			       SMH_TIMEOUT_MS_MAX);
			return -EINVAL;
		}
	}
	if (smh_oom_reserve_kb > SMH_RESERVE_KB_MAX) {
		pr_err("oom_reserve_kb=%u: want 0-%u\n", smh_oom_reserve_kb, SMH_RESERVE_KB_MAX);
		return -EINVAL;
	}
	if (smh_cna > SMH_CNA_MAX) {
		pr_err("cna=%u: want 0-%u\n", smh_cna, SMH_CNA_MAX);
		return -EINVAL;
	}
	if (smh_eid_param && smh_eid_set(smh_eid_param)) {
		pr_err("eid=%s: want up to %d of [0-9A-Za-z:._-]\n", smh_eid_param,
		       SMH_EID_LEN - 1);
		return -EINVAL;
	}
	return 0;
}

static int __init smh_init(void)
{
	int ret;

	ret = smh_check_params();
	if (ret)
		return ret;
	smh_boot_id = get_random_u64();
	ret = smh_queue_init(smh_queue_len_param);
	if (ret)
		return ret;
	ret = smh_dev_init();
	if (ret)
		goto queue_exit;
	ret = smh_proc_init();
	if (ret)
		goto dev_exit;
	ret = smh_panic_init(smh_panic_target_param, smh_panic_ack_port, smh_panic_ack_baud);
	if (ret)
		goto proc_exit;
	ret = smh_reboot_init();
	if (ret)
		goto panic_exit;
	smh_reserve_init(smh_oom_reserve_kb);
	ret = smh_oom_init(smh_oom_rate_limit_param);
	if (ret)
		goto reserve_exit;
	smh_inject_init();
	pr_info("version %d.%d, queue of %u, boot id %016llx\n", SMH_VERSION_MAJOR,
		SMH_VERSION_MINOR, smh_queue_len_param, smh_boot_id);
	return 0;

reserve_exit:
	smh_reserve_exit();
	smh_reboot_exit();
panic_exit:
	smh_panic_exit();
proc_exit:
	smh_proc_exit();
dev_exit:
	smh_dev_exit();
queue_exit:
	smh_queue_exit();
	return ret;
}

static void __exit smh_exit(void)
{
	smh_queue_stop(); /* ends the waits in progress, refuses new notices */
	smh_inject_exit();
	smh_oom_exit();
	smh_reserve_exit();
	smh_reboot_exit();
	smh_panic_exit();
	smh_proc_exit();
	smh_dev_exit();
	smh_queue_exit();
}

module_init(smh_init);
module_exit(smh_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("sentry: panic, reboot, power-off and OOM notices, answered in time");
MODULE_VERSION("1.6");
MODULE_ALIAS("sentry_reporter");
MODULE_ALIAS("sentry_remote_reporter");
