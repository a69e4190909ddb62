/* smm_sigbus_maps.c: /proc/<pid>/maps lines and pagemap entries decoded (see smm_sigbus_maps.h).
 * The kernel writes maps with "%08lx-%08lx %c%c%c%c %08llx %02x:%02x %lu " and pads to the path
 * with blanks; a path may itself hold blanks, so it is everything after the padding. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "smm_sigbus_maps.h"

int smm_map_parse_line(char *line, struct smm_map *ret)
{
    struct smm_map m = {};
    char perms[5];
    int n = -1;
    size_t len;

    if (!line)
        return -EBADMSG;
    len = strlen(line);
    if (len > 0 && line[len - 1] == '\n')
        line[--len] = '\0';
    if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %" SCNu64 "%n", &m.start,
               &m.end, perms, &m.offset, &m.dev_major, &m.dev_minor, &m.inode, &n) != 7 ||
        n < 0)
        return -EBADMSG;
    if (strlen(perms) != 4 || m.end < m.start || (perms[3] != 's' && perms[3] != 'p'))
        return -EBADMSG;
    if (line[n] != '\0' && line[n] != ' ')
        return -EBADMSG;
    m.shared = perms[3] == 's';
    m.path = line + n + strspn(line + n, " ");
    *ret = m;
    return 0;
}

int smm_map_vaddr_of_offset(const struct smm_map *m, uint64_t off, uint64_t *ret)
{
    /* Written so that no sum can overflow: off - m->offset < length. */
    if (off < m->offset || off - m->offset >= m->end - m->start)
        return -ERANGE;
    *ret = m->start + (off - m->offset);
    return 0;
}

enum smm_pagemap_page smm_pagemap_decode(uint64_t entry, uint64_t *ret_pfn)
{
    uint64_t pfn = entry & SMM_PAGEMAP_PFN_MASK;

    if (!(entry & SMM_PAGEMAP_PRESENT) || (entry & SMM_PAGEMAP_SWAPPED))
        return SMM_PAGE_ABSENT;
    /* Frame 0 is never user memory: a 0 means the kernel hid the number. */
    if (pfn == 0)
        return SMM_PAGE_HIDDEN;
    *ret_pfn = pfn;
    return SMM_PAGE_FRAME;
}

uint64_t smm_frame_vaddr(uint64_t page_vaddr, uint64_t pa, unsigned page_shift)
{
    return page_vaddr + (pa & ((UINT64_C(1) << page_shift) - 1));
}
