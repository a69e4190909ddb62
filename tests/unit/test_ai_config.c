/* test_ai_config: ai_block_io.ini: defaults, the shipped file, every bad value of every key
 * (each error naming file, section, key and value), avg_lim below tot_lim, n_sigma_parameter
 * actually used, training queue sizes, per-stage overrides and warnings. Files are written into
 * a fresh temporary directory by the test itself. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <syslog.h>
#include <unistd.h>

#include "ai_config.h"
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
    snprintf(f->dir, sizeof(f->dir), "%s/test_ai_config.XXXXXX", isempty(tmp) ? "/tmp" : tmp);
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/ai_block_io.ini", f->dir);
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

static int load(const struct fixture *f, const char *text, struct ai_config *c,
                struct config_msgs *m)
{
    FILE *file = fopen(f->path, "we");

    assert_non_null(file);
    assert_true(fputs(text, file) >= 0);
    assert_int_equal(fclose(file), 0);
    return ai_config_load(f->path, c, m);
}

static const char *find_msg(const struct config_msgs *m, enum config_msg_level level,
                            const char *needle)
{
    for (size_t i = 0; i < m->n_items; i++)
        if (m->items[i].level == level && strstr(m->items[i].text, needle))
            return m->items[i].text;
    return NULL;
}

static void assert_defaults(const struct ai_config *c)
{
    static const struct {
        enum disk_type t;
        unsigned avg_lim, tot_lim;
    } want[] = {
        {DISK_NVME_SSD, 10000, 50000},
        {DISK_SATA_SSD, 10000, 50000},
        {DISK_SATA_HDD, 15000, 50000},
        {DISK_VIRTUAL, 20000, 100000},
    };
    struct ai_params p;

    assert_int_equal(c->common.log_level, LOG_INFO);
    assert_null(c->common.disks);
    assert_null(c->common.stages);
    assert_true(c->common.iotypes[IO_OP_READ] && c->common.iotypes[IO_OP_WRITE]);
    assert_int_equal(c->common.period_time, 1);
    assert_true(c->train_data_duration == 24);
    assert_true(c->train_update_duration == 2);
    assert_int_equal(c->algorithm_type, THRESHOLD_BOXPLOT);
    assert_true(c->boxplot_parameter == 1.5);
    assert_true(c->n_sigma_parameter == 3);
    assert_int_equal(c->win_type, WINDOW_NOT_CONTINUOUS);

    ai_config_params(c, &p);
    assert_int_equal(p.algorithm, THRESHOLD_BOXPLOT);
    assert_true(p.parameter == 1.5);
    assert_int_equal(p.train_size, 86400);
    assert_int_equal(p.update_size, 7200);
    assert_int_equal(p.win_type, WINDOW_NOT_CONTINUOUS);
    assert_int_equal(p.win_size, 30);
    assert_int_equal(p.win_threshold_latency, 6);
    assert_int_equal(p.win_threshold_iodump, 3);

    for (size_t i = 0; i < ELEMENTSOF(want); i++)
        for (int io = 0; io < SLOWIO_IOTYPES; io++) {
            const struct slowio_limits *l = ai_config_limits(c, "bio", want[i].t, io);
            assert_int_equal(l->avg_lim, want[i].avg_lim);
            assert_int_equal(l->avg_time, 0);
            assert_int_equal(l->tot_lim, want[i].tot_lim);
            assert_int_equal(l->iodump_lim, 0);
        }
}

static void test_defaults(void **state)
{
    struct fixture *f = *state;
    struct ai_config c = {};
    struct config_msgs m = {};

    assert_int_equal(load(f, "", &c, &m), 0);
    assert_int_equal(m.n_items, 0);
    assert_defaults(&c);
    ai_config_done(&c);
}

static void test_shipped_file(void **state)
{
    struct ai_config c = {};
    struct config_msgs m = {};

    assert_int_equal(ai_config_load(SENTRY_SOURCE_DIR "/config/plugins/ai_block_io.ini", &c, &m),
                     0);
    for (size_t i = 0; i < m.n_items; i++)
        print_message("unexpected: %s\n", m.items[i].text);
    assert_int_equal(m.n_items, 0);
    assert_defaults(&c);
    ai_config_done(&c);
    config_msgs_done(&m);
}

static void test_values(void **state)
{
    struct fixture *f = *state;
    struct ai_config c = {};
    struct config_msgs m = {};
    struct ai_params p;

    assert_int_equal(load(f,
                          "[common]\nperiod_time = 10\nstage = bio,rq_driver\niotype = read\n"
                          "disk = vda\n"
                          "[algorithm]\ntrain_data_duration = 12.5\ntrain_update_duration = 0.5\n"
                          "algorithm_type = N_Sigma\nn_sigma_parameter = 2.5\n"
                          "boxplot_parameter = 10\nwin_type = median\nwin_size = 20\n"
                          "win_threshold_latency = 20\nwin_threshold_iodump = 1\n"
                          "[latency_virtual]\nread_avg_lim = 1\nread_tot_lim = 2\n"
                          "[iodump]\nwrite_iodump_lim = 5\n",
                          &c, &m),
                     0);
    assert_int_equal(m.n_items, 0);
    assert_int_equal(c.common.period_time, 10);
    assert_string_equal(c.common.disks[0], "vda");
    assert_int_equal(strv_length(c.common.stages), 2);
    assert_false(c.common.iotypes[IO_OP_WRITE]);

    /* n_sigma_parameter is the one used when the algorithm is n_sigma. */
    ai_config_params(&c, &p);
    assert_int_equal(p.algorithm, THRESHOLD_N_SIGMA);
    assert_true(p.parameter == 2.5);
    assert_true(c.boxplot_parameter == 10);
    assert_int_equal(p.train_size, 4500); /* 12.5 h · 3600 / 10 s */
    assert_int_equal(p.update_size, 180);
    assert_int_equal(p.win_type, WINDOW_MEDIAN);
    assert_int_equal(p.win_size, 20);
    assert_int_equal(p.win_threshold_latency, 20);
    assert_int_equal(p.win_threshold_iodump, 1);
    assert_int_equal(ai_config_limits(&c, "bio", DISK_VIRTUAL, IO_OP_READ)->tot_lim, 2);
    assert_int_equal(ai_config_limits(&c, "bio", DISK_VIRTUAL, IO_OP_WRITE)->iodump_lim, 5);
    ai_config_done(&c);
}

