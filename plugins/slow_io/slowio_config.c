/* slowio_config.c: the sections both slow-IO configuration files share (see slowio_config.h):
 * [log], [common] with its lists, the window sizes, loading a file and the warnings about the
 * rest. */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <strings.h>
#include <syslog.h>

#include "limit_table.h"
#include "slowio_config.h"
#include "strv.h"

static const char *plugin_name(const struct slowio_config_parser *p)
{
    return slowio_plugin_to_string(p->plugin);
}

void slowio_common_done(struct slowio_common *c)
{
    if (!c)
        return;
    c->disks = strv_free(c->disks);
    c->stages = strv_free(c->stages);
}

int slowio_config_read_log(struct slowio_config_parser *p, int *ret_level)
{
    static const char *const names[] = {"debug", "info", "warning", "error", "critical"};
    static const int levels[] = {LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR, LOG_CRIT};
    int i, r;

    assert_return(p && ret_level, -EINVAL);
    *ret_level = LOG_INFO;
    r = config_read_choice(&p->reader, "log", "level", names, ELEMENTSOF(names), &i);
    if (r == CONFIG_READ_SET)
        *ret_level = levels[i];
    return config_read_keep_going(r);
}

/* Splits a comma list into stripped items (lower-cased on request); -EBADMSG for an empty
 * item, which is always a typo. */
static int split_list(const char *value, bool lower, char ***ret)
{
    _cleanup_strv_free_ char **items = NULL;
    const char *p = value;
    int r;

    for (;;) {
        const char *end = strchrnul(p, ',');
        const char *a = p, *b = end;
        char *item;

        while (a < b && isspace((unsigned char) *a))
            a++;
        while (b > a && isspace((unsigned char) b[-1]))
            b--;
        if (a == b)
            return -EBADMSG;
        item = strndup(a, (size_t) (b - a));
        if (!item)
            return -ENOMEM;
        for (char *q = item; lower && *q; q++)
            *q = (char) tolower((unsigned char) *q);
        r = strv_consume(&items, item);
        if (r < 0)
            return r;
        if (!*end)
            break;
        p = end + 1;
    }
    *ret = TAKE_PTR(items);
    return 0;
}

static bool disk_name_is_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > SLOWIO_DISK_NAME_MAX)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char) *s) && *s != '-' && *s != '_')
            return false;
    return true;
}

/* Adds item to *list unless it is there, warning about the repetition. */
static int list_add_once(struct slowio_config_parser *p, const struct ini_entry *e, char ***list,
                         const char *item, const char *what)
{
    if (strv_contains(*list, item))
        return config_reader_complain(&p->reader, CONFIG_MSG_WARNING, e,
                                      "%s '%s' is listed more than once", what, item);
    return strv_extend(list, item);
}

static int read_disks(struct slowio_config_parser *p, char ***ret)
{
    _cleanup_strv_free_ char **items = NULL, **disks = NULL;
    struct ini_entry *e;
    bool ok = true;
    int r;

    e = ini_file_find(p->reader.file, "common", "disk");
    if (!e || strcasecmp(e->value, "default") == 0)
        return 0;
    r = split_list(e->value, false, &items);
    if (r == -EBADMSG)
        return config_reader_complain(&p->reader, CONFIG_MSG_ERROR, e,
                                      "must be 'default' or a comma-separated list of disk names");
    if (r < 0)
        return r;
    for (size_t i = 0; items[i]; i++) {
        if (!disk_name_is_valid(items[i])) {
            r = config_reader_complain(
                &p->reader, CONFIG_MSG_ERROR, e,
                "'%s' is not a disk name (letters, digits, '-' and '_', at most %d)", items[i],
                SLOWIO_DISK_NAME_MAX);
            ok = false;
        } else
            r = list_add_once(p, e, &disks, items[i], "disk");
        if (r < 0)
            return r;
    }
    if (ok && strv_length(disks) > SLOWIO_MAX_DISKS)
        return config_reader_complain(&p->reader, CONFIG_MSG_ERROR, e,
                                      "lists %zu disks, at most %d are supported",
                                      strv_length(disks), SLOWIO_MAX_DISKS);
    if (ok)
        *ret = TAKE_PTR(disks);
    return 0;
}

