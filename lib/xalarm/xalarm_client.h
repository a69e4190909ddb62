/* xalarm_client.h: what the libxalarm files of libsentry share: where sentryd's xalarm sockets
 * are, subscription filters, the alarm stream connection with its registration lines, and the
 * reassembly of 8216-byte records from a stream that may deliver them in pieces.
 *
 * The 128-entry id bitmap is the truth of a subscription: the registration lines carry it as
 * ranges of consecutive ids ("id_filter":["1001-1128"]), so that any subscription, even one of
 * every other id, takes at most XALARM_ID_RANGES_MAX items on the wire. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "xalarm_record.h"

/* The xalarm socket directory: $SENTRY_XALARM_DIR when set and not empty, else the reference's
 * XALARM_DIR_DEFAULT. The one place that chooses it. */
const char *xalarm_socket_dir(void);
/* <dir>/<name> as an AF_UNIX address; -ENAMETOOLONG when it does not fit sun_path. */
int xalarm_socket_address(const char *name, struct sockaddr_un *ret, socklen_t *ret_len);

/* The reference's rule: at most MAX_NUM_OF_ALARM_ID entries, each id in 1001..1128. */
bool xalarm_filter_valid(const struct alarm_subscription_info *filter);
/* One byte per id (index id - 1001), 1 when subscribed: the layout of struct alarm_register. */
void xalarm_filter_to_bitmap(const struct alarm_subscription_info *filter,
                             char bitmap[MAX_NUM_OF_ALARM_ID]);
bool xalarm_bitmap_has(const char bitmap[MAX_NUM_OF_ALARM_ID], unsigned id);

/* A run of consecutive subscribed ids, lo <= hi. */
struct xalarm_id_range {
    unsigned lo, hi;
};
/* The most ranges a bitmap can need: every other id subscribed. */
#define XALARM_ID_RANGES_MAX ((MAX_NUM_OF_ALARM_ID + 1) / 2)
/* The subscribed ids of bitmap as ranges, ascending and never adjacent (1001-1003 rather than
 * 1001-1002 and 1003). Returns how many (0..XALARM_ID_RANGES_MAX). */
size_t xalarm_bitmap_to_ranges(const char bitmap[MAX_NUM_OF_ALARM_ID],
                               struct xalarm_id_range ranges[XALARM_ID_RANGES_MAX]);

/* Connects a blocking, close-on-exec stream socket to <dir>/alarm. -errno of connect(). */
int xalarm_stream_connect(int *ret_fd);
/* Sends {"action":"register_events","event_ids":[...],"id_filter":[...]} and a newline:
 * event_ids holds each subscribed kernel-event id (xalarm_id_is_kernel_event), id_filter the
 * bitmap's ranges, a range of one id as a number (1007), a longer one as a string ("1001-1003").
 * -errno of send(); MSG_NOSIGNAL, so a server that went away is -EPIPE, never a SIGPIPE. */
int xalarm_stream_send_register(int fd, const char bitmap[MAX_NUM_OF_ALARM_ID]);
/* Sends {"action":"update_filter","id_filter":[...]} and a newline (id_filter as above). */
int xalarm_stream_send_update(int fd, const char bitmap[MAX_NUM_OF_ALARM_ID]);

/* Reassembles records: the stream carries them back to back, and one read may return part of
 * one. Reads never go past the current record, so nothing has to be kept beyond it. */
struct xalarm_reader {
    size_t have; /* bytes of rec received so far */
    union {
        struct alarm_info rec;
        unsigned char bytes[XALARM_RECORD_SIZE];
    };
};

/* One read() from fd into the current record. 1 when the record is complete (then in r->rec;
 * the next call starts a new one), 0 when more is needed (or the read was interrupted),
 * -EAGAIN on a non-blocking fd with nothing to read, -EPIPE at end of stream (also in the middle
 * of a record), -errno on error. */
int xalarm_reader_read(struct xalarm_reader *r, int fd);
