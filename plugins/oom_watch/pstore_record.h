/* pstore_record.h: what a pstore record is, from its name and its text. The kernel names
 * kmsg dumps "dmesg-<backend>-<id>" (e.g. dmesg-ramoops-0, dmesg-efi-...), with ".enc.z" when
 * the backend compressed it and could not decompress it on mount; the text starts with a
 * header "<Reason>#<count> Part<n>" (Panic, Oops, Emergency, Shutdown, ...) and carries the
 * kernel log lines. Pure: no file is opened here. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pstore_name_kind {
    PSTORE_NAME_DMESG,            /* a kernel log dump */
    PSTORE_NAME_DMESG_COMPRESSED, /* the same, compressed: its text cannot be read */
    PSTORE_NAME_OTHER,            /* console-, pmsg-, ftrace-, mce-...: not ours */
};

/* Classifies a file name of the pstore directory; *backend (may be NULL) gets the backend's
 * name ("ramoops") for dmesg records, cut to backend_size. */
enum pstore_name_kind pstore_name_classify(const char *name, char *backend, size_t backend_size);

enum pstore_finding {
    PSTORE_FINDING_NONE,  /* no panic and no oops in it (a clean shutdown dump, say) */
    PSTORE_FINDING_PANIC, /* "Kernel panic - not syncing", or a "Panic#" header */
    PSTORE_FINDING_OOPS,  /* "Oops" without a panic */
    _PSTORE_FINDING_MAX,
};
const char *pstore_finding_to_string(enum pstore_finding f); /* "none", "panic", "oops" */

#define PSTORE_LINE_MAX 256

struct pstore_classification {
    enum pstore_finding finding;
    char header[64];            /* "Panic#1 Part1", or "" */
    char line[PSTORE_LINE_MAX]; /* the kernel log line that says it, printable, or "" */
};

/* Looks at a record's text (len bytes, any bytes: it is what was in memory at the crash).
 * The kept lines lose their "<level>[ timestamp]" prefix' level and control characters. */
void pstore_record_classify(const char *text, size_t len, struct pstore_classification *ret);

/* FNV-1a, 64 bits: tells two records of the same name apart across boots. */
uint64_t pstore_hash(const void *data, size_t len);
