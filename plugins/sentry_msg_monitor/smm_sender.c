/* smm_sender.c: read -> alarm (see smm_sender.h). The record and the text live in this
 * function's frame, reserved before the first read: nothing here allocates, so a notice is
 * passed on while the node is out of memory (the OOM notice above all). Read errors that may
 * pass (interrupted, a fault copying the record, nothing queued) are retried; any other ends the
 * thread, and with it the process, which the task framework starts again.
 *
 * One exception to "nothing allocates": a UB memory fault that asks for SIGBUS (fd mode,
 * fault_with_kill) first runs the search of smm_sigbus.c, which opens /proc files, and then
 * sends its alarm naming who was told. That search is bounded (smm_sigbus.h) and is no part of
 * the OOM path. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>

#include "log.h"
#include "sentry/register_xalarm.h"
#include "smm_notice.h"
#include "smm_retry.h"
#include "smm_sender.h"

/* The [memid] devices, set once before the thread starts (smm_sender_set_memid_map()). */
static const struct smm_memid_map *sender_memid_map;

void smm_sender_set_memid_map(const struct smm_memid_map *map)
{
    sender_memid_map = map;
}

static bool read_error_passes(int r)
{
    return r == -ERESTART || r == -EINTR || r == -EFAULT || r == -EAGAIN;
}

/* Reports one alarm, trying again while sentryd's report socket is not there. */
static int report_alarm(unsigned short id, char *text, size_t len, uint64_t msgid)
{
    int r = 0;

    for (int attempt = 0; attempt <= SMM_RETRY_MAX; attempt++) {
        if (attempt > 0)
            smm_retry_pause();
        r = xalarm_report_event(id, text, len);
        if (r == 0) {
            log_info("msgid %" PRIu64 ": alarm %u sent: %s", msgid, id, text);
            return 0;
        }
        if (r != -ENOTCONN && r != -ECOMM && r != -ENODEV)
            break;
        log_warning_errno(r, "msgid %" PRIu64 ": cannot send alarm %u (%m), attempt %d of %d",
                          msgid, id, attempt + 1, SMM_RETRY_MAX + 1);
    }
    return log_error_errno(r, "msgid %" PRIu64 ": alarm %u not sent, notice dropped: %m", msgid,
                           id);
}

/* Waits until the channel has data: EAGAIN on a non-blocking fd must not spin. */
static void wait_readable(struct smm_channel *c)
{
    struct pollfd p = {.fd = c->read_fd, .events = POLLIN};

    (void) poll(&p, 1, -1);
}

int smm_sender_run(struct smm_channel *c)
{
    struct sentry_msg_helper_msg m;
    char text[SMM_TEXT_MAX];

    for (;;) {
        unsigned short id;
        size_t len;
        int r = smm_channel_read(c, &m);

        if (r < 0) {
            if (!read_error_passes(r))
                return log_error_errno(r, "reading notices from the %s failed: %m", c->ops->kind);
            log_warning_errno(r, "reading a notice failed (%m), reading again");
            if (r == -EAGAIN)
                wait_readable(c);
            continue;
        }

        r = smm_notice_to_alarm(&m, &id, text, &len);
        if (r == -ENOMSG) {
            log_info("msgid %" PRIu64 ": notice type %d (%s) is not reported", m.msgid,
                     (int) m.type, strna(smm_notice_type_to_string((int) m.type)));
            continue;
        }
        if (r < 0) {
            log_warning("msgid %" PRIu64 ": notice type %d (%s) has a value outside the ABI, "
                        "not reported",
                        m.msgid, (int) m.type, strna(smm_notice_type_to_string((int) m.type)));
            continue;
        }
        if (smm_notice_wants_sigbus(&m)) {
            struct smm_sigbus_result res;

            r = smm_sigbus_deliver(sender_memid_map, m.helper_msg_info.ub_mem_info.pa, &res);
            if (r < 0)
                log_error_errno(r,
                                "msgid %" PRIu64 ": cannot search for the users of pa "
                                "0x%" PRIx64 ": %m",
                                m.msgid, m.helper_msg_info.ub_mem_info.pa);
            else if (smm_notice_ub_mem_to_alarm(&m, &res, text, &len) < 0)
                /* Cannot happen with the bounds of smm_sigbus.h; the plain text is still sent. */
                (void) smm_notice_to_alarm(&m, &id, text, &len);
        }
        (void) report_alarm(id, text, len, m.msgid);
    }
}
