/* kernel_switch.c: see kernel_switch.h. */
#include "kernel_switch.h"

const struct kernel_switch kernel_switches[KERNEL_SWITCH_COUNT] = {
    {1003, "sentry_reporter", "power_off", false},
    {1005, "sentry_reporter", "oom", false},
    {1007, "sentry_remote_reporter", "panic", true},
    {1009, "sentry_remote_reporter", "kernel_reboot", true},
    {1013, "sentry_reporter", "ub_mem_fault", false},
    {1016, "sentry_reporter", "link_event", false},
};

static int kernel_switch_index(unsigned id)
{
    for (int i = 0; i < KERNEL_SWITCH_COUNT; i++)
        if (kernel_switches[i].id == id)
            return i;
    return -1;
}

const struct kernel_switch *kernel_switch_find(unsigned id)
{
    int i = kernel_switch_index(id);
    return i < 0 ? NULL : &kernel_switches[i];
}

void kernel_switch_refs_change(struct kernel_switch_refs *refs, struct xalarm_id_set *held,
                               const struct xalarm_id_set *want, struct xalarm_id_set *turn_on,
                               struct xalarm_id_set *turn_off)
{
    *turn_on = (struct xalarm_id_set){0};
    *turn_off = (struct xalarm_id_set){0};
    for (int i = 0; i < KERNEL_SWITCH_COUNT; i++) {
        const struct kernel_switch *k = &kernel_switches[i];
        bool had = xalarm_id_set_has(held, k->id), has = xalarm_id_set_has(want, k->id);
        if (had == has)
            continue;
        if (has && refs->count[i]++ == 0)
            xalarm_id_set_add(turn_on, k->id);
        if (!has && --refs->count[i] == 0 && !k->sticky)
            xalarm_id_set_add(turn_off, k->id);
    }
    /* only the ids of the table are held */
    *held = (struct xalarm_id_set){0};
    for (int i = 0; i < KERNEL_SWITCH_COUNT; i++)
        if (xalarm_id_set_has(want, kernel_switches[i].id))
            xalarm_id_set_add(held, kernel_switches[i].id);
}

unsigned kernel_switch_refs_get(const struct kernel_switch_refs *refs, unsigned id)
{
    int i = kernel_switch_index(id);
    return i < 0 ? 0 : refs->count[i];
}
