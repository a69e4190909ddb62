/* event_switches.h: the kernel event switches of sentry's kernel module, turned on while some
 * xalarm client subscribes to their event (kernel_switch.h has the table and the counting).
 *
 * A switch is turned on by writing "on" unless it already reads "on", and off by writing "off"
 * when its last client leaves (panic and kernel reboot excepted). When the switch's directory
 * does not exist, the module is loaded once per sentryd run, as the reference does: the loader
 * (modprobe) runs without a shell, asynchronously, killed after 3 s, with the reference's module
 * name and then sentry_msg_helper (sentry's module, which makes both directories); the write is
 * tried again when it ends. A switch still missing then is logged once at info: our module has
 * no ub_mem_fault or link_event, which is not an error. Writes to /proc are synchronous: they
 * only flip a flag in the module. */
#pragma once

#include <systemd/sd-event.h>

#include "kernel_switch.h"

struct event_switches;

struct event_switches_params {
    sd_event *event;
    const char *dir;    /* where the module's directories are: /proc, under sentryd's root */
    const char *loader; /* modprobe's path; NULL or "": never load a module */
};

int event_switches_new(const struct event_switches_params *p, struct event_switches **ret);
/* Leaves every switch as it is and stops a module load in progress. */
struct event_switches *event_switches_free(struct event_switches *s);

/* One client's event ids change from *held to want (a client that leaves: want empty). *held
 * becomes the new set; switches whose first client came or last client left are written. */
void event_switches_change(struct event_switches *s, struct xalarm_id_set *held,
                           const struct xalarm_id_set *want);

/* Clients holding id, for tests and logs. */
unsigned event_switches_clients(const struct event_switches *s, unsigned id);
