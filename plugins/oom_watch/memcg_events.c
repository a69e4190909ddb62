/* memcg_events.c: see memcg_events.h. */
#include <errno.h>
#include <string.h>

#include "macro.h"
#include "memcg_events.h"

static const char *const counter_names[_MEMCG_COUNTER_MAX] = {
    [MEMCG_HIGH] = "high",
    [MEMCG_MAX] = "max",
    [MEMCG_OOM] = "oom",
    [MEMCG_OOM_KILL] = "oom_kill",
    [MEMCG_UNDER_OOM] = "under_oom",
};

const char *memcg_counter_to_string(enum memcg_counter c)
{
    return c >= 0 && c < _MEMCG_COUNTER_MAX ? counter_names[c] : NULL;
}

static int counter_lookup(const char *name, size_t n)
{
    for (int i = 0; i < _MEMCG_COUNTER_MAX; i++)
        if (strlen(counter_names[i]) == n && memcmp(counter_names[i], name, n) == 0)
            return i;
    return -1;
}

/* "name value" in [p, end): name is [a-z_]+, value 1..20 decimal digits without overflow. */
static int parse_pair(const char *p, const char *end, const char **name, size_t *name_len,
                      uint64_t *value)
{
    const char *s = p;
    uint64_t v = 0;
    int digits = 0;

    while (s < end && ((*s >= 'a' && *s <= 'z') || *s == '_'))
        s++;
    if (s == p || s >= end || *s != ' ')
        return -EBADMSG;
    *name = p;
    *name_len = (size_t) (s - p);
    for (s++; s < end && *s >= '0' && *s <= '9'; s++, digits++) {
        if (v > (UINT64_MAX - (uint64_t) (*s - '0')) / 10)
            return -EBADMSG;
        v = v * 10 + (uint64_t) (*s - '0');
    }
    if (digits == 0 || s != end)
        return -EBADMSG;
    *value = v;
    return 0;
}

int memcg_events_parse(const char *text, size_t len, struct memcg_events *ret)
{
    struct memcg_events ev = {0};
    const char *p = text, *end = text + len;
    bool any = false;

    assert_return(text && ret, -EINVAL);
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t) (end - p));
        const char *le = eol ? eol : end;
        const char *name;
        size_t n;
        uint64_t v;

        if (le > p) {
            int r = parse_pair(p, le, &name, &n, &v);
            if (r < 0)
                return r;
            int c = counter_lookup(name, n);
            if (c >= 0) {
                if (ev.has[c])
                    return -EBADMSG;
                /* under_oom is a flag: anything else is not the kernel's file */
                if (c == MEMCG_UNDER_OOM && v > 1)
                    return -EBADMSG;
                ev.has[c] = true;
                ev.value[c] = v;
                any = true;
            }
        }
        p = eol ? eol + 1 : end;
    }
    if (!any)
        return -EBADMSG;
    *ret = ev;
    return 0;
}

void memcg_events_delta(const struct memcg_events *old, const struct memcg_events *now,
                        struct memcg_delta *ret)
{
    *ret = (struct memcg_delta){0};
    for (int i = 0; i < _MEMCG_COUNTER_MAX; i++) {
        if (!now->has[i])
            continue;
        uint64_t before = old && old->has[i] ? old->value[i] : 0;
        if (i == MEMCG_UNDER_OOM) {
            if (now->value[i] == 1 && before == 0)
                ret->grew[i] = true, ret->by[i] = 1;
        } else if (now->value[i] != before) {
            /* down: a new cgroup under the old path, its counters start at 0 */
            ret->by[i] = now->value[i] > before ? now->value[i] - before : now->value[i];
            ret->grew[i] = ret->by[i] > 0;
        }
        ret->any |= ret->grew[i];
    }
}
