/* alarm_scan.c: see alarm_scan.h. */
#include "alarm_scan.h"
#include "log.h"
#include "macro.h"

struct alarm_scan {
    struct alarm_scans *set;
    struct alarm_scan_params p;
    uint64_t looked; /* rows given to p.row so far */
    bool stopped;    /* p.row asked to end */
    sd_event_source *step;
    struct alarm_scan *prev, *next;
};

struct alarm_scans {
    sd_event *event;
    struct alarm_store *store;
    struct alarm_scan *list;
};

struct alarm_scans *alarm_scans_new(sd_event *event, struct alarm_store *store)
{
    struct alarm_scans *set = calloc(1, sizeof(*set));
    if (!set)
        return NULL;
    set->event = event;
    set->store = store;
    return set;
}

static void scan_end(struct alarm_scan *c, int error)
{
    struct alarm_scans *set = c->set;

    if (c->prev)
        c->prev->next = c->next;
    else
        set->list = c->next;
    if (c->next)
        c->next->prev = c->prev;
    sd_event_source_disable_unref(c->step);
    c->p.done(error, &c->p.read, c->p.userdata);
    free(c);
}

static int scan_row(struct alarm_record *r, void *userdata)
{
    struct alarm_scan *c = userdata;

    c->looked++;
    if (c->p.row(r, c->p.userdata) < 0)
        c->stopped = true;
    return c->stopped || (c->p.max_rows && c->looked >= c->p.max_rows) ? -1 : 0;
}

static void scan_unreadable(uint64_t first, uint64_t last, void *userdata)
{
    struct alarm_scan *c = userdata;
    if (c->p.unreadable)
        c->p.unreadable(first, last, c->p.userdata);
}

static const struct alarm_read_ops scan_ops = {
    .row = scan_row,
    .unreadable = scan_unreadable,
};

static int on_scan_step(sd_event_source *src, void *userdata)
{
    struct alarm_scan *c = userdata;
    unsigned rows = ALARM_SCAN_STEP;

    if (c->p.max_rows)
        rows = (unsigned) MIN((uint64_t) rows, c->p.max_rows - c->looked);
    int n = alarm_store_read(c->set->store, &c->p.read, rows, &scan_ops, c);
    if (n < 0) {
        scan_end(c, n);
        return 0;
    }
    if (c->p.read.done || c->stopped || (c->p.max_rows && c->looked >= c->p.max_rows)) {
        scan_end(c, 0);
        return 0;
    }
    int r = sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
    if (r < 0)
        scan_end(c, r);
    return 0;
}

int alarm_scan_start(struct alarm_scans *set, const struct alarm_scan_params *p)
{
    struct alarm_scan *c = calloc(1, sizeof(*c));
    int r;

    if (!c)
        return -ENOMEM;
    c->set = set;
    c->p = *p;
    r = sd_event_add_defer(set->event, &c->step, on_scan_step, c);
    if (r >= 0)
        /* Below every other source: clients, timers and commits go first. */
        r = sd_event_source_set_priority(c->step, SD_EVENT_PRIORITY_IDLE);
    if (r >= 0)
        r = sd_event_source_set_enabled(c->step, SD_EVENT_ONESHOT);
    if (r < 0) {
        sd_event_source_disable_unref(c->step);
        free(c);
        return r;
    }
    c->next = set->list;
    if (set->list)
        set->list->prev = c;
    set->list = c;
    return 0;
}

void alarm_scans_cancel(struct alarm_scans *set)
{
    if (!set)
        return;
    while (set->list)
        scan_end(set->list, -ECANCELED);
}

struct alarm_scans *alarm_scans_free(struct alarm_scans *set)
{
    alarm_scans_cancel(set);
    free(set);
    return NULL;
}
