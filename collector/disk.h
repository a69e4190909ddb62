/* disk.h: what the collector knows about one whole disk, and how it names disk types.
 *
 * A disk_info is filled by disk discovery (udev) and handed to the io sources; the type decides
 * the iodump threshold and which latency limits the plugins apply. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "io_vocab.h"

#define DISK_NAME_MAX 32

struct disk_info {
    char name[DISK_NAME_MAX]; /* kernel name, e.g. "sda", "nvme0n1" */
    dev_t devnum;             /* of the whole disk */
    enum disk_type type;
    bool rotational;
    char model[64]; /* "" when unknown; printable ASCII, trimmed */
    char serial[64];
    char wwn[64];
};

/* The reference's rule: nvme* is an NVMe SSD; sd* is a SATA SSD or HDD by its rotational flag;
 * everything else is virtual. */
enum disk_type disk_type_classify(const char *name, bool rotational);

/* A kernel disk name we are willing to use in paths and messages: 1..DISK_NAME_MAX-1 characters
 * of [A-Za-z0-9_.:!+-], not "." or "..". */
bool disk_name_is_valid(const char *name);
