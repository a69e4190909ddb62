/* json_escape.c: see json_escape.h. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "json_escape.h"

/* Length of a valid UTF-8 sequence at s (1..4), or 0 when it is not valid. */
static size_t utf8_valid_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    /* overlong forms, surrogates, beyond U+10FFFF */
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

size_t json_escape(char *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *) s;
    char *o = out;

    *o++ = '"';
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            *o++ = (char) c;
            i++;
            continue;
        }
        if (c >= 0x80) {
            size_t l = utf8_valid_len(p + i, n - i);
            if (l == 0) {
                memcpy(o, "\\ufffd", 6);
                o += 6;
                i++;
            } else {
                memcpy(o, p + i, l);
                o += l;
                i += l;
            }
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '"':
            *o++ = '"';
            break;
        case '\\':
            *o++ = '\\';
            break;
        case '\n':
            *o++ = 'n';
            break;
        case '\r':
            *o++ = 'r';
            break;
        case '\t':
            *o++ = 't';
            break;
        case '\b':
            *o++ = 'b';
            break;
        case '\f':
            *o++ = 'f';
            break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
        i++;
    }
    *o++ = '"';
    return (size_t) (o - out);
}

bool utf8_is_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *) s;

    for (size_t i = 0; i < n;) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t l = utf8_valid_len(p + i, n - i);
        if (l == 0)
            return false;
        i += l;
    }
    return true;
}

size_t json_text_fix_utf8(char *out, const char *in, size_t n)
{
    const unsigned char *p = (const unsigned char *) in;
    char *o = out;

    for (size_t i = 0; i < n;) {
        size_t l = p[i] < 0x80 ? 1 : utf8_valid_len(p + i, n - i);
        if (l == 0) {
            /* Only inside a string can such a byte be (a serializer escapes nothing else):
             * the escape is valid there. */
            memcpy(o, "\\ufffd", 6);
            o += 6;
            i++;
            continue;
        }
        memcpy(o, p + i, l);
        o += l;
        i += l;
    }
    return (size_t) (o - out);
}
