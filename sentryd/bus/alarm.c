/* alarm.c: see alarm.h. */
#include <inttypes.h>
#include <stdio.h>

#include "alarm.h"
#include "json_escape.h"
#include "names.h"
#include "xalarm_record.h"
#include "string_table.h"

static const char *const alarm_origin_table[_ALARM_ORIGIN_MAX] = {
    [ALARM_ORIGIN_NATIVE] = "native",
    [ALARM_ORIGIN_XALARM] = "xalarm",
    [ALARM_ORIGIN_INJECT] = "inject",
};
DEFINE_STRING_TABLE_LOOKUP(alarm_origin, int, alarm_origin_table, _ALARM_ORIGIN_MAX)

struct alarm_record *alarm_record_new(const struct alarm *a)
{
    size_t ls = strlen(a->source), lk = strlen(a->key), ln = strlen(a->node);
    size_t li = a->idem ? strlen(a->idem) + 1 : 0;
    struct alarm_record *r = malloc(sizeof(*r) + ls + lk + ln + a->text_len + li + 4);
    char *p;

    if (!r)
        return NULL;
    memset(r, 0, sizeof(*r));
    cds_wfcq_node_init(&r->wq);
    atomic_init(&r->refs, 1);
    r->a = *a;
    p = r->buf;
    r->a.source = memcpy(p, a->source, ls + 1);
    p += ls + 1;
    r->a.key = memcpy(p, a->key, lk + 1);
    p += lk + 1;
    r->a.node = memcpy(p, a->node, ln + 1);
    p += ln + 1;
    memcpy(p, a->text, a->text_len);
    p[a->text_len] = 0;
    r->a.text = p;
    p += a->text_len + 1;
    r->a.idem = a->idem ? memcpy(p, a->idem, li) : NULL;
    return r;
}

struct alarm_record *alarm_record_ref(struct alarm_record *r)
{
    atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
    return r;
}

void alarm_record_unref(struct alarm_record *r)
{
    if (!r || atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) != 1)
        return;
    free(r->line);
    free(r->xrec);
    free(r);
}

/* The members of the alarm object, without braces (shared by the stream line and answers). */
static size_t alarm_format_members(const struct alarm *a, char *out)
{
    char *o = out;
    o += sprintf(o,
                 "\"seq\":%" PRIu64 ",\"id\":%u,\"level\":\"%s\",\"type\":\"%s\",\"time\":%" PRIu64
                 ",\"source\":",
                 a->seq, a->id, alarm_level_to_string(a->level), alarm_type_to_string(a->type),
                 a->time_us);
    o += json_escape(o, a->source, strlen(a->source));
    o += sprintf(o, ",\"key\":");
    o += json_escape(o, a->key, strlen(a->key));
    o += sprintf(o, ",\"node\":");
    o += json_escape(o, a->node, strlen(a->node));
    o += sprintf(o,
                 ",\"origin\":\"%s\",\"injected\":%s,\"text\":", alarm_origin_to_string(a->origin),
                 a->injected ? "true" : "false");
    o += json_escape(o, a->text, a->text_len);
    return (size_t) (o - out);
}

static size_t alarm_format_max(const struct alarm *a)
{
    return 512 + JSON_ESCAPE_MAX(strlen(a->source)) + JSON_ESCAPE_MAX(strlen(a->key)) +
           JSON_ESCAPE_MAX(strlen(a->node)) + JSON_ESCAPE_MAX(a->text_len);
}

const char *alarm_record_line(struct alarm_record *r, size_t *len)
{
    if (!r->line) {
        char *b = malloc(alarm_format_max(&r->a) + 64);
        if (!b)
            return NULL;
        char *o = b + sprintf(b, "{\"seq\":%" PRIu64 ",\"alarm\":{", r->a.seq);
        o += alarm_format_members(&r->a, o);
        o += sprintf(o, "}}\n");
        r->line_len = (size_t) (o - b);
        r->line = realloc(b, r->line_len) ?: b;
    }
    *len = r->line_len;
    return r->line;
}

const void *alarm_record_xalarm(struct alarm_record *r, size_t *len)
{
    if (!r->xrec) {
        struct timeval tv = {.tv_sec = (time_t) (r->a.time_us / 1000000),
                             .tv_usec = (suseconds_t) (r->a.time_us % 1000000)};
        /* Only sysSentry ids reach xalarm clients; a text with a NUL inside is cut there. */
        size_t tlen = strnlen(r->a.text, MIN(r->a.text_len, XALARM_TEXT_MAX));
        void *x = malloc(XALARM_RECORD_HEAD_SIZE(tlen));

        if (!x ||
            xalarm_record_build_head(x, r->a.id, r->a.level, r->a.type, &tv, r->a.text, tlen) < 0) {
            free(x);
            return NULL;
        }
        r->xrec = x;
        r->xrec_len = XALARM_RECORD_HEAD_SIZE(tlen);
    }
    *len = r->xrec_len;
    return r->xrec;
}

char *alarm_json_text(const struct alarm *a, size_t *len)
{
    char *b = malloc(alarm_format_max(a) + 4);
    if (!b)
        return NULL;
    size_t n = 0;
    b[n++] = '{';
    n += alarm_format_members(a, b + n);
    b[n++] = '}';
    b[n] = 0;
    *len = n;
    return b;
}

json_object *alarm_to_json(const struct alarm *a)
{
    size_t n;
    _cleanup_free_ char *b = alarm_json_text(a, &n);
    return b ? json_tokener_parse(b) : NULL;
}

static int member_string(json_object *o, const char *key, size_t max, const char **ret,
                         const char **why, const char *why_text)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
        return 0;
    if (!json_object_is_type(v, json_type_string) || (size_t) json_object_get_string_len(v) > max ||
        strlen(json_object_get_string(v)) != (size_t) json_object_get_string_len(v)) {
        *why = why_text;
        return -EINVAL;
    }
    *ret = json_object_get_string(v);
    return 0;
}

