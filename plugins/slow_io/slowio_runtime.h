/* slowio_runtime.h: what the two slow-IO plugin programs share at run time: the connection to
 * sentryd, the disks and stages to watch (from the collector), one sample per period, the
 * period loop with signal handling, heartbeats, the task result, and alarm 1002 sent once when
 * a disk turns slow and once (RECOVER) when it is healthy again or gone. The detection itself is
 * the plugin's (avg_detector.h, ai_detector.h). */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "json_util.h"
#include "sentry/sentry.h"
#include "slowio_config.h"
#include "slowio_types.h"

#define SLOWIO_ALARM_ID 1002

struct slowio_disk {
    char name[SLOWIO_DISK_NAME_MAX];
    enum disk_type type;
    char **stages; /* the stages watched on this disk (bio among them) */
};

struct slowio_runtime {
    enum slowio_plugin plugin;
    const char *task; /* the task name alarms and results carry */
    sentry_client *client;
    struct client_conn *conn; /* raw protocol for the collector verbs */
    unsigned period_time;
    struct slowio_disk *disks;
    size_t n_disks;
    uint64_t last_tick;
    char **active;            /* keys of the alarms now OCCURed */
    json_object *summary_off; /* {disk: {stage: why}}: stages not measured here */
    json_object *details;     /* the result details reported at start, again at the stop */
};

/* Connects; on failure the plugin cannot even report a result: it exits. */
int slowio_runtime_open(struct slowio_runtime *rt, enum slowio_plugin plugin);
void slowio_runtime_close(struct slowio_runtime *rt);

/* Reports the task result FAIL with the message, for configuration errors. */
void slowio_runtime_fail(struct slowio_runtime *rt, const char *message);
/* Reports PASS with details "{}" (on SIGTERM). */
void slowio_runtime_pass(struct slowio_runtime *rt);

/* The disks to watch: the configured ones (or every disk the collector follows), each with the
 * configured stages the collector measures on it (or all it measures). A stage that is not
 * measured is left out, logged and kept with its reason for the result (stages_off). A disk
 * without the bio stage is not watched. 0, or -errno with why set to the reason for operators
 * ("no disk to watch: disk vda has no bio stage (...)"). */
int slowio_runtime_resolve(struct slowio_runtime *rt, const struct slowio_common *cfg, char *why,
                           size_t why_size);
/* Reports the task result PASS with what is watched and which stages are off, and why. */
void slowio_runtime_report_watch(struct slowio_runtime *rt);

/* Waits for the next period and fetches it. samples[disk][stage][iotype] with valid flags.
 * Returns 0, -EINTR when a stop was asked, -errno on a lost connection. */
struct slowio_period {
    struct slowio_sample s[SLOWIO_MAX_DISKS][_IO_STAGE_MAX][SLOWIO_IOTYPES];
    bool valid[SLOWIO_MAX_DISKS][_IO_STAGE_MAX][SLOWIO_IOTYPES];
    bool present[SLOWIO_MAX_DISKS]; /* the disk is still there */
};
int slowio_runtime_next(struct slowio_runtime *rt, const struct slowio_common *cfg,
                        struct slowio_period *p);

/* The stop flag set by SIGTERM / SIGINT. */
extern volatile sig_atomic_t slowio_stop;
void slowio_install_signals(void);

/* An alarm for key (the disk, or disk/io): sent only on a change of state, so one OCCUR when it
 * turns slow and one RECOVER when it is not any more. text is the alarm's JSON object. */
int slowio_runtime_alarm(struct slowio_runtime *rt, const char *key, bool slow, int level,
                         const char *text);
