/* json_escape.h: writing a JSON string literal from arbitrary bytes, for the hot paths that
 * format stream messages without building json-c objects. Control characters, quote and
 * backslash are escaped; bytes that are not valid UTF-8 become U+FFFD, so the output is always
 * valid JSON whatever the input (alarm text from the xalarm socket is raw bytes). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Worst-case output size for n input bytes, quotes included. */
#define JSON_ESCAPE_MAX(n) ((n) *6 + 2)

/* Writes "..." for s[0..n) into out (at least JSON_ESCAPE_MAX(n) bytes); returns its length. */
size_t json_escape(char *out, const char *s, size_t n);

/* Whether s[0..n) is valid UTF-8: no stray continuation bytes, no overlong forms, no surrogates,
 * nothing past U+10FFFF. */
bool utf8_is_valid(const char *s, size_t n);

/* Copies JSON text made by a serializer that passes string bytes >= 0x80 through unchecked
 * (json-c does) and replaces every byte that is not part of valid UTF-8 with the escape
 * \ufffd, so the text is valid UTF-8 and still the same JSON (such bytes can only be inside
 * strings). out: at least JSON_ESCAPE_MAX(n) bytes. Returns the length written. */
size_t json_text_fix_utf8(char *out, const char *in, size_t n);
