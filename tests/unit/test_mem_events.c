/* test_mem_events: the RAS tracepoints as mem_sentry reads them. The formats are the exact format
 * files of Debian 12's 6.1 kernel (tests/fixtures/tracefs/debian-6.1), parsed the way the reader
 * parses them (trace_formats_new(), trace_formats_add()); each record is built byte by byte where
 * that format puts its fields (looked up by name, never a layout assumed here) and fed to
 * mem_event_parse(). The records are copied into buffers of exactly their size (ASan sees a read
 * past them), and some into the last bytes of a page followed by an inaccessible one (a read past
 * them faults even in code ASan does not instrument, such as libtraceevent). Then records built
 * to be hostile: cut short, strings that point outside, control bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <event-parse.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mem_events.h"
#include "trace_fixture.h"
#include "trace_field.h"
#include "trace_reader.h"

#define PAGE_SHIFT 12
#define FORMATS    SENTRY_FIXTURES_DIR "/tracefs/debian-6.1/events"

/* VAL EN MISCV ADDRV, memory controller read, channel unknown: the lab's injected CE */
#define STATUS_CE_READ 0x9c0000000000009fULL
#define MISC_PHYS_PAGE 0x8cULL /* address mode 2 (physical), valid from bit 12 */
#define STATUS_UC      (1ULL << 61)
#define STATUS_PCC     (1ULL << 57)
#define STATUS_MISCV   (1ULL << 59)

static struct tep_handle *tep;
static struct tep_event *events[_MEM_EVENT_KIND_MAX];

static int setup_formats(void **state)
{
    const char *failed;

    tep = trace_fixture_load(FORMATS, mem_trace_events, _MEM_EVENT_KIND_MAX, events, &failed);
    if (!tep)
        fail_msg("cannot load %s: %s", failed, strerror(errno));
    for (int k = 0; k < _MEM_EVENT_KIND_MAX; k++)
        assert_string_equal(events[k]->name, mem_trace_events[k].name);
    return 0;
}

static int teardown_formats(void **state)
{
    tep_free(tep);
    tep = NULL;
    return 0;
}

/* A record under construction: the fixed part as long as the format says, then the data of the
 * __data_loc fields appended. Numbers are in the host's byte order, as the reader's tep is
 * (trace_formats_new()): little-endian on x86, where these formats come from. */
struct rec {
    enum mem_event_kind kind;
    struct tep_event *e;
    uint8_t buf[1024];
    size_t len;
};

static struct tep_format_field *field_of(struct rec *r, const char *name)
{
    struct tep_format_field *f = tep_find_any_field(r->e, name);

    if (!f)
        fail_msg("%s has no field %s", r->e->name, name);
    return f;
}

static void rec_set(struct rec *r, const char *name, uint64_t v)
{
    struct tep_format_field *f = field_of(r, name);
    uint8_t *p = r->buf + f->offset;

    assert_false(f->flags & (TEP_FIELD_IS_ARRAY | TEP_FIELD_IS_DYNAMIC));
    if (f->size != 1 && f->size != 2 && f->size != 4 && f->size != 8)
        fail_msg("%s: size %d", name, f->size);
    trace_fixture_put(p, f->size, v);
}

static void rec_init(struct rec *r, enum mem_event_kind kind)
{
    struct tep_format_field *f;

    memset(r, 0, sizeof(*r));
    r->kind = kind;
    r->e = events[kind];
    for (f = r->e->format.common_fields; f; f = f->next)
        r->len =
            (size_t) f->offset + (size_t) f->size > r->len ? (size_t) f->offset + f->size : r->len;
    for (f = r->e->format.fields; f; f = f->next)
        r->len =
            (size_t) f->offset + (size_t) f->size > r->len ? (size_t) f->offset + f->size : r->len;
    assert_true(r->len <= sizeof(r->buf));
    rec_set(r, "common_type", (uint64_t) r->e->id);
}

/* A fixed-size array field (char comm[16], guid_t): n bytes at its start, the rest left 0. */
static void rec_set_bytes(struct rec *r, const char *name, const void *p, size_t n)
{
    struct tep_format_field *f = field_of(r, name);

    assert_false(f->flags & TEP_FIELD_IS_DYNAMIC);
    assert_true(n <= (size_t) f->size);
    memcpy(r->buf + f->offset, p, n);
}

/* A __data_loc field pointing at loc_off with loc_len, whatever is there (hostile records). */
static void rec_set_loc(struct rec *r, const char *name, unsigned loc_off, unsigned loc_len)
{
    struct tep_format_field *f = field_of(r, name);
    uint32_t loc = (uint32_t) (loc_off & 0xffff) | (uint32_t) (loc_len & 0xffff) << 16;

    assert_true(f->flags & TEP_FIELD_IS_DYNAMIC);
    assert_int_equal(f->size, 4);
    memcpy(r->buf + f->offset, &loc, 4);
}

/* A __data_loc field: its n bytes appended at the end of the record. */
static void rec_dyn(struct rec *r, const char *name, const void *p, size_t n)
{
    assert_true(r->len + n <= sizeof(r->buf));
    memcpy(r->buf + r->len, p, n);
    rec_set_loc(r, name, (unsigned) r->len, (unsigned) n);
    r->len += n;
}

static void rec_str(struct rec *r, const char *name, const char *s)
{
    rec_dyn(r, name, s, strlen(s) + 1);
}

/* Parses the first size bytes of r (size <= r->len) from a heap buffer of exactly that size. */
static int parse_cut(struct rec *r, size_t size, struct mem_event *out)
{
    uint8_t *data = malloc(size ? size : 1);
    struct tep_record record = {.size = (int) size, .record_size = (int) size};
    int k;

    assert_non_null(data);
    assert_true(size <= r->len);
    memcpy(data, r->buf, size);
    record.data = data;
    k = mem_event_parse(r->kind, tep, r->e, &record, PAGE_SHIFT, out);
    free(data);
    return k;
}

