/* test_mem_page_offline: the sysfs page offline against a fake kernel tree (a regular file for
 * soft_offline_page records what was written; a directory or /dev/full makes the write fail;
 * kpageflags with the hwpoison bit set or not): each action verified, refused, written but not
 * poisoned, absent; soft-then-hard falling back only when soft surely failed; meminfo's
 * HardwareCorrupted; which failures are retried, and the backoff schedule. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_util.h"

#include "macro.h"
#include "page_offline.h"

#define PAGE     4096U
#define PFN      0x1234ULL
#define SOFT_REL "sys/devices/system/memory/soft_offline_page"
#define HARD_REL "sys/devices/system/memory/hard_offline_page"

struct fixture {
    char dir[256];
    char sys[300], proc[300];
    struct page_offline_roots roots;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    const char *tmp = getenv("TMPDIR");

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "%s/test_mem_page_offline.XXXXXX",
             isempty(tmp) ? "/tmp" : tmp);
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->sys, sizeof(f->sys), "%s/sys", f->dir);
    snprintf(f->proc, sizeof(f->proc), "%s/proc", f->dir);
    assert_int_equal(test_mkdirs(f->dir, "sys/devices/system/memory"), 0);
    assert_int_equal(test_mkdirs(f->dir, "proc"), 0);
    f->roots = (struct page_offline_roots){.sysfs = f->sys, .proc = f->proc};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(test_rm_rf(f->dir), 0);
    free(f);
    return 0;
}

/* The kernel's files as a fresh system has them: both offline files empty and writable. */
static void offline_files(const struct fixture *f)
{
    assert_int_equal(test_write_file(f->dir, SOFT_REL, ""), 0);
    assert_int_equal(test_write_file(f->dir, HARD_REL, ""), 0);
}

/* kpageflags with entries up to pfn; pfn's has other bits set and hwpoison as asked. */
static void kpageflags(const struct fixture *f, uint64_t pfn, int poisoned)
{
    char path[400];
    FILE *file;

    snprintf(path, sizeof(path), "%s/kpageflags", f->proc);
    file = fopen(path, "we");
    assert_non_null(file);
    for (uint64_t i = 0; i <= pfn; i++) {
        /* neighbours poisoned, pfn's own bit as asked: an off-by-one would show */
        uint64_t v = i == pfn ? (1ULL << 5) | (1ULL << 20) | (1ULL << 18) : 1ULL << 19;
        if (i == pfn && poisoned)
            v |= 1ULL << 19; /* KPF_HWPOISON, the kernel ABI: not our constant */
        assert_int_equal(fwrite(&v, sizeof(v), 1, file), 1);
    }
    assert_int_equal(fclose(file), 0);
}

static void meminfo(const struct fixture *f, unsigned kb)
{
    char text[256];

    snprintf(text, sizeof(text),
             "MemTotal:        8000000 kB\nMemFree:         100 kB\nHardwareCorrupted:  %5u kB\n"
             "AnonHugePages:         0 kB\n",
             kb);
    assert_int_equal(test_write_file(f->dir, "proc/meminfo", text), 0);
}

/* The path of root/rel. */
static const char *at(const struct fixture *f, const char *rel)
{
    static char path[400];

    snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
    return path;
}

/* The text of root/rel, "" when empty. */
static const char *contents(const struct fixture *f, const char *rel)
{
    static char buf[256];
    char path[400];
    FILE *file;
    size_t n;

    snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
    file = fopen(path, "re");
    assert_non_null(file);
    n = fread(buf, 1, sizeof(buf) - 1, file);
    buf[n] = 0;
    fclose(file);
    return buf;
}

static void test_names(void **state)
{
    (void) state;
    for (int i = 0; i < _PAGE_OFFLINE_RESULT_MAX; i++)
        assert_int_equal(page_offline_result_from_string(page_offline_result_to_string(i)), i);
    assert_string_equal(page_offline_result_to_string(PAGE_OFFLINE_NOT_POISONED), "not-poisoned");
    assert_int_equal(page_offline_result_from_string("ok"), -EINVAL);
    assert_null(page_offline_result_to_string(_PAGE_OFFLINE_RESULT_MAX));
}

