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

int record_queue_push_line(struct record_queue *q, const char *line, size_t len)
{
    struct alarm a = {.source = "", .key = "", .node = "", .text = ""};
    struct alarm_record *r;
    int k;

    if (q->form != RECORD_FORM_LINE)
        return 0;
    r = alarm_record_new(&a);
    if (!r)
        return -ENOMEM;
    /* The record's line is made once, on first need: this one is made now. */
    r->line = malloc(len);
    if (!r->line) {
        alarm_record_unref(r);
        return -ENOMEM;
    }
    memcpy(r->line, line, len);
    r->line_len = len;
    k = record_queue_push(q, r);
    alarm_record_unref(r);
    return k;
}

/* The bytes of a record in the queue's form, as at most two pieces (made once per record,
 * shared): a native line; or an xalarm record's head and its zero tail. 0 on ENOMEM. */
static size_t record_pieces(const struct record_queue *q, struct alarm_record *r,
                            struct iovec piece[2])
{
    size_t len;

    if (q->form == RECORD_FORM_XALARM) {
        const void *head = alarm_record_xalarm(r, &len);
        if (!head)
            return 0;
        piece[0] = (struct iovec){.iov_base = (void *) head, .iov_len = len};
        piece[1] = (struct iovec){.iov_base = (void *) xalarm_zero_record,
                                  .iov_len = XALARM_RECORD_SIZE - len};
        return 2;
    }
    const char *line = alarm_record_line(r, &len);
    if (!line)
        return 0;
    piece[0] = (struct iovec){.iov_base = (void *) line, .iov_len = len};
    return 1;
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
    struct iovec iov[2 * FLUSH_IOV];
    size_t rec_len[FLUSH_IOV];

    while (q->n > 0) {
        size_t k = 0, niov = 0;
        for (; k < q->n && k < FLUSH_IOV; k++) {
            struct iovec piece[2];
            size_t np = record_pieces(q, q->ring[(q->head + k) % q->cap], piece);
            if (np == 0)
                break;
            size_t skip = k == 0 ? q->off : 0;
            rec_len[k] = 0;
            for (size_t i = 0; i < np; i++) {
                rec_len[k] += piece[i].iov_len;
                if (skip >= piece[i].iov_len) { /* sent before */
                    skip -= piece[i].iov_len;
                    continue;
                }
                iov[niov++] = (struct iovec){.iov_base = (char *) piece[i].iov_base + skip,
                                             .iov_len = piece[i].iov_len - skip};
                skip = 0;
            }
        }
        if (k == 0) {
            record_queue_pop(q); /* no memory for its bytes: it cannot be sent, skip it */
            continue;
        }
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = niov};
        ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN ? 0 : -errno;
        }
        /* Drop what went out; the last record may have gone out in part. */
        size_t sent = (size_t) n;
        for (size_t i = 0; i < k && sent > 0; i++) {
            size_t left = rec_len[i] - q->off;
            if (sent < left) {
                q->off += sent;
                return 0; /* the socket is full */
            }
            sent -= left;
            record_queue_pop(q);
        }
    }
    return 0;
}
