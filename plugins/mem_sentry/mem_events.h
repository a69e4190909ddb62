/* mem_events.h: the kernel's RAS tracepoints as mem_sentry reads them, one parser per event.
 *
 * Every field is looked up by name in the event's format (the kernel's format file, never a
 * layout assumed here) and read with its bounds checked (trace_field.h): a record without a field
 * its kind cannot do without is refused; any other field this kernel's event lacks, or that lies
 * outside the record, is left out of the alarm and takes a neutral default. Each record
 * becomes a mem_event: its severity, whether it is about memory (then the corrected-error event for
 * the policy), and a JSON object of what it says, which goes into the alarm's text as "record".
 *
 *   mce:mce_record            x86 machine checks (mce_decode.h), memory or not
 *   ras:mc_event              EDAC memory controllers: count, type, DIMM label, layers, address
 *   ras:memory_failure_event  the kernel's action on a poisoned page and its result
 *   ras:extlog_mem_event      the firmware's extended error log (CPER memory section)
 *   ras:arm_event             ARM processor errors (CPER)
 *   ras:non_standard_event    CPER sections of other types
 *   ras:aer_event             PCIe AER errors
 *   signal:signal_generate    (filtered to SIGBUS) a process killed for memory corruption */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "mem_policy.h"
#include "trace_reader.h"

enum mem_event_kind {
    MEM_EVENT_MCE,
    MEM_EVENT_MC,
    MEM_EVENT_MEMORY_FAILURE,
    MEM_EVENT_EXTLOG,
    MEM_EVENT_ARM,
    MEM_EVENT_NON_STANDARD,
    MEM_EVENT_AER,
    MEM_EVENT_SIGBUS,
    _MEM_EVENT_KIND_MAX,
};
/* The tracepoint of each kind, indexed by kind. */
extern const struct trace_event_ref mem_trace_events[_MEM_EVENT_KIND_MAX];
/* "mce", "mc_event", "memory_failure", "extlog", "arm", "non_standard", "aer", "sigbus" */
const char *mem_event_kind_to_string(enum mem_event_kind k);

/* The kernel-side filter of signal:signal_generate: SIGBUS only. */
#define MEM_SIGBUS_FILTER "sig == 7"

enum mem_severity {
    MEM_SEV_CORRECTED,
    MEM_SEV_DEFERRED,    /* corrected by nobody yet, not consumed (EDAC, AMD) */
    MEM_SEV_UNCORRECTED, /* recoverable: the kernel isolates the page */
    MEM_SEV_FATAL,
    MEM_SEV_INFO,
    _MEM_SEV_MAX,
};
const char *mem_severity_to_string(enum mem_severity s); /* "corrected", ... */

struct json_object;

struct mem_event {
    enum mem_event_kind kind;
    enum mem_severity severity;
    bool memory;                /* about memory */
    bool counted;               /* a corrected memory error for the policy: ce is set */
    struct mem_ce_event ce;     /* address, DIMM (or controller and channel), socket, count */
    bool page_valid;            /* pfn names the page (uncorrected errors, memory failures) */
    uint64_t pfn;               /* ... */
    int64_t cpu;                /* MCE: the CPU that logged it; -1 otherwise */
    int64_t pid;                /* SIGBUS: the process; 0 otherwise */
    int sigbus_code;            /* BUS_MCEERR_AR (4) or _AO (5); other codes are not memory */
    struct json_object *record; /* owned: what the record says, for the alarm */
};

/* Parses one record of kind. page_shift: the kernel's. 0 with *out set (out->record to be put by
 * mem_event_done()), -EBADMSG when the record lacks a field the kind cannot do without, -ENOMEM;
 * 1 when the record is not worth anything (an MCE without VAL, a SIGBUS that is not a memory
 * error): out is then empty. An MCE that is not about memory is an event with memory false and
 * its CPU (a CPU's corrected-error storm is counted, cpu_policy.h). */
int mem_event_parse(enum mem_event_kind kind, struct tep_handle *tep, struct tep_event *event,
                    struct tep_record *record, unsigned page_shift, struct mem_event *out);
void mem_event_done(struct mem_event *ev);

/* Packs the identity of a DIMM or memory controller channel into a policy key. */
struct mem_key mem_event_dimm_key_edac(unsigned mc, int top, int mid, int low);
struct mem_key mem_event_dimm_key_mce(unsigned socket, unsigned bank, unsigned channel);