static void test_soft_and_hard_verified(void **state)
{
    struct fixture *f = *state;
    struct page_offline_outcome o;

    offline_files(f);
    kpageflags(f, PFN, 1);
    meminfo(f, 4);
    assert_int_equal(page_offline_run(&f->roots, PFN, PAGE, MEM_ACTION_SOFT, &o), 0);
    assert_int_equal(o.result, PAGE_OFFLINE_VERIFIED);
    assert_int_equal(o.done, MEM_ACTION_SOFT);
    assert_int_equal(o.error, 0);
    assert_false(o.fell_back);
    assert_string_equal(contents(f, SOFT_REL), "0x1234000\n");
    assert_string_equal(contents(f, HARD_REL), "");
    assert_int_equal(o.corrupted_before_kb, 4);
    assert_int_equal(o.corrupted_after_kb, 4);
    assert_false(page_offline_outcome_retryable(&o));

    offline_files(f);
    assert_int_equal(page_offline_run(&f->roots, PFN, PAGE, MEM_ACTION_HARD, &o), 0);
    assert_int_equal(o.result, PAGE_OFFLINE_VERIFIED);
    assert_int_equal(o.done, MEM_ACTION_HARD);
    assert_false(o.fell_back);
    assert_string_equal(contents(f, SOFT_REL), "");
    assert_string_equal(contents(f, HARD_REL), "0x1234000\n");

    /* 64 KiB pages (arm64, ppc64): the address follows the page size */
    offline_files(f);
    assert_int_equal(page_offline_run(&f->roots, PFN, 65536, MEM_ACTION_SOFT, &o), 0);
    assert_string_equal(contents(f, SOFT_REL), "0x12340000\n");
}

static void test_not_poisoned(void **state)
{
    struct fixture *f = *state;
    struct page_offline_outcome o;

    /* mcelog's bug: the write is accepted, the page is still in use */
    offline_files(f);
    kpageflags(f, PFN, 0);
    meminfo(f, 0);
    for (int a = MEM_ACTION_SOFT; a <= MEM_ACTION_HARD; a++) {
        assert_int_equal(page_offline_run(&f->roots, PFN, PAGE, a, &o), 0);
        assert_int_equal(o.result, PAGE_OFFLINE_NOT_POISONED);
        assert_int_equal(o.done, a);
        assert_int_equal(o.error, 0);
        assert_true(page_offline_outcome_retryable(&o));
    }
    assert_int_equal(page_offline_read_hwpoison(&f->roots, PFN), 0);
    assert_int_equal(page_offline_read_hwpoison(&f->roots, PFN - 1), 1);
}

static void test_refused(void **state)
{
    struct fixture *f = *state;
    struct page_offline_outcome o;

    kpageflags(f, PFN, 1);
    meminfo(f, 0);
    /* refused at open: a directory where the file should be */
    assert_int_equal(test_mkdirs(f->dir, SOFT_REL), 0);
    assert_int_equal(test_mkdirs(f->dir, HARD_REL), 0);
    for (int a = MEM_ACTION_SOFT; a <= MEM_ACTION_HARD; a++) {
        assert_int_equal(page_offline_run(&f->roots, PFN, PAGE, a, &o), 0);
        assert_int_equal(o.result, PAGE_OFFLINE_REFUSED);
        assert_int_equal(o.error, -EISDIR);
        assert_false(page_offline_outcome_retryable(&o));
    }
    assert_int_equal(test_rm_rf(f->sys), 0);

    /* refused at write, as the kernel does with EBUSY / EIO: /dev/full says ENOSPC */
    assert_int_equal(test_mkdirs(f->dir, "sys/devices/system/memory"), 0);
    assert_int_equal(symlink("/dev/full", at(f, SOFT_REL)), 0);
    assert_int_equal(page_offline_run(&f->roots, PFN, PAGE, MEM_ACTION_SOFT, &o), 0);
    assert_int_equal(o.result, PAGE_OFFLINE_REFUSED);
    assert_int_equal(o.error, -ENOSPC);
    assert_int_equal(o.soft.error, -ENOSPC);
    assert_true(page_offline_outcome_retryable(&o));
    assert_int_equal(page_offline_write(&f->roots, MEM_ACTION_SOFT, 0x1000), -ENOSPC);
}

