// SPDX-License-Identifier: GPL-2.0-only
/*
 * smh_panic.c - the panic notice: out over netpoll UDP, the answer back over a polled line.
 *
 * Owns the panic notifier, the peers (netpoll targets in netconsole's syntax, set up in process
 * context when configured and released when their device goes away), the answer line (an 8250
 * UART read with inb, without interrupts: a serial line a BMC or hypervisor provides) and the
 * wire formats of both (docs/kmod.md). Local user space cannot run any more in a panic, so the
 * notice goes to the peers and not to /dev/sentry_msg_helper.
 *
 * In panic context the other CPUs are stopped and interrupts are off. The notifier takes no
 * lock, sleeps nowhere and allocates nothing itself (netpoll takes an skb from its pool or
 * GFP_ATOMIC); it sends the notice, resends it every second, and polls the answer line until
 * the answer comes or panic_timeout_ms has passed. Time is ktime_get_mono_fast_ns(), its steps
 * summed (a step back, as when a short clocksource wraps with no tick to update the
 * timekeeper, counts as none); should that clock stand still for SMH_CLOCK_STALL_POLLS polls,
 * each further poll counts as SMH_POLL_US. Counted delays alone are no clock here: under
 * emulation, with the other CPUs stopped, udelay() was seen to run 25 times too fast.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ctype.h>
#include <linux/delay.h>
#include <linux/etherdevice.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/kernel.h>
#include <linux/kexec.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/netpoll.h>
#include <linux/nmi.h>
#include <linux/notifier.h>
#include <linux/panic_notifier.h>
#include <linux/rcupdate.h>
#include <linux/rtnetlink.h>
#include <linux/serial_reg.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/utsname.h>

#include "smh.h"

#define SMH_PEERS_MAX	      4
#define SMH_TARGETS_LEN	      256   /* the configuration string */
#define SMH_NOTICE_LEN	      512   /* one UDP payload */
#define SMH_ACK_LINE_LEN      96    /* the longest answer line kept */
#define SMH_POLL_US	      50    /* between two polls of the answer line */
#define SMH_CLOCK_STALL_POLLS 10000 /* polls with the clock standing still: it is broken */
#define SMH_RESEND_MS	      1000  /* the notice again, in case a datagram was lost */
#define SMH_UART_SPAN	      8
#define SMH_UART_CLOCK_BAUD   115200

static const char smh_ack_prefix[] = "SENTRY-ACK ";

struct smh_peers {
	unsigned int count;
	struct netpoll np[SMH_PEERS_MAX];
};

/* Replaced under RTNL (which also orders it against the netdevice notifier). */
static struct smh_peers __rcu *smh_peers;
static DEFINE_MUTEX(smh_targets_mutex);	  /* one reconfiguration at a time */
static char smh_targets[SMH_TARGETS_LEN]; /* as configured, under smh_targets_mutex */

static unsigned int smh_ack_port;	/* the answer line's UART base io port; 0: none */
static bool smh_ack_region;		/* we hold its io region */
static bool smh_panic_entered;		/* the notifier ran once: a nested panic skips it */
static char smh_notice[SMH_NOTICE_LEN]; /* one panic at a time: static, not on the stack */

/* --- the peers ------------------------------------------------------------------------- */

static void smh_peers_release(struct smh_peers *peers)
{
	unsigned int i;

	for (i = 0; peers && i < peers->count; i++)
		netpoll_cleanup(&peers->np[i]);
	kfree(peers);
}

/*
 * Parses "TARGET[;TARGET...]", each in netconsole's syntax
 * [src-port]@[src-ip]/[dev],[dst-port]@dst-ip/[dst-mac] (defaults: 6665, the device's first
 * address, eth0, 6666, broadcast), and sets each up. "" means no peer.
 */
