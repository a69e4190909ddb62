/* request_parse.h: one line of the native protocol into a request: valid JSON, an object, an
 * id that is an integer or a short string, a verb that is a string. Pure (no connection), so
 * the fuzzer drives it directly. */
#pragma once

#include <stddef.h>

#include "json_util.h"
#include "request.h"

struct parsed_request {
    json_object *msg;                /* owned; NULL when parsing failed before the object */
    char id[REQUEST_ID_MAX * 2 + 8]; /* the id as JSON text, "null" when absent or unusable */
    const char *verb;                /* points into msg */
};

/* 0 on success. Otherwise the errno to answer with (EBADMSG, EINVAL) and *why; p->id is set
 * as far as it could be read, so the error answer can carry it. Free p->msg in both cases. */
int request_parse(json_tokener *tok, const char *line, size_t len, struct parsed_request *p,
                  char *why, size_t why_size);
