/* smm_memid_map.c: the memid lines of sentry_msg_monitor.ini (see smm_memid_map.h). Every value
 * is checked before it is used: the search that follows sends signals, so a range that is
 * not what the operator meant must not get that far. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "parse_number.h"
#include "smm_memid_map.h"

int smm_memid_parse_u64(const char *s, uint64_t *ret)
{
    const char *hex = startswith(s, "0x") ?: startswith(s, "0X");
    uint64_t v = 0;

    if (!hex)
        return parse_uint_digits(s, ret);
    if (!*hex || strlen(hex) > 16)
        return -EINVAL;
    for (const char *p = hex; *p; p++) {
        if (!isxdigit((unsigned char) *p))
            return -EINVAL;
        v = v << 4 |
            (uint64_t) (isdigit((unsigned char) *p) ? *p - '0'
                                                    : tolower((unsigned char) *p) - 'a' + 10);
    }
    *ret = v;
    return 0;
}

/* The fields of "device, base, size", stripped, into fields[3] (pointing into buf). */
static int split_fields(char *buf, char *fields[3])
{
    char *p = buf;

    for (int i = 0; i < 3; i++) {
        char *end = i < 2 ? strchr(p, ',') : p + strlen(p);

        if (!end)
            return -EINVAL;
        if (i == 2 && strchr(p, ','))
            return -EINVAL;
        *end = '\0';
        while (isspace((unsigned char) *p))
            p++;
        for (char *q = end; q > p && isspace((unsigned char) q[-1]); q--)
            q[-1] = '\0';
        if (!*p)
            return -EINVAL;
        fields[i] = p;
        p = end + 1;
    }
    return 0;
}

static const struct smm_memid_range *find_overlap(const struct smm_memid_map *map, int memid,
                                                  uint64_t base, uint64_t size)
{
    for (size_t i = 0; i < map->n_ranges; i++) {
        const struct smm_memid_range *r = &map->ranges[i];

        if (r->memid == memid || (base < r->base + r->size && r->base < base + size))
            return r;
    }
    return NULL;
}

/* One line; 1 when added, 0 when refused (with an error in msgs), -ENOMEM. */
static int parse_line(struct smm_memid_map *map, const char *file, const struct ini_entry *e,
                      struct config_msgs *msgs)
{
    _cleanup_free_ char *buf = NULL;
    const struct smm_memid_range *other;
    struct smm_memid_range *ranges;
    char *fields[3];
    uint64_t memid, base, size;
    const char *why = NULL;

#define REFUSE(...)                                                                               \
    return config_msgs_add_key(msgs, CONFIG_MSG_ERROR, file, SMM_MEMID_SECTION, e->key, e->value, \
                               __VA_ARGS__)
    if (parse_uint_digits(e->key, &memid) < 0 || memid > INT32_MAX)
        REFUSE("the key must be a memid, a decimal number from 0 to 2147483647; line left out");
    buf = strdup(e->value);
    if (!buf)
        return -ENOMEM;
    if (split_fields(buf, fields) < 0)
        why = "must be \"device path, base physical address, size\"";
    else if (fields[0][0] != '/' || strpbrk(fields[0], "\n\t ") || strlen(fields[0]) > 4095)
        why = "the device must be an absolute path without blanks";
    else if (smm_memid_parse_u64(fields[1], &base) < 0)
        why = "the base physical address must be a decimal or 0x hexadecimal number";
    else if (smm_memid_parse_u64(fields[2], &size) < 0 || size == 0)
        why = "the size must be a decimal or 0x hexadecimal number above 0";
    else if (base + size <= base)
        why = "base + size must stay below 2^64";
    if (why)
        REFUSE("%s; line left out", why);
    other = find_overlap(map, (int) memid, base, size);
    if (other && other->memid == (int) memid)
        REFUSE("memid %d is given twice; line left out", other->memid);
    if (other)
        REFUSE("overlaps memid %d (0x%" PRIx64 "+0x%" PRIx64 "); line left out", other->memid,
               other->base, other->size);
    if (map->n_ranges >= SMM_MEMID_RANGES_MAX)
        REFUSE("more than %d memids; line left out", SMM_MEMID_RANGES_MAX);
#undef REFUSE

    ranges = reallocarray(map->ranges, map->n_ranges + 1, sizeof(*ranges));
    if (!ranges)
        return -ENOMEM;
    map->ranges = ranges;
    ranges[map->n_ranges] = (struct smm_memid_range){
        .memid = (int) memid, .device = strdup(fields[0]), .base = base, .size = size};
    if (!ranges[map->n_ranges].device)
        return -ENOMEM;
    map->n_ranges++;
    return 1;
}

int smm_memid_map_parse(struct smm_memid_map *map, struct ini_file *f, struct config_msgs *msgs)
{
    assert_return(map && f && msgs, -EINVAL);
    for (size_t i = 0; i < f->n_entries; i++) {
        struct ini_entry *e = &f->entries[i];
        int r;

        if (!streq(e->section, SMM_MEMID_SECTION)) {
            r = config_msgs_add_key(msgs, CONFIG_MSG_WARNING, f->path, e->section, e->key, e->value,
                                    "unknown section, ignored");
        } else {
            e->used = true;
            r = parse_line(map, f->path, e, msgs);
        }
        if (r == -ENOMEM)
            return r;
    }
    return 0;
}

int smm_memid_map_load(struct smm_memid_map *map, const char *path, struct config_msgs *msgs)
{
    _cleanup_(ini_file_done) struct ini_file f = {};
    int r;

    assert_return(map && path && msgs, -EINVAL);
    if (access(path, F_OK) < 0 && errno == ENOENT)
        return 0;
    r = ini_file_load(&f, AT_FDCWD, path, NULL, 0, INI_FILE_SIZE_MAX, msgs);
    if (r < 0)
        return r;
    return smm_memid_map_parse(map, &f, msgs);
}

void smm_memid_map_done(struct smm_memid_map *map)
{
    if (!map)
        return;
    for (size_t i = 0; i < map->n_ranges; i++)
        free(map->ranges[i].device);
    free(map->ranges);
    map->ranges = NULL;
    map->n_ranges = 0;
}

const struct smm_memid_range *smm_memid_map_find(const struct smm_memid_map *map, uint64_t pa,
                                                 uint64_t *ret_offset)
{
    for (size_t i = 0; map && i < map->n_ranges; i++) {
        const struct smm_memid_range *r = &map->ranges[i];

        if (pa >= r->base && pa - r->base < r->size) {
            *ret_offset = pa - r->base;
            return r;
        }
    }
    return NULL;
}
