/* mem_config.c: see mem_config.h. The defaults and why:
 *   page 2 / 24h    the anchor (two corrected errors on one 4 KiB page in a day are
 *                   rarely chance); rasdaemon's 50 / 24h is the lenient choice;
 *   row 8 / 24h     a row spans many pages: more than a page, fewer than a DIMM;
 *   dimm 10 / 24h   mcelog's [dimm] ce-error-threshold;
 *   socket 100 / 24h mcelog's [socket] mem-ce-error-threshold;
 *   action soft     rasdaemon's default: soft offline migrates the data and kills nobody, and a
 *                   refusal by the kernel costs nothing (mcelog's built-in default is off). */
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "config_read.h"
#include "ini_file.h"
#include "leaky_bucket.h"
#include "mem_config.h"
#include "page_offline.h"
#include "parse_number.h"

#define SEC_PER_DAY         (24ULL * 3600)
#define STORM_WINDOW_MAX_S  SEC_PER_DAY
#define MAX_PAGES_MAX       1048576U
#define TRACKED_PAGES_MIN   1024U
#define TRACKED_PAGES_MAX   16777216U
#define TRACKED_ROWS_MIN    64U
#define TRACKED_ROWS_MAX    1048576U
#define CORRUPTED_LIMIT_MAX 2147483647U
#define CPU_MAX_OFFLINE_MAX 8192U

void mem_config_init(struct mem_config *c)
{
    *c = (struct mem_config){
        .threshold =
            {
                [MEM_LEVEL_PAGE] = {true, 2, SEC_PER_DAY},
                [MEM_LEVEL_ROW] = {true, 8, SEC_PER_DAY},
                [MEM_LEVEL_DIMM] = {true, 10, SEC_PER_DAY},
                [MEM_LEVEL_SOCKET] = {true, 100, SEC_PER_DAY},
            },
        .mount_tracefs = true,
        .buffer_kb = 1024,
        .keep_instance = true,
        .action = MEM_ACTION_SOFT,
        .max_tries = PAGE_OFFLINE_TRIES_DEFAULT,
        .state_file = "/var/lib/sentry/mem_sentry.offline",
        .max_pages = 256,
        .max_mib = 0,
        .max_tracked_pages = 65536,
        .max_tracked_rows = 16384,
        .storm_threshold = 1000,
        .storm_window_s = 60,
        .hardware_corrupted_limit_kb = 4096,
        .cpu_threshold = {true, 10, SEC_PER_DAY},
        .cpu_offline = false,
        .cpu_max_offline = 1,
    };
}