static void test_n_sigma_parameter_used(void **state)
{
    struct fixture *f = *state;
    struct ai_config c = {};
    struct config_msgs m = {};
    struct ai_params p;

    assert_int_equal(
        load(f, "[algorithm]\nalgorithm_type = n_sigma\nn_sigma_parameter = 7\n", &c, &m), 0);
    ai_config_params(&c, &p);
    assert_true(p.parameter == 7);
    ai_config_done(&c);

    assert_int_equal(load(f, "[algorithm]\nalgorithm_type = n_sigma\n", &c, &m), 0);
    ai_config_params(&c, &p);
    assert_true(p.parameter == 3);
    ai_config_done(&c);

    assert_int_equal(load(f, "[algorithm]\nboxplot_parameter = 2\n", &c, &m), 0);
    ai_config_params(&c, &p);
    assert_int_equal(p.algorithm, THRESHOLD_BOXPLOT);
    assert_true(p.parameter == 2);
    ai_config_done(&c);
    assert_int_equal(m.n_items, 0);
}

static void test_train_sizes(void **state)
{
    struct fixture *f = *state;
    struct ai_config c = {};
    struct config_msgs m = {};
    struct ai_params p;

    /* Below 2 h of training the update interval defaults to half of it. */
    assert_int_equal(load(f, "[algorithm]\ntrain_data_duration = 1\n", &c, &m), 0);
    assert_true(c.train_update_duration == 0.5);
    ai_config_params(&c, &p);
    assert_int_equal(p.train_size, 3600);
    assert_int_equal(p.update_size, 1800);
    ai_config_done(&c);

    /* Never less than one sample. */
    assert_int_equal(load(f,
                          "[common]\nperiod_time = 90000\n[algorithm]\n"
                          "train_data_duration = 0.001\n",
                          &c, &m),
                     0);
    ai_config_params(&c, &p);
    assert_int_equal(p.train_size, 1);
    assert_int_equal(p.update_size, 1);
    ai_config_done(&c);
    assert_int_equal(m.n_items, 0);
}

