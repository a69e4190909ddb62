/* test_smm_sigbus_maps: /proc/<pid>/maps lines as the kernel writes them (anonymous, file,
 * device, paths with blanks, deleted memfds) and what is refused; pagemap entries (present,
 * swapped, hidden frame); where a device offset and a frame land in a mapping, at the edges. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "smm_sigbus_maps.h"

static void parse(const char *text, struct smm_map *m, char *buf, size_t size)
{
    strncpy(buf, text, size - 1);
    buf[size - 1] = '\0';
    assert_int_equal(smm_map_parse_line(buf, m), 0);
}

static void test_file_and_device_lines(void **state)
{
    char buf[256];
    struct smm_map m;

    parse("7f1448723000-7f1448725000 rw-s 00001000 00:1f 1234                       "
          "/dev/obmm_shmdev3\n",
          &m, buf, sizeof(buf));
    assert_int_equal(m.start, 0x7f1448723000);
    assert_int_equal(m.end, 0x7f1448725000);
    assert_int_equal(m.offset, 0x1000);
    assert_int_equal(m.dev_major, 0);
    assert_int_equal(m.dev_minor, 0x1f);
    assert_int_equal(m.inode, 1234);
    assert_true(m.shared);
    assert_string_equal(m.path, "/dev/obmm_shmdev3");

    parse("7fb664a5b000-7fb664a5c000 rw-s 00000000 00:01 77 /memfd:db buffer (deleted)", &m, buf,
          sizeof(buf));
    assert_string_equal(m.path, "/memfd:db buffer (deleted)");

    parse("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  "
          "[vsyscall]",
          &m, buf, sizeof(buf));
    assert_false(m.shared);
    assert_int_equal(m.end, 0xffffffffff601000);
    assert_string_equal(m.path, "[vsyscall]");
}

static void test_anonymous_lines(void **state)
{
    char buf[256];
    struct smm_map m;

    /* the kernel ends a line without a name with the blank after the inode */
    parse("55d0c0a00000-55d0c0a21000 rw-p 00000000 00:00 0 \n", &m, buf, sizeof(buf));
    assert_string_equal(m.path, "");
    assert_false(m.shared);
    parse("55d0c0a00000-55d0c0a21000 rw-p 00000000 00:00 0", &m, buf, sizeof(buf));
    assert_string_equal(m.path, "");
}

static void test_refused_lines(void **state)
{
    static const char *const bad[] = {
        "",
        "garbage",
        "1000-2000 rw-s 0 00:00",       /* no inode */
        "2000-1000 rw-s 0 00:00 0 /x",  /* end before start */
        "1000-2000 rw-x 0 00:00 0 /x",  /* neither shared nor private */
        "1000-2000 rw-s0 0 00:00 0 /x", /* perms of five */
        "1000-2000 rw-s 0 00:00 0x/x",  /* inode runs into the path */
        "1000-2000 rw-s zz 00:00 0 /x", /* offset not hex */
    };
    struct smm_map m = {.start = 42};
    char buf[128];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        strcpy(buf, bad[i]);
        assert_int_equal(smm_map_parse_line(buf, &m), -EBADMSG);
        assert_int_equal(m.start, 42);
    }
    assert_int_equal(smm_map_parse_line(NULL, &m), -EBADMSG);
}

static void test_vaddr_of_offset(void **state)
{
    /* two pages of the device from its offset 0x3000 */
    struct smm_map m = {.start = 0x7f0000000000, .end = 0x7f0000002000, .offset = 0x3000};
    uint64_t v = 0;

    assert_int_equal(smm_map_vaddr_of_offset(&m, 0x3000, &v), 0);
    assert_int_equal(v, 0x7f0000000000);
    assert_int_equal(smm_map_vaddr_of_offset(&m, 0x4abc, &v), 0);
    assert_int_equal(v, 0x7f0000001abc);
    assert_int_equal(smm_map_vaddr_of_offset(&m, 0x4fff, &v), 0);
    assert_int_equal(v, 0x7f0000001fff);
    /* the first byte past the window is not in it (the reference's <= would take it) */
    assert_int_equal(smm_map_vaddr_of_offset(&m, 0x5000, &v), -ERANGE);
    assert_int_equal(smm_map_vaddr_of_offset(&m, 0x2fff, &v), -ERANGE);
    /* no overflow at the top of the offsets */
    m.offset = UINT64_MAX - 0xfff;
    assert_int_equal(smm_map_vaddr_of_offset(&m, UINT64_MAX, &v), 0);
    assert_int_equal(v, 0x7f0000000fff);
    assert_int_equal(smm_map_vaddr_of_offset(&m, 0, &v), -ERANGE);
}

static void test_pagemap_entries(void **state)
{
    uint64_t pfn = 7;

    assert_int_equal(smm_pagemap_decode(SMM_PAGEMAP_PRESENT | 0x12106e, &pfn), SMM_PAGE_FRAME);
    assert_int_equal(pfn, 0x12106e);
    /* soft-dirty (55), exclusive (56), file/shared (61) are no part of the frame */
    assert_int_equal(smm_pagemap_decode(SMM_PAGEMAP_PRESENT | (UINT64_C(1) << 55) |
                                            (UINT64_C(1) << 56) | (UINT64_C(1) << 61) | 0x42,
                                        &pfn),
                     SMM_PAGE_FRAME);
    assert_int_equal(pfn, 0x42);
    assert_int_equal(smm_pagemap_decode(SMM_PAGEMAP_PRESENT | SMM_PAGEMAP_PFN_MASK, &pfn),
                     SMM_PAGE_FRAME);
    assert_int_equal(pfn, SMM_PAGEMAP_PFN_MASK);
    pfn = 7;
    assert_int_equal(smm_pagemap_decode(0, &pfn), SMM_PAGE_ABSENT);
    assert_int_equal(smm_pagemap_decode(0x1234, &pfn), SMM_PAGE_ABSENT);
    /* a swapped page's low bits are its swap entry, not a frame */
    assert_int_equal(smm_pagemap_decode(SMM_PAGEMAP_SWAPPED | 0x1234, &pfn), SMM_PAGE_ABSENT);
    assert_int_equal(smm_pagemap_decode(SMM_PAGEMAP_PRESENT, &pfn), SMM_PAGE_HIDDEN);
    assert_int_equal(pfn, 7);
}

static void test_frame_vaddr(void **state)
{
    assert_int_equal(smm_frame_vaddr(0x7f1448723000, 0x12106e123, 12), 0x7f1448723123);
    assert_int_equal(smm_frame_vaddr(0x7f1448723000, 0x12106e000, 12), 0x7f1448723000);
    assert_int_equal(smm_frame_vaddr(0x7f1448720000, 0x12106fff7, 16), 0x7f144872fff7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_and_device_lines), cmocka_unit_test(test_anonymous_lines),
        cmocka_unit_test(test_refused_lines),         cmocka_unit_test(test_vaddr_of_offset),
        cmocka_unit_test(test_pagemap_entries),       cmocka_unit_test(test_frame_vaddr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
