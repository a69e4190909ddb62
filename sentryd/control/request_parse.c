/* request_parse.c: see request_parse.h. */
#include <stdio.h>

#include "request_parse.h"

static int parse_id(json_object *msg, char *out, size_t size)
{
    json_object *id;

    snprintf(out, size, "null");
    if (!json_object_object_get_ex(msg, "id", &id) || json_object_is_type(id, json_type_null))
        return 0;
    if (json_object_is_type(id, json_type_int) ||
        (json_object_is_type(id, json_type_string) &&
         json_object_get_string_len(id) <= REQUEST_ID_MAX)) {
        const char *s = json_plain(id, NULL);
        if (s && strlen(s) < size) {
            strcpy(out, s);
            return 0;
        }
    }
    return -EINVAL;
}

int request_parse(json_tokener *tok, const char *line, size_t len, struct parsed_request *p,
                  char *why, size_t why_size)
{
    json_object *vv;

    *p = (struct parsed_request){0};
    strcpy(p->id, "null");
    json_tokener_reset(tok);
    p->msg = json_tokener_parse_ex(tok, line, (int) len);
    size_t end = p->msg ? json_tokener_get_parse_end(tok) : 0;
    while (end < len && (line[end] == ' ' || line[end] == '\t'))
        end++;
    if (!p->msg || json_tokener_get_error(tok) != json_tokener_success || end != len) {
        snprintf(why, why_size, "request is not valid JSON: %s",
                 p->msg ? "text after the object"
                        : json_tokener_error_desc(json_tokener_get_error(tok)));
        return EBADMSG;
    }
    if (!json_object_is_type(p->msg, json_type_object)) {
        snprintf(why, why_size, "request must be a JSON object");
        return EBADMSG;
    }
    if (parse_id(p->msg, p->id, sizeof(p->id)) < 0) {
        snprintf(why, why_size, "member 'id' must be an integer or a string of at most %d bytes",
                 REQUEST_ID_MAX);
        return EINVAL;
    }
    if (!json_object_object_get_ex(p->msg, "verb", &vv) ||
        !json_object_is_type(vv, json_type_string)) {
        snprintf(why, why_size, "missing member 'verb' (a string)");
        return EINVAL;
    }
    p->verb = json_object_get_string(vv);
    return 0;
}
