/* time_util.c: see time_util.h. */
#include <stdio.h>

#include "time_util.h"

usec_t now_usec(clockid_t clock)
{
    struct timespec ts;
    if (clock_gettime(clock, &ts) < 0)
        return 0;
    return (usec_t) ts.tv_sec * 1000000ULL + (usec_t) ts.tv_nsec / 1000ULL;
}

char *format_timestamp_local(char *buf, size_t size, usec_t usec, bool with_ms)
{
    struct tm tm;
    time_t sec = (time_t) (usec / 1000000ULL);

    if (size == 0)
        return buf;
    buf[0] = 0;
    if (usec == 0 || !localtime_r(&sec, &tm))
        return buf;
    size_t n = strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
    if (n > 0 && with_ms)
        snprintf(buf + n, size - n, ".%03u", (unsigned) ((usec / 1000ULL) % 1000ULL));
    return buf;
}

char *format_timestamp_rfc3339(char *buf, size_t size, usec_t usec)
{
    struct tm tm;
    time_t sec = (time_t) (usec / 1000000ULL);

    if (size == 0)
        return buf;
    buf[0] = 0;
    if (!gmtime_r(&sec, &tm))
        return buf;
    size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    if (n > 0)
        snprintf(buf + n, size - n, ".%06uZ", (unsigned) (usec % 1000000ULL));
    return buf;
}
