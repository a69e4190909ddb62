/* record_queue.h: what a subscriber has yet to receive, as references to the shared alarm
 * records (not copies): each record's bytes (its native stream line, or its 8216-byte xalarm
 * record) are made once and sent to every subscriber with writev(). An xalarm record is kept
 * only up to its text's NUL; its zero tail is sent from one shared buffer, so a queued xalarm
 * record costs about what a native one does. A queue is bounded by a number of records; memory
 * stays shared however many subscribers wait for the same alarms. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "alarm.h"

enum record_form {
    RECORD_FORM_LINE,   /* {"seq":..,"alarm":{..}}\n */
    RECORD_FORM_XALARM, /* struct alarm_info */
};

struct record_queue {
    struct alarm_record **ring;
    size_t cap, head, n;
    size_t off; /* bytes of the head record already sent */
    enum record_form form;
};

void record_queue_init(struct record_queue *q, enum record_form form);
void record_queue_done(struct record_queue *q);
/* Adds a reference to r. -ENOMEM. The caller bounds the length. */
int record_queue_push(struct record_queue *q, struct alarm_record *r);
/* Adds a stream message that is not an alarm (line: a JSON object and its '\n'), in order with
 * the alarms: native queues only (an xalarm record cannot carry it: 0, nothing queued). -ENOMEM. */
int record_queue_push_line(struct record_queue *q, const char *line, size_t len);
static inline size_t record_queue_len(const struct record_queue *q)
{
    return q->n;
}
/* Sends what the socket takes (writev, many records per call). 0 when all was sent or the
 * socket is full (EAGAIN), -errno when the peer is gone. */
int record_queue_flush(struct record_queue *q, int fd);
