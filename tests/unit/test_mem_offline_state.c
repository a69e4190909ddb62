/* test_mem_offline_state: the state file of offlined pages: round trip through a real file,
 * atomic replace (no temporary left, a failed save keeps the old file), damaged lines reported by
 * file and line and skipped, foreign files and other versions refused, the bound, and the list
 * of pages to offline again at start. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>

#include "test_util.h"

#include "config_msg.h"
#include "macro.h"
#include "offline_state.h"

struct fixture {
    char dir[256];
    char path[300];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    const char *tmp = getenv("TMPDIR");

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "%s/test_mem_offline_state.XXXXXX",
             isempty(tmp) ? "/tmp" : tmp);
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/offline.state", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(test_rm_rf(f->dir), 0);
    free(f);
    return 0;
}

static size_t dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t n = 0;

    assert_non_null(d);
    while ((de = readdir(d)))
        if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static const struct offline_entry e1 = {0x1234, MEM_ACTION_SOFT, 1700000000, PAGE_OFFLINE_VERIFIED};
static const struct offline_entry e2 = {0, MEM_ACTION_HARD, 0, PAGE_OFFLINE_REFUSED};
static const struct offline_entry e3 = {UINT64_MAX, MEM_ACTION_SOFT_THEN_HARD, INT64_MAX,
                                        PAGE_OFFLINE_NOT_POISONED};

static void assert_entry_equal(const struct offline_entry *a, const struct offline_entry *b)
{
    assert_non_null(a);
    assert_true(a->pfn == b->pfn);
    assert_int_equal(a->action, b->action);
    assert_true(a->time_s == b->time_s);
    assert_int_equal(a->result, b->result);
}

static void test_round_trip(void **state)
{
    struct fixture *f = *state;
    struct offline_state s, t;
    struct config_msgs m = {0};
    struct offline_entry out[4];
    char *text;

    assert_int_equal(offline_state_init(&s, 16), 0);
    assert_int_equal(offline_state_init(&t, 16), 0);
    assert_int_equal(offline_state_set(&s, &e1), 0);
    assert_int_equal(offline_state_set(&s, &e2), 0);
    assert_int_equal(offline_state_set(&s, &e3), 0);
    /* a later attempt on a page updates its line, in place */
    struct offline_entry e2b = e2;
    e2b.result = PAGE_OFFLINE_VERIFIED;
    e2b.time_s = 1700000100;
    assert_int_equal(offline_state_set(&s, &e2b), 0);
    assert_int_equal(s.n, 3);

    text = offline_state_format(&s);
    assert_non_null(text);
    assert_string_equal(text,
                        "mem_sentry-offline 1\n"
                        "0x1234 soft 1700000000 verified\n"
                        "0x0 hard 1700000100 verified\n"
                        "0xffffffffffffffff soft-then-hard 9223372036854775807 not-poisoned\n");
    free(text);

    assert_int_equal(offline_state_save(&s, f->path), 0);
    assert_int_equal(offline_state_load(&t, f->path, &m), 0);
    assert_int_equal(m.n_items, 0);
    assert_int_equal(t.n, 3);
    assert_entry_equal(offline_state_find(&t, 0x1234), &e1);
    assert_entry_equal(offline_state_find(&t, 0), &e2b);
    assert_entry_equal(offline_state_find(&t, UINT64_MAX), &e3);
    assert_null(offline_state_find(&t, 0x1235));

    /* at start every page is offlined again, in the order they came */
    assert_int_equal(offline_state_pending(&t, out, ELEMENTSOF(out)), 3);
    assert_entry_equal(&out[0], &e1);
    assert_entry_equal(&out[1], &e2b);
    assert_entry_equal(&out[2], &e3);
    assert_int_equal(offline_state_pending(&t, out, 1), 3);

    /* the first start: no file, no pages */
    assert_int_equal(unlink(f->path), 0);
    assert_int_equal(offline_state_load(&t, f->path, &m), 0);
    assert_int_equal(t.n, 0);
    assert_null(offline_state_find(&t, 0x1234));
    assert_int_equal(m.n_items, 0);
    offline_state_done(&s);
    offline_state_done(&t);
    config_msgs_done(&m);
}