static int parse(struct rec *r, struct mem_event *out)
{
    return parse_cut(r, r->len, out);
}

/* The same from the last size bytes of a page that an inaccessible page follows. */
static int parse_guarded(struct rec *r, size_t size, struct mem_event *out)
{
    size_t page = (size_t) sysconf(_SC_PAGESIZE);
    uint8_t *map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct tep_record record = {.size = (int) size, .record_size = (int) size};
    int k;

    assert_true(map != MAP_FAILED);
    assert_int_equal(mprotect(map + page, page, PROT_NONE), 0);
    assert_true(size <= r->len && size <= page);
    record.data = map + page - size;
    memcpy(record.data, r->buf, size);
    k = mem_event_parse(r->kind, tep, r->e, &record, PAGE_SHIFT, out);
    munmap(map, 2 * page);
    return k;
}

static json_object *member(const struct mem_event *ev, const char *key)
{
    json_object *v = NULL;

    assert_non_null(ev->record);
    return json_object_object_get_ex(ev->record, key, &v) ? v : NULL;
}

static const char *str_member(const struct mem_event *ev, const char *key)
{
    json_object *v = member(ev, key);

    if (!v)
        fail_msg("record has no \"%s\": %s", key, json_object_to_json_string(ev->record));
    assert_true(json_object_is_type(v, json_type_string));
    return json_object_get_string(v);
}

static int64_t int_member(const struct mem_event *ev, const char *key)
{
    json_object *v = member(ev, key);

    if (!v)
        fail_msg("record has no \"%s\": %s", key, json_object_to_json_string(ev->record));
    assert_true(json_object_is_type(v, json_type_int));
    return json_object_get_int64(v);
}

static bool keys_equal(struct mem_key a, struct mem_key b)
{
    return a.a == b.a && a.b == b.b;
}

/* What every parsed record begins with: the event and its severity, in that order. */
static void assert_head(const struct mem_event *ev, const char *event, const char *severity)
{
    struct json_object_iterator it = json_object_iter_begin(ev->record);
    struct json_object_iterator end = json_object_iter_end(ev->record);

    assert_false(json_object_iter_equal(&it, &end));
    assert_string_equal(json_object_iter_peek_name(&it), "event");
    json_object_iter_next(&it);
    assert_false(json_object_iter_equal(&it, &end));
    assert_string_equal(json_object_iter_peek_name(&it), "severity");
    assert_string_equal(str_member(ev, "event"), event);
    assert_string_equal(str_member(ev, "severity"), severity);
}

/* mce:mce_record */

static void mce_record(struct rec *r, uint64_t status)
{
    rec_init(r, MEM_EVENT_MCE);
    rec_set(r, "status", status);
    rec_set(r, "addr", 0x12345000);
    rec_set(r, "misc", MISC_PHYS_PAGE);
    rec_set(r, "cpuvendor", 0); /* X86_VENDOR_INTEL */
    rec_set(r, "socketid", 1);
    rec_set(r, "bank", 7);
    rec_set(r, "cpu", 3);
}

static void test_mce_corrected_read(void **state)
{
    struct rec r;
    struct mem_event ev;

    mce_record(&r, STATUS_CE_READ);
    assert_int_equal(parse(&r, &ev), 0);
    assert_int_equal(ev.kind, MEM_EVENT_MCE);
    assert_int_equal(ev.severity, MEM_SEV_CORRECTED);
    assert_true(ev.memory);
    assert_true(ev.counted);
    assert_true(ev.ce.addr_valid);
    assert_int_equal(ev.ce.phys_addr, 0x12345000);
    assert_true(ev.ce.dimm_valid);
    assert_true(keys_equal(ev.ce.dimm, mem_event_dimm_key_mce(1, 7, 15)));
    assert_false(ev.ce.row_valid);
    assert_int_equal(ev.ce.socket, 1);
    assert_int_equal(ev.ce.count, 1);
    assert_true(ev.page_valid);
    assert_int_equal(ev.pfn, 0x12345);
    assert_int_equal(ev.pid, 0);
    assert_head(&ev, "mce", "corrected");
    assert_int_equal(int_member(&ev, "bank"), 7);
    assert_int_equal(int_member(&ev, "socket"), 1);
    assert_int_equal(int_member(&ev, "cpu"), 3);
    assert_string_equal(str_member(&ev, "address"), "0x12345000");
    assert_string_equal(str_member(&ev, "status"), "0x9c0000000000009f");
    assert_string_equal(str_member(&ev, "misc"), "0x8c");
    assert_string_equal(str_member(&ev, "transaction"), "read");
    assert_null(member(&ev, "channel")); /* 15: not known */
    assert_null(member(&ev, "context_corrupt"));
    mem_event_done(&ev);
    assert_null(ev.record);
}

static void test_mce_uncorrected_and_fatal(void **state)
{
    struct rec r;
    struct mem_event ev;

    mce_record(&r, STATUS_CE_READ | STATUS_UC);
    assert_int_equal(parse(&r, &ev), 0);
    assert_int_equal(ev.severity, MEM_SEV_UNCORRECTED);
    assert_true(ev.memory);
    assert_false(ev.counted);
    assert_true(ev.page_valid);
    assert_int_equal(ev.pfn, 0x12345);
    assert_head(&ev, "mce", "uncorrected");
    assert_null(member(&ev, "context_corrupt"));
    mem_event_done(&ev);

    mce_record(&r, STATUS_CE_READ | STATUS_UC | STATUS_PCC);
    assert_int_equal(parse(&r, &ev), 0);
    assert_int_equal(ev.severity, MEM_SEV_FATAL);
    assert_false(ev.counted);
    assert_true(ev.page_valid);
    assert_head(&ev, "mce", "fatal");
    assert_true(json_object_get_boolean(member(&ev, "context_corrupt")));
    mem_event_done(&ev);
}

