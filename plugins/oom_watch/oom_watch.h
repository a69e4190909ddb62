/* oom_watch.h: what the watchers of oom_watch share at run time: the configuration, the
 * connection to sentryd, the node name and the alarm gate. Each source (PSI, memcg counters,
 * the OOM victim event, pstore) is a watcher of its own that can be off alone: a source this
 * kernel lacks costs only what depends on it. */
#pragma once

#include <poll.h>
#include <sentry/sentry.h>
#include <stdint.h>

#include "alarm_gate.h"
#include "oom_config.h"

#define OOM_WATCH_FDS_MAX 256
/* Largest /proc or /sys file read whole; the files read are a few hundred bytes. */
#define OOM_WATCH_READ_MAX 16384

struct oom_watch {
    const struct oom_config *cfg;
    sentry_client *client;
    const char *task;
    char node[256];
    struct alarm_gate gate;
};

/* Reports an alarm of id at level with key and the JSON object text (taken, freed here),
 * through the gate (one per id, text "event" and key per interval): a held-back alarm is only
 * counted; the next one that goes out carries "held_back": N. 0 when stored by sentryd, 1 when held
 * back, -errno when not reported. */
struct json_object;
int oom_watch_alarm(struct oom_watch *w, unsigned id, int level, const char *key,
                    struct json_object *text);
/* A JSON object with alarm_source, event and node set. */
struct json_object *oom_watch_text_new(struct oom_watch *w, const char *event);
uint64_t now_monotonic_usec(void);

/* Every watcher: open (0, or -errno when its source is missing: it is then off, said once),
 * its fds into a pollfd array, the work after poll(), and close. */
struct watch_psi;
int watch_psi_open(struct oom_watch *w, struct watch_psi **ret);
int watch_psi_fds(struct watch_psi *p, struct pollfd *fds, int max);
void watch_psi_handle(struct watch_psi *p, const struct pollfd *fds, int n);
struct watch_psi *watch_psi_close(struct watch_psi *p);

struct watch_memcg;
int watch_memcg_open(struct oom_watch *w, struct watch_memcg **ret);
int watch_memcg_fds(struct watch_memcg *m, struct pollfd *fds, int max);
/* Drains the wake-ups and reads every cgroup's counters (also called on the poll timeout). */
void watch_memcg_handle(struct watch_memcg *m, const struct pollfd *fds, int n);
struct watch_memcg *watch_memcg_close(struct watch_memcg *m);

struct watch_victim;
int watch_victim_open(struct oom_watch *w, struct watch_victim **ret);
int watch_victim_fds(struct watch_victim *v, struct pollfd *fds, int max);
void watch_victim_handle(struct watch_victim *v, const struct pollfd *fds, int n);
struct watch_victim *watch_victim_close(struct watch_victim *v);

/* Reports the panics in the pstore directory not reported before; once, at start. */
int pstore_scan(struct oom_watch *w);

/* Where a cgroup directory sits (version, name), from /proc/self/mounts. */
struct cgroup_where;
int oom_watch_cgroup_where(const char *dir, struct cgroup_where *ret);
/* Reads a small /proc or /sys file whole (at most OOM_WATCH_READ_MAX bytes) into buf. */
int oom_watch_read(const char *path, char *buf, size_t size, size_t *len);
