/* sentry_client_private.h: what the files of libsentry share about a client. */
#pragma once

#include "json_util.h"

#include "client_conn.h"
#include "sentry/sentry.h"

struct sentry_client {
    struct client_conn *conn;
    char *error_message; /* sentryd's reason for the last refusal */
};

/* client_conn_call() that keeps the refusal message in c->error_message. */
int sentry_client_call(sentry_client *c, const char *verb, json_object *args, json_object **ret);
