/* xalarm_ids.h: the ids an xalarm client or the xalarm report socket takes, as a bitmap of the
 * 128 ids of the sysSentry range (1001..1128), and the two ways to write one: the reference's
 * [filter] id_mask setting ("1001-1128", "1001,1003-1005") and the "id_filter" array of a
 * client's registration message. A set turns into the ranges of a bus filter by merging runs of
 * ids, so any set fits (at most 64 runs in 128 ids). Pure: no sockets, no state. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "alarm_filter.h"
#include "json_util.h"
#include "sentry/alarm_ids.h"

struct xalarm_id_set {
    uint64_t bits[SENTRY_ALARM_ID_COUNT / 64]; /* bit (id - SENTRY_ALARM_ID_MIN) */
};

static inline void xalarm_id_set_add(struct xalarm_id_set *s, unsigned id)
{
    unsigned i = id - SENTRY_ALARM_ID_MIN;
    if (id >= SENTRY_ALARM_ID_MIN && id <= SENTRY_ALARM_ID_MAX)
        s->bits[i / 64] |= UINT64_C(1) << (i % 64);
}

static inline bool xalarm_id_set_has(const struct xalarm_id_set *s, unsigned id)
{
    unsigned i = id - SENTRY_ALARM_ID_MIN;
    return id >= SENTRY_ALARM_ID_MIN && id <= SENTRY_ALARM_ID_MAX &&
           (s->bits[i / 64] >> (i % 64)) & 1;
}

unsigned xalarm_id_set_count(const struct xalarm_id_set *s);

/* Parses the reference's id_mask into a 128-entry mask, with its rules and messages ("invalid
 * alarm id X, ignored"; ranges clamped to 1001..1128). All invalid: everything passes (the
 * reference then drops everything). Returns the number of valid items; messages are logged. */
int xalarm_id_mask_parse(const char *spec, bool mask[SENTRY_ALARM_ID_COUNT]);

/* Reads an "id_filter" array: every element an id (an integer) or a range of ids (a string,
 * "1001-1003" or "1007"; libxalarm sends runs of consecutive ids this way, older versions one
 * integer per id); anything else is -EINVAL with *why. What lies outside 1001..1128 is left out
 * (xalarm clients never see it); *ignored (may be NULL) gets how many elements were wholly
 * outside. */
int xalarm_id_set_from_json(json_object *array, struct xalarm_id_set *ret, unsigned *ignored,
                            const char **why);

/* The set as the id ranges of a bus filter (runs merged; an empty set matches nothing). Any set
 * fits, so this cannot fail. Replaces f's ids; the rest of f is kept. */
void xalarm_id_set_to_filter(const struct xalarm_id_set *s, struct alarm_filter *f);
