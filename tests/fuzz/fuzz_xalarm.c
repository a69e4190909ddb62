/* fuzz_xalarm: datagrams on the xalarm report socket and id_mask settings: record validation,
 * the source taken from the text, and the native stream line made from an accepted record
 * (always valid JSON, even for texts that are not UTF-8). */
#include <stdint.h>
#include <stdlib.h>

#include "alarm.h"
#include "log.h"
#include "xalarm_record.h"
#include "xalarm_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    struct alarm_info rec;
    char src[ALARM_SOURCE_MAX + 1];

    if (!ready) {
        log_setup("fuzz", LOG_TARGET_NULL, LOG_ERR);
        ready = true;
    }
    /* An id_mask setting from the first bytes. */
    char mask_spec[256];
    size_t m = size < sizeof(mask_spec) - 1 ? size : sizeof(mask_spec) - 1;
    memcpy(mask_spec, data, m);
    mask_spec[m] = 0;
    bool mask[128];
    (void) xalarm_id_mask_parse(mask_spec, mask);

    if (xalarm_record_parse(data, size, &rec) < 0)
        return 0;
    size_t tlen = xalarm_record_text_len(&rec);
    const char *source = alarm_text_source(rec.pucParas, tlen, src, sizeof(src));
    struct alarm a = {
        .seq = 1,
        .id = rec.usAlarmId,
        .level = rec.ucAlarmLevel,
        .type = rec.ucAlarmType,
        .source = source ? source : "xalarm",
        .key = "",
        .node = "node",
        .origin = ALARM_ORIGIN_XALARM,
        .text = rec.pucParas,
        .text_len = tlen,
    };
    struct alarm_record *r = alarm_record_new(&a);
    if (!r)
        return 0;
    size_t len;
    const char *line = alarm_record_line(r, &len);
    if (line) {
        json_tokener *tok = json_tokener_new_ex(32);
        json_object *back = json_tokener_parse_ex(tok, line, (int) len);
        if (!back || json_tokener_get_parse_end(tok) < len - 1 || line[len - 1] != '\n')
            abort();
        json_object_put(back);
        json_tokener_free(tok);
    }
    size_t hl;
    const void *head = alarm_record_xalarm(r, &hl);
    /* What goes back out on the stream (the head, then zeros) is the same record. */
    if (head) {
        static struct alarm_info out;
        if (hl != XALARM_RECORD_HEAD_SIZE(tlen))
            abort();
        memcpy(&out, head, hl);
        memset((char *) &out + hl, 0, sizeof(out) - hl);
        if (out.usAlarmId != rec.usAlarmId || out.ucAlarmLevel != rec.ucAlarmLevel ||
            out.ucAlarmType != rec.ucAlarmType || strncmp(out.pucParas, rec.pucParas, tlen) != 0 ||
            out.pucParas[tlen] != 0)
            abort();
    }
    alarm_record_unref(r);
    return 0;
}
