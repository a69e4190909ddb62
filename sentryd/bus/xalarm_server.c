/* xalarm_server.c: see xalarm_server.h. */
#include <ctype.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "alarm_stats.h"
#include "fileio.h"
#include "json_util.h"
#include "log.h"
#include "record_queue.h"
#include "time_util.h"
#include "xalarm_record.h"
#include "xalarm_server.h"

#define RECV_BATCH 16

struct xalarm_client {
    struct xalarm_server *server;
    int fd;
    sd_event_source *io;
    struct ucred cred;
    struct record_queue q; /* records to send, shared with the other clients */
    bool dirty;
    struct xalarm_client *dirty_next;
    json_tokener *tok;
    size_t garbage; /* bytes of client messages that were not JSON */
    struct bus_subscriber *sub;
    struct xalarm_client *prev, *next;
};

struct xalarm_server {
    sd_event *event;
    struct alarm_bus *bus;
    char *dir, *report_path, *alarm_path;
    int report_fd, alarm_fd;
    sd_event_source *report_source, *alarm_source;
    bool mask[SENTRY_ALARM_ID_MAX - SENTRY_ALARM_ID_MIN + 1];
    unsigned max_clients, n_clients;
    size_t queue_limit;
    int sndbuf;
    struct xalarm_client *clients;
    struct xalarm_client *dirty; /* clients with records to send this loop iteration */
    sd_event_source *flusher;
    /* receive buffers for recvmmsg */
    struct alarm_info *rbuf;
    char (*cbuf)[CMSG_SPACE(sizeof(struct ucred))];
};

/* ---- id_mask ----------------------------------------------------------------------------------
 */

static bool all_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char) s[i]))
            return false;
    return true;
}

int xalarm_id_mask_parse(const char *spec, bool mask[128])
{
    char buf[1024];
    int valid = 0;

    memset(mask, 0, 128 * sizeof(bool));
    snprintf(buf, sizeof(buf), "%s", spec);
    char *save = NULL;
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char) *item))
            item++;
        size_t n = strlen(item);
        while (n > 0 && isspace((unsigned char) item[n - 1]))
            item[--n] = 0;
        char *dash = strchr(item, '-');
        long lo, hi;
        if (!dash && all_digits(item, n)) {
            lo = hi = strtol(item, NULL, 10);
            if (lo < SENTRY_ALARM_ID_MIN || lo > SENTRY_ALARM_ID_MAX) {
                log_warning("xalarm id_mask: invalid alarm id %s, ignored", item);
                continue;
            }
        } else if (dash && all_digits(item, (size_t) (dash - item)) &&
                   all_digits(dash + 1, strlen(dash + 1))) {
            lo = strtol(item, NULL, 10);
            hi = strtol(dash + 1, NULL, 10);
            if (hi < lo) {
                log_warning("xalarm id_mask: invalid alarm id %s, ignored", item);
                continue;
            }
            /* ranges are clamped to the sysSentry range, as the reference does */
            lo = MAX(lo, SENTRY_ALARM_ID_MIN);
            hi = MIN(hi, SENTRY_ALARM_ID_MAX);
            if (lo > hi) {
                log_warning("xalarm id_mask: invalid alarm id %s, ignored", item);
                continue;
            }
        } else {
            log_warning("xalarm id_mask: invalid alarm id %s, ignored", item);
            continue;
        }
        for (long id = lo; id <= hi; id++)
            mask[id - SENTRY_ALARM_ID_MIN] = true;
        valid++;
    }
    if (valid == 0) {
        /* The reference would drop every alarm; that is never what is meant. */
        log_warning("xalarm id_mask '%s' has no valid item: every id 1001-1128 passes", spec);
        memset(mask, 1, 128 * sizeof(bool));
    }
    return valid;
}

/* ---- report socket ------------------------------------------------------------------------------
 */

