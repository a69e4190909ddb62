/* test_mem_mce_decode: what a machine check record says about memory. The first record is the
 * one Debian 6.1's mce:mce_record gave in the lab for a software injection through mce-inject
 * (status 0x9c0000000000009f, addr 0x12345000, misc 0x8c); the others vary its bits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "mce_decode.h"

#define PAGE_SHIFT 12

/* VAL EN MISCV ADDRV, memory controller read, channel unknown: the lab's injected CE */
#define STATUS_CE_READ 0x9c0000000000009fULL
#define MISC_PHYS_PAGE 0x8cULL /* address mode 2 (physical), valid from bit 12 */

static struct mce_memory decode(uint64_t status, uint64_t addr, uint64_t misc, uint8_t vendor)
{
    struct mce_raw r = {.status = status, .addr = addr, .misc = misc, .cpuvendor = vendor};
    struct mce_memory m;

    mce_decode(&r, PAGE_SHIFT, &m);
    return m;
}

static void test_corrected_read_with_page(void **state)
{
    struct mce_memory m = decode(STATUS_CE_READ, 0x12345678, MISC_PHYS_PAGE, MCE_VENDOR_INTEL);

    assert_int_equal(m.kind, MCE_MEMORY_CE);
    assert_true(m.page_valid);
    assert_int_equal(m.phys_addr, 0x12345000);
    assert_int_equal(m.addr_lsb, 12);
    assert_int_equal(m.transaction, 1);
    assert_string_equal(mce_transaction_name(m.transaction), "read");
    assert_int_equal(m.channel, 15);
    assert_false(m.overflow);
    assert_false(m.pcc);
}

static void test_uncorrected_and_flags(void **state)
{
    /* UC PCC OVER, memory controller scrub on channel 2, with the filter bit (12) set */
    struct mce_raw r = {.status = (1ULL << 63) | (1ULL << 62) | (1ULL << 61) | (1ULL << 57) |
                                  (1ULL << 59) | (1ULL << 58) | 0x10c2,
                        .addr = 0xabcdef123,
                        .misc = MISC_PHYS_PAGE,
                        .cpuvendor = MCE_VENDOR_INTEL};
    struct mce_memory m;

    mce_decode(&r, PAGE_SHIFT, &m);
    assert_int_equal(m.kind, MCE_MEMORY_UCE);
    assert_true(m.overflow);
    assert_true(m.pcc);
    assert_int_equal(m.transaction, 4);
    assert_string_equal(mce_transaction_name(m.transaction), "scrub");
    assert_int_equal(m.channel, 2);
    assert_true(m.page_valid);
    assert_int_equal(m.phys_addr, 0xabcdef000);
}

static void test_not_valid_and_not_memory(void **state)
{
    assert_int_equal(decode(STATUS_CE_READ & ~(1ULL << 63), 0, 0, 0).kind, MCE_NOT_VALID);
    /* a cache hierarchy error (0000 0001 RRRR TTLL): L2 data read */
    assert_int_equal(decode((STATUS_CE_READ & ~0xffffULL) | 0x0135, 0x1000, MISC_PHYS_PAGE, 0).kind,
                     MCE_NOT_MEMORY);
    /* a bus error code whose bit 7 is set but is not 0000 0000 1MMM CCCC */
    assert_int_equal(decode((STATUS_CE_READ & ~0xffffULL) | 0x0880, 0x1000, MISC_PHYS_PAGE, 0).kind,
                     MCE_NOT_MEMORY);
    assert_string_equal(mce_transaction_name(7), "reserved");
}

static void test_address_rules_intel(void **state)
{
    /* no ADDRV */
    assert_false(decode(STATUS_CE_READ & ~(1ULL << 58), 0x1000, MISC_PHYS_PAGE, 0).page_valid);
    /* no MISCV: Intel cannot tell the grain */
    assert_false(decode(STATUS_CE_READ & ~(1ULL << 59), 0x1000, MISC_PHYS_PAGE, 0).page_valid);
    /* mode 1 (linear), not physical */
    assert_false(decode(STATUS_CE_READ, 0x1000, 0x4c, 0).page_valid);
    /* valid only from bit 13: coarser than a page */
    assert_false(decode(STATUS_CE_READ, 0x2000, 0x8d, 0).page_valid);
    /* valid from bit 6 (a cache line): the page is known, the low bits cleared */
    struct mce_memory m = decode(STATUS_CE_READ, 0x7654321, 0x86, MCE_VENDOR_ZHAOXIN);
    assert_true(m.page_valid);
    assert_int_equal(m.phys_addr, 0x7654300);
    assert_int_equal(m.addr_lsb, 6);
}

static void test_address_other_vendors(void **state)
{
    /* AMD (2): MISC is laid out otherwise; ADDRV alone gives the address */
    struct mce_memory m = decode(STATUS_CE_READ & ~(1ULL << 59), 0x12345678, 0, 2);
    assert_true(m.page_valid);
    assert_int_equal(m.phys_addr, 0x12345678);
    assert_int_equal(m.addr_lsb, 0);
    m = decode(STATUS_CE_READ, 0x12345678, 0x3f, 2);
    assert_true(m.page_valid);
    assert_int_equal(m.phys_addr, 0x12345678);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corrected_read_with_page),
        cmocka_unit_test(test_uncorrected_and_flags),
        cmocka_unit_test(test_not_valid_and_not_memory),
        cmocka_unit_test(test_address_rules_intel),
        cmocka_unit_test(test_address_other_vendors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
