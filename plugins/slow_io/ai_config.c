/* ai_config.c: ai_block_io.ini (see ai_config.h): the shared sections of slowio_config.c plus
 * the learning keys of [algorithm]. */
#include <math.h>
#include <stdint.h>

#include "ai_config.h"

/* The values accepted for algorithm_type, as threshold types. */
static const char *const algorithm_names[] = {"boxplot", "n_sigma"};
static const enum threshold_type algorithm_types[] = {THRESHOLD_BOXPLOT, THRESHOLD_N_SIGMA};

static int read_learning(struct config_reader *rd, struct ai_config *c)
{
    static const struct config_interval parameter_range = {.lo = 0, .hi = 10, .lo_open = true};
    struct config_interval update_range = {.lo = 0, .lo_open = true};
    const char *windows[_WINDOW_TYPE_MAX];
    int i, r;

    c->train_data_duration = 24;
    c->algorithm_type = THRESHOLD_BOXPLOT;
    c->boxplot_parameter = 1.5;
    c->n_sigma_parameter = 3;
    c->win_type = WINDOW_NOT_CONTINUOUS;

    r = config_read_double(rd, "algorithm", "train_data_duration",
                           &(struct config_interval){.lo = 0, .hi = 720, .lo_open = true},
                           &c->train_data_duration);
    if (config_read_keep_going(r) < 0)
        return r;

    /* The update interval cannot be longer than what is trained on. */
    c->train_update_duration = c->train_data_duration >= 2 ? 2 : c->train_data_duration / 2;
    update_range.hi = c->train_data_duration;
    r = config_read_double(rd, "algorithm", "train_update_duration", &update_range,
                           &c->train_update_duration);
    if (config_read_keep_going(r) < 0)
        return r;

    r = config_read_choice(rd, "algorithm", "algorithm_type", algorithm_names,
                           ELEMENTSOF(algorithm_names), &i);
    if (r == CONFIG_READ_SET)
        c->algorithm_type = algorithm_types[i];
    if (config_read_keep_going(r) < 0)
        return r;

    r = config_read_double(rd, "algorithm", "boxplot_parameter", &parameter_range,
                           &c->boxplot_parameter);
    if (config_read_keep_going(r) < 0)
        return r;
    r = config_read_double(rd, "algorithm", "n_sigma_parameter", &parameter_range,
                           &c->n_sigma_parameter);
    if (config_read_keep_going(r) < 0)
        return r;

    for (size_t k = 0; k < _WINDOW_TYPE_MAX; k++)
        windows[k] = window_type_to_string((enum window_type) k);
    r = config_read_choice(rd, "algorithm", "win_type", windows, _WINDOW_TYPE_MAX, &i);
    if (r == CONFIG_READ_SET)
        c->win_type = (enum window_type) i;
    return config_read_keep_going(r);
}

/* ai_block_io's sections, in the order of ai_config.h. */
static int ai_config_read(struct slowio_config_parser *p, void *userdata)
{
    struct ai_config *c = userdata;
    int r;

    r = slowio_config_read_common(p, &c->common);
    if (r >= 0)
        r = read_learning(&p->reader, c);
    if (r >= 0)
        r = slowio_config_read_windows(p, &c->windows);
    if (r >= 0)
        r = limit_table_read(p, &c->limits);
    return r;
}

int ai_config_load(const char *path, struct ai_config *ret, struct config_msgs *msgs)
{
    struct ai_config c = {};
    int r;

    assert_return(path && ret && msgs, -EINVAL);
    r = slowio_config_load(SLOWIO_PLUGIN_AI_BLOCK_IO, path, ai_config_read, &c, msgs);
    if (r < 0) {
        ai_config_done(&c);
        return r;
    }
    *ret = c;
    return 0;
}

void ai_config_done(struct ai_config *c)
{
    if (c)
        slowio_common_done(&c->common);
}

const struct slowio_limits *ai_config_limits(const struct ai_config *c, const char *stage,
                                             enum disk_type type, enum io_op io)
{
    return c ? limit_table_get(&c->limits, stage, type, io) : NULL;
}

/* Hours of samples at one sample per period, as the reference counts them (truncated). */
static size_t hours_to_samples(double hours, unsigned period_time)
{
    double n = floor(hours * 3600.0 / (period_time ? period_time : 1));
    return n < 1 ? 1 : n > (double) SIZE_MAX / 16 ? SIZE_MAX / 16 : (size_t) n;
}

void ai_config_params(const struct ai_config *c, struct ai_params *ret)
{
    *ret = (struct ai_params){
        .algorithm = c->algorithm_type,
        .parameter =
            c->algorithm_type == THRESHOLD_N_SIGMA ? c->n_sigma_parameter : c->boxplot_parameter,
        .train_size = hours_to_samples(c->train_data_duration, c->common.period_time),
        .update_size = hours_to_samples(c->train_update_duration, c->common.period_time),
        .win_type = c->win_type,
        .win_size = c->windows.win_size,
        .win_threshold_latency = c->windows.win_threshold_latency,
        .win_threshold_iodump = c->windows.win_threshold_iodump,
    };
}