static void xalarm_take_record(struct xalarm_server *s, const struct alarm_info *x, size_t len,
                               bool truncated, const struct ucred *cred)
{
    struct alarm_stats *st = alarm_bus_stats(s->bus);
    char srcbuf[ALARM_SOURCE_MAX + 1];
    int r = truncated ? -EMSGSIZE : xalarm_record_parse(x, len, NULL);

    if (r < 0) {
        st->rejected[ALARM_ORIGIN_XALARM]++;
        log_debug("xalarm report: %s datagram dropped (%zu bytes, id %u level %u type %u)",
                  r == -EMSGSIZE ? "wrong-sized"
                  : r == -ERANGE ? "out-of-range"
                                 : "unterminated",
                  len, len >= 4 ? x->usAlarmId : 0, len >= 4 ? x->ucAlarmLevel : 0,
                  len >= 4 ? x->ucAlarmType : 0);
        return;
    }
    size_t tlen = xalarm_record_text_len(x);
    log_debug("xalarm report: alarm_id: %u, alarm_level: %s, alarm_type: %s, alarm_msg_len: %zu",
              x->usAlarmId, alarm_level_to_reference_string(x->ucAlarmLevel),
              alarm_type_to_reference_string(x->ucAlarmType), tlen);
    if (!s->mask[x->usAlarmId - SENTRY_ALARM_ID_MIN]) {
        st->filtered_xalarm++;
        return;
    }
    const char *source = alarm_text_source(x->pucParas, tlen, srcbuf, sizeof(srcbuf));
    struct alarm a = {
        .id = x->usAlarmId,
        .level = x->ucAlarmLevel,
        .type = x->ucAlarmType,
        .time_us = x->AlarmTime.tv_sec > 0
                       ? (uint64_t) x->AlarmTime.tv_sec * USEC_PER_SEC +
                             (uint64_t) MAX(x->AlarmTime.tv_usec, 0) % USEC_PER_SEC
                       : 0,
        .origin = ALARM_ORIGIN_XALARM,
        .source = source ? source : "xalarm",
        .key = "",
        .text = x->pucParas,
        .text_len = tlen,
        .uid = cred ? (uint32_t) cred->uid : 0,
        .pid = cred ? (uint32_t) cred->pid : 0,
    };
    alarm_bus_publish(s->bus, &a, NULL);
}

static int on_report(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
    struct xalarm_server *s = userdata;
    struct mmsghdr msgs[RECV_BATCH];
    struct iovec iov[RECV_BATCH];

    for (int round = 0; round < 64; round++) {
        for (int i = 0; i < RECV_BATCH; i++) {
            iov[i] = (struct iovec){.iov_base = &s->rbuf[i], .iov_len = XALARM_RECORD_SIZE};
            msgs[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i],
                                              .msg_iovlen = 1,
                                              .msg_control = s->cbuf[i],
                                              .msg_controllen = sizeof(s->cbuf[i])};
        }
        int n = recvmmsg(fd, msgs, RECV_BATCH, MSG_DONTWAIT, NULL);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                log_warning_errno(errno, "xalarm report socket: %m");
            return 0;
        }
        for (int i = 0; i < n; i++) {
            const struct ucred *cred = NULL;
            for (struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c;
                 c = CMSG_NXTHDR(&msgs[i].msg_hdr, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS)
                    cred = (const struct ucred *) CMSG_DATA(c);
            xalarm_take_record(s, &s->rbuf[i], msgs[i].msg_len,
                               msgs[i].msg_hdr.msg_flags & MSG_TRUNC, cred);
        }
        if (n < RECV_BATCH)
            return 0;
    }
    return 0;
}

void xalarm_server_pause(struct xalarm_server *s, bool paused)
{
    if (s && s->report_source)
        sd_event_source_set_enabled(s->report_source, paused ? SD_EVENT_OFF : SD_EVENT_ON);
}

/* ---- alarm stream clients ----------------------------------------------------------------------
 */

static void client_free(struct xalarm_client *c)
{
    struct xalarm_server *s = c->server;

    for (struct xalarm_client **pp = &s->dirty; *pp; pp = &(*pp)->dirty_next)
        if (*pp == c) {
            *pp = c->dirty_next;
            break;
        }
    if (c->prev)
        c->prev->next = c->next;
    else
        s->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->n_clients--;
    alarm_bus_unsubscribe(c->sub);
    sd_event_source_disable_unref(c->io);
    close(c->fd);
    record_queue_done(&c->q);
    json_tokener_free(c->tok);
    log_debug("xalarm client (pid %d) disconnected", (int) c->cred.pid);
    free(c);
}

