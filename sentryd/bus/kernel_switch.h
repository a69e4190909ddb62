/* kernel_switch.h: which kernel event source each xalarm event id switches, and how many xalarm
 * clients want each one. The reference's xalarmd keeps the same table (xalarm_events.py): a
 * switch is a file of sentry's kernel module, /proc/<dir>/<file>, that reads and takes "on" or
 * "off". The first client to subscribe to an id turns its switch on, the last one to leave turns
 * it off, except for panic and kernel reboot, which stay on once on (a node must not lose them
 * because a monitor restarted).
 *
 * Pure: no files, no sockets. A client's ids are a set, so it counts once per id however many
 * messages it sends; event_switches.h does the writing. */
#pragma once

#include <stdbool.h>

#include "xalarm_ids.h"

struct kernel_switch {
    unsigned id;      /* the xalarm event id */
    const char *dir;  /* directory under the proc root, also the reference's module name */
    const char *file; /* the switch in it */
    bool sticky;      /* never turned off again */
};

#define KERNEL_SWITCH_COUNT 6

/* The table, in id order. */
extern const struct kernel_switch kernel_switches[KERNEL_SWITCH_COUNT];

/* The switch of an event id, or NULL when the id switches nothing. */
const struct kernel_switch *kernel_switch_find(unsigned id);

struct kernel_switch_refs {
    unsigned count[KERNEL_SWITCH_COUNT]; /* clients holding each switch's id */
};

/* A client's ids change from *held to want (ids that switch nothing are left out): the counts
 * follow and *held becomes the new set. *turn_on gets the ids whose first client came, *turn_off
 * those whose last client left (sticky ids never). */
void kernel_switch_refs_change(struct kernel_switch_refs *refs, struct xalarm_id_set *held,
                               const struct xalarm_id_set *want, struct xalarm_id_set *turn_on,
                               struct xalarm_id_set *turn_off);

/* How many clients hold id (0 for an id that switches nothing). */
unsigned kernel_switch_refs_get(const struct kernel_switch_refs *refs, unsigned id);