static void test_mce_channel_named(void **state)
{
    struct rec r;
    struct mem_event ev;

    /* memory controller write on channel 2 */
    mce_record(&r, (STATUS_CE_READ & ~0xffffULL) | 0x00a2);
    assert_int_equal(parse(&r, &ev), 0);
    assert_int_equal(int_member(&ev, "channel"), 2);
    assert_string_equal(str_member(&ev, "transaction"), "write");
    assert_true(keys_equal(ev.ce.dimm, mem_event_dimm_key_mce(1, 7, 2)));
    assert_false(keys_equal(ev.ce.dimm, mem_event_dimm_key_mce(1, 7, 15)));
    mem_event_done(&ev);
}

static void test_mce_not_memory(void **state)
{
    struct rec r;
    struct mem_event ev;

    /* 0000 0001 0101 0000: a cache hierarchy error, not a memory controller's: an event of its
     * CPU, for the CPU's corrected-error count */
    mce_record(&r, (STATUS_CE_READ & ~0xffffULL) | 0x0150);
    assert_int_equal(parse(&r, &ev), 0);
    assert_false(ev.memory);
    assert_false(ev.counted);
    assert_false(ev.page_valid);
    assert_int_equal(ev.severity, MEM_SEV_CORRECTED);
    assert_int_equal(ev.cpu, int_member(&ev, "cpu"));
    assert_string_equal(str_member(&ev, "mca_error_code"), "0x150");
    assert_null(member(&ev, "address"));
    mem_event_done(&ev);
    /* and uncorrected */
    mce_record(&r, ((STATUS_CE_READ & ~0xffffULL) | 0x0150) | 1ULL << 61);
    assert_int_equal(parse(&r, &ev), 0);
    assert_int_equal(ev.severity, MEM_SEV_UNCORRECTED);
    assert_false(ev.memory);
    mem_event_done(&ev);
    /* VAL clear */
    mce_record(&r, STATUS_CE_READ & ~(1ULL << 63));
    assert_int_equal(parse(&r, &ev), 1);
    assert_null(ev.record);
}

static void test_mce_intel_without_miscv(void **state)
{
    struct rec r;
    struct mem_event ev;

    mce_record(&r, STATUS_CE_READ & ~STATUS_MISCV);
    assert_int_equal(parse(&r, &ev), 0);
    assert_int_equal(ev.severity, MEM_SEV_CORRECTED);
    assert_true(ev.counted);
    assert_false(ev.ce.addr_valid);
    assert_false(ev.page_valid);
    assert_true(ev.ce.dimm_valid);
    assert_null(member(&ev, "address"));
    mem_event_done(&ev);
}

/* ras:mc_event */

static void mc_record(struct rec *r, unsigned type, int top, int mid, int low, unsigned grain,
                      const char *detail)
{
    rec_init(r, MEM_EVENT_MC);
    rec_set(r, "error_type", type);
    rec_set(r, "error_count", 3);
    rec_set(r, "mc_index", 0);
    rec_set(r, "top_layer", (uint64_t) (uint8_t) top);
    rec_set(r, "middle_layer", (uint64_t) (uint8_t) mid);
    rec_set(r, "lower_layer", (uint64_t) (uint8_t) low);
    rec_set(r, "address", 0x2000);
    rec_set(r, "grain_bits", grain);
    rec_set(r, "syndrome", 0);
    rec_str(r, "msg", "memory read error");
    rec_str(r, "label", "CPU_SrcID#0_MC#0_Chan#1_DIMM#0");
    rec_str(r, "driver_detail", detail);
}

#define DETAIL "rank:0 bank:3 row:1234 col:8"

static void test_mc_corrected(void **state)
{
    struct rec r;
    struct mem_event ev;
    json_object *layers;

    mc_record(&r, 0, 1, 0, -1, 6, DETAIL);
    assert_int_equal(parse(&r, &ev), 0);
    assert_int_equal(ev.kind, MEM_EVENT_MC);
    assert_int_equal(ev.severity, MEM_SEV_CORRECTED);
    assert_true(ev.memory);
    assert_true(ev.counted);
    assert_int_equal(ev.ce.count, 3);
    assert_true(ev.ce.dimm_valid);
    assert_true(keys_equal(ev.ce.dimm, mem_event_dimm_key_edac(0, 1, 0, -1)));
    assert_true(ev.ce.row_valid);
    assert_true(ev.ce.addr_valid); /* a grain of 64 bytes names the page */
    assert_int_equal(ev.ce.phys_addr, 0x2000);
    assert_int_equal(ev.ce.socket, -1);
    assert_true(ev.page_valid);
    assert_int_equal(ev.pfn, 2);
    assert_head(&ev, "mc_event", "corrected");
    assert_string_equal(str_member(&ev, "label"), "CPU_SrcID#0_MC#0_Chan#1_DIMM#0");
    assert_string_equal(str_member(&ev, "msg"), "memory read error");
    assert_string_equal(str_member(&ev, "detail"), DETAIL);
    assert_string_equal(str_member(&ev, "address"), "0x2000");
    assert_int_equal(int_member(&ev, "count"), 3);
    assert_int_equal(int_member(&ev, "mc"), 0);
    assert_int_equal(int_member(&ev, "grain"), 64);
    layers = member(&ev, "layers");
    assert_non_null(layers);
    assert_string_equal(json_object_to_json_string_ext(layers, JSON_C_TO_STRING_PLAIN), "[1,0,-1]");
    mem_event_done(&ev);
}