static void client_write(void *owner, struct alarm_record *r)
{
    struct xalarm_client *c = owner;
    struct xalarm_server *s = c->server;

    if (record_queue_push(&c->q, r) < 0)
        return;
    if (!c->dirty) {
        c->dirty = true;
        c->dirty_next = s->dirty;
        s->dirty = c;
    }
}

static size_t client_queued(void *owner)
{
    struct xalarm_client *c = owner;
    return record_queue_len(&c->q);
}

static const struct bus_subscriber_ops client_ops = {
    .write = client_write,
    .queued = client_queued,
};

/* The ids of an "id_filter" array, limited to the sysSentry range (an xalarm client indexes a
 * 128-entry bitmap with them). */
static int client_filter_from(json_object *ids, struct alarm_filter *f)
{
    const char *why;
    *f = (struct alarm_filter){0};
    for (size_t i = 0; i < json_object_array_length(ids); i++) {
        json_object *e = json_object_array_get_idx(ids, i);
        if (!json_object_is_type(e, json_type_int))
            continue;
        int64_t id = json_object_get_int64(e);
        if (id < SENTRY_ALARM_ID_MIN || id > SENTRY_ALARM_ID_MAX)
            continue;
        char b[16];
        snprintf(b, sizeof(b), "%" PRId64, id);
        if (f->n_ranges < ALARM_FILTER_RANGES_MAX)
            alarm_filter_add_ids(f, b, &why);
    }
    /* No id asked for: nothing passes (an empty range list would mean "all"). */
    f->none = f->n_ranges == 0;
    return 0;
}

static void client_message(struct xalarm_client *c, json_object *msg)
{
    json_object *action, *ids;

    if (!json_object_is_type(msg, json_type_object) ||
        !json_object_object_get_ex(msg, "action", &action)) {
        log_debug("xalarm client (pid %d): message without action ignored", (int) c->cred.pid);
        return;
    }
    const char *a = json_object_get_string(action);
    if ((streq(a, "register_events") || streq(a, "update_filter")) &&
        json_object_object_get_ex(msg, "id_filter", &ids) &&
        json_object_is_type(ids, json_type_array)) {
        struct alarm_filter f;
        client_filter_from(ids, &f);
        bus_subscriber_set_filter(c->sub, &f);
        log_debug("xalarm client (pid %d): %s with %zu ids", (int) c->cred.pid, a,
                  json_object_array_length(ids));
    }
    /* register_events / unregister_events event_ids switch kernel reporting on and off
     * (sentry_msg_monitor's events); nothing to switch on this node yet. */
}

static void client_read(struct xalarm_client *c)
{
    char buf[1024];

    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            client_free(c);
            return;
        }
        if (n < 0)
            return;
        /* Messages are JSON objects, one after the other (with or without newlines). */
        size_t off = 0;
        while (off < (size_t) n) {
            while (off < (size_t) n && isspace((unsigned char) buf[off]))
                off++;
            if (off >= (size_t) n)
                break;
            json_object *msg = json_tokener_parse_ex(c->tok, buf + off, (int) ((size_t) n - off));
            enum json_tokener_error e = json_tokener_get_error(c->tok);
            if (e == json_tokener_continue)
                break;
            size_t used = json_tokener_get_parse_end(c->tok);
            json_tokener_reset(c->tok);
            if (e != json_tokener_success) {
                /* Not JSON: drop what we have, go on with the stream. */
                c->garbage += (size_t) n - off;
                log_debug("xalarm client (pid %d): unreadable message ignored", (int) c->cred.pid);
                break;
            }
            client_message(c, msg);
            json_object_put(msg);
            off += used ? used : (size_t) n - off;
        }
    }
}

/* Sends what the socket takes; a full socket waits for EPOLLOUT. false when the client is gone
 * (and freed). */
static bool client_flush(struct xalarm_client *c)
{
    if (record_queue_flush(&c->q, c->fd) < 0) {
        client_free(c);
        return false;
    }
    bus_subscriber_drained(c->sub);
    sd_event_source_set_io_events(c->io, EPOLLIN | (record_queue_len(&c->q) ? EPOLLOUT : 0));
    return true;
}

