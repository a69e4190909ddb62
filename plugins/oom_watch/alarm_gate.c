/* alarm_gate.c: see alarm_gate.h. */
#include <stdio.h>
#include <string.h>

#include "alarm_gate.h"
#include "macro.h"

void alarm_gate_init(struct alarm_gate *g, uint64_t interval_usec)
{
    memset(g, 0, sizeof(*g));
    g->interval_usec = interval_usec;
}

static struct alarm_gate_slot *slot_get(struct alarm_gate *g, const char *k)
{
    for (size_t i = 0; i < ALARM_GATE_SLOTS; i++) {
        struct alarm_gate_slot *s = &g->slots[i];
        if (!s->used) {
            snprintf(s->key, sizeof(s->key), "%s", k);
            s->used = true;
            return s;
        }
        if (streq(s->key, k))
            return s;
    }
    /* full: the last slot is shared, which limits more, never less */
    return &g->slots[ALARM_GATE_SLOTS - 1];
}

bool alarm_gate_pass(struct alarm_gate *g, unsigned id, const char *key, uint64_t now_usec,
                     uint64_t *held)
{
    char k[ALARM_GATE_KEY_MAX];
    struct alarm_gate_slot *s;

    *held = 0;
    if (g->interval_usec == 0)
        return true;
    snprintf(k, sizeof(k), "%u %s", id, key);
    s = slot_get(g, k);
    if (s->last_usec != 0 && now_usec - s->last_usec < g->interval_usec) {
        s->held++;
        return false;
    }
    *held = s->held;
    s->held = 0;
    s->last_usec = now_usec ? now_usec : 1;
    return true;
}
