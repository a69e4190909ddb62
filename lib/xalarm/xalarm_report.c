/* xalarm_report.c: the producers of the libxalarm API, xalarm_Report() and
 * xalarm_report_event(). Each call builds one 8216-byte record stamped with the wall clock and
 * sends it as one datagram to <dir>/report; nothing is kept between calls. Arguments are checked
 * as the reference checks them, with its return values and messages (on stderr, as there). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "macro.h"
#include "sentry/register_xalarm.h"
#include "xalarm_client.h"

/* Sends rec to the report socket. With do_connect the socket is connected first, so that a
 * missing socket is told apart from a failed send (the handle API's -ENOTCONN / -ECOMM).
 * -errno of socket() in *ret_stage 0, of connect() in 1, of send()/sendto() in 2; -EMSGSIZE for
 * a short send. */
static int xalarm_report_send(const struct alarm_info *rec, bool do_connect, int *ret_stage)
{
    _cleanup_close_ int fd = -EBADF;
    struct sockaddr_un sa;
    socklen_t sa_len;
    ssize_t n;
    int r;

    *ret_stage = 0;
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;

    *ret_stage = 1;
    r = xalarm_socket_address(XALARM_SOCKET_REPORT, &sa, &sa_len);
    if (r < 0)
        return r;
    if (do_connect)
        while (connect(fd, (struct sockaddr *) &sa, sa_len) < 0)
            if (errno != EINTR)
                return -errno;

    *ret_stage = 2;
    do
        n = do_connect
                ? send(fd, rec, sizeof(*rec), MSG_NOSIGNAL)
                : sendto(fd, rec, sizeof(*rec), MSG_NOSIGNAL, (struct sockaddr *) &sa, sa_len);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if ((size_t) n != sizeof(*rec))
        return -EMSGSIZE;
    return 0;
}

_public_ int xalarm_Report(unsigned short usAlarmId, unsigned char ucAlarmLevel,
                           unsigned char ucAlarmType, char *pucParas)
{
    struct alarm_info rec;
    struct timeval tv;
    size_t len;
    int r, stage;

    if (!xalarm_id_valid(usAlarmId) || ucAlarmLevel < MINOR_ALM || ucAlarmLevel > CRITICAL_ALM ||
        ucAlarmType < ALARM_TYPE_OCCUR || ucAlarmType > ALARM_TYPE_RECOVER || !pucParas ||
        (len = strnlen(pucParas, XALARM_TEXT_MAX + 1)) > XALARM_TEXT_MAX) {
        fprintf(stderr, "xalarm_Report: alarm info invalid\n");
        return -1;
    }

    if (gettimeofday(&tv, NULL) < 0) {
        fprintf(stderr, "xalarm_Report: gettimeofday failed errno: %d\n", errno);
        return -1;
    }
    r = xalarm_record_build(&rec, usAlarmId, ucAlarmLevel, ucAlarmType, &tv, pucParas, len);
    if (r < 0) {
        fprintf(stderr, "xalarm_Report: alarm info invalid\n");
        return -1;
    }

    r = xalarm_report_send(&rec, false, &stage);
    if (r < 0) {
        if (stage == 0)
            fprintf(stderr, "xalarm_Report socket create error: %s\n", strerror(-r));
        else
            fprintf(stderr, "xalarm_Report: sendto failed errno: %d\n", -r);
        return -1;
    }
    return 0;
}

/* The reference's contract: len is 1..8191 and the text has no NUL in its first len bytes
 * (strnlen(pucParas, len) == len; only those bytes are read, so pucParas need not end in a NUL);
 * the alarm is MINOR and OCCUR. -EINVAL for bad arguments, -ENODEV when no socket can be made,
 * -ENOTCONN when the report socket cannot be reached, -ECOMM when the send failed. Like the rest
 * of the handle API it prints nothing (the reference prints its refusals on stderr). */
_public_ int xalarm_report_event(unsigned short usAlarmId, char *pucParas, size_t len)
{
    struct alarm_info rec;
    struct timeval tv;
    int r, stage;

    assert_return(xalarm_id_valid(usAlarmId), -EINVAL);
    assert_return(pucParas, -EINVAL);
    assert_return(len >= 1 && len <= XALARM_TEXT_MAX, -EINVAL);
    assert_return(strnlen(pucParas, len) == len, -EINVAL);

    if (gettimeofday(&tv, NULL) < 0)
        return -errno;
    r = xalarm_record_build(&rec, usAlarmId, MINOR_ALM, ALARM_TYPE_OCCUR, &tv, pucParas, len);
    if (r < 0)
        return r;

    r = xalarm_report_send(&rec, true, &stage);
    if (r < 0)
        return stage == 0 ? -ENODEV : stage == 1 ? -ENOTCONN : -ECOMM;
    return 0;
}