static void test_atomic_replace(void **state)
{
    struct fixture *f = *state;
    struct offline_state s, t;
    struct config_msgs m = {0};
    char bad[400];
    struct stat st;

    assert_int_equal(offline_state_init(&s, 16), 0);
    assert_int_equal(offline_state_init(&t, 16), 0);
    assert_int_equal(offline_state_set(&s, &e1), 0);
    assert_int_equal(offline_state_save(&s, f->path), 0);
    assert_int_equal(offline_state_set(&s, &e2), 0);
    assert_int_equal(offline_state_save(&s, f->path), 0);
    /* replaced, and no temporary file left beside it */
    assert_int_equal(dir_entries(f->dir), 1);
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    assert_int_equal(offline_state_load(&t, f->path, &m), 0);
    assert_int_equal(t.n, 2);

    /* a save that cannot complete leaves nothing behind: a directory in the way ... */
    snprintf(bad, sizeof(bad), "%s/dir.state", f->dir);
    assert_int_equal(mkdir(bad, 0755), 0);
    assert_int_equal(offline_state_save(&s, bad), -EISDIR);
    assert_int_equal(dir_entries(f->dir), 2);
    /* ... or no directory at all */
    snprintf(bad, sizeof(bad), "%s/none/x.state", f->dir);
    assert_int_equal(offline_state_save(&s, bad), -ENOENT);
    /* and the good file is untouched */
    assert_int_equal(offline_state_load(&t, f->path, &m), 0);
    assert_int_equal(t.n, 2);
    assert_int_equal(m.n_items, 0);

    /* a symlink is not followed on load */
    snprintf(bad, sizeof(bad), "%s/link.state", f->dir);
    assert_int_equal(symlink(f->path, bad), 0);
    assert_int_equal(offline_state_load(&t, bad, &m), -ELOOP);
    assert_int_equal(m.n_errors, 1);
    offline_state_done(&s);
    offline_state_done(&t);
    config_msgs_done(&m);
}