static void test_mc_row_and_dimm_keys(void **state)
{
    struct rec r;
    struct mem_event a, b, c, d;

    mc_record(&r, 0, 1, 0, -1, 6, DETAIL);
    assert_int_equal(parse(&r, &a), 0);
    mc_record(&r, 0, 1, 0, -1, 6, "rank:0 bank:3 row:1235 col:8");
    assert_int_equal(parse(&r, &b), 0);
    assert_true(a.ce.row_valid && b.ce.row_valid);
    assert_false(keys_equal(a.ce.row, b.ce.row));
    assert_true(keys_equal(a.ce.dimm, b.ce.dimm));

    /* no row in the detail: no row level */
    mc_record(&r, 0, 1, 0, -1, 6, "rank:0 bank:3 col:8");
    assert_int_equal(parse(&r, &c), 0);
    assert_false(c.ce.row_valid);
    assert_true(c.ce.dimm_valid);
    assert_true(keys_equal(a.ce.dimm, c.ce.dimm));

    /* another DIMM */
    mc_record(&r, 0, 1, 1, -1, 6, DETAIL);
    assert_int_equal(parse(&r, &d), 0);
    assert_true(d.ce.dimm_valid);
    assert_false(keys_equal(a.ce.dimm, d.ce.dimm));
    assert_false(keys_equal(a.ce.row, d.ce.row));
    mem_event_done(&a);
    mem_event_done(&b);
    mem_event_done(&c);
    mem_event_done(&d);

    /* no layer known: no DIMM, and then no row either */
    mc_record(&r, 0, -1, -1, -1, 6, DETAIL);
    assert_int_equal(parse(&r, &a), 0);
    assert_false(a.ce.dimm_valid);
    assert_false(a.ce.row_valid);
    mem_event_done(&a);
}

static void test_mc_uncorrected_and_coarse(void **state)
{
    struct rec r;
    struct mem_event ev;

    mc_record(&r, 1, 1, 0, -1, 6, DETAIL);
    assert_int_equal(parse(&r, &ev), 0);
    assert_int_equal(ev.severity, MEM_SEV_UNCORRECTED);
    assert_true(ev.memory);
    assert_false(ev.counted);
    assert_head(&ev, "mc_event", "uncorrected");
    mem_event_done(&ev);

    mc_record(&r, 2, 1, 0, -1, 6, DETAIL);
    assert_int_equal(parse(&r, &ev), 0);
    assert_int_equal(ev.severity, MEM_SEV_DEFERRED);
    assert_false(ev.counted);
    mem_event_done(&ev);

    /* the address is known to 1 MiB only: no page */
    mc_record(&r, 0, 1, 0, -1, 20, DETAIL);
    assert_int_equal(parse(&r, &ev), 0);
    assert_true(ev.counted);
    assert_false(ev.ce.addr_valid);
    assert_false(ev.page_valid);
    assert_int_equal(int_member(&ev, "grain"), 1 << 20);
    mem_event_done(&ev);
}

/* grain_bits is a u8 of the kernel's: any value may come. A shift by 63 or more is undefined, so
 * such a grain is shown as the bits that came, never computed. */
static void test_mc_grain_out_of_range(void **state)
{
    struct rec r;
    struct mem_event ev;

    mc_record(&r, 0, 1, 0, -1, 255, DETAIL);
    assert_int_equal(parse(&r, &ev), 0);
    assert_true(ev.counted);
    assert_false(ev.ce.addr_valid);
    assert_false(ev.page_valid);
    assert_null(member(&ev, "grain"));
    assert_non_null(member(&ev, "grain_bits"));
    mem_event_done(&ev);
}

/* ras:memory_failure_event */

static void test_memory_failure(void **state)
{
    struct rec r;
    struct mem_event ev;
    const char *says;

    rec_init(&r, MEM_EVENT_MEMORY_FAILURE);
    rec_set(&r, "pfn", 0x1234);
    rec_set(&r, "type", 13);
    rec_set(&r, "result", 3);
    assert_int_equal(parse(&r, &ev), 0);
    assert_int_equal(ev.kind, MEM_EVENT_MEMORY_FAILURE);
    assert_int_equal(ev.severity, MEM_SEV_UNCORRECTED);
    assert_true(ev.memory);
    assert_false(ev.counted);
    assert_true(ev.page_valid);
    assert_int_equal(ev.pfn, 0x1234);
    assert_head(&ev, "memory_failure", "uncorrected");
    assert_string_equal(str_member(&ev, "pfn"), "0x1234");
    assert_string_equal(str_member(&ev, "address"), "0x1234000");
    assert_int_equal(int_member(&ev, "type"), 13);
    assert_int_equal(int_member(&ev, "result"), 3);
    says = str_member(&ev, "kernel_says");
    assert_non_null(strstr(says, "dirty LRU page"));
    assert_non_null(strstr(says, "Recovered"));
    assert_string_equal(str_member(&ev, "page_type"), "dirty LRU page");
    assert_string_equal(str_member(&ev, "action_result"), "Recovered");
    mem_event_done(&ev);

    /* without the tep: the numbers only */
    struct tep_record record = {.size = (int) r.len, .data = r.buf};
    assert_int_equal(mem_event_parse(MEM_EVENT_MEMORY_FAILURE, NULL, r.e, &record, PAGE_SHIFT, &ev),
                     0);
    assert_int_equal(ev.pfn, 0x1234);
    assert_null(member(&ev, "kernel_says"));
    assert_null(member(&ev, "page_type"));
    mem_event_done(&ev);
}

