/* xalarm_server.c: see xalarm_server.h.
 *
 * Every byte a client sends is hostile until checked: a registration message is at most
 * XALARM_REGISTER_LINE_MAX bytes (the tokener never holds more), a client is read at most
 * CLIENT_READ_BUDGET bytes per wake-up, every member is type-checked before use, and a client
 * that breaks these rules is closed with the reason logged. A report's sender is known from its
 * credentials (SCM_CREDENTIALS): only root or the task's own user may store an alarm under a
 * task's name (alarm_source.h). */
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>

#include "alarm_source.h"
#include "alarm_stats.h"
#include "event_switches.h"
#include "fileio.h"
#include "flush_list.h"
#include "json_util.h"
#include "log.h"
#include "ratelimit.h"
#include "socket_listener.h"
#include "subscriber_stream.h"
#include "time_util.h"
#include "xalarm_ids.h"
#include "xalarm_record.h"
#include "xalarm_register_msg.h"
#include "xalarm_server.h"

#define RECV_BATCH         16
#define RECV_ROUNDS        64          /* batches per wake-up of the report socket */
#define CLIENT_READ_BUDGET (64 * 1024) /* bytes read from one client per wake-up */
#define CLOSE_LOG_BURST    50          /* closings for cause logged per CLOSE_LOG_PERIOD */
#define CLOSE_LOG_PERIOD   (10 * USEC_PER_SEC)

struct xalarm_client {
    struct xalarm_server *server;
    int fd;
    sd_event_source *io;
    struct ucred cred;
    struct client_slot slot;
    struct subscriber_stream *stream; /* the records to send, shared with the other clients */
    struct flush_entry flush;
    json_tokener *tok;
    size_t msg_bytes;            /* bytes of the message being read so far */
    struct xalarm_id_set events; /* the kernel event ids it holds (kernel_switch.h) */
    struct xalarm_client *prev, *next;
};

struct xalarm_server {
    sd_event *event;
    struct alarm_bus *bus;
    const struct task_manager *tasks;
    char *dir, *report_path, *alarm_path;
    int report_fd;
    sd_event_source *report_source;
    struct socket_listener *listener;
    bool mask[SENTRY_ALARM_ID_COUNT];
    size_t queue_limit;
    int sndbuf;
    struct xalarm_client *clients;
    struct flush_list flushes; /* clients with records to send this loop iteration */
    struct ratelimit close_log;
    struct event_switches *switches;
    /* receive buffers for recvmmsg */
    struct alarm_info *rbuf;
    char (*cbuf)[CMSG_SPACE(sizeof(struct ucred))];
};

/* ---- report socket ------------------------------------------------------------------------------
 */

/* The source the alarm is stored under: the task its text names when the sender may claim it,
 * else the sender's uid (root's records without a name keep the reference's "xalarm"). */
static const char *report_source(struct xalarm_server *s, const struct alarm_info *x, size_t tlen,
                                 const struct ucred *cred, char *buf, size_t size)
{
    char named[ALARM_SOURCE_MAX + 1];
    const char *claimed = alarm_text_source(x->pucParas, tlen, named, sizeof(named));

    if (cred->uid == 0 && !claimed)
        return "xalarm";
    if (claimed && alarm_source_may_claim(s->tasks, cred->uid, claimed)) {
        snprintf(buf, size, "%s", claimed);
        return buf;
    }
    if (claimed)
        log_debug("xalarm report: uid %u (pid %d) may not report for task '%s': stored as uid:%u",
                  (unsigned) cred->uid, (int) cred->pid, claimed, (unsigned) cred->uid);
    return alarm_source_of_uid(buf, size, cred->uid);
}

