/* request_parse.h: one line of the native protocol into a request: valid JSON, an object, an
 * id that is an integer or a short string, a verb that is a string. Pure (no connection), so
 * the fuzzer drives it directly. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "json_util.h"
#include "request.h"

struct parsed_request {
    json_object *msg;                /* owned; NULL when parsing failed before the object */
    char id[REQUEST_ID_MAX * 2 + 8]; /* the id as JSON text, "null" when absent or unusable */
    const char *verb;                /* points into msg */
};

/* 0 on success. Otherwise the errno to answer with (EBADMSG, EINVAL, EMSGSIZE) and *why; p->id
 * is set as far as it could be read, so the error answer can carry it. Free p->msg in both
 * cases. A number that does not fit 64 bits is EBADMSG, never clamped. */
int request_parse(json_tokener *tok, const char *line, size_t len, struct parsed_request *p,
                  char *why, size_t why_size);

/* Whether every integer of the JSON text s[0..n) fits 64 bits (-2^63..2^64-1) and every other
 * number is finite; strings are skipped. The text need not be valid JSON (the parser judges
 * that). */
bool json_text_numbers_fit(const char *s, size_t n);
