/* record_queue.c: see record_queue.h. */
#include <limits.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "record_queue.h"
#include "xalarm_record.h"

#define FLUSH_IOV 256 /* records per writev */

void record_queue_init(struct record_queue *q, enum record_form form)
{
    *q = (struct record_queue){.form = form};
}

void record_queue_done(struct record_queue *q)
{
    for (size_t i = 0; i < q->n; i++)
        alarm_record_unref(q->ring[(q->head + i) % q->cap]);
    free(q->ring);
    *q = (struct record_queue){.form = q->form};
}

int record_queue_push(struct record_queue *q, struct alarm_record *r)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        struct alarm_record **ring = malloc(cap * sizeof(*ring));
        if (!ring)
            return -ENOMEM;
        for (size_t i = 0; i < q->n; i++)
            ring[i] = q->ring[(q->head + i) % q->cap];
        free(q->ring);
        q->ring = ring;
        q->cap = cap;
        q->head = 0;
    }
    q->ring[(q->head + q->n) % q->cap] = alarm_record_ref(r);
    q->n++;
    return 0;
}

/* The bytes of a record in the queue's form (made once per record, shared). */
static const void *record_bytes(const struct record_queue *q, struct alarm_record *r, size_t *len)
{
    if (q->form == RECORD_FORM_XALARM) {
        *len = XALARM_RECORD_SIZE;
        return alarm_record_xalarm(r);
    }
    return alarm_record_line(r, len);
}

static void record_queue_pop(struct record_queue *q)
{
    alarm_record_unref(q->ring[q->head]);
    q->head = (q->head + 1) % q->cap;
    q->n--;
    q->off = 0;
}

int record_queue_flush(struct record_queue *q, int fd)
{
    struct iovec iov[FLUSH_IOV];

    while (q->n > 0) {
        size_t k = 0;
        for (; k < q->n && k < FLUSH_IOV; k++) {
            size_t len;
            const char *p = record_bytes(q, q->ring[(q->head + k) % q->cap], &len);
            if (!p)
                break;
            size_t skip = k == 0 ? q->off : 0;
            iov[k] = (struct iovec){.iov_base = (void *) (p + skip), .iov_len = len - skip};
        }
        if (k == 0) {
            record_queue_pop(q); /* no memory for its bytes: it cannot be sent, skip it */
            continue;
        }
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = k};
        ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN ? 0 : -errno;
        }
        /* Drop what went out; the last record may have gone out in part. */
        for (size_t i = 0; i < k && n > 0; i++) {
            if ((size_t) n < iov[i].iov_len) {
                q->off += (size_t) n;
                return 0; /* the socket is full */
            }
            n -= (ssize_t) iov[i].iov_len;
            record_queue_pop(q);
        }
    }
    return 0;
}
