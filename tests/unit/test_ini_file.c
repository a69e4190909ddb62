/* test_ini_file: lib/common's INI reader under configparser's rules: case, ':' delimiter,
 * stripping, whole-line comments, continuation lines, duplicate keys and sections, line numbers
 * in entries and messages, used/unknown tracking, and loading files: symlinks refused on
 * request, the size limit, overlong lines and NUL bytes. Files live in a fresh temporary
 * directory of the test's own. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "config_msg.h"
#include "config_read.h"
#include "ini_file.h"
#include "test_util.h"

static char dir[] = "/tmp/test_ini_file.XXXXXX";
static int dirfd_ = -EBADF;

/* Parses text as "t.ini" with flags; the messages stay in *m. */
static void parse_flags(struct ini_file *f, const char *text, unsigned flags, struct config_msgs *m)
{
    config_msgs_done(m);
    assert_int_equal(ini_file_parse_string(f, "t.ini", text, flags, m), 0);
}

static void parse(struct ini_file *f, const char *text, struct config_msgs *m)
{
    parse_flags(f, text, 0, m);
}

/* The only message of the list, which must hold exactly one. */
static const char *only_msg(const struct config_msgs *m)
{
    if (m->n_items != 1)
        fail_msg("want 1 message, got %zu (first: %s)", m->n_items,
                 m->n_items ? m->items[0].text : "");
    return m->items[0].text;
}

static void write_file(const char *name, const char *text, size_t len)
{
    _cleanup_close_ int fd = openat(dirfd_, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t) len);
}

static void test_rules(void **state)
{
    _cleanup_(ini_file_done) struct ini_file f = {};
    _cleanup_(config_msgs_done) struct config_msgs m = {};

    parse(&f,
          "# comment\n; another\n[Common]\nEnabled: yes\n  # indented comment\n"
          "task_pre =  a ; b  \nempty =\nx=y=z\n\n[other]\nk : v: w\n",
          &m);
    assert_int_equal(m.n_items, 0);
    assert_int_equal(f.n_entries, 5);
    /* keys in any case, spelled as written; sections exactly */
    assert_string_equal(ini_file_get(&f, "Common", "ENABLED"), "yes");
    assert_string_equal(f.entries[0].key, "Enabled");
    assert_null(ini_file_get(&f, "common", "enabled"));
    /* values stripped, no inline comments, the first delimiter splits */
    assert_string_equal(ini_file_get(&f, "Common", "task_pre"), "a ; b");
    assert_string_equal(ini_file_get(&f, "Common", "empty"), "");
    assert_string_equal(ini_file_get(&f, "Common", "x"), "y=z");
    assert_string_equal(ini_file_get(&f, "other", "k"), "v: w");
    assert_true(ini_file_has_section(&f, "other"));
    assert_false(ini_file_has_section(&f, "Other"));
    assert_null(ini_file_get(&f, "other", "missing"));

    /* CRLF files read the same. */
    parse(&f, "[s]\r\na = 1\r\n", &m);
    assert_int_equal(m.n_items, 0);
    assert_string_equal(ini_file_get(&f, "s", "a"), "1");
}

static void test_continuation(void **state)
{
    _cleanup_(ini_file_done) struct ini_file f = {};
    _cleanup_(config_msgs_done) struct config_msgs m = {};

    parse(&f, "[s]\na = 1\n  2\n# between\n\tthree = 3\nb = x\n", &m);
    assert_int_equal(m.n_items, 0);
    assert_int_equal(f.n_entries, 2);
    assert_string_equal(ini_file_get(&f, "s", "a"), "1\n2\nthree = 3");
    assert_int_equal(f.entries[0].line, 2);
    assert_string_equal(ini_file_get(&f, "s", "b"), "x");

    /* Indented right after a header, a line is a key. */
    parse(&f, "[s]\n  a = 1\n[t]\n  a = 2\n", &m);
    assert_int_equal(m.n_items, 0);
    assert_string_equal(ini_file_get(&f, "s", "a"), "1");
    assert_string_equal(ini_file_get(&f, "t", "a"), "2");

    /* What continues a refused duplicate is dropped with it. */
    parse(&f, "[s]\na = 1\na = 2\n  3\n", &m);
    assert_int_equal(m.n_errors, 1);
    assert_string_equal(ini_file_get(&f, "s", "a"), "1");
}

