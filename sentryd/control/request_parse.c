/* request_parse.c: see request_parse.h.
 *
 * The tokener is strict (RFC 8259: neither comments nor single quotes pass), and a number that
 * does not fit 64 bits is an error, not clamped: json-c (0.16) turns 99999999999999999999 into
 * 18446744073709551615 even in strict mode, so the numbers of the text are checked first. */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>

#include "request_parse.h"

bool json_text_numbers_fit(const char *s, size_t n)
{
    bool in_string = false;

    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\')
                i++; /* whatever is escaped, it does not end the string */
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"') {
            in_string = true;
            continue;
        }
        if (c != '-' && !isdigit((unsigned char) c))
            continue;
        /* a number: [-]digits[.digits][(e|E)[+-]digits] (the parser judges its form) */
        char num[128];
        size_t start = i;
        bool integer = true;
        while (i < n && (isdigit((unsigned char) s[i]) || strchr("+-.eE", s[i]))) {
            integer = integer && !strchr(".eE", s[i]);
            i++;
        }
        size_t len = i - start;
        if (len >= sizeof(num))
            return false; /* no number that long is meant */
        memcpy(num, s + start, len);
        num[len] = 0;
        errno = 0;
        if (integer && num[0] == '-')
            (void) strtoll(num, NULL, 10);
        else if (integer)
            (void) strtoull(num, NULL, 10);
        else if (isinf(strtod(num, NULL)))
            return false;
        if (integer && errno == ERANGE)
            return false;
        i--; /* the character after the number is looked at next */
    }
    return true;
}

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
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS);
    if (len > INT_MAX) {
        snprintf(why, why_size, "request is too long");
        return EMSGSIZE;
    }
    if (!json_text_numbers_fit(line, len)) {
        snprintf(why, why_size,
                 "request is not valid JSON: a number does not fit 64 bits (integers must be in "
                 "-9223372036854775808..18446744073709551615)");
        return EBADMSG;
    }
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
        !json_object_is_type(vv, json_type_string) ||
        strlen(json_object_get_string(vv)) != (size_t) json_object_get_string_len(vv)) {
        snprintf(why, why_size, "missing member 'verb' (a string)");
        return EINVAL;
    }
    p->verb = json_object_get_string(vv);
    return 0;
}
