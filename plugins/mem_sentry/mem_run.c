/* mem_run.c: events in, decisions out (mem_sentry.h). */
#include <errno.h>
#include <event-parse.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "json_util.h"
#include "log.h"
#include "mem_sentry.h"
#include "trace_field.h"

#define PAIR_WINDOW_NS 1000000000ULL /* a SIGBUS this close to a memory failure is its kill */

uint64_t mem_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

/* The name of a DIMM key as mem_events.c packs it. */
static void dimm_name(const struct mem_key *k, char *buf, size_t size)
{
    unsigned tag = (unsigned) (k->a >> 56);

    if (tag == 1)
        snprintf(buf, size, "mc%u %d:%d:%d", (unsigned) (k->a >> 24) & 0xff, (int8_t) (k->a >> 16),
                 (int8_t) (k->a >> 8), (int8_t) k->a);
    else
        snprintf(buf, size, "socket %u bank %u channel %u", (unsigned) (k->a >> 16) & 0xffffffffU,
                 (unsigned) (k->a >> 8) & 0xff, (unsigned) k->a & 0xff);
}

/* The alarm key of a level's entity: "page:0x1234", "row:mc0 1:0:-1 row 7", "dimm:...". */
static void entity_key(enum mem_level level, const struct mem_key *k, char *buf, size_t size)
{
    char name[64];

    switch (level) {
    case MEM_LEVEL_PAGE:
        snprintf(buf, size, "page:0x%" PRIx64, k->a);
        break;
    case MEM_LEVEL_ROW:
        dimm_name(k, name, sizeof(name));
        snprintf(buf, size, "row:%s row %u", name, (unsigned) (k->b >> 32));
        break;
    case MEM_LEVEL_DIMM:
        dimm_name(k, name, sizeof(name));
        snprintf(buf, size, "dimm:%s", name);
        break;
    default:
        snprintf(buf, size, "socket:%" PRId64, (int64_t) k->a);
    }
}

static struct mem_dimm_stat *dimm_stat(struct mem_sentry *m, const struct mem_key *k)
{
    for (size_t i = 0; i < m->n_dimms; i++)
        if (m->dimms[i].key.a == k->a && m->dimms[i].key.b == k->b)
            return &m->dimms[i];
    if (m->n_dimms == MEM_DIMMS_SHOWN)
        return NULL; /* more than a node has: the counts of the rest stay in the policy */
    struct mem_dimm_stat *d = &m->dimms[m->n_dimms++];
    *d = (struct mem_dimm_stat){.key = *k};
    dimm_name(k, d->name, sizeof(d->name));
    return d;
}

static void page_stat(struct mem_sentry *m, uint64_t pfn, const char *state)
{
    size_t i;

    for (i = 0; i < m->n_pages && m->pages[i].pfn != pfn; i++)
        ;
    if (i == m->n_pages) {
        if (m->n_pages == MEM_PAGES_SHOWN)
            return;
        m->n_pages++;
    }
    m->pages[i] = (struct mem_page_stat){.pfn = pfn, .state = state};
    m->view_dirty = true;
}

static void save_state(struct mem_sentry *m)
{
    int r = offline_state_save(&m->offlined, m->cfg.state_file);
    if (r < 0)
        log_warning_errno(r, "cannot save the offlined pages to %s: %m", m->cfg.state_file);
}

static void remember_page(struct mem_sentry *m, uint64_t pfn, enum mem_action action,
                          enum page_offline_result result)
{
    struct offline_entry e = {.pfn = pfn, .action = action, .time_s = time(NULL), .result = result};
    int r = offline_state_set(&m->offlined, &e);

    if (r < 0)
        log_warning_errno(r, "cannot keep page 0x%" PRIx64 " in the offlined pages: %m", pfn);
    else
        save_state(m);
}