static void test_duplicates(void **state)
{
    _cleanup_(ini_file_done) struct ini_file f = {};
    _cleanup_(config_msgs_done) struct config_msgs m = {};

    parse(&f, "[common]\nenabled=yes\n\nEnabled = no\n", &m);
    assert_string_equal(only_msg(&m), "t.ini: line 4: duplicate key 'Enabled' in section [common] "
                                      "(first given on line 2)");
    assert_int_equal(m.n_errors, 1);
    assert_string_equal(ini_file_get(&f, "common", "enabled"), "yes");

    /* The same key in two sections is no duplicate. */
    parse(&f, "[a]\nk = 1\n[b]\nk = 2\n", &m);
    assert_int_equal(m.n_items, 0);

    parse(&f, "[a]\nk = 1\n[b]\nk = 2\n[a]\nj = 3\n[b]\nl = 4\n", &m);
    assert_int_equal(m.n_errors, 2);
    assert_string_equal(m.items[0].text, "t.ini: line 6: section [a] appears more than once");
    assert_string_equal(m.items[1].text, "t.ini: line 8: section [b] appears more than once");

    /* Read as one on request, with a warning; a key repeated across them is still an error. */
    parse_flags(&f, "[a]\nk = 1\n[b]\nk = 2\n[a]\nj = 3\nK = 4\n", INI_FILE_MERGE_SECTIONS, &m);
    assert_int_equal(m.n_items, 2);
    assert_int_equal(m.items[0].level, CONFIG_MSG_WARNING);
    assert_string_equal(m.items[0].text,
                        "t.ini: line 6: section [a] appears more than once, read as one");
    assert_string_equal(m.items[1].text, "t.ini: line 7: duplicate key 'K' in section [a] (first "
                                         "given on line 2)");
    assert_int_equal(m.n_errors, 1);
    assert_string_equal(ini_file_get(&f, "a", "j"), "3");
}

static void test_syntax_errors(void **state)
{
    _cleanup_(ini_file_done) struct ini_file f = {};
    _cleanup_(config_msgs_done) struct config_msgs m = {};

    parse(&f, "[s]\na = 1\nnot a key\nb = 2\n", &m);
    assert_string_equal(only_msg(&m),
                        "t.ini: line 3: 'not a key': neither a [section] header nor a key = "
                        "value line");
    /* the rest is still read, so that every error can be reported at once */
    assert_string_equal(ini_file_get(&f, "s", "b"), "2");

    parse(&f, "[s\n", &m);
    assert_string_equal(only_msg(&m), "t.ini: line 1: '[s': neither a [section] header nor a key "
                                      "= value line");

    parse(&f, "\n# c\nk = v\n[s]\n", &m);
    assert_string_equal(only_msg(&m), "t.ini: line 3: k = 'v': key outside any section");
    assert_int_equal(f.n_entries, 0);
}

static void test_used_tracking(void **state)
{
    _cleanup_(ini_file_done) struct ini_file f = {};
    _cleanup_(config_msgs_done) struct config_msgs m = {};
    struct config_reader rd = {.file = &f, .msgs = &m};
    unsigned u = 7;

    parse(&f, "[s]\nknown = 1\nunknown = 2\nnumber = x\n", &m);
    assert_true(ini_file_has_section(&f, "s"));
    for (size_t i = 0; i < f.n_entries; i++)
        assert_false(f.entries[i].used);
    assert_non_null(ini_file_find(&f, "s", "KNOWN"));
    assert_null(ini_file_find(&f, "s", "absent"));
    assert_int_equal(config_read_uint(&rd, "s", "absent", 0, 10, &u), CONFIG_READ_ABSENT);
    assert_int_equal(config_read_uint(&rd, "s", "number", 0, 10, &u), -EINVAL);
    assert_int_equal(u, 7);
    assert_string_equal(only_msg(&m), "t.ini: [s] number = 'x': must be an integer in 0..10");
    assert_true(f.entries[0].used);
    assert_false(f.entries[1].used); /* nobody asked: the caller can call it unknown */
    assert_true(f.entries[2].used);
}

