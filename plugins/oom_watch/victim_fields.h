/* victim_fields.h: the fields of the kernel's oom:mark_victim event that oom_watch puts in its
 * alarm, and how each is written there. The table names each field as the event's format
 * file does (libtraceevent finds it in a record) and gives the key and unit of the kernel's
 * own print format, so the alarm's "fields" member reads like the trace line
 * ("total-vm":"49476kB"). Older kernels have only pid; nothing beyond pid is assumed. Pure. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define VICTIM_VALUE_MAX 64

enum victim_field_kind {
    VICTIM_FIELD_NUMBER,
    VICTIM_FIELD_STRING,
};

struct victim_field {
    const char *name; /* in the event's format file */
    const char *key;  /* in the alarm's "fields" */
    const char *unit; /* written after a number: "kB" or "" */
    enum victim_field_kind kind;
};

/* pid first: the one field every kernel has. */
enum {
    VICTIM_FIELD_PID,
    VICTIM_FIELDS_N = 9,
};
extern const struct victim_field victim_fields[VICTIM_FIELDS_N];

/* What one event said: value[i] is victim_fields[i] as text, when have[i]. */
struct victim_values {
    bool have[VICTIM_FIELDS_N];
    char value[VICTIM_FIELDS_N][VICTIM_VALUE_MAX];
};

/* A field's raw value (size bytes as read, 1, 2, 4 or 8) as a number: sign-extended when the
 * field is signed. */
long long victim_number(unsigned long long raw, int size, bool is_signed);
/* The text of a number field: the number and the field's unit. */
void victim_number_format(const struct victim_field *f, unsigned long long raw, int size,
                          bool is_signed, char *buf, size_t bufsize);
/* A string from the kernel (len bytes, maybe not NUL-terminated) as printable ASCII: it ends at
 * the first NUL or newline, other bytes outside ' '..'~' become '?', it is cut to fit. */
void victim_string_clean(const char *raw, size_t len, char *buf, size_t bufsize);

/* The alarm's "fields" object: one string member per field the event had. */
struct json_object;
struct json_object *victim_fields_json(const struct victim_values *v);
