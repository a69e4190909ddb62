/* smm_receiver.c: answer alarm -> SMH_MSG_ACK (see smm_receiver.h). It subscribes to the four
 * answer ids, reads them with the handle API, parses each with the reference's formats (texts
 * come from any xalarm reporter: a bad one is refused with its reason and the loop goes on) and
 * hands the record to the channel. When sentryd goes away (end of stream, reset, or its
 * service-down alarm) it registers again. The received alarm and the record live in this
 * function's frame; the only allocation is libxalarm's handle, made when (re)registering,
 * never between an answer's arrival and its ioctl. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "log.h"
#include "sentry/register_xalarm.h"
#include "smm_answer.h"
#include "smm_receiver.h"
#include "smm_retry.h"
#include "terminal_escape.h"

/* The part of a refused text that is logged. */
#define REFUSED_EXCERPT_MAX 200

static const int answer_ids[] = {
    SENTRY_ALARM_ID_POWER_OFF_ANSWER,
    SENTRY_ALARM_ID_OOM_ANSWER,
    SENTRY_ALARM_ID_PANIC_ANSWER,
    SENTRY_ALARM_ID_KERNEL_REBOOT_ANSWER,
};

static int register_answers(struct alarm_register **ret)
{
    struct alarm_subscription_info filter = {.len = ELEMENTSOF(answer_ids)};
    int r = 0;

    memcpy(filter.id_list, answer_ids, sizeof(answer_ids));
    for (int attempt = 0; attempt <= SMM_RETRY_MAX; attempt++) {
        if (attempt > 0)
            smm_retry_pause();
        r = xalarm_register_event(ret, filter);
        if (r == 0) {
            log_info("subscribed to the answers 1004, 1006, 1008, 1010");
            return 0;
        }
        /* -ECOMM too (the reference retries -ENOTCONN only): a sentryd that is stopping may
         * still accept the connection and then close it before taking the registration. */
        if (r != -ENOTCONN && r != -ECOMM)
            break;
        log_warning_errno(r, "cannot subscribe to the answers (%m), attempt %d of %d", attempt + 1,
                          SMM_RETRY_MAX + 1);
    }
    return log_error_errno(r, "subscribing to the answers failed: %m");
}

static void log_refused(unsigned id, const char *text, size_t len, const char *reason)
{
    char esc[TERMINAL_ESCAPE_SIZE(REFUSED_EXCERPT_MAX)];

    terminal_escape(esc, sizeof(esc), text, MIN(len, (size_t) REFUSED_EXCERPT_MAX));
    log_warning("answer %u refused: %s: \"%s%s\"", id, reason, esc,
                len > REFUSED_EXCERPT_MAX ? "..." : "");
}

/* Gives the answer to the kernel. 0 when given or skipped (too late, unknown), -errno when the
 * channel is broken. */
static int ack_answer(struct smm_channel *c, unsigned id, const struct sentry_msg_helper_msg *m)
{
    int r = 0;

    for (int attempt = 0; attempt <= SMM_RETRY_MAX; attempt++) {
        if (attempt > 0)
            smm_retry_pause();
        do
            r = smm_channel_ack(c, m);
        while (r == -EINTR);
        if (r == 0) {
            log_info("answer %u to msgid %" PRIu64 " given, res %lu", id, m->msgid, m->res);
            return 0;
        }
        if (r == -ETIME) {
            log_warning("answer to msgid %" PRIu64 " came too late", m->msgid);
            return 0;
        }
        if (r == -ENOENT) {
            log_warning("answer %u to msgid %" PRIu64 " skipped: no such notice waits (answered "
                        "already, or never sent)",
                        id, m->msgid);
            return 0;
        }
        if (r == -ERESTART) {
            log_warning_errno(r, "answer %u to msgid %" PRIu64 " skipped: %m", id, m->msgid);
            return 0;
        }
        if (r != -EFAULT)
            return log_error_errno(r, "answering msgid %" PRIu64 " failed: %m", m->msgid);
        log_warning_errno(r, "answering msgid %" PRIu64 " failed (%m), attempt %d of %d", m->msgid,
                          attempt + 1, SMM_RETRY_MAX + 1);
    }
    log_warning_errno(r, "answer %u to msgid %" PRIu64 " dropped: %m", id, m->msgid);
    return 0;
}

int smm_receiver_run(struct smm_channel *c)
{
    struct alarm_register *h = NULL;
    struct alarm_msg msg;
    int r;

    r = register_answers(&h);
    if (r < 0)
        return r;
    for (;;) {
        struct sentry_msg_helper_msg m;
        const char *reason;

        r = xalarm_get_event(&msg, h);
        if (r == -ENOTCONN || r == -ECONNRESET || r == -EBADF) {
            log_warning_errno(r, "sentryd's alarm stream ended (%m), subscribing again");
            xalarm_unregister_event(&h);
            r = register_answers(&h);
            if (r < 0)
                return r;
            continue;
        }
        if (r < 0) {
            xalarm_unregister_event(&h);
            return log_error_errno(r, "reading answers failed: %m");
        }

        size_t len = strnlen(msg.pucParas, sizeof(msg.pucParas));
        if (smm_answer_parse(msg.usAlarmId, msg.pucParas, len, &m, &reason) < 0) {
            log_refused(msg.usAlarmId, msg.pucParas, len, reason);
            continue;
        }
        r = ack_answer(c, msg.usAlarmId, &m);
        if (r < 0) {
            xalarm_unregister_event(&h);
            return r;
        }
    }
}
