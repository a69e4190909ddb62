/* test_bpf_verifier_log: the reason line picked out of BPF verifier logs: a real refusal by the
 * 6.18 verifier (bio_split reading a void * member, the log of a level-2 load as bpftool prints
 * it), a level-1 log, the libbpf note on a CO-RE relocation, logs cut short, empty ones, and
 * control bytes. Also the names of the io-stage programs and the refuse list of the test hook. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf_verifier_log.h"
#include "io_bpf_load.h"

static char *read_fixture(const char *name, size_t *len)
{
    char path[1024];
    FILE *f;
    char *buf;
    long n;

    snprintf(path, sizeof(path), "%s/verifier/%s", SENTRY_FIXTURES_DIR, name);
    f = fopen(path, "re");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    buf = calloc(1, (size_t) n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t) n, f), (size_t) n);
    fclose(f);
    *len = (size_t) n;
    return buf;
}

static void test_real_refusal(void **state)
{
    char why[320];
    size_t len;
    char *log = read_fixture("bio_split-6.18.log", &len);

    bpf_verifier_log_reason(log, len + 1, why, sizeof(why));
    assert_string_equal(why, "invalid size of register spill");
    free(log);
}

static void test_level1(void **state)
{
    static const char log[] =
        "func#0 @0\n"
        "0: R1=ctx() R10=fp0\n"
        "; int BPF_PROG(bio_split, struct bio *split, unsigned int new_sector) @ x.bpf.c:409\n"
        "0: (79) r2 = *(u64 *)(r1 +0)\n"
        "func 'block_split' arg0 has btf_id 1405 type STRUCT 'bio'\n"
        "1: R1=ctx() R2=trusted_ptr_bio()\n"
        "5: (79) r3 = *(u64 *)(r2 +64)         ; R2=trusted_ptr_bio() "
        "R3=rdonly_untrusted_mem(sz=0)\n"
        "from 6 to 393: R1=ctx() R3=0\n"
        "13: (61) r0 = *(u32 *)(r0 +0)\n"
        "R0 invalid mem access 'map_value_or_null'\n"
        "verification time 25 usec\n"
        "stack depth 8\n"
        "processed 14 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 "
        "mark_read 1\n";
    char why[320];

    bpf_verifier_log_reason(log, sizeof(log), why, sizeof(why));
    assert_string_equal(why, "R0 invalid mem access 'map_value_or_null'");

    /* a buffer too small for the reason is still terminated */
    char tiny[8];
    bpf_verifier_log_reason(log, sizeof(log), tiny, sizeof(tiny));
    assert_string_equal(tiny, "R0 inva");
}

static void test_core_relocation(void **state)
{
    static const char log[] =
        "0: R1=ctx() R10=fp0\n"
        "12: <invalid CO-RE relocation>\n"
        "failed to resolve CO-RE relocation <byte_off> [61] struct bio.bi_nope (0:9 @ offset 72)\n"
        "invalid func unknown#195896080\n"
        "processed 13 insns (limit 1000000)\n";
    char why[320];

    bpf_verifier_log_reason(log, sizeof(log), why, sizeof(why));
    assert_string_equal(why, "failed to resolve CO-RE relocation <byte_off> [61] struct "
                             "bio.bi_nope (0:9 @ offset 72)");
}

static void test_cut_short(void **state)
{
    /* old kernels keep the beginning of a log that overflows: no summary, no reason */
    static const char walk_only[] =
        "func#0 @0\n0: R1=ctx() R10=fp0\n1: (79) r2 = *(u64 *)(r1 +0)\n";
    static const char reason_no_summary[] = "0: R1=ctx()\nback-edge from insn 40 to 12\n";
    char why[320];

    bpf_verifier_log_reason(walk_only, sizeof(walk_only), why, sizeof(why));
    assert_string_equal(why, "verifier log cut short");
    bpf_verifier_log_reason(reason_no_summary, sizeof(reason_no_summary), why, sizeof(why));
    assert_string_equal(why, "back-edge from insn 40 to 12 (verifier log cut short)");
}

static void test_empty_and_hostile(void **state)
{
    static const char only_summary[] = "processed 3 insns (limit 1000000)\n";
    /* not terminated within its size, with control bytes in the reason */
    static const char raw[] = {'b', 'a', 'd', '\x1b', '[', '3', '1', 'm', '\n', 'p', 'r', 'o'};
    char why[320];

    bpf_verifier_log_reason(NULL, 0, why, sizeof(why));
    assert_string_equal(why, "no verifier log");
    bpf_verifier_log_reason("", 1, why, sizeof(why));
    assert_string_equal(why, "verifier log cut short");
    bpf_verifier_log_reason(only_summary, sizeof(only_summary), why, sizeof(why));
    assert_string_equal(why, "the verifier gave no reason");
    bpf_verifier_log_reason(raw, sizeof(raw), why, sizeof(why));
    assert_string_equal(why, "pro (verifier log cut short)");
    bpf_verifier_log_reason(raw, 8, why, sizeof(why));
    assert_string_equal(why, "bad [31m (verifier log cut short)");
}

static void test_prog_names(void **state)
{
    uint32_t mask = 0xdead;

    assert_string_equal(io_bpf_prog_name(IO_BPF_PROG_BIO_SPLIT), "bio_split");
    assert_string_equal(io_bpf_prog_event(IO_BPF_PROG_RQ_MADE), "tp_btf/block_io_start");
    assert_null(io_bpf_prog_name(IO_BPF_NR_PROGS));
    for (unsigned i = 0; i < IO_BPF_NR_PROGS; i++)
        assert_int_equal(io_bpf_prog_from_name(io_bpf_prog_name(i)), (int) i);
    assert_int_equal(io_bpf_prog_from_name("nope"), -EINVAL);
    assert_int_equal(io_bpf_prog_from_name(NULL), -EINVAL);

    assert_int_equal(io_bpf_prog_mask_parse("bio_split,rq_made", &mask), 0);
    assert_int_equal(mask, (1U << IO_BPF_PROG_BIO_SPLIT) | (1U << IO_BPF_PROG_RQ_MADE));
    assert_int_equal(io_bpf_prog_mask_parse("", &mask), 0);
    assert_int_equal(mask, 0);
    assert_int_equal(io_bpf_prog_mask_parse("rq_issue,,", &mask), 0);
    assert_int_equal(mask, 1U << IO_BPF_PROG_RQ_ISSUE);
    assert_int_equal(io_bpf_prog_mask_parse("rq_issue,bogus", &mask), -EINVAL);
    assert_int_equal(io_bpf_prog_mask_parse("an_overlong_name_that_is_no_program_at_all", &mask),
                     -EINVAL);
    assert_string_equal(io_bpf_prog_state_to_string(IO_BPF_PROG_NO_EVENT), "no event");
    assert_null(io_bpf_prog_state_to_string(_IO_BPF_PROG_STATE_MAX));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_refusal),      cmocka_unit_test(test_level1),
        cmocka_unit_test(test_core_relocation),   cmocka_unit_test(test_cut_short),
        cmocka_unit_test(test_empty_and_hostile), cmocka_unit_test(test_prog_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