/* ras:extlog_mem_event */

static const uint8_t GUID_BYTES[16] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                       0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
#define GUID_TEXT "03020100-0504-0706-0809-0a0b0c0d0e0f"

static void extlog_record(struct rec *r, unsigned sev)
{
    rec_init(r, MEM_EVENT_EXTLOG);
    rec_set(r, "err_seq", 42);
    rec_set(r, "etype", 2);
    rec_set(r, "sev", sev);
    rec_set(r, "pa", 0x5000);
    rec_set(r, "pa_mask_lsb", 12);
    rec_set_bytes(r, "fru_id", GUID_BYTES, sizeof(GUID_BYTES));
    rec_str(r, "fru_text", "DIMM A1");
}

static void test_extlog(void **state)
{
    struct rec r;
    struct mem_event ev;

    extlog_record(&r, 2);
    assert_int_equal(parse(&r, &ev), 0);
    assert_int_equal(ev.kind, MEM_EVENT_EXTLOG);
    assert_int_equal(ev.severity, MEM_SEV_CORRECTED);
    assert_true(ev.memory);
    assert_true(ev.counted);
    assert_true(ev.ce.addr_valid);
    assert_int_equal(ev.ce.phys_addr, 0x5000);
    assert_int_equal(ev.ce.socket, -1);
    assert_true(ev.page_valid);
    assert_int_equal(ev.pfn, 5);
    assert_head(&ev, "extlog", "corrected");
    assert_string_equal(str_member(&ev, "fru"), "DIMM A1");
    assert_string_equal(str_member(&ev, "fru_id"), GUID_TEXT);
    assert_string_equal(str_member(&ev, "address"), "0x5000");
    assert_int_equal(int_member(&ev, "seq"), 42);
    assert_int_equal(int_member(&ev, "error_type"), 2);
    mem_event_done(&ev);

    extlog_record(&r, 0);
    assert_int_equal(parse(&r, &ev), 0);
    assert_int_equal(ev.severity, MEM_SEV_UNCORRECTED);
    assert_false(ev.counted);
    assert_head(&ev, "extlog", "uncorrected");
    mem_event_done(&ev);

    /* a mask coarser than the page */
    extlog_record(&r, 2);
    rec_set(&r, "pa_mask_lsb", 30);
    assert_int_equal(parse(&r, &ev), 0);
    assert_true(ev.counted);
    assert_false(ev.ce.addr_valid);
    assert_false(ev.page_valid);
    mem_event_done(&ev);
}

/* ras:arm_event */

static void test_arm(void **state)
{
    struct rec r;
    struct mem_event ev;

    rec_init(&r, MEM_EVENT_ARM);
    rec_set(&r, "mpidr", 0x81000100);
    rec_set(&r, "midr", 0x410fd0c0);
    rec_set(&r, "running_state", 1);
    rec_set(&r, "psci_state", 0);
    rec_set(&r, "affinity", 2);
    assert_int_equal(parse(&r, &ev), 0);
    assert_int_equal(ev.severity, MEM_SEV_INFO);
    assert_false(ev.memory);
    assert_false(ev.counted);
    assert_head(&ev, "arm", "info");
    assert_string_equal(str_member(&ev, "mpidr"), "0x81000100");
    assert_string_equal(str_member(&ev, "midr"), "0x410fd0c0");
    assert_int_equal(int_member(&ev, "affinity"), 2);
    assert_int_equal(int_member(&ev, "running_state"), 1);
    mem_event_done(&ev);
}

/* ras:non_standard_event */

static void non_standard_record(struct rec *r, unsigned len, const void *data, size_t n)
{
    rec_init(r, MEM_EVENT_NON_STANDARD);
    rec_set_bytes(r, "sec_type", GUID_BYTES, sizeof(GUID_BYTES));
    rec_str(r, "fru_text", "PCIe slot 3");
    rec_set(r, "sev", 1);
    rec_set(r, "len", len);
    rec_dyn(r, "buf", data, n);
}

static void test_non_standard(void **state)
{
    static const uint8_t data[4] = {0xde, 0xad, 0xbe, 0xef};
    struct rec r;
    struct mem_event ev;

    non_standard_record(&r, 4, data, sizeof(data));
    assert_int_equal(parse(&r, &ev), 0);
    assert_int_equal(ev.severity, MEM_SEV_FATAL);
    assert_false(ev.memory);
    assert_false(ev.counted);
    assert_head(&ev, "non_standard", "fatal");
    assert_string_equal(str_member(&ev, "section_type"), GUID_TEXT);
    assert_string_equal(str_member(&ev, "fru_id"), "00000000-0000-0000-0000-000000000000");
    assert_string_equal(str_member(&ev, "fru"), "PCIe slot 3");
    assert_int_equal(int_member(&ev, "length"), 4);
    assert_string_equal(str_member(&ev, "data"), "deadbeef");
    mem_event_done(&ev);

    /* the length says more than the record holds: what is there */
    non_standard_record(&r, 4096, data, sizeof(data));
    assert_int_equal(parse(&r, &ev), 0);
    assert_int_equal(int_member(&ev, "length"), 4096);
    assert_string_equal(str_member(&ev, "data"), "deadbeef");
    mem_event_done(&ev);

    /* and less: what it says */
    non_standard_record(&r, 2, data, sizeof(data));
    assert_int_equal(parse(&r, &ev), 0);
    assert_string_equal(str_member(&ev, "data"), "dead");
    mem_event_done(&ev);
}