static int on_flush(sd_event_source *src, void *userdata)
{
    struct xalarm_server *s = userdata;

    while (s->dirty) {
        struct xalarm_client *c = s->dirty;
        s->dirty = c->dirty_next;
        c->dirty = false;
        client_flush(c);
    }
    return 0;
}

static int on_client_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
    struct xalarm_client *c = userdata;

    if ((revents & EPOLLOUT) && !client_flush(c))
        return 0;
    if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
        client_read(c); /* may free c */
    return 0;
}

static int on_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
    struct xalarm_server *s = userdata;

    for (;;) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        socklen_t sl = sizeof(struct ucred);
        struct alarm_filter all = {0};
        const char *why;

        if (cfd < 0)
            return 0;
        if (s->n_clients >= s->max_clients) {
            log_warning("xalarm: %u clients connected, refusing one more", s->n_clients);
            close(cfd);
            continue;
        }
        struct xalarm_client *c = calloc(1, sizeof(*c));
        if (!c || !(c->tok = json_tokener_new_ex(16))) {
            free(c);
            close(cfd);
            continue;
        }
        c->server = s;
        c->fd = cfd;
        record_queue_init(&c->q, RECORD_FORM_XALARM);
        (void) getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &c->cred, &sl);
        alarm_filter_add_ids(&all, "1001-1128", &why); /* = SENTRY_ALARM_ID_MIN..MAX */
        c->sub = alarm_bus_subscribe(s->bus, SUBSCRIBER_XALARM, &all, UINT64_MAX, s->queue_limit,
                                     &client_ops, c);
        if (!c->sub || sd_event_add_io(s->event, &c->io, cfd, EPOLLIN, on_client_io, c) < 0) {
            alarm_bus_unsubscribe(c->sub);
            json_tokener_free(c->tok);
            free(c);
            close(cfd);
            continue;
        }
        if (setsockopt(cfd, SOL_SOCKET, SO_SNDBUFFORCE, &s->sndbuf, sizeof(s->sndbuf)) < 0)
            (void) setsockopt(cfd, SOL_SOCKET, SO_SNDBUF, &s->sndbuf, sizeof(s->sndbuf));
        c->next = s->clients;
        if (s->clients)
            s->clients->prev = c;
        s->clients = c;
        s->n_clients++;
        log_debug("xalarm client connected (pid %d uid %d)", (int) c->cred.pid, (int) c->cred.uid);
    }
}

/* ---- set-up
 * --------------------------------------------------------------------------------------- */

/* Binds path after checking that no other server (a running xalarmd) answers there. */
static int bind_unix(const char *path, int type, unsigned mode, const char *group, int *ret)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    _cleanup_close_ int fd = -EBADF, probe = -EBADF;

    if (strlen(path) >= sizeof(sa.sun_path))
        return log_error_errno(ENAMETOOLONG, "socket path %s is too long", path);
    strcpy(sa.sun_path, path);
    probe = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (probe >= 0 && connect(probe, (struct sockaddr *) &sa, sizeof(sa)) == 0)
        return log_error_errno(EADDRINUSE,
                               "another server (xalarmd?) answers on %s: stop it, or give "
                               "sentryd another [xalarm] dir",
                               path);
    fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    if (unlink(path) < 0 && errno != ENOENT)
        return log_error_errno(errno, "cannot remove stale %s: %m", path);
    if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
        return log_error_errno(errno, "cannot bind %s: %m", path);
    if (chmod(path, mode) < 0)
        return log_error_errno(errno, "chmod %s: %m", path);
    /* The same access as the control socket: root, and the group when there is one. */
    if (group) {
        errno = 0;
        struct group *g = getgrnam(group);
        if (!g)
            log_warning_errno(errno ? errno : ENOENT,
                              "%s keeps group root: group '%s' not found: %m", path, group);
        else if (chown(path, (uid_t) -1, g->gr_gid) < 0)
            log_warning_errno(errno, "%s keeps group root: cannot give it to group '%s': %m", path,
                              group);
    }
    if (type == SOCK_STREAM && listen(fd, 128) < 0)
        return log_error_errno(errno, "listen on %s: %m", path);
    *ret = TAKE_FD(fd);
    return 0;
}

