/* smm_retry.h: the reference's retry rule, shared by both threads: a call that failed for a
 * reason that may pass (sentryd restarting, a fault copying the record) is tried again up to
 * SMM_RETRY_MAX times, SMM_RETRY_PERIOD_SEC apart. */
#pragma once

#include <time.h>

#define SMM_RETRY_MAX        3
#define SMM_RETRY_PERIOD_SEC 1

static inline void smm_retry_pause(void)
{
    struct timespec ts = {.tv_sec = SMM_RETRY_PERIOD_SEC};

    /* An interrupted pause only shortens one wait. */
    nanosleep(&ts, NULL);
}
