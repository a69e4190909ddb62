/* socket_listener.h: sentryd's listening sockets, one implementation for the control socket and
 * the xalarm sockets.
 *
 * socket_bind() makes an AF_UNIX socket file: it refuses to take the place of a server that
 * still answers there, removes a stale file, binds, gives the file its mode and group (never
 * wider than configured) and listens (stream sockets).
 *
 * A socket_listener accepts on a stream socket: a bounded number of connections per wake-up,
 * each peer's credentials (SO_PEERCRED), admission by client_limits.h (max_clients, per uid, the
 * share kept for root and sentryd's tasks), then the owner's callback. When accept() fails for
 * want of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM) the listening socket is left
 * alone until a connection closes (socket_listener_release) or a short timer passes, instead of
 * being polled in a loop; one warning is logged per such episode. */
#pragma once

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "client_limits.h"

/* Binds path. type: SOCK_STREAM or SOCK_DGRAM. what names the socket in messages ("control
 * socket"). group NULL: root's group. The fd is non-blocking and close-on-exec. */
int socket_bind(const char *path, int type, unsigned mode, const char *group, const char *what,
                int *ret_fd);

struct socket_listener;

/* A connection was admitted: the owner takes fd and slot (and gives the slot back with
 * socket_listener_release when the connection ends). <0: the owner could not take it; fd is
 * closed and the slot released by the listener. */
typedef int (*socket_accept_fn)(int fd, const struct ucred *cred, const struct client_slot *slot,
                                void *userdata);
/* A peer is refused (why: client_limits.h): the owner may tell it (a last message) before the
 * listener closes fd. May be NULL. */
typedef void (*socket_refuse_fn)(int fd, const struct ucred *cred, const char *why, void *userdata);

struct socket_listener_params {
    sd_event *event;
    int fd; /* a listening stream socket; the listener owns it from here */
    const char *what;
    struct client_limits_config limits;
    socket_accept_fn on_accept;
    socket_refuse_fn on_refuse;
    void *userdata;
};

int socket_listener_new(const struct socket_listener_params *p, struct socket_listener **ret);
struct socket_listener *socket_listener_free(struct socket_listener *l);
/* A connection ended: its slot is free again, and accepting resumes if it waited for one. */
void socket_listener_release(struct socket_listener *l, struct client_slot *slot);
unsigned socket_listener_clients(const struct socket_listener *l);
/* For tests of the limits: how sentryd's own processes are recognised. */
struct client_limits *socket_listener_limits(struct socket_listener *l);

/* Raises the soft RLIMIT_NOFILE to at least `need` descriptors where the hard limit allows; logs
 * a warning naming the settings when it cannot hold them. Returns the soft limit in effect. */
unsigned fd_limit_ensure(unsigned need, const char *for_what);
