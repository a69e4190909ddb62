/* memory_lock.c: see memory_lock.h. */
#include <errno.h>
#include <malloc.h>
#include <sys/mman.h>

#include "log.h"
#include "memory_lock.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#define HEAP_KEEP (64 << 20) /* bytes of free heap kept instead of trimmed */

void memory_lock_apply(bool enabled)
{
    if (!enabled)
        return;
#ifdef UNDER_ASAN
    /* Its shadow memory spans terabytes: locking it is not possible. */
    log_info("lock_memory: not under AddressSanitizer");
#else
    if (mallopt(M_TRIM_THRESHOLD, HEAP_KEEP) == 0)
        log_debug("lock_memory: the heap may still shrink");
    /* Everything mapped now (code, libraries, data) is brought in and locked; what is mapped
     * later is locked page by page as it is touched (MCL_ONFAULT), so that thread stacks and
     * reserved arenas do not become resident whole. */
    if (mlockall(MCL_CURRENT) < 0 || mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) < 0)
        log_warning_errno(errno,
                          "lock_memory: cannot lock sentryd's memory (%m): while the node is out "
                          "of memory it may answer kernel notices late (needs CAP_IPC_LOCK or a "
                          "higher RLIMIT_MEMLOCK)");
    else
        log_debug("lock_memory: sentryd's memory is locked");
#endif
}
