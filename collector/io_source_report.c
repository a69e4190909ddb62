/* io_source_report.c: what the io sources measure and why, as JSON for operators: the sources of
 * the setting (each open or why not, with its parts, e.g. the BPF programs and their states), and
 * per disk and stage the source it comes from and why each better one does not give it. Served
 * by sentryd's io_sources verb (`sentryctl iostat --sources`) and printed by
 * sentry-iostat-probe --sources. */
#include "io_source_report.h"
#include "json_util.h"

#define PARTS_MAX 32

static json_object *parts_json(struct io_source *src)
{
    struct io_source_part parts[PARTS_MAX];
    size_t n = io_source_parts(src, parts, PARTS_MAX);
    json_object *a = json_object_new_array();

    for (size_t i = 0; a && i < n; i++) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "name", json_object_new_string(parts[i].name));
        json_object_object_add(o, "event", json_object_new_string(parts[i].what));
        json_object_object_add(o, "state", json_object_new_string(parts[i].state));
        json_object_object_add(o, "reason",
                               json_new_string_or_null(parts[i].on ? NULL : parts[i].reason));
        json_object_array_add(a, o);
    }
    return a;
}

static json_object *sources_json(struct io_source_set *set)
{
    json_object *a = json_object_new_array();

    for (size_t i = 0; a && i < io_source_set_size(set); i++) {
        struct io_source *src = io_source_set_source(set, i);
        json_object *o = json_object_new_object();

        json_object_object_add(
            o, "name",
            json_object_new_string(io_source_kind_to_string(io_source_set_kind(set, i))));
        json_object_object_add(o, "available", json_object_new_boolean(src != NULL));
        json_object_object_add(o, "why",
                               json_new_string_or_null(src ? NULL : io_source_set_why(set, i)));
        if (src)
            json_object_object_add(o, "parts", parts_json(src));
        json_object_array_add(a, o);
    }
    return a;
}

static json_object *disk_json(struct io_source_set *set, const struct disk_info *d)
{
    json_object *o = json_object_new_object();

    for (int st = 0; o && st < _IO_STAGE_MAX; st++) {
        struct io_stage_origin origin;
        json_object *js, *why;

        if (io_source_set_explain(set, d, st, &origin) < 0)
            continue;
        js = json_object_new_object();
        why = json_object_new_object();
        json_object_object_add(js, "source",
                               json_new_string_or_null(origin.from >= 0
                                                           ? io_source_kind_to_string(origin.from)
                                                           : NULL));
        for (size_t i = 0; i < io_source_set_size(set); i++)
            if (*origin.why_not[i])
                json_object_object_add(why, io_source_kind_to_string(io_source_set_kind(set, i)),
                                       json_object_new_string(origin.why_not[i]));
        json_object_object_add(js, "why_not", why);
        json_object_object_add(o, io_stage_to_string(st), js);
    }
    return o;
}

json_object *io_source_report(struct io_source_set *set, const struct disk_info *disks, size_t n)
{
    json_object *o = json_object_new_object(), *jd = json_object_new_object();

    if (!o || !jd) {
        json_object_put(o);
        json_object_put(jd);
        return NULL;
    }
    json_object_object_add(o, "spec", json_object_new_string(io_source_set_spec(set)));
    json_object_object_add(o, "sources", sources_json(set));
    for (size_t i = 0; i < n; i++)
        json_object_object_add(jd, disks[i].name, disk_json(set, &disks[i]));
    json_object_object_add(o, "disks", jd);
    return o;
}
