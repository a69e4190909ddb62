/* test_avg_config: avg_block_io.ini: defaults, the shipped file, every bad value of every key
 * (each error naming file, section, key and value), per-stage overrides read from their own
 * section, the configparser rules (case, stripping, ':' delimiter, no inline comments,
 * continuation lines, duplicates) and warnings for what is unknown. Files are written into a
 * fresh temporary directory by the test itself. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <syslog.h>
#include <unistd.h>

#include "avg_config.h"
#include "strv.h"

struct fixture {
    char dir[256];
    char path[300];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    const char *tmp = getenv("TMPDIR");

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "%s/test_avg_config.XXXXXX", isempty(tmp) ? "/tmp" : tmp);
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/avg_block_io.ini", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    (void) unlink(f->path);
    assert_int_equal(rmdir(f->dir), 0);
    free(f);
    return 0;
}

static void write_text(const struct fixture *f, const char *text)
{
    FILE *file = fopen(f->path, "we");

    assert_non_null(file);
    assert_int_equal(fputs(text, file) >= 0, 1);
    assert_int_equal(fclose(file), 0);
}

static int load(const struct fixture *f, const char *text, struct avg_config *c,
                struct config_msgs *m)
{
    write_text(f, text);
    return avg_config_load(f->path, c, m);
}

/* The text of the first message of a level containing needle, or NULL. */
static const char *find_msg(const struct config_msgs *m, enum config_msg_level level,
                            const char *needle)
{
    for (size_t i = 0; i < m->n_items; i++)
        if (m->items[i].level == level && strstr(m->items[i].text, needle))
            return m->items[i].text;
    return NULL;
}

static void assert_default_limits(const struct avg_config *c)
{
    static const struct {
        enum disk_type t;
        unsigned avg_lim, avg_time, tot_lim;
    } want[] = {
        {DISK_NVME_SSD, 10000, 3, 50000},
        {DISK_SATA_SSD, 10000, 3, 50000},
        {DISK_SATA_HDD, 15000, 3, 50000},
        {DISK_VIRTUAL, 20000, 3, 100000},
    };

    for (size_t i = 0; i < ELEMENTSOF(want); i++)
        for (int io = 0; io < SLOWIO_IOTYPES; io++)
            for (int s = 0; s < _IO_STAGE_MAX; s++) {
                const struct slowio_limits *l =
                    avg_config_limits(c, io_stage_to_string(s), want[i].t, io);
                assert_non_null(l);
                assert_int_equal(l->avg_lim, want[i].avg_lim);
                assert_int_equal(l->avg_time, want[i].avg_time);
                assert_int_equal(l->tot_lim, want[i].tot_lim);
                assert_int_equal(l->iodump_lim, 0);
            }
}

static void assert_defaults(const struct avg_config *c)
{
    struct avg_params p;

    assert_int_equal(c->common.log_level, LOG_INFO);
    assert_null(c->common.disks);
    assert_null(c->common.stages);
    assert_true(c->common.iotypes[IO_OP_READ] && c->common.iotypes[IO_OP_WRITE]);
    assert_int_equal(c->common.period_time, 1);
    avg_config_params(c, &p);
    assert_int_equal(p.win_size, 30);
    assert_int_equal(p.win_threshold_latency, 6);
    assert_int_equal(p.win_threshold_iodump, 3);
    assert_default_limits(c);
}

static void test_defaults(void **state)
{
    struct fixture *f = *state;
    struct avg_config c = {};
    struct config_msgs m = {};

    assert_int_equal(load(f, "", &c, &m), 0);
    assert_int_equal(m.n_items, 0);
    assert_defaults(&c);
    avg_config_done(&c);

    /* Empty sections and comments change nothing. */
    assert_int_equal(load(f,
                          "# comment\n; another\n[common]\n[algorithm]\n\n[latency_virtual]\n"
                          "[iodump]\n",
                          &c, &m),
                     0);
    assert_int_equal(m.n_items, 0);
    assert_defaults(&c);
    avg_config_done(&c);
    config_msgs_done(&m);
}

static void test_shipped_file(void **state)
{
    struct avg_config c = {};
    struct config_msgs m = {};

    assert_int_equal(avg_config_load(SENTRY_SOURCE_DIR "/config/plugins/avg_block_io.ini", &c, &m),
                     0);
    for (size_t i = 0; i < m.n_items; i++)
        print_message("unexpected: %s\n", m.items[i].text);
    assert_int_equal(m.n_items, 0);
    /* The shipped file spells out the defaults. */
    assert_defaults(&c);
    avg_config_done(&c);
    config_msgs_done(&m);
}

