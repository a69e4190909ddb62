/* alarm_store.h: the durable alarm history (SQLite, WAL) and its writer thread.
 *
 * The main thread submits records (seq already assigned, strictly increasing); the writer thread
 * takes everything queued at once and commits it in one transaction (group commit), then hands
 * the records back to the main thread, which acknowledges and fans them out. Nothing is
 * acknowledged before its transaction committed, so a kill -9 of sentryd loses nothing that was
 * acknowledged (WAL + synchronous=NORMAL survives a process crash; synchronous=FULL also a power
 * loss); and a record handed back with an error is not stored, not after a restart either (see
 * store_state.h). Retention by count and by age runs on the writer thread.
 *
 * Seqs: before it commits a seq above the reservation kept in the state file beside the
 * database, the writer raises the reservation (in blocks, flushed to disk); the store starts
 * above it. So no seq is ever given twice, across crashes, full disks and a lost database.
 *
 * Reads run on the main thread through its own connection, in bounded steps (alarm_store_read):
 * a page that cannot be read is skipped, and the reader is told which seqs it could not read. A
 * database that cannot be opened at all (not a database, damaged) is moved aside with its WAL,
 * and a fresh one starts above the last seq known (alarm_store_damage() says so). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "alarm.h"

struct alarm_store;
struct alarm_scans;

/* Seqs reserved ahead of use: after a crash the next seq is at most this much above the last. */
#define ALARM_STORE_SEQ_BLOCK 4096

struct alarm_store_params {
    sd_event *event;
    const char *path;         /* the database file; the state file is <path>.state */
    bool sync_full;           /* synchronous=FULL: durable across power loss too */
    uint64_t retention_count; /* rows kept at most; 0 = no limit */
    uint64_t retention_age_s; /* seconds kept at most; 0 = no limit */
    /* main thread: a record has been committed (error 0) or is not stored (negative errno);
     * called in seq order. The callback does not take the store's reference. */
    void (*on_committed)(struct alarm_record *r, int error, void *userdata);
    /* writer thread, after each commit: the batch, for logging. */
    void (*on_batch)(struct alarm_record *const *recs, size_t n, void *userdata);
    /* main thread: a read found seqs that cannot be read (a damaged page): problem
     * "unreadable", text the JSON text of an alarm about it (see alarm_store_damage). Once per
     * range and run. May be NULL. */
    void (*on_damage)(const char *problem, const char *text, void *userdata);
    void *userdata;
};

int alarm_store_open(const struct alarm_store_params *p, struct alarm_store **ret);
/* Lets the writer finish what is queued, then closes. Committed callbacks of the last batch are
 * delivered before this returns. */
struct alarm_store *alarm_store_close(struct alarm_store *s);

/* The seq to continue after: above every seq this store (or a store it replaced) ever gave. */
uint64_t alarm_store_last_seq(const struct alarm_store *s);
/* The last seq stored when the store opened (what subscribers can read up to). */
uint64_t alarm_store_last_stored(const struct alarm_store *s);
/* The oldest seq still stored (0 when empty or unreadable). */
uint64_t alarm_store_oldest_seq(struct alarm_store *s);
/* What was wrong with the database found at open, or NULL when it was fine: the JSON text of an
 * alarm about it (docs/alarms.md, sentryd's own alarms), and *problem "damaged" (moved aside) or
 * "emptied" (it held nothing, but seqs had been given). */
const char *alarm_store_damage(const struct alarm_store *s, const char **problem);

/* Queues a record for the writer (takes a reference). */
void alarm_store_submit(struct alarm_store *s, struct alarm_record *r);
/* Waits until everything submitted has been committed and handed back (shutdown). */
void alarm_store_sync(struct alarm_store *s);
/* Records submitted but not yet handed back. */
unsigned alarm_store_inflight(const struct alarm_store *s);
uint64_t alarm_store_commits(const struct alarm_store *s);

/* ---- reading (main thread) ------------------------------------------------------------------ */

typedef int (*alarm_store_row_fn)(struct alarm_record *r, void *userdata);

/* A read in seq order that resumes where it stopped. Readers bound it by the bus's head, so they
 * never see what the writer committed but the main thread has not handed out yet. */
struct alarm_read {
    bool desc;       /* newest first */
    uint16_t id;     /* only this id (0: every id) */
    uint64_t cursor; /* ascending: rows after it; descending: rows before it */
    uint64_t bound;  /* ascending: up to it; descending: down to it (both inclusive) */
    bool done;       /* set once no row is left */
};

struct alarm_read_ops {
    /* Each row in order. <0 stops the read after this row. */
    alarm_store_row_fn row;
    /* Seqs first..last could not be read (a damaged page) and are skipped. May be NULL. */
    void (*unreadable)(uint64_t first, uint64_t last, void *userdata);
};

/* Reads at most max_rows rows from q->cursor on and moves q->cursor past what was read or
 * skipped. Returns the number of rows given to ops->row, or -errno (the read may be retried). */
int alarm_store_read(struct alarm_store *s, struct alarm_read *q, unsigned max_rows,
                     const struct alarm_read_ops *ops, void *userdata);
/* The active set saved with the alarms: fn for each (newest state). Unreadable ones are
 * skipped. */
int alarm_store_read_active(struct alarm_store *s, alarm_store_row_fn fn, void *userdata);
/* The seq of the stored alarm that source reported with idempotency key idem: 1 and *ret, or 0
 * when there is none; -errno. */
int alarm_store_find_idem(struct alarm_store *s, const char *source, const char *idem,
                          uint64_t *ret);

/* The long reads under way (alarm_scan.h); ended at close. */
struct alarm_scans *alarm_store_scans(struct alarm_store *s);
