/* alarm_gate.h: at most one alarm per key (alarm id and cgroup) per interval, so a cgroup that
 * thrashes does not flood the bus: the alarms held back are counted and the next one that goes
 * out says how many there were. A fixed table: keys beyond it share one slot. Pure (the caller
 * gives the time). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define ALARM_GATE_SLOTS   256
#define ALARM_GATE_KEY_MAX 256

struct alarm_gate_slot {
    char key[ALARM_GATE_KEY_MAX];
    uint64_t last_usec; /* when the last alarm went out */
    uint64_t held;      /* alarms held back since */
    bool used;
};

struct alarm_gate {
    uint64_t interval_usec; /* 0: every alarm goes out */
    struct alarm_gate_slot slots[ALARM_GATE_SLOTS];
};

void alarm_gate_init(struct alarm_gate *g, uint64_t interval_usec);
/* Whether an alarm of id about key may go out at now_usec (monotonic). When it may, *held gets
 * the number held back since the last one (and the count starts again); otherwise it is
 * counted. */
bool alarm_gate_pass(struct alarm_gate *g, unsigned id, const char *key, uint64_t now_usec,
                     uint64_t *held);
