/* client_limits.h: who may take one of a socket's connection slots, so that one user cannot lock
 * root and sentryd's own tasks out (used by socket_listener.c for the control socket and the
 * xalarm alarm socket).
 *
 *   - at most max_clients connections in all;
 *   - a uid other than 0 holds at most per_uid of them;
 *   - `reserved` slots (at most half of max_clients) are kept for "privileged" peers: uid 0, and
 *     the processes sentryd started (its tasks and their hooks, which connect with
 *     $SENTRY_SOCKET as the task's user). Other uids share the rest.
 *
 * sentryd recognises its own tasks by the peer's pid (SO_PEERCRED): a process whose chain of
 * parents in /proc reaches sentryd, or that lives in a cgroup strictly below sentryd's own (where
 * [tasks] cgroup = auto puts every task, so a task that daemonized is still known; never when
 * sentryd sits in the root cgroup). Only asked when a peer would otherwise be refused, so the
 * common case reads nothing. pid reuse between connect() and the check can only ever grant a
 * reserved slot, never a permission (verbs check the uid). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct client_limits_config {
    unsigned max_clients;
    unsigned per_uid;  /* 0: no per-uid limit */
    unsigned reserved; /* for uid 0 and sentryd's tasks; at most max_clients / 2 is used */
};

/* What a connection holds; given back with client_limits_release(). */
struct client_slot {
    uid_t uid;
    bool privileged; /* counted in the reserved share, not in its uid's */
    bool held;
};

struct client_uid_count {
    uid_t uid;
    unsigned n;
};

struct client_limits {
    struct client_limits_config config;
    unsigned n_total;  /* every connection */
    unsigned n_shared; /* connections not privileged */
    struct client_uid_count *uids;
    size_t n_uids, cap_uids;
    /* Is pid one of sentryd's own processes (a task)? Replaceable for tests. */
    bool (*is_own_process)(pid_t pid, void *userdata);
    void *userdata;
    char *own_cgroup; /* sentryd's cgroup v2 path, NULL when unknown */
};

void client_limits_init(struct client_limits *l, const struct client_limits_config *c);
void client_limits_done(struct client_limits *l);
/* The slots uids other than 0 share (max_clients less the reserve). */
unsigned client_limits_shared(const struct client_limits *l);

/* Admits a peer: 0 and *slot filled; -EUSERS with *why (static text, for the refusal message
 * and the log) when it may not have a slot. */
int client_limits_admit(struct client_limits *l, uid_t uid, pid_t pid, struct client_slot *slot,
                        const char **why);
void client_limits_release(struct client_limits *l, struct client_slot *slot);
/* Connections uid holds in the shared part. */
unsigned client_limits_count_uid(const struct client_limits *l, uid_t uid);

/* Whether pid's chain of parents (read from <proc_root>/<pid>/stat) reaches ancestor, at most 64
 * generations up. false when pid or a parent cannot be read (it exited). */
bool process_descends_from(const char *proc_root, pid_t pid, pid_t ancestor);
/* pid's cgroup v2 path ("/system.slice/sentryd.service") from <proc_root>/<pid>/cgroup. */
int process_cgroup(const char *proc_root, pid_t pid, char *buf, size_t size);
/* Whether cgroup path lies strictly below base; never below "/" (that is everyone). */
bool cgroup_is_below(const char *path, const char *base);
