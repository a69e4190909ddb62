/* mem_view.c: the task result's details, what `sentryctl mem` shows: the sources, the counts, the
 * DIMMs with errors, the pages over their threshold and the pages offlined. Bounded (at most
 * MEM_DIMMS_SHOWN, MEM_PAGES_SHOWN and MEM_PAGES_SHOWN offlined pages) so it fits a protocol
 * line. */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>

#include "mem_sentry.h"

static void add_hex(json_object *o, const char *key, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
    json_object_object_add(o, key, json_object_new_string(buf));
}

json_object *mem_view(struct mem_sentry *m)
{
    json_object *d = json_object_new_object(), *o;

    if (!d)
        return NULL;
    o = json_object_new_object();
    for (size_t i = 0; i < _MEM_EVENT_KIND_MAX; i++) {
        char name[96];
        snprintf(name, sizeof(name), "%s:%s", mem_trace_events[i].system, mem_trace_events[i].name);
        json_object_object_add(o, name,
                               json_object_new_string(m->source_on[i] ? "on"
                                                      : m->reader     ? "off (not in this kernel)"
                                                                      : "off (no tracefs)"));
    }
    json_object_object_add(d, "sources", o);

    const struct mem_counts *c = &m->counts;
    o = json_object_new_object();
    struct {
        const char *name;
        uint64_t v;
    } counts[] = {
        {"events", c->events},
        {"corrected", c->corrected},
        {"uncorrected", c->uncorrected},
        {"lost", c->lost},
        {"offlined", c->offlined},
        {"offline_failed", c->offline_failed},
        {"refused", c->refused},
        {"storms", c->storms},
        {"killed", c->killed},
        {"cpu_corrected", c->cpu_corrected},
        {"cpus_offlined", c->cpus_offlined},
        {"tracked_pages", m->policy_ok ? m->policy.table[MEM_LEVEL_PAGE].n_entries : 0},
        {"hardware_corrupted_kb", c->hardware_corrupted_kb},
        {"alarms_failed", c->alarms_failed},
    };
    for (size_t i = 0; i < ELEMENTSOF(counts); i++)
        json_object_object_add(o, counts[i].name, json_object_new_uint64(counts[i].v));
    json_object_object_add(o, "storm", json_object_new_boolean(m->policy_ok && m->policy.storm));
    json_object_object_add(d, "counts", o);

    o = json_object_new_array();
    for (size_t i = 0; i < m->n_dimms; i++) {
        const struct mem_dimm_stat *s = &m->dimms[i];
        json_object *e = json_object_new_object();
        json_object_object_add(e, "dimm", json_object_new_string(s->name));
        if (*s->label)
            json_object_object_add(e, "label", json_object_new_string(s->label));
        json_object_object_add(e, "corrected", json_object_new_uint64(s->corrected));
        json_object_object_add(e, "uncorrected", json_object_new_uint64(s->uncorrected));
        json_object_object_add(e, "crossed", json_object_new_boolean(s->crossed));
        json_object_array_add(o, e);
    }
    json_object_object_add(d, "dimms", o);

    o = json_object_new_array();
    for (size_t i = 0; i < m->n_pages; i++) {
        const struct mem_page_stat *s = &m->pages[i];
        const struct offline_entry *off = offline_state_find(&m->offlined, s->pfn);
        struct mem_key k = {.a = s->pfn};
        const struct mem_entry *t =
            m->policy_ok ? mem_table_find(&m->policy.table[MEM_LEVEL_PAGE], &k) : NULL;
        json_object *e = json_object_new_object();
        add_hex(e, "pfn", s->pfn);
        add_hex(e, "address", s->pfn * m->page_size);
        json_object_object_add(e, "corrected", json_object_new_int64(t ? t->total : 0));
        json_object_object_add(e, "state", json_object_new_string(s->state));
        if (off)
            json_object_object_add(
                e, "offline", json_object_new_string(page_offline_result_to_string(off->result)));
        json_object_array_add(o, e);
    }
    json_object_object_add(d, "pages", o);

    o = json_object_new_array();
    for (size_t i = 0; i < m->offlined.n && i < MEM_PAGES_SHOWN; i++) {
        const struct offline_entry *s = &m->offlined.items[i];
        json_object *e = json_object_new_object();
        add_hex(e, "pfn", s->pfn);
        json_object_object_add(e, "action",
                               json_object_new_string(mem_action_to_string(s->action)));
        json_object_object_add(e, "result",
                               json_object_new_string(page_offline_result_to_string(s->result)));
        json_object_object_add(e, "time", json_object_new_int64(s->time_s));
        json_object_array_add(o, e);
    }
    json_object_object_add(d, "offlined", o);
    json_object_object_add(d, "offlined_total", json_object_new_uint64(m->offlined.n));
    return d;
}
