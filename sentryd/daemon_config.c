/* daemon_config.c: see daemon_config.h. One table lists every key: its section, its kind, where
 * it goes and its default; parsing, defaults, warnings and the docs follow that table. */
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>

#include "alarm_log.h"
#include "disk.h"
#include "io_source_set.h"
#include "daemon_config.h"
#include "ini_file.h"
#include "log.h"
#include "names.h"
#include "parse_number.h"
#include "sentry-build-config.h"

enum conf_kind {
    CONF_STRING,
    CONF_PATH, /* absolute, interpreted under root */
    CONF_UINT,
    CONF_MODE, /* octal file mode */
    CONF_LOG_LEVEL,
    CONF_LOG_TARGET,
    CONF_GROUP,
    CONF_BOOL,
    CONF_U64,
    CONF_SYNC,      /* normal | full */
    CONF_ALARM_LOG, /* auto | journal | file | none */
    CONF_ID_MASK,   /* the reference's id_mask syntax, checked when used */
    CONF_IO_SOURCE, /* auto, hierarchy, bpf, diskstats */
    CONF_DISKS,     /* default, or disk names separated by commas */
    CONF_CGROUP,    /* auto | off | an absolute path, NOT under root (cgroups are the machine's) */
    CONF_SIZE,      /* bytes, with an optional K, M or G (powers of 1024) */
};

struct conf_key {
    const char *section;
    const char *key;
    enum conf_kind kind;
    size_t offset;
    const char *def;
    unsigned min, max; /* CONF_UINT */
};

#define OFF(f) offsetof(struct daemon_config, f)

