/* register_xalarm.h: the sysSentry libxalarm C API, provided by libsentry.
 *
 * Programs written for sysSentry's libxalarm build unchanged against this header and link with
 * -lsentry (a libxalarm.so compatibility name is installed too). The record layout, constants,
 * return values and printed messages are those of the reference; where sentry behaves
 * differently it is listed in docs/compat.md. Alarms travel over sentryd's xalarm-compatible
 * sockets; report_result() travels over the native socket. */
#ifndef __REGISTER_XALARM_H
#define __REGISTER_XALARM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/time.h>

#include <sentry/alarm_ids.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ALARM_INFO_MAX_PARAS_LEN 8192
#define MAX_STRERROR_SIZE        1024
#define MAX_ALARM_TYEPS          1024
#define BYTE_TO_BITS             8

/* The reference's names of sentry's alarm vocabulary (sentry/alarm_ids.h). */
#define MIN_ALARM_ID                  SENTRY_ALARM_ID_MIN
#define MAX_ALARM_ID                  SENTRY_ALARM_ID_MAX
#define MAX_NUM_OF_ALARM_ID           SENTRY_ALARM_ID_COUNT
#define MEMORY_ALARM_ID               SENTRY_ALARM_ID_MEMORY
#define ALARM_REBOOT_EVENT            SENTRY_ALARM_ID_POWER_OFF
#define ALARM_REBOOT_ACK_EVENT        SENTRY_ALARM_ID_POWER_OFF_ANSWER
#define ALARM_OOM_EVENT               SENTRY_ALARM_ID_OOM
#define ALARM_OOM_ACK_EVENT           SENTRY_ALARM_ID_OOM_ANSWER
#define ALARM_PANIC_EVENT             SENTRY_ALARM_ID_PANIC
#define ALARM_PANIC_ACK_EVENT         SENTRY_ALARM_ID_PANIC_ANSWER
#define ALARM_KERNEL_REBOOT_EVENT     SENTRY_ALARM_ID_KERNEL_REBOOT
#define ALARM_KERNEL_REBOOT_ACK_EVENT SENTRY_ALARM_ID_KERNEL_REBOOT_ANSWER
#define ALARM_UBUS_MEM_EVENT          SENTRY_ALARM_ID_SHARED_MEMORY_FAULT
#define ALARM_RAS_SENTRY_EVENT        SENTRY_ALARM_ID_BMC
#define ALARM_LINK_EVENT              SENTRY_ALARM_ID_LINK_EVENT
#define SYSSENTRY_DOWN_ALARM_ID       SENTRY_ALARM_ID_SERVICE_DOWN

#define MINOR_ALM    SENTRY_ALARM_MINOR
#define MAJOR_ALM    SENTRY_ALARM_MAJOR
#define CRITICAL_ALM SENTRY_ALARM_CRITICAL

#define ALARM_TYPE_OCCUR   SENTRY_ALARM_OCCUR
#define ALARM_TYPE_RECOVER SENTRY_ALARM_RECOVER

/* The fixed 8216-byte record of the xalarm sockets (LP64). */
struct alarm_info {
    unsigned short usAlarmId;
    unsigned char ucAlarmLevel;
    unsigned char ucAlarmType;
    struct timeval AlarmTime;
    char pucParas[ALARM_INFO_MAX_PARAS_LEN];
};

/* Callback API: one registration per process; not thread-safe, not signal-safe. */
typedef void (*alarm_callback_func)(struct alarm_info *palarm);

struct alarm_subscription_info {
    int id_list[MAX_NUM_OF_ALARM_ID];
    unsigned int len;
};

int xalarm_Register(alarm_callback_func callback, struct alarm_subscription_info id_filter);
void xalarm_UnRegister(int client_id);
bool xalarm_Upgrade(struct alarm_subscription_info id_filter, int client_id);

unsigned short xalarm_getid(const struct alarm_info *palarm);
unsigned char xalarm_gettype(const struct alarm_info *palarm);
unsigned char xalarm_getlevel(const struct alarm_info *palarm);
long long xalarm_gettime(const struct alarm_info *palarm); /* milliseconds */
char *xalarm_getdesc(const struct alarm_info *palarm);

int xalarm_Report(unsigned short usAlarmId, unsigned char ucAlarmLevel, unsigned char ucAlarmType,
                  char *pucParas);

/* Handle API (request / answer events such as 1003 -> 1004). A handle is one connection; use it
 * from one thread at a time. */
struct alarm_msg {
    unsigned short usAlarmId;
    struct timeval AlarmTime;
    char pucParas[ALARM_INFO_MAX_PARAS_LEN];
};

struct alarm_register {
    int register_fd;
    char alarm_enable_bitmap[MAX_NUM_OF_ALARM_ID];
};

/* Sends the first len bytes of pucParas (1..8191, no NUL among them) as a MINOR OCCUR alarm.
 * 0, -EINVAL, -ENODEV (no socket), -ENOTCONN (no server) or -ECOMM (the send failed). */
int xalarm_report_event(unsigned short usAlarmId, char *pucParas, size_t len);
int xalarm_register_event(struct alarm_register **register_info,
                          struct alarm_subscription_info id_filter);
int xalarm_get_event(struct alarm_msg *msg, struct alarm_register *register_info);
/* Closes the handle's connection, frees it and sets *register_info to NULL. */
void xalarm_unregister_event(struct alarm_register **register_info);

/* Task results. */
#define RESULT_LEVEL_NUM 6

enum RESULT_LEVEL {
    RESULT_LEVEL_PASS = 0,
    RESULT_LEVEL_FAIL = 1,
    RESULT_LEVEL_SKIP = 2,
    RESULT_LEVEL_MINOR_ALM = 3,
    RESULT_LEVEL_MAJOR_ALM = 4,
    RESULT_LEVEL_CRITICAL_ALM = 5,
};

#define RESULT_INFO_HEAD_LEN        10
#define RESULT_INFO_HEAD_MAGIC      "RESULT"
#define RESULT_INFO_MAX_LEN         4096
#define RESULT_INFO_LOG_MGS_MAX_LEN 255

#define RETURN_CODE_FAIL    (-1)
#define RETURN_CODE_SUCCESS 0
/* The names of older reference headers. */
#define RETURE_CODE_FAIL    RETURN_CODE_FAIL
#define RETURE_CODE_SUCCESS RETURN_CODE_SUCCESS

/* Sends a task's result to sentryd: RETURN_CODE_SUCCESS once sentryd has stored it,
 * RETURN_CODE_FAIL otherwise. report_data is a JSON object of at most RESULT_INFO_MAX_LEN
 * bytes. */
int report_result(const char *task_name, enum RESULT_LEVEL result_level, const char *report_data);

#ifdef __cplusplus
}
#endif

#endif