static void test_load(void **state)
{
    _cleanup_(ini_file_done) struct ini_file f = {};
    _cleanup_(config_msgs_done) struct config_msgs m = {};
    char path[300];

    write_file("a.ini", "[s]\nk = v\n", 10);
    assert_int_equal(symlinkat("a.ini", dirfd_, "link.ini"), 0);

    assert_int_equal(
        ini_file_load(&f, dirfd_, "a.ini", "dir/a.ini", INI_FILE_NOFOLLOW, INI_FILE_SIZE_MAX, &m),
        0);
    assert_int_equal(m.n_items, 0);
    assert_string_equal(f.path, "dir/a.ini");
    assert_string_equal(ini_file_get(&f, "s", "k"), "v");

    /* A symlink is followed unless refused. */
    assert_int_equal(ini_file_load(&f, dirfd_, "link.ini", NULL, 0, INI_FILE_SIZE_MAX, &m), 0);
    assert_string_equal(ini_file_get(&f, "s", "k"), "v");
    assert_int_equal(
        ini_file_load(&f, dirfd_, "link.ini", NULL, INI_FILE_NOFOLLOW, INI_FILE_SIZE_MAX, &m),
        -ELOOP);
    assert_string_equal(only_msg(&m), "link.ini: is a symlink, refused");
    assert_int_equal(f.n_entries, 0);
    config_msgs_done(&m);

    /* Absolute paths with AT_FDCWD. */
    snprintf(path, sizeof(path), "%s/a.ini", dir);
    assert_int_equal(ini_file_load(&f, AT_FDCWD, path, NULL, 0, INI_FILE_SIZE_MAX, &m), 0);
    assert_string_equal(f.path, path);

    snprintf(path, sizeof(path), "%s/absent.ini", dir);
    assert_int_equal(ini_file_load(&f, AT_FDCWD, path, NULL, 0, INI_FILE_SIZE_MAX, &m), -ENOENT);
    assert_true(startswith(only_msg(&m), path));
    assert_non_null(strstr(only_msg(&m), ": cannot open: "));
    config_msgs_done(&m);

    assert_int_equal(ini_file_load(&f, AT_FDCWD, dir, "d", 0, INI_FILE_SIZE_MAX, &m), -EISDIR);
    assert_string_equal(only_msg(&m), "d: not a regular file");
    config_msgs_done(&m);
}