static int smh_peers_parse(const char *spec, struct smh_peers **out)
{
	char buf[SMH_TARGETS_LEN];
	struct smh_peers *peers;
	char *cur, *one;
	unsigned int i;
	int ret;

	*out = NULL;
	if (strscpy(buf, spec, sizeof(buf)) < 0)
		return -EINVAL;
	cur = strim(buf);
	if (!*cur)
		return 0;
	peers = kzalloc(sizeof(*peers), GFP_KERNEL);
	if (!peers)
		return -ENOMEM;
	while ((one = strsep(&cur, ";")) != NULL) {
		struct netpoll *np;

		if (!*one)
			continue;
		if (peers->count == SMH_PEERS_MAX) {
			kfree(peers);
			return -E2BIG;
		}
		np = &peers->np[peers->count];
		np->name = KBUILD_MODNAME;
		strscpy(np->dev_name, "eth0", IFNAMSIZ);
		np->local_port = 6665;
		np->remote_port = 6666;
		eth_broadcast_addr(np->remote_mac);
		if (netpoll_parse_options(np, one)) {
			kfree(peers);
			return -EINVAL;
		}
		peers->count++;
	}
	for (i = 0; i < peers->count; i++) {
		ret = netpoll_setup(&peers->np[i]);
		if (ret) {
			peers->count = i;
			smh_peers_release(peers);
			return ret;
		}
	}
	*out = peers;
	return 0;
}

/* Replaces the peers (process context); the old ones are released. */
int smh_panic_targets_set(const char *spec)
{
	struct smh_peers *peers, *old;
	char buf[SMH_TARGETS_LEN];
	char *trimmed;
	int ret;

	if (strscpy(buf, spec, sizeof(buf)) < 0)
		return -EINVAL;
	trimmed = strim(buf);
	mutex_lock(&smh_targets_mutex);
	ret = smh_peers_parse(trimmed, &peers);
	if (ret)
		goto out;
	rtnl_lock();
	old = rcu_replace_pointer(smh_peers, peers, lockdep_rtnl_is_held());
	rtnl_unlock();
	synchronize_rcu();
	smh_peers_release(old);
	strscpy(smh_targets, peers ? trimmed : "", sizeof(smh_targets));
out:
	mutex_unlock(&smh_targets_mutex);
	return ret;
}

int smh_panic_targets_show(char *buf, size_t size)
{
	int len;

	mutex_lock(&smh_targets_mutex);
	len = scnprintf(buf, size, "%s\n", smh_targets);
	mutex_unlock(&smh_targets_mutex);
	return len;
}

/* A peer's device goes away: release its netpoll (as netconsole does), the others stay. */
static int smh_netdev_event(struct notifier_block *nb, unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct smh_peers *peers;
	unsigned int i;

	if (event != NETDEV_UNREGISTER && event != NETDEV_RELEASE && event != NETDEV_JOIN)
		return NOTIFY_DONE;
	peers = rtnl_dereference(smh_peers);
	for (i = 0; peers && i < peers->count; i++) {
		struct netpoll *np = &peers->np[i];

		if (np->dev != dev)
			continue;
		__netpoll_cleanup(np);
		netdev_put(np->dev, &np->dev_tracker);
		np->dev = NULL;
		pr_warn("panic peer %u: %s went away, no panic notice goes there any more\n", i,
			dev->name);
	}
	return NOTIFY_DONE;
}

static struct notifier_block smh_netdev_nb = {
	.notifier_call = smh_netdev_event,
};

/* --- the answer line --------------------------------------------------------------------- */

struct smh_ack_line {
	char buf[SMH_ACK_LINE_LEN];
	unsigned int len;
	bool overflow;
};

