/* daemon.h: sentryd as a whole: the event loop and the components it owns. main() fills it,
 * runs the loop and tears it down; verb handlers reach the components through it. */
#pragma once

#include <stdbool.h>

#include <systemd/sd-event.h>

#include "alarm_bus.h"
#include "control_server.h"
#include "daemon_config.h"
#include "task_manager.h"
#include "time_util.h"

struct daemon {
    sd_event *event;
    struct daemon_config config;
    int lock_fd;     /* instance lock, held while sentryd runs */
    char **base_env; /* the environment tasks start from */
    struct task_manager *tasks;
    struct control_server *control;
    struct alarm_bus *bus;
    struct xalarm_server *xalarm;
    struct metrics_writer *metrics;
    struct collector *collector;
    sd_event_source *sig_term, *sig_int, *sig_hup;
    sd_event_source *shutdown_timer;
    bool stopping;
    int exit_code;
    usec_t started; /* CLOCK_MONOTONIC at exec */
};

/* Begins the orderly stop (SIGTERM/SIGINT): tasks are stopped, then the loop exits. */
void daemon_begin_shutdown(struct daemon *d);
/* Reloads every task (SIGHUP). */
void daemon_reload_tasks(struct daemon *d);

/* The verb tables of the native protocol served by sentryd. */
extern const struct verb daemon_verbs[];
extern const struct verb task_verbs[];
extern const struct verb alarm_verbs[];
extern const struct verb io_verbs[];
extern const struct verb set_verbs[];
/* Every verb table, NULL-terminated (for the control server). */
const struct verb *const *daemon_verb_tables(void);
