/* smm_channel_backend.c: the test backend of the channel (see smm_channel.h), so that tests and
 * harnesses drive the plugin without the kernel module. Only the two syscalls are replaced: a
 * record is read whole from a stream instead of the device, an answer is written out instead of
 * the ioctl; the records are the ABI's 88 bytes in both directions. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "parse_number.h"
#include "smm_channel.h"
#include "unix_connect.h"

static int backend_read(struct smm_channel *c, struct sentry_msg_helper_msg *m)
{
    /* A stream may hand a record over in pieces; read_exact() waits for all of it. */
    return read_exact(c->read_fd, m, sizeof(*m));
}

static int backend_ack(struct smm_channel *c, const struct sentry_msg_helper_msg *m)
{
    int32_t reply;
    int r;

    r = write_all(c->ack_fd, m, sizeof(*m));
    if (r < 0)
        return r;
    if (!c->ack_replies)
        return 0;
    r = read_exact(c->ack_fd, &reply, sizeof(reply));
    if (r < 0)
        return r;
    return reply > 0 ? -reply : 0;
}

static int backend_version(struct smm_channel *c, struct smh_version_info *v)
{
    if (c->backend_version_error)
        return -c->backend_version_error;
    *v = c->backend_version;
    return 0;
}

static const struct smm_channel_ops backend_ops = {
    .kind = "test backend",
    .read = backend_read,
    .ack = backend_ack,
    .version = backend_version,
};

/* A socket is connected to, anything else opened with flags. *ret_socket says which. */
static int open_path(const char *path, int flags, int *ret_fd, bool *ret_socket)
{
    struct stat st;
    int fd;

    if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        *ret_socket = true;
        return unix_connect(path, ret_fd);
    }
    *ret_socket = false;
    fd = open(path, flags | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    *ret_fd = fd;
    return 0;
}

/* "MAJOR.MINOR" or "fail". */
static int parse_version(const char *s, struct smm_channel *c)
{
    char major[16];
    const char *dot;
    uint64_t a, b;

    if (!s) {
        c->backend_version = (struct smh_version_info){SMH_VERSION_MAJOR, SMH_VERSION_MINOR};
        return 0;
    }
    if (streq(s, "fail")) {
        c->backend_version_error = ENOTTY;
        return 0;
    }
    dot = strchr(s, '.');
    if (!dot || (size_t) (dot - s) >= sizeof(major))
        return -EINVAL;
    memcpy(major, s, (size_t) (dot - s));
    major[dot - s] = 0;
    if (parse_uint_digits(major, &a) < 0 || parse_uint_digits(dot + 1, &b) < 0 || a > UINT32_MAX ||
        b > UINT32_MAX)
        return -EINVAL;
    c->backend_version = (struct smh_version_info){(uint32_t) a, (uint32_t) b};
    return 0;
}

int smm_channel_open_backend(struct smm_channel *c, const char *records_path,
                             const char *answers_path, const char *version)
{
    _cleanup_close_ int rfd = -EBADF, afd = -EBADF;
    bool is_socket;
    int r;

    *c = (struct smm_channel){.ops = &backend_ops, .read_fd = -1, .ack_fd = -1};
    r = parse_version(version, c);
    if (r < 0)
        return r;
    r = open_path(records_path, O_RDONLY, &rfd, &is_socket);
    if (r < 0)
        return r;
    /* O_RDWR: a FIFO opens without waiting for its reader. */
    r = open_path(answers_path, O_RDWR | O_CREAT | O_APPEND, &afd, &is_socket);
    if (r < 0)
        return r;
    c->ack_replies = is_socket;
    c->read_fd = TAKE_FD(rfd);
    c->ack_fd = TAKE_FD(afd);
    return 0;
}