static void xalarm_take_record(struct xalarm_server *s, const struct alarm_info *x, size_t len,
                               bool truncated, const struct ucred *cred)
{
    struct alarm_stats *st = alarm_bus_stats(s->bus);
    char srcbuf[ALARM_SOURCE_MAX + 1];
    int r = truncated ? -EMSGSIZE : xalarm_record_parse(x, len, NULL);

    if (r >= 0 && !cred)
        r = -EPERM;
    if (r < 0) {
        st->rejected[ALARM_ORIGIN_XALARM]++;
        log_debug("xalarm report: %s datagram dropped (%zu bytes, id %u level %u type %u)",
                  r == -EMSGSIZE ? "wrong-sized"
                  : r == -ERANGE ? "out-of-range"
                  : r == -EPERM  ? "anonymous"
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
    /* In range (xalarm_record_parse): at most year 9999, no overflow. 0: when received. */
    struct alarm a = {
        .id = x->usAlarmId,
        .level = x->ucAlarmLevel,
        .type = x->ucAlarmType,
        .time_us = (uint64_t) x->AlarmTime.tv_sec * USEC_PER_SEC + (uint64_t) x->AlarmTime.tv_usec,
        .origin = ALARM_ORIGIN_XALARM,
        .source = report_source(s, x, tlen, cred, srcbuf, sizeof(srcbuf)),
        .key = "",
        .text = x->pucParas,
        .text_len = tlen,
        .uid = (uint32_t) cred->uid,
        .pid = (uint32_t) cred->pid,
    };
    alarm_bus_publish(s->bus, &a, NULL);
}

static int on_report(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
    struct xalarm_server *s = userdata;
    struct mmsghdr msgs[RECV_BATCH];
    struct iovec iov[RECV_BATCH];

    for (int round = 0; round < RECV_ROUNDS; round++) {
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
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
                    c->cmsg_len >= CMSG_LEN(sizeof(struct ucred)))
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

    flush_list_remove(&s->flushes, &c->flush);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    /* a client that leaves gives its kernel events back */
    event_switches_change(s->switches, &c->events, &(struct xalarm_id_set){0});
    subscriber_stream_free(c->stream);
    sd_event_source_disable_unref(c->io);
    close(c->fd);
    json_tokener_free(c->tok);
    socket_listener_release(s->listener, &c->slot);
    log_debug("xalarm client (pid %d) disconnected", (int) c->cred.pid);
    free(c);
}

/* Closes a client that broke the protocol, saying why (at most CLOSE_LOG_BURST times per period:
 * a client that reconnects to be closed again cannot flood the log). */
static void client_close_for(struct xalarm_client *c, const char *why)
{
    struct xalarm_server *s = c->server;
    uint64_t suppressed = s->close_log.suppressed;

    if (ratelimit_window_over(&s->close_log, now_usec(CLOCK_MONOTONIC)) && suppressed > 0)
        log_warning("xalarm: %" PRIu64 " more clients were closed for breaking the protocol",
                    suppressed);
    if (ratelimit_below(&s->close_log, now_usec(CLOCK_MONOTONIC)))
        log_warning("xalarm client (pid %d uid %u) closed: %s", (int) c->cred.pid,
                    (unsigned) c->cred.uid, why);
    client_free(c);
}

static void client_ready(void *owner)
{
    struct xalarm_client *c = owner;
    flush_list_add(&c->server->flushes, &c->flush);
}

/* Sends what the socket takes; a full socket waits for EPOLLOUT. false when the client is gone
 * (and freed). */
static bool client_write(struct xalarm_client *c)
{
    int r = subscriber_stream_flush(c->stream, c->fd);
    if (r < 0) {
        log_debug_errno(r, "xalarm client (pid %d): send failed: %m", (int) c->cred.pid);
        client_free(c);
        return false;
    }
    (void) sd_event_source_set_io_events(
        c->io,
        EPOLLIN | (subscriber_stream_pending(c->stream) && !flush_entry_queued(&c->flush) ? EPOLLOUT
                                                                                          : 0));
    return true;
}

static void client_flush(struct flush_entry *e)
{
    client_write((struct xalarm_client *) ((char *) e - offsetof(struct xalarm_client, flush)));
}

/* register_events adds its event_ids to what the client holds, unregister_events takes its
 * event_ids away (all of them without the member); update_filter leaves them. */
static void client_events(struct xalarm_client *c, const struct xalarm_register_msg *m)
{
    struct xalarm_id_set want = c->events;

    if (m->action == XALARM_MSG_REGISTER && m->has_events)
        for (size_t i = 0; i < ELEMENTSOF(want.bits); i++)
            want.bits[i] |= m->events.bits[i];
    else if (m->action == XALARM_MSG_UNREGISTER && m->has_events)
        for (size_t i = 0; i < ELEMENTSOF(want.bits); i++)
            want.bits[i] &= ~m->events.bits[i];
    else if (m->action == XALARM_MSG_UNREGISTER)
        want = (struct xalarm_id_set){0};
    else
        return;
    event_switches_change(c->server->switches, &c->events, &want);
}

/* One message of a client. -errno with *why when it breaks the protocol. */
static int client_message(struct xalarm_client *c, json_object *msg, const char **why)
{
    struct xalarm_register_msg m;
    int r = xalarm_register_msg_parse(msg, &m, why);

    if (r < 0)
        return r;
    if (m.action == XALARM_MSG_OTHER) {
        log_debug("xalarm client (pid %d): unknown action ignored", (int) c->cred.pid);
        return 0;
    }
    if (m.has_filter && m.action != XALARM_MSG_UNREGISTER) {
        struct alarm_filter f = {0};
        xalarm_id_set_to_filter(&m.ids, &f);
        subscriber_stream_set_filter(c->stream, &f);
        log_debug("xalarm client (pid %d): %s with %u ids (%u outside %d-%d ignored)",
                  (int) c->cred.pid, m.action == XALARM_MSG_UPDATE ? "update" : "register",
                  xalarm_id_set_count(&m.ids), m.ignored, SENTRY_ALARM_ID_MIN, SENTRY_ALARM_ID_MAX);
    }
    client_events(c, &m);
    return 0;
}

/* Feeds n bytes to the client's tokener: messages are JSON objects one after the other (with or
 * without newlines). false when the client was closed. */
static bool client_feed(struct xalarm_client *c, const char *buf, size_t n)
{
    char reason[160];
    const char *why = NULL;
    size_t off = 0;

    while (off < n) {
        /* white space between messages is not part of one */
        if (c->msg_bytes == 0) {
            while (off < n &&
                   (buf[off] == ' ' || buf[off] == '\t' || buf[off] == '\r' || buf[off] == '\n'))
                off++;
            if (off >= n)
                break;
        }
        json_object *msg = json_tokener_parse_ex(c->tok, buf + off, (int) (n - off));
        enum json_tokener_error e = json_tokener_get_error(c->tok);
        size_t used = e == json_tokener_continue ? n - off : json_tokener_get_parse_end(c->tok);
        c->msg_bytes += used;
        if (c->msg_bytes > XALARM_REGISTER_LINE_MAX) {
            json_object_put(msg);
            snprintf(reason, sizeof(reason), "message longer than %d bytes",
                     XALARM_REGISTER_LINE_MAX);
            client_close_for(c, reason);
            return false;
        }
        if (e == json_tokener_continue)
            return true;
        json_tokener_reset(c->tok);
        c->msg_bytes = 0;
        if (e != json_tokener_success) {
            snprintf(reason, sizeof(reason), "message is not JSON: %s", json_tokener_error_desc(e));
            client_close_for(c, reason);
            return false;
        }
        int r = client_message(c, msg, &why);
        json_object_put(msg);
        if (r < 0) {
            client_close_for(c, why);
            return false;
        }
        off += used ? used : n - off;
    }
    return true;
}

static void client_read(struct xalarm_client *c)
{
    char buf[XALARM_REGISTER_LINE_MAX];
    size_t budget = CLIENT_READ_BUDGET;

    while (budget > 0) {
        ssize_t n = recv(c->fd, buf, MIN(sizeof(buf), budget), MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            if (n < 0)
                log_debug_errno(errno, "xalarm client (pid %d): %m", (int) c->cred.pid);
            client_free(c);
            return;
        }
        budget -= (size_t) n;
        if (!client_feed(c, buf, (size_t) n))
            return;
    }
    /* More may wait: the socket stays readable and comes back after the other sources. */
}

static int on_client_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
    struct xalarm_client *c = userdata;

    if ((revents & EPOLLOUT) && !client_write(c))
        return 0;
    if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
        client_read(c); /* may free c */
    return 0;
}

static int on_accept(int fd, const struct ucred *cred, const struct client_slot *slot,
                     void *userdata)
{
    struct xalarm_server *s = userdata;
    struct alarm_filter all = {0};
    const char *why;
    struct xalarm_client *c = calloc(1, sizeof(*c));
    int r;

    if (!c)
        return log_oom();
    c->server = s;
    c->fd = fd;
    c->cred = *cred;
    c->slot = *slot;
    c->flush.flush = client_flush;
    c->tok = json_tokener_new_ex(16);
    if (!c->tok) {
        free(c);
        return log_oom();
    }
    json_tokener_set_flags(c->tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS);
    /* Until it registers a filter, a client gets every id of the range (the reference's). */
    (void) alarm_filter_add_ids(&all, "1001-1128", &why); /* = SENTRY_ALARM_ID_MIN..MAX */
    struct subscriber_stream_params sp = {
        .bus = s->bus,
        .kind = SUBSCRIBER_XALARM,
        .form = RECORD_FORM_XALARM,
        .since = UINT64_MAX,
        .queue_limit = s->queue_limit,
        .on_ready = client_ready,
        .owner = c,
    };
    c->stream = subscriber_stream_new(&sp, &all);
    r = c->stream ? sd_event_add_io(s->event, &c->io, fd, EPOLLIN, on_client_io, c) : -ENOMEM;
    if (r < 0) {
        subscriber_stream_free(c->stream);
        json_tokener_free(c->tok);
        free(c);
        return log_error_errno(r, "cannot take an xalarm client: %m");
    }
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &s->sndbuf, sizeof(s->sndbuf)) < 0)
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &s->sndbuf, sizeof(s->sndbuf));
    c->next = s->clients;
    if (s->clients)
        s->clients->prev = c;
    s->clients = c;
    log_debug("xalarm client connected (pid %d uid %d)", (int) cred->pid, (int) cred->uid);
    return 0;
}

