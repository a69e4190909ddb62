/* oom_config.c: see oom_config.h. */
#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "config_read.h"
#include "ini_file.h"
#include "oom_config.h"
#include "parse_number.h"
#include "psi.h"
#include "strv.h"

int oom_config_init(struct oom_config *c)
{
    *c = (struct oom_config){
        .log_level = LOG_INFO,
        .psi = true,
        .memcg = true,
        .oom_victim = true,
        .pstore = true,
        .some_stall_us = 150000,
        .full_stall_us = 100000,
        .window_us = 1000000,
        .poll_interval = 5,
        .rate_limit_interval = 60,
    };
    c->pstore_dir = strdup("/sys/fs/pstore");
    c->state_file = strdup("/var/lib/sentry/oom_watch.state");
    return c->pstore_dir && c->state_file ? 0 : -ENOMEM;
}

void oom_config_done(struct oom_config *c)
{
    strv_free(c->cgroups);
    free(c->tracefs);
    free(c->pstore_dir);
    free(c->state_file);
    *c = (struct oom_config){0};
}

/* A comma list of cgroup directories; empty: none. */
static int read_cgroups(struct config_reader *rd, char ***ret)
{
    struct ini_entry *e = ini_file_find(rd->file, "memcg", "cgroups");
    _cleanup_strv_free_ char **l = NULL;
    const char *p;

    if (!e)
        return CONFIG_READ_ABSENT;
    for (p = e->value; *p;) {
        const char *end = strchrnul(p, ',');
        const char *a = p, *b = end;
        while (a < b && isspace((unsigned char) *a))
            a++;
        while (b > a && isspace((unsigned char) b[-1]))
            b--;
        char *item = strndup(a, (size_t) (b - a));
        if (!item)
            return -ENOMEM;
        const char *why = !*item                   ? "an empty item"
                          : !config_path_ok(item)  ? "expected absolute paths of cgroup directories"
                          : strv_contains(l, item) ? "a cgroup given twice"
                          : strv_length(l) >= OOM_CONFIG_CGROUPS_MAX ? "more than 64 cgroups"
                                                                     : NULL;
        if (why) {
            free(item);
            int r = config_reader_complain(rd, CONFIG_MSG_ERROR, e, "%s", why);
            return r < 0 ? r : -EINVAL;
        }
        if (strv_consume(&l, item) < 0)
            return -ENOMEM;
        p = *end ? end + 1 : end;
    }
    strv_free(*ret);
    *ret = TAKE_PTR(l);
    return CONFIG_READ_SET;
}

static int read_log(struct config_reader *rd, int *ret)
{
    static const char *const names[] = {"debug", "info", "warning", "error"};
    static const int levels[] = {LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR};
    int i, r = config_read_choice(rd, "log", "level", names, ELEMENTSOF(names), &i);

    if (r == CONFIG_READ_SET)
        *ret = levels[i];
    return r;
}

static int read_all(void *ctx, struct config_reader *rd)
{
    struct oom_config *c = ctx;
    int r = 0;

#define KEEP(expr) CONFIG_READ_KEEP(r, expr)
    KEEP(read_log(rd, &c->log_level));
    KEEP(config_read_bool(rd, "sources", "psi", &c->psi));
    KEEP(config_read_bool(rd, "sources", "memcg", &c->memcg));
    KEEP(config_read_bool(rd, "sources", "oom_victim", &c->oom_victim));
    KEEP(config_read_bool(rd, "sources", "pstore", &c->pstore));
    KEEP(config_read_uint(rd, "psi", "window_us", PSI_WINDOW_MIN_US, PSI_WINDOW_MAX_US,
                          &c->window_us));
    KEEP(config_read_uint(rd, "psi", "some_stall_us", 0, PSI_WINDOW_MAX_US, &c->some_stall_us));
    KEEP(config_read_uint(rd, "psi", "full_stall_us", 0, PSI_WINDOW_MAX_US, &c->full_stall_us));
    KEEP(read_cgroups(rd, &c->cgroups));
    KEEP(config_read_uint(rd, "memcg", "poll_interval", 1, 3600, &c->poll_interval));
    struct ini_entry *t = ini_file_find(rd->file, "oom_victim", "tracefs");
    if (t && !streq(t->value, "auto"))
        KEEP(config_read_path(rd, "oom_victim", "tracefs", &c->tracefs));
    KEEP(config_read_path(rd, "pstore", "dir", &c->pstore_dir));
    KEEP(config_read_path(rd, "pstore", "state_file", &c->state_file));
    KEEP(config_read_bool(rd, "pstore", "remove_after_report", &c->remove_after_report));
    KEEP(config_read_uint(rd, "alarm", "rate_limit_interval", 0, 86400, &c->rate_limit_interval));
#undef KEEP
    /* a stall longer than its window never fires: the kernel refuses the trigger */
    const char *names[] = {"some_stall_us", "full_stall_us"};
    unsigned vals[] = {c->some_stall_us, c->full_stall_us};
    for (size_t i = 0; i < ELEMENTSOF(vals); i++) {
        struct ini_entry *e = ini_file_find(rd->file, "psi", names[i]);
        if (vals[i] > c->window_us) {
            r = e ? config_reader_complain(rd, CONFIG_MSG_ERROR, e,
                                           "longer than the window (window_us = %u)", c->window_us)
                  : config_msgs_add(rd->msgs, CONFIG_MSG_ERROR,
                                    "%s: [psi] %s = %u (the default) is longer than window_us = %u",
                                    rd->file->path, names[i], vals[i], c->window_us);
            if (r < 0)
                return r;
        }
    }
    return 0;
}

int oom_config_load(struct oom_config *c, const char *path, struct config_msgs *msgs)
{
    assert_return(c, -EINVAL);
    return config_read_file(path, NULL, read_all, c, msgs);
}

int oom_config_load_string(struct oom_config *c, const char *path, const char *text,
                           struct config_msgs *msgs)
{
    assert_return(c && text, -EINVAL);
    return config_read_file(path, text, read_all, c, msgs);
}