static void test_non_standard_data_capped(void **state)
{
    uint8_t data[300];
    struct rec r;
    struct mem_event ev;

    memset(data, 0xab, sizeof(data));
    non_standard_record(&r, sizeof(data), data, sizeof(data));
    assert_int_equal(parse(&r, &ev), 0);
    assert_int_equal(strlen(str_member(&ev, "data")), 2 * 256);
    mem_event_done(&ev);
}

/* ras:aer_event */

static void aer_record(struct rec *r, unsigned severity)
{
    rec_init(r, MEM_EVENT_AER);
    rec_str(r, "dev_name", "0000:00:1c.0");
    rec_set(r, "status", 0x40);
    rec_set(r, "severity", severity);
}

static void test_aer(void **state)
{
    static const struct {
        unsigned sev;
        enum mem_severity want;
        const char *name;
    } cases[] = {
        {2, MEM_SEV_CORRECTED, "corrected"},
        {1, MEM_SEV_FATAL, "fatal"},
        {0, MEM_SEV_UNCORRECTED, "uncorrected"},
    };
    struct rec r;
    struct mem_event ev;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        aer_record(&r, cases[i].sev);
        assert_int_equal(parse(&r, &ev), 0);
        assert_int_equal(ev.severity, cases[i].want);
        assert_false(ev.memory);
        assert_false(ev.counted);
        assert_head(&ev, "aer", cases[i].name);
        assert_string_equal(str_member(&ev, "device"), "0000:00:1c.0");
        assert_string_equal(str_member(&ev, "status"), "0x40");
        mem_event_done(&ev);
    }
}

/* signal:signal_generate */

static void sigbus_record(struct rec *r, unsigned sig, unsigned code)
{
    rec_init(r, MEM_EVENT_SIGBUS);
    rec_set(r, "sig", sig);
    rec_set(r, "errno", 0);
    rec_set(r, "code", code);
    rec_set_bytes(r, "comm", "victim", sizeof("victim"));
    rec_set(r, "pid", 4242);
    rec_set(r, "group", 1);
    rec_set(r, "result", 0);
}

static void test_sigbus(void **state)
{
    struct rec r;
    struct mem_event ev;

    sigbus_record(&r, 7, 4);
    assert_int_equal(parse(&r, &ev), 0);
    assert_int_equal(ev.kind, MEM_EVENT_SIGBUS);
    assert_true(ev.memory);
    assert_false(ev.counted);
    assert_false(ev.page_valid);
    assert_int_equal(ev.severity, MEM_SEV_UNCORRECTED);
    assert_int_equal(ev.pid, 4242);
    assert_int_equal(ev.sigbus_code, 4);
    assert_head(&ev, "sigbus", "uncorrected");
    assert_int_equal(int_member(&ev, "pid"), 4242);
    assert_string_equal(str_member(&ev, "comm"), "victim");
    assert_string_equal(str_member(&ev, "signal"), "SIGBUS BUS_MCEERR_AR");
    mem_event_done(&ev);

    sigbus_record(&r, 7, 5);
    assert_int_equal(parse(&r, &ev), 0);
    assert_int_equal(ev.sigbus_code, 5);
    assert_string_equal(str_member(&ev, "signal"), "SIGBUS BUS_MCEERR_AO");
    mem_event_done(&ev);

    /* BUS_ADRALN: not memory */
    sigbus_record(&r, 7, 1);
    assert_int_equal(parse(&r, &ev), 1);
    assert_null(ev.record);
    assert_false(ev.memory);
    assert_int_equal(ev.pid, 0);
    /* not even SIGBUS */
    sigbus_record(&r, 9, 4);
    assert_int_equal(parse(&r, &ev), 1);
    assert_null(ev.record);
}

/* Hostile records. */

/* The field each kind cannot do without that lies last in its format. */
static const char *const needed_field[_MEM_EVENT_KIND_MAX] = {
    [MEM_EVENT_MCE] = "bank",     [MEM_EVENT_MC] = "error_type", [MEM_EVENT_MEMORY_FAILURE] = "pfn",
    [MEM_EVENT_EXTLOG] = "sev",   [MEM_EVENT_ARM] = "mpidr",     [MEM_EVENT_NON_STANDARD] = "sev",
    [MEM_EVENT_AER] = "severity", [MEM_EVENT_SIGBUS] = "pid",
};

static void good_record(struct rec *r, enum mem_event_kind k)
{
    static const uint8_t data[4] = {1, 2, 3, 4};

    switch (k) {
    case MEM_EVENT_MCE:
        mce_record(r, STATUS_CE_READ);
        break;
    case MEM_EVENT_MC:
        mc_record(r, 0, 1, 0, -1, 6, DETAIL);
        break;
    case MEM_EVENT_MEMORY_FAILURE:
        rec_init(r, k);
        rec_set(r, "pfn", 0x1234);
        rec_set(r, "type", 13);
        rec_set(r, "result", 3);
        break;
    case MEM_EVENT_EXTLOG:
        extlog_record(r, 2);
        break;
    case MEM_EVENT_ARM:
        rec_init(r, k);
        rec_set(r, "mpidr", 1);
        break;
    case MEM_EVENT_NON_STANDARD:
        non_standard_record(r, 4, data, sizeof(data));
        break;
    case MEM_EVENT_AER:
        aer_record(r, 2);
        break;
    default:
        sigbus_record(r, 7, 4);
    }
}

