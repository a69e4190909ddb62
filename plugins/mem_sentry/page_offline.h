/* page_offline.h: carrying out an OFFLINE decision of the policy, and proving it took.
 *
 * The page's physical address is written in hex ("0x...\n", as the kernel's
 * Documentation/ABI/testing/sysfs-memory-page-offline says) to
 * <sysfs>/devices/system/memory/soft_offline_page or hard_offline_page. Every write's errno is
 * kept. A write the kernel accepted is not trusted (mcelog reports success for offlines that did
 * not take): the page's entry in <proc>/kpageflags is read back and only its hwpoison bit
 * (KPF_HWPOISON) makes the result VERIFIED. HardwareCorrupted of <proc>/meminfo is read before
 * and after as a second witness for people (other pages may change it meanwhile, so it never
 * decides). soft-then-hard writes hard_offline_page when the soft offline was refused or did not
 * poison the page.
 *
 * The roots are parameters so that tests run against a fake tree. The retry schedule of failed
 * offlines is plain data driven by now_ns, like the policy: no clock in here. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "mem_vocab.h"

#define PAGE_OFFLINE_KPF_HWPOISON 19 /* include/uapi/linux/kernel-page-flags.h */

enum page_offline_result {
    PAGE_OFFLINE_VERIFIED,     /* written, and the page's hwpoison bit is set */
    PAGE_OFFLINE_NOT_POISONED, /* written without error, but the bit is clear: it did not take */
    PAGE_OFFLINE_UNVERIFIED,   /* written without error, kpageflags could not be read */
    PAGE_OFFLINE_REFUSED,      /* the open or write failed: error holds the errno */
    PAGE_OFFLINE_ABSENT,       /* no such sysfs file: the kernel has no memory-failure support */
    _PAGE_OFFLINE_RESULT_MAX,
    _PAGE_OFFLINE_RESULT_INVALID = -EINVAL,
};
/* "verified", "not-poisoned", "unverified", "refused", "absent" */
const char *page_offline_result_to_string(enum page_offline_result r);
int page_offline_result_from_string(const char *s);

/* Where the kernel's files are: "/sys" and "/proc" on a real system. */
struct page_offline_roots {
    const char *sysfs;
    const char *proc;
};

/* One offline attempt (soft or hard) and what was read back. */
struct page_offline_step {
    enum page_offline_result result;
    int error;        /* REFUSED / ABSENT: the negative errno of the open or write */
    int verify_error; /* UNVERIFIED: the negative errno of reading kpageflags */
};

struct page_offline_outcome {
    enum page_offline_result result; /* of the last step: the one that counts */
    enum mem_action done;            /* MEM_ACTION_SOFT or _HARD: the last step */
    int error;                       /* the last step's error, 0 when none */
    bool fell_back;                  /* soft-then-hard: the soft step failed, hard was tried */
    struct page_offline_step soft, hard;
    int64_t corrupted_before_kb; /* HardwareCorrupted; -1 when it could not be read */
    int64_t corrupted_after_kb;
};

/* Offlines page pfn (its physical address is pfn * page_size, page_size a power of two) with
 * action soft, hard or soft-then-hard. Returns 0 and the outcome when an attempt was made (the
 * outcome says whether it worked), -EINVAL for bad arguments. */
int page_offline_run(const struct page_offline_roots *roots, uint64_t pfn, unsigned page_size,
                     enum mem_action action, struct page_offline_outcome *ret);

/* The building blocks, for tests and for the start-up check. Writes "0x<addr>\n" to the file of
 * action (soft or hard): 0, -ENOENT when absent, or the write's -errno. */
int page_offline_write(const struct page_offline_roots *roots, enum mem_action action,
                       uint64_t phys_addr);
/* 1 when pfn's hwpoison bit is set, 0 when clear, -errno when kpageflags cannot be read (-ERANGE
 * when it has no entry for pfn). */
int page_offline_read_hwpoison(const struct page_offline_roots *roots, uint64_t pfn);
/* HardwareCorrupted of meminfo in kB; -ENOENT when the line is absent. */
int page_offline_read_corrupted_kb(const struct page_offline_roots *roots, uint64_t *ret_kb);

/* Whether a failed outcome is worth another try: not-poisoned, and refusals that may be
 * temporary (EBUSY, EIO, EAGAIN, ENOMEM, ...). Never: verified, unverified (it may have taken;
 * trying hard again could kill for nothing), absent, and EPERM, EACCES, EINVAL, ENXIO, EROFS,
 * which a retry would only repeat. */
bool page_offline_outcome_retryable(const struct page_offline_outcome *o);

/* Retry with exponential backoff: 1 s, 2 s, 4 s, ... capped at 1 h, at most max_tries attempts
 * in all (the first one included); PAGE_OFFLINE_TRIES_DEFAULT when the caller has no setting. */
#define PAGE_OFFLINE_RETRY_FIRST_NS (1000000000ULL)
#define PAGE_OFFLINE_RETRY_CAP_NS   (3600ULL * 1000000000ULL)
#define PAGE_OFFLINE_TRIES_DEFAULT  10
#define PAGE_OFFLINE_TRIES_MAX      64

struct page_offline_retry {
    uint64_t pfn;
    enum mem_action action;
    unsigned max_tries;
    unsigned failures; /* attempts that failed so far */
    uint64_t next_ns;  /* when the next attempt is due; meaningless once given up */
    bool given_up;
};

/* The wait after the n-th failure (n >= 1): 1 s << (n - 1), at most the cap. */
uint64_t page_offline_retry_delay_ns(unsigned failures);
/* -EINVAL when max_tries is 0 or above PAGE_OFFLINE_TRIES_MAX or action is not an offline. */
int page_offline_retry_init(struct page_offline_retry *r, uint64_t pfn, enum mem_action action,
                            unsigned max_tries);
/* Records a failed attempt at now_ns. Returns true when another is scheduled (at r->next_ns),
 * false when the tries are spent (r->given_up). */
bool page_offline_retry_failed(struct page_offline_retry *r, uint64_t now_ns);
bool page_offline_retry_due(const struct page_offline_retry *r, uint64_t now_ns);
