/* xalarm_record.h: the wire format of the sysSentry-compatible xalarm sockets, shared by
 * sentryd's xalarm server and the libxalarm client in libsentry.
 *
 * A record is struct alarm_info of register_xalarm.h in the native LP64 layout: 8216 bytes,
 * id @0, level @2, type @3, 4 bytes of padding, struct timeval @8, NUL-terminated text @24.
 * Reports travel as one datagram per record on <dir>/report; subscribers read records back to
 * back on the stream socket <dir>/alarm, after sending one registration line (JSON) of their
 * own. Only building and checking records and the constants of the format live here: no
 * sockets, no state. */
#pragma once

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "sentry/register_xalarm.h"

#define XALARM_RECORD_SIZE 8216
#define XALARM_TEXT_MAX    (ALARM_INFO_MAX_PARAS_LEN - 1) /* bytes of text before the NUL */

/* What xalarmd accepts in a report: wider than what xalarm_Report() sends (levels 1-3, types
 * 1-2), and kept so, since other producers may use the wider range. */
#define XALARM_LEVEL_MIN 1
#define XALARM_LEVEL_MAX SENTRY_ALARM_LEVEL_XALARM_MAX
#define XALARM_TYPE_MIN  0
#define XALARM_TYPE_MAX  SENTRY_ALARM_RECOVER

/* The time of a record: tv_sec in 0..XALARM_TIME_SEC_MAX (9999-12-31 23:59:59 UTC, the last
 * second a four-digit year shows) and tv_usec in 0..999999; anything else is refused as out of
 * range (the reference takes any value). 0 means "when it was received". */
#define XALARM_TIME_SEC_MAX 253402300799LL

/* Sent to every subscriber when the service stops (SENTRY_ALARM_ID_SERVICE_DOWN), right before
 * the connection closes. */
#define XALARM_SERVICE_DOWN_TEXT "sysSentry service is down"

/* Socket names inside the xalarm directory, and the reference's directory. */
#define XALARM_DIR_DEFAULT   "/var/run/xalarm"
#define XALARM_SOCKET_REPORT "report"
#define XALARM_SOCKET_ALARM  "alarm"
/* Environment variable naming another directory (clients only). */
#define XALARM_ENV_DIR "SENTRY_XALARM_DIR"

/* Registration lines a subscriber sends on the alarm stream, one JSON object per line:
 *   {"action":"register_events","event_ids":[...],"id_filter":[...]}
 *   {"action":"update_filter","id_filter":[...]}
 *   {"action":"unregister_events","event_ids":[...]}
 * event_ids: the subscribed ids that switch a kernel event source on (xalarm_id_is_kernel_event);
 * id_filter (sentry's extension): the ids the server should send at all; without it every
 * alarm is sent, as by the reference. */
#define XALARM_ACTION_REGISTER   "register_events"
#define XALARM_ACTION_UNREGISTER "unregister_events"
#define XALARM_ACTION_UPDATE     "update_filter"
#define XALARM_REGISTER_LINE_MAX 4096 /* longest registration line a client may send */

static_assert(sizeof(struct alarm_info) == XALARM_RECORD_SIZE, "alarm_info is 8216 bytes");
static_assert(offsetof(struct alarm_info, usAlarmId) == 0, "id at 0");
static_assert(offsetof(struct alarm_info, ucAlarmLevel) == 2, "level at 2");
static_assert(offsetof(struct alarm_info, ucAlarmType) == 3, "type at 3");
static_assert(offsetof(struct alarm_info, AlarmTime) == 8, "time at 8");
static_assert(offsetof(struct alarm_info, pucParas) == 24, "text at 24");

static inline bool xalarm_id_valid(unsigned id)
{
    return id >= SENTRY_ALARM_ID_MIN && id <= SENTRY_ALARM_ID_MAX;
}

/* True for the ids whose subscription switches a kernel event source on: 1003 power off,
 * 1005 OOM, 1007 panic, 1009 kernel reboot, 1013 UB memory fault, 1016 link event. */
bool xalarm_id_is_kernel_event(unsigned id);

/* "MINOR_ALM", "MAJOR_ALM", "CRITICAL_ALM" for 1-3; NULL otherwise. */
const char *xalarm_level_to_string(unsigned level);
/* "ALARM_TYPE_OCCUR", "ALARM_TYPE_RECOVER" for 1-2; NULL otherwise. */
const char *xalarm_type_to_string(unsigned type);

/* Fills *rec: zeroed (padding and the unused text bytes too, so no memory leaks onto the wire),
 * then id, level, type, time (NULL: 0) and the len bytes of text, NUL-terminated.
 * -EINVAL when the id is out of range, level/type outside what the server accepts, text NULL
 * with len > 0, len > XALARM_TEXT_MAX or a NUL inside the len bytes. */
int xalarm_record_build(struct alarm_info *rec, unsigned id, unsigned level, unsigned type,
                        const struct timeval *tv, const char *text, size_t len);

/* Bytes of a record up to its text's NUL: everything after it is zero. */
#define XALARM_RECORD_HEAD_SIZE(len) (offsetof(struct alarm_info, pucParas) + (len) + 1)

/* The same record as xalarm_record_build() but only its first XALARM_RECORD_HEAD_SIZE(len)
 * bytes, into buf (that large): a sender that holds many records keeps these and sends the
 * zero tail from one shared buffer. Same checks and errors. */
int xalarm_record_build_head(void *buf, unsigned id, unsigned level, unsigned type,
                             const struct timeval *tv, const char *text, size_t len);

/* XALARM_RECORD_SIZE zero bytes, the tail of every record. */
extern const unsigned char xalarm_zero_record[XALARM_RECORD_SIZE];

/* The record the server sends to every subscriber when it stops (id 1128, level 1, type 1,
 * time 0, XALARM_SERVICE_DOWN_TEXT). */
void xalarm_record_service_down(struct alarm_info *rec);

/* Checks size bytes received from a producer as the server does: -EMSGSIZE unless size is
 * exactly XALARM_RECORD_SIZE, -ERANGE for an id, level, type or time out of range, -EBADMSG when
 * the text has no NUL in its 8192 bytes. buf needs no alignment. On success copies the record into
 * *ret when ret is not NULL. */
int xalarm_record_parse(const void *buf, size_t size, struct alarm_info *ret);

/* Length of the text, at most XALARM_TEXT_MAX even if the record lacks its NUL. */
size_t xalarm_record_text_len(const struct alarm_info *rec);
