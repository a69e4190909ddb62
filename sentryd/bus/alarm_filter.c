/* alarm_filter.c: see alarm_filter.h. */
#include <stdio.h>
#include <stdlib.h>

#include "alarm_filter.h"
#include "names.h"
#include "strv.h"

void alarm_filter_done(struct alarm_filter *f)
{
    strv_free(f->sources);
    *f = (struct alarm_filter){0};
}

static int filter_add_range(struct alarm_filter *f, long lo, long hi, const char **why)
{
    if (lo < 1 || hi > UINT16_MAX || lo > hi) {
        *why = "ids must be in 1..65535, ranges written low-high";
        return -EINVAL;
    }
    if (f->n_ranges >= ALARM_FILTER_RANGES_MAX) {
        *why = "too many ids or ranges (at most 64)";
        return -EINVAL;
    }
    f->ranges[f->n_ranges].lo = (uint16_t) lo;
    f->ranges[f->n_ranges].hi = (uint16_t) hi;
    f->n_ranges++;
    return 0;
}

/* One item: "1001" or "1001-1010". */
static int filter_add_item(struct alarm_filter *f, const char *item, const char **why)
{
    char *end;
    long lo, hi;

    lo = strtol(item, &end, 10);
    if (end == item || lo < 0) {
        *why = "ids must be numbers or ranges such as 1001-1003";
        return -EINVAL;
    }
    hi = lo;
    if (*end == '-') {
        const char *h = end + 1;
        hi = strtol(h, &end, 10);
        if (end == h) {
            *why = "ids must be numbers or ranges such as 1001-1003";
            return -EINVAL;
        }
    }
    if (*end) {
        *why = "ids must be numbers or ranges such as 1001-1003";
        return -EINVAL;
    }
    return filter_add_range(f, lo, hi, why);
}

int alarm_filter_add_ids(struct alarm_filter *f, const char *spec, const char **why)
{
    char buf[1024];

    if (strlen(spec) >= sizeof(buf)) {
        *why = "id list too long";
        return -EINVAL;
    }
    strcpy(buf, spec);
    char *save = NULL;
    for (char *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        int r = filter_add_item(f, t, why);
        if (r < 0)
            return r;
    }
    return 0;
}

int alarm_filter_from_json(json_object *req, struct alarm_filter *f, const char **why)
{
    json_object *v;
    int r;

    *f = (struct alarm_filter){0};
    if (json_object_object_get_ex(req, "ids", &v) && !json_object_is_type(v, json_type_null)) {
        if (json_object_is_type(v, json_type_string)) {
            if ((r = alarm_filter_add_ids(f, json_object_get_string(v), why)) < 0)
                return r;
        } else if (json_object_is_type(v, json_type_array)) {
            for (size_t i = 0; i < json_object_array_length(v); i++) {
                json_object *e = json_object_array_get_idx(v, i);
                if (json_object_is_type(e, json_type_int))
                    r = filter_add_range(f, (long) json_object_get_int64(e),
                                         (long) json_object_get_int64(e), why);
                else if (json_object_is_type(e, json_type_string))
                    r = filter_add_item(f, json_object_get_string(e), why);
                else {
                    *why = "'ids' items must be numbers or strings such as \"1001-1003\"";
                    r = -EINVAL;
                }
                if (r < 0)
                    return r;
            }
        } else {
            *why = "'ids' must be an array or a string";
            return -EINVAL;
        }
    }
    if (json_object_object_get_ex(req, "min_level", &v) &&
        !json_object_is_type(v, json_type_null)) {
        int l = json_object_is_type(v, json_type_string)
                    ? alarm_level_from_string(json_object_get_string(v))
                : json_object_is_type(v, json_type_int) ? json_object_get_int(v)
                                                        : -1;
        if (l < 1 || l >= ALARM_LEVEL_SLOTS) {
            *why = "'min_level' must be MINOR, MAJOR or CRITICAL";
            return -EINVAL;
        }
        f->min_level = (uint8_t) l;
    }
    if (json_object_object_get_ex(req, "types", &v) && !json_object_is_type(v, json_type_null)) {
        if (!json_object_is_type(v, json_type_array)) {
            *why = "'types' must be an array of OCCUR, RECOVER";
            return -EINVAL;
        }
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            json_object *e = json_object_array_get_idx(v, i);
            int t = json_object_is_type(e, json_type_string)
                        ? alarm_type_from_string(json_object_get_string(e))
                        : -1;
            if (t < 0) {
                *why = "'types' must be an array of OCCUR, RECOVER";
                return -EINVAL;
            }
            f->types |= (uint8_t) (1u << t);
        }
    }
    if (json_object_object_get_ex(req, "sources", &v) && !json_object_is_type(v, json_type_null)) {
        if (!json_object_is_type(v, json_type_array) ||
            json_object_array_length(v) > ALARM_FILTER_SOURCES_MAX) {
            *why = "'sources' must be an array of at most 64 task names";
            return -EINVAL;
        }
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            json_object *e = json_object_array_get_idx(v, i);
            if (!json_object_is_type(e, json_type_string) ||
                !task_name_is_valid(json_object_get_string(e))) {
                *why = "'sources' must be an array of task names";
                return -EINVAL;
            }
            if (strv_extend(&f->sources, json_object_get_string(e)) < 0)
                return -ENOMEM;
        }
    }
    return 0;
}

bool alarm_filter_match(const struct alarm_filter *f, const struct alarm *a)
{
    if (f->none)
        return false;
    if (f->min_level && a->level < f->min_level)
        return false;
    if (f->types && !(f->types & (1u << a->type)))
        return false;
    if (f->n_ranges) {
        bool in = false;
        for (unsigned i = 0; i < f->n_ranges && !in; i++)
            in = a->id >= f->ranges[i].lo && a->id <= f->ranges[i].hi;
        if (!in)
            return false;
    }
    if (f->sources) {
        for (char **s = f->sources; *s; s++)
            if (streq(*s, a->source))
                return true;
        return false;
    }
    return true;
}

json_object *alarm_filter_to_json(const struct alarm_filter *f)
{
    json_object *o = json_object_new_object(), *ids = json_object_new_array();
    for (unsigned i = 0; i < f->n_ranges; i++) {
        char b[16];
        if (f->ranges[i].lo == f->ranges[i].hi)
            snprintf(b, sizeof(b), "%u", f->ranges[i].lo);
        else
            snprintf(b, sizeof(b), "%u-%u", f->ranges[i].lo, f->ranges[i].hi);
        json_object_array_add(ids, json_object_new_string(b));
    }
    json_object_object_add(o, "ids", ids);
    json_object_object_add(
        o, "min_level",
        f->min_level ? json_object_new_string(alarm_level_to_string(f->min_level)) : NULL);
    json_object *types = json_object_new_array();
    for (int t = 0; t < ALARM_TYPE_SLOTS; t++)
        if (f->types & (1u << t))
            json_object_array_add(types, json_object_new_string(alarm_type_to_string(t)));
    json_object_object_add(o, "types", types);
    json_object *src = json_object_new_array();
    for (char **s = f->sources; s && *s; s++)
        json_object_array_add(src, json_object_new_string(*s));
    json_object_object_add(o, "sources", src);
    return o;
}
