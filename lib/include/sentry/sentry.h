/* sentry.h: the public C client API of sentryd (libsentry).
 *
 * A plugin connects to sentryd's native socket and reports its results and heartbeats over it.
 * Every function returns 0 (or a positive value where stated) on success and a negative errno
 * value on failure; when sentryd refused a request, sentry_error_message() holds its reason.
 * A client is not thread-safe: use one per thread. The wire protocol behind these calls is in
 * docs/protocol.md. */
#ifndef SENTRY_SENTRY_H
#define SENTRY_SENTRY_H

#include <stdint.h>

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

/* Connects to sentryd. path NULL means $SENTRY_SOCKET, else SENTRY_SOCKET_DEFAULT.
 * -ENOENT or -ECONNREFUSED when sentryd is not running. */
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

const char *sentry_result_level_to_string(enum sentry_result_level level);
/* The level for "PASS", "FAIL", ... or -EINVAL. */
int sentry_result_level_from_string(const char *s);

#ifdef __cplusplus
}
#endif

#endif
