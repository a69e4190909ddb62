/* request.h: what a verb handler of the native protocol sees and how it answers.
 *
 * A handler answers once: at once with request_reply() / request_reply_error(), or later through
 * a pending_reply from request_defer() (the connection stays usable meanwhile; if the client is
 * gone by then the answer is dropped). The argument getters validate a member and, when it is
 * wrong, answer the request with an error naming the member and return -EINVAL: a handler just
 * returns that value. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "json_util.h"

struct conn;
struct request;

typedef int (*verb_handler)(struct request *r);

enum verb_flags {
    VERB_ROOT = 1 << 0, /* mutating control verb: uid 0 only */
};

struct verb {
    const char *name;
    verb_handler handler;
    unsigned flags;
    const char *summary; /* one line, for `hello` and the docs */
};

#define REQUEST_ID_MAX 128 /* longest accepted string id */

struct request {
    struct conn *conn;
    json_object *msg; /* the whole request object */
    const char *verb;
    char id[REQUEST_ID_MAX * 2 + 8]; /* the id as JSON text ("null" when absent) */
    void *userdata;                  /* the daemon */
    bool answered;
};

uid_t request_uid(const struct request *r);
pid_t request_pid(const struct request *r);

/* result is consumed (NULL answers {}). Returns 0. Strings in answers may hold any bytes:
 * what is not valid UTF-8 is sent as U+FFFD. */
int request_reply(struct request *r, json_object *result);
/* Answers {"ok":false,"error":{"code":<errno name>,"message":...}}, the message of any length.
 * Returns -|err|. */
int request_reply_error(struct request *r, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

struct pending_reply;
struct pending_reply *request_defer(struct request *r);
void pending_reply_ok(struct pending_reply *p, json_object *result);
void pending_reply_error(struct pending_reply *p, int err, const char *message);
/* The answer to a report once its alarm is stored: {"seq":N}. */
void pending_reply_stored(struct pending_reply *p, uint64_t seq);

/* Member getters; on a bad member they answer the request and return -EINVAL. A missing
 * optional member leaves *ret unchanged and returns 0. */
int request_get_string(struct request *r, const char *key, bool required, size_t max,
                       const char **ret);
int request_get_task_name(struct request *r, const char **ret); /* "task", required, checked */
int request_get_bool(struct request *r, const char *key, bool *ret);
int request_get_uint64(struct request *r, const char *key, bool required, uint64_t max,
                       uint64_t *ret);
int request_get_object(struct request *r, const char *key, bool required, json_object **ret);
/* Every member must be one of allowed (NULL-terminated; "id" and "verb" always allowed). */
int request_check_members(struct request *r, const char *const *allowed);