static void add_outcome(json_object *t, const struct page_offline_outcome *o)
{
    json_object_object_add(t, "result",
                           json_object_new_string(page_offline_result_to_string(o->result)));
    json_object_object_add(t, "done", json_object_new_string(mem_action_to_string(o->done)));
    if (o->error)
        json_object_object_add(t, "error", json_object_new_string(strerror(-o->error)));
    if (o->fell_back)
        json_object_object_add(t, "fell_back_to_hard", json_object_new_boolean(true));
    if (o->corrupted_before_kb >= 0)
        json_object_object_add(t, "hardware_corrupted_kb_before",
                               json_object_new_int64(o->corrupted_before_kb));
    if (o->corrupted_after_kb >= 0)
        json_object_object_add(t, "hardware_corrupted_kb_after",
                               json_object_new_int64(o->corrupted_after_kb));
}

static struct page_offline_retry *retry_find(struct mem_sentry *m, uint64_t pfn)
{
    for (size_t i = 0; i < m->n_retries; i++)
        if (m->retries[i].pfn == pfn)
            return &m->retries[i];
    return NULL;
}

static void retry_drop(struct mem_sentry *m, struct page_offline_retry *r)
{
    *r = m->retries[--m->n_retries];
}

/* One offline attempt of pfn and what follows: the alarm, the state file, the next try. */
static void offline_page(struct mem_sentry *m, uint64_t pfn, enum mem_action action,
                         const char *why)
{
    struct page_offline_outcome o;
    char key[64];
    int r = page_offline_run(&m->roots, pfn, m->page_size, action, &o);

    snprintf(key, sizeof(key), "page:0x%" PRIx64, pfn);
    if (r < 0) {
        log_warning_errno(r, "cannot offline page 0x%" PRIx64 ": %m", pfn);
        return;
    }
    bool ok = o.result == PAGE_OFFLINE_VERIFIED || o.result == PAGE_OFFLINE_UNVERIFIED;
    remember_page(m, pfn, action, o.result);
    struct page_offline_retry *retry = retry_find(m, pfn);
    json_object *t = mem_alarm_text(m, ok ? MEM_ALARM_PAGE_OFFLINED : MEM_ALARM_OFFLINE_FAILED);
    if (t) {
        json_object_object_add(t, "pfn", json_object_new_string(key + 5));
        char addr[24];
        snprintf(addr, sizeof(addr), "0x%" PRIx64, pfn * m->page_size);
        json_object_object_add(t, "address", json_object_new_string(addr));
        json_object_object_add(t, "action", json_object_new_string(mem_action_to_string(action)));
        json_object_object_add(t, "why", json_object_new_string(why));
        add_outcome(t, &o);
    }
    if (ok) {
        m->counts.offlined++;
        page_stat(m, pfn, "offlined");
        if (retry)
            retry_drop(m, retry);
        mem_alarm(m, MEM_ALARM_PAGE_OFFLINED, 0, key, t);
        return;
    }
    m->counts.offline_failed++;
    page_stat(m, pfn, "offline failed");
    bool again = false;
    if (page_offline_outcome_retryable(&o)) {
        if (!retry && m->n_retries < MEM_RETRIES_MAX) {
            retry = &m->retries[m->n_retries++];
            page_offline_retry_init(retry, pfn, action, m->cfg.max_tries);
        }
        again = retry && page_offline_retry_failed(retry, mem_now_ns());
        if (retry && !again)
            retry_drop(m, retry);
    } else if (retry) {
        retry_drop(m, retry);
    }
    if (t) {
        json_object_object_add(t, "retry", json_object_new_boolean(again));
        if (again)
            json_object_object_add(
                t, "retry_in_s",
                json_object_new_uint64((retry->next_ns - mem_now_ns()) / 1000000000ULL + 1));
    }
    mem_alarm(m, MEM_ALARM_OFFLINE_FAILED, 0, key, t);
}

static void threshold_text(json_object *t, const struct mem_decision *d)
{
    char rate[48];

    json_object_object_add(t, "level", json_object_new_string(mem_level_to_string(d->level)));
    json_object_object_add(t, "in_window", json_object_new_int64(d->level_count));
    json_object_object_add(t, "total", json_object_new_int64(d->total));
    snprintf(rate, sizeof(rate), "%u/%" PRIu64 "s", d->threshold_n, d->window_s);
    json_object_object_add(t, "threshold", json_object_new_string(rate));
}