static const struct conf_key conf_keys[] = {
    {"daemon", "root", CONF_STRING, OFF(root), "/", 0, 0},
    {"daemon", "node", CONF_STRING, OFF(node), NULL, 0, 0},
    {"daemon", "log_level", CONF_LOG_LEVEL, OFF(log_level), "info", 0, 0},
    {"daemon", "log_target", CONF_LOG_TARGET, OFF(log_target), "auto", 0, 0},
    {"daemon", "lock_memory", CONF_BOOL, OFF(lock_memory), "yes", 0, 0},
    {"paths", "tasks_dir", CONF_PATH, OFF(tasks_dir), "/etc/sentry/tasks", 0, 0},
    {"paths", "run_dir", CONF_PATH, OFF(run_dir), "/run/sentry", 0, 0},
    {"paths", "state_dir", CONF_PATH, OFF(state_dir), "/var/lib/sentry", 0, 0},
    {"paths", "log_dir", CONF_PATH, OFF(log_dir), "/var/log/sentry", 0, 0},
    {"control", "socket", CONF_PATH, OFF(socket_path), NULL, 0, 0},
    /* No default here: SENTRY_GROUP when that group exists (daemon_config_load). */
    {"control", "socket_group", CONF_GROUP, OFF(socket_group), NULL, 0, 0},
    {"control", "socket_mode", CONF_MODE, OFF(socket_mode), "0660", 0, 0},
    {"control", "max_clients", CONF_UINT, OFF(max_clients), "512", 1, 65536},
    {"control", "max_clients_per_uid", CONF_UINT, OFF(max_clients_per_uid), "64", 0, 65536},
    {"control", "reserved_clients", CONF_UINT, OFF(reserved_clients), "32", 0, 65536},
    {"control", "max_pending", CONF_UINT, OFF(max_pending), "1024", 1, 1048576},
    {"tasks", "default_interval", CONF_UINT, OFF(default_interval), "3", 1, 86400 * 365},
    {"tasks", "stop_timeout", CONF_UINT, OFF(stop_timeout), "10", 1, 3600},
    {"tasks", "hook_timeout", CONF_UINT, OFF(hook_timeout), "30", 1, 3600},
    {"tasks", "start_grace_ms", CONF_UINT, OFF(start_grace_ms), "1000", 0, 60000},
    {"tasks", "cgroup", CONF_CGROUP, OFF(task_cgroup), "auto", 0, 0},
    {"tasks", "log_max_size", CONF_SIZE, OFF(task_log_max_size), "10M", 16384, 1073741824},
    {"tasks", "log_max_files", CONF_UINT, OFF(task_log_max_files), "3", 1, 100},
    {"alarms", "store", CONF_PATH, OFF(store_path), NULL, 0, 0},
    {"alarms", "sync", CONF_SYNC, OFF(store_sync_full), "normal", 0, 0},
    {"alarms", "retention_count", CONF_U64, OFF(retention_count), "1000000", 0, 0},
    {"alarms", "retention_days", CONF_UINT, OFF(retention_days), "30", 0, 36500},
    {"alarms", "log", CONF_ALARM_LOG, OFF(alarm_log_mode), "auto", 0, 0},
    {"alarms", "log_file", CONF_PATH, OFF(alarm_log_file), NULL, 0, 0},
    {"alarms", "max_inflight", CONF_UINT, OFF(max_inflight), "65536", 1024, 1048576},
    {"alarms", "subscriber_queue", CONF_UINT, OFF(subscriber_queue), "4096", 16, 1048576},
    {"alarms", "subscriber_sndbuf", CONF_UINT, OFF(subscriber_sndbuf), "2097152", 65536, 67108864},
    {"alarms", "rate_limit_burst", CONF_UINT, OFF(rate_limit_burst), "10000", 0, 100000000},
    {"alarms", "rate_limit_interval", CONF_UINT, OFF(rate_limit_interval), "30", 0, 86400},
    {"xalarm", "enabled", CONF_BOOL, OFF(xalarm_enabled), "yes", 0, 0},
    {"xalarm", "dir", CONF_PATH, OFF(xalarm_dir), "/var/run/xalarm", 0, 0},
    {"xalarm", "id_mask", CONF_ID_MASK, OFF(xalarm_id_mask), "1001-1128", 0, 0},
    {"xalarm", "max_clients", CONF_UINT, OFF(xalarm_max_clients), "100", 1, 65536},
    {"xalarm", "max_clients_per_uid", CONF_UINT, OFF(xalarm_max_clients_per_uid), "32", 0, 65536},
    {"xalarm", "reserved_clients", CONF_UINT, OFF(xalarm_reserved_clients), "10", 0, 65536},
    {"xalarm", "kernel_switch_dir", CONF_PATH, OFF(kernel_switch_dir), "/proc", 0, 0},
    {"xalarm", "module_loader", CONF_STRING, OFF(module_loader), "/usr/sbin/modprobe", 0, 0},
    {"metrics", "textfile_dir", CONF_PATH, OFF(metrics_dir), NULL, 0, 0},
    {"metrics", "interval", CONF_UINT, OFF(metrics_interval), "15", 1, 3600},
    {"collector", "enabled", CONF_BOOL, OFF(collector_enabled), "yes", 0, 0},
    {"collector", "source", CONF_IO_SOURCE, OFF(collector_source), "auto", 0, 0},
    {"collector", "period_time", CONF_UINT, OFF(collector_period_time), "1", 1, 300},
    {"collector", "max_save", CONF_UINT, OFF(collector_max_save), "10", 1, 300},
    {"collector", "disk", CONF_DISKS, OFF(collector_disks), "default", 0, 0},
    {"collector", "lease", CONF_UINT, OFF(collector_lease), "60", 1, 86400},
    {"collector", "nvme_ssd_threshold", CONF_UINT, OFF(dump_threshold_ms[0]), "1000", 1, 3600000},
    {"collector", "sata_ssd_threshold", CONF_UINT, OFF(dump_threshold_ms[1]), "1000", 1, 3600000},
    {"collector", "sata_hdd_threshold", CONF_UINT, OFF(dump_threshold_ms[2]), "1000", 1, 3600000},
    {"collector", "virtual_threshold", CONF_UINT, OFF(dump_threshold_ms[3]), "1000", 1, 3600000},
};