static void test_absent(void **state)
{
    struct fixture *f = *state;
    struct page_offline_outcome o;

    /* a kernel without CONFIG_MEMORY_FAILURE: no offline files */
    kpageflags(f, PFN, 0);
    for (int a = MEM_ACTION_SOFT; a <= MEM_ACTION_SOFT_THEN_HARD; a++) {
        assert_int_equal(page_offline_run(&f->roots, PFN, PAGE, a, &o), 0);
        assert_int_equal(o.result, PAGE_OFFLINE_ABSENT);
        assert_int_equal(o.error, -ENOENT);
        assert_false(page_offline_outcome_retryable(&o));
        /* no meminfo here either: unknown, not 0 */
        assert_int_equal(o.corrupted_before_kb, -1);
        assert_int_equal(o.corrupted_after_kb, -1);
    }
    assert_true(o.fell_back);
    assert_int_equal(o.soft.result, PAGE_OFFLINE_ABSENT);
    assert_int_equal(o.hard.result, PAGE_OFFLINE_ABSENT);
    /* the write never creates the file */
    assert_int_equal(access(f->sys, F_OK), 0);
    assert_int_equal(page_offline_write(&f->roots, MEM_ACTION_HARD, 0), -ENOENT);
}

static void test_soft_then_hard(void **state)
{
    struct fixture *f = *state;
    struct page_offline_outcome o;

    /* soft took: hard is never written */
    offline_files(f);
    kpageflags(f, PFN, 1);
    meminfo(f, 8);
    assert_int_equal(page_offline_run(&f->roots, PFN, PAGE, MEM_ACTION_SOFT_THEN_HARD, &o), 0);
    assert_int_equal(o.result, PAGE_OFFLINE_VERIFIED);
    assert_int_equal(o.done, MEM_ACTION_SOFT);
    assert_false(o.fell_back);
    assert_string_equal(contents(f, SOFT_REL), "0x1234000\n");
    assert_string_equal(contents(f, HARD_REL), "");

    /* soft refused: hard follows and takes */
    assert_int_equal(unlink(at(f, SOFT_REL)), 0);
    assert_int_equal(test_mkdirs(f->dir, SOFT_REL), 0);
    assert_int_equal(page_offline_run(&f->roots, PFN, PAGE, MEM_ACTION_SOFT_THEN_HARD, &o), 0);
    assert_true(o.fell_back);
    assert_int_equal(o.soft.result, PAGE_OFFLINE_REFUSED);
    assert_int_equal(o.soft.error, -EISDIR);
    assert_int_equal(o.hard.result, PAGE_OFFLINE_VERIFIED);
    assert_int_equal(o.result, PAGE_OFFLINE_VERIFIED);
    assert_int_equal(o.done, MEM_ACTION_HARD);
    assert_int_equal(o.error, 0);
    assert_string_equal(contents(f, HARD_REL), "0x1234000\n");

    /* soft written but not poisoned: hard follows too */
    assert_int_equal(rmdir(at(f, SOFT_REL)), 0);
    offline_files(f);
    kpageflags(f, PFN, 0);
    assert_int_equal(page_offline_run(&f->roots, PFN, PAGE, MEM_ACTION_SOFT_THEN_HARD, &o), 0);
    assert_true(o.fell_back);
    assert_int_equal(o.soft.result, PAGE_OFFLINE_NOT_POISONED);
    assert_int_equal(o.hard.result, PAGE_OFFLINE_NOT_POISONED);
    assert_string_equal(contents(f, SOFT_REL), "0x1234000\n");
    assert_string_equal(contents(f, HARD_REL), "0x1234000\n");
}