static void act(struct mem_sentry *m, const struct mem_decision *d)
{
    char key[128];
    json_object *t;

    entity_key(d->level, &d->key, key, sizeof(key));
    switch (d->kind) {
    case MEM_DECISION_THRESHOLD:
    case MEM_DECISION_RECOVER: {
        bool over = d->kind == MEM_DECISION_THRESHOLD;
        if (d->level == MEM_LEVEL_DIMM) {
            struct mem_dimm_stat *s = dimm_stat(m, &d->key);
            if (s)
                s->crossed = over;
        } else if (d->level == MEM_LEVEL_PAGE) {
            page_stat(m, d->key.a, over ? "over threshold" : "drained");
        }
        t = mem_alarm_text(m, over ? MEM_ALARM_CE_THRESHOLD : MEM_ALARM_CE_RECOVER);
        if (t)
            threshold_text(t, d);
        mem_alarm(m, over ? MEM_ALARM_CE_THRESHOLD : MEM_ALARM_CE_RECOVER,
                  d->level == MEM_LEVEL_DIMM || d->level == MEM_LEVEL_SOCKET ? SENTRY_ALARM_MAJOR
                                                                             : 0,
                  key, t);
        break;
    }
    case MEM_DECISION_OFFLINE:
        offline_page(m, d->key.a, d->action, "corrected errors past the page threshold");
        break;
    case MEM_DECISION_BUDGET_REFUSED:
        m->counts.refused++;
        page_stat(m, d->key.a, "refused");
        t = mem_alarm_text(m, MEM_ALARM_BUDGET_SPENT);
        if (t) {
            threshold_text(t, d);
            json_object_object_add(t, "max_pages", json_object_new_int64(m->cfg.max_pages));
            json_object_object_add(t, "max_mib", json_object_new_int64(m->cfg.max_mib));
        }
        mem_alarm(m, MEM_ALARM_BUDGET_SPENT, 0, key, t);
        break;
    case MEM_DECISION_STORM_BEGIN:
    case MEM_DECISION_STORM_END: {
        bool begin = d->kind == MEM_DECISION_STORM_BEGIN;
        m->counts.storms += begin;
        t = mem_alarm_text(m, begin ? MEM_ALARM_STORM : MEM_ALARM_STORM_END);
        if (t) {
            json_object_object_add(t, "threshold", json_object_new_int64(m->cfg.storm_threshold));
            json_object_object_add(t, "window_s",
                                   json_object_new_int64((int64_t) m->cfg.storm_window_s));
            if (!begin)
                json_object_object_add(t, "events", json_object_new_uint64(d->storm_events));
        }
        mem_alarm(m, begin ? MEM_ALARM_STORM : MEM_ALARM_STORM_END, 0, "storm", t);
        break;
    }
    case MEM_DECISION_CORRUPTED_OVER:
    case MEM_DECISION_CORRUPTED_UNDER: {
        bool over = d->kind == MEM_DECISION_CORRUPTED_OVER;
        t = mem_alarm_text(m, over ? MEM_ALARM_CORRUPTED_OVER : MEM_ALARM_CORRUPTED_UNDER);
        if (t) {
            json_object_object_add(t, "hardware_corrupted_kb",
                                   json_object_new_uint64(d->corrupted_kb));
            json_object_object_add(t, "limit_kb", json_object_new_int64(d->threshold_n));
        }
        mem_alarm(m, over ? MEM_ALARM_CORRUPTED_OVER : MEM_ALARM_CORRUPTED_UNDER, 0,
                  "hardware_corrupted", t);
        break;
    }
    default:
        break;
    }
    m->view_dirty = true;
}

static void corrected(struct mem_sentry *m, struct mem_event *ev, uint64_t now_ns)
{
    struct mem_decision out[MEM_DECISIONS_MAX];

    m->counts.corrected++;
    if (ev->ce.dimm_valid) {
        struct mem_dimm_stat *s = dimm_stat(m, &ev->ce.dimm);
        if (s) {
            s->corrected += ev->ce.count ? ev->ce.count : 1;
            const char *label = json_object_get_string(json_object_object_get(ev->record, "label"));
            if (label && !*s->label)
                snprintf(s->label, sizeof(s->label), "%s", label);
        }
    }
    if (!m->policy_ok)
        return;
    int n = mem_policy_ce(&m->policy, &ev->ce, now_ns, out);
    if (n < 0)
        log_warning_errno(n, "cannot account a corrected error: %m");
    for (int i = 0; i < n; i++)
        act(m, &out[i]);
}

