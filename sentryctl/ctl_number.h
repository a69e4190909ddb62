/* ctl_number.h: the numbers of sentryctl's command line and their limits. A number outside its
 * range is refused (sentryctl exits 2), never clamped or wrapped: "--id 99999999999999999999"
 * is an error, not 65535 or 7766279631452241919. The limits are the ones sentryd checks, so
 * that a request sentryd would refuse is refused as bad usage before anything is sent. Pure
 * functions, so the unit test calls them as they are. */
#pragma once

#include <stdint.h>

#include "time_util.h"

#define CTL_ALARM_ID_MIN     1
#define CTL_ALARM_ID_MAX     UINT16_MAX /* an alarm id is 16 bits on the bus */
#define CTL_SEQ_MAX          INT64_MAX  /* seqs are stored as signed 64-bit integers */
#define CTL_ALARMS_LIMIT_MAX 10000      /* sentryd's most alarms per answer */
#define CTL_STATUS_LINES_MAX 1000       /* sentryd's most log lines (TASK_LOG_LINES_MAX) */
#define CTL_IO_PERIOD_MAX    90000      /* sentryd's io_query period limit, seconds */
#define CTL_TIME_RANGE_MAX   (100LL * 365 * 86400) /* get_alarm -s: sentryd's limit, 100 years */
#define CTL_TIMEOUT_MIN_SEC  0.001                 /* --timeout: a millisecond at least */
#define CTL_TIMEOUT_MAX_SEC  86400.0

/* Decimal digits only (no sign, no space, no "0x"): 0 and *ret in min..max; -EINVAL when s is
 * not such a number, -ERANGE when it is outside min..max (also beyond 2^64-1). */
int ctl_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/* An --id SPEC of `alarms`: ids and ranges, "1002", "1001-1010", "1001,1003-1005" (commas or
 * spaces between items), each id in CTL_ALARM_ID_MIN..CTL_ALARM_ID_MAX and each range written
 * low-high. 0, -EINVAL for anything else (-ERANGE for an id out of range). */
int ctl_parse_id_spec(const char *s);
#define ID_SPEC_SEPARATORS ", "

/* Seconds as a decimal number (--timeout), min..max: 0 and *ret in microseconds; -EINVAL when
 * not a number, -ERANGE outside min..max (inf and nan are outside). */
int ctl_parse_seconds(const char *s, double min, double max, usec_t *ret);

/* get_alarm -s: an integer as the reference reads it (Python int(): spaces, one sign, '_'
 * between digits), 1..CTL_TIME_RANGE_MAX. -EINVAL when it is not a positive integer (the
 * reference's error), -ERANGE when it is beyond the limit. */
int ctl_parse_time_range(const char *s, int64_t *ret);
