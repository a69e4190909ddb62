/* sentry_client_private.h: what the files of libsentry share about a client.
 *
 * A client owns one connection at a time. When sentryd goes away (restart, stop, refusal) the
 * call that notices gets -EPIPE or -ECONNRESET and the connection is marked lost; it stays open
 * (so that the descriptor a program polls is not reused under it) until the next call, which
 * connects again first. A call whose request is known not to have reached sentryd, and every
 * heartbeat and result (sending them twice is harmless), is sent again once on a new connection
 * when the loss shows up during the call itself. A subscription belongs to its connection and
 * ends with it. */
#pragma once

#include <stdbool.h>

#include "json_util.h"

#include "client_conn.h"
#include "sentry/sentry.h"

struct sentry_client {
    char *path; /* the socket given to sentry_connect(); NULL: $SENTRY_SOCKET or the default */
    struct client_conn *conn;
    int lost;            /* 0, or the -errno that ended conn: the next call connects again */
    char *error_message; /* sentryd's reason for the last refusal */
    /* subscription */
    sentry_alarm_fn alarm_fn;
    void *alarm_userdata;
    uint64_t last_seq;
    bool subscribed; /* conn carries the subscription */
    bool stop;       /* alarm_fn asked to stop */
};

/* Whether r says the connection is gone (sentryd closed it or reset it). */
bool sentry_client_error_is_lost(int r);
/* Marks the connection lost after r (a sentry_client_error_is_lost() error); returns r. */
int sentry_client_lose(sentry_client *c, int r);
/* Connects again when the connection was lost: 0, or the error of connecting. */
int sentry_client_reconnect(sentry_client *c);

/* client_conn_call() that keeps the refusal message in c->error_message, and connects again
 * when the connection was lost. resend: the request may be sent a second time, on a new
 * connection, even when the first one may have reached sentryd (heartbeat, result). */
int sentry_client_call(sentry_client *c, const char *verb, json_object *args, bool resend,
                       json_object **ret);

/* The stream callback of every connection of a client (sentry_alarm.c): alarms of its
 * subscription go to alarm_fn. */
void sentry_client_on_stream_message(json_object *msg, void *userdata);
