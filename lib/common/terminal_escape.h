/* terminal_escape.h: text from sentryd made safe to print on an operator's terminal.
 *
 * Alarm texts, task names, reasons and messages come from tasks and clients that may be anyone's
 * (an xalarm report is raw bytes): printed as they are, an ESC or CSI sequence would drive the
 * operator's terminal (change colours, move the cursor, retitle the window, ...). sentryctl
 * passes every string from sentryd through here before printing it: as text, with the control
 * characters visible (\x1b), or, for JSON output, as JSON that stays valid and holds no control
 * character raw. Pure functions, no state. */
#pragma once

#include <stddef.h>

/* Escapes s[0..n) into out (size >= 8 bytes, NUL-terminated): tab, CR and LF as \t \r \n, other
 * C0 controls, DEL, C1 controls (U+0080..U+009F written in UTF-8, bytes c2 80..c2 9f) and every
 * byte that is not part of valid UTF-8 (a lone 0x9b, 0xff, overlong forms, surrogates) as \xNN,
 * each byte of them; everything else, printable ASCII, backslash and valid UTF-8 above U+009F,
 * is copied. Escaping is idempotent: escaped text escapes to itself. When out is too small the
 * text is cut at a character boundary and ends in "...". Returns the length written (without
 * the NUL). */
size_t terminal_escape(char *out, size_t size, const char *s, size_t n);

/* Room terminal_escape() needs for n bytes, never cut: every byte may become \xNN; NUL counted. */
#define TERMINAL_ESCAPE_SIZE(n) ((n) *4 + 1)

/* The escape of the string s as a new string (malloc), never cut; NULL when out of memory. */
char *terminal_escape_dup(const char *s);

/* JSON text, as json-c writes it, made safe for a terminal while staying valid JSON with the same
 * meaning wherever the input was valid UTF-8: inside strings, control characters (C0, DEL and
 * C1) become \u00XX (tab, CR and LF \t \r \n), bytes that are not valid UTF-8 become \ufffd (JSON
 * cannot carry them). Outside strings only whitespace is kept, any other control byte goes. A
 * new string (malloc); NULL when out of memory. */
char *terminal_escape_json(const char *json);
