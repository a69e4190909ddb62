/* oom_alarm.c: the one way oom_watch reports an alarm (see oom_watch.h). */
#include <stdio.h>
#include <time.h>

#include "json_util.h"
#include "log.h"
#include "oom_watch.h"

uint64_t now_monotonic_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

json_object *oom_watch_text_new(struct oom_watch *w, const char *event)
{
    json_object *o = json_object_new_object();

    if (!o)
        return NULL;
    json_object_object_add(o, "alarm_source", json_object_new_string("oom_watch"));
    json_object_object_add(o, "event", json_object_new_string(event));
    json_object_object_add(o, "node", json_object_new_string(w->node));
    return o;
}

int oom_watch_alarm(struct oom_watch *w, unsigned id, int level, const char *key, json_object *text)
{
    _cleanup_json_ json_object *t = text;
    uint64_t held, seq = 0;
    const char *s;
    int r;

    if (!t)
        return log_oom();
    /* per source too: the victim event and the cgroup's counter are two views of one kill, and
     * neither may hide the other */
    char gate_key[ALARM_GATE_KEY_MAX];
    snprintf(gate_key, sizeof(gate_key), "%s %s",
             json_object_get_string(json_object_object_get(t, "event")), key);
    if (!alarm_gate_pass(&w->gate, id, gate_key, now_monotonic_usec(), &held)) {
        log_debug("alarm %u about %s held back (rate limit): %s", id, key, json_plain(t, NULL));
        return 1;
    }
    if (held > 0)
        json_object_object_add(t, "held_back", json_object_new_uint64(held));
    s = json_plain(t, NULL);
    struct sentry_alarm a = {
        .id = id,
        .level = level,
        .type = SENTRY_ALARM_OCCUR,
        .key = key,
        .text = s,
    };
    r = sentry_report(w->client, &a, &seq);
    if (r < 0)
        return log_warning_errno(r, "cannot report alarm %u (%s): %m (%s)", id, s,
                                 strna(sentry_error_message(w->client)));
    log_info("alarm %u seq %llu: %s", id, (unsigned long long) seq, s);
    return 0;
}