static void test_unverified(void **state)
{
    struct fixture *f = *state;
    struct page_offline_outcome o;
    char path[400];

    /* no kpageflags (no CAP_SYS_ADMIN, or no such file): the soft offline may have taken, so
     * no hard offline follows */
    offline_files(f);
    meminfo(f, 0);
    assert_int_equal(page_offline_run(&f->roots, PFN, PAGE, MEM_ACTION_SOFT_THEN_HARD, &o), 0);
    assert_int_equal(o.result, PAGE_OFFLINE_UNVERIFIED);
    assert_int_equal(o.error, -ENOENT);
    assert_int_equal(o.soft.verify_error, -ENOENT);
    assert_false(o.fell_back);
    assert_string_equal(contents(f, HARD_REL), "");
    assert_false(page_offline_outcome_retryable(&o));

    /* kpageflags without an entry for the pfn, or half of one */
    kpageflags(f, PFN - 1, 1);
    assert_int_equal(page_offline_read_hwpoison(&f->roots, PFN), -ERANGE);
    snprintf(path, sizeof(path), "%s/kpageflags", f->proc);
    assert_int_equal(truncate(path, (off_t) (PFN * 8 + 4)), 0);
    assert_int_equal(page_offline_read_hwpoison(&f->roots, PFN), -EIO);
    assert_int_equal(page_offline_read_hwpoison(&f->roots, UINT64_MAX / 4), -ERANGE);
}

static void test_meminfo(void **state)
{
    struct fixture *f = *state;
    uint64_t kb = 99;

    assert_int_equal(page_offline_read_corrupted_kb(&f->roots, &kb), -ENOENT);
    meminfo(f, 12345);
    assert_int_equal(page_offline_read_corrupted_kb(&f->roots, &kb), 0);
    assert_int_equal(kb, 12345);
    assert_int_equal(test_write_file(f->dir, "proc/meminfo", "HardwareCorrupted: 0 kB"), 0);
    assert_int_equal(page_offline_read_corrupted_kb(&f->roots, &kb), 0);
    assert_int_equal(kb, 0);
    /* the line is missing (no CONFIG_MEMORY_FAILURE) or damaged */
    assert_int_equal(test_write_file(f->dir, "proc/meminfo", "MemTotal: 1 kB\n"), 0);
    assert_int_equal(page_offline_read_corrupted_kb(&f->roots, &kb), -ENOENT);
    assert_int_equal(test_write_file(f->dir, "proc/meminfo", "XHardwareCorrupted: 5 kB\n"), 0);
    assert_int_equal(page_offline_read_corrupted_kb(&f->roots, &kb), -ENOENT);
    assert_int_equal(test_write_file(f->dir, "proc/meminfo", "HardwareCorrupted: x kB\n"), 0);
    assert_int_equal(page_offline_read_corrupted_kb(&f->roots, &kb), -EBADMSG);
    assert_int_equal(test_write_file(f->dir, "proc/meminfo", "HardwareCorrupted: 5 MB\n"), 0);
    assert_int_equal(page_offline_read_corrupted_kb(&f->roots, &kb), -EBADMSG);
    assert_int_equal(
        test_write_file(f->dir, "proc/meminfo", "HardwareCorrupted: 99999999999999999999999 kB\n"),
        0);
    assert_int_equal(page_offline_read_corrupted_kb(&f->roots, &kb), -EBADMSG);

    /* far bigger than any meminfo: refused, not read past the buffer */
    char *big = malloc(40000);
    assert_non_null(big);
    memset(big, 'x', 39999);
    big[39999] = 0;
    assert_int_equal(test_write_file(f->dir, "proc/meminfo", big), 0);
    assert_int_equal(page_offline_read_corrupted_kb(&f->roots, &kb), -EFBIG);
    free(big);
}

