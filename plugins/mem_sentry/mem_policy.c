/* mem_policy.c: see mem_policy.h. Owns the four tables and the storm bucket; calls only
 * leaky_bucket and mem_table. */
#include <errno.h>

#include "macro.h"
#include "mem_policy.h"
#include "string_table.h"

static const char *const decision_names[_MEM_DECISION_KIND_MAX] = {
    [MEM_DECISION_THRESHOLD] = "threshold",
    [MEM_DECISION_RECOVER] = "recover",
    [MEM_DECISION_OFFLINE] = "offline",
    [MEM_DECISION_BUDGET_REFUSED] = "budget_refused",
    [MEM_DECISION_STORM_BEGIN] = "storm_begin",
    [MEM_DECISION_STORM_END] = "storm_end",
    [MEM_DECISION_CORRUPTED_OVER] = "corrupted_over",
    [MEM_DECISION_CORRUPTED_UNDER] = "corrupted_under",
};
DEFINE_STRING_TABLE_LOOKUP(mem_decision_kind, enum mem_decision_kind, decision_names,
                           _MEM_DECISION_KIND_MAX)

static bool level_on(const struct mem_policy *p, enum mem_level l)
{
    return p->cfg.threshold[l].on && (l != MEM_LEVEL_PAGE || p->cfg.action != MEM_ACTION_OFF);
}

static size_t level_bound(const struct mem_config *c, enum mem_level l)
{
    switch (l) {
    case MEM_LEVEL_PAGE:
        return c->max_tracked_pages;
    case MEM_LEVEL_ROW:
        return c->max_tracked_rows;
    case MEM_LEVEL_DIMM:
        return MEM_POLICY_MAX_DIMMS;
    default:
        return MEM_POLICY_MAX_SOCKETS;
    }
}

int mem_policy_init(struct mem_policy *p, const struct mem_config *cfg, unsigned page_size)
{
    int r;

    assert_return(p && cfg && page_size >= 512 && (page_size & (page_size - 1)) == 0, -EINVAL);
    *p = (struct mem_policy){.cfg = *cfg, .page_size = page_size};
    r = leaky_rate_init(&p->storm_rate, cfg->storm_threshold,
                        cfg->storm_window_s * NSEC_PER_SEC_U64);
    for (int l = 0; r >= 0 && l < _MEM_LEVEL_MAX; l++) {
        if (!level_on(p, (enum mem_level) l))
            continue;
        r = leaky_rate_init(&p->rate[l], cfg->threshold[l].n,
                            cfg->threshold[l].window_s * NSEC_PER_SEC_U64);
        if (r >= 0)
            r = mem_table_init(&p->table[l], level_bound(cfg, (enum mem_level) l));
    }
    if (r < 0)
        mem_policy_done(p);
    return r;
}

void mem_policy_done(struct mem_policy *p)
{
    for (int l = 0; l < _MEM_LEVEL_MAX; l++)
        mem_table_done(&p->table[l]);
}

static struct mem_decision level_decision(const struct mem_policy *p, enum mem_decision_kind kind,
                                          enum mem_level l, const struct mem_entry *e,
                                          uint64_t now_ns)
{
    return (struct mem_decision){
        .kind = kind,
        .level = l,
        .key = e->key,
        .level_count = leaky_bucket_level(&e->bucket, &p->rate[l], now_ns),
        .total = e->total,
        .threshold_n = p->cfg.threshold[l].n,
        .window_s = p->cfg.threshold[l].window_s,
    };
}

/* Whether one more page fits the isolation budget. */
static bool budget_allows(const struct mem_policy *p)
{
    uint64_t bytes = (p->stats.offlined_pages + 1) * (uint64_t) p->page_size;

    return p->stats.offlined_pages < p->cfg.max_pages &&
           (p->cfg.max_mib == 0 || bytes <= (uint64_t) p->cfg.max_mib << 20);
}

