/* daemon_config.h: sentryd.conf, the daemon's own configuration (docs/sentryd.conf.md).
 *
 * Every path of sentryd lies under one root (default "/"), so a test can run a complete daemon
 * in a temporary directory. A bad value gets its default and a warning that names the file,
 * the section, the key and the value; an unknown key gets a warning. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct daemon_config {
    char *config_path; /* the file read, or NULL when none was */
    char *root;        /* prefix of every path below */
    char *node;        /* node name in alarms; default: the host name */
    int log_level;
    int log_target;
    bool lock_memory; /* mlockall (memory_lock.h) */
    /* absolute paths, root already applied */
    char *tasks_dir;
    char *run_dir;
    char *state_dir;
    char *log_dir;
    char *socket_path;
    /* control socket */
    char *socket_group; /* NULL: root's group (root only); default SENTRY_GROUP when it exists */
    unsigned socket_mode;
    unsigned max_clients;
    unsigned max_clients_per_uid; /* connections of one uid other than 0 */
    unsigned reserved_clients;    /* kept for root and sentryd's own tasks */
    unsigned max_pending;         /* requests of one connection waiting for a deferred answer */
    /* tasks */
    unsigned default_interval;
    unsigned stop_timeout;
    unsigned hook_timeout;
    unsigned start_grace_ms;     /* a start is answered after this, or when the process ends */
    char *task_cgroup;           /* auto, off, or a directory in a cgroup2 file system */
    uint64_t task_log_max_size;  /* bytes per task log file */
    unsigned task_log_max_files; /* task log files kept, the current one included */
    /* alarms */
    char *store_path;
    bool store_sync_full;
    uint64_t retention_count;
    unsigned retention_days;
    int alarm_log_mode; /* enum alarm_log_mode */
    char *alarm_log_file;
    unsigned max_inflight;
    unsigned subscriber_queue;    /* alarms waiting for a subscriber before it reads the store */
    unsigned subscriber_sndbuf;   /* kernel send buffer of a subscriber's socket */
    unsigned rate_limit_burst;    /* alarms per reporter (uid, source) and interval; 0: none */
    unsigned rate_limit_interval; /* seconds; 0: no limit */
    /* xalarm */
    bool xalarm_enabled;
    char *xalarm_dir;
    char *xalarm_id_mask;
    unsigned xalarm_max_clients;
    unsigned xalarm_max_clients_per_uid;
    unsigned xalarm_reserved_clients;
    char *kernel_switch_dir; /* the kernel module's /proc (event switches, `set`) */
    char *module_loader;     /* modprobe; "": never load the module */
    /* metrics */
    char *metrics_dir; /* NULL: no textfile */
    unsigned metrics_interval;
    /* io collector */
    bool collector_enabled;
    char *collector_source; /* auto, hierarchy, bpf, diskstats */
    unsigned collector_period_time;
    unsigned collector_max_save;
    char *collector_disks; /* "default" or a list */
    unsigned collector_lease;
    unsigned dump_threshold_ms[4]; /* nvme_ssd, sata_ssd, sata_hdd, virtual */
};

/* Reads path (NULL: the built-in default path, which may be missing). root_override (may be
 * NULL) replaces [daemon] root. Warnings are logged. -errno only when an explicitly given file
 * cannot be read or parsed. */
int daemon_config_load(const char *path, bool path_explicit, const char *root_override,
                       struct daemon_config *ret);
void daemon_config_done(struct daemon_config *c);
