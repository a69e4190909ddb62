/* mem_view_fit.c: see mem_view_fit.h. */
#include <errno.h>
#include <json-c/json.h>
#include <string.h>

#include "mem_view_fit.h"

static size_t json_size(json_object *d)
{
    return strlen(json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN));
}

int mem_view_fit(json_object *d, const char *const *tables, size_t max)
{
    int dropped = 0;

    while (json_size(d) > max) {
        json_object *longest = NULL;
        size_t n = 0;

        for (const char *const *t = tables; *t; t++) {
            json_object *a = json_object_object_get(d, *t);
            if (json_object_is_type(a, json_type_array) && json_object_array_length(a) > n) {
                longest = a;
                n = json_object_array_length(a);
            }
        }
        if (!longest)
            return -E2BIG;
        /* a few at a time: each pass serializes the whole view */
        size_t k = n > 16 ? n / 8 : 1;
        json_object_array_del_idx(longest, n - k, k);
        dropped += (int) k;
        json_object_object_add(d, "rows_dropped", json_object_new_int(dropped));
    }
    return dropped;
}
