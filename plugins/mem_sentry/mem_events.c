/* mem_events.c: see mem_events.h. */
#include <errno.h>
#include <event-parse.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "mce_decode.h"
#include "mem_events.h"
#include "trace_field.h"

#define SIGBUS_NR        7
#define BUS_MCEERR_AR_NR 4
#define BUS_MCEERR_AO_NR 5
#define HEX_DATA_MAX     256 /* bytes of a non-standard section's data shown in the alarm */

const struct trace_event_ref mem_trace_events[_MEM_EVENT_KIND_MAX] = {
    [MEM_EVENT_MCE] = {"mce", "mce_record"},
    [MEM_EVENT_MC] = {"ras", "mc_event"},
    [MEM_EVENT_MEMORY_FAILURE] = {"ras", "memory_failure_event"},
    [MEM_EVENT_EXTLOG] = {"ras", "extlog_mem_event"},
    [MEM_EVENT_ARM] = {"ras", "arm_event"},
    [MEM_EVENT_NON_STANDARD] = {"ras", "non_standard_event"},
    [MEM_EVENT_AER] = {"ras", "aer_event"},
    [MEM_EVENT_SIGBUS] = {"signal", "signal_generate"},
};

static const char *const kind_names[_MEM_EVENT_KIND_MAX] = {
    [MEM_EVENT_MCE] = "mce",
    [MEM_EVENT_MC] = "mc_event",
    [MEM_EVENT_MEMORY_FAILURE] = "memory_failure",
    [MEM_EVENT_EXTLOG] = "extlog",
    [MEM_EVENT_ARM] = "arm",
    [MEM_EVENT_NON_STANDARD] = "non_standard",
    [MEM_EVENT_AER] = "aer",
    [MEM_EVENT_SIGBUS] = "sigbus",
};

const char *mem_event_kind_to_string(enum mem_event_kind k)
{
    return k >= 0 && k < _MEM_EVENT_KIND_MAX ? kind_names[k] : NULL;
}

static const char *const severity_names[_MEM_SEV_MAX] = {
    [MEM_SEV_CORRECTED] = "corrected",
    [MEM_SEV_DEFERRED] = "deferred",
    [MEM_SEV_UNCORRECTED] = "uncorrected",
    [MEM_SEV_FATAL] = "fatal",
    [MEM_SEV_INFO] = "info",
};

const char *mem_severity_to_string(enum mem_severity s)
{
    return s >= 0 && s < _MEM_SEV_MAX ? severity_names[s] : NULL;
}

/* Tags keep keys of the two sources apart: an EDAC DIMM never equals an MCE channel. */
#define KEY_TAG_EDAC 1ULL
#define KEY_TAG_MCE  2ULL

struct mem_key mem_event_dimm_key_edac(unsigned mc, int top, int mid, int low)
{
    return (struct mem_key){
        .a = KEY_TAG_EDAC << 56 | (uint64_t) (mc & 0xff) << 24 | (uint64_t) (uint8_t) top << 16 |
             (uint64_t) (uint8_t) mid << 8 | (uint8_t) low,
    };
}

struct mem_key mem_event_dimm_key_mce(unsigned socket, unsigned bank, unsigned channel)
{
    return (struct mem_key){
        .a = KEY_TAG_MCE << 56 | (uint64_t) socket << 16 | (uint64_t) (bank & 0xff) << 8 |
             (channel & 0xff),
    };
}

static void add(json_object *o, const char *key, json_object *v)
{
    json_object_object_add(o, key, v);
}

static void add_hex(json_object *o, const char *key, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
    add(o, key, json_object_new_string(buf));
}

/* Adds a string field when the event has it and it is not empty. */
static void add_string_field(json_object *o, const char *key, struct tep_event *e,
                             struct tep_record *r, const char *name, char *buf, size_t size)
{
    if (trace_field_string(e, r, name, buf, size) == 0 && *buf)
        add(o, key, json_object_new_string(buf));
}

static void add_uuid_field(json_object *o, const char *key, struct tep_event *e,
                           struct tep_record *r, const char *name)
{
    const uint8_t *p;
    size_t len;
    char buf[40];