static int known_stage_list(char *buf, size_t size)
{
    size_t o = 0;

    buf[0] = 0;
    for (size_t s = 0; s < _IO_STAGE_MAX; s++) {
        int n = snprintf(buf + o, size - o, "%s%s", s ? ", " : "",
                         io_stage_to_string((enum io_stage) s));
        if (n < 0 || (size_t) n >= size - o)
            return -ENOBUFS;
        o += (size_t) n;
    }
    return 0;
}

static int read_stages(struct slowio_config_parser *p, char ***ret)
{
    _cleanup_strv_free_ char **items = NULL, **stages = NULL;
    struct ini_entry *e;
    char known[256];
    bool ok = true;
    int r;

    e = ini_file_find(p->reader.file, "common", "stage");
    if (!e || strcasecmp(e->value, "default") == 0)
        return 0;
    r = split_list(e->value, true, &items);
    if (r == -EBADMSG)
        return config_reader_complain(&p->reader, CONFIG_MSG_ERROR, e,
                                      "must be 'default' or a comma-separated list of stages");
    if (r < 0)
        return r;
    for (size_t i = 0; items[i]; i++) {
        if (io_stage_from_string(items[i]) < 0) {
            (void) known_stage_list(known, sizeof(known));
            r = config_reader_complain(&p->reader, CONFIG_MSG_ERROR, e,
                                       "unknown stage '%s' (known: %s)", items[i], known);
            ok = false;
        } else
            r = list_add_once(p, e, &stages, items[i], "stage");
        if (r < 0)
            return r;
    }
    if (!ok)
        return 0;
    if (!strv_contains(stages, "bio"))
        return config_reader_complain(&p->reader, CONFIG_MSG_ERROR, e,
                                      "Cannot run %s without bio stage", plugin_name(p));
    *ret = TAKE_PTR(stages);
    return 0;
}

static int read_iotypes(struct slowio_config_parser *p, bool iotypes[SLOWIO_IOTYPES])
{
    _cleanup_strv_free_ char **items = NULL, **seen = NULL;
    bool wanted[SLOWIO_IOTYPES] = {};
    struct ini_entry *e;
    bool ok = true;
    int r;

    e = ini_file_find(p->reader.file, "common", "iotype");
    if (!e || strcasecmp(e->value, "default") == 0)
        return 0;
    r = split_list(e->value, true, &items);
    if (r == -EBADMSG)
        return config_reader_complain(&p->reader, CONFIG_MSG_ERROR, e,
                                      "must be 'default' or a comma-separated list of read, write");
    if (r < 0)
        return r;
    for (size_t i = 0; items[i]; i++) {
        enum io_op t = slowio_iotype_from_string(items[i]);
        if (t < 0) {
            r = config_reader_complain(&p->reader, CONFIG_MSG_ERROR, e,
                                       "unknown io type '%s' (known: read, write)", items[i]);
            ok = false;
        } else {
            wanted[t] = true;
            r = list_add_once(p, e, &seen, items[i], "io type");
        }
        if (r < 0)
            return r;
    }
    if (ok)
        memcpy(iotypes, wanted, sizeof(wanted));
    return 0;
}

int slowio_config_read_common(struct slowio_config_parser *p, struct slowio_common *c)
{
    /* ai_block_io may sample as slowly as the collector keeps data; avg_block_io's range is
     * the reference's. */
    unsigned period_max = p->plugin == SLOWIO_PLUGIN_AI_BLOCK_IO ? 90000 : 300;
    int r;

    assert_return(p && c, -EINVAL);
    *c = (struct slowio_common){
        .log_level = LOG_INFO,
        .iotypes = {[IO_OP_READ] = true, [IO_OP_WRITE] = true},
        .period_time = 1,
    };
    r = slowio_config_read_log(p, &c->log_level);
    if (r >= 0)
        r = config_read_keep_going(read_disks(p, &c->disks));
    if (r >= 0)
        r = config_read_keep_going(read_stages(p, &c->stages));
    if (r >= 0)
        r = config_read_keep_going(read_iotypes(p, c->iotypes));
    if (r >= 0)
        r = config_read_keep_going(
            config_read_uint(&p->reader, "common", "period_time", 1, period_max, &c->period_time));
    return r;
}

