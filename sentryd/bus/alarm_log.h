/* alarm_log.h: every committed alarm is also logged: to journald with structured fields
 * (SENTRY_SEQ, SENTRY_ALARM_ID, SENTRY_SOURCE, PRIORITY from the level, ...) or, without
 * journald, as JSON lines appended to a file. Runs on the store's writer thread, one batch at a
 * time, so the main thread never waits for it. */
#pragma once

#include "alarm.h"

enum alarm_log_mode {
    ALARM_LOG_AUTO, /* journal when reachable, else file */
    ALARM_LOG_JOURNAL,
    ALARM_LOG_FILE,
    ALARM_LOG_NONE,
    _ALARM_LOG_MAX,
};

const char *alarm_log_mode_to_string(enum alarm_log_mode m);
int alarm_log_mode_from_string(const char *s);

struct alarm_log;

/* file: used in file mode (and for AUTO without journald). */
int alarm_log_open(enum alarm_log_mode mode, const char *file, struct alarm_log **ret);
struct alarm_log *alarm_log_close(struct alarm_log *l);
enum alarm_log_mode alarm_log_mode(const struct alarm_log *l);
/* The syslog priority of an alarm level: MINOR warning, MAJOR error, CRITICAL critical. */
int alarm_log_priority(int level);
void alarm_log_batch(struct alarm_log *l, struct alarm_record *const *recs, size_t n);
