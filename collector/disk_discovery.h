/* disk_discovery.h: the whole disks of this machine and their comings and goings, from udev.
 *
 * A disk is a block device of devtype "disk" that is not hidden (NVMe multipath paths are) and
 * has a size: a loop device without a backing file, or a card reader without a card, is not a
 * disk until it gets one. Hotplug: disk_discovery_monitor_fd() gives a file descriptor that the
 * caller watches on its own event loop (readable = events pending); disk_discovery_process()
 * then reports what changed through a callback. The kernel's uevents are read directly when
 * udevd is not running, udevd's processed events when it is. Nothing here blocks or loops. */
#pragma once

#include <stddef.h>

#include "disk.h"
#include "macro.h"

struct disk_discovery;

enum disk_event {
    DISK_EVENT_ADDED,   /* a new disk, or a device that became a disk (got a size) */
    DISK_EVENT_REMOVED, /* gone, or no longer a disk (lost its size) */
    DISK_EVENT_CHANGED, /* still a disk, some of its information changed */
    _DISK_EVENT_MAX,
};
const char *disk_event_to_string(enum disk_event e); /* "added", "removed", "changed" */

typedef void (*disk_event_handler_t)(enum disk_event event, const struct disk_info *d,
                                     void *userdata);

int disk_discovery_new(struct disk_discovery **ret);
struct disk_discovery *disk_discovery_free(struct disk_discovery *dd);
DEFINE_POINTER_CLEANUP(struct disk_discovery, disk_discovery_free)
#define _cleanup_disk_discovery_ _cleanup_(disk_discovery_freep)

/* The disks present now, as a new array (free() it). This is also the set that later events
 * are compared with: start the monitor first, then enumerate, so that nothing falls between. */
int disk_discovery_enumerate(struct disk_discovery *dd, struct disk_info **ret, size_t *ret_n);
/* One disk by kernel name; -ENODEV when it is not a disk (absent, partition, empty). */
int disk_discovery_find(struct disk_discovery *dd, const char *name, struct disk_info *ret);

/* Starts listening to block device events if not yet; returns the fd to watch for input. */
int disk_discovery_monitor_fd(struct disk_discovery *dd);
/* Handles every pending event; returns how many disk events were reported. */
int disk_discovery_process(struct disk_discovery *dd, disk_event_handler_t handler, void *userdata);
