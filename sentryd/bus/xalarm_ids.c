/* xalarm_ids.c: see xalarm_ids.h. */
#include <assert.h>
#include <ctype.h>
#include <stdio.h>

#include "log.h"
#include "xalarm_ids.h"

unsigned xalarm_id_set_count(const struct xalarm_id_set *s)
{
    unsigned n = 0;
    for (size_t i = 0; i < ELEMENTSOF(s->bits); i++)
        n += (unsigned) __builtin_popcountll(s->bits[i]);
    return n;
}

static bool all_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char) s[i]))
            return false;
    return true;
}

/* A decimal number of at most 9 digits (so it fits a long); longer ones are out of any range. */
static long number_or_huge(const char *s, size_t n)
{
    return n > 9 ? 1000000000L : strtol(s, NULL, 10);
}

int xalarm_id_mask_parse(const char *spec, bool mask[SENTRY_ALARM_ID_COUNT])
{
    char buf[1024];
    int valid = 0;

    memset(mask, 0, SENTRY_ALARM_ID_COUNT * sizeof(bool));
    snprintf(buf, sizeof(buf), "%s", spec);
    char *save = NULL;
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char) *item))
            item++;
        size_t n = strlen(item);
        while (n > 0 && isspace((unsigned char) item[n - 1]))
            item[--n] = 0;
        char *dash = strchr(item, '-');
        long lo, hi;
        if (!dash && all_digits(item, n)) {
            lo = hi = number_or_huge(item, n);
            if (lo < SENTRY_ALARM_ID_MIN || lo > SENTRY_ALARM_ID_MAX) {
                log_warning("xalarm id_mask: invalid alarm id %s, ignored", item);
                continue;
            }
        } else if (dash && all_digits(item, (size_t) (dash - item)) &&
                   all_digits(dash + 1, strlen(dash + 1))) {
            lo = number_or_huge(item, (size_t) (dash - item));
            hi = number_or_huge(dash + 1, strlen(dash + 1));
            if (hi < lo) {
                log_warning("xalarm id_mask: invalid alarm id %s, ignored", item);
                continue;
            }
            /* ranges are clamped to the sysSentry range, as the reference does */
            lo = MAX(lo, SENTRY_ALARM_ID_MIN);
            hi = MIN(hi, SENTRY_ALARM_ID_MAX);
            if (lo > hi) {
                log_warning("xalarm id_mask: invalid alarm id %s, ignored", item);
                continue;
            }
        } else {
            log_warning("xalarm id_mask: invalid alarm id %s, ignored", item);
            continue;
        }
        for (long id = lo; id <= hi; id++)
            mask[id - SENTRY_ALARM_ID_MIN] = true;
        valid++;
    }
    if (valid == 0) {
        /* The reference would drop every alarm; that is never what is meant. */
        log_warning("xalarm id_mask '%s' has no valid item: every id %d-%d passes", spec,
                    SENTRY_ALARM_ID_MIN, SENTRY_ALARM_ID_MAX);
        memset(mask, 1, SENTRY_ALARM_ID_COUNT * sizeof(bool));
    }
    return valid;
}

/* "1001" or "1001-1003", digits only: 0 with the range, -EINVAL otherwise. */
static int id_range_parse(const char *s, long *lo, long *hi)
{
    const char *dash = strchr(s, '-');
    size_t n = dash ? (size_t) (dash - s) : strlen(s);

    if (!all_digits(s, n) || (dash && !all_digits(dash + 1, strlen(dash + 1))))
        return -EINVAL;
    *lo = number_or_huge(s, n);
    *hi = dash ? number_or_huge(dash + 1, strlen(dash + 1)) : *lo;
    return *hi < *lo ? -EINVAL : 0;
}

int xalarm_id_set_from_json(json_object *array, struct xalarm_id_set *ret, unsigned *ignored,
                            const char **why)
{
    struct xalarm_id_set s = {{0}};
    unsigned skipped = 0;

    if (!json_object_is_type(array, json_type_array)) {
        *why = "'id_filter' must be an array of alarm ids";
        return -EINVAL;
    }
    for (size_t i = 0; i < json_object_array_length(array); i++) {
        json_object *e = json_object_array_get_idx(array, i);
        long lo, hi;
        if (json_object_is_type(e, json_type_int)) {
            /* int64 of a huge unsigned number is INT64_MAX: out of the range either way */
            int64_t id = json_object_get_int64(e);
            lo = hi = id < 0 ? -1 : (long) MIN(id, (int64_t) 1000000000);
        } else if (!json_object_is_type(e, json_type_string) ||
                   id_range_parse(json_object_get_string(e), &lo, &hi) < 0) {
            *why = "'id_filter' must be an array of ids (integers) and ranges (\"1001-1003\")";
            return -EINVAL;
        }
        if (hi < SENTRY_ALARM_ID_MIN || lo > SENTRY_ALARM_ID_MAX) {
            skipped++;
            continue;
        }
        for (long id = MAX(lo, SENTRY_ALARM_ID_MIN); id <= MIN(hi, SENTRY_ALARM_ID_MAX); id++)
            xalarm_id_set_add(&s, (unsigned) id);
    }
    *ret = s;
    if (ignored)
        *ignored = skipped;
    return 0;
}

void xalarm_id_set_to_filter(const struct xalarm_id_set *s, struct alarm_filter *f)
{
    f->n_ranges = 0;
    for (unsigned id = SENTRY_ALARM_ID_MIN; id <= SENTRY_ALARM_ID_MAX;) {
        if (!xalarm_id_set_has(s, id)) {
            id++;
            continue;
        }
        unsigned hi = id;
        while (hi < SENTRY_ALARM_ID_MAX && xalarm_id_set_has(s, hi + 1))
            hi++;
        /* Runs are separated by a missing id: at most 64 of them in 128 ids. */
        static_assert(SENTRY_ALARM_ID_COUNT / 2 <= ALARM_FILTER_RANGES_MAX,
                      "every xalarm id set fits a filter");
        f->ranges[f->n_ranges].lo = (uint16_t) id;
        f->ranges[f->n_ranges].hi = (uint16_t) hi;
        f->n_ranges++;
        id = hi + 2;
    }
    /* No id asked for: nothing passes (an empty range list would mean "all"). */
    f->none = f->n_ranges == 0;
}
