/* alarm.h: an alarm on sentry's bus, and the record that carries it through sentryd.
 *
 * A record is created on the main thread when a report arrives, gets its seq there, travels to
 * the store's writer thread and back (committed), is fanned out to subscribers, and is freed when
 * the last holder lets go (atomic reference count: two threads hold it). Its strings live in the
 * record's own buffer. The serialized forms (a native stream line, an 8216-byte xalarm record)
 * are made once, on first need, on the main thread. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <urcu/wfcqueue.h>

#include "alarm_vocab.h"
#include "json_util.h"

#define ALARM_TEXT_MAX   8191
#define ALARM_SOURCE_MAX 255
#define ALARM_KEY_MAX    128
#define ALARM_NODE_MAX   255
/* The latest time an alarm may carry: 9999-12-31 23:59:59.999999 UTC (the last a four-digit
 * year shows; the xalarm record's XALARM_TIME_SEC_MAX). Later times are refused. */
#define ALARM_TIME_MAX_US 253402300799999999ULL

enum alarm_origin {
    ALARM_ORIGIN_NATIVE,
    ALARM_ORIGIN_XALARM,
    ALARM_ORIGIN_INJECT,
    _ALARM_ORIGIN_MAX,
};

/* What the active-alarm set does with this alarm (decided on the main thread, applied to the
 * store's active table in the same transaction as the alarm). */
enum alarm_active_change {
    ACTIVE_NONE,
    ACTIVE_SET,   /* OCCUR of a key that was not active */
    ACTIVE_CLEAR, /* RECOVER of an active key */
};

/* Levels and types, and their names: alarm_vocab.h. */
const char *alarm_origin_to_string(int origin);
int alarm_origin_from_string(const char *s);

struct alarm {
    uint64_t seq;
    uint64_t time_us; /* when it happened: the reporter's clock (xalarm) or sentryd's */
    uint64_t recv_us; /* when sentryd received it (CLOCK_REALTIME) */
    uint16_t id;
    uint8_t level;
    uint8_t type;
    uint8_t origin;
    bool injected;
    uint32_t uid, pid; /* reporter, from SO_PEERCRED / SCM_CREDENTIALS; 0 when unknown */
    const char *source;
    const char *key; /* identity within (id, source) for the active set; "" when none */
    const char *node;
    const char *text;
    size_t text_len;
    const char *idem; /* the reporter's idempotency key (see alarm_bus_publish), or NULL */
};

struct pending_reply;

struct alarm_record {
    struct cds_wfcq_node wq;   /* the store's writer queue */
    struct alarm_record *next; /* committed batch, writer -> main */
    atomic_uint refs;
    struct alarm a;
    uint8_t active_change;     /* enum alarm_active_change */
    int commit_error;          /* set by the writer: 0 or the negative errno of the commit */
    struct pending_reply *ack; /* native report answered once committed (main thread) */
    char *line;                /* {"seq":..,"alarm":{..}}\n, made on first need */
    size_t line_len;
    void *xrec; /* the head of its struct alarm_info (up to the text's NUL; the rest is zero),
                   made on first need */
    size_t xrec_len;
    char buf[]; /* source, key, node, text, idem: each NUL-terminated */
};

/* A new record (refs 1) holding copies of the strings. text may hold any bytes. */
struct alarm_record *alarm_record_new(const struct alarm *a);
struct alarm_record *alarm_record_ref(struct alarm_record *r);
void alarm_record_unref(struct alarm_record *r);

/* The native stream message of the record (made once). NULL on ENOMEM. */
const char *alarm_record_line(struct alarm_record *r, size_t *len);
/* The head of the 8216-byte xalarm record (made once): its first *len bytes, all the others
 * zero (xalarm_zero_record). NULL on ENOMEM. */
const void *alarm_record_xalarm(struct alarm_record *r, size_t *len);

/* The alarm object as JSON text (malloc'ed), the same members as in stream lines. */
char *alarm_json_text(const struct alarm *a, size_t *len);
/* The alarm as a JSON object (for answers that list alarms). */
json_object *alarm_to_json(const struct alarm *a);

/* Reads the "alarm" object of a native report / inject request into *a (strings point into obj).
 * Fills *why with what is wrong (static text) on -EINVAL. */
int alarm_from_json(json_object *obj, struct alarm *a, const char **why);

/* The task that a text of the reference's plugins names: "alarm_source" of a JSON object text,
 * when it is a valid task name; NULL otherwise. Writes into buf. */
const char *alarm_text_source(const char *text, size_t len, char *buf, size_t size);