static bool smh_parse_u64(const char **p, const char *end, unsigned int base, u64 *out)
{
	const char *s = *p;
	u64 v = 0;

	for (; s < end && isxdigit(*s); s++) {
		unsigned int d = isdigit(*s) ? *s - '0' : (tolower(*s) - 'a' + 10);

		if (d >= base || v > (U64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	if (s == *p)
		return false;
	*p = s;
	*out = v;
	return true;
}

/*
 * Whether the line answers notice msgid of this boot: "SENTRY-ACK <boot> <msgid> <res>", boot
 * as 16 hex digits, msgid and res in decimal; anything before "SENTRY-ACK" is ignored.
 */
static bool smh_ack_match(const char *line, unsigned int len, u64 msgid, unsigned long *res)
{
	const char *end = line + len;
	const char *p = strnstr(line, smh_ack_prefix, len);
	const char *boot_end;
	u64 boot, id, value;

	if (!p)
		return false;
	p += sizeof(smh_ack_prefix) - 1;
	boot_end = p + 16;
	if (end - p < 17 || !smh_parse_u64(&p, boot_end, 16, &boot) || p != boot_end || *p++ != ' ')
		return false;
	if (!smh_parse_u64(&p, end, 10, &id) || p >= end || *p++ != ' ')
		return false;
	if (!smh_parse_u64(&p, end, 10, &value) || p != end || value > ULONG_MAX)
		return false;
	if (boot != smh_boot_id || id != msgid)
		return false;
	*res = value;
	return true;
}

/* Reads what the UART has; true once a line answers msgid. */
static bool smh_uart_poll(struct smh_ack_line *line, u64 msgid, unsigned long *res)
{
	unsigned int n;

	for (n = 0; n < 64; n++) {
		u8 lsr = inb(smh_ack_port + UART_LSR);
		u8 c;

		if (lsr == 0xff || !(lsr & UART_LSR_DR))
			return false;
		c = inb(smh_ack_port + UART_RX);
		if (c == '\n' || c == '\r') {
			if (!line->overflow && smh_ack_match(line->buf, line->len, msgid, res))
				return true;
			line->len = 0;
			line->overflow = false;
		} else if (line->len < sizeof(line->buf)) {
			line->buf[line->len++] = c;
		} else {
			line->overflow = true;
		}
	}
	return false;
}

/* At panic time: the receive buffer register must be visible (divisor latch off). */
static bool smh_uart_ready(void)
{
	u8 lcr;

	if (!smh_ack_port || inb(smh_ack_port + UART_LSR) == 0xff)
		return false;
	lcr = inb(smh_ack_port + UART_LCR);
	if (lcr & UART_LCR_DLAB)
		outb(lcr & ~UART_LCR_DLAB, smh_ack_port + UART_LCR);
	return true;
}

/* 8N1 at baud, no interrupts, FIFO on: only when the module holds the port's io region. */
static void smh_uart_setup(unsigned int baud)
{
	unsigned int div = SMH_UART_CLOCK_BAUD / baud;

	outb(UART_LCR_DLAB, smh_ack_port + UART_LCR);
	outb(div & 0xff, smh_ack_port + UART_DLL);
	outb(div >> 8, smh_ack_port + UART_DLM);
	outb(UART_LCR_WLEN8, smh_ack_port + UART_LCR);
	outb(0, smh_ack_port + UART_IER);
	outb(UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT,
	     smh_ack_port + UART_FCR);
	outb(UART_MCR_DTR | UART_MCR_RTS, smh_ack_port + UART_MCR);
}

/* --- the notice --------------------------------------------------------------------------- */

/* Copies src up to its first newline, each byte kept when keep() says so, else replaced. */
static void smh_copy_clean(char *dst, size_t size, const char *src, bool text)
{
	size_t i = 0;

	for (; src && *src && *src != '\n' && i + 1 < size; src++) {
		char c = *src;
		bool ok = text ? (c >= 0x20 && c < 0x7f)
			       : (isalnum(c) || c == '.' || c == '-' || c == '_' || c == ':');

		dst[i++] = ok ? c : (text ? '?' : '_');
	}
	dst[i] = '\0';
}

/*
 * The UDP payload, one line: "SENTRY-NOTICE v=1 kind=panic type=2 node=N boot=B msgid=I seq=S
 * cna=C eid=E timeout_ms=T answer=serial|none reason=TEXT\n" (docs/kmod.md).
 */
static int smh_notice_format(u64 msgid, unsigned int seq, unsigned int grace_ms, bool serial,
			     const char *reason)
{
	char node[__NEW_UTS_LEN + 1];
	char eid[SMH_EID_LEN];
	char why[128];

	smh_copy_clean(node, sizeof(node), init_utsname()->nodename, false);
	smh_copy_clean(eid, sizeof(eid), smh_eid, false);
	smh_copy_clean(why, sizeof(why), reason, true);
	return scnprintf(smh_notice, sizeof(smh_notice),
			 "SENTRY-NOTICE v=1 kind=panic type=%d node=%s boot=%016llx msgid=%llu "
			 "seq=%u cna=%u eid=%s timeout_ms=%u answer=%s reason=%s\n",
			 SMH_MESSAGE_PANIC, node[0] ? node : "-", smh_boot_id, msgid, seq,
			 READ_ONCE(smh_cna), eid[0] ? eid : "-", grace_ms,
			 serial ? "serial" : "none", why);
}

static void smh_notice_send(struct smh_peers *peers, int len)
{
	unsigned long flags;
	unsigned int i;

	local_irq_save(flags); /* netpoll wants them off; in a panic they are */
	for (i = 0; i < peers->count; i++)
		if (peers->np[i].dev)
			netpoll_send_udp(&peers->np[i], smh_notice, len);
	local_irq_restore(flags);
}

/* Elapsed time summed from ktime_get_mono_fast_ns() steps: a step back counts as none. */
struct smh_clock {
	u64 last;
	u64 elapsed;
	unsigned int stalled; /* reads since the clock last moved forward */
};

static void smh_clock_start(struct smh_clock *c)
{
	c->last = ktime_get_mono_fast_ns();
	c->elapsed = 0;
	c->stalled = 0;
}

/* Called once per poll: the time elapsed since smh_clock_start(). */
static u64 smh_clock_read(struct smh_clock *c)
{
	u64 now = ktime_get_mono_fast_ns();

	if (now > c->last) {
		c->elapsed += now - c->last;
		c->stalled = 0;
	} else if (++c->stalled > SMH_CLOCK_STALL_POLLS) {
		c->elapsed += SMH_POLL_US * NSEC_PER_USEC; /* the clock stands: count the polls */
	}
	c->last = now;
	return c->elapsed;
}

static int smh_panic_notify(struct notifier_block *nb, unsigned long code, void *data)
{
	unsigned int grace_ms = READ_ONCE(smh_panic_timeout_ms);
	u64 grace_ns = (u64)grace_ms * NSEC_PER_MSEC;
	u64 next_send = SMH_RESEND_MS * NSEC_PER_MSEC;
	struct smh_ack_line line = { .len = 0 };
	struct smh_peers *peers;
	struct smh_clock clock;
	unsigned long res = 0;
	unsigned int seq = 0;
	bool serial, answered = false;
	u64 msgid;

	if (!READ_ONCE(smh_panic_on) || smh_panic_entered)
		return NOTIFY_DONE;
	smh_panic_entered = true;
	peers = rcu_dereference_raw(smh_peers);
	if (!peers) {
		pr_emerg("panic: no peer configured (panic_target), no panic notice\n");
		return NOTIFY_DONE;
	}
	serial = smh_uart_ready();
	msgid = smh_next_msgid();
	smh_notice_send(peers, smh_notice_format(msgid, seq++, grace_ms, serial, data));
	atomic_long_inc(&smh_stats.panic_notices);
	pr_emerg("panic notice %llu sent to %u peer(s), waiting up to %u ms for the answer %s\n",
		 msgid, peers->count, grace_ms, serial ? "on the serial line" : "(no answer line)");

	smh_clock_start(&clock);
	while (smh_clock_read(&clock) < grace_ns) {
		if (serial && smh_uart_poll(&line, msgid, &res)) {
			answered = true;
			break;
		}
		if (clock.elapsed >= next_send) {
			smh_notice_send(peers,
					smh_notice_format(msgid, seq++, grace_ms, serial, data));
			next_send += SMH_RESEND_MS * NSEC_PER_MSEC;
		}
		touch_nmi_watchdog();
		udelay(SMH_POLL_US);
	}
	smh_clock_read(&clock);
	if (answered)
		pr_emerg("panic notice %llu answered after %llu ms (res %lu), the panic goes on\n",
			 msgid, div_u64(clock.elapsed, NSEC_PER_MSEC), res);
	else
		pr_emerg("panic notice %llu: no answer after %llu ms, the panic goes on\n", msgid,
			 div_u64(clock.elapsed, NSEC_PER_MSEC));
	return NOTIFY_DONE;
}

static struct notifier_block smh_panic_nb = {
	.notifier_call = smh_panic_notify,
	.priority = INT_MAX, /* first: before kmsg dumpers and the like */
};

/* Called when the panic switch goes on: says what would keep the notice from going out. */
void smh_panic_check_enable(void)
{
	if (kexec_crash_loaded())
		pr_warn("panic notices: a crash kernel is loaded; they go out only with crash_kexec_post_notifiers set\n");
	if (!rcu_access_pointer(smh_peers))
		pr_warn("panic notices: no peer configured yet (panic_target)\n");
}

static int smh_ack_line_init(unsigned int port, unsigned int baud)
{
	if (!port)
		return 0;
	if (port > 0xfff8 || (baud && (baud > SMH_UART_CLOCK_BAUD || SMH_UART_CLOCK_BAUD % baud))) {
		pr_err("panic_ack_port=0x%x panic_ack_baud=%u: want an io port and a divisor of %u\n",
		       port, baud, SMH_UART_CLOCK_BAUD);
		return -EINVAL;
	}
	smh_ack_port = port;
	smh_ack_region = request_region(port, SMH_UART_SPAN, KBUILD_MODNAME) != NULL;
	if (inb(port + UART_LSR) == 0xff) {
		pr_warn("panic_ack_port=0x%x: no UART there (it reads 0xff), panics wait the whole grace\n",
			port);
	} else if (!smh_ack_region) {
		pr_info("panic_ack_port=0x%x belongs to another driver: read only in a panic\n",
			port);
	} else if (baud) {
		smh_uart_setup(baud);
	}
	return 0;
}

int smh_panic_init(const char *targets, unsigned int ack_port, unsigned int ack_baud)
{
	int ret;

	ret = smh_ack_line_init(ack_port, ack_baud);
	if (ret)
		return ret;
	ret = register_netdevice_notifier(&smh_netdev_nb);
	if (ret)
		goto release_port;
	if (targets) {
		ret = smh_panic_targets_set(targets);
		if (ret == -EINVAL || ret == -E2BIG) {
			pr_err("panic_target=%s: want [sport]@[sip]/[dev],[dport]@dip/[dmac][;...], at most %d\n",
			       targets, SMH_PEERS_MAX);
			goto unregister_netdev;
		}
		if (ret)
			pr_warn("panic_target=%s: not set up (%d); write it to /proc/sentry_remote_reporter/panic_target when the device is up\n",
				targets, ret);
	}
	ret = atomic_notifier_chain_register(&panic_notifier_list, &smh_panic_nb);
	if (ret)
		goto clear_targets;
	if (READ_ONCE(smh_panic_on))
		smh_panic_check_enable();
	return 0;

clear_targets:
	smh_panic_targets_set("");
unregister_netdev:
	unregister_netdevice_notifier(&smh_netdev_nb);
release_port:
	if (smh_ack_region)
		release_region(smh_ack_port, SMH_UART_SPAN);
	return ret;
}

void smh_panic_exit(void)
{
	atomic_notifier_chain_unregister(&panic_notifier_list, &smh_panic_nb);
	smh_panic_targets_set("");
	unregister_netdevice_notifier(&smh_netdev_nb);
	if (smh_ack_region)
		release_region(smh_ack_port, SMH_UART_SPAN);
}
