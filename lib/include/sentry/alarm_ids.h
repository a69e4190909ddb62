/* sentry/alarm_ids.h: sentry's alarm vocabulary: the id range it shares with sysSentry, the
 * reserved ids of that range, alarm levels and alarm types.
 *
 * This is the one declaration of them: sentryd, libsentry (sentry.h), the libxalarm header
 * (register_xalarm.h, whose reference names are aliases of these), sentryctl and the docs use it.
 * What each reserved id means, and which id answers which request, is in the table behind
 * `sentryctl alarm_ids` (docs/alarms.md lists it; a test keeps the two equal). */
#ifndef SENTRY_ALARM_IDS_H
#define SENTRY_ALARM_IDS_H

/* Alarm ids of the sysSentry range; xalarm clients see only these. */
#define SENTRY_ALARM_ID_MIN   1001
#define SENTRY_ALARM_ID_MAX   1128
#define SENTRY_ALARM_ID_COUNT 128 /* SENTRY_ALARM_ID_MAX - SENTRY_ALARM_ID_MIN + 1 */

/* The reserved ids and their meaning (the reference's where it has one). Requests from the kernel
 * channel are answered by the id after them. */
enum sentry_alarm_id {
    SENTRY_ALARM_ID_MEMORY = 1001,               /* memory errors (mem_sentry) */
    SENTRY_ALARM_ID_SLOW_IO = 1002,              /* slow disk io (avg_block_io, ai_block_io) */
    SENTRY_ALARM_ID_POWER_OFF = 1003,            /* a node is about to power off or reset */
    SENTRY_ALARM_ID_POWER_OFF_ANSWER = 1004,     /* its answer */
    SENTRY_ALARM_ID_OOM = 1005,                  /* a node is out of memory */
    SENTRY_ALARM_ID_OOM_ANSWER = 1006,           /* its answer (pages freed) */
    SENTRY_ALARM_ID_PANIC = 1007,                /* a node panics */
    SENTRY_ALARM_ID_PANIC_ANSWER = 1008,         /* its answer */
    SENTRY_ALARM_ID_KERNEL_REBOOT = 1009,        /* a node's kernel reboots */
    SENTRY_ALARM_ID_KERNEL_REBOOT_ANSWER = 1010, /* its answer */
    SENTRY_ALARM_ID_SHARED_MEMORY_FAULT = 1013,  /* a fault in shared (pooled) memory */
    SENTRY_ALARM_ID_BMC = 1015,                  /* a fault the BMC reports (bmc_ras_sentry) */
    SENTRY_ALARM_ID_LINK_EVENT = 1016,           /* a link of the memory fabric went up or down */
    SENTRY_ALARM_ID_MEMORY_PRESSURE = 1017,      /* memory pressure ramps up (oom_watch) */
    SENTRY_ALARM_ID_OOM_KILL = 1018,             /* the OOM killer killed a process (oom_watch) */
    SENTRY_ALARM_ID_PSTORE_PANIC = 1019,         /* a past panic kept in pstore (oom_watch) */
    SENTRY_ALARM_ID_SERVICE_DOWN = 1128,         /* sentryd is stopping (to xalarm clients) */
};

/* Alarm levels. The xalarm socket also carries 4 and 5, as the reference's server accepts them. */
enum sentry_alarm_level {
    SENTRY_ALARM_MINOR = 1,
    SENTRY_ALARM_MAJOR = 2,
    SENTRY_ALARM_CRITICAL = 3,
};
#define SENTRY_ALARM_LEVEL_XALARM_MAX 5

/* Alarm types. The xalarm socket also carries 0, as the reference's server accepts it. */
enum sentry_alarm_type {
    SENTRY_ALARM_OCCUR = 1,
    SENTRY_ALARM_RECOVER = 2,
};

#endif
