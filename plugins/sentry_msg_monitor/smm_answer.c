/* smm_answer.c: answer texts read back (see smm_answer.h). A small cursor walks the text: each
 * step takes a literal or a number and fails with the reason, so the whole text is matched
 * without sscanf's leniency (signs, blanks, wrap-around of out-of-range numbers). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <limits.h>
#include <string.h>

#include "sentry/alarm_ids.h"
#include "smm_answer.h"

struct cursor {
    const char *p, *end;
    const char *reason; /* the first failure */
};

static bool fail(struct cursor *c, const char *reason)
{
    if (!c->reason)
        c->reason = reason;
    return false;
}

static bool take_literal(struct cursor *c, const char *lit, const char *reason)
{
    size_t n = strlen(lit);

    if (c->reason)
        return false;
    if ((size_t) (c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
        return fail(c, reason);
    c->p += n;
    return true;
}

/* Decimal digits only, at most max. */
static bool take_number(struct cursor *c, uint64_t max, uint64_t *ret, const char *what_bad,
                        const char *what_range)
{
    uint64_t v = 0;
    const char *start = c->p;

    if (c->reason)
        return false;
    for (; c->p < c->end && *c->p >= '0' && *c->p <= '9'; c->p++) {
        unsigned d = (unsigned) (*c->p - '0');
        if (v > (max - d) / 10)
            return fail(c, what_range);
        v = v * 10 + d;
    }
    if (c->p == start)
        return fail(c, what_bad);
    *ret = v;
    return true;
}

/* Up to SMH_EID_LEN - 1 bytes before the '}', none of them a control character. */
static bool take_eid(struct cursor *c, char eid[SMH_EID_LEN])
{
    const char *start = c->p;

    if (c->reason)
        return false;
    for (; c->p < c->end && *c->p != '}'; c->p++)
        if ((unsigned char) *c->p < 0x20 || *c->p == 0x7f)
            return fail(c, "control character in eid");
    if (c->p - start > SMH_EID_LEN - 1)
        return fail(c, "eid longer than 39 bytes");
    memset(eid, 0, SMH_EID_LEN);
    memcpy(eid, start, (size_t) (c->p - start));
    return true;
}

int smm_answer_parse(unsigned id, const char *text, size_t len, struct sentry_msg_helper_msg *ret,
                     const char **ret_reason)
{
    struct cursor c = {.p = text, .end = text + len};
    struct sentry_msg_helper_msg m = {};
    uint64_t msgid = 0, res = 0, cna = 0;
    bool remote;

    switch (id) {
    case SENTRY_ALARM_ID_POWER_OFF_ANSWER:
        m.type = SMH_MESSAGE_POWER_OFF;
        remote = false;
        break;
    case SENTRY_ALARM_ID_OOM_ANSWER:
        m.type = SMH_MESSAGE_OOM;
        remote = false;
        break;
    case SENTRY_ALARM_ID_PANIC_ANSWER:
        m.type = SMH_MESSAGE_PANIC;
        remote = true;
        break;
    case SENTRY_ALARM_ID_KERNEL_REBOOT_ANSWER:
        m.type = SMH_MESSAGE_KERNEL_REBOOT;
        remote = true;
        break;
    default:
        *ret_reason = "not an answer id";
        return -EINVAL;
    }
    if (memchr(text, 0, len)) {
        *ret_reason = "NUL inside the text";
        return -EINVAL;
    }

    take_number(&c, UINT64_MAX, &msgid, "msgid is not a decimal number", "msgid out of range");
    take_literal(&c, "_", "'_' expected after msgid");
    if (remote) {
        take_literal(&c, "{cna:", "'{cna:' expected");
        take_number(&c, UINT32_MAX, &cna, "cna is not a decimal number", "cna out of range");
        take_literal(&c, ",eid:", "',eid:' expected");
        take_eid(&c, m.helper_msg_info.remote_info.eid);
        take_literal(&c, "}_", "'}_' expected after eid");
    }
    take_number(&c, ULONG_MAX, &res, "res is not a decimal number", "res out of range");
    if (!c.reason && c.p != c.end)
        fail(&c, "trailing characters");
    if (c.reason) {
        *ret_reason = c.reason;
        return -EINVAL;
    }

    m.msgid = msgid;
    m.res = (unsigned long) res;
    m.helper_msg_info.remote_info.cna = (uint32_t) cna;
    if (!remote)
        memset(&m.helper_msg_info, 0, sizeof(m.helper_msg_info));
    *ret = m;
    return 0;
}
