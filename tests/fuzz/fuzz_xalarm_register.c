/* fuzz_xalarm_register: the byte stream of a client of the xalarm alarm socket, read as the
 * server reads it: JSON messages one after the other, each checked member by member, an id set
 * turned into the ranges of a bus filter. The filter must hold exactly the set's ids. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>

#include "alarm_filter.h"
#include "log.h"
#include "xalarm_record.h"
#include "xalarm_register_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_filter(const struct xalarm_id_set *ids)
{
    struct alarm_filter f = {0};

    xalarm_id_set_to_filter(ids, &f);
    for (unsigned id = SENTRY_ALARM_ID_MIN - 2; id <= SENTRY_ALARM_ID_MAX + 2; id++) {
        struct alarm a = {.id = (uint16_t) id, .level = 1, .type = 1};
        assert(alarm_filter_match(&f, &a) == xalarm_id_set_has(ids, id));
    }
    alarm_filter_done(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    const char *buf = (const char *) data, *why;
    size_t off = 0;

    if (!ready) {
        log_setup("fuzz", LOG_TARGET_NULL, LOG_ERR);
        ready = true;
    }
    if (size > 4 * XALARM_REGISTER_LINE_MAX)
        return 0;
    json_tokener *tok = json_tokener_new();
    assert(tok);
    while (off < size) {
        json_object *msg = json_tokener_parse_ex(tok, buf + off, (int) (size - off));
        enum json_tokener_error e = json_tokener_get_error(tok);
        if (e != json_tokener_success)
            break;
        size_t used = json_tokener_get_parse_end(tok);
        json_tokener_reset(tok);
        struct xalarm_register_msg m;
        why = NULL;
        if (xalarm_register_msg_parse(msg, &m, &why) < 0)
            assert(why);
        else if (m.has_filter && m.action != XALARM_MSG_UNREGISTER)
            check_filter(&m.ids);
        json_object_put(msg);
        if (used == 0)
            break;
        off += used;
    }
    json_tokener_free(tok);
    return 0;
}