int xalarm_server_new(const struct xalarm_server_params *p, struct xalarm_server **ret)
{
    struct xalarm_server *s = calloc(1, sizeof(*s));
    int r, one = 1;

    if (!s)
        return -ENOMEM;
    s->event = p->event;
    s->bus = p->bus;
    s->report_fd = s->alarm_fd = -1;
    s->max_clients = p->max_clients;
    s->queue_limit = p->queue_limit;
    s->sndbuf = p->sndbuf;
    xalarm_id_mask_parse(p->id_mask, s->mask);
    s->dir = strdup(p->dir);
    s->rbuf = calloc(RECV_BATCH, sizeof(*s->rbuf));
    s->cbuf = calloc(RECV_BATCH, sizeof(*s->cbuf));
    if (!s->dir || !s->rbuf || !s->cbuf ||
        asprintf(&s->report_path, "%s/" XALARM_SOCKET_REPORT, p->dir) < 0 ||
        asprintf(&s->alarm_path, "%s/" XALARM_SOCKET_ALARM, p->dir) < 0) {
        xalarm_server_free(s);
        return -ENOMEM;
    }
    r = mkdir_parents(p->dir, 0755);
    if (r < 0) {
        log_error_errno(r, "cannot create %s: %m", p->dir);
        goto fail;
    }
    if ((r = bind_unix(s->report_path, SOCK_DGRAM, p->socket_mode, p->socket_group,
                       &s->report_fd)) < 0 ||
        (r = bind_unix(s->alarm_path, SOCK_STREAM, p->socket_mode, p->socket_group, &s->alarm_fd)) <
            0)
        goto fail;
    /* Who sent a datagram is recorded with the alarm. */
    (void) setsockopt(s->report_fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
    /* Always on: it runs after any dispatch and finds no dirty client most of the time. */
    if ((r = sd_event_add_post(p->event, &s->flusher, on_flush, s)) < 0 ||
        (r = sd_event_add_io(p->event, &s->report_source, s->report_fd, EPOLLIN, on_report, s)) <
            0 ||
        (r = sd_event_add_io(p->event, &s->alarm_source, s->alarm_fd, EPOLLIN, on_accept, s)) < 0)
        goto fail;
    log_info("xalarm sockets in %s", p->dir);
    *ret = s;
    return 0;
fail:
    xalarm_server_free(s);
    return r;
}

/* Sends what is queued and the reference's "service down" record, waiting a little for them
 * to leave. */
static void client_say_goodbye(struct xalarm_client *c)
{
    struct alarm_info down;
    const char *p = (const char *) &down;
    size_t left = sizeof(down);

    xalarm_record_service_down(&down);
    usec_t end = now_usec(CLOCK_MONOTONIC) + 200 * USEC_PER_MSEC;
    while (now_usec(CLOCK_MONOTONIC) < end) {
        if (record_queue_flush(&c->q, c->fd) < 0)
            return;
        if (record_queue_len(&c->q) == 0) {
            ssize_t n = send(c->fd, p, left, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n < 0 && errno != EAGAIN && errno != EINTR)
                return;
            if (n > 0) {
                p += n;
                left -= (size_t) n;
            }
            if (left == 0)
                return;
        }
        struct pollfd pf = {.fd = c->fd, .events = POLLOUT};
        (void) poll(&pf, 1, 20);
    }
}

struct xalarm_server *xalarm_server_free(struct xalarm_server *s)
{
    if (!s)
        return NULL;
    while (s->clients) {
        client_say_goodbye(s->clients);
        client_free(s->clients);
    }
    sd_event_source_disable_unref(s->flusher);
    sd_event_source_disable_unref(s->report_source);
    sd_event_source_disable_unref(s->alarm_source);
    if (s->report_fd >= 0) {
        close(s->report_fd);
        unlink(s->report_path);
    }
    if (s->alarm_fd >= 0) {
        close(s->alarm_fd);
        unlink(s->alarm_path);
    }
    free(s->report_path);
    free(s->alarm_path);
    free(s->dir);
    free(s->rbuf);
    free(s->cbuf);
    free(s);
    return NULL;
}

unsigned xalarm_server_clients(const struct xalarm_server *s)
{
    return s ? s->n_clients : 0;
}