static void test_truncated(void **state)
{
    struct rec r;
    struct mem_event ev;

    for (int k = 0; k < _MEM_EVENT_KIND_MAX; k++) {
        good_record(&r, (enum mem_event_kind) k);
        assert_int_equal(parse(&r, &ev), 0);
        mem_event_done(&ev);

        struct tep_format_field *f = field_of(&r, needed_field[k]);
        size_t cuts[] = {0, 2, 8, (size_t) f->offset + (size_t) f->size - 1};
        for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
            assert_int_equal(parse_cut(&r, cuts[i], &ev), -EBADMSG);
            assert_null(ev.record);
            assert_false(ev.counted);
            assert_int_equal(parse_guarded(&r, cuts[i], &ev), -EBADMSG);
            assert_null(ev.record);
        }
    }
}

/* Cut right after the field each kind needs: what lies past the cut is absent, nothing is read
 * there (the guard page faults on a read past the record, even inside libtraceevent). */
static void test_cut_after_needed(void **state)
{
    struct rec r;
    struct mem_event ev;

    for (int k = 0; k < _MEM_EVENT_KIND_MAX; k++) {
        good_record(&r, (enum mem_event_kind) k);
        struct tep_format_field *f = field_of(&r, needed_field[k]);
        size_t cut = (size_t) f->offset + (size_t) f->size;
        int rc = parse_cut(&r, cut, &ev);

        assert_true(rc == 0 || rc == -EBADMSG || (rc == 1 && k == MEM_EVENT_SIGBUS));
        mem_event_done(&ev);
        assert_int_equal(parse_guarded(&r, cut, &ev), rc);
        mem_event_done(&ev);
    }
}

/* A memory failure record that ends after pfn: type and result are not there, so the record must
 * not name a page type or a result (libtraceevent would print the absent fields as 0: "reserved
 * kernel page: Ignored"). */