    if (trace_field_bytes(e, r, name, &p, &len) < 0 || len != 16)
        return;
    /* the kernel's guid_t / %pU byte order: the first three groups little-endian */
    snprintf(buf, sizeof(buf),
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", p[3], p[2],
             p[1], p[0], p[5], p[4], p[7], p[6], p[8], p[9], p[10], p[11], p[12], p[13], p[14],
             p[15]);
    add(o, key, json_object_new_string(buf));
}

/* "row:12" in an EDAC driver's detail text (ghes_edac, skx_edac print such tokens). */
static bool detail_number(const char *detail, const char *token, long *ret)
{
    size_t n = strlen(token);

    for (const char *p = detail; (p = strstr(p, token)) != NULL; p += n)
        if ((p == detail || p[-1] == ' ' || p[-1] == ',') && sscanf(p + n, "%ld", ret) == 1)
            return true;
    return false;
}

static int parse_mce(struct tep_event *e, struct tep_record *r, unsigned page_shift,
                     struct mem_event *out)
{
    struct mce_raw raw = {0};
    struct mce_memory m;
    bool have_socket;
    uint64_t v;

    if (trace_field_uint(e, r, "status", &raw.status) < 0 || trace_field_uint(e, r, "bank", &v) < 0)
        return -EBADMSG;
    raw.bank = (uint8_t) v;
    trace_field_uint(e, r, "addr", &raw.addr);
    trace_field_uint(e, r, "misc", &raw.misc);
    trace_field_uint(e, r, "mcgstatus", &raw.mcgstatus);
    if (trace_field_uint(e, r, "cpu", &v) == 0)
        raw.cpu = (uint32_t) v;
    have_socket = trace_field_uint(e, r, "socketid", &v) == 0;
    if (have_socket)
        raw.socketid = (uint32_t) v;
    if (trace_field_uint(e, r, "cpuvendor", &v) == 0)
        raw.cpuvendor = (uint8_t) v;
    mce_decode(&raw, page_shift, &m);
    if (m.kind == MCE_NOT_VALID)
        return 1;
    out->cpu = raw.cpu;
    if (m.kind == MCE_NOT_MEMORY) {
        out->severity = !m.uc ? MEM_SEV_CORRECTED : m.pcc ? MEM_SEV_FATAL : MEM_SEV_UNCORRECTED;
        add(out->record, "cpu", json_object_new_int64(raw.cpu));
        if (have_socket)
            add(out->record, "socket", json_object_new_int64(raw.socketid));
        add(out->record, "bank", json_object_new_int(raw.bank));
        add_hex(out->record, "status", raw.status);
        add_hex(out->record, "mca_error_code", raw.status & 0xffff);
        return 0;
    }
    out->memory = true;
    out->severity = m.kind == MCE_MEMORY_CE ? MEM_SEV_CORRECTED
                    : m.pcc                 ? MEM_SEV_FATAL
                                            : MEM_SEV_UNCORRECTED;
    out->ce = (struct mem_ce_event){
        .phys_addr = m.phys_addr,
        .addr_valid = m.page_valid,
        .dimm_valid = true,
        .dimm = mem_event_dimm_key_mce(raw.socketid, raw.bank, m.channel),
        .socket = have_socket ? (int32_t) raw.socketid : -1,
        .count = 1,
    };
    out->counted = m.kind == MCE_MEMORY_CE;
    out->page_valid = m.page_valid;
    out->pfn = m.phys_addr >> page_shift;
    json_object *o = out->record;
    add(o, "cpu", json_object_new_int64(raw.cpu));
    if (have_socket)
        add(o, "socket", json_object_new_int64(raw.socketid));
    add(o, "bank", json_object_new_int(raw.bank));
    add_hex(o, "status", raw.status);
    if (m.page_valid)
        add_hex(o, "address", m.phys_addr);
    add_hex(o, "misc", raw.misc);
    add(o, "transaction", json_object_new_string(mce_transaction_name(m.transaction)));
    if (m.channel != 15)
        add(o, "channel", json_object_new_int((int) m.channel));
    if (m.overflow)
        add(o, "overflow", json_object_new_boolean(true));
    if (m.pcc)
        add(o, "context_corrupt", json_object_new_boolean(true));
    return 0;
}

static int parse_mc(struct tep_event *e, struct tep_record *r, unsigned page_shift,
                    struct mem_event *out)
{
    uint64_t type, count = 1, mc = 0, grain = 0, addr = 0;
    int64_t top = -1, mid = -1, low = -1;
    char buf[256];
    json_object *o = out->record;