static void test_bad_arguments(void **state)
{
    struct fixture *f = *state;
    struct page_offline_outcome o;
    struct page_offline_roots none = {0};

    assert_int_equal(page_offline_run(&f->roots, PFN, 0, MEM_ACTION_SOFT, &o), -EINVAL);
    assert_int_equal(page_offline_run(&f->roots, PFN, 3000, MEM_ACTION_SOFT, &o), -EINVAL);
    assert_int_equal(page_offline_run(&f->roots, PFN, PAGE, MEM_ACTION_ACCOUNT, &o), -EINVAL);
    assert_int_equal(page_offline_run(&f->roots, PFN, PAGE, MEM_ACTION_OFF, &o), -EINVAL);
    assert_int_equal(page_offline_run(&f->roots, UINT64_MAX / 2, PAGE, MEM_ACTION_SOFT, &o),
                     -EINVAL);
    assert_int_equal(page_offline_run(&none, PFN, PAGE, MEM_ACTION_SOFT, &o), -EINVAL);
    assert_int_equal(page_offline_run(NULL, PFN, PAGE, MEM_ACTION_SOFT, &o), -EINVAL);
    assert_int_equal(page_offline_run(&f->roots, PFN, PAGE, MEM_ACTION_SOFT, NULL), -EINVAL);
    assert_int_equal(page_offline_write(&f->roots, MEM_ACTION_SOFT_THEN_HARD, 0), -EINVAL);
    assert_false(page_offline_outcome_retryable(NULL));
}

static void test_backoff(void **state)
{
    const uint64_t s = 1000000000ULL;
    struct page_offline_retry r;
    uint64_t now = 500 * s;

    (void) state;
    assert_int_equal(page_offline_retry_delay_ns(1), 1 * s);
    assert_int_equal(page_offline_retry_delay_ns(2), 2 * s);
    assert_int_equal(page_offline_retry_delay_ns(3), 4 * s);
    assert_int_equal(page_offline_retry_delay_ns(12), 2048 * s);
    assert_int_equal(page_offline_retry_delay_ns(13), 3600 * s); /* 4096 s, capped */
    assert_int_equal(page_offline_retry_delay_ns(64), 3600 * s);
    assert_int_equal(page_offline_retry_delay_ns(UINT32_MAX), 3600 * s);

    assert_int_equal(page_offline_retry_init(&r, PFN, MEM_ACTION_SOFT, 0), -EINVAL);
    assert_int_equal(page_offline_retry_init(&r, PFN, MEM_ACTION_SOFT, 65), -EINVAL);
    assert_int_equal(page_offline_retry_init(&r, PFN, MEM_ACTION_ACCOUNT, 3), -EINVAL);
    assert_int_equal(page_offline_retry_init(&r, PFN, MEM_ACTION_SOFT_THEN_HARD, 4), 0);
    assert_true(page_offline_retry_due(&r, 0)); /* the first attempt is due at once */

    /* 4 tries: fail, wait 1 s, fail, wait 2 s, fail, wait 4 s, fail: given up */
    uint64_t waits[] = {1, 2, 4};
    for (size_t i = 0; i < ELEMENTSOF(waits); i++) {
        assert_true(page_offline_retry_failed(&r, now));
        assert_int_equal(r.next_ns, now + waits[i] * s);
        assert_false(page_offline_retry_due(&r, now + waits[i] * s - 1));
        assert_true(page_offline_retry_due(&r, now + waits[i] * s));
        now += waits[i] * s + 7; /* the attempt runs a little late */
    }
    assert_false(page_offline_retry_failed(&r, now));
    assert_true(r.given_up);
    assert_int_equal(r.failures, 4);
    assert_false(page_offline_retry_due(&r, UINT64_MAX));
    assert_false(page_offline_retry_failed(&r, now));
    assert_int_equal(r.failures, 4);

    /* a long schedule reaches the cap and stays there; no overflow near the end of time */
    assert_int_equal(page_offline_retry_init(&r, PFN, MEM_ACTION_HARD, PAGE_OFFLINE_TRIES_MAX), 0);
    for (int i = 1; i < PAGE_OFFLINE_TRIES_MAX; i++) {
        assert_true(page_offline_retry_failed(&r, now));
        assert_int_equal(r.next_ns - now, i >= 13 ? 3600 * s : (1ULL << (i - 1)) * s);
    }
    assert_false(page_offline_retry_failed(&r, now));
    assert_int_equal(page_offline_retry_init(&r, PFN, MEM_ACTION_HARD, 2), 0);
    assert_true(page_offline_retry_failed(&r, UINT64_MAX - 5));
    assert_int_equal(r.next_ns, UINT64_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test_setup_teardown(test_soft_and_hard_verified, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_poisoned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_absent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_soft_then_hard, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unverified, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meminfo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test(test_backoff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