/* A window threshold: 1..300 and not above win_size. An absent one whose default does not fit
 * a small window takes win_size, with a warning, rather than refusing a file that never named
 * it. */
static int read_win_threshold(struct slowio_config_parser *p, const char *key, unsigned win_size,
                              unsigned *v)
{
    struct ini_entry *e;
    unsigned t = *v;
    int r;

    r = config_read_uint(&p->reader, "algorithm", key, 1, 300, &t);
    if (r == CONFIG_READ_ABSENT) {
        if (*v <= win_size)
            return 0;
        r = config_msgs_add(p->reader.msgs, CONFIG_MSG_WARNING,
                            "%s: [algorithm] %s not set: its default %u is larger than win_size "
                            "%u, using %u",
                            p->reader.file->path, key, *v, win_size, win_size);
        *v = win_size;
        return r;
    }
    if (r < 0)
        return config_read_keep_going(r);
    if (t > win_size) {
        e = ini_file_find(p->reader.file, "algorithm", key);
        return config_reader_complain(&p->reader, CONFIG_MSG_ERROR, e,
                                      "must not be larger than win_size (%u)", win_size);
    }
    *v = t;
    return 0;
}

int slowio_config_read_windows(struct slowio_config_parser *p, struct slowio_windows *w)
{
    int r;

    assert_return(p && w, -EINVAL);
    *w = (struct slowio_windows){
        .win_size = 30,
        .win_threshold_latency = 6,
        .win_threshold_iodump = 3,
    };
    r = config_read_keep_going(
        config_read_uint(&p->reader, "algorithm", "win_size", 1, 300, &w->win_size));
    if (r >= 0)
        r = read_win_threshold(p, "win_threshold_latency", w->win_size, &w->win_threshold_latency);
    if (r >= 0)
        r = read_win_threshold(p, "win_threshold_iodump", w->win_size, &w->win_threshold_iodump);
    return r;
}

/* The sections of both files, besides the [<stage>_<type>] overrides of limit_table.h. */
static const char *const known_sections[] = {
    "log",
    "common",
    "algorithm",
    "latency_nvme_ssd",
    "latency_sata_ssd",
    "latency_sata_hdd",
    "latency_virtual",
    "iodump",
    NULL,
};

/* Called last: whatever is not marked used by then, nobody reads. */
static int warn_unknown(struct slowio_config_parser *p)
{
    _cleanup_strv_free_ char **warned = NULL;
    struct ini_file *file = p->reader.file;
    int r;

    for (size_t i = 0; i < file->n_entries; i++) {
        const struct ini_entry *e = &file->entries[i];
        bool known = limit_table_section_is_override(e->section);

        if (e->used)
            continue;
        for (size_t k = 0; !known && known_sections[k]; k++)
            known = streq(e->section, known_sections[k]);
        if (known)
            r = config_reader_complain(&p->reader, CONFIG_MSG_WARNING, e, "unknown key, ignored");
        else if (strv_contains(warned, e->section))
            continue;
        else {
            r = config_msgs_add(p->reader.msgs, CONFIG_MSG_WARNING,
                                "%s: line %u: unknown section [%s], ignored", file->path, e->line,
                                e->section);
            if (r >= 0)
                r = strv_extend(&warned, e->section);
        }
        if (r < 0)
            return r;
    }
    return 0;
}

int slowio_config_load(enum slowio_plugin plugin, const char *path, slowio_config_read_fn read,
                       void *userdata, struct config_msgs *msgs)
{
    _cleanup_(ini_file_done) struct ini_file file = {};
    struct slowio_config_parser p = {
        .plugin = plugin,
        .reader = {.file = &file, .msgs = msgs},
    };
    size_t errors;
    int r;

    assert_return(path && read && msgs, -EINVAL);
    errors = msgs->n_errors;
    r = ini_file_load(&file, AT_FDCWD, path, NULL, 0, INI_FILE_SIZE_MAX, msgs);
    if (r >= 0)
        r = read(&p, userdata);
    if (r >= 0)
        r = warn_unknown(&p);
    if (r >= 0 && msgs->n_errors > errors)
        r = -EINVAL;
    return r;
}
