/* json_util.h: small json-c helpers: cleanup, typed member access with limits. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "macro.h"

static inline void json_object_putp(json_object **o)
{
    if (*o)
        json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

/* Serializes plainly (no pretty printing, no escaped slashes). */
static inline const char *json_plain(json_object *o, size_t *len)
{
    return json_object_to_json_string_length(
        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
}

/* A JSON string, or JSON null for NULL. */
static inline json_object *json_new_string_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

/* The length of an array; 0 for anything else (json-c asserts on a non-array). */
static inline size_t json_array_length(json_object *o)
{
    return json_object_is_type(o, json_type_array) ? json_object_array_length(o) : 0;
}