/* A page's bucket filled: offline it, refuse it, or only alarm. */
static struct mem_decision page_crossed(struct mem_policy *p, struct mem_entry *e, uint64_t now)
{
    struct mem_table *t = &p->table[MEM_LEVEL_PAGE];
    struct mem_decision d = level_decision(p, MEM_DECISION_THRESHOLD, MEM_LEVEL_PAGE, e, now);

    if (p->cfg.action == MEM_ACTION_ACCOUNT) {
        mem_table_set_state(t, e, MEM_ENTRY_CROSSED);
        return d;
    }
    if (!budget_allows(p)) {
        mem_table_set_state(t, e, MEM_ENTRY_REFUSED);
        p->stats.refused_pages++;
        d.kind = MEM_DECISION_BUDGET_REFUSED;
        return d;
    }
    mem_table_set_state(t, e, MEM_ENTRY_OFFLINED);
    p->stats.offlined_pages++;
    d.kind = MEM_DECISION_OFFLINE;
    d.action = p->cfg.action;
    return d;
}

/* Counts the event at level l under key; 1 when it gave a decision, 0 when not, -ENOMEM. */
static int account(struct mem_policy *p, enum mem_level l, const struct mem_key *key,
                   uint32_t count, bool may_add, uint64_t now, struct mem_decision *out)
{
    struct mem_table *t = &p->table[l];
    bool oom, full = false;

    if (!level_on(p, l))
        return 0;
    struct mem_entry *e = mem_table_get(t, key, may_add, &oom);
    if (!e)
        return oom ? -ENOMEM : 0;
    e->total = e->total > UINT32_MAX - count ? UINT32_MAX : e->total + count;
    if (e->state != MEM_ENTRY_COUNTING) {
        /* latched: RECOVER one window after the last event */
        leaky_bucket_hold(&e->bucket, &p->rate[l], now);
        return 0;
    }
    /* the bucket holds at most n: more additions change nothing */
    for (uint32_t i = 0; i < MIN(count, p->rate[l].n); i++)
        full = leaky_bucket_add(&e->bucket, &p->rate[l], now);
    if (!full)
        return 0;
    if (l == MEM_LEVEL_PAGE)
        *out = page_crossed(p, e, now);
    else {
        mem_table_set_state(t, e, MEM_ENTRY_CROSSED);
        *out = level_decision(p, MEM_DECISION_THRESHOLD, l, e, now);
    }
    leaky_bucket_hold(&e->bucket, &p->rate[l], now);
    return 1;
}

static struct mem_decision storm_decision(struct mem_policy *p, enum mem_decision_kind kind)
{
    return (struct mem_decision){
        .kind = kind,
        .threshold_n = p->storm_rate.n,
        .window_s = p->cfg.storm_window_s,
        .storm_events = p->storm_events,
    };
}

/* During a storm: whether the storm window that ended before now was quiet (fewer than half
 * the threshold); moves on to the window of now. */
static bool storm_window_quiet(struct mem_policy *p, uint64_t now)
{
    uint64_t w = p->storm_rate.window_ns, start = p->storm_window_start_ns;

    if (now < start + w)
        return false;
    bool quiet = p->storm_window_events < p->storm_rate.n / 2 || now >= start + 2 * w;
    p->storm_window_start_ns = quiet ? now : start + w;
    p->storm_window_events = 0;
    return quiet;
}

static struct mem_decision storm_end(struct mem_policy *p)
{
    p->storm = false;
    p->storm_bucket = (struct leaky_bucket){0}; /* a new storm needs a new burst */
    return storm_decision(p, MEM_DECISION_STORM_END);
}

/* Storm bookkeeping of one event: 1 when it began or ended a storm. */
static int storm_account(struct mem_policy *p, uint32_t count, uint64_t now,
                         struct mem_decision *out)
{
    bool full = false;

