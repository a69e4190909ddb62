// SPDX-License-Identifier: GPL-2.0-only
/*
 * smh_reserve.c - pages an OOM wait lends to the programs that carry its answer.
 *
 * While the OOM notifier waits, the kernel's oom_lock is held, and an allocation that the free
 * pages above the min watermark cannot serve ends in __alloc_pages_may_oom(), which sleeps
 * until oom_lock is free. The steps that carry the answer allocate: the reader's socket
 * buffers, page faults of sentryd and of the pool manager, a log line's page cache. Unserved,
 * each of them waits as long as the notifier does, and the answer comes after the timeout.
 *
 * So oom_reserve_kb of pages are kept aside while memory is plentiful, and all of them are
 * freed when an OOM notice is posted; the relay's allocations are served from them. They are
 * taken back by a work item, a second after the wait and then every second, only while the
 * kernel deems that much memory available, and never by reclaim (GFP_NOWAIT).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/jiffies.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "smh.h"

#define SMH_RESERVE_RETRY_MS 1000
#define SMH_RESERVE_HEADROOM 4 /* take pages back only while 4 times as many are available */

static DEFINE_SPINLOCK(smh_reserve_lock);
static LIST_HEAD(smh_reserve_list); /* the pages, linked through page->lru */
static unsigned long smh_reserve_n; /* pages on the list */
static unsigned long smh_reserve_want;

static void smh_reserve_fill(struct work_struct *work);
static DECLARE_DELAYED_WORK(smh_reserve_work, smh_reserve_fill);

static unsigned long smh_reserve_missing(void)
{
	unsigned long missing;

	spin_lock(&smh_reserve_lock);
	missing = smh_reserve_want - smh_reserve_n;
	spin_unlock(&smh_reserve_lock);
	return missing;
}

/* Takes pages until the reserve is whole; while memory is short, tries again later. */
static void smh_reserve_fill(struct work_struct *work)
{
	unsigned long missing;
	struct page *page;

	while ((missing = smh_reserve_missing()) != 0) {
		page = NULL;
		if (si_mem_available() / SMH_RESERVE_HEADROOM >= missing)
			page = alloc_page(GFP_NOWAIT | __GFP_NOWARN);
		if (!page) {
			schedule_delayed_work(&smh_reserve_work,
					      msecs_to_jiffies(SMH_RESERVE_RETRY_MS));
			return;
		}
		spin_lock(&smh_reserve_lock);
		list_add(&page->lru, &smh_reserve_list);
		smh_reserve_n++;
		spin_unlock(&smh_reserve_lock);
	}
}

static unsigned long smh_reserve_free(void)
{
	struct page *page, *next;
	unsigned long n;
	LIST_HEAD(pages);

	spin_lock(&smh_reserve_lock);
	list_splice_init(&smh_reserve_list, &pages);
	n = smh_reserve_n;
	smh_reserve_n = 0;
	spin_unlock(&smh_reserve_lock);
	list_for_each_entry_safe(page, next, &pages, lru) {
		list_del(&page->lru);
		__free_page(page);
	}
	return n;
}

/*
 * Frees the whole reserve, from the OOM notifier (oom_lock held: nothing here allocates or
 * sleeps). Returns the pages freed.
 */
unsigned long smh_reserve_lend(void)
{
	unsigned long n = smh_reserve_free();

	if (n)
		atomic_long_inc(&smh_stats.oom_reserve_lent);
	return n;
}

/* After an OOM wait: the reserve is taken back once the memory is there again. */
void smh_reserve_refill_later(void)
{
	if (smh_reserve_want)
		mod_delayed_work(system_wq, &smh_reserve_work,
				 msecs_to_jiffies(SMH_RESERVE_RETRY_MS));
}

unsigned long smh_reserve_pages(void)
{
	unsigned long n;

	spin_lock(&smh_reserve_lock);
	n = smh_reserve_n;
	spin_unlock(&smh_reserve_lock);
	return n;
}

/* Sets the reserve's size and fills it now, as far as memory allows (the rest comes later). */
void smh_reserve_init(unsigned int kb)
{
	smh_reserve_want = kb >> (PAGE_SHIFT - 10);
	smh_reserve_fill(NULL);
	if (smh_reserve_n < smh_reserve_want)
		pr_info("OOM reserve: %lu of %lu pages now, the rest when memory allows\n",
			smh_reserve_n, smh_reserve_want);
}

void smh_reserve_exit(void)
{
	cancel_delayed_work_sync(&smh_reserve_work); /* also when it requeues itself */
	smh_reserve_want = 0;
	smh_reserve_free();
}
