/* client_conn.h: the client side of the native protocol (docs/protocol.md), shared by libsentry
 * and sentryctl: one blocking AF_UNIX stream connection, requests with increasing ids, replies
 * matched by id. Sends never raise SIGPIPE: a connection sentryd closed is -EPIPE (or
 * -ECONNRESET) from the call, and the connection is then of no further use. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "time_util.h"

struct client_conn;

/* path NULL: $SENTRY_SOCKET, else the default socket. */
int client_conn_open(const char *path, struct client_conn **ret);
struct client_conn *client_conn_free(struct client_conn *c);
int client_conn_fd(const struct client_conn *c);
/* Send and receive timeout; 0 waits forever (the default). */
int client_conn_set_timeout(struct client_conn *c, usec_t timeout);

/* Sends {"id":N,"verb":verb,<members of args>} and waits for the reply carrying id N.
 * 0 and *ret_result (may be NULL when not wanted; a new reference) when sentryd answered ok;
 * the negative errno of sentryd's error code when it refused, with its message in
 * *ret_message (malloc'ed; may be NULL when not wanted); -EPROTO on a malformed reply;
 * -errno on a connection failure. args is borrowed (may be NULL). Lines that are not the
 * reply (stream messages) are passed to the stream callback, or dropped without one. */
int client_conn_call(struct client_conn *c, const char *verb, json_object *args,
                     json_object **ret_result, char **ret_message);

/* Reads the next message line as JSON (for streams). 0 and *ret, -EPIPE at EOF, -EINTR when a
 * signal interrupted the wait. */
int client_conn_read(struct client_conn *c, json_object **ret);
/* Sends one JSON object as a line. -EPIPE / -ECONNRESET when sentryd closed the connection,
 * -ETIMEDOUT when the timeout passed, -EMSGSIZE for a line over SENTRY_LINE_MAX. */
int client_conn_send(struct client_conn *c, json_object *msg);
/* Whether the last request sent (client_conn_send(), client_conn_call()) left, even in part.
 * false: it failed before any byte was sent, so sending it again cannot make sentryd see it
 * twice. */
bool client_conn_request_sent(const struct client_conn *c);

typedef void (*client_stream_cb)(json_object *msg, void *userdata);
void client_conn_set_stream_cb(struct client_conn *c, client_stream_cb cb, void *userdata);

/* For subscriptions: the socket becomes non-blocking (calls still wait, with poll). */
int client_conn_set_nonblocking(struct client_conn *c);
/* Passes every complete message already received or readable now to fn, without blocking.
 * Returns how many, 0 when none, -EPIPE when sentryd closed the connection. */
int client_conn_read_available(struct client_conn *c, client_stream_cb fn, void *userdata);