    if (p->storm) {
        if (storm_window_quiet(p, now)) {
            *out = storm_end(p);
            return 1;
        }
        p->storm_events += count;
        p->storm_window_events += count;
        return 0;
    }
    for (uint32_t i = 0; i < MIN(count, p->storm_rate.n); i++)
        full = leaky_bucket_add(&p->storm_bucket, &p->storm_rate, now);
    if (!full)
        return 0;
    p->storm = true;
    p->storm_events = count;
    p->storm_window_start_ns = now;
    p->storm_window_events = 0;
    p->stats.storms++;
    *out = storm_decision(p, MEM_DECISION_STORM_BEGIN);
    return 1;
}

int mem_policy_ce(struct mem_policy *p, const struct mem_ce_event *ev, uint64_t now_ns,
                  struct mem_decision *out)
{
    uint32_t count;
    int n = 0, r;

    assert_return(p && ev && out, -EINVAL);
    count = ev->count ? ev->count : 1;
    p->stats.events++;
    n += storm_account(p, count, now_ns, &out[n]);
    if (ev->addr_valid) {
        struct mem_key page = {.a = ev->phys_addr / p->page_size};
        if (p->storm && level_on(p, MEM_LEVEL_PAGE) &&
            !mem_table_find(&p->table[MEM_LEVEL_PAGE], &page))
            p->stats.storm_untracked++;
        r = account(p, MEM_LEVEL_PAGE, &page, count, !p->storm, now_ns, &out[n]);
        if (r < 0)
            return r;
        n += r;
    }
    if (ev->row_valid) {
        r = account(p, MEM_LEVEL_ROW, &ev->row, count, true, now_ns, &out[n]);
        if (r < 0)
            return r;
        n += r;
    }
    if (ev->dimm_valid) {
        r = account(p, MEM_LEVEL_DIMM, &ev->dimm, count, true, now_ns, &out[n]);
        if (r < 0)
            return r;
        n += r;
    }
    if (ev->socket >= 0) {
        struct mem_key socket = {.a = (uint64_t) ev->socket};
        r = account(p, MEM_LEVEL_SOCKET, &socket, count, true, now_ns, &out[n]);
        if (r < 0)
            return r;
        n += r;
    }
    return n;
}

size_t mem_policy_tick(struct mem_policy *p, uint64_t now_ns, struct mem_decision *out, size_t max)
{
    size_t n = 0;

    if (!p || !out)
        return 0;
    if (n < max && p->storm && storm_window_quiet(p, now_ns))
        out[n++] = storm_end(p);
    for (int l = 0; l < _MEM_LEVEL_MAX; l++) {
        struct mem_table *t = &p->table[l];
        struct mem_entry *e, *tmp;
        if (!level_on(p, (enum mem_level) l))
            continue;
        /* offlined and refused pages stay latched: there is nothing to recover */
        cds_list_for_each_entry_safe(e, tmp, &t->latched, link)
        {
            if (n >= max)
                return n;
            if (e->state != MEM_ENTRY_CROSSED || !leaky_bucket_drained(&e->bucket, now_ns))
                continue;
            out[n++] = level_decision(p, MEM_DECISION_RECOVER, (enum mem_level) l, e, now_ns);
            mem_table_set_state(t, e, MEM_ENTRY_COUNTING);
        }
    }
    return n;
}

int mem_policy_meminfo(struct mem_policy *p, uint64_t corrupted_kb, struct mem_decision *out)
{
    uint64_t limit;
    bool over;

    assert_return(p && out, -EINVAL);
    limit = p->cfg.hardware_corrupted_limit_kb;
    over = limit > 0 && corrupted_kb > limit;
    if (over == p->corrupted_over)
        return 0;
    p->corrupted_over = over;
    *out = (struct mem_decision){
        .kind = over ? MEM_DECISION_CORRUPTED_OVER : MEM_DECISION_CORRUPTED_UNDER,
        .threshold_n = (uint32_t) limit,
        .corrupted_kb = corrupted_kb,
    };
    return 1;
}