int mem_duration_parse(const char *s, uint64_t *ret_s)
{
    static const struct {
        char unit;
        uint64_t sec;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', SEC_PER_DAY}};
    size_t len = strlen(s);
    char digits[16];
    uint64_t v;

    if (len < 2 || len > sizeof(digits))
        return -EINVAL;
    memcpy(digits, s, len - 1);
    digits[len - 1] = '\0';
    if (parse_uint_digits(digits, &v) < 0)
        return -EINVAL;
    for (size_t i = 0; i < ELEMENTSOF(units); i++)
        if (s[len - 1] == units[i].unit) {
            if (v == 0 || v > LEAKY_RATE_WINDOW_MAX / NSEC_PER_SEC_U64 / units[i].sec)
                return -ERANGE;
            *ret_s = v * units[i].sec;
            return 0;
        }
    return -EINVAL;
}

/* Copies s[0..n) without the blanks around it into buf. */
static int copy_trimmed(const char *s, size_t n, char *buf, size_t size)
{
    while (n > 0 && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 0 || n >= size)
        return -EINVAL;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return 0;
}

int mem_threshold_parse(const char *s, struct mem_threshold *ret)
{
    const char *slash = strchr(s, '/');
    char count[16], window[16];
    uint64_t n, w;

    if (streq(s, "off")) {
        *ret = (struct mem_threshold){.on = false};
        return 0;
    }
    if (!slash || copy_trimmed(s, (size_t) (slash - s), count, sizeof(count)) < 0 ||
        copy_trimmed(slash + 1, strlen(slash + 1), window, sizeof(window)) < 0 ||
        parse_uint_digits(count, &n) < 0 || n < 1 || n > LEAKY_RATE_N_MAX ||
        mem_duration_parse(window, &w) < 0)
        return -EINVAL;
    *ret = (struct mem_threshold){.on = true, .n = (uint32_t) n, .window_s = w};
    return 0;
}

static int bad(struct config_reader *rd, const struct ini_entry *e, const char *why)
{
    int r = config_reader_complain(rd, CONFIG_MSG_ERROR, e, "%s", why);
    return r < 0 ? r : -EINVAL;
}

static int read_threshold(struct config_reader *rd, const char *section, const char *key,
                          struct mem_threshold *ret)
{
    struct ini_entry *e = ini_file_find(rd->file, section, key);

    if (!e)
        return CONFIG_READ_ABSENT;
    if (mem_threshold_parse(e->value, ret) < 0)
        return bad(rd, e,
                   "expected N / window such as 2/24h (N 1..10000; window 1s..7d in s, m, h or "
                   "d) or off");
    return CONFIG_READ_SET;
}

static int read_duration(struct config_reader *rd, const char *section, const char *key,
                         uint64_t max_s, uint64_t *ret_s)
{
    struct ini_entry *e = ini_file_find(rd->file, section, key);
    uint64_t v;

    if (!e)
        return CONFIG_READ_ABSENT;
    if (mem_duration_parse(e->value, &v) < 0 || v > max_s)
        return bad(rd, e, "expected a duration such as 60s, 5m, 1h or 1d, at most 1d");
    *ret_s = v;
    return CONFIG_READ_SET;
}

static int read_action(struct config_reader *rd, enum mem_action *ret)
{
    static const char *const names[] = {"off", "account", "soft", "hard", "soft-then-hard"};
    int i, r = config_read_choice(rd, "offline", "action", names, ELEMENTSOF(names), &i);

    if (r == CONFIG_READ_SET)
        *ret = (enum mem_action) mem_action_from_string(names[i]);
    return r;
}

/* A path into a fixed buffer: config_read_path()'s checks, and the buffer's size. */
static int read_path_into(struct config_reader *rd, const char *section, const char *key,
                          bool empty_ok, char *buf, size_t size)
{
    struct ini_entry *e = ini_file_find(rd->file, section, key);
    _cleanup_free_ char *path = NULL;
    int r;

    if (!e)
        return CONFIG_READ_ABSENT;
    if (empty_ok && !*e->value) {
        buf[0] = '\0';
        return CONFIG_READ_SET;
    }
    r = config_read_path(rd, section, key, &path);
    if (r != CONFIG_READ_SET)
        return r;
    if (strlen(path) >= size) {
        r = config_reader_complain(rd, CONFIG_MSG_ERROR, e, "longer than %zu bytes", size - 1);
        return r < 0 ? r : -EINVAL;
    }
    snprintf(buf, size, "%s", path);
    return CONFIG_READ_SET;
}

/* Offlined pages stay in the page table for good, so the budget must leave room in it. */
static int check_budget(struct mem_config *c, struct config_reader *rd)
{
    struct ini_entry *e = ini_file_find(rd->file, "offline", "max_pages");

    if (c->max_pages < c->max_tracked_pages)
        return 0;
    int r = e ? config_reader_complain(rd, CONFIG_MSG_ERROR, e,
                                       "must be below [tracking] max_tracked_pages = %u",
                                       c->max_tracked_pages)
              : config_msgs_add(rd->msgs, CONFIG_MSG_ERROR,
                                "%s: [offline] max_pages = %u (the default) is not below "
                                "[tracking] max_tracked_pages = %u",
                                rd->file->path, c->max_pages, c->max_tracked_pages);
    return r < 0 ? r : 0;
}

static int read_all(void *ctx, struct config_reader *rd)
{
    struct mem_config *c = ctx;
    int r = 0;

#define KEEP(expr) CONFIG_READ_KEEP(r, expr)
    KEEP(read_path_into(rd, "source", "tracefs", true, c->tracefs, sizeof(c->tracefs)));
    KEEP(config_read_bool(rd, "source", "mount_tracefs", &c->mount_tracefs));
    KEEP(config_read_uint(rd, "source", "buffer_kb", 4, 65536, &c->buffer_kb));
    KEEP(config_read_bool(rd, "source", "keep_instance", &c->keep_instance));
    for (int l = 0; l < _MEM_LEVEL_MAX; l++)
        KEEP(read_threshold(rd, "thresholds", mem_level_to_string((enum mem_level) l),
                            &c->threshold[l]));
    KEEP(read_action(rd, &c->action));
    KEEP(config_read_uint(rd, "offline", "max_pages", 1, MAX_PAGES_MAX, &c->max_pages));
    KEEP(config_read_uint(rd, "offline", "max_mib", 0, MAX_PAGES_MAX, &c->max_mib));
    KEEP(config_read_uint(rd, "offline", "max_tries", 1, PAGE_OFFLINE_TRIES_MAX, &c->max_tries));
    KEEP(read_path_into(rd, "offline", "state_file", false, c->state_file, sizeof(c->state_file)));
    KEEP(config_read_uint(rd, "tracking", "max_tracked_pages", TRACKED_PAGES_MIN, TRACKED_PAGES_MAX,
                          &c->max_tracked_pages));
    KEEP(config_read_uint(rd, "tracking", "max_tracked_rows", TRACKED_ROWS_MIN, TRACKED_ROWS_MAX,
                          &c->max_tracked_rows));
    KEEP(config_read_uint(rd, "storm", "threshold", 2, LEAKY_RATE_N_MAX, &c->storm_threshold));
    KEEP(read_duration(rd, "storm", "window", STORM_WINDOW_MAX_S, &c->storm_window_s));
    KEEP(read_threshold(rd, "cpu", "threshold", &c->cpu_threshold));
    KEEP(config_read_bool(rd, "cpu", "offline", &c->cpu_offline));
    KEEP(config_read_uint(rd, "cpu", "max_offline", 0, CPU_MAX_OFFLINE_MAX, &c->cpu_max_offline));
    KEEP(config_read_uint(rd, "meminfo", "hardware_corrupted_limit_kb", 0, CORRUPTED_LIMIT_MAX,
                          &c->hardware_corrupted_limit_kb));
#undef KEEP
    return check_budget(c, rd);
}

int mem_config_load(struct mem_config *c, const char *path, struct config_msgs *msgs)
{
    assert_return(c, -EINVAL);
    return config_read_file(path, NULL, read_all, c, msgs);
}

int mem_config_load_string(struct mem_config *c, const char *path, const char *text,
                           struct config_msgs *msgs)
{
    assert_return(c && text, -EINVAL);
    return config_read_file(path, text, read_all, c, msgs);
}
