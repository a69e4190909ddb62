/* smm_sigbus.c: the search over /proc and the signals (see smm_sigbus.h). Each process is pinned
 * with a pidfd before its maps are read, and signalled through it: a pid reused in between is
 * never told about memory it does not map. Kernels without pidfds fall back to sigqueue(). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "parse_number.h"
#include "smm_notice.h"
#include "smm_sigbus.h"
#include "smm_sigbus_maps.h"

/* Pagemap entries per pread: one page of them. */
#define PAGEMAP_CHUNK 512

struct search {
    const struct smm_memid_range *range; /* the device holding pa, or NULL */
    uint64_t offset;                     /* pa's offset in it */
    uint64_t pa;
    uint64_t pfn;
    unsigned page_shift;
    struct smm_sigbus_result *res;
};

/* The mapping's pages whose frame is pa's: 1 and *ret when found, 0, -E2BIG when *budget ran
 * out, -errno when pagemap cannot be read. */
static int search_frames(int pagemap_fd, const struct smm_map *m, const struct search *s,
                         uint64_t *budget, uint64_t *ret)
{
    uint64_t entries[PAGEMAP_CHUNK];
    uint64_t va = m->start;

    while (va < m->end) {
        uint64_t n = MIN((m->end - va) >> s->page_shift, (uint64_t) PAGEMAP_CHUNK);
        ssize_t k;

        if (n == 0)
            break;
        if (*budget < n)
            return -E2BIG;
        *budget -= n;
        k = pread(pagemap_fd, entries, n * sizeof(entries[0]),
                  (off_t) ((va >> s->page_shift) * sizeof(entries[0])));
        if (k < 0)
            return -errno;
        if ((size_t) k < sizeof(entries[0]))
            break;
        for (size_t i = 0; i < (size_t) k / sizeof(entries[0]); i++) {
            uint64_t pfn;

            switch (smm_pagemap_decode(entries[i], &pfn)) {
            case SMM_PAGE_FRAME:
                if (pfn == s->pfn) {
                    *ret =
                        smm_frame_vaddr(va + ((uint64_t) i << s->page_shift), s->pa, s->page_shift);
                    return 1;
                }
                break;
            case SMM_PAGE_HIDDEN:
                s->res->n_hidden++;
                break;
            case SMM_PAGE_ABSENT:
                break;
            }
        }
        va += ((uint64_t) k / sizeof(entries[0])) << s->page_shift;
    }
    return 0;
}

/* One process: 1 and *ret when it maps pa, 0 when not (or gone), -errno when its maps or
 * pagemap cannot be read. Kernel threads have empty maps and cost one read. */
static int search_process(pid_t pid, const struct search *s, uint64_t *ret)
{
    _cleanup_fclose_ FILE *f = NULL;
    _cleanup_free_ char *line = NULL;
    _cleanup_close_ int pagemap_fd = -EBADF;
    uint64_t budget = SMM_SIGBUS_PAGES_MAX;
    size_t size = 0;
    char path[64];

    snprintf(path, sizeof(path), "/proc/%d/maps", (int) pid);
    f = fopen(path, "re");
    if (!f)
        return errno == ENOENT || errno == ESRCH ? 0 : -errno;
    for (unsigned lines = 0; getline(&line, &size, f) >= 0; lines++) {
        struct smm_map m;
        int r;

        if (lines >= SMM_SIGBUS_MAPS_LINES_MAX) {
            s->res->n_cut++;
            return 0;
        }
        if (smm_map_parse_line(line, &m) < 0)
            continue;
        if (s->range && streq(m.path, s->range->device) &&
            smm_map_vaddr_of_offset(&m, s->offset, ret) == 0)
            return 1;
        if (!m.shared)
            continue;
        if (pagemap_fd < 0) {
            snprintf(path, sizeof(path), "/proc/%d/pagemap", (int) pid);
            pagemap_fd = open(path, O_RDONLY | O_CLOEXEC);
            if (pagemap_fd < 0)
                return -errno;
        }
        r = search_frames(pagemap_fd, &m, s, &budget, ret);
        if (r == -E2BIG) {
            s->res->n_cut++;
            return 0;
        }
        if (r != 0)
            return r;
    }
    /* A process that exits while its maps are read gives ESRCH or EIO: gone, not unreadable. */
    return ferror(f) && errno != ESRCH && errno != EIO ? -errno : 0;
}