static void test_damaged_lines(void **state)
{
    struct offline_state s;
    struct config_msgs m = {0};
    const char text[] = "mem_sentry-offline 1\n"
                        "0x10 soft 100 verified\n"                 /* 2 good */
                        "0x11 soft 100\n"                          /* 3 three fields */
                        "0x12 soft 100 verified extra\n"           /* 4 five fields */
                        "12 soft 100 verified\n"                   /* 5 no 0x */
                        "0x soft 100 verified\n"                   /* 6 no digits */
                        "0x1ffffffffffffffff soft 100 verified\n"  /* 7 17 digits */
                        "0x1g soft 100 verified\n"                 /* 8 not hex */
                        "0x13 account 100 verified\n"              /* 9 not an offline */
                        "0x14 soft -1 verified\n"                  /* 10 negative time */
                        "0x15 soft 9223372036854775808 verified\n" /* 11 past int64 */
                        "0x16 soft 100 ok\n"                       /* 12 unknown result */
                        "0x17 soft 100 verified\r\n"               /* 13 CRLF */
                        "0x18  soft 100 verified\n"                /* 14 two blanks */
                        "\n"                                       /* 15 empty: fine */
                        "0x19 soft 100 verified 0123456789012345678901234567890123456789"
                        "0123456789012345678901234567890123456789012345678901234567890"
                        "0123456789\n"                    /* 16 too long */
                        "0x1a soft 100 \0verified\n"      /* 17 NUL */
                        "0x10 hard 200 refused\n"         /* 18 duplicate */
                        "0xAb soft-then-hard 300 absent"; /* 19 good, no newline */

    assert_int_equal(offline_state_init(&s, 16), 0);
    assert_int_equal(offline_state_parse(&s, "/x/offline.state", text, sizeof(text) - 1, &m), 0);
    assert_int_equal(s.n, 2);
    assert_entry_equal(offline_state_find(&s, 0x10),
                       &(struct offline_entry){0x10, MEM_ACTION_HARD, 200, PAGE_OFFLINE_REFUSED});
    assert_entry_equal(
        offline_state_find(&s, 0xab),
        &(struct offline_entry){0xab, MEM_ACTION_SOFT_THEN_HARD, 300, PAGE_OFFLINE_ABSENT});
    assert_int_equal(m.n_errors, 0);
    assert_int_equal(m.n_items, 15); /* lines 3..14, 16, 17 skipped; 18 a duplicate */
    for (size_t i = 0; i < m.n_items; i++) {
        assert_int_equal(m.items[i].level, CONFIG_MSG_WARNING);
        assert_non_null(startswith(m.items[i].text, "/x/offline.state: line "));
    }
    assert_string_equal(m.items[0].text,
                        "/x/offline.state: line 3: 3 fields instead of 4 (pfn action time "
                        "result), line skipped");
    assert_non_null(strstr(m.items[6].text, "line 9: action 'account'"));
    assert_non_null(strstr(m.items[10].text, "line 13: result 'verified"));
    assert_non_null(strstr(m.items[11].text, "line 14: more than 4 fields"));
    assert_non_null(strstr(m.items[12].text, "line 16: longer than"));
    assert_non_null(strstr(m.items[13].text, "line 17: "));
    assert_non_null(strstr(m.items[14].text, "line 18: page 0x10 again"));
    offline_state_done(&s);
    config_msgs_done(&m);
}

static void test_foreign_and_versions(void **state)
{
    struct fixture *f = *state;
    struct offline_state s;
    struct config_msgs m = {0};
    const char *refused[] = {
        "",
        "0x10 soft 100 verified\n",
        "mem_sentry-offline\n0x10 soft 100 verified\n",
        "mem_sentry-offline 1x\n",
        "mem_sentry-offline  1\n",
        "# oom_watch pstore state 1\n",
    };

    assert_int_equal(offline_state_init(&s, 16), 0);
    for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
        assert_int_equal(offline_state_set(&s, &e1), 0);
        assert_int_equal(offline_state_parse(&s, "st", refused[i], strlen(refused[i]), &m),
                         -EBADMSG);
        assert_int_equal(s.n, 0);
        assert_int_equal(m.n_errors, i + 1);
        assert_non_null(strstr(m.items[i].text, "st: line 1: "));
        assert_non_null(strstr(m.items[i].text, "the file is not used"));
    }
    config_msgs_done(&m);

    /* a newer sentry's file: refused with a clear word, not half read */
    const char v2[] = "mem_sentry-offline 2\n0x10 soft 100 verified\n";
    assert_int_equal(test_write_file(f->dir, "offline.state", v2), 0);
    assert_int_equal(offline_state_load(&s, f->path, &m), -EPROTONOSUPPORT);
    assert_int_equal(s.n, 0);
    assert_int_equal(m.n_errors, 1);
    assert_non_null(strstr(m.items[0].text, ": line 1: state file version 2, this mem_sentry "
                                            "reads only version 1: the file is not used"));
    config_msgs_done(&m);

    /* no one to tell: still refused, no crash */
    assert_int_equal(offline_state_parse(&s, "st", v2, strlen(v2), NULL), -EPROTONOSUPPORT);
    offline_state_done(&s);
}

