/* mce_decode.h: what an x86 machine check record (the kernel's mce:mce_record event) says about
 * memory, from the architectural bits alone (Intel SDM vol. 3B ch. 16, "Interpreting the MCA
 * error codes"; AMD's legacy banks use the same MCi_STATUS layout).
 *
 * A record is a memory error when its MCA error code is a memory controller compound code
 * (000F 0000 1MMM CCCC: transaction MMM, channel CCCC; F, the filter bit, is not part of it).
 * Corrected or not is the UC bit; PCC means the processor context is corrupt. The address
 * names a page under the kernel's own rule (mce_usable_address()): ADDRV set; and on Intel and
 * Zhaoxin also MISCV, with MISC saying it is a physical address (mode 2) whose least
 * significant valid bit is at most the page's: an address known only to a coarser grain than a
 * page cannot name one. Other vendors' addresses are taken as they come. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* The fields of mce:mce_record that the decoding reads (the names of its format file). */
struct mce_raw {
    uint64_t status, addr, misc, mcgstatus;
    uint32_t cpu, socketid;
    uint8_t bank;
    uint8_t cpuvendor; /* the kernel's X86_VENDOR_* */
};

#define MCE_VENDOR_INTEL   0
#define MCE_VENDOR_ZHAOXIN 10

enum mce_kind {
    MCE_NOT_VALID,  /* VAL clear: nothing to say */
    MCE_NOT_MEMORY, /* a machine check of something else (cache, bus, ...) */
    MCE_MEMORY_CE,  /* a corrected memory error */
    MCE_MEMORY_UCE, /* an uncorrected one (UC set) */
};

struct mce_memory {
    enum mce_kind kind;
    bool uc;              /* UC: not corrected (any valid record, memory or not) */
    bool overflow;        /* OVER: errors were lost in this bank before this one */
    bool pcc;             /* processor context corrupt: the kernel panics */
    bool page_valid;      /* phys_addr names a page (or a finer grain) */
    uint64_t phys_addr;   /* the address, its invalid low bits cleared */
    unsigned addr_lsb;    /* its least significant valid bit (Intel's MISC; else 0) */
    unsigned transaction; /* MMM: 0 generic, 1 read, 2 write, 3 address/command, 4 scrub */
    unsigned channel;     /* CCCC: 15 means not known */
};

void mce_decode(const struct mce_raw *r, unsigned page_shift, struct mce_memory *out);

/* "generic", "read", "write", "address/command", "scrub" or "reserved". */
const char *mce_transaction_name(unsigned transaction);
