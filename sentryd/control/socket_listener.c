/* socket_listener.c: see socket_listener.h. */
#include <grp.h>
#include <inttypes.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "log.h"
#include "socket_listener.h"
#include "time_util.h"

#define LISTEN_BACKLOG     256
#define ACCEPT_BUDGET      64                    /* connections accepted per wake-up */
#define ACCEPT_RETRY_USEC  (250 * USEC_PER_MSEC) /* after EMFILE, unless a connection closes */
#define REFUSAL_LOG_BURST  50                    /* refusals logged per REFUSAL_LOG_PERIOD */
#define REFUSAL_LOG_PERIOD (10 * USEC_PER_SEC)

struct socket_listener {
    sd_event *event;
    int fd;
    char *what;
    sd_event_source *io;
    sd_event_source *retry; /* re-enables accepting after an episode of EMFILE */
    struct client_limits limits;
    socket_accept_fn on_accept;
    socket_refuse_fn on_refuse;
    void *userdata;
    /* an episode of failing accept(): logged once at its start and once at its end */
    bool starved;
    int starved_error;
    usec_t starved_since;
    uint64_t starved_attempts;
    /* refused peers are logged at most REFUSAL_LOG_BURST per period */
    usec_t refusal_log_begin;
    unsigned refusal_logged;
    uint64_t refusal_unlogged;
};

/* ---- binding ---------------------------------------------------------------------------------
 */

/* Who may connect: the socket file's mode and group. A group that cannot be given leaves the
 * socket to root (and to others only if the mode says so): never wider than configured. */
static int socket_set_access(const char *path, unsigned mode, const char *group)
{
    if (chmod(path, mode) < 0)
        return log_error_errno(errno, "chmod %s: %m", path);
    if (!group)
        return 0;
    errno = 0;
    struct group *g = getgrnam(group);
    if (!g)
        log_warning_errno(errno ? errno : ENOENT, "%s keeps group root: group '%s' not found: %m",
                          path, group);
    else if (chown(path, (uid_t) -1, g->gr_gid) < 0)
        log_warning_errno(errno, "%s keeps group root: cannot give it to group '%s': %m", path,
                          group);
    else
        log_debug("%s: mode %04o, group %s", path, mode, group);
    return 0;
}

int socket_bind(const char *path, int type, unsigned mode, const char *group, const char *what,
                int *ret_fd)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    _cleanup_close_ int fd = -EBADF, probe = -EBADF;
    int r;

    if (strlen(path) >= sizeof(sa.sun_path))
        return log_error_errno(ENAMETOOLONG, "%s path %s is too long", what, path);
    strcpy(sa.sun_path, path);
    /* A server that answers there (another sentryd, a running xalarmd) keeps its socket. */
    probe = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (probe >= 0 && connect(probe, (struct sockaddr *) &sa, sizeof(sa)) == 0)
        return log_error_errno(EADDRINUSE,
                               "another server answers on %s (%s): stop it, or configure "
                               "another path",
                               path, what);
    fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return log_error_errno(errno, "%s: socket: %m", what);
    if (unlink(path) < 0 && errno != ENOENT)
        return log_error_errno(errno, "cannot remove stale %s: %m", path);
    if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
        return log_error_errno(errno, "cannot bind %s: %m", path);
    r = socket_set_access(path, mode, group);
    if (r < 0)
        return r;
    if (type == SOCK_STREAM && listen(fd, LISTEN_BACKLOG) < 0)
        return log_error_errno(errno, "listen on %s: %m", path);
    *ret_fd = TAKE_FD(fd);
    return 0;
}

/* ---- descriptors -----------------------------------------------------------------------------
 */

unsigned fd_limit_ensure(unsigned need, const char *for_what)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
        log_warning_errno(errno, "cannot read the file descriptor limit: %m");
        return need;
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        rlim_t want = rl.rlim_max == RLIM_INFINITY ? need : MIN((rlim_t) need, rl.rlim_max);
        if (want > rl.rlim_cur) {
            struct rlimit raised = {.rlim_cur = want, .rlim_max = rl.rlim_max};
            if (setrlimit(RLIMIT_NOFILE, &raised) < 0)
                log_warning_errno(errno,
                                  "cannot raise the file descriptor limit to %" PRIu64 ": %m",
                                  (uint64_t) want);
            else {
                log_info("file descriptor limit raised from %" PRIu64 " to %" PRIu64 " for %s",
                         (uint64_t) rl.rlim_cur, (uint64_t) want, for_what);
                rl.rlim_cur = want;
            }
        }
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need)
        log_warning("%s need %u file descriptors but sentryd may open only %" PRIu64
                    " (RLIMIT_NOFILE, hard limit %" PRIu64 "): not that many clients can "
                    "connect at once; raise LimitNOFILE= of the service, or lower max_clients",
                    for_what, need, (uint64_t) rl.rlim_cur, (uint64_t) rl.rlim_max);
    return rl.rlim_cur == RLIM_INFINITY ? UINT32_MAX : (unsigned) MIN(rl.rlim_cur, UINT32_MAX);
}

/* ---- accepting -------------------------------------------------------------------------------
 */

/* accept() fails for want of resources (or for a reason that would make it fail again at
 * once): stop watching the socket until a connection closes or the retry timer fires. */