    if (trace_field_uint(e, r, "error_type", &type) < 0)
        return -EBADMSG;
    trace_field_uint(e, r, "error_count", &count);
    trace_field_uint(e, r, "mc_index", &mc);
    trace_field_int(e, r, "top_layer", &top);
    trace_field_int(e, r, "middle_layer", &mid);
    trace_field_int(e, r, "lower_layer", &low);
    trace_field_uint(e, r, "address", &addr);
    trace_field_uint(e, r, "grain_bits", &grain);
    /* include/linux/edac.h: enum hw_event_mc_err_type */
    static const enum mem_severity by_type[] = {MEM_SEV_CORRECTED, MEM_SEV_UNCORRECTED,
                                                MEM_SEV_DEFERRED, MEM_SEV_FATAL, MEM_SEV_INFO};
    out->severity = type < ELEMENTSOF(by_type) ? by_type[type] : MEM_SEV_INFO;
    out->memory = true;
    bool page = addr != 0 && grain <= page_shift;
    out->ce = (struct mem_ce_event){
        .phys_addr = addr,
        .addr_valid = page,
        .dimm_valid = top >= 0,
        .dimm = mem_event_dimm_key_edac((unsigned) mc, (int) top, (int) mid, (int) low),
        .socket = -1,
        .count = count > 0 ? (uint32_t) MIN(count, (uint64_t) UINT16_MAX) : 1,
    };
    out->counted = out->severity == MEM_SEV_CORRECTED;
    out->page_valid = page;
    out->pfn = addr >> page_shift;
    add(o, "count", json_object_new_int64((int64_t) count));
    add(o, "mc", json_object_new_int64((int64_t) mc));
    json_object *layers = json_object_new_array();
    json_object_array_add(layers, json_object_new_int64(top));
    json_object_array_add(layers, json_object_new_int64(mid));
    json_object_array_add(layers, json_object_new_int64(low));
    add(o, "layers", layers);
    if (addr)
        add_hex(o, "address", addr);
    if (grain < 63)
        add(o, "grain", json_object_new_int64(1LL << grain));
    else /* no such grain: the kernel's bits as they came */
        add(o, "grain_bits", json_object_new_int64((int64_t) grain));
    add_string_field(o, "label", e, r, "label", buf, sizeof(buf));
    add_string_field(o, "msg", e, r, "msg", buf, sizeof(buf));
    if (trace_field_string(e, r, "driver_detail", buf, sizeof(buf)) == 0 && *buf) {
        long row, bank, rank;
        add(o, "detail", json_object_new_string(buf));
        if (detail_number(buf, "row:", &row) && out->ce.dimm_valid) {
            bool have_bank = detail_number(buf, "bank:", &bank);
            bool have_rank = detail_number(buf, "rank:", &rank);
            out->ce.row_valid = true;
            out->ce.row = out->ce.dimm;
            out->ce.row.b = (uint64_t) (row & 0xffffffff) << 32 |
                            (uint64_t) (have_bank ? bank & 0xffff : 0xffff) << 16 |
                            (uint64_t) (have_rank ? rank & 0xffff : 0xffff);
        }
    }
    return 0;
}

/* "pfn 0x1234: recovery action for dirty LRU page: Recovered": the kernel's own names of the
 * page type and the result, from the event's print format (they change between kernels). */
static void add_memory_failure_text(json_object *o, struct tep_handle *tep, struct tep_record *r)
{
    struct trace_seq s;
    const char *p, *colon;

    if (!tep)
        return;
    trace_seq_init(&s);
    tep_print_event(tep, &s, r, "%s", TEP_PRINT_INFO);
    trace_seq_terminate(&s);
    if (s.state == TRACE_SEQ__GOOD && s.buffer) {
        add(o, "kernel_says", json_object_new_string(s.buffer));
        p = strstr(s.buffer, "recovery action for ");
        colon = p ? strrchr(p, ':') : NULL;
        if (p && colon) {
            p += strlen("recovery action for ");
            if (colon > p)
                add(o, "page_type", json_object_new_string_len(p, (int) (colon - p)));
            if (colon[1] == ' ' && colon[2])
                add(o, "action_result", json_object_new_string(colon + 2));
        }
    }
    trace_seq_destroy(&s);
}

