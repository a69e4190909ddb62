/* sentry_client_private.h: what the files of libsentry share about a client. */
#pragma once

#include <stdbool.h>

#include "json_util.h"

#include "client_conn.h"
#include "sentry/sentry.h"

struct sentry_client {
    struct client_conn *conn;
    char *error_message; /* sentryd's reason for the last refusal */
    /* subscription */
    sentry_alarm_fn alarm_fn;
    void *alarm_userdata;
    uint64_t last_seq;
    bool stop; /* alarm_fn asked to stop */
};

/* client_conn_call() that keeps the refusal message in c->error_message. */
int sentry_client_call(sentry_client *c, const char *verb, json_object *args, json_object **ret);
