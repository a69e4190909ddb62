/* parse_number.c: see parse_number.h. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse_number.h"

static const char *skip_space(const char *s)
{
    while (*s && isspace((unsigned char) *s))
        s++;
    return s;
}

int parse_int_python(const char *s, int64_t *ret)
{
    bool neg = false, digit_before = false;
    uint64_t v = 0;

    if (!s)
        return -EINVAL;
    s = skip_space(s);
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    if (!isdigit((unsigned char) *s))
        return -EINVAL;
    for (; *s && !isspace((unsigned char) *s); s++) {
        if (*s == '_') {
            /* '_' only between two digits */
            if (!digit_before || !isdigit((unsigned char) s[1]))
                return -EINVAL;
            digit_before = false;
            continue;
        }
        if (!isdigit((unsigned char) *s))
            return -EINVAL;
        digit_before = true;
        if (v > (UINT64_MAX - 9) / 10)
            return -ERANGE;
        v = v * 10 + (uint64_t) (*s - '0');
    }
    if (*skip_space(s))
        return -EINVAL;
    if ((!neg && v > (uint64_t) INT64_MAX) || (neg && v > (uint64_t) INT64_MAX + 1))
        return -ERANGE;
    *ret = neg ? (int64_t) (0 - v) : (int64_t) v;
    return 0;
}

int parse_uint_digits(const char *s, uint64_t *ret)
{
    uint64_t v = 0;

    if (!s || !*s)
        return -EINVAL;
    for (; *s; s++) {
        if (!isdigit((unsigned char) *s))
            return -EINVAL;
        if (v > (UINT64_MAX - 9) / 10)
            return -ERANGE;
        v = v * 10 + (uint64_t) (*s - '0');
    }
    *ret = v;
    return 0;
}

int parse_double(const char *s, double *ret)
{
    char *end;
    double v;

    if (!s)
        return -EINVAL;
    s = skip_space(s);
    if (!*s)
        return -EINVAL;
    errno = 0;
    v = strtod(s, &end);
    if (end == s || *skip_space(end))
        return -EINVAL;
    if (errno == ERANGE || !isfinite(v))
        return -ERANGE;
    *ret = v;
    return 0;
}

int parse_boolean(const char *s, bool *ret)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};

    if (!s)
        return -EINVAL;
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *ret = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *ret = false;
            return 0;
        }
    }
    return -EINVAL;
}