static bool disk_list_is_valid(const char *v)
{
    char buf[4096];
    unsigned n = 0;

    if (strlen(v) >= sizeof(buf))
        return false;
    strcpy(buf, v);
    char *save = NULL;
    for (char *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save), n++)
        if (!disk_name_is_valid(t))
            return false;
    return n > 0 && n <= 64;
}

/* "10485760", "10M", "10MiB", "64K": bytes. -EINVAL. */
static int parse_size(const char *v, uint64_t *ret)
{
    char digits[32];
    size_t n = strspn(v, "0123456789");
    uint64_t u, mult = 1;

    if (n == 0 || n >= sizeof(digits))
        return -EINVAL;
    memcpy(digits, v, n);
    digits[n] = 0;
    if (parse_uint_digits(digits, &u) < 0)
        return -EINVAL;
    const char *unit = v + n;
    if (*unit) {
        switch (*unit) {
        case 'K':
        case 'k':
            mult = 1024;
            break;
        case 'M':
        case 'm':
            mult = 1024 * 1024;
            break;
        case 'G':
        case 'g':
            mult = 1024 * 1024 * 1024;
            break;
        default:
            return -EINVAL;
        }
        unit++;
        if (*unit && !streq(unit, "iB") && !streq(unit, "B"))
            return -EINVAL;
    }
    if (u > UINT64_MAX / mult)
        return -EINVAL;
    *ret = u * mult;
    return 0;
}

/* Parses one value into its field. 0, or -EINVAL with *why. */
static int conf_parse_value(const struct conf_key *k, const char *v, struct daemon_config *c,
                            const char **why)
{
    void *field = (char *) c + k->offset;
    uint64_t u;
    int r;

    switch (k->kind) {
    case CONF_STRING:
        if (!string_is_printable(v, 255)) {
            *why = "must be printable text of at most 255 bytes";
            return -EINVAL;
        }
        break;
    case CONF_PATH:
        if (v[0] != '/' || strlen(v) >= PATH_MAX / 2 || strstr(v, "/../") || endswith(v, "/..")) {
            *why = "must be an absolute path without '..'";
            return -EINVAL;
        }
        break;
    case CONF_GROUP:
        if (!*v || !getgrnam(v)) {
            *why = "no such group";
            return -EINVAL;
        }
        break;
    case CONF_UINT:
        r = parse_uint_digits(v, &u);
        if (r < 0 || u < k->min || u > k->max) {
            *why = "out of range or not a number";
            return -EINVAL;
        }
        *(unsigned *) field = (unsigned) u;
        return 0;
    case CONF_MODE: {
        char *end;
        unsigned long m = strtoul(v, &end, 8);
        if (!*v || *end || m > 0777) {
            *why = "must be an octal mode such as 0660";
            return -EINVAL;
        }
        *(unsigned *) field = (unsigned) m;
        return 0;
    }
    case CONF_BOOL: {
        bool b;
        if (parse_boolean(v, &b) < 0) {
            *why = "must be yes or no";
            return -EINVAL;
        }
        *(bool *) field = b;
        return 0;
    }
    case CONF_U64:
        if (parse_uint_digits(v, &u) < 0) {
            *why = "must be a non-negative integer";
            return -EINVAL;
        }
        *(uint64_t *) field = u;
        return 0;
    case CONF_SYNC:
        if (!streq(v, "normal") && !streq(v, "full")) {
            *why = "must be normal or full";
            return -EINVAL;
        }
        *(bool *) field = streq(v, "full");
        return 0;
    case CONF_ALARM_LOG:
        r = alarm_log_mode_from_string(v);
        if (r < 0) {
            *why = "must be one of auto, journal, file, none";
            return -EINVAL;
        }
        *(int *) field = r;
        return 0;
    case CONF_ID_MASK:
        if (!string_is_printable(v, 1000)) {
            *why = "must be a list of ids and ranges such as 1001-1128";
            return -EINVAL;
        }
        break;
    case CONF_IO_SOURCE: {
        enum io_source_kind order[_IO_SOURCE_KIND_MAX];
        if (io_source_spec_parse(v, order) < 0) {
            *why = "must be auto, or some of hierarchy, bpf, diskstats in order of preference, "
                   "separated by commas";
            return -EINVAL;
        }
        break;
    }
    case CONF_CGROUP:
        if (!streq(v, "auto") && !streq(v, "off") &&
            (v[0] != '/' || strlen(v) >= PATH_MAX / 2 || strstr(v, "/../") || endswith(v, "/..") ||
             strstr(v, "/./") || endswith(v, "/.") || !string_is_printable(v, PATH_MAX / 2))) {
            *why = "must be auto, off, or the absolute path of a directory in a cgroup2 file "
                   "system";
            return -EINVAL;
        }
        break;
    case CONF_SIZE:
        r = parse_size(v, &u);
        if (r < 0 || u < k->min || u > k->max) {
            *why = "must be a size in bytes from 16K to 1G (a K, M or G may follow the number)";
            return -EINVAL;
        }
        *(uint64_t *) field = u;
        return 0;
    case CONF_DISKS:
        if (!streq(v, "default") && !disk_list_is_valid(v)) {
            *why = "must be default or disk names separated by commas (at most 64)";
            return -EINVAL;
        }
        break;
    case CONF_LOG_LEVEL:
        r = log_level_from_string(v);
        if (r < 0) {
            *why = "must be one of error, warning, notice, info, debug";
            return -EINVAL;
        }
        *(int *) field = r;
        return 0;
    case CONF_LOG_TARGET:
        r = log_target_from_string(v);
        if (r < 0) {
            *why = "must be one of auto, journal, stderr";
            return -EINVAL;
        }
        *(int *) field = r;
        return 0;
    }
    char *copy = strdup(v);
    if (!copy)
        return -ENOMEM;
    free(*(char **) field);
    *(char **) field = copy;
    return 0;
}