/* A corrected error of a CPU that is not a memory error: its storm, and its offline if asked. */
static void cpu_corrected(struct mem_sentry *m, struct mem_event *ev, uint64_t now_ns)
{
    char key[32];
    const char *offline = NULL;
    int r = 0;

    m->counts.cpu_corrected++;
    if (ev->cpu < 0 || ev->cpu >= CPU_POLICY_MAX_CPUS)
        return;
    enum cpu_decision d = cpu_policy_ce(&m->cpu, (unsigned) ev->cpu, now_ns);
    switch (d) {
    case CPU_DECISION_NONE:
    case CPU_DECISION_RECOVER:
        return;
    case CPU_DECISION_THRESHOLD:
        offline = "off (configuration)";
        break;
    case CPU_DECISION_LIMIT:
        offline = "refused: max_offline CPUs went already";
        break;
    case CPU_DECISION_OFFLINE:
        r = cpu_offline(m->roots.sysfs, (unsigned) ev->cpu);
        offline = r == 0 ? "offlined" : "failed";
        m->counts.cpus_offlined += r == 0;
        break;
    }
    snprintf(key, sizeof(key), "cpu:%" PRId64, ev->cpu);
    json_object *t = mem_alarm_text(m, MEM_ALARM_CPU_THRESHOLD);
    if (t) {
        char rate[48];
        json_object_object_add(t, "cpu", json_object_new_int64(ev->cpu));
        snprintf(rate, sizeof(rate), "%u/%" PRIu64 "s", m->cfg.cpu_threshold.n,
                 m->cfg.cpu_threshold.window_s);
        json_object_object_add(t, "threshold", json_object_new_string(rate));
        json_object_object_add(t, "offline", json_object_new_string(offline));
        if (r < 0)
            json_object_object_add(t, "error", json_object_new_string(strerror(-r)));
        json_object_object_add(t, "record", json_object_get(ev->record));
    }
    mem_alarm(m, MEM_ALARM_CPU_THRESHOLD, 0, key, t);
}

static int severity_level(enum mem_severity s)
{
    return s == MEM_SEV_FATAL         ? SENTRY_ALARM_CRITICAL
           : s == MEM_SEV_UNCORRECTED ? SENTRY_ALARM_MAJOR
                                      : SENTRY_ALARM_MINOR;
}

void mem_run_event(struct mem_sentry *m, struct mem_event *ev, uint64_t now_ns)
{
    char key[96];
    enum mem_alarm_kind k;
    int level = 0;

    m->counts.events++;
    m->view_dirty = true;
    if (ev->counted) {
        corrected(m, ev, now_ns);
        mem_event_done(ev);
        return;
    }
    if (ev->kind == MEM_EVENT_MCE && !ev->memory && ev->severity == MEM_SEV_CORRECTED) {
        cpu_corrected(m, ev, now_ns);
        mem_event_done(ev);
        return;
    }
    if (ev->page_valid)
        snprintf(key, sizeof(key), "page:0x%" PRIx64, ev->pfn);
    else if (ev->ce.dimm_valid)
        entity_key(MEM_LEVEL_DIMM, &ev->ce.dimm, key, sizeof(key));
    else
        snprintf(key, sizeof(key), "%s", mem_event_kind_to_string(ev->kind));
    if (ev->kind == MEM_EVENT_MEMORY_FAILURE) {
        k = MEM_ALARM_MEMORY_FAILURE;
        m->counts.uncorrected++;
        page_stat(m, ev->pfn, "poisoned");
        /* a poisoned page stays known-bad across a reboot */
        if (m->cfg.action != MEM_ACTION_OFF && m->cfg.action != MEM_ACTION_ACCOUNT &&
            !offline_state_find(&m->offlined, ev->pfn))
            remember_page(m, ev->pfn, MEM_ACTION_SOFT, PAGE_OFFLINE_VERIFIED);
    } else if (ev->kind == MEM_EVENT_SIGBUS) {
        k = MEM_ALARM_PROCESS_KILLED;
        m->counts.killed++;
        snprintf(key, sizeof(key), "pid:%" PRId64, ev->pid);
    } else if (ev->memory && ev->severity == MEM_SEV_INFO) {
        log_info("memory event: %s", json_plain(ev->record, NULL));
        mem_event_done(ev);
        return;
    } else if (ev->memory) {
        k = ev->severity == MEM_SEV_DEFERRED ? MEM_ALARM_DEFERRED : MEM_ALARM_UNCORRECTED;
        m->counts.uncorrected += k == MEM_ALARM_UNCORRECTED;
        if (ev->ce.dimm_valid) {
            struct mem_dimm_stat *s = dimm_stat(m, &ev->ce.dimm);
            if (s)
                s->uncorrected++;
        }
        if (ev->page_valid)
            page_stat(m, ev->pfn, "uncorrected error");
    } else {
        k = MEM_ALARM_OTHER_ERROR;
        level = severity_level(ev->severity);
    }
    json_object *t = mem_alarm_text(m, k);
    if (t) {
        json_object_object_add(t, "record", ev->record);
        ev->record = NULL;
    }
    mem_alarm(m, k, level, key, t);
    mem_event_done(ev);
}

