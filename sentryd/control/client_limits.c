/* client_limits.c: see client_limits.h. */
#include <fcntl.h>
#include <stdio.h>

#include "client_limits.h"
#include "macro.h"

#define ANCESTRY_MAX 64

bool process_descends_from(const char *proc_root, pid_t pid, pid_t ancestor)
{
    for (int depth = 0; depth < ANCESTRY_MAX && pid > 1; depth++) {
        char path[256], buf[1024];
        _cleanup_close_ int fd = -EBADF;

        if (pid == ancestor)
            return depth > 0; /* sentryd itself is not one of its tasks */
        snprintf(path, sizeof(path), "%s/%d/stat", proc_root, (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
            return false;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
            return false;
        buf[n] = 0;
        /* "pid (comm) state ppid ...": comm may hold anything, so look after its last ')' */
        const char *p = strrchr(buf, ')');
        int ppid;
        char state;
        if (!p || sscanf(p + 1, " %c %d", &state, &ppid) != 2 || ppid < 0)
            return false;
        pid = (pid_t) ppid;
    }
    return pid == ancestor;
}

int process_cgroup(const char *proc_root, pid_t pid, char *buf, size_t size)
{
    char path[256];
    _cleanup_fclose_ FILE *f = NULL;
    char line[4096];

    snprintf(path, sizeof(path), "%s/%d/cgroup", proc_root, (int) pid);
    f = fopen(path, "re");
    if (!f)
        return -errno;
    while (fgets(line, sizeof(line), f)) {
        /* the unified hierarchy: "0::/system.slice/sentryd.service" */
        const char *p = startswith(line, "0::");
        if (!p)
            continue;
        size_t n = strcspn(p, "\n");
        if (n == 0 || n >= size)
            return -ENAMETOOLONG;
        memcpy(buf, p, n);
        buf[n] = 0;
        return 0;
    }
    return -ENOENT;
}

bool cgroup_is_below(const char *path, const char *base)
{
    size_t n = strlen(base);
    /* below the root cgroup is everyone: that proves nothing */
    if (n == 0 || streq(base, "/"))
        return false;
    return strncmp(path, base, n) == 0 && path[n] == '/' && path[n + 1] != 0;
}

static bool default_is_own_process(pid_t pid, void *userdata)
{
    struct client_limits *l = userdata;
    char cg[1024];

    if (pid <= 0)
        return false;
    if (process_descends_from("/proc", pid, getpid()))
        return true;
    return l->own_cgroup && process_cgroup("/proc", pid, cg, sizeof(cg)) >= 0 &&
           cgroup_is_below(cg, l->own_cgroup);
}

void client_limits_init(struct client_limits *l, const struct client_limits_config *c)
{
    char cg[1024];

    *l = (struct client_limits){
        .config = *c,
        .is_own_process = default_is_own_process,
    };
    l->userdata = l;
    if (process_cgroup("/proc", getpid(), cg, sizeof(cg)) >= 0)
        l->own_cgroup = strdup(cg); /* NULL: recognised by parentage only */
}

void client_limits_done(struct client_limits *l)
{
    free(l->uids);
    l->uids = NULL;
    l->n_uids = l->cap_uids = 0;
    free(l->own_cgroup);
    l->own_cgroup = NULL;
}

unsigned client_limits_shared(const struct client_limits *l)
{
    unsigned reserve = MIN(l->config.reserved, l->config.max_clients / 2);
    return l->config.max_clients - reserve;
}

static struct client_uid_count *uid_count_find(const struct client_limits *l, uid_t uid)
{
    for (size_t i = 0; i < l->n_uids; i++)
        if (l->uids[i].uid == uid)
            return &l->uids[i];
    return NULL;
}

unsigned client_limits_count_uid(const struct client_limits *l, uid_t uid)
{
    struct client_uid_count *u = uid_count_find(l, uid);
    return u ? u->n : 0;
}

static int uid_count_add(struct client_limits *l, uid_t uid)
{
    struct client_uid_count *u = uid_count_find(l, uid);
    if (!u) {
        if (l->n_uids == l->cap_uids) {
            size_t cap = l->cap_uids ? l->cap_uids * 2 : 8;
            struct client_uid_count *a = realloc(l->uids, cap * sizeof(*a));
            if (!a)
                return -ENOMEM;
            l->uids = a;
            l->cap_uids = cap;
        }
        u = &l->uids[l->n_uids++];
        *u = (struct client_uid_count){.uid = uid};
    }
    u->n++;
    return 0;
}

static void uid_count_remove(struct client_limits *l, uid_t uid)
{
    struct client_uid_count *u = uid_count_find(l, uid);
    if (!u)
        return;
    if (--u->n == 0)
        *u = l->uids[--l->n_uids];
}

int client_limits_admit(struct client_limits *l, uid_t uid, pid_t pid, struct client_slot *slot,
                        const char **why)
{
    *slot = (struct client_slot){.uid = uid};
    if (l->n_total >= l->config.max_clients) {
        *why = "too many clients (max_clients)";
        return -EUSERS;
    }
    if (uid != 0) {
        bool uid_full =
            l->config.per_uid > 0 && client_limits_count_uid(l, uid) >= l->config.per_uid;
        bool shared_full = l->n_shared >= client_limits_shared(l);
        if (!uid_full && !shared_full) {
            if (uid_count_add(l, uid) < 0) {
                *why = "out of memory";
                return -EUSERS;
            }
            l->n_shared++;
            l->n_total++;
            slot->held = true;
            return 0;
        }
        if (!l->is_own_process || !l->is_own_process(pid, l->userdata)) {
            *why = uid_full ? "too many connections from this uid (max_clients_per_uid)"
                            : "too many clients: the remaining connections are kept for root "
                              "and sentryd's tasks (reserved_clients)";
            return -EUSERS;
        }
    }
    /* root, or one of sentryd's tasks: any free slot, the reserved ones included */
    slot->privileged = true;
    slot->held = true;
    l->n_total++;
    return 0;
}

void client_limits_release(struct client_limits *l, struct client_slot *slot)
{
    if (!slot->held)
        return;
    slot->held = false;
    l->n_total--;
    if (!slot->privileged) {
        l->n_shared--;
        uid_count_remove(l, slot->uid);
    }
}
