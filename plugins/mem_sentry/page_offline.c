/* page_offline.c: see page_offline.h. Only open, write, pread and read of the kernel's files;
 * no allocation. */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "page_offline.h"
#include "parse_number.h"
#include "string_table.h"

/* /proc/meminfo is about 1.5 KiB; a file bigger than this is not meminfo. */
#define MEMINFO_MAX 16384

static const char *const result_names[_PAGE_OFFLINE_RESULT_MAX] = {
    [PAGE_OFFLINE_VERIFIED] = "verified",     [PAGE_OFFLINE_NOT_POISONED] = "not-poisoned",
    [PAGE_OFFLINE_UNVERIFIED] = "unverified", [PAGE_OFFLINE_REFUSED] = "refused",
    [PAGE_OFFLINE_ABSENT] = "absent",
};
DEFINE_STRING_TABLE_LOOKUP(page_offline_result, enum page_offline_result, result_names,
                           _PAGE_OFFLINE_RESULT_MAX)

static bool action_is_offline(enum mem_action a)
{
    return a == MEM_ACTION_SOFT || a == MEM_ACTION_HARD || a == MEM_ACTION_SOFT_THEN_HARD;
}

static int path_join(char *buf, size_t size, const char *root, const char *rel)
{
    int n = snprintf(buf, size, "%s/%s", root, rel);
    return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

int page_offline_write(const struct page_offline_roots *roots, enum mem_action action,
                       uint64_t phys_addr)
{
    _cleanup_close_ int fd = -EBADF;
    char path[PATH_MAX], text[32];
    int r, len;

    assert_return(roots && roots->sysfs, -EINVAL);
    assert_return(action == MEM_ACTION_SOFT || action == MEM_ACTION_HARD, -EINVAL);
    r = path_join(path, sizeof(path), roots->sysfs,
                  action == MEM_ACTION_SOFT ? "devices/system/memory/soft_offline_page"
                                            : "devices/system/memory/hard_offline_page");
    if (r < 0)
        return r;
    len = snprintf(text, sizeof(text), "0x%" PRIx64 "\n", phys_addr);
    if (len < 0 || (size_t) len >= sizeof(text))
        return -EINVAL;
    fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    /* One write: the kernel takes the whole address or refuses it with an errno. */
    for (;;) {
        ssize_t n = write(fd, text, (size_t) len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n != len)
            return -EIO;
        break;
    }
    r = close(TAKE_FD(fd));
    return r < 0 && errno != EINTR ? -errno : 0;
}

int page_offline_read_hwpoison(const struct page_offline_roots *roots, uint64_t pfn)
{
    _cleanup_close_ int fd = -EBADF;
    char path[PATH_MAX];
    uint64_t flags;
    ssize_t n;
    int r;

    assert_return(roots && roots->proc, -EINVAL);
    if (pfn > (uint64_t) INT64_MAX / sizeof(flags))
        return -ERANGE;
    r = path_join(path, sizeof(path), roots->proc, "kpageflags");
    if (r < 0)
        return r;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    do
        n = pread(fd, &flags, sizeof(flags), (off_t) (pfn * sizeof(flags)));
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if (n == 0)
        return -ERANGE; /* past the last pfn the kernel knows */
    if (n != (ssize_t) sizeof(flags))
        return -EIO;
    return (int) ((flags >> PAGE_OFFLINE_KPF_HWPOISON) & 1);
}

/* The value of "HardwareCorrupted:   <n> kB" in text. */
static int meminfo_corrupted(const char *text, uint64_t *ret_kb)
{
    static const char key[] = "HardwareCorrupted:";
    const char *p = text;
    char digits[24];
    size_t n = 0;

    while (!startswith(p, key)) {
        p = strchr(p, '\n');
        if (!p)
            return -ENOENT;
        p++;
    }
    p += sizeof(key) - 1;
    while (*p == ' ' || *p == '\t')
        p++;
    while (p[n] >= '0' && p[n] <= '9')
        n++;
    if (n == 0 || n >= sizeof(digits) || !startswith(p + n, " kB"))
        return -EBADMSG;
    memcpy(digits, p, n);
    digits[n] = 0;
    return parse_uint_digits(digits, ret_kb) < 0 ? -EBADMSG : 0;
}

int page_offline_read_corrupted_kb(const struct page_offline_roots *roots, uint64_t *ret_kb)
{
    _cleanup_close_ int fd = -EBADF;
    char path[PATH_MAX], buf[MEMINFO_MAX];
    size_t len = 0;
    int r;

    assert_return(roots && roots->proc && ret_kb, -EINVAL);
    r = path_join(path, sizeof(path), roots->proc, "meminfo");
    if (r < 0)
        return r;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    /* proc files have no size: read until EOF, refuse what does not fit. */
    for (;;) {
        ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        len += (size_t) n;
        if (len == sizeof(buf) - 1)
            return -EFBIG;
    }
    buf[len] = 0;
    if (strlen(buf) != len)
        return -EBADMSG;
    return meminfo_corrupted(buf, ret_kb);
}

static void offline_step(const struct page_offline_roots *roots, uint64_t pfn, uint64_t addr,
                         enum mem_action action, struct page_offline_step *s)
{
    int r = page_offline_write(roots, action, addr);

    *s = (struct page_offline_step){.error = r < 0 ? r : 0};
    if (r == -ENOENT) {
        s->result = PAGE_OFFLINE_ABSENT;
        return;
    }
    if (r < 0) {
        s->result = PAGE_OFFLINE_REFUSED;
        return;
    }
    r = page_offline_read_hwpoison(roots, pfn);
    if (r < 0) {
        s->result = PAGE_OFFLINE_UNVERIFIED;
        s->verify_error = r;
    } else
        s->result = r ? PAGE_OFFLINE_VERIFIED : PAGE_OFFLINE_NOT_POISONED;
}

static int64_t corrupted_or_unknown(const struct page_offline_roots *roots)
{
    uint64_t kb;
    return page_offline_read_corrupted_kb(roots, &kb) < 0 || kb > INT64_MAX ? -1 : (int64_t) kb;
}

int page_offline_run(const struct page_offline_roots *roots, uint64_t pfn, unsigned page_size,
                     enum mem_action action, struct page_offline_outcome *ret)
{
    struct page_offline_outcome o = {0};
    const struct page_offline_step *last;

    assert_return(roots && roots->sysfs && roots->proc && ret, -EINVAL);
    assert_return(page_size > 0 && (page_size & (page_size - 1)) == 0, -EINVAL);
    assert_return(action_is_offline(action), -EINVAL);
    assert_return(pfn <= UINT64_MAX / page_size, -EINVAL);

    o.corrupted_before_kb = corrupted_or_unknown(roots);
    if (action != MEM_ACTION_HARD) {
        offline_step(roots, pfn, pfn * page_size, MEM_ACTION_SOFT, &o.soft);
        o.done = MEM_ACTION_SOFT;
    }
    /* Hard offline may kill the page's users: only after a soft one that surely failed, never
     * after one that may have worked but could not be read back. */
    if (action == MEM_ACTION_HARD ||
        (action == MEM_ACTION_SOFT_THEN_HARD && o.soft.result != PAGE_OFFLINE_VERIFIED &&
         o.soft.result != PAGE_OFFLINE_UNVERIFIED)) {
        o.fell_back = action == MEM_ACTION_SOFT_THEN_HARD;
        offline_step(roots, pfn, pfn * page_size, MEM_ACTION_HARD, &o.hard);
        o.done = MEM_ACTION_HARD;
    }
    o.corrupted_after_kb = corrupted_or_unknown(roots);
    last = o.done == MEM_ACTION_HARD ? &o.hard : &o.soft;
    o.result = last->result;
    o.error = last->error ? last->error : last->verify_error;
    *ret = o;
    return 0;
}

bool page_offline_outcome_retryable(const struct page_offline_outcome *o)
{
    if (!o)
        return false;
    if (o->result == PAGE_OFFLINE_NOT_POISONED)
        return true;
    if (o->result != PAGE_OFFLINE_REFUSED)
        return false;
    switch (-o->error) {
    case EPERM:
    case EACCES:
    case EINVAL:
    case ENXIO:
    case EROFS:
    case EISDIR:
    case ENOTDIR:
        return false;
    default:
        return true;
    }
}

uint64_t page_offline_retry_delay_ns(unsigned failures)
{
    unsigned shift = failures > 0 ? failures - 1 : 0;

    /* 2^12 s is past the cap: no shift beyond it, so no overflow either. */
    if (shift >= 12)
        return PAGE_OFFLINE_RETRY_CAP_NS;
    return MIN(PAGE_OFFLINE_RETRY_FIRST_NS << shift, PAGE_OFFLINE_RETRY_CAP_NS);
}

int page_offline_retry_init(struct page_offline_retry *r, uint64_t pfn, enum mem_action action,
                            unsigned max_tries)
{
    assert_return(r, -EINVAL);
    assert_return(action_is_offline(action), -EINVAL);
    assert_return(max_tries >= 1 && max_tries <= PAGE_OFFLINE_TRIES_MAX, -EINVAL);
    *r = (struct page_offline_retry){.pfn = pfn, .action = action, .max_tries = max_tries};
    return 0;
}

bool page_offline_retry_failed(struct page_offline_retry *r, uint64_t now_ns)
{
    uint64_t delay;

    if (r->given_up)
        return false;
    r->failures++;
    if (r->failures >= r->max_tries) {
        r->given_up = true;
        return false;
    }
    delay = page_offline_retry_delay_ns(r->failures);
    r->next_ns = now_ns > UINT64_MAX - delay ? UINT64_MAX : now_ns + delay;
    return true;
}

bool page_offline_retry_due(const struct page_offline_retry *r, uint64_t now_ns)
{
    return !r->given_up && now_ns >= r->next_ns;
}