static void test_bad_values(void **state)
{
    static const struct {
        const char *section, *key, *value, *what;
    } cases[] = {
        {"log", "level", "verbose", "must be one of debug, info, warning, error, critical"},
        {"common", "period_time", "0", "must be an integer in 1..90000"},
        {"common", "period_time", "90001", "must be an integer in 1..90000"},
        {"common", "disk", ",", "must be 'default' or a comma-separated list of disk names"},
        {"common", "stage", "rq_driver", "Cannot run ai_block_io without bio stage"},
        {"common", "stage", "bio,blk",
         "unknown stage 'blk' (known: throtl, wbt, iocost, bfq, "
         "gettag, plug, deadline, hctx, requeue, rq_driver, bio, kyber)"},
        {"common", "iotype", "discard", "unknown io type 'discard' (known: read, write)"},
        {"algorithm", "train_data_duration", "0", "must be a number in (0, 720]"},
        {"algorithm", "train_data_duration", "720.5", "must be a number in (0, 720]"},
        {"algorithm", "train_data_duration", "abc", "must be a number in (0, 720]"},
        {"algorithm", "train_data_duration", "nan", "must be a number in (0, 720]"},
        {"algorithm", "train_update_duration", "25", "must be a number in (0, 24]"},
        {"algorithm", "train_update_duration", "0", "must be a number in (0, 24]"},
        {"algorithm", "algorithm_type", "absolute", "must be one of boxplot, n_sigma"},
        {"algorithm", "boxplot_parameter", "0", "must be a number in (0, 10]"},
        {"algorithm", "boxplot_parameter", "10.01", "must be a number in (0, 10]"},
        /* Checked even though the default algorithm does not use it. */
        {"algorithm", "n_sigma_parameter", "-1", "must be a number in (0, 10]"},
        {"algorithm", "win_type", "sliding", "must be one of not_continuous, continuous, median"},
        {"algorithm", "win_size", "0", "must be an integer in 1..300"},
        {"algorithm", "win_size", "3.0", "must be an integer in 1..300"},
        {"algorithm", "win_threshold_latency", "31", "must not be larger than win_size (30)"},
        {"algorithm", "win_threshold_iodump", "0", "must be an integer in 1..300"},
        {"latency_nvme_ssd", "read_avg_lim", "0", "must be an integer in 1..2147483647"},
        {"latency_sata_ssd", "write_tot_lim", "abc", "must be an integer in 1..2147483647"},
        {"latency_sata_hdd", "read_avg_lim", "60000", "must be less than read_tot_lim (50000)"},
        {"latency_sata_hdd", "write_avg_lim", "50000", "must be less than write_tot_lim (50000)"},
        {"latency_virtual", "write_tot_lim", "20000", "must be greater than write_avg_lim (20000)"},
        {"iodump", "read_iodump_lim", "-1", "must be an integer in 0..2147483647"},
        {"bio_sata_ssd", "read_avg_lim", "50000", "must be less than read_tot_lim (50000)"},
        {"rq_driver_nvme_ssd", "write_tot_lim", "0", "must be an integer in 1..2147483647"},
    };
    struct fixture *f = *state;

    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        _cleanup_free_ char *text = NULL, *want = NULL;
        struct ai_config c = {};
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

static void test_avg_below_tot_both_given(void **state)
{
    struct fixture *f = *state;
    struct ai_config c = {};
    struct config_msgs m = {};

    /* Both in the file: the floor is blamed. */
    assert_int_equal(
        load(f, "[latency_nvme_ssd]\nread_avg_lim = 800\nread_tot_lim = 500\n", &c, &m), -EINVAL);
    assert_int_equal(m.n_errors, 1);
    assert_non_null(find_msg(&m, CONFIG_MSG_ERROR,
                             "[latency_nvme_ssd] read_avg_lim = '800': must be less than "
                             "read_tot_lim (500)"));
    config_msgs_done(&m);

    /* Lowering both consistently is fine. */
    assert_int_equal(
        load(f, "[latency_nvme_ssd]\nread_avg_lim = 400\nread_tot_lim = 500\n", &c, &m), 0);
    assert_int_equal(ai_config_limits(&c, "wbt", DISK_NVME_SSD, IO_OP_READ)->tot_lim, 500);
    ai_config_done(&c);
    config_msgs_done(&m);
}

static void test_stage_override_and_warnings(void **state)
{
    struct fixture *f = *state;
    struct ai_config c = {};
    struct config_msgs m = {};

    assert_int_equal(load(f,
                          "[latency_nvme_ssd]\nread_avg_time = 3\n"
                          "[rq_driver_nvme_ssd]\nread_tot_lim = 20000\nread_avg_time = 2\n"
                          "[sliding_window]\nwindow_size = 30\n",
                          &c, &m),
                     0);
    assert_int_equal(m.n_errors, 0);
    /* ai_block_io has no avg_time. */
    assert_non_null(find_msg(&m, CONFIG_MSG_WARNING,
                             "[latency_nvme_ssd] read_avg_time = '3': unknown key, ignored"));
    assert_non_null(find_msg(&m, CONFIG_MSG_WARNING,
                             "[rq_driver_nvme_ssd] read_avg_time = '2': unknown key, ignored"));
    /* The old reference layout. */
    assert_non_null(find_msg(&m, CONFIG_MSG_WARNING, "unknown section [sliding_window]"));
    assert_int_equal(m.n_items, 3);
    assert_int_equal(ai_config_limits(&c, "rq_driver", DISK_NVME_SSD, IO_OP_READ)->tot_lim, 20000);
    assert_int_equal(ai_config_limits(&c, "bio", DISK_NVME_SSD, IO_OP_READ)->tot_lim, 50000);
    ai_config_done(&c);
    config_msgs_done(&m);
}

static void test_missing_file(void **state)
{
    struct ai_config c = {};
    struct config_msgs m = {};

    assert_int_equal(ai_config_load("/nonexistent-dir/ai_block_io.ini", &c, &m), -ENOENT);
    assert_int_equal(m.n_errors, 1);
    assert_non_null(strstr(m.items[0].text, "ai_block_io.ini: cannot open"));
    config_msgs_done(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test(test_shipped_file),
        cmocka_unit_test_setup_teardown(test_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_n_sigma_parameter_used, setup, teardown),
        cmocka_unit_test_setup_teardown(test_train_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_avg_below_tot_both_given, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stage_override_and_warnings, setup, teardown),
        cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
