/* xalarm_record.c: building and checking xalarm records (see xalarm_record.h). Records arrive
 * from any local process, so parsing treats every byte as hostile: exact size, ranges checked,
 * text terminated inside the record. */
#include <errno.h>
#include <string.h>

#include "macro.h"
#include "xalarm_record.h"

static const unsigned xalarm_kernel_event_ids[] = {1003, 1005, 1007, 1009, 1013, 1016};

bool xalarm_id_is_kernel_event(unsigned id)
{
    for (size_t i = 0; i < ELEMENTSOF(xalarm_kernel_event_ids); i++)
        if (xalarm_kernel_event_ids[i] == id)
            return true;
    return false;
}

static const char *const xalarm_level_table[] = {
    [MINOR_ALM] = "MINOR_ALM",
    [MAJOR_ALM] = "MAJOR_ALM",
    [CRITICAL_ALM] = "CRITICAL_ALM",
};

static const char *const xalarm_type_table[] = {
    [ALARM_TYPE_OCCUR] = "ALARM_TYPE_OCCUR",
    [ALARM_TYPE_RECOVER] = "ALARM_TYPE_RECOVER",
};

/* Only _to_string: these names are printed (logs, sentryctl), never parsed. */
const char *xalarm_level_to_string(unsigned level)
{
    return level < ELEMENTSOF(xalarm_level_table) ? xalarm_level_table[level] : NULL;
}

const char *xalarm_type_to_string(unsigned type)
{
    return type < ELEMENTSOF(xalarm_type_table) ? xalarm_type_table[type] : NULL;
}

const unsigned char xalarm_zero_record[XALARM_RECORD_SIZE];

int xalarm_record_build_head(void *buf, unsigned id, unsigned level, unsigned type,
                             const struct timeval *tv, const char *text, size_t len)
{
    struct alarm_info head;

    assert_return(buf, -EINVAL);
    assert_return(xalarm_id_valid(id), -EINVAL);
    assert_return(level >= XALARM_LEVEL_MIN && level <= XALARM_LEVEL_MAX, -EINVAL);
    assert_return(type <= XALARM_TYPE_MAX, -EINVAL);
    assert_return(len <= XALARM_TEXT_MAX, -EINVAL);
    assert_return(text || len == 0, -EINVAL);
    if (len > 0 && memchr(text, 0, len))
        return -EINVAL;

    /* the fields before the text, padding zeroed, laid out by the compiler */
    memset(&head, 0, offsetof(struct alarm_info, pucParas));
    head.usAlarmId = (unsigned short) id;
    head.ucAlarmLevel = (unsigned char) level;
    head.ucAlarmType = (unsigned char) type;
    if (tv)
        head.AlarmTime = *tv;
    memcpy(buf, &head, offsetof(struct alarm_info, pucParas));
    if (len > 0)
        memcpy((char *) buf + offsetof(struct alarm_info, pucParas), text, len);
    ((char *) buf)[XALARM_RECORD_HEAD_SIZE(len) - 1] = 0;
    return 0;
}

int xalarm_record_build(struct alarm_info *rec, unsigned id, unsigned level, unsigned type,
                        const struct timeval *tv, const char *text, size_t len)
{
    int r;

    assert_return(rec, -EINVAL);
    r = xalarm_record_build_head(rec, id, level, type, tv, text, len);
    if (r < 0)
        return r;
    memset((char *) rec + XALARM_RECORD_HEAD_SIZE(len), 0,
           XALARM_RECORD_SIZE - XALARM_RECORD_HEAD_SIZE(len));
    return 0;
}

void xalarm_record_service_down(struct alarm_info *rec)
{
    memset(rec, 0, sizeof(*rec));
    rec->usAlarmId = SENTRY_ALARM_ID_SERVICE_DOWN;
    rec->ucAlarmLevel = MINOR_ALM;
    rec->ucAlarmType = ALARM_TYPE_OCCUR;
    memcpy(rec->pucParas, XALARM_SERVICE_DOWN_TEXT, STRLEN(XALARM_SERVICE_DOWN_TEXT));
}

int xalarm_record_parse(const void *buf, size_t size, struct alarm_info *ret)
{
    const unsigned char *p = buf;
    unsigned short id;

    assert_return(buf || size == 0, -EINVAL);
    if (size != XALARM_RECORD_SIZE)
        return -EMSGSIZE;
    /* Field by field: buf may be unaligned. */
    memcpy(&id, p + offsetof(struct alarm_info, usAlarmId), sizeof(id));
    unsigned level = p[offsetof(struct alarm_info, ucAlarmLevel)];
    unsigned type = p[offsetof(struct alarm_info, ucAlarmType)];
    if (!xalarm_id_valid(id) || level < XALARM_LEVEL_MIN || level > XALARM_LEVEL_MAX ||
        type > XALARM_TYPE_MAX)
        return -ERANGE;
    struct timeval tv;
    memcpy(&tv, p + offsetof(struct alarm_info, AlarmTime), sizeof(tv));
    if (tv.tv_sec < 0 || tv.tv_sec > XALARM_TIME_SEC_MAX || tv.tv_usec < 0 || tv.tv_usec >= 1000000)
        return -ERANGE;
    if (!memchr(p + offsetof(struct alarm_info, pucParas), 0, ALARM_INFO_MAX_PARAS_LEN))
        return -EBADMSG;
    if (ret)
        memcpy(ret, p, XALARM_RECORD_SIZE);
    return 0;
}

size_t xalarm_record_text_len(const struct alarm_info *rec)
{
    return strnlen(rec->pucParas, XALARM_TEXT_MAX);
}
