/* control_server.h: the native protocol endpoint: an AF_UNIX stream socket speaking
 * newline-delimited JSON (docs/protocol.md). Owns the listening socket and every client
 * connection: framing, limits, authorization by SO_PEERCRED, and the dispatch of each request
 * to a verb handler. Verb handlers live with the component they serve (task verbs, alarm verbs,
 * collector verbs) and answer through request.h. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "request.h"

struct control_server_params {
    sd_event *event;
    const char *socket_path;
    unsigned socket_mode;
    const char *socket_group; /* NULL: keep root's group */
    unsigned max_clients;
    unsigned max_clients_per_uid; /* connections of one uid other than 0 (0: no limit) */
    unsigned reserved_clients;    /* kept for root and sentryd's tasks (client_limits.h) */
    unsigned max_pending;         /* unanswered deferred requests (reports) per connection */
    const struct verb *const *verb_tables; /* NULL-terminated list of {NULL}-terminated tables */
    void *userdata;                        /* given to handlers as request->userdata */
};

struct control_server;

int control_server_new(const struct control_server_params *p, struct control_server **ret);
/* Closes every connection and the socket, removes the socket file. */
struct control_server *control_server_free(struct control_server *s);
unsigned control_server_clients(const struct control_server *s);
/* The alarm store falls behind (true) or caught up (false): while it is behind, connections
 * with reports in flight are not read (their requests wait); every other connection is served
 * as usual, so operators and tasks are answered while a reporter floods. Answers and streams
 * keep flowing. */
void control_server_pause_input(struct control_server *s, bool paused);
