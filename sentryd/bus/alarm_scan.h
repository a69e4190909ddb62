/* alarm_scan.h: long reads of the alarm store (history queries that may look at up to a hundred
 * thousand rows) in bounded steps on the event loop.
 *
 * A scan reads ALARM_SCAN_STEP rows at a time from a defer source of idle priority: between two
 * steps the loop serves every other source (clients, timers, signals, commits), however many
 * scans are under way; the scan's owner is called back once it is done. Each step runs its own
 * short read transaction, so a long scan does not hold the WAL back either. */
#pragma once

#include <stdint.h>

#include <systemd/sd-event.h>

#include "alarm_store.h"

#define ALARM_SCAN_STEP 256 /* rows read per step */

struct alarm_scans; /* the scans under way on one store */

struct alarm_scan_params {
    struct alarm_read read; /* where it starts and ends */
    uint64_t max_rows;      /* rows looked at, at most (0: no limit) */
    /* Each row; <0 ends the scan (done(0)). */
    alarm_store_row_fn row;
    /* Seqs that could not be read (see alarm_store_read). May be NULL. */
    void (*unreadable)(uint64_t first, uint64_t last, void *userdata);
    /* The scan ended: 0 (end reached, max_rows looked at, or row said so), or -errno (a read
     * failed, or -ECANCELED: sentryd stops). Called once, from the event loop (never from
     * alarm_scan_start); the scan's memory is gone after. */
    void (*done)(int error, const struct alarm_read *read, void *userdata);
    void *userdata;
};

struct alarm_scans *alarm_scans_new(sd_event *event, struct alarm_store *store);
/* Cancels every scan under way (their done gets -ECANCELED) and frees the set. */
struct alarm_scans *alarm_scans_free(struct alarm_scans *set);
/* Cancels every scan under way (shutdown: their owners answer before they go). */
void alarm_scans_cancel(struct alarm_scans *set);

/* Starts a scan. -ENOMEM (nothing is called back then). */
int alarm_scan_start(struct alarm_scans *set, const struct alarm_scan_params *p);
