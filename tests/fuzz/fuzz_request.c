/* fuzz_request: bytes from a client of the native socket: line framing, request parsing, the
 * alarm and filter members, and the stream line made from an accepted alarm, which must always
 * be valid JSON whatever the input. */
#include <stdint.h>
#include <stdlib.h>

#include "alarm.h"
#include "alarm_filter.h"
#include "line_buffer.h"
#include "log.h"
#include "request_parse.h"
#include "sentry/sentry.h"
#include "xalarm_record.h"

static void check_alarm(json_object *obj)
{
    struct alarm a = {0};
    const char *why;

    if (alarm_from_json(obj, &a, &why) < 0)
        return;
    if (!a.source)
        a.source = "fuzz";
    a.node = "node";
    a.seq = 42;
    struct alarm_record *r = alarm_record_new(&a);
    if (!r)
        return;
    size_t len;
    const char *line = alarm_record_line(r, &len);
    if (line) {
        json_tokener *tok = json_tokener_new_ex(32);
        json_object *back = json_tokener_parse_ex(tok, line, (int) len);
        /* The stream line is exactly one JSON object followed by a newline (which the tokener
         * may or may not consume as white space). */
        size_t end = json_tokener_get_parse_end(tok);
        if (!back || end < len - 1 || line[len - 1] != '\n')
            abort();
        json_object *alarm, *text;
        if (!json_object_object_get_ex(back, "alarm", &alarm) ||
            !json_object_object_get_ex(alarm, "text", &text))
            abort();
        json_object_put(back);
        json_tokener_free(tok);
    }
    size_t hl;
    const char *head = alarm_record_xalarm(r, &hl);
    if (head && (hl < XALARM_RECORD_HEAD_SIZE(0) || hl > XALARM_RECORD_SIZE || head[hl - 1] != 0))
        abort();
    alarm_record_unref(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static json_tokener *tok;
    struct line_buffer b;
    char *line;
    size_t len;
    int r;

    if (!tok) {
        log_setup("fuzz", LOG_TARGET_NULL, LOG_ERR);
        tok = json_tokener_new_ex(32);
    }
    line_buffer_init(&b, SENTRY_LINE_MAX);
    if (line_buffer_append(&b, data, size) < 0 || line_buffer_append(&b, "\n", 1) < 0) {
        line_buffer_done(&b);
        return 0;
    }
    while ((r = line_buffer_next(&b, &line, &len)) != 0) {
        struct parsed_request p;
        char why[256];

        if (r < 0)
            continue;
        int e = request_parse(tok, line, len, &p, why, sizeof(why));
        if (e == 0) {
            json_object *a;
            struct alarm_filter f;
            const char *w;
            if (json_object_object_get_ex(p.msg, "alarm", &a))
                check_alarm(a);
            (void) alarm_filter_from_json(p.msg, &f, &w);
            alarm_filter_done(&f);
        }
        json_object_put(p.msg);
    }
    line_buffer_done(&b);
    return 0;
}