/* ---- set-up
 * --------------------------------------------------------------------------------------- */

int xalarm_server_new(const struct xalarm_server_params *p, struct xalarm_server **ret)
{
    struct xalarm_server *s = calloc(1, sizeof(*s));
    int r, one = 1, alarm_fd = -1;

    if (!s)
        return -ENOMEM;
    s->event = p->event;
    s->bus = p->bus;
    s->tasks = p->tasks;
    s->report_fd = -1;
    s->queue_limit = p->queue_limit;
    s->sndbuf = p->sndbuf;
    s->close_log = (struct ratelimit){.interval_us = CLOSE_LOG_PERIOD, .burst = CLOSE_LOG_BURST};
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
    struct event_switches_params ep = {
        .event = p->event,
        .dir = p->kernel_switch_dir ? p->kernel_switch_dir : "/proc",
        .loader = p->module_loader,
    };
    r = event_switches_new(&ep, &s->switches);
    if (r >= 0)
        r = flush_list_init(&s->flushes, p->event);
    if (r < 0) {
        xalarm_server_free(s);
        return r;
    }
    r = mkdir_parents(p->dir, 0755);
    if (r < 0) {
        log_error_errno(r, "cannot create %s: %m", p->dir);
        goto fail;
    }
    if ((r = socket_bind(s->report_path, SOCK_DGRAM, p->socket_mode, p->socket_group,
                         "xalarm report socket; is xalarmd running?", &s->report_fd)) < 0 ||
        (r = socket_bind(s->alarm_path, SOCK_STREAM, p->socket_mode, p->socket_group,
                         "xalarm alarm socket; is xalarmd running?", &alarm_fd)) < 0)
        goto fail;
    /* Who sent a datagram decides the source it may claim, and is recorded with the alarm. */
    if (setsockopt(s->report_fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0) {
        r = log_error_errno(errno, "cannot learn who sends to %s: %m", s->report_path);
        goto fail;
    }
    struct socket_listener_params lp = {
        .event = p->event,
        .fd = alarm_fd,
        .what = "xalarm alarm socket",
        .limits = {.max_clients = p->max_clients,
                   .per_uid = p->max_clients_per_uid,
                   .reserved = p->reserved_clients},
        .on_accept = on_accept,
        .userdata = s,
    };
    alarm_fd = -1; /* the listener's, even when it fails */
    r = socket_listener_new(&lp, &s->listener);
    if (r < 0)
        unlink(s->alarm_path);
    if (r < 0 ||
        (r = sd_event_add_io(p->event, &s->report_source, s->report_fd, EPOLLIN, on_report, s)) < 0)
        goto fail;
    log_info("xalarm sockets in %s", p->dir);
    *ret = s;
    return 0;
fail:
    if (alarm_fd >= 0) { /* bound by us */
        close(alarm_fd);
        unlink(s->alarm_path);
    }
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
        if (subscriber_stream_flush(c->stream, c->fd) < 0)
            return;
        if (!subscriber_stream_pending(c->stream)) {
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
    flush_list_done(&s->flushes);
    s->switches = event_switches_free(s->switches); /* after the clients gave their events back */
    sd_event_source_disable_unref(s->report_source);
    if (s->listener) {
        s->listener = socket_listener_free(s->listener);
        unlink(s->alarm_path);
    }
    if (s->report_fd >= 0) {
        close(s->report_fd);
        unlink(s->report_path);
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
    return s ? socket_listener_clients(s->listener) : 0;
}

unsigned xalarm_server_event_clients(const struct xalarm_server *s, unsigned id)
{
    return s ? event_switches_clients(s->switches, id) : 0;
}
