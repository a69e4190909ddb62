/* victim_fields.c: see victim_fields.h. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "victim_fields.h"

const struct victim_field victim_fields[VICTIM_FIELDS_N] = {
    [VICTIM_FIELD_PID] = {"pid", "pid", "", VICTIM_FIELD_NUMBER},
    {"uid", "uid", "", VICTIM_FIELD_NUMBER},
    {"comm", "comm", "", VICTIM_FIELD_STRING},
    {"total_vm", "total-vm", "kB", VICTIM_FIELD_NUMBER},
    {"anon_rss", "anon-rss", "kB", VICTIM_FIELD_NUMBER},
    {"file_rss", "file-rss", "kB", VICTIM_FIELD_NUMBER},
    {"shmem_rss", "shmem-rss", "kB", VICTIM_FIELD_NUMBER},
    {"pgtables", "pgtables", "kB", VICTIM_FIELD_NUMBER},
    {"oom_score_adj", "oom_score_adj", "", VICTIM_FIELD_NUMBER},
};

long long victim_number(unsigned long long raw, int size, bool is_signed)
{
    switch (size) {
    case 1:
        return is_signed ? (long long) (signed char) raw : (long long) (unsigned char) raw;
    case 2:
        return is_signed ? (long long) (short) raw : (long long) (unsigned short) raw;
    case 4:
        return is_signed ? (long long) (int) raw : (long long) (unsigned int) raw;
    default:
        return (long long) raw;
    }
}

void victim_number_format(const struct victim_field *f, unsigned long long raw, int size,
                          bool is_signed, char *buf, size_t bufsize)
{
    if (is_signed || size < 8)
        snprintf(buf, bufsize, "%lld%s", victim_number(raw, size, is_signed), f->unit);
    else
        snprintf(buf, bufsize, "%llu%s", raw, f->unit);
}

void victim_string_clean(const char *raw, size_t len, char *buf, size_t bufsize)
{
    size_t k = 0;

    if (bufsize == 0)
        return;
    for (size_t i = 0; i < len && raw[i] && raw[i] != '\n' && k + 1 < bufsize; i++)
        buf[k++] = (raw[i] >= 0x20 && raw[i] < 0x7f) ? raw[i] : '?';
    buf[k] = '\0';
}

struct json_object *victim_fields_json(const struct victim_values *v)
{
    json_object *o = json_object_new_object();

    if (!o)
        return NULL;
    for (size_t i = 0; i < VICTIM_FIELDS_N; i++)
        if (v->have[i])
            json_object_object_add(o, victim_fields[i].key, json_object_new_string(v->value[i]));
    return o;
}
