/* smm_sigbus.h: SIGBUS to every process that maps a faulty physical address, so that it can
 * give up the one piece of work that touched it instead of dying on the next access
 * (docs/plugins/sentry_msg_monitor.md, "SIGBUS for faults in shared memory").
 *
 * Two searches over /proc, one pass, per process (threads share their address space, so one
 * look at /proc/<pid>/maps sees what every thread maps):
 *   - by device: when a [memid] line holds pa, every mapping of that device whose window holds
 *     pa's offset (the reference's search, which needs no page frame numbers);
 *   - by frame: every shared mapping (memfd, shared file, System V shm) whose pagemap shows
 *     pa's page frame (needs CAP_SYS_ADMIN; without it the frames read as 0 and are counted).
 * The first hit in a process wins: each process is told once, by a process-directed SIGBUS with
 * si_code SI_QUEUE and si_value.sival_ptr = the virtual address of pa in it. Never this process,
 * never pid 1. All the work is bounded (below); what was skipped is counted. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "smm_memid_map.h"

/* Processes listed in the result (and so in the alarm, whose text has 1023 bytes). */
#define SMM_SIGBUS_LISTED_MAX 20
/* Pagemap entries read per process: 16 GiB of shared mappings with 4 KiB pages. */
#define SMM_SIGBUS_PAGES_MAX (UINT64_C(1) << 22)
/* Lines of one process's maps read. */
#define SMM_SIGBUS_MAPS_LINES_MAX 65536
/* Processes told; past it the search stops. */
#define SMM_SIGBUS_SIGNALLED_MAX 4096

struct smm_sigbus_hit {
    pid_t pid;
    uint64_t vaddr;
};

struct smm_sigbus_result {
    int memid;            /* SMM_MEMID_UNKNOWN when no device holds pa */
    unsigned n_signalled; /* processes told */
    unsigned n_listed;    /* in hits[]: the first told */
    struct smm_sigbus_hit hits[SMM_SIGBUS_LISTED_MAX];
    unsigned n_failed;     /* found, but the signal failed (gone, or not permitted) */
    unsigned n_unreadable; /* processes whose maps or pagemap failed */
    unsigned n_cut;        /* processes not searched to the end (bounds) */
    unsigned n_hidden;     /* present pages whose frame was hidden */
    bool stopped;          /* SMM_SIGBUS_SIGNALLED_MAX reached */
};

/* Searches and signals for pa. map may be NULL (no devices). -errno only when /proc cannot be
 * listed; everything else is counted in *ret. Allocates (directory and file streams). */
int smm_sigbus_deliver(const struct smm_memid_map *map, uint64_t pa, struct smm_sigbus_result *ret);

/* The members the result adds to the 1013 text, in json-c's layout, into buf without
 * allocating: ', "pids": [ 1, 2 ], "vaddrs": [ "0x7f..", "0x7f.." ], "signalled": 2,
 * "truncated": false' (truncated: more processes were told than are listed, or the search
 * stopped). -EMSGSIZE when it does not fit. */
int smm_sigbus_result_format(const struct smm_sigbus_result *r, char *buf, size_t size,
                             size_t *ret_len);
