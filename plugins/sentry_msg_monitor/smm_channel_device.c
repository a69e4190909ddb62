/* smm_channel_device.c: the channel on /dev/sentry_msg_helper (docs/kmod.md). One open file
 * does everything: the module lets the reading file answer and ask the version too. */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "smm_channel.h"

static int device_read(struct smm_channel *c, struct sentry_msg_helper_msg *m)
{
    ssize_t n = read(c->read_fd, m, sizeof(*m));

    if (n < 0)
        return -errno;
    /* The module returns whole records only; anything else is no record. */
    return n == (ssize_t) sizeof(*m) ? 0 : -EIO;
}

static int device_ack(struct smm_channel *c, const struct sentry_msg_helper_msg *m)
{
    /* The ioctl only reads the record; the ABI's argument is not const. */
    return ioctl(c->ack_fd, SMH_MSG_ACK, (struct sentry_msg_helper_msg *) m) < 0 ? -errno : 0;
}

static int device_version(struct smm_channel *c, struct smh_version_info *v)
{
    return ioctl(c->read_fd, SMH_VERSION_CHECK, v) < 0 ? -errno : 0;
}

static const struct smm_channel_ops device_ops = {
    .kind = "device",
    .read = device_read,
    .ack = device_ack,
    .version = device_version,
};

int smm_channel_open_device(struct smm_channel *c, const char *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);

    if (fd < 0)
        return -errno;
    *c = (struct smm_channel){.ops = &device_ops, .read_fd = fd, .ack_fd = fd};
    return 0;
}
