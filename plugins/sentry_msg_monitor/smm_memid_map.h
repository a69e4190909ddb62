/* smm_memid_map.h: which shared memory device holds a physical address. The reference asks
 * libobmm (obmm_query_memid_by_pa); here the operator lists the devices in
 * sentry_msg_monitor.ini, one line per memid in section [memid]:
 *
 *   [memid]
 *   0 = /dev/obmm_shmdev0, 0x20000000000, 0x40000000
 *
 * the key is the memid (decimal, 0 to 2^31-1), the value the device's path, the physical
 * address of its byte 0 and its size in bytes (decimal or 0x hex). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "config_msg.h"
#include "ini_file.h"

/* The memid of a fault no configured device holds (the reference's value when libobmm knows
 * none). */
#define SMM_MEMID_UNKNOWN (-1)

/* More devices than a node can have: a bigger list is a mistake. */
#define SMM_MEMID_RANGES_MAX 1024
#define SMM_MEMID_SECTION    "memid"

struct smm_memid_range {
    int memid;
    char *device;  /* absolute path, as /proc/<pid>/maps shows the device's mappings */
    uint64_t base; /* physical address of the device's offset 0 */
    uint64_t size; /* bytes; base + size does not wrap */
};

/* Zero-initialise; free with smm_memid_map_done(). Ranges never overlap. */
struct smm_memid_map {
    struct smm_memid_range *ranges;
    size_t n_ranges;
};

/* Adds the [memid] lines of f. A bad line is an error in msgs naming the file, key and value,
 * and is left out; the others are kept. Other sections are warnings (unknown). -ENOMEM only. */
int smm_memid_map_parse(struct smm_memid_map *map, struct ini_file *f, struct config_msgs *msgs);

/* Loads path; a missing file is an empty map (0). Problems go to msgs as above; -errno when the
 * file cannot be read. */
int smm_memid_map_load(struct smm_memid_map *map, const char *path, struct config_msgs *msgs);

void smm_memid_map_done(struct smm_memid_map *map);

/* A number as the [memid] lines write it: decimal digits, or 0x and at most 16 hex digits
 * (physical addresses are usually written in hex). -EINVAL otherwise. */
int smm_memid_parse_u64(const char *s, uint64_t *ret);

/* The range holding pa and pa's offset in it; NULL when no device holds pa. */
const struct smm_memid_range *smm_memid_map_find(const struct smm_memid_map *map, uint64_t pa,
                                                 uint64_t *ret_offset);