static int send_sigbus(int pidfd, pid_t pid, uint64_t vaddr)
{
    union sigval v = {.sival_ptr = (void *) (uintptr_t) vaddr};
    siginfo_t si;

    if (pidfd < 0)
        return sigqueue(pid, SIGBUS, v) < 0 ? -errno : 0;
    /* What sigqueue() sends, through the pidfd: SI_QUEUE, our pid and uid, the value. */
    memset(&si, 0, sizeof(si));
    si.si_signo = SIGBUS;
    si.si_code = SI_QUEUE;
    si.si_pid = getpid();
    si.si_uid = getuid();
    si.si_value = v;
    return syscall(SYS_pidfd_send_signal, pidfd, SIGBUS, &si, 0) < 0 ? -errno : 0;
}

static void closedirp(DIR **d)
{
    if (*d)
        closedir(*d);
}

static pid_t pid_of(const char *name)
{
    uint64_t v;

    return parse_uint_digits(name, &v) == 0 && v > 0 && v <= INT32_MAX ? (pid_t) v : 0;
}

static void process_one(pid_t pid, const struct search *s)
{
    struct smm_sigbus_result *res = s->res;
    _cleanup_close_ int pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
    uint64_t vaddr = 0;
    int r;

    if (pidfd < 0 && errno == ESRCH)
        return;
    r = search_process(pid, s, &vaddr);
    if (r < 0) {
        log_debug_errno(r, "pid %d: cannot read its mappings: %m", (int) pid);
        res->n_unreadable++;
        return;
    }
    if (r == 0)
        return;
    r = send_sigbus(pidfd, pid, vaddr);
    if (r < 0) {
        log_warning_errno(r, "pid %d maps pa 0x%" PRIx64 " at 0x%" PRIx64 ", SIGBUS failed: %m",
                          (int) pid, s->pa, vaddr);
        res->n_failed++;
        return;
    }
    log_info("SIGBUS to pid %d: pa 0x%" PRIx64 " is at its vaddr 0x%" PRIx64, (int) pid, s->pa,
             vaddr);
    if (res->n_listed < SMM_SIGBUS_LISTED_MAX)
        res->hits[res->n_listed++] = (struct smm_sigbus_hit){.pid = pid, .vaddr = vaddr};
    res->n_signalled++;
}

int smm_sigbus_deliver(const struct smm_memid_map *map, uint64_t pa, struct smm_sigbus_result *ret)
{
    _cleanup_(closedirp) DIR *d = NULL;
    long page_size = sysconf(_SC_PAGESIZE);
    pid_t self = getpid();
    struct search s = {.pa = pa, .res = ret};
    struct dirent *de;

    assert_return(ret, -EINVAL);
    *ret = (struct smm_sigbus_result){.memid = SMM_MEMID_UNKNOWN};
    s.range = smm_memid_map_find(map, pa, &s.offset);
    if (s.range)
        ret->memid = s.range->memid;
    s.page_shift = (unsigned) __builtin_ctzl((unsigned long) (page_size > 0 ? page_size : 4096));
    s.pfn = pa >> s.page_shift;

    d = opendir("/proc");
    if (!d)
        return -errno;
    while ((de = readdir(d))) {
        pid_t pid = pid_of(de->d_name);

        if (pid <= 1 || pid == self)
            continue;
        process_one(pid, &s);
        if (ret->n_signalled >= SMM_SIGBUS_SIGNALLED_MAX) {
            ret->stopped = true;
            break;
        }
    }
    log_info("pa 0x%" PRIx64 " (memid %d): %u process(es) told, %u signal(s) failed, %u "
             "unreadable, %u searched in part, %u page(s) with hidden frames",
             pa, ret->memid, ret->n_signalled, ret->n_failed, ret->n_unreadable, ret->n_cut,
             ret->n_hidden);
    return 0;
}