static void test_values(void **state)
{
    struct fixture *f = *state;
    struct avg_config c = {};
    struct config_msgs m = {};
    const struct slowio_limits *l;

    assert_int_equal(load(f,
                          "[log]\nlevel = debug\n"
                          "[common]\ndisk = sda, nvme0n1 ,vdb\nstage = BIO, Throtl\n"
                          "iotype = write\nperiod_time = 300\n"
                          "[algorithm]\nwin_size = 10\nwin_threshold_latency = 10\n"
                          "win_threshold_iodump = 1\n"
                          "[latency_sata_hdd]\nread_avg_lim = 0\nwrite_avg_time = 5\n"
                          "[iodump]\nread_iodump_lim = 7\n",
                          &c, &m),
                     0);
    assert_int_equal(m.n_items, 0);
    assert_int_equal(c.common.log_level, LOG_DEBUG);
    assert_int_equal(strv_length(c.common.disks), 3);
    assert_string_equal(c.common.disks[1], "nvme0n1");
    assert_int_equal(strv_length(c.common.stages), 2);
    assert_string_equal(c.common.stages[0], "bio");
    assert_string_equal(c.common.stages[1], "throtl");
    assert_false(c.common.iotypes[IO_OP_READ]);
    assert_true(c.common.iotypes[IO_OP_WRITE]);
    assert_int_equal(c.common.period_time, 300);
    assert_int_equal(c.windows.win_size, 10);
    assert_int_equal(c.windows.win_threshold_latency, 10);
    assert_int_equal(c.windows.win_threshold_iodump, 1);
    l = avg_config_limits(&c, "bio", DISK_SATA_HDD, IO_OP_READ);
    assert_int_equal(l->avg_lim, 0); /* 0 turns the latency window off */
    assert_int_equal(l->iodump_lim, 7);
    l = avg_config_limits(&c, "bio", DISK_SATA_HDD, IO_OP_WRITE);
    assert_int_equal(l->avg_time, 5);
    assert_int_equal(l->iodump_lim, 0);
    l = avg_config_limits(&c, "bio", DISK_NVME_SSD, IO_OP_READ);
    assert_int_equal(l->iodump_lim, 7); /* [iodump] holds for every disk type */
    avg_config_done(&c);
    config_msgs_done(&m);
}