static void test_memory_failure_cut(void **state)
{
    struct rec r;
    struct mem_event ev;
    struct tep_format_field *type;
    int rc;

    good_record(&r, MEM_EVENT_MEMORY_FAILURE);
    type = field_of(&r, "type");
    rc = parse_cut(&r, (size_t) type->offset, &ev);
    if (rc == -EBADMSG) { /* refused as too short for its format: fine too */
        assert_null(ev.record);
        return;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(ev.pfn, 0x1234);
    assert_true(ev.page_valid);
    /* looked at first, asserted after the record is put: a failure leaks nothing */
    bool page_type = member(&ev, "page_type"), result = member(&ev, "action_result");
    bool made_up = member(&ev, "kernel_says") &&
                   strstr(str_member(&ev, "kernel_says"), "reserved kernel page");
    mem_event_done(&ev);
    assert_false(page_type);
    assert_false(result);
    assert_false(made_up);
}

static void test_data_loc_outside(void **state)
{
    struct rec r;
    struct mem_event ev;

    /* label's data begins inside the record and runs past its end */
    mc_record(&r, 0, 1, 0, -1, 6, DETAIL);
    rec_set_loc(&r, "label", (unsigned) r.len - 2, 10);
    assert_int_equal(parse(&r, &ev), 0);
    assert_null(member(&ev, "label"));
    assert_string_equal(str_member(&ev, "msg"), "memory read error");
    assert_true(ev.counted);
    mem_event_done(&ev);
    assert_int_equal(parse_guarded(&r, r.len, &ev), 0);
    assert_null(member(&ev, "label"));
    mem_event_done(&ev);

    /* begins past the end; the longest length */
    rec_set_loc(&r, "label", 0xffff, 0xffff);
    rec_set_loc(&r, "driver_detail", (unsigned) r.len, 1);
    assert_int_equal(parse(&r, &ev), 0);
    assert_null(member(&ev, "label"));
    assert_null(member(&ev, "detail"));
    assert_false(ev.ce.row_valid);
    assert_true(ev.ce.dimm_valid);
    mem_event_done(&ev);

    /* a string with no NUL that ends where the record ends: read up to its end, not past */
    mc_record(&r, 0, 1, 0, -1, 6, DETAIL);
    rec_dyn(&r, "label", "DIMM_B2", 7);
    assert_int_equal(parse(&r, &ev), 0);
    assert_string_equal(str_member(&ev, "label"), "DIMM_B2");
    mem_event_done(&ev);
    assert_int_equal(parse_guarded(&r, r.len, &ev), 0);
    assert_string_equal(str_member(&ev, "label"), "DIMM_B2");
    mem_event_done(&ev);

    /* a non-standard section whose data lies outside: no data, the rest is there */
    static const uint8_t data[4] = {0xde, 0xad, 0xbe, 0xef};
    non_standard_record(&r, 4, data, sizeof(data));
    rec_set_loc(&r, "buf", (unsigned) r.len - 2, 4);
    assert_int_equal(parse(&r, &ev), 0);
    assert_null(member(&ev, "data"));
    assert_string_equal(str_member(&ev, "fru"), "PCIe slot 3");
    mem_event_done(&ev);

    /* AER's device name outside */
    aer_record(&r, 2);
    rec_set_loc(&r, "dev_name", 4000, 13);
    assert_int_equal(parse(&r, &ev), 0);
    assert_null(member(&ev, "device"));
    assert_int_equal(ev.severity, MEM_SEV_CORRECTED);
    mem_event_done(&ev);

    /* extlog's FRU text likewise */
    extlog_record(&r, 2);
    rec_set_loc(&r, "fru_text", (unsigned) r.len, 8);
    assert_int_equal(parse(&r, &ev), 0);
    assert_null(member(&ev, "fru"));
    assert_true(ev.counted);
    mem_event_done(&ev);
}

static void test_unprintable(void **state)
{
    struct rec r;
    struct mem_event ev;
    char comm[16];

    mc_record(&r, 0, 1, 0, -1, 6, DETAIL);
    rec_str(&r, "label", "DIMM\x01\x1b[2J\x7f\xff#0");
    assert_int_equal(parse(&r, &ev), 0);
    assert_string_equal(str_member(&ev, "label"), "DIMM??[2J??#0");
    mem_event_done(&ev);

    /* a comm that fills its 16 bytes, no NUL, a newline among them */
    sigbus_record(&r, 7, 4);
    memcpy(comm, "abcdefgh\nijklmno", 16);
    rec_set_bytes(&r, "comm", comm, sizeof(comm));
    assert_int_equal(parse(&r, &ev), 0);
    assert_string_equal(str_member(&ev, "comm"), "abcdefgh?ijklmno");
    mem_event_done(&ev);
}

static void test_bad_arguments(void **state)
{
    struct rec r;
    struct mem_event ev;
    struct tep_record record;

    mce_record(&r, STATUS_CE_READ);
    record = (struct tep_record){.size = (int) r.len, .data = r.buf};
    assert_int_equal(mem_event_parse(_MEM_EVENT_KIND_MAX, tep, r.e, &record, PAGE_SHIFT, &ev),
                     -EINVAL);
    assert_null(ev.record);
    assert_int_equal(mem_event_parse(MEM_EVENT_MCE, tep, NULL, &record, PAGE_SHIFT, &ev), -EINVAL);
    assert_int_equal(mem_event_parse(MEM_EVENT_MCE, tep, r.e, NULL, PAGE_SHIFT, &ev), -EINVAL);
    assert_int_equal(mem_event_parse(MEM_EVENT_MCE, tep, r.e, &record, 64, &ev), -EINVAL);
    record.data = NULL;
    assert_int_equal(mem_event_parse(MEM_EVENT_MCE, tep, r.e, &record, PAGE_SHIFT, &ev), -EBADMSG);
    assert_null(ev.record);
    mem_event_done(&ev);
    assert_string_equal(mem_event_kind_to_string(MEM_EVENT_MEMORY_FAILURE), "memory_failure");
    assert_null(mem_event_kind_to_string(_MEM_EVENT_KIND_MAX));
    assert_string_equal(mem_severity_to_string(MEM_SEV_DEFERRED), "deferred");
    assert_null(mem_severity_to_string(_MEM_SEV_MAX));
}

/* trace_field.h itself */

static void test_trace_field(void **state)
{
    struct rec r;
    struct tep_record record;
    int64_t i;
    uint64_t u;
    char buf[8];
    const uint8_t *p;
    size_t len;

    mc_record(&r, 0, 1, 0, -1, 6, DETAIL);
    record = (struct tep_record){.size = (int) r.len, .data = r.buf};
    assert_int_equal(trace_field_int(r.e, &record, "lower_layer", &i), 0);
    assert_int_equal(i, -1);
    assert_int_equal(trace_field_uint(r.e, &record, "lower_layer", &u), 0);
    assert_int_equal(u, 0xff);
    /* unsigned fields are not extended */
    rec_set(&r, "mc_index", 0xff);
    assert_int_equal(trace_field_int(r.e, &record, "mc_index", &i), 0);
    assert_int_equal(i, 0xff);
    assert_int_equal(trace_field_uint(r.e, &record, "no_such_field", &u), -ENOENT);
    assert_int_equal(trace_field_int(r.e, &record, "no_such_field", &i), -ENOENT);
    assert_int_equal(trace_field_string(r.e, &record, "no_such_field", buf, sizeof(buf)), -ENOENT);
    assert_string_equal(buf, "");
    /* a string is not a number */
    assert_int_equal(trace_field_uint(r.e, &record, "label", &u), -EBADMSG);
    /* a string is cut to the buffer */
    assert_int_equal(trace_field_string(r.e, &record, "label", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "CPU_Src");
    assert_int_equal(trace_field_string(r.e, &record, "label", buf, 0), -EINVAL);
    assert_int_equal(trace_field_bytes(r.e, &record, "msg", &p, &len), 0);
    assert_int_equal(len, sizeof("memory read error"));
    assert_memory_equal(p, "memory read error", len);
    /* the record ends before the field */
    record.size = 25;
    assert_int_equal(trace_field_int(r.e, &record, "lower_layer", &i), -EBADMSG);
    record.size = 26;
    assert_int_equal(trace_field_int(r.e, &record, "lower_layer", &i), 0);
    record.size = -1;
    assert_int_equal(trace_field_int(r.e, &record, "lower_layer", &i), -EBADMSG);
    assert_int_equal(trace_field_uint(NULL, &record, "lower_layer", &u), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mce_corrected_read),
        cmocka_unit_test(test_mce_uncorrected_and_fatal),
        cmocka_unit_test(test_mce_channel_named),
        cmocka_unit_test(test_mce_not_memory),
        cmocka_unit_test(test_mce_intel_without_miscv),
        cmocka_unit_test(test_mc_corrected),
        cmocka_unit_test(test_mc_row_and_dimm_keys),
        cmocka_unit_test(test_mc_uncorrected_and_coarse),
        cmocka_unit_test(test_memory_failure),
        cmocka_unit_test(test_extlog),
        cmocka_unit_test(test_arm),
        cmocka_unit_test(test_non_standard),
        cmocka_unit_test(test_non_standard_data_capped),
        cmocka_unit_test(test_aer),
        cmocka_unit_test(test_sigbus),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_cut_after_needed),
        cmocka_unit_test(test_data_loc_outside),
        cmocka_unit_test(test_unprintable),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_trace_field),
        /* these two show bugs still open in mem_events.c (see each test's comment); last, since
         * under UBSan the second aborts the program */
        cmocka_unit_test(test_memory_failure_cut),
        cmocka_unit_test(test_mc_grain_out_of_range),
    };
    return cmocka_run_group_tests(tests, setup_formats, teardown_formats);
}
