/* daemon_config.h: sentryd.conf, the daemon's own configuration (docs/sentryd.conf.md).
 *
 * Every path of sentryd lies under one root (default "/"), so a test can run a complete daemon
 * in a temporary directory. A bad value gets its default and a warning that names the file,
 * the section, the key and the value; an unknown key gets a warning. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct daemon_config {
    char *config_path; /* the file read, or NULL when none was */
    char *root;        /* prefix of every path below */
    char *node;        /* node name in alarms; default: the host name */
    int log_level;
    int log_target;
    /* absolute paths, root already applied */
    char *tasks_dir;
    char *run_dir;
    char *state_dir;
    char *log_dir;
    char *socket_path;
    /* control socket */
    char *socket_group; /* NULL: root's group */
    unsigned socket_mode;
    unsigned max_clients;
    /* tasks */
    unsigned default_interval;
    unsigned stop_timeout;
    unsigned hook_timeout;
};

/* Reads path (NULL: the built-in default path, which may be missing). root_override (may be
 * NULL) replaces [daemon] root. Warnings are logged. -errno only when an explicitly given file
 * cannot be read or parsed. */
int daemon_config_load(const char *path, bool path_explicit, const char *root_override,
                       struct daemon_config *ret);
void daemon_config_done(struct daemon_config *c);
