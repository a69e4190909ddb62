/* avg_config.c: avg_block_io.ini (see avg_config.h): the shared sections of slowio_config.c,
 * nothing of its own. */
#include "avg_config.h"

/* avg_block_io's sections, in the order of avg_config.h. */
static int avg_config_read(struct slowio_config_parser *p, void *userdata)
{
    struct avg_config *c = userdata;
    int r;

    r = slowio_config_read_common(p, &c->common);
    if (r >= 0)
        r = slowio_config_read_windows(p, &c->windows);
    if (r >= 0)
        r = limit_table_read(p, &c->limits);
    return r;
}

int avg_config_load(const char *path, struct avg_config *ret, struct config_msgs *msgs)
{
    struct avg_config c = {};
    int r;

    assert_return(path && ret && msgs, -EINVAL);
    r = slowio_config_load(SLOWIO_PLUGIN_AVG_BLOCK_IO, path, avg_config_read, &c, msgs);
    if (r < 0) {
        avg_config_done(&c);
        return r;
    }
    *ret = c;
    return 0;
}

void avg_config_done(struct avg_config *c)
{
    if (c)
        slowio_common_done(&c->common);
}

const struct slowio_limits *avg_config_limits(const struct avg_config *c, const char *stage,
                                              enum disk_type type, enum io_op io)
{
    return c ? limit_table_get(&c->limits, stage, type, io) : NULL;
}

void avg_config_params(const struct avg_config *c, struct avg_params *ret)
{
    *ret = (struct avg_params){
        .win_size = c->windows.win_size,
        .win_threshold_latency = c->windows.win_threshold_latency,
        .win_threshold_iodump = c->windows.win_threshold_iodump,
    };
}