/* A level or type given as its name or its number. */
static int member_enum(json_object *o, const char *key, int (*from_string)(const char *), int lo,
                       int hi, int *ret)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v))
        return -ENOENT;
    if (json_object_is_type(v, json_type_int)) {
        int64_t i = json_object_get_int64(v);
        if (i < lo || i > hi)
            return -EINVAL;
        *ret = (int) i;
        return 0;
    }
    if (!json_object_is_type(v, json_type_string))
        return -EINVAL;
    int k = from_string(json_object_get_string(v));
    if (k < lo || k > hi)
        return -EINVAL;
    *ret = k;
    return 0;
}

int alarm_from_json(json_object *obj, struct alarm *a, const char **why)
{
    json_object *v;
    int level = SENTRY_ALARM_MINOR, type = SENTRY_ALARM_OCCUR, r;

    if (!json_object_is_type(obj, json_type_object)) {
        *why = "'alarm' must be an object";
        return -EINVAL;
    }
    json_object_object_foreach(obj, k, val)
    {
        static const char *const known[] = {"id", "level", "type", "text", "source", "key", "time"};
        bool ok = false;
        (void) val;
        for (size_t i = 0; i < ELEMENTSOF(known) && !ok; i++)
            ok = streq(k, known[i]);
        if (!ok) {
            *why = "unknown member in 'alarm' (known: id, level, type, text, source, key, time)";
            return -EINVAL;
        }
    }
    if (!json_object_object_get_ex(obj, "id", &v) || !json_object_is_type(v, json_type_int) ||
        json_object_get_int64(v) < 1 || json_object_get_int64(v) > UINT16_MAX) {
        *why = "'id' must be an integer in 1..65535";
        return -EINVAL;
    }
    a->id = (uint16_t) json_object_get_int64(v);
    r = member_enum(obj, "level", alarm_level_from_string, SENTRY_ALARM_MINOR,
                    SENTRY_ALARM_CRITICAL, &level);
    if (r == -EINVAL) {
        *why = "'level' must be MINOR, MAJOR or CRITICAL (or 1..3)";
        return r;
    }
    r = member_enum(obj, "type", alarm_type_from_string, SENTRY_ALARM_OCCUR, SENTRY_ALARM_RECOVER,
                    &type);
    if (r == -EINVAL) {
        *why = "'type' must be OCCUR or RECOVER (or 1..2)";
        return r;
    }
    a->level = (uint8_t) level;
    a->type = (uint8_t) type;

    a->text = "";
    a->text_len = 0;
    if (json_object_object_get_ex(obj, "text", &v) && !json_object_is_type(v, json_type_null)) {
        if (json_object_is_type(v, json_type_object) || json_object_is_type(v, json_type_array)) {
            /* A JSON value is carried as its text (the reference's texts are JSON objects). */
            size_t n;
            a->text = json_plain(v, &n);
            a->text_len = n;
        } else if (json_object_is_type(v, json_type_string)) {
            a->text = json_object_get_string(v);
            a->text_len = (size_t) json_object_get_string_len(v);
        } else {
            *why = "'text' must be a string or a JSON object";
            return -EINVAL;
        }
        if (a->text_len > ALARM_TEXT_MAX || memchr(a->text, 0, a->text_len)) {
            *why = "'text' must be at most 8191 bytes without NUL";
            return -EINVAL;
        }
    }
    a->source = NULL;
    if (member_string(obj, "source", ALARM_SOURCE_MAX, &a->source, why,
                      "'source' must be a task name (A-Z a-z 0-9 _, at most 255)") < 0)
        return -EINVAL;
    if (a->source && !task_name_is_valid(a->source) && strlen(a->source) > 0) {
        *why = "'source' must be a task name (A-Z a-z 0-9 _, at most 255)";
        return -EINVAL;
    }
    a->key = "";
    if (member_string(obj, "key", ALARM_KEY_MAX, &a->key, why,
                      "'key' must be printable text of at most 128 bytes") < 0 ||
        !string_is_printable(a->key, ALARM_KEY_MAX + 1)) {
        *why = "'key' must be printable text of at most 128 bytes";
        return -EINVAL;
    }
    a->time_us = 0;
    if (json_object_object_get_ex(obj, "time", &v) && !json_object_is_type(v, json_type_null)) {
        /* get_int64 reads a huge unsigned number as INT64_MAX: check it unsigned */
        if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
            json_object_get_uint64(v) > ALARM_TIME_MAX_US) {
            *why = "'time' must be microseconds since the epoch, at most 253402300799999999 "
                   "(9999-12-31)";
            return -EINVAL;
        }
        a->time_us = json_object_get_uint64(v);
    }
    return 0;
}

const char *alarm_text_source(const char *text, size_t len, char *buf, size_t size)
{
    json_object *v;
    const char *s = NULL;

    /* Cheap test first: most texts without the member are not parsed. */
    if (len < 2 || text[0] != '{' || !memmem(text, len, "\"alarm_source\"", 14))
        return NULL;
    json_tokener *tok = json_tokener_new_ex(16);
    if (!tok)
        return NULL;
    json_object *o = json_tokener_parse_ex(tok, text, (int) len);
    if (o && json_object_is_type(o, json_type_object) &&
        json_object_object_get_ex(o, "alarm_source", &v) &&
        json_object_is_type(v, json_type_string) && task_name_is_valid(json_object_get_string(v)) &&
        strlen(json_object_get_string(v)) < size) {
        strcpy(buf, json_object_get_string(v));
        s = buf;
    }
    json_object_put(o);
    json_tokener_free(tok);
    return s;
}
