/* mce_decode.c: see mce_decode.h. Pure bit arithmetic on one record. */
#include "mce_decode.h"

#define MCI_STATUS_VAL   (1ULL << 63)
#define MCI_STATUS_OVER  (1ULL << 62)
#define MCI_STATUS_UC    (1ULL << 61)
#define MCI_STATUS_MISCV (1ULL << 59)
#define MCI_STATUS_ADDRV (1ULL << 58)
#define MCI_STATUS_PCC   (1ULL << 57)

#define MCACOD(status)      ((unsigned) ((status) &0xffff))
#define MCACOD_MEMCTL_MASK  0xef80u /* bit 12 is the filter bit: not part of the code */
#define MCACOD_MEMCTL_MATCH 0x0080u

#define MISC_ADDR_LSB(misc)  ((unsigned) ((misc) &0x3f))
#define MISC_ADDR_MODE(misc) ((unsigned) (((misc) >> 6) & 0x7))
#define MISC_ADDR_PHYSICAL   2u

void mce_decode(const struct mce_raw *r, unsigned page_shift, struct mce_memory *out)
{
    unsigned code = MCACOD(r->status);

    *out = (struct mce_memory){.kind = MCE_NOT_VALID};
    if (!(r->status & MCI_STATUS_VAL))
        return;
    out->overflow = r->status & MCI_STATUS_OVER;
    out->pcc = r->status & MCI_STATUS_PCC;
    out->uc = r->status & MCI_STATUS_UC;
    if ((code & MCACOD_MEMCTL_MASK) != MCACOD_MEMCTL_MATCH) {
        out->kind = MCE_NOT_MEMORY;
        return;
    }
    out->kind = r->status & MCI_STATUS_UC ? MCE_MEMORY_UCE : MCE_MEMORY_CE;
    out->transaction = (code >> 4) & 0x7;
    out->channel = code & 0xf;
    if (!(r->status & MCI_STATUS_ADDRV))
        return;
    if (r->cpuvendor == MCE_VENDOR_INTEL || r->cpuvendor == MCE_VENDOR_ZHAOXIN) {
        if (!(r->status & MCI_STATUS_MISCV) || MISC_ADDR_MODE(r->misc) != MISC_ADDR_PHYSICAL)
            return; /* no telling how much of it is valid, or not a physical address */
        out->addr_lsb = MISC_ADDR_LSB(r->misc);
        if (out->addr_lsb > page_shift)
            return;
    }
    /* other vendors' MISC has another layout: their address is taken as it comes */
    out->phys_addr = r->addr & ~((1ULL << out->addr_lsb) - 1);
    out->page_valid = true;
}

const char *mce_transaction_name(unsigned transaction)
{
    static const char *const names[] = {"generic", "read", "write", "address/command", "scrub"};

    return transaction < sizeof(names) / sizeof(names[0]) ? names[transaction] : "reserved";
}
