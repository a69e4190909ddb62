/* time_util.h: clocks in microseconds and the timestamp formats sentry prints. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef uint64_t usec_t;
#define USEC_INFINITY ((usec_t) UINT64_MAX)

usec_t now_usec(clockid_t clock);
/* "%Y-%m-%d %H:%M:%S" in local time (the sysSentry format), with ".mmm" when with_ms.
 * Returns buf; "" for usec 0. */
char *format_timestamp_local(char *buf, size_t size, usec_t usec, bool with_ms);
/* "2026-11-22T10:00:00.123456Z" in UTC (RFC 3339, for JSON). */
char *format_timestamp_rfc3339(char *buf, size_t size, usec_t usec);