static void test_bad_values(void **state)
{
    static const struct {
        const char *section, *key, *value, *what;
    } cases[] = {
        {"log", "level", "loud", "must be one of debug, info, warning, error, critical"},
        {"common", "disk", "sda,,sdb", "must be 'default' or a comma-separated list of disk names"},
        {"common", "disk", "", "must be 'default' or a comma-separated list of disk names"},
        {"common", "disk", "sda,sd/b",
         "'sd/b' is not a disk name (letters, digits, '-' and '_', at most 32)"},
        {"common", "disk", "a,b,c,d,e,f,g,h,i,j,k", "lists 11 disks, at most 10 are supported"},
        {"common", "stage", "bio,foo",
         "unknown stage 'foo' (known: throtl, wbt, iocost, bfq, gettag, plug, deadline, hctx, "
         "requeue, rq_driver, bio, kyber)"},
        {"common", "stage", "throtl,wbt", "Cannot run avg_block_io without bio stage"},
        {"common", "stage", "bio,", "must be 'default' or a comma-separated list of stages"},
        {"common", "iotype", "read,flush", "unknown io type 'flush' (known: read, write)"},
        {"common", "iotype", "", "must be 'default' or a comma-separated list of read, write"},
        {"common", "period_time", "0", "must be an integer in 1..300"},
        {"common", "period_time", "301", "must be an integer in 1..300"},
        {"common", "period_time", "1.5", "must be an integer in 1..300"},
        {"common", "period_time", "-1", "must be an integer in 1..300"},
        {"common", "period_time", "", "must be an integer in 1..300"},
        {"algorithm", "win_size", "abc", "must be an integer in 1..300"},
        {"algorithm", "win_size", "0", "must be an integer in 1..300"},
        {"algorithm", "win_size", "301", "must be an integer in 1..300"},
        {"algorithm", "win_threshold_latency", "0", "must be an integer in 1..300"},
        {"algorithm", "win_threshold_latency", "31", "must not be larger than win_size (30)"},
        {"algorithm", "win_threshold_iodump", "x", "must be an integer in 1..300"},
        {"algorithm", "win_threshold_iodump", "301", "must be an integer in 1..300"},
        {"latency_nvme_ssd", "read_avg_lim", "-1", "must be an integer in 0..2147483647"},
        {"latency_nvme_ssd", "write_avg_time", "+3", "must be an integer in 0..2147483647"},
        {"latency_sata_ssd", "write_tot_lim", "1e3", "must be an integer in 0..2147483647"},
        {"latency_sata_hdd", "read_avg_time", "abc", "must be an integer in 0..2147483647"},
        {"latency_virtual", "write_avg_lim", "2147483648", "must be an integer in 0..2147483647"},
        {"iodump", "read_iodump_lim", "x", "must be an integer in 0..2147483647"},
        {"iodump", "write_iodump_lim", "-2", "must be an integer in 0..2147483647"},
        {"bio_nvme_ssd", "read_tot_lim", "abc", "must be an integer in 0..2147483647"},
        {"rq_driver_virtual", "write_iodump_lim", "1.0", "must be an integer in 0..2147483647"},
    };
    struct fixture *f = *state;

    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        _cleanup_free_ char *text = NULL, *want = NULL;
        struct avg_config c = {};
        struct config_msgs m = {};

        assert_true(
            asprintf(&text, "[%s]\n%s = %s\n", cases[i].section, cases[i].key, cases[i].value) > 0);
        assert_true(asprintf(&want, "%s: [%s] %s = '%s': %s", f->path, cases[i].section,
                             cases[i].key, cases[i].value, cases[i].what) > 0);
        assert_int_equal(load(f, text, &c, &m), -EINVAL);
        if (m.n_errors != 1 || !streq(m.items[0].text, want))
            fail_msg("case %zu: want \"%s\", got %zu errors, first \"%s\"", i, want, m.n_errors,
                     m.n_items ? m.items[0].text : "");
        config_msgs_done(&m);
    }
}

static void test_documented_example(void **state)
{
    struct fixture *f = *state;
    struct avg_config c = {};
    struct config_msgs m = {};
    _cleanup_free_ char *joined = NULL;

    assert_int_equal(load(f, "[algorithm]\nwin_size = abc\n", &c, &m), -EINVAL);
    assert_int_equal(m.n_errors, 1);
    assert_true(endswith(m.items[0].text,
                         "avg_block_io.ini: [algorithm] win_size = 'abc': must be an integer in "
                         "1..300"));
    joined = config_msgs_join(&m, CONFIG_MSG_ERROR, "; ");
    assert_string_equal(joined, m.items[0].text);
    config_msgs_done(&m);
}

static void test_all_errors_reported(void **state)
{
    struct fixture *f = *state;
    struct avg_config c = {};
    struct config_msgs m = {};

    assert_int_equal(load(f,
                          "[common]\nperiod_time = 0\nstage = wbt\n[algorithm]\nwin_size = x\n"
                          "[iodump]\nread_iodump_lim = y\nfoo = bar\n",
                          &c, &m),
                     -EINVAL);
    assert_int_equal(m.n_errors, 4);
    assert_non_null(find_msg(&m, CONFIG_MSG_ERROR, "[common] period_time = '0'"));
    assert_non_null(find_msg(&m, CONFIG_MSG_ERROR, "[common] stage = 'wbt': Cannot run"));
    assert_non_null(find_msg(&m, CONFIG_MSG_ERROR, "[algorithm] win_size = 'x'"));
    assert_non_null(find_msg(&m, CONFIG_MSG_ERROR, "[iodump] read_iodump_lim = 'y'"));
    assert_non_null(find_msg(&m, CONFIG_MSG_WARNING, "[iodump] foo = 'bar': unknown key"));
    config_msgs_done(&m);
}