static void conf_apply_defaults(struct daemon_config *c)
{
    for (size_t i = 0; i < ELEMENTSOF(conf_keys); i++) {
        const char *why;
        if (conf_keys[i].def)
            (void) conf_parse_value(&conf_keys[i], conf_keys[i].def, c, &why);
    }
}

static const struct conf_key *conf_find(const char *section, const char *key)
{
    for (size_t i = 0; i < ELEMENTSOF(conf_keys); i++)
        if (streq(conf_keys[i].section, section) && strcasecmp(conf_keys[i].key, key) == 0)
            return &conf_keys[i];
    return NULL;
}

static bool conf_known_section(const char *section)
{
    for (size_t i = 0; i < ELEMENTSOF(conf_keys); i++)
        if (streq(conf_keys[i].section, section))
            return true;
    return false;
}

/* Puts a path under root ("/" + "/run/x" = "/run/x"; "/tmp/r" + "/run/x" = "/tmp/r/run/x"). */
static int conf_root_path(const char *root, char **p)
{
    char *n;
    if (!*p || streq(root, "/"))
        return 0;
    size_t rl = strlen(root);
    while (rl > 1 && root[rl - 1] == '/')
        rl--;
    if (asprintf(&n, "%.*s%s", (int) rl, root, *p) < 0)
        return -ENOMEM;
    free(*p);
    *p = n;
    return 0;
}

/* Applies the entries of the file over the defaults; a bad value keeps its default. */
static int conf_apply_file(const struct ini_file *ini, struct daemon_config *c,
                           struct config_msgs *msgs)
{
    int r;

    for (size_t i = 0; i < ini->n_entries; i++) {
        const struct ini_entry *e = &ini->entries[i];
        const struct conf_key *k = conf_find(e->section, e->key);
        const char *why = NULL;

        if (!k) {
            r = config_msgs_add(msgs, CONFIG_MSG_WARNING, "%s: unknown %s [%s] %s, ignored",
                                ini->path, conf_known_section(e->section) ? "key" : "section",
                                e->section, e->key);
            if (r < 0)
                return r;
            continue;
        }
        r = conf_parse_value(k, e->value, c, &why);
        if (r == -EINVAL)
            r = config_msgs_add_key(msgs, CONFIG_MSG_WARNING, ini->path, e->section, e->key,
                                    e->value, "%s; using %s", why, k->def ? k->def : "the default");
        if (r < 0)
            return r;
    }
    return 0;
}

