/* json_escape.h: writing a JSON string literal from arbitrary bytes, for the hot paths that
 * format stream messages without building json-c objects. Control characters, quote and
 * backslash are escaped; bytes that are not valid UTF-8 become U+FFFD, so the output is always
 * valid JSON whatever the input (alarm text from the xalarm socket is raw bytes). */
#pragma once

#include <stddef.h>

/* Worst-case output size for n input bytes, quotes included. */
#define JSON_ESCAPE_MAX(n) ((n) *6 + 2)

/* Writes "..." for s[0..n) into out (at least JSON_ESCAPE_MAX(n) bytes); returns its length. */
size_t json_escape(char *out, const char *s, size_t n);
