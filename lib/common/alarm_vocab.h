/* alarm_vocab.h: the names and meanings of sentry's alarm vocabulary (the ids, levels and types
 * of sentry/alarm_ids.h): one table each, used by sentryd, libsentry and sentryctl. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sentry/alarm_ids.h>

/* Arrays indexed by level (0..5, 0 unused) or by type (0..2). */
#define ALARM_LEVEL_SLOTS (SENTRY_ALARM_LEVEL_XALARM_MAX + 1)
#define ALARM_TYPE_SLOTS  (SENTRY_ALARM_RECOVER + 1)

/* "MINOR", "MAJOR", "CRITICAL", "LEVEL4", "LEVEL5" (1..5); NULL otherwise. */
const char *alarm_level_to_string(int level);
/* 1..5 from those names; -EINVAL otherwise. */
int alarm_level_from_string(const char *s);
/* "TYPE0", "OCCUR", "RECOVER" (0..2); NULL otherwise. */
const char *alarm_type_to_string(int type);
int alarm_type_from_string(const char *s);
/* The reference's get_alarm names: MINOR_ALM, MAJOR_ALM, CRITICAL_ALM, else UNKNOWN_LEVEL;
 * ALARM_TYPE_OCCUR, ALARM_TYPE_RECOVER, else UNKNOWN_TYPE. */
const char *alarm_level_to_reference_string(int level);
const char *alarm_type_to_reference_string(int type);

static inline bool alarm_id_in_syssentry_range(unsigned id)
{
    return id >= SENTRY_ALARM_ID_MIN && id <= SENTRY_ALARM_ID_MAX;
}

/* A reserved id of the range. */
struct alarm_kind {
    uint16_t id;
    const char *name;      /* "slow_io" */
    const char *reference; /* the reference's macro in register_xalarm.h, or NULL */
    uint16_t answered_by;  /* the id of its answer (a request of the kernel channel), or 0 */
    uint16_t answers;      /* the id of the request it answers, or 0 */
    const char *meaning;
};
/* Every reserved id, in id order; *n gets how many. */
const struct alarm_kind *alarm_kinds(size_t *n);
/* The reserved id's entry, or NULL. */
const struct alarm_kind *alarm_kind_find(unsigned id);
