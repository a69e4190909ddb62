/* trace_text.h: the two texts of a tracefs event that oom_watch reads: its format file (which
 * fields this kernel's event has) and its lines in trace_pipe ("<task>-<pid> [cpu] flags ts:
 * mark_victim: pid=1 uid=0 comm=x total-vm=...kB ..."). Older kernels print only "pid=N";
 * newer ones more: nothing is assumed beyond what the line says. Pure. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define TRACE_NAME_MAX   32
#define TRACE_VALUE_MAX  64
#define TRACE_FIELDS_MAX 16

/* Parses a format file: the names of the event's own fields (not common_*), at most max, into
 * names. 0 or -EBADMSG (no "format:" section, or a field line that does not parse). */
int trace_format_fields(const char *text, size_t len, char (*names)[TRACE_NAME_MAX], size_t max,
                        size_t *n);
bool trace_fields_contain(char (*names)[TRACE_NAME_MAX], size_t n, const char *name);

struct trace_kv {
    char key[TRACE_NAME_MAX];
    char value[TRACE_VALUE_MAX];
};

/* Parses one trace_pipe line of event (e.g. "mark_victim"): its key=value pairs, at most max
 * (longer values cut, non-printable bytes replaced). A word that is no "key=" continues the
 * value before it (comm may hold a space). -ENOMSG when the line is not of that event. */
int trace_line_parse(const char *line, size_t len, const char *event, struct trace_kv *kv,
                     size_t max, size_t *n);
/* The value of key, or NULL. */
const char *trace_kv_get(const struct trace_kv *kv, size_t n, const char *key);