static void test_limits(void **state)
{
    _cleanup_(ini_file_done) struct ini_file f = {};
    _cleanup_(config_msgs_done) struct config_msgs m = {};
    _cleanup_free_ char *big = NULL;
    size_t n = INI_FILE_LINE_MAX + 64;

    /* The size limit: exactly max is read, one byte more is refused. */
    write_file("size.ini", "[s]\nk = v\n", 10);
    assert_int_equal(ini_file_load(&f, dirfd_, "size.ini", NULL, 0, 10, &m), 0);
    assert_int_equal(ini_file_load(&f, dirfd_, "size.ini", NULL, 0, 9, &m), -EFBIG);
    assert_string_equal(only_msg(&m), "size.ini: larger than 9 bytes");
    config_msgs_done(&m);

    /* A line longer than INI_FILE_LINE_MAX stops the parse (inih would cut it in two). */
    big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'x', n);
    memcpy(big, "[s]\na = 1\nb = ", 14);
    memcpy(big + n - 12, "\nc=2\n  d = 3", 12);
    big[n] = 0;
    parse(&f, big, &m);
    assert_string_equal(only_msg(&m), "t.ini: line 3: longer than 65536 bytes, the rest is not "
                                      "read");
    assert_string_equal(ini_file_get(&f, "s", "a"), "1");
    assert_null(ini_file_get(&f, "s", "b"));
    assert_null(ini_file_get(&f, "s", "c"));

    /* Exactly INI_FILE_LINE_MAX is fine. */
    memset(big, 'y', n);
    memcpy(big, "[s]\nb = ", 8);
    big[4 + INI_FILE_LINE_MAX] = '\n';
    big[5 + INI_FILE_LINE_MAX] = 0;
    parse(&f, big, &m);
    assert_int_equal(m.n_items, 0);
    assert_int_equal(strlen(ini_file_get(&f, "s", "b")), INI_FILE_LINE_MAX - 4);

    /* Names inih would cut short are refused, and so is what continues them. */
    parse(&f,
          "[s]\nk0123456789012345678901234567890123456789012345678 = 1\n  2\n"
          "[s0123456789012345678901234567890123456789012345678]\nk = 1\n",
          &m);
    assert_int_equal(m.n_errors, 2);
    assert_string_equal(m.items[0].text, "t.ini: line 2: key "
                                         "'k012345678901234567890123456789012345678901234567...': "
                                         "name longer than 48 bytes");
    assert_string_equal(m.items[1].text,
                        "t.ini: line 5: section "
                        "[s012345678901234567890123456789012345678901234567...]: name longer than "
                        "48 bytes");
    assert_int_equal(f.n_entries, 1);
    /* 48 bytes are fine. */
    parse(&f,
          "[s01234567890123456789012345678901234567890123456]"
          "\nk01234567890123456789012345678901234567890123456 = 1\n",
          &m);
    assert_int_equal(m.n_items, 0);
    assert_non_null(ini_file_get(&f, "s01234567890123456789012345678901234567890123456",
                                 "k01234567890123456789012345678901234567890123456"));

    /* A NUL byte ends what is read and is an error. */
    static const char nul[] = "[s]\na = 1\nb = x\0y\nc = 3\n";
    write_file("nul.ini", nul, sizeof(nul) - 1);
    config_msgs_done(&m);
    assert_int_equal(ini_file_load(&f, dirfd_, "nul.ini", NULL, 0, INI_FILE_SIZE_MAX, &m), 0);
    assert_string_equal(only_msg(&m), "nul.ini: line 3: NUL byte, the rest is not read");
    assert_string_equal(ini_file_get(&f, "s", "b"), "x");
    assert_null(ini_file_get(&f, "s", "c"));
}

static void test_messages(void **state)
{
    _cleanup_(config_msgs_done) struct config_msgs m = {};
    _cleanup_free_ char *joined = NULL;
    char buf[16];

    assert_int_equal(
        config_msgs_add_key(&m, CONFIG_MSG_WARNING, "f", "s", "k", "a\nb'", "bad %d", 1), 0);
    assert_int_equal(config_msgs_add(&m, CONFIG_MSG_ERROR, "e1"), 0);
    assert_int_equal(config_msgs_add(&m, CONFIG_MSG_ERROR, "e2"), 0);
    assert_string_equal(m.items[0].text, "f: [s] k = 'a\\nb\\'': bad 1");
    assert_int_equal(m.n_errors, 2);
    joined = config_msgs_join(&m, CONFIG_MSG_ERROR, "; ");
    assert_string_equal(joined, "e1; e2");
    config_value_escape("0123456789abcdef", buf, sizeof(buf));
    assert_string_equal(buf, "0123456789ab..."); /* fills the buffer */
    assert_string_equal(config_msg_level_to_string(CONFIG_MSG_WARNING), "warning");
    assert_int_equal(config_msg_level_from_string("error"), CONFIG_MSG_ERROR);
    assert_int_equal(config_msg_level_from_string("x"), _CONFIG_MSG_LEVEL_INVALID);
}

static int setup(void **state)
{
    if (!mkdtemp(dir))
        return -1;
    dirfd_ = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return dirfd_ < 0;
}

static int teardown(void **state)
{
    close(dirfd_);
    return test_rm_rf(dir) != 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),         cmocka_unit_test(test_continuation),
        cmocka_unit_test(test_duplicates),    cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_used_tracking), cmocka_unit_test(test_load),
        cmocka_unit_test(test_limits),        cmocka_unit_test(test_messages),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
