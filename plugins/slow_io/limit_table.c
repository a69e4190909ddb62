/* limit_table.c: the limit sections of the slow-IO configuration files (see limit_table.h).
 * The limit keys are one table (limit_fields) used for [latency_<type>], [iodump] and the
 * per-stage overrides alike, so a key means the same wherever it appears. */
#include <stdio.h>

#include "limit_table.h"

/* Defaults of [latency_<type>], the same for reads and writes (avg_time: avg_block_io only).
 * Virtual disks share their backing store with other guests: a higher floor and ceiling. */
static const struct {
    unsigned avg_lim, avg_time, tot_lim;
} latency_defaults[_DISK_TYPE_MAX] = {
    [DISK_NVME_SSD] = {10000, 3, 50000},
    [DISK_SATA_SSD] = {10000, 3, 50000},
    [DISK_SATA_HDD] = {15000, 3, 50000},
    [DISK_VIRTUAL] = {20000, 3, 100000},
};

enum limit_field {
    LIMIT_AVG_LIM,
    LIMIT_AVG_TIME,
    LIMIT_TOT_LIM,
    LIMIT_IODUMP_LIM,
    _LIMIT_FIELD_MAX,
};

/* Keys are <io>_<suffix>; `latency` fields live in [latency_<type>], the rest in [iodump]. */
static const struct {
    const char *suffix;
    bool latency;
    bool avg_only;   /* ai_block_io has no such key */
    unsigned ai_min; /* ai_block_io wants real limits, avg_block_io lets 0 turn a window off */
} limit_fields[_LIMIT_FIELD_MAX] = {
    [LIMIT_AVG_LIM] = {"avg_lim", true, false, 1},
    [LIMIT_AVG_TIME] = {"avg_time", true, true, 0},
    [LIMIT_TOT_LIM] = {"tot_lim", true, false, 1},
    [LIMIT_IODUMP_LIM] = {"iodump_lim", false, false, 0},
};

enum limit_section {
    LIMIT_SECTION_LATENCY,
    LIMIT_SECTION_IODUMP,
    LIMIT_SECTION_STAGE, /* an override takes every key */
};

/* Which limit keys of a section were given (and valid). */
typedef bool limit_keys_set[SLOWIO_IOTYPES][_LIMIT_FIELD_MAX];

static unsigned *limit_field_ptr(struct slowio_limits *l, enum limit_field f)
{
    switch (f) {
    case LIMIT_AVG_LIM:
        return &l->avg_lim;
    case LIMIT_AVG_TIME:
        return &l->avg_time;
    case LIMIT_TOT_LIM:
        return &l->tot_lim;
    default:
        return &l->iodump_lim;
    }
}

static bool limit_field_applies(const struct slowio_config_parser *p, enum limit_field f,
                                enum limit_section kind)
{
    if (limit_fields[f].avg_only && p->plugin != SLOWIO_PLUGIN_AVG_BLOCK_IO)
        return false;
    if (kind == LIMIT_SECTION_STAGE)
        return true;
    return limit_fields[f].latency == (kind == LIMIT_SECTION_LATENCY);
}

static void limit_key(enum io_op io, enum limit_field f, char *buf, size_t size)
{
    snprintf(buf, size, "%s_%s", io_op_to_string(io), limit_fields[f].suffix);
}

/* Reads the limit keys of one section over lim (which holds the defaults). */
static int read_limit_section(struct slowio_config_parser *p, const char *section,
                              enum limit_section kind, struct slowio_limits lim[],
                              limit_keys_set set)
{
    char key[32];
    int r;

    for (size_t io = 0; io < SLOWIO_IOTYPES; io++)
        for (size_t f = 0; f < _LIMIT_FIELD_MAX; f++) {
            set[io][f] = false;
            if (!limit_field_applies(p, (enum limit_field) f, kind))
                continue;
            limit_key((enum io_op) io, (enum limit_field) f, key, sizeof(key));
            r = config_read_uint(&p->reader, section, key,
                                 p->plugin == SLOWIO_PLUGIN_AI_BLOCK_IO ? limit_fields[f].ai_min
                                                                        : 0,
                                 SLOWIO_LIMIT_MAX, limit_field_ptr(&lim[io], (enum limit_field) f));
            set[io][f] = r == CONFIG_READ_SET;
            r = config_read_keep_going(r);
            if (r < 0)
                return r;
        }
    return 0;
}

/* ai_block_io: a floor at or above the ceiling would leave nothing to learn; blame a key given
 * in this section (defaults are consistent, so one of them was given). */
