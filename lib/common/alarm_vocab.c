/* alarm_vocab.c: the tables of alarm_vocab.h. */
#include <errno.h>

#include "alarm_vocab.h"
#include "macro.h"
#include "string_table.h"

static const char *const level_table[ALARM_LEVEL_SLOTS] = {
    [SENTRY_ALARM_MINOR] = "MINOR",
    [SENTRY_ALARM_MAJOR] = "MAJOR",
    [SENTRY_ALARM_CRITICAL] = "CRITICAL",
    [4] = "LEVEL4",
    [5] = "LEVEL5",
};
DEFINE_STRING_TABLE_LOOKUP(alarm_level, int, level_table, ALARM_LEVEL_SLOTS)

static const char *const type_table[ALARM_TYPE_SLOTS] = {
    [0] = "TYPE0",
    [SENTRY_ALARM_OCCUR] = "OCCUR",
    [SENTRY_ALARM_RECOVER] = "RECOVER",
};
DEFINE_STRING_TABLE_LOOKUP(alarm_type, int, type_table, ALARM_TYPE_SLOTS)

const char *alarm_level_to_reference_string(int level)
{
    static const char *const names[] = {
        [SENTRY_ALARM_MINOR] = "MINOR_ALM",
        [SENTRY_ALARM_MAJOR] = "MAJOR_ALM",
        [SENTRY_ALARM_CRITICAL] = "CRITICAL_ALM",
    };
    return level >= SENTRY_ALARM_MINOR && level <= SENTRY_ALARM_CRITICAL ? names[level]
                                                                         : "UNKNOWN_LEVEL";
}

const char *alarm_type_to_reference_string(int type)
{
    return type == SENTRY_ALARM_OCCUR     ? "ALARM_TYPE_OCCUR"
           : type == SENTRY_ALARM_RECOVER ? "ALARM_TYPE_RECOVER"
                                          : "UNKNOWN_TYPE";
}

#define REQUEST(id, name, ref, answer, meaning) \
    {                                           \
        id, name, ref, answer, 0, meaning       \
    }
#define ANSWER(id, name, ref, request, meaning) \
    {                                           \
        id, name, ref, 0, request, meaning      \
    }

static const struct alarm_kind kinds[] = {
    {SENTRY_ALARM_ID_MEMORY, "memory", "MEMORY_ALARM_ID", 0, 0,
     "memory errors: corrected-error storms, uncorrected errors, poison, page offline"},
    {SENTRY_ALARM_ID_SLOW_IO, "slow_io", NULL, 0, 0,
     "a disk is slow (avg_block_io, ai_block_io), and why"},
    REQUEST(SENTRY_ALARM_ID_POWER_OFF, "power_off", "ALARM_REBOOT_EVENT",
            SENTRY_ALARM_ID_POWER_OFF_ANSWER, "a node is about to power off or reset: it waits"),
    ANSWER(SENTRY_ALARM_ID_POWER_OFF_ANSWER, "power_off_answer", "ALARM_REBOOT_ACK_EVENT",
           SENTRY_ALARM_ID_POWER_OFF, "the answer to a power-off notice"),
    REQUEST(SENTRY_ALARM_ID_OOM, "oom", "ALARM_OOM_EVENT", SENTRY_ALARM_ID_OOM_ANSWER,
            "a node is out of memory: it waits for memory to be freed"),
    ANSWER(SENTRY_ALARM_ID_OOM_ANSWER, "oom_answer", "ALARM_OOM_ACK_EVENT", SENTRY_ALARM_ID_OOM,
           "the answer to an out-of-memory notice (pages freed)"),
    REQUEST(SENTRY_ALARM_ID_PANIC, "panic", "ALARM_PANIC_EVENT", SENTRY_ALARM_ID_PANIC_ANSWER,
            "a node panics"),
    ANSWER(SENTRY_ALARM_ID_PANIC_ANSWER, "panic_answer", "ALARM_PANIC_ACK_EVENT",
           SENTRY_ALARM_ID_PANIC, "the answer to a panic notice"),
    REQUEST(SENTRY_ALARM_ID_KERNEL_REBOOT, "kernel_reboot", "ALARM_KERNEL_REBOOT_EVENT",
            SENTRY_ALARM_ID_KERNEL_REBOOT_ANSWER, "a node's kernel reboots"),
    ANSWER(SENTRY_ALARM_ID_KERNEL_REBOOT_ANSWER, "kernel_reboot_answer",
           "ALARM_KERNEL_REBOOT_ACK_EVENT", SENTRY_ALARM_ID_KERNEL_REBOOT,
           "the answer to a kernel reboot notice"),
    {SENTRY_ALARM_ID_SHARED_MEMORY_FAULT, "shared_memory_fault", NULL, 0, 0,
     "a fault in shared (pooled) memory; the processes mapping it are told"},
    {SENTRY_ALARM_ID_BMC, "bmc", NULL, 0, 0,
     "a fault the BMC reports: disk, memory, processor, temperature (bmc_ras_sentry)"},
    {SENTRY_ALARM_ID_LINK_EVENT, "link_event", NULL, 0, 0,
     "a link of the memory fabric went up or down"},
    {SENTRY_ALARM_ID_MEMORY_PRESSURE, "memory_pressure", NULL, 0, 0,
     "memory pressure ramps up (PSI trigger, memcg high/max/oom events): an OOM kill may follow "
     "(oom_watch)"},
    {SENTRY_ALARM_ID_OOM_KILL, "oom_kill", NULL, 0, 0,
     "the OOM killer killed a process: the victim and its cgroup (oom_watch)"},
    {SENTRY_ALARM_ID_PSTORE_PANIC, "pstore_panic", NULL, 0, 0,
     "a panic or oops of an earlier boot found in pstore, reported once (oom_watch)"},
    {SENTRY_ALARM_ID_SERVICE_DOWN, "service_down", "SYSSENTRY_DOWN_ALARM_ID", 0, 0,
     "sentryd is stopping (sent to xalarm clients)"},
};

const struct alarm_kind *alarm_kinds(size_t *n)
{
    *n = ELEMENTSOF(kinds);
    return kinds;
}

const struct alarm_kind *alarm_kind_find(unsigned id)
{
    for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
        if (kinds[i].id == id)
            return &kinds[i];
    return NULL;
}
