/* sentry.h: the public C client API of sentryd (libsentry).
 *
 * A plugin connects to sentryd's native socket and reports its results and heartbeats over it.
 * Every function returns 0 (or a positive value where stated) on success and a negative errno
 * value on failure; when sentryd refused a request, sentry_error_message() holds its reason.
 * A client is not thread-safe: use one per thread. The wire protocol behind these calls is in
 * docs/protocol.md.
 *
 * When sentryd goes away (it restarts, stops, or refuses the connection) nothing kills the
 * program: there is no SIGPIPE, the call that notices gets -EPIPE or -ECONNRESET. The next call
 * connects again, once; while sentryd is not back it fails as sentry_connect() does (-ENOENT,
 * -ECONNREFUSED) and the one after tries again. When the connection turns out to be lost in
 * the middle of a call, the call connects again at once and sends its request a second time
 * if that cannot do harm: always for sentry_heartbeat() and sentry_result() (so a restart of
 * sentryd between two heartbeats goes unnoticed), for the other calls only when the request
 * never left. A subscription does not survive the connection: see sentry_subscribe(). */
#ifndef SENTRY_SENTRY_H
#define SENTRY_SENTRY_H

#include <stdint.h>
#include <sentry/alarm_ids.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SENTRY_SOCKET_DEFAULT   "/run/sentry/sentryd.sock"
#define SENTRY_PROTOCOL_VERSION 1
/* Longest protocol line (one JSON object), without its newline. */
#define SENTRY_LINE_MAX 65536
/* Longest task name: NAME.mod must fit a 255-byte file name. */
#define SENTRY_TASK_NAME_MAX 251

/* Environment sentryd gives every task it starts. */
#define SENTRY_ENV_TASK   "SENTRY_TASK_NAME"
#define SENTRY_ENV_SOCKET "SENTRY_SOCKET"

enum sentry_result_level {
    SENTRY_RESULT_PASS = 0,
    SENTRY_RESULT_FAIL = 1,
    SENTRY_RESULT_SKIP = 2,
    SENTRY_RESULT_MINOR_ALM = 3,
    SENTRY_RESULT_MAJOR_ALM = 4,
    SENTRY_RESULT_CRITICAL_ALM = 5,
};

typedef struct sentry_client sentry_client;

/* Connects to sentryd. path NULL means $SENTRY_SOCKET, else SENTRY_SOCKET_DEFAULT (the same
 * choice is made again when the client connects again). -ENOENT or -ECONNREFUSED when sentryd
 * is not running. */
int sentry_connect(const char *path, sentry_client **ret);
/* Closes the connection and frees the client; returns NULL. NULL is accepted. */
sentry_client *sentry_close(sentry_client *c);
/* The reason sentryd gave for the last refused request, or NULL. */
const char *sentry_error_message(const sentry_client *c);

/* The task name sentryd gave this process ($SENTRY_TASK_NAME), or NULL. */
const char *sentry_task_name(void);

/* Reports the result of a task run. task NULL means sentry_task_name(). details_json is NULL or
 * a JSON object (or a JSON string holding one); -EINVAL when it is not. */
int sentry_result(sentry_client *c, const char *task, enum sentry_result_level level,
                  const char *details_json);
/* Tells sentryd the task is alive (tasks with heartbeat_interval). task NULL as above. */
int sentry_heartbeat(sentry_client *c, const char *task);

/* ---- alarms --------------------------------------------------------------------------------- */

/* Alarm ids, levels and types: sentry/alarm_ids.h. */

#define SENTRY_ALARM_TEXT_MAX 8191

/* An alarm. When reporting, fill id, level, type, text and optionally source (default: this
 * task's name), key (what the alarm is about, e.g. a disk: an OCCUR stays active until a
 * RECOVER with the same id, source and key) and time_usec (0: now). sentryd sets the rest. In
 * a subscription callback every pointer is valid until the callback returns. */
struct sentry_alarm {
    uint64_t seq;
    uint16_t id;
    int level; /* enum sentry_alarm_level; 4 and 5 can come from xalarm reporters */
    int type;  /* enum sentry_alarm_type; 0 can come from xalarm reporters */
    uint64_t time_usec;
    const char *source;
    const char *key;
    const char *node;
    const char *origin; /* "native", "xalarm", "inject" */
    const char *text;
    int injected;
};

/* Reports an alarm and returns once sentryd has stored it; *seq (may be NULL) gets its seq. */
int sentry_report(sentry_client *c, const struct sentry_alarm *alarm, uint64_t *seq);

/* Which alarms a subscription receives; zero/NULL members mean "all". */
struct sentry_filter {
    const char *ids;            /* "1001-1003,1007" */
    int min_level;              /* enum sentry_alarm_level */
    const char *const *sources; /* NULL-terminated task names */
    unsigned types;             /* bits 1 << SENTRY_ALARM_OCCUR, 1 << SENTRY_ALARM_RECOVER */
};

#define SENTRY_SINCE_NOW UINT64_MAX

/* Called for each alarm of a subscription; return a negative value to stop sentry_run(). */
typedef int (*sentry_alarm_fn)(const struct sentry_alarm *alarm, void *userdata);

/* Turns c into a subscription: alarms that match filter (NULL: all) with a seq greater than
 * since (SENTRY_SINCE_NOW: only new ones; pass the last seq you handled to resume without gap
 * or duplicate). Alarms then arrive on sentry_fd(c): put it in your own poll loop and call
 * sentry_dispatch(), or block in sentry_run().
 * The subscription ends with its connection: when sentryd goes away, sentry_dispatch() and
 * sentry_run() return -EPIPE (or -ECONNRESET), and keep returning it. To go on, call
 * sentry_subscribe() again with since = sentry_last_seq(c): it connects again and sentryd
 * replays what was missed, with no gap and no duplicate; then take sentry_fd(c) anew, the
 * descriptor has changed. A heartbeat or result sent on c meanwhile also connects again; the
 * new connection carries no subscription until sentry_subscribe() (sentry_dispatch() and
 * sentry_run() return -ENOTCONN until then). */
int sentry_subscribe(sentry_client *c, const struct sentry_filter *filter, uint64_t since,
                     sentry_alarm_fn fn, void *userdata);
/* The connection's file descriptor (readable when alarms wait). */
int sentry_fd(const sentry_client *c);
/* Calls fn for every alarm received so far, without blocking. Returns how many, or -EPIPE
 * (-ECONNRESET) when sentryd went away. */
int sentry_dispatch(sentry_client *c);
/* Calls fn for each alarm as it arrives until fn returns < 0 (returns 0) or an error. */
int sentry_run(sentry_client *c);
/* The seq of the last alarm handed to fn, or where the subscription started (sentryd's head at
 * subscribe time for SENTRY_SINCE_NOW): pass it as since to resume after a reconnect. */
uint64_t sentry_last_seq(const sentry_client *c);

const char *sentry_result_level_to_string(enum sentry_result_level level);
/* The level for "PASS", "FAIL", ... or -EINVAL. */
int sentry_result_level_from_string(const char *s);

#ifdef __cplusplus
}
#endif

#endif