/* Pairs each memory failure of the batch with the SIGBUS kills that came with it (the kernel
 * kills the users of the page inside its handling, so within a moment), then acts on every
 * event in order; the SIGBUS records left are kills of their own. */
static void flush_batch(struct mem_sentry *m)
{
    bool used[MEM_BATCH_MAX] = {false};
    uint64_t now = mem_now_ns();

    for (size_t i = 0; i < m->n_batch; i++) {
        if (m->batch[i].kind != MEM_EVENT_MEMORY_FAILURE)
            continue;
        json_object *killed = NULL;
        for (size_t j = 0; j < m->n_batch; j++) {
            uint64_t a = m->batch_ts[i], b = m->batch_ts[j];
            if (used[j] || m->batch[j].kind != MEM_EVENT_SIGBUS ||
                (a > b ? a - b : b - a) > PAIR_WINDOW_NS)
                continue;
            if (!killed)
                killed = json_object_new_array();
            json_object_array_add(killed, json_object_get(m->batch[j].record));
            m->counts.killed++;
            used[j] = true;
        }
        if (killed)
            json_object_object_add(m->batch[i].record, "killed", killed);
    }
    for (size_t i = 0; i < m->n_batch; i++) {
        if (used[i])
            mem_event_done(&m->batch[i]);
        else
            mem_run_event(m, &m->batch[i], now);
    }
    m->n_batch = 0;
}

static void on_record(void *ctx, size_t i, struct tep_event *event, struct tep_record *record,
                      int cpu)
{
    struct mem_sentry *m = ctx;
    struct mem_event ev;
    int r;

    r = mem_event_parse((enum mem_event_kind) i, trace_reader_tep(m->reader), event, record,
                        m->page_shift, &ev);
    if (r < 0) {
        log_warning_errno(r, "a %s:%s record of CPU %d cannot be read: %m",
                          mem_trace_events[i].system, mem_trace_events[i].name, cpu);
        return;
    }
    if (r > 0)
        return; /* not about memory */
    if (m->n_batch == MEM_BATCH_MAX)
        flush_batch(m);
    m->batch_ts[m->n_batch] = record->ts;
    m->batch[m->n_batch++] = ev;
}

int mem_run_open_source(struct mem_sentry *m)
{
    const struct trace_reader_opts opts = {
        .what = "memory error events",
        .instance = "sentry_mem_sentry",
        .tracefs = *m->cfg.tracefs ? m->cfg.tracefs : NULL,
        .mount = m->cfg.mount_tracefs,
        .buffer_kb = m->cfg.buffer_kb,
        .keep = m->cfg.keep_instance,
    };
    int r = trace_reader_open(&opts, mem_trace_events, _MEM_EVENT_KIND_MAX, &m->reader);

    if (r < 0)
        return r;
    for (size_t i = 0; i < _MEM_EVENT_KIND_MAX; i++)
        m->source_on[i] = trace_reader_event_id(m->reader, i) >= 0;
    if (m->source_on[MEM_EVENT_SIGBUS] &&
        trace_reader_set_filter(m->reader, MEM_EVENT_SIGBUS, MEM_SIGBUS_FILTER) < 0)
        m->source_on[MEM_EVENT_SIGBUS] = false; /* unfiltered, every signal would come */
    log_info("memory error events from %s/instances/sentry_mem_sentry",
             trace_reader_dir(m->reader));
    return 0;
}

