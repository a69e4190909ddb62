/* xalarm_event.c: the handle API of libxalarm (xalarm_register_event, xalarm_get_event,
 * xalarm_unregister_event), used by programs that wait for request events such as 1003 and
 * answer them with xalarm_report_event(). A handle is one blocking stream connection to
 * <dir>/alarm plus its id bitmap; the caller owns it and decides when to read. No state is kept
 * outside the handle, so any number of handles may exist, each used by one thread at a time.
 * The handle API prints nothing (the reference prints its refusals): return values say it all,
 * and a library keeps out of the program's stdout and stderr. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "sentry/register_xalarm.h"
#include "xalarm_client.h"

_public_ int xalarm_register_event(struct alarm_register **register_info,
                                   struct alarm_subscription_info id_filter)
{
    _cleanup_free_ struct alarm_register *h = NULL;
    _cleanup_close_ int fd = -EBADF;
    int r;

    assert_return(register_info, -EINVAL);
    assert_return(xalarm_filter_valid(&id_filter), -EINVAL);

    h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    xalarm_filter_to_bitmap(&id_filter, h->alarm_enable_bitmap);

    r = xalarm_stream_connect(&fd);
    if (r < 0)
        return -ENOTCONN;
    r = xalarm_stream_send_register(fd, h->alarm_enable_bitmap);
    if (r < 0)
        return r == -ENOMEM ? -ENOMEM : -ECOMM;

    h->register_fd = TAKE_FD(fd);
    *register_info = TAKE_PTR(h);
    return 0;
}

/* Takes the address of the program's handle, as the reference does since it changed the
 * signature: the handle is set to NULL, so that a second call is harmless. */
_public_ void xalarm_unregister_event(struct alarm_register **register_info)
{
    struct alarm_register *h;

    if (!register_info || !*register_info)
        return;
    h = TAKE_PTR(*register_info);
    /* xalarm_get_event() sets the fd to -1 when it closed it. */
    if (h->register_fd >= 0)
        close(h->register_fd);
    free(h);
}

/* Closes the handle's connection after an error, end of stream or the service-down alarm and
 * returns r: the handle stays allocated until xalarm_unregister_event(). */
static int xalarm_event_disconnect(struct alarm_register *h, int r)
{
    close(h->register_fd);
    h->register_fd = -1;
    return r;
}

_public_ int xalarm_get_event(struct alarm_msg *msg, struct alarm_register *register_info)
{
    struct xalarm_reader reader = {};
    struct alarm_register *h = register_info;

    assert_return(msg, -EINVAL);
    assert_return(h, -EINVAL);
    if (h->register_fd < 0)
        return -ENOTCONN;

    for (;;) {
        int r = xalarm_reader_read(&reader, h->register_fd);
        if (r == -EAGAIN) {
            /* The program made the fd non-blocking: wait for data instead of spinning. */
            struct pollfd p = {.fd = h->register_fd, .events = POLLIN};
            if (poll(&p, 1, -1) < 0 && errno != EINTR)
                return xalarm_event_disconnect(h, -errno);
            continue;
        }
        if (r == -EPIPE)
            return xalarm_event_disconnect(h, -ENOTCONN);
        if (r < 0)
            return xalarm_event_disconnect(h, r);
        if (r == 0)
            continue;

        unsigned id = reader.rec.usAlarmId;
        /* The service is going away, whatever the handle subscribed to. */
        if (id == SENTRY_ALARM_ID_SERVICE_DOWN)
            return xalarm_event_disconnect(h, -EBADF);
        if (!xalarm_bitmap_has(h->alarm_enable_bitmap, id))
            continue;

        size_t len = xalarm_record_text_len(&reader.rec);
        memset(msg, 0, sizeof(*msg));
        msg->usAlarmId = (unsigned short) id;
        msg->AlarmTime = reader.rec.AlarmTime;
        memcpy(msg->pucParas, reader.rec.pucParas, len);
        return 0;
    }
}