static int check_avg_below_tot(struct slowio_config_parser *p, const char *section,
                               const struct slowio_limits lim[], limit_keys_set set)
{
    char key[32];
    int r;

    if (p->plugin != SLOWIO_PLUGIN_AI_BLOCK_IO)
        return 0;
    for (size_t io = 0; io < SLOWIO_IOTYPES; io++) {
        const char *ion = io_op_to_string((enum io_op) io);
        enum limit_field blame;

        if (lim[io].avg_lim < lim[io].tot_lim)
            continue;
        if (set[io][LIMIT_AVG_LIM])
            blame = LIMIT_AVG_LIM;
        else if (set[io][LIMIT_TOT_LIM])
            blame = LIMIT_TOT_LIM;
        else
            continue;
        limit_key((enum io_op) io, blame, key, sizeof(key));
        if (blame == LIMIT_AVG_LIM)
            r = config_reader_complain(&p->reader, CONFIG_MSG_ERROR,
                                       ini_file_find(p->reader.file, section, key),
                                       "must be less than %s_tot_lim (%u)", ion, lim[io].tot_lim);
        else
            r = config_reader_complain(
                &p->reader, CONFIG_MSG_ERROR, ini_file_find(p->reader.file, section, key),
                "must be greater than %s_avg_lim (%u)", ion, lim[io].avg_lim);
        if (r < 0)
            return r;
    }
    return 0;
}

static void stage_section_name(enum io_stage s, enum disk_type t, char *buf, size_t size)
{
    snprintf(buf, size, "%s_%s", io_stage_to_string(s), disk_type_to_string(t));
}

int limit_table_read(struct slowio_config_parser *p, struct limit_table *tab)
{
    struct slowio_limits dump[SLOWIO_IOTYPES] = {};
    limit_keys_set set;
    char section[64];
    int r;

    assert_return(p && tab, -EINVAL);
    for (size_t t = 0; t < _DISK_TYPE_MAX; t++)
        for (size_t io = 0; io < SLOWIO_IOTYPES; io++)
            tab->base[t][io] = (struct slowio_limits){
                .avg_lim = latency_defaults[t].avg_lim,
                .avg_time =
                    p->plugin == SLOWIO_PLUGIN_AVG_BLOCK_IO ? latency_defaults[t].avg_time : 0,
                .tot_lim = latency_defaults[t].tot_lim,
            };

    for (size_t t = 0; t < _DISK_TYPE_MAX; t++) {
        snprintf(section, sizeof(section), "latency_%s", disk_type_to_string((enum disk_type) t));
        r = read_limit_section(p, section, LIMIT_SECTION_LATENCY, tab->base[t], set);
        if (r >= 0)
            r = check_avg_below_tot(p, section, tab->base[t], set);
        if (r < 0)
            return r;
    }

    r = read_limit_section(p, "iodump", LIMIT_SECTION_IODUMP, dump, set);
    if (r < 0)
        return r;
    for (size_t t = 0; t < _DISK_TYPE_MAX; t++)
        for (size_t io = 0; io < SLOWIO_IOTYPES; io++)
            tab->base[t][io].iodump_lim = dump[io].iodump_lim;

    for (size_t s = 0; s < _IO_STAGE_MAX; s++)
        for (size_t t = 0; t < _DISK_TYPE_MAX; t++) {
            memcpy(tab->stage[s][t], tab->base[t], sizeof(tab->base[t]));
            stage_section_name((enum io_stage) s, (enum disk_type) t, section, sizeof(section));
            if (!ini_file_has_section(p->reader.file, section))
                continue;
            r = read_limit_section(p, section, LIMIT_SECTION_STAGE, tab->stage[s][t], set);
            if (r >= 0)
                r = check_avg_below_tot(p, section, tab->stage[s][t], set);
            if (r < 0)
                return r;
        }
    return 0;
}

const struct slowio_limits *limit_table_get(const struct limit_table *t, const char *stage,
                                            enum disk_type type, enum io_op io)
{
    enum io_stage s;

    if (!t || !stage || (unsigned) type >= _DISK_TYPE_MAX || (unsigned) io >= SLOWIO_IOTYPES)
        return NULL;
    s = io_stage_from_string(stage);
    return s >= 0 ? &t->stage[s][type][io] : &t->base[type][io];
}

bool limit_table_section_is_override(const char *section)
{
    char name[64];

    for (size_t s = 0; s < _IO_STAGE_MAX; s++)
        for (size_t t = 0; t < _DISK_TYPE_MAX; t++) {
            stage_section_name((enum io_stage) s, (enum disk_type) t, name, sizeof(name));
            if (streq(section, name))
                return true;
        }
    return false;
}