static void test_stage_override(void **state)
{
    struct fixture *f = *state;
    struct avg_config c = {};
    struct config_msgs m = {};
    const struct slowio_limits *l;

    assert_int_equal(load(f,
                          "[latency_nvme_ssd]\nread_tot_lim = 5000\n"
                          "[bio_nvme_ssd]\nread_tot_lim = 1234\nwrite_iodump_lim = 9\n"
                          "read_avg_time = 7\n"
                          "[bio]\nread_tot_lim = 999\n",
                          &c, &m),
                     0);
    /* [bio] is where the reference wrongly looked; here it is just an unknown section. */
    assert_int_equal(m.n_errors, 0);
    assert_int_equal(m.n_items, 1);
    assert_non_null(find_msg(&m, CONFIG_MSG_WARNING, "unknown section [bio], ignored"));

    l = avg_config_limits(&c, "bio", DISK_NVME_SSD, IO_OP_READ);
    assert_int_equal(l->tot_lim, 1234);
    assert_int_equal(l->avg_time, 7);
    assert_int_equal(l->avg_lim, 10000);
    assert_int_equal(l->iodump_lim, 0);
    l = avg_config_limits(&c, "bio", DISK_NVME_SSD, IO_OP_WRITE);
    assert_int_equal(l->tot_lim, 50000);
    assert_int_equal(l->iodump_lim, 9);
    l = avg_config_limits(&c, "rq_driver", DISK_NVME_SSD, IO_OP_READ);
    assert_int_equal(l->tot_lim, 5000);
    l = avg_config_limits(&c, "bio", DISK_SATA_SSD, IO_OP_READ);
    assert_int_equal(l->tot_lim, 50000);
    /* A stage name the table does not know gets the disk type's limits. */
    l = avg_config_limits(&c, "new_stage", DISK_NVME_SSD, IO_OP_READ);
    assert_int_equal(l->tot_lim, 5000);
    assert_null(avg_config_limits(&c, "bio", _DISK_TYPE_MAX, IO_OP_READ));
    avg_config_done(&c);
    config_msgs_done(&m);
}

static void test_configparser_rules(void **state)
{
    struct fixture *f = *state;
    struct avg_config c = {};
    struct config_msgs m = {};

    /* Keys in any case, ':' as delimiter, values stripped, level in any case. */
    assert_int_equal(load(f,
                          "[algorithm]\nWIN_Size:   12   \nWin_Threshold_Latency=2\n"
                          "[log]\nlevel = CRITICAL\n",
                          &c, &m),
                     0);
    assert_int_equal(m.n_items, 0);
    assert_int_equal(c.windows.win_size, 12);
    assert_int_equal(c.windows.win_threshold_latency, 2);
    assert_int_equal(c.common.log_level, LOG_CRIT);
    avg_config_done(&c);

    /* No inline comments: the comment is part of the value. */
    assert_int_equal(load(f, "[algorithm]\nwin_size = 10 ; ten\n", &c, &m), -EINVAL);
    assert_non_null(find_msg(&m, CONFIG_MSG_ERROR, "win_size = '10 ; ten'"));
    config_msgs_done(&m);

    /* An indented line continues the value, as in configparser. */
    assert_int_equal(load(f, "[algorithm]\nwin_size = 10\n  20\n", &c, &m), -EINVAL);
    assert_non_null(find_msg(&m, CONFIG_MSG_ERROR, "win_size = '10\\n20'"));
    config_msgs_done(&m);
}

static void test_syntax_errors(void **state)
{
    struct fixture *f = *state;
    struct avg_config c = {};
    struct config_msgs m = {};
    _cleanup_free_ char *want = NULL;

    assert_int_equal(load(f, "[common]\nthis is not a key\n", &c, &m), -EINVAL);
    assert_true(asprintf(&want,
                         "%s: line 2: 'this is not a key': neither a [section] header nor a key = "
                         "value line",
                         f->path) > 0);
    assert_int_equal(m.n_errors, 1);
    assert_string_equal(m.items[0].text, want);
    config_msgs_done(&m);

    assert_int_equal(load(f, "[common\nperiod_time = 2\n", &c, &m), -EINVAL);
    assert_non_null(find_msg(&m, CONFIG_MSG_ERROR, "line 1: '[common'"));
    config_msgs_done(&m);

    assert_int_equal(load(f, "period_time = 2\n[common]\n", &c, &m), -EINVAL);
    assert_non_null(
        find_msg(&m, CONFIG_MSG_ERROR, "line 1: period_time = '2': key outside any section"));
    config_msgs_done(&m);

    assert_int_equal(load(f, "[common]\nperiod_time = 2\nPeriod_Time = 3\n", &c, &m), -EINVAL);
    /* The one duplicate message of lib/common's reader (task files pin "duplicate key 'x'"). */
    assert_non_null(find_msg(&m, CONFIG_MSG_ERROR,
                             "line 3: duplicate key 'Period_Time' in section [common] (first "
                             "given on line 2)"));
    config_msgs_done(&m);

    assert_int_equal(
        load(f, "[common]\nperiod_time = 2\n[algorithm]\nwin_size = 5\n[common]\niotype = read\n",
             &c, &m),
        -EINVAL);
    assert_non_null(
        find_msg(&m, CONFIG_MSG_ERROR, "line 6: section [common] appears more than once"));
    config_msgs_done(&m);
}