static void test_bound(void **state)
{
    struct fixture *f = *state;
    struct offline_state s, t;
    struct config_msgs m = {0};
    struct offline_entry e = e1;

    assert_int_equal(offline_state_init(&s, 0), -EINVAL);
    assert_int_equal(offline_state_init(&s, OFFLINE_STATE_MAX_ENTRIES + 1), -EINVAL);
    assert_int_equal(offline_state_init(&s, 3), 0);
    for (uint64_t pfn = 1; pfn <= 3; pfn++) {
        e.pfn = pfn;
        assert_int_equal(offline_state_set(&s, &e), 0);
    }
    e.pfn = 4;
    assert_int_equal(offline_state_set(&s, &e), -E2BIG);
    /* full still takes updates of known pages */
    e.pfn = 2;
    e.result = PAGE_OFFLINE_REFUSED;
    assert_int_equal(offline_state_set(&s, &e), 0);
    assert_int_equal(offline_state_find(&s, 2)->result, PAGE_OFFLINE_REFUSED);
    assert_int_equal(s.n, 3);

    /* bad entries are refused */
    e.pfn = 1;
    e.action = MEM_ACTION_ACCOUNT;
    assert_int_equal(offline_state_set(&s, &e), -EINVAL);
    e.action = MEM_ACTION_SOFT;
    e.result = _PAGE_OFFLINE_RESULT_MAX;
    assert_int_equal(offline_state_set(&s, &e), -EINVAL);
    e.result = PAGE_OFFLINE_VERIFIED;
    e.time_s = -1;
    assert_int_equal(offline_state_set(&s, &e), -EINVAL);

    /* a file with more pages than the bound (the budget was lowered): the rest is skipped */
    const char text[] = "mem_sentry-offline 1\n0x1 soft 1 verified\n0x2 soft 1 verified\n"
                        "0x3 soft 1 verified\n0x4 soft 1 verified\n0x5 soft 1 verified\n";
    assert_int_equal(offline_state_parse(&s, "st", text, strlen(text), &m), 0);
    assert_int_equal(s.n, 3);
    assert_null(offline_state_find(&s, 4));
    assert_int_equal(m.n_items, 2);
    assert_string_equal(m.items[0].text, "st: line 5: more than 3 pages, line skipped");
    offline_state_done(&s);
    config_msgs_done(&m);

    /* a file far past what the bound allows is not read at all */
    char *big = malloc(8192);
    assert_non_null(big);
    memset(big, ' ', 8191);
    big[8191] = 0;
    memcpy(big, "mem_sentry-offline 1\n", 21);
    assert_int_equal(test_write_file(f->dir, "offline.state", big), 0);
    free(big);
    assert_int_equal(offline_state_init(&s, 3), 0);
    assert_int_equal(offline_state_load(&s, f->path, &m), -EFBIG);
    assert_int_equal(m.n_errors, 1);
    config_msgs_done(&m);

    /* many pages: the index keeps up and a round trip keeps every one */
    const size_t many = 200000;
    assert_int_equal(offline_state_init(&s, many), 0);
    assert_int_equal(offline_state_init(&t, many), 0);
    for (size_t i = 0; i < many; i++) {
        e = (struct offline_entry){i * 4097, MEM_ACTION_SOFT, (int64_t) i, PAGE_OFFLINE_VERIFIED};
        assert_int_equal(offline_state_set(&s, &e), 0);
    }
    e.pfn = 1;
    assert_int_equal(offline_state_set(&s, &e), -E2BIG);
    assert_int_equal(offline_state_save(&s, f->path), 0);
    assert_int_equal(offline_state_load(&t, f->path, &m), 0);
    assert_int_equal(m.n_items, 0);
    assert_int_equal(t.n, many);
    for (size_t i = 0; i < many; i += 997)
        assert_int_equal(offline_state_find(&t, i * 4097)->time_s, (int64_t) i);
    offline_state_done(&s);
    offline_state_done(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atomic_replace, setup, teardown),
        cmocka_unit_test(test_damaged_lines),
        cmocka_unit_test_setup_teardown(test_foreign_and_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bound, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
