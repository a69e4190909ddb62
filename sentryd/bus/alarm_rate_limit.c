/* alarm_rate_limit.c: see alarm_rate_limit.h. A small array searched linearly: the reporters
 * that are not root are few (tasks with a user, and the uids of xalarm senders). */
#include <inttypes.h>
#include <stdio.h>

#include "alarm_rate_limit.h"
#include "json_escape.h"
#include "ratelimit.h"

struct rate_key {
    uint32_t uid;
    char source[ALARM_SOURCE_MAX + 1];
    struct ratelimit rl;
    /* the last alarm refused in the current window */
    uint16_t id;
    uint8_t level, type, origin;
    char key[ALARM_KEY_MAX + 1];
};

struct alarm_rate_limit {
    unsigned burst;
    uint64_t interval_us;
    struct rate_key *keys;
    size_t n, cap;
    uint64_t suppressed_total;
};

struct alarm_rate_limit *alarm_rate_limit_new(unsigned burst, uint64_t interval_us)
{
    struct alarm_rate_limit *rl = calloc(1, sizeof(*rl));
    if (!rl)
        return NULL;
    rl->burst = burst;
    rl->interval_us = interval_us;
    return rl;
}

struct alarm_rate_limit *alarm_rate_limit_free(struct alarm_rate_limit *rl)
{
    if (rl) {
        free(rl->keys);
        free(rl);
    }
    return NULL;
}

bool alarm_rate_limit_enabled(const struct alarm_rate_limit *rl)
{
    return rl && rl->burst > 0 && rl->interval_us > 0;
}

uint64_t alarm_rate_limit_suppressed_total(const struct alarm_rate_limit *rl)
{
    return rl ? rl->suppressed_total : 0;
}

static void rate_key_report(struct alarm_rate_limit *rl, struct rate_key *k, alarm_suppressed_fn fn,
                            void *userdata)
{
    struct alarm_suppressed s = {
        .uid = k->uid,
        .source = k->source,
        .count = k->rl.suppressed,
        .interval_us = rl->interval_us,
        .burst = rl->burst,
        .id = k->id,
        .level = k->level,
        .type = k->type,
        .origin = k->origin,
        .key = k->key,
    };
    k->rl.suppressed = 0;
    if (fn)
        fn(&s, userdata);
}

/* A key with nothing to tell and a window that is over holds no information. */
static bool rate_key_idle(const struct rate_key *k, uint64_t now_us)
{
    return k->rl.suppressed == 0 && ratelimit_window_over(&k->rl, now_us);
}

static struct rate_key *rate_key_find(struct alarm_rate_limit *rl, uint32_t uid, const char *source,
                                      uint64_t now_us)
{
    for (size_t i = 0; i < rl->n; i++)
        if (rl->keys[i].uid == uid && streq(rl->keys[i].source, source))
            return &rl->keys[i];
    if (strlen(source) > ALARM_SOURCE_MAX)
        return NULL;
    /* A new key: in the place of an idle one, else at the end while there is room. */
    struct rate_key *k = NULL;
    for (size_t i = 0; i < rl->n && !k; i++)
        if (rate_key_idle(&rl->keys[i], now_us))
            k = &rl->keys[i];
    if (!k) {
        if (rl->n == ALARM_RATE_LIMIT_KEYS)
            return NULL;
        if (rl->n == rl->cap) {
            size_t cap = rl->cap ? rl->cap * 2 : 16;
            struct rate_key *keys = realloc(rl->keys, cap * sizeof(*keys));
            if (!keys)
                return NULL;
            rl->keys = keys;
            rl->cap = cap;
        }
        k = &rl->keys[rl->n++];
    }
    *k = (struct rate_key){
        .uid = uid,
        .rl = {.interval_us = rl->interval_us, .burst = rl->burst},
    };
    strcpy(k->source, source);
    return k;
}

bool alarm_rate_limit_check(struct alarm_rate_limit *rl, const struct alarm *a, uint64_t now_us,
                            alarm_suppressed_fn fn, void *userdata)
{
    if (!alarm_rate_limit_enabled(rl))
        return true;
    /* No room for one more reporter (ALARM_RATE_LIMIT_KEYS busy ones): it is not limited. */
    struct rate_key *k = rate_key_find(rl, a->uid, a->source, now_us);
    if (!k)
        return true;
    if (k->rl.suppressed > 0 && ratelimit_window_over(&k->rl, now_us))
        rate_key_report(rl, k, fn, userdata);
    if (ratelimit_below(&k->rl, now_us))
        return true;
    rl->suppressed_total++;
    k->id = a->id;
    k->level = a->level;
    k->type = a->type;
    k->origin = a->origin;
    snprintf(k->key, sizeof(k->key), "%s", a->key ? a->key : "");
    return false;
}

uint64_t alarm_rate_limit_expire(struct alarm_rate_limit *rl, uint64_t now_us,
                                 alarm_suppressed_fn fn, void *userdata)
{
    uint64_t next = 0;

    if (!rl)
        return 0;
    for (size_t i = 0; i < rl->n;) {
        struct rate_key *k = &rl->keys[i];
        if (k->rl.suppressed > 0 && ratelimit_window_over(&k->rl, now_us))
            rate_key_report(rl, k, fn, userdata);
        if (rate_key_idle(k, now_us)) {
            rl->keys[i] = rl->keys[--rl->n];
            continue;
        }
        if (k->rl.suppressed > 0) {
            uint64_t end = k->rl.begin_us + k->rl.interval_us;
            if (next == 0 || end < next)
                next = end;
        }
        i++;
    }
    return next;
}

size_t alarm_suppressed_text(const struct alarm_suppressed *s, char *buf, size_t size)
{
    char src[JSON_ESCAPE_MAX(ALARM_SOURCE_MAX) + 1];
    size_t n = json_escape(src, s->source, strnlen(s->source, ALARM_SOURCE_MAX));
    src[n] = 0;

    int k = snprintf(buf, size,
                     "{\"alarm_source\":%s,\"suppressed\":%" PRIu64
                     ",\"burst\":%u,\"interval_s\":%" PRIu64 ",\"uid\":%" PRIu32
                     ",\"message\":\"%" PRIu64 " alarms suppressed by the rate limit (at most %u "
                     "per %" PRIu64 " s)\"}",
                     src, s->count, s->burst, (uint64_t) (s->interval_us / USEC_PER_SEC), s->uid,
                     s->count, s->burst, (uint64_t) (s->interval_us / USEC_PER_SEC));
    if (k < 0)
        return 0;
    return MIN((size_t) k, size ? size - 1 : 0);
}
