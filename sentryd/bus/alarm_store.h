/* alarm_store.h: the durable alarm history (SQLite, WAL) and its writer thread.
 *
 * The main thread submits records (seq already assigned, strictly increasing); the writer thread
 * takes everything queued at once and commits it in one transaction (group commit), then hands
 * the records back to the main thread, which acknowledges and fans them out. Nothing is
 * acknowledged before its transaction committed, so a kill -9 of sentryd loses nothing that was
 * acknowledged (WAL + synchronous=NORMAL survives a process crash; synchronous=FULL also a power
 * loss). The main thread reads through its own connection (replay, history), in bounded chunks.
 * Retention by count and by age runs on the writer thread. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "alarm.h"

struct alarm_store;

struct alarm_store_params {
    sd_event *event;
    const char *path;         /* the database file */
    bool sync_full;           /* synchronous=FULL: durable across power loss too */
    uint64_t retention_count; /* rows kept at most; 0 = no limit */
    uint64_t retention_age_s; /* seconds kept at most; 0 = no limit */
    /* main thread: a record has been committed (error 0) or could not be (negative errno);
     * called in seq order. The callback does not take the store's reference. */
    void (*on_committed)(struct alarm_record *r, int error, void *userdata);
    /* writer thread, after each commit: the batch, for logging. */
    void (*on_batch)(struct alarm_record *const *recs, size_t n, void *userdata);
    void *userdata;
};

int alarm_store_open(const struct alarm_store_params *p, struct alarm_store **ret);
/* Lets the writer finish what is queued, then closes. Committed callbacks of the last batch are
 * delivered before this returns. */
struct alarm_store *alarm_store_close(struct alarm_store *s);

/* The highest seq ever assigned (from the database at open), for the bus to continue from. */
uint64_t alarm_store_last_seq(const struct alarm_store *s);
/* The oldest seq still stored (0 when empty). */
uint64_t alarm_store_oldest_seq(struct alarm_store *s);

/* Queues a record for the writer (takes a reference). */
void alarm_store_submit(struct alarm_store *s, struct alarm_record *r);
/* Waits until everything submitted has been committed and handed back (shutdown). */
void alarm_store_sync(struct alarm_store *s);
/* Records submitted but not yet handed back. */
unsigned alarm_store_inflight(const struct alarm_store *s);
uint64_t alarm_store_commits(const struct alarm_store *s);

/* Main thread: calls fn for up to limit stored records with after < seq <= upto (upto 0: no
 * bound), in seq order. The bound keeps readers from seeing what the writer committed but the
 * main thread has not handed out yet. fn returns <0 to stop. Returns the number of rows read,
 * or -errno. */
typedef int (*alarm_store_row_fn)(struct alarm_record *r, void *userdata);
int alarm_store_read_after(struct alarm_store *s, uint64_t after, uint64_t upto, unsigned limit,
                           alarm_store_row_fn fn, void *userdata);
/* Newest first: records with the given id and seq < before (0 = no bound). */
int alarm_store_read_id_desc(struct alarm_store *s, uint16_t id, uint64_t before, unsigned limit,
                             alarm_store_row_fn fn, void *userdata);
/* Newest first, any id, seq < before (0 = no bound). */
int alarm_store_read_desc(struct alarm_store *s, uint64_t before, unsigned limit,
                          alarm_store_row_fn fn, void *userdata);
/* The active set saved with the alarms: fn for each (newest state). */
int alarm_store_read_active(struct alarm_store *s, alarm_store_row_fn fn, void *userdata);
