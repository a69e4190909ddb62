/* smm_sigbus_maps.h: one line of /proc/<pid>/maps, and where a device offset or a physical
 * frame lands in a process's address space. Pure functions: the SIGBUS search (smm_sigbus.c)
 * reads the files, these only decode what was read. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* "start-end perms offset major:minor inode   path" */
struct smm_map {
    uint64_t start;  /* first byte */
    uint64_t end;    /* one past the last byte */
    uint64_t offset; /* of start in the mapped file or device */
    uint64_t inode;
    unsigned dev_major, dev_minor;
    bool shared;      /* 's' in perms: the only mappings another mapper's fault can reach */
    const char *path; /* points into the parsed line; "" for anonymous memory */
};

/* Parses line (its trailing newline is cut off in place). -EBADMSG for anything else than the
 * kernel's layout, with *ret untouched. */
int smm_map_parse_line(char *line, struct smm_map *ret);

/* The virtual address at which m shows byte offset of its file or device: start - offset +
 * off when m->offset <= off < m->offset + (end - start). -ERANGE when m does not map off. */
int smm_map_vaddr_of_offset(const struct smm_map *m, uint64_t off, uint64_t *ret);

/* /proc/<pid>/pagemap: one 64-bit entry per virtual page (Documentation/admin-guide/mm/
 * pagemap.rst). Bit 63 present, bit 62 swapped, bits 0-54 the page frame number of a present
 * page, which reads as 0 without CAP_SYS_ADMIN. */
#define SMM_PAGEMAP_PRESENT  (UINT64_C(1) << 63)
#define SMM_PAGEMAP_SWAPPED  (UINT64_C(1) << 62)
#define SMM_PAGEMAP_PFN_MASK ((UINT64_C(1) << 55) - 1)

enum smm_pagemap_page {
    SMM_PAGE_ABSENT, /* not in memory, or swapped: holds no frame */
    SMM_PAGE_HIDDEN, /* present, but the frame number is not shown to this reader */
    SMM_PAGE_FRAME,  /* present, *ret_pfn is its frame */
};

enum smm_pagemap_page smm_pagemap_decode(uint64_t entry, uint64_t *ret_pfn);

/* The virtual address of physical address pa in the page at page_vaddr, which holds pa's frame:
 * the page plus pa's offset in its page. */
uint64_t smm_frame_vaddr(uint64_t page_vaddr, uint64_t pa, unsigned page_shift);
