/* terminal_escape.c: see terminal_escape.h. Both escapes walk the input one character at a
 * time: a valid UTF-8 sequence is one character, any other byte a character of its own. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "terminal_escape.h"

/* Length of the valid UTF-8 character at s (1..4), or 0 when s does not start one. */
static size_t utf8_char_length(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    size_t len;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c == 0xe0) {
        len = 3;
        lo = 0xa0; /* no overlong forms */
    } else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef)
        len = 3;
    else if (c == 0xed) {
        len = 3;
        hi = 0x9f; /* no UTF-16 surrogates */
    } else if (c == 0xf0) {
        len = 4;
        lo = 0x90; /* no overlong forms */
    } else if (c >= 0xf1 && c <= 0xf3)
        len = 4;
    else if (c == 0xf4) {
        len = 4;
        hi = 0x8f; /* nothing above U+10FFFF */
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if (s[k] < 0x80 || s[k] > 0xbf)
            return 0;
    return len;
}

/* Whether the character s[0..len) (len from utf8_char_length) is a control character: C0, DEL,
 * or C1 (U+0080..U+009F, c2 80..c2 9f). */
static bool char_is_control(const unsigned char *s, size_t len)
{
    return (len == 1 && (s[0] < 0x20 || s[0] == 0x7f)) || (len == 2 && s[0] == 0xc2 && s[1] < 0xa0);
}

/* The longest piece one input character can become: 4 bytes of \xNN each. */
#define PIECE_MAX 16

/* Byte c as \t, \r, \n, or as prefix ("\\x" for text, "\\u00" for JSON) and two hex digits. */
static size_t escape_byte_as(char *out, unsigned char c, const char *prefix)
{
    static const char hex[] = "0123456789abcdef";
    size_t p = strlen(prefix);

    switch (c) {
    case '\t':
        memcpy(out, "\\t", 2);
        return 2;
    case '\r':
        memcpy(out, "\\r", 2);
        return 2;
    case '\n':
        memcpy(out, "\\n", 2);
        return 2;
    default:
        memcpy(out, prefix, p);
        out[p] = hex[c >> 4];
        out[p + 1] = hex[c & 0xf];
        return p + 2;
    }
}

static size_t escape_byte(char *out, unsigned char c)
{
    return escape_byte_as(out, c, "\\x");
}

/* The printable form of the character at s[i] into piece (PIECE_MAX bytes): *len gets how many
 * input bytes it took. Returns the length of the piece. */
static size_t escape_piece(const unsigned char *s, size_t n, size_t i, char *piece, size_t *len)
{
    size_t l = utf8_char_length(s + i, n - i), plen = 0;
    bool escape = l == 0 || char_is_control(s + i, l);

    if (l == 0)
        l = 1;
    if (escape)
        for (size_t k = 0; k < l; k++)
            plen += escape_byte(piece + plen, s[i + k]);
    else {
        memcpy(piece, s + i, l);
        plen = l;
    }
    *len = l;
    return plen;
}

size_t terminal_escape(char *out, size_t size, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *) s;
    size_t o = 0, total = 0, len;
    char piece[PIECE_MAX];

    if (size < 8) {
        if (size > 0)
            out[0] = 0;
        return 0;
    }
    /* Whether all of it fits decides whether room must be kept for the "..." of a cut. */
    for (size_t i = 0; i < n && total < size; i += len)
        total += escape_piece(u, n, i, piece, &len);
    size_t reserve = total < size ? 0 : STRLEN("...");
    for (size_t i = 0; i < n; i += len) {
        size_t plen = escape_piece(u, n, i, piece, &len);
        if (o + plen + reserve + 1 > size) {
            memcpy(out + o, "...", STRLEN("..."));
            o += STRLEN("...");
            break;
        }
        memcpy(out + o, piece, plen);
        o += plen;
    }
    out[o] = 0;
    return o;
}

char *terminal_escape_dup(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(TERMINAL_ESCAPE_SIZE(n));

    if (!out)
        return NULL;
    terminal_escape(out, TERMINAL_ESCAPE_SIZE(n), s, n);
    return out;
}

/* Appends \u00XX for byte c. */
static size_t json_escape_control(char *out, unsigned c)
{
    return escape_byte_as(out, (unsigned char) c, "\\u00");
}

char *terminal_escape_json(const char *json)
{
    const unsigned char *u = (const unsigned char *) json;
    size_t n = strlen(json), o = 0;
    bool in_string = false;
    /* Each input byte becomes at most 6 bytes (\u0080 from c2 80 is 6 for 2; \ufffd 6 for 1). */
    char *out = malloc(n * 6 + 1);

    if (!out)
        return NULL;
    for (size_t i = 0; i < n;) {
        size_t l = utf8_char_length(u + i, n - i);

        if (in_string && u[i] == '\\' && i + 1 < n && u[i + 1] >= 0x20 && u[i + 1] < 0x7f) {
            /* An escape sequence json-c wrote (\" \\ \n \u001b ...): as it is. */
            out[o++] = (char) u[i++];
            out[o++] = (char) u[i++];
            continue;
        }
        if (l == 0) {
            /* Not UTF-8: one replacement character per byte (outside a string: dropped). */
            if (in_string) {
                memcpy(out + o, "\\ufffd", 6);
                o += 6;
            }
            i++;
            continue;
        }
        if (char_is_control(u + i, l)) {
            bool space = l == 1 && (u[i] == '\t' || u[i] == '\n' || u[i] == '\r');
            if (in_string)
                o += json_escape_control(out + o, l == 1 ? u[i] : u[i + 1]);
            else if (space)
                out[o++] = (char) u[i];
            i += l;
            continue;
        }
        if (u[i] == '"')
            in_string = !in_string;
        memcpy(out + o, u + i, l);
        o += l;
        i += l;
    }
    out[o] = 0;
    return out;
}