static void test_missing_file(void **state)
{
    struct fixture *f = *state;
    struct avg_config c = {};
    struct config_msgs m = {};

    (void) unlink(f->path);
    assert_int_equal(avg_config_load(f->path, &c, &m), -ENOENT);
    assert_int_equal(m.n_errors, 1);
    assert_true(startswith(m.items[0].text, f->path));
    assert_non_null(strstr(m.items[0].text, "cannot open"));
    config_msgs_done(&m);
}

static void test_warnings(void **state)
{
    struct fixture *f = *state;
    struct avg_config c = {};
    struct config_msgs m = {};
    _cleanup_free_ char *joined = NULL;

    assert_int_equal(load(f,
                          "[common]\nFoo = bar\ndisk = sda,sdb,sda\niotype = read,read\n"
                          "[algorithm]\nwin_threshold = 6\n[mystery]\na = 1\nb = 2\n"
                          "[latency_nvme]\nread_avg_lim = 1\n",
                          &c, &m),
                     0);
    assert_int_equal(m.n_errors, 0);
    assert_int_equal(m.n_items, 6);
    assert_non_null(find_msg(&m, CONFIG_MSG_WARNING, "[common] Foo = 'bar': unknown key, ignored"));
    assert_non_null(find_msg(&m, CONFIG_MSG_WARNING, "disk 'sda' is listed more than once"));
    assert_non_null(find_msg(&m, CONFIG_MSG_WARNING, "io type 'read' is listed more than once"));
    assert_non_null(find_msg(&m, CONFIG_MSG_WARNING, "[algorithm] win_threshold = '6': unknown"));
    assert_non_null(find_msg(&m, CONFIG_MSG_WARNING, "line 8: unknown section [mystery]"));
    assert_non_null(find_msg(&m, CONFIG_MSG_WARNING, "unknown section [latency_nvme]"));
    assert_int_equal(strv_length(c.common.disks), 2);
    joined = config_msgs_join(&m, CONFIG_MSG_ERROR, "; ");
    assert_string_equal(joined, "");
    avg_config_done(&c);
    config_msgs_done(&m);
}

static void test_small_window_default_threshold(void **state)
{
    struct fixture *f = *state;
    struct avg_config c = {};
    struct config_msgs m = {};

    assert_int_equal(load(f, "[algorithm]\nwin_size = 4\n", &c, &m), 0);
    assert_int_equal(c.windows.win_threshold_latency, 4);
    assert_int_equal(c.windows.win_threshold_iodump, 3);
    assert_int_equal(m.n_items, 1);
    assert_non_null(find_msg(&m, CONFIG_MSG_WARNING,
                             "[algorithm] win_threshold_latency not set: its default 6 is larger "
                             "than win_size 4, using 4"));
    avg_config_done(&c);
    config_msgs_done(&m);

    /* Set explicitly, the same value is refused. */
    assert_int_equal(load(f, "[algorithm]\nwin_size = 4\nwin_threshold_latency = 6\n", &c, &m),
                     -EINVAL);
    assert_non_null(find_msg(&m, CONFIG_MSG_ERROR, "must not be larger than win_size (4)"));
    config_msgs_done(&m);
}

static void test_lists_default(void **state)
{
    struct fixture *f = *state;
    struct avg_config c = {};
    struct config_msgs m = {};

    assert_int_equal(
        load(f, "[common]\ndisk = Default\nstage = DEFAULT\niotype = default\n", &c, &m), 0);
    assert_int_equal(m.n_items, 0);
    assert_null(c.common.disks);
    assert_null(c.common.stages);
    assert_true(c.common.iotypes[IO_OP_READ] && c.common.iotypes[IO_OP_WRITE]);
    avg_config_done(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test(test_shipped_file),
        cmocka_unit_test_setup_teardown(test_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_documented_example, setup, teardown),
        cmocka_unit_test_setup_teardown(test_all_errors_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stage_override, setup, teardown),
        cmocka_unit_test_setup_teardown(test_configparser_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syntax_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_warnings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_small_window_default_threshold, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lists_default, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
