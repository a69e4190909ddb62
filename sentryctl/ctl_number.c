/* ctl_number.c: see ctl_number.h. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "ctl_number.h"
#include "parse_number.h"

/* s[0..n) as decimal digits, min..max. */
static int ctl_parse_digits(const char *s, size_t n, uint64_t min, uint64_t max, uint64_t *ret)
{
    uint64_t v = 0;
    bool over = false;

    if (n == 0)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char) s[i]))
            return -EINVAL;
        unsigned d = (unsigned) (s[i] - '0');
        /* Exactly 2^64-1 is still a number; one more digit or one more unit is not. */
        if (v > (UINT64_MAX - d) / 10)
            over = true;
        else if (!over)
            v = v * 10 + d;
    }
    if (over || v < min || v > max)
        return -ERANGE;
    *ret = v;
    return 0;
}

int ctl_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
    if (!s)
        return -EINVAL;
    return ctl_parse_digits(s, strlen(s), min, max, ret);
}

/* One item of a SPEC, s[0..n): "N" or "N-M". */
static int ctl_parse_id_item(const char *s, size_t n)
{
    const char *dash = memchr(s, '-', n);
    size_t lo_n = dash ? (size_t) (dash - s) : n;
    uint64_t lo, hi;
    int r;

    r = ctl_parse_digits(s, lo_n, CTL_ALARM_ID_MIN, CTL_ALARM_ID_MAX, &lo);
    if (r < 0 || !dash)
        return r;
    r = ctl_parse_digits(dash + 1, n - lo_n - 1, CTL_ALARM_ID_MIN, CTL_ALARM_ID_MAX, &hi);
    if (r < 0)
        return r;
    return lo <= hi ? 0 : -EINVAL;
}

int ctl_parse_id_spec(const char *s)
{
    static const char sep[] = ID_SPEC_SEPARATORS;
    size_t items = 0;

    if (!s)
        return -EINVAL;
    for (const char *p = s + strspn(s, sep); *p; p += strspn(p, sep)) {
        size_t n = strcspn(p, sep);
        int r = ctl_parse_id_item(p, n);
        if (r < 0)
            return r;
        items++;
        p += n;
    }
    return items > 0 ? 0 : -EINVAL;
}

int ctl_parse_seconds(const char *s, double min, double max, usec_t *ret)
{
    double v;
    int r = parse_double(s, &v);

    if (r < 0)
        return r;
    if (!(v >= min && v <= max))
        return -ERANGE;
    *ret = (usec_t) (v * 1e6 + 0.5); /* v > 0 here: rounded to the nearest microsecond */
    return 0;
}

int ctl_parse_time_range(const char *s, int64_t *ret)
{
    int64_t v;
    int r = parse_int_python(s, &v);

    /* A huge negative number is not positive either: the reference's message, not a range. */
    if (r == -ERANGE && s && strchr(s, '-'))
        return -EINVAL;
    if (r < 0)
        return r;
    if (v <= 0)
        return -EINVAL;
    if (v > CTL_TIME_RANGE_MAX)
        return -ERANGE;
    *ret = v;
    return 0;
}
