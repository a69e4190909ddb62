/* smm_channel.h: where notices come from and answers go. Two kinds behind one small interface,
 * so that everything between the read and the answer is the same code:
 *
 *  - the device (/dev/sentry_msg_helper, kmod/): read() one record, ioctl(SMH_MSG_ACK) to
 *    answer, ioctl(SMH_VERSION_CHECK) for the version;
 *  - the test backend: records (the same 88 bytes) read from a FIFO, a unix stream socket or a
 *    file; answers (the same 88-byte records) written to a file, a FIFO or a unix stream socket,
 *    where a socket replies to each with a native int: 0 or the errno the ioctl would give
 *    (ETIME, ENOENT, ...); the version is given on the command line.
 *
 * A channel is opened before the threads start and then used by both: the sender reads, the
 * receiver answers. Neither operation allocates. */
#pragma once

#include <stdbool.h>

#include "sentry_msg_helper.h"

struct smm_channel;

struct smm_channel_ops {
    const char *kind;
    /* One whole record, or -errno (-EPIPE at end of input). */
    int (*read)(struct smm_channel *c, struct sentry_msg_helper_msg *m);
    /* 0, or -errno as SMH_MSG_ACK gives it (-ETIME too late, -ENOENT unknown msgid). */
    int (*ack)(struct smm_channel *c, const struct sentry_msg_helper_msg *m);
    int (*version)(struct smm_channel *c, struct smh_version_info *v);
};

struct smm_channel {
    const struct smm_channel_ops *ops;
    int read_fd;
    int ack_fd;                /* the device: read_fd */
    bool ack_replies;          /* backend: the answer socket replies with an int */
    int backend_version_error; /* backend: the version "ioctl" fails with this, or 0 */
    struct smh_version_info backend_version;
};

/* The device at path. -errno of open(). */
int smm_channel_open_device(struct smm_channel *c, const char *path);
/* The test backend: records from records_path, answers to answers_path, version "MAJOR.MINOR"
 * (NULL: the version built against) or "fail" (the version ioctl fails with ENOTTY). */
int smm_channel_open_backend(struct smm_channel *c, const char *records_path,
                             const char *answers_path, const char *version);
void smm_channel_close(struct smm_channel *c);

static inline int smm_channel_read(struct smm_channel *c, struct sentry_msg_helper_msg *m)
{
    return c->ops->read(c, m);
}
static inline int smm_channel_ack(struct smm_channel *c, const struct sentry_msg_helper_msg *m)
{
    return c->ops->ack(c, m);
}
static inline int smm_channel_version(struct smm_channel *c, struct smh_version_info *v)
{
    return c->ops->version(c, v);
}