static void listener_starve(struct socket_listener *l, int error)
{
    l->starved_attempts++;
    if (!l->starved) {
        l->starved = true;
        l->starved_error = error;
        l->starved_since = now_usec(CLOCK_MONOTONIC);
        l->starved_attempts = 1;
        log_warning_errno(error,
                          "cannot accept connections on the %s: %m; waiting until a connection "
                          "closes (clients wait in the listen queue meanwhile)",
                          l->what);
    }
    (void) sd_event_source_set_enabled(l->io, SD_EVENT_OFF);
    (void) sd_event_source_set_time_relative(l->retry, ACCEPT_RETRY_USEC);
    (void) sd_event_source_set_enabled(l->retry, SD_EVENT_ONESHOT);
}

static void listener_resume(struct socket_listener *l)
{
    (void) sd_event_source_set_enabled(l->retry, SD_EVENT_OFF);
    (void) sd_event_source_set_enabled(l->io, SD_EVENT_ON);
}

static int on_retry(sd_event_source *src, uint64_t usec, void *userdata)
{
    listener_resume(userdata);
    return 0;
}

static void listener_log_refusal(struct socket_listener *l, const struct ucred *cred,
                                 const char *why)
{
    usec_t now = now_usec(CLOCK_MONOTONIC);

    if (now - l->refusal_log_begin >= REFUSAL_LOG_PERIOD) {
        if (l->refusal_unlogged > 0)
            log_warning("%s: %" PRIu64 " more connections were refused", l->what,
                        l->refusal_unlogged);
        l->refusal_log_begin = now;
        l->refusal_logged = 0;
        l->refusal_unlogged = 0;
    }
    if (l->refusal_logged >= REFUSAL_LOG_BURST) {
        l->refusal_unlogged++;
        return;
    }
    l->refusal_logged++;
    log_warning("%s: refused a client (pid %d uid %d): %s (%u connected)", l->what, (int) cred->pid,
                (int) cred->uid, why, l->limits.n_total);
}

static void listener_take(struct socket_listener *l, int cfd)
{
    struct ucred cred = {.pid = 0, .uid = (uid_t) -1, .gid = (gid_t) -1};
    socklen_t sl = sizeof(cred);
    struct client_slot slot;
    const char *why;

    if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &sl) < 0) {
        log_debug_errno(errno, "%s: cannot learn who connected, closing: %m", l->what);
        close(cfd);
        return;
    }
    if (client_limits_admit(&l->limits, cred.uid, cred.pid, &slot, &why) < 0) {
        listener_log_refusal(l, &cred, why);
        if (l->on_refuse)
            l->on_refuse(cfd, &cred, why, l->userdata);
        close(cfd);
        return;
    }
    if (l->on_accept(cfd, &cred, &slot, l->userdata) < 0) {
        client_limits_release(&l->limits, &slot);
        close(cfd);
    }
}

static int on_listen_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
    struct socket_listener *l = userdata;

    for (int i = 0; i < ACCEPT_BUDGET; i++) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EAGAIN)
                return 0;
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            listener_starve(l, errno);
            return 0;
        }
        if (l->starved) {
            log_info("accepting connections on the %s again, after %.1f s and %" PRIu64 " attempts",
                     l->what, (double) (now_usec(CLOCK_MONOTONIC) - l->starved_since) / 1e6,
                     l->starved_attempts);
            l->starved = false;
        }
        listener_take(l, cfd);
    }
    /* More may wait: the socket stays readable and comes back after the other sources. */
    return 0;
}

int socket_listener_new(const struct socket_listener_params *p, struct socket_listener **ret)
{
    struct socket_listener *l = calloc(1, sizeof(*l));
    int r;

    if (!l) {
        close(p->fd);
        return -ENOMEM;
    }
    l->event = p->event;
    l->fd = p->fd;
    l->on_accept = p->on_accept;
    l->on_refuse = p->on_refuse;
    l->userdata = p->userdata;
    client_limits_init(&l->limits, &p->limits);
    l->what = strdup(p->what);
    if (!l->what) {
        socket_listener_free(l);
        return -ENOMEM;
    }
    r = sd_event_add_io(p->event, &l->io, l->fd, EPOLLIN, on_listen_io, l);
    if (r >= 0)
        r = sd_event_add_time_relative(p->event, &l->retry, CLOCK_MONOTONIC, ACCEPT_RETRY_USEC,
                                       10 * USEC_PER_MSEC, on_retry, l);
    if (r >= 0)
        r = sd_event_source_set_enabled(l->retry, SD_EVENT_OFF);
    if (r < 0) {
        socket_listener_free(l);
        return log_error_errno(r, "cannot watch the %s: %m", p->what);
    }
    *ret = l;
    return 0;
}

struct socket_listener *socket_listener_free(struct socket_listener *l)
{
    if (!l)
        return NULL;
    sd_event_source_disable_unref(l->io);
    sd_event_source_disable_unref(l->retry);
    if (l->fd >= 0)
        close(l->fd);
    client_limits_done(&l->limits);
    free(l->what);
    free(l);
    return NULL;
}

void socket_listener_release(struct socket_listener *l, struct client_slot *slot)
{
    if (!l || !slot->held)
        return;
    client_limits_release(&l->limits, slot);
    /* A descriptor is free again: try at once rather than at the timer. */
    if (l->starved)
        listener_resume(l);
}

unsigned socket_listener_clients(const struct socket_listener *l)
{
    return l ? l->limits.n_total : 0;
}

struct client_limits *socket_listener_limits(struct socket_listener *l)
{
    return &l->limits;
}