int daemon_config_load(const char *path, bool path_explicit, const char *root_override,
                       struct daemon_config *c)
{
    _cleanup_(ini_file_done) struct ini_file ini = {};
    _cleanup_(config_msgs_done) struct config_msgs msgs = {};
    int r;

    *c = (struct daemon_config){0};
    conf_apply_defaults(c);
    if (!path)
        path = SENTRY_DEFAULT_CONFIG;

    r = ini_file_load(&ini, AT_FDCWD, path, NULL, INI_FILE_MERGE_SECTIONS, INI_FILE_SIZE_MAX,
                      &msgs);
    if (r == -ENOENT && !path_explicit)
        log_info("%s not found, using the built-in defaults", path);
    else {
        /* A file that breaks the syntax is refused whole: its intent is unclear. */
        if (r >= 0 && msgs.n_errors > 0)
            r = -EBADMSG;
        if (r >= 0)
            r = conf_apply_file(&ini, c, &msgs);
        config_msgs_log(&msgs);
        if (r >= 0) {
            c->config_path = strdup(path);
            r = c->config_path ? 0 : -ENOMEM;
        }
        if (r < 0) {
            daemon_config_done(c);
            return r;
        }
    }

    if (root_override) {
        free(c->root);
        c->root = strdup(root_override);
    }
    if (!c->root || c->root[0] != '/') {
        log_error("root must be an absolute path");
        daemon_config_done(c);
        return -EINVAL;
    }
    char **paths[] = {&c->tasks_dir,   &c->run_dir,          &c->state_dir,      &c->log_dir,
                      &c->socket_path, &c->store_path,       &c->alarm_log_file, &c->xalarm_dir,
                      &c->metrics_dir, &c->kernel_switch_dir};
    for (size_t i = 0; i < ELEMENTSOF(paths); i++)
        if (conf_root_path(c->root, paths[i]) < 0)
            return -ENOMEM;
    /* Defaults derived from the directories. */
    if (!c->socket_path && asprintf(&c->socket_path, "%s/sentryd.sock", c->run_dir) < 0)
        return -ENOMEM;
    if (!c->store_path && asprintf(&c->store_path, "%s/alarms.db", c->state_dir) < 0)
        return -ENOMEM;
    if (!c->alarm_log_file && asprintf(&c->alarm_log_file, "%s/alarms.log", c->log_dir) < 0)
        return -ENOMEM;
    /* The operators' group, created at installation, owns the sockets when it exists. */
    if (!c->socket_group && getgrnam(SENTRY_GROUP) && !(c->socket_group = strdup(SENTRY_GROUP)))
        return -ENOMEM;
    if (!c->node) {
        char host[HOST_NAME_MAX + 1] = "localhost";
        if (gethostname(host, sizeof(host)) < 0)
            strcpy(host, "localhost");
        host[HOST_NAME_MAX] = 0;
        c->node = strdup(host);
    }
    return c->node ? 0 : -ENOMEM;
}

void daemon_config_done(struct daemon_config *c)
{
    free(c->config_path);
    free(c->root);
    free(c->node);
    free(c->tasks_dir);
    free(c->run_dir);
    free(c->state_dir);
    free(c->log_dir);
    free(c->socket_path);
    free(c->socket_group);
    free(c->store_path);
    free(c->alarm_log_file);
    free(c->xalarm_dir);
    free(c->xalarm_id_mask);
    free(c->kernel_switch_dir);
    free(c->module_loader);
    free(c->metrics_dir);
    free(c->collector_source);
    free(c->collector_disks);
    free(c->task_cgroup);
    *c = (struct daemon_config){0};
}
