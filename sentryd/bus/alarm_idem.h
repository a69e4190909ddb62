/* alarm_idem.h: reports that carry an idempotency key, while they are on their way to the store.
 *
 * A reporter that lost the answer to a report sends it again with the same key; the bus answers
 * the retry with the first report's seq instead of storing the alarm twice. Once stored, the key
 * is found in the store (a column of the alarm, unique per source); while the first report is
 * not committed yet, it is found here, and the retry waits for the first one's outcome: the same
 * seq, or the same error. */
#pragma once

#include <stdint.h>

#include "alarm.h"

struct alarm_idem;
struct pending_reply;

#define ALARM_IDEM_MAX 128 /* longest key, bytes */

struct alarm_idem *alarm_idem_new(void);
/* Waiting retries are answered ECANCELED. */
struct alarm_idem *alarm_idem_free(struct alarm_idem *t);

/* The record under way with this source and key, or NULL. */
struct alarm_record *alarm_idem_find(struct alarm_idem *t, const char *source, const char *idem);
/* Registers r (r->a.idem set) as under way. -ENOMEM. */
int alarm_idem_add(struct alarm_idem *t, struct alarm_record *r);
/* ack is answered as r is (alarm_idem_done). -ENOMEM. */
int alarm_idem_wait(struct alarm_idem *t, struct alarm_record *r, struct pending_reply *ack);
/* r was stored (error 0) or not: answers the retries that waited for it and forgets it. */
void alarm_idem_done(struct alarm_idem *t, struct alarm_record *r, int error);

/* The answer to a retry: {"seq":N,"duplicate":true}. */
void alarm_idem_reply(struct pending_reply *ack, uint64_t seq);