static int parse_memory_failure(struct tep_handle *tep, struct tep_event *e, struct tep_record *r,
                                unsigned page_shift, struct mem_event *out)
{
    uint64_t pfn;
    int64_t type = -1, result = -1;

    if (trace_field_uint(e, r, "pfn", &pfn) < 0)
        return -EBADMSG;
    /* the kernel's names of type and result only for a record that has both */
    bool known = trace_field_int(e, r, "type", &type) == 0;
    known = trace_field_int(e, r, "result", &result) == 0 && known;
    out->memory = true;
    out->severity = MEM_SEV_UNCORRECTED;
    out->page_valid = true;
    out->pfn = pfn;
    add_hex(out->record, "pfn", pfn);
    add_hex(out->record, "address", pfn << page_shift);
    add(out->record, "type", json_object_new_int64(type));
    add(out->record, "result", json_object_new_int64(result));
    if (known)
        add_memory_failure_text(out->record, tep, r);
    return 0;
}

/* UEFI CPER section severities (0 recoverable, 1 fatal, 2 corrected, 3 informational). */
static enum mem_severity cper_severity(uint64_t sev)
{
    static const enum mem_severity by_sev[] = {MEM_SEV_UNCORRECTED, MEM_SEV_FATAL,
                                               MEM_SEV_CORRECTED, MEM_SEV_INFO};
    return sev < ELEMENTSOF(by_sev) ? by_sev[sev] : MEM_SEV_INFO;
}

static int parse_extlog(struct tep_event *e, struct tep_record *r, unsigned page_shift,
                        struct mem_event *out)
{
    uint64_t sev, pa = 0, lsb = 64, seq = 0, etype = 0;
    char buf[64];

    if (trace_field_uint(e, r, "sev", &sev) < 0)
        return -EBADMSG;
    trace_field_uint(e, r, "pa", &pa);
    trace_field_uint(e, r, "pa_mask_lsb", &lsb);
    trace_field_uint(e, r, "err_seq", &seq);
    trace_field_uint(e, r, "etype", &etype);
    out->memory = true;
    out->severity = cper_severity(sev);
    bool page = pa != 0 && lsb <= page_shift;
    out->ce = (struct mem_ce_event){.phys_addr = pa, .addr_valid = page, .socket = -1, .count = 1};
    out->counted = out->severity == MEM_SEV_CORRECTED;
    out->page_valid = page;
    out->pfn = pa >> page_shift;
    add(out->record, "seq", json_object_new_int64((int64_t) seq));
    add(out->record, "error_type", json_object_new_int64((int64_t) etype));
    if (pa)
        add_hex(out->record, "address", pa);
    add_uuid_field(out->record, "fru_id", e, r, "fru_id");
    add_string_field(out->record, "fru", e, r, "fru_text", buf, sizeof(buf));
    return 0;
}

static int parse_arm(struct tep_event *e, struct tep_record *r, struct mem_event *out)
{
    uint64_t mpidr, midr = 0, running = 0, psci = 0, affinity = 0;

    if (trace_field_uint(e, r, "mpidr", &mpidr) < 0)
        return -EBADMSG;
    trace_field_uint(e, r, "midr", &midr);
    trace_field_uint(e, r, "running_state", &running);
    trace_field_uint(e, r, "psci_state", &psci);
    trace_field_uint(e, r, "affinity", &affinity);
    out->severity = MEM_SEV_INFO; /* the record does not say: the firmware's log does */
    add_hex(out->record, "mpidr", mpidr);
    add_hex(out->record, "midr", midr);
    add(out->record, "affinity", json_object_new_int64((int64_t) affinity));
    add(out->record, "running_state", json_object_new_int64((int64_t) running));
    add(out->record, "psci_state", json_object_new_int64((int64_t) psci));
    return 0;
}

static int parse_non_standard(struct tep_event *e, struct tep_record *r, struct mem_event *out)
{
    uint64_t sev, len = 0;
    const uint8_t *data;
    size_t data_len;
    char buf[64];

    if (trace_field_uint(e, r, "sev", &sev) < 0)
        return -EBADMSG;
    trace_field_uint(e, r, "len", &len);
    out->severity = cper_severity(sev);
    add_uuid_field(out->record, "section_type", e, r, "sec_type");
    add_uuid_field(out->record, "fru_id", e, r, "fru_id");
    add_string_field(out->record, "fru", e, r, "fru_text", buf, sizeof(buf));
    add(out->record, "length", json_object_new_int64((int64_t) len));
    if (trace_field_bytes(e, r, "buf", &data, &data_len) == 0 && data_len > 0) {
        char hex[2 * HEX_DATA_MAX + 1];
        size_t n = MIN(MIN(data_len, (size_t) len), (size_t) HEX_DATA_MAX);
        for (size_t i = 0; i < n; i++)
            snprintf(hex + 2 * i, 3, "%02x", data[i]);
        hex[2 * n] = '\0';
        add(out->record, "data", json_object_new_string(hex));
    }
    return 0;
}