int mem_run_read(struct mem_sentry *m)
{
    struct trace_reader_stats before, after;
    int r;

    trace_reader_stats(m->reader, &before);
    r = trace_reader_read(m->reader, on_record, m);
    flush_batch(m);
    if (r < 0) {
        trace_reader_free(m->reader);
        m->reader = NULL;
        memset(m->source_on, 0, sizeof(m->source_on));
        m->view_dirty = true;
        return r;
    }
    trace_reader_stats(m->reader, &after);
    if (after.lost > before.lost) {
        m->counts.lost += after.lost - before.lost;
        json_object *t = mem_alarm_text(m, MEM_ALARM_EVENTS_LOST);
        if (t) {
            json_object_object_add(t, "lost", json_object_new_uint64(after.lost - before.lost));
            json_object_object_add(t, "lost_total", json_object_new_uint64(m->counts.lost));
            json_object_object_add(t, "buffer_kb", json_object_new_int64(m->cfg.buffer_kb));
        }
        mem_alarm(m, MEM_ALARM_EVENTS_LOST, 0, "events_lost", t);
    }
    return 0;
}

void mem_run_tick(struct mem_sentry *m)
{
    struct mem_decision out[16];
    uint64_t now = mem_now_ns(), kb;
    size_t n;

    if (m->policy_ok) {
        do {
            n = mem_policy_tick(&m->policy, now, out, ELEMENTSOF(out));
            for (size_t i = 0; i < n; i++)
                act(m, &out[i]);
        } while (n == ELEMENTSOF(out));
        if (page_offline_read_corrupted_kb(&m->roots, &kb) == 0) {
            if (kb != m->counts.hardware_corrupted_kb)
                m->view_dirty = true;
            m->counts.hardware_corrupted_kb = kb;
            if (mem_policy_meminfo(&m->policy, kb, out) > 0)
                act(m, &out[0]);
        }
    }
    unsigned cursor = 0, cpu;
    while (cpu_policy_tick(&m->cpu, now, &cursor, &cpu)) {
        char key[32];
        snprintf(key, sizeof(key), "cpu:%u", cpu);
        json_object *t = mem_alarm_text(m, MEM_ALARM_CPU_RECOVER);
        if (t)
            json_object_object_add(t, "cpu", json_object_new_int64(cpu));
        mem_alarm(m, MEM_ALARM_CPU_RECOVER, 0, key, t);
    }
    for (size_t i = 0; i < m->n_retries;) {
        struct page_offline_retry *r = &m->retries[i];
        if (!page_offline_retry_due(r, now)) {
            i++;
            continue;
        }
        uint64_t pfn = r->pfn;
        size_t before = m->n_retries;
        offline_page(m, pfn, r->action, "retry of a failed offline");
        /* offline_page() dropped or rescheduled it; a drop moved the last one here */
        if (m->n_retries == before && retry_find(m, pfn) == r)
            i++;
    }
}

uint64_t mem_run_next_retry(const struct mem_sentry *m)
{
    uint64_t next = UINT64_MAX;

    for (size_t i = 0; i < m->n_retries; i++)
        if (!m->retries[i].given_up && m->retries[i].next_ns < next)
            next = m->retries[i].next_ns;
    return next;
}

void mem_run_reoffline(struct mem_sentry *m)
{
    size_t n = m->offlined.n;

    if (n == 0)
        return;
    log_info("offlining again the %zu page(s) of %s", n, m->cfg.state_file);
    for (size_t i = 0; i < n && i < m->offlined.n; i++) {
        struct offline_entry e = m->offlined.items[i];
        int hw = page_offline_read_hwpoison(&m->roots, e.pfn);
        if (hw == 1) {
            page_stat(m, e.pfn, "offlined");
            continue; /* still offline: the plugin restarted, the node did not reboot */
        }
        offline_page(m, e.pfn, e.action, "offlined before: known bad");
    }
}