static int parse_aer(struct tep_event *e, struct tep_record *r, struct mem_event *out)
{
    uint64_t sev, status = 0;
    char buf[64];

    if (trace_field_uint(e, r, "severity", &sev) < 0)
        return -EBADMSG;
    trace_field_uint(e, r, "status", &status);
    /* include/linux/aer.h: AER_NONFATAL 0, AER_FATAL 1, AER_CORRECTABLE 2 */
    out->severity = sev == 2 ? MEM_SEV_CORRECTED : sev == 1 ? MEM_SEV_FATAL : MEM_SEV_UNCORRECTED;
    add_string_field(out->record, "device", e, r, "dev_name", buf, sizeof(buf));
    add_hex(out->record, "status", status);
    return 0;
}

static int parse_sigbus(struct tep_event *e, struct tep_record *r, struct mem_event *out)
{
    int64_t sig, code, pid;
    char comm[32];

    if (trace_field_int(e, r, "sig", &sig) < 0 || trace_field_int(e, r, "code", &code) < 0 ||
        trace_field_int(e, r, "pid", &pid) < 0)
        return -EBADMSG;
    if (sig != SIGBUS_NR || (code != BUS_MCEERR_AR_NR && code != BUS_MCEERR_AO_NR))
        return 1;
    out->memory = true;
    out->severity = MEM_SEV_UNCORRECTED;
    out->pid = pid;
    out->sigbus_code = (int) code;
    add(out->record, "pid", json_object_new_int64(pid));
    add_string_field(out->record, "comm", e, r, "comm", comm, sizeof(comm));
    add(out->record, "signal",
        json_object_new_string(code == BUS_MCEERR_AR_NR ? "SIGBUS BUS_MCEERR_AR"
                                                        : "SIGBUS BUS_MCEERR_AO"));
    return 0;
}

int mem_event_parse(enum mem_event_kind kind, struct tep_handle *tep, struct tep_event *event,
                    struct tep_record *record, unsigned page_shift, struct mem_event *out)
{
    int r;

    *out = (struct mem_event){.kind = kind, .severity = MEM_SEV_INFO, .cpu = -1};
    if (kind < 0 || kind >= _MEM_EVENT_KIND_MAX || !event || !record || page_shift >= 64)
        return -EINVAL;
    out->record = json_object_new_object();
    if (!out->record)
        return -ENOMEM;
    /* first in the text: what and how bad (the severity is set once known; json-c keeps a
     * member's place when its value is replaced) */
    json_object_object_add(out->record, "event", json_object_new_string(kind_names[kind]));
    json_object_object_add(out->record, "severity", NULL);
    switch (kind) {
    case MEM_EVENT_MCE:
        r = parse_mce(event, record, page_shift, out);
        break;
    case MEM_EVENT_MC:
        r = parse_mc(event, record, page_shift, out);
        break;
    case MEM_EVENT_MEMORY_FAILURE:
        r = parse_memory_failure(tep, event, record, page_shift, out);
        break;
    case MEM_EVENT_EXTLOG:
        r = parse_extlog(event, record, page_shift, out);
        break;
    case MEM_EVENT_ARM:
        r = parse_arm(event, record, out);
        break;
    case MEM_EVENT_NON_STANDARD:
        r = parse_non_standard(event, record, out);
        break;
    case MEM_EVENT_AER:
        r = parse_aer(event, record, out);
        break;
    default:
        r = parse_sigbus(event, record, out);
    }
    if (r != 0) {
        mem_event_done(out);
        *out = (struct mem_event){.kind = kind, .cpu = -1};
        return r;
    }
    json_object_object_add(out->record, "severity",
                           json_object_new_string(mem_severity_to_string(out->severity)));
    return 0;
}

void mem_event_done(struct mem_event *ev)
{
    json_object_put(ev->record);
    ev->record = NULL;
}
