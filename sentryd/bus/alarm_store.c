/* alarm_store.c: see alarm_store.h.
 *
 * Threads: the main thread owns `rdb` (reads) and the `done` side; the writer thread owns `wdb`.
 * Hand-over is through two liburcu wait-free queues (submit: main -> writer, done: writer ->
 * main) and two eventfds that are only written when the other side sleeps or has not been told
 * yet, so a burst costs one wake-up per batch, not per alarm. */
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/eventfd.h>

#include <sqlite3.h>

#include "alarm_store.h"
#include "log.h"
#include "time_util.h"

#define BATCH_MAX   8192  /* alarms per transaction */
#define PRUNE_BATCH 20000 /* rows deleted per transaction by retention */
/* A checkpoint flushes the WAL to disk, and a commit that writes the WAL meanwhile can wait for
 * that writeback for milliseconds: checkpoints wait for a quiet moment unless the WAL is big. */
#define CHECKPOINT_PAGES     1000  /* WAL pages (4 KiB) that make the checkpointer run ... */
#define CHECKPOINT_QUIET_MS  50    /* ... once no commit came for this long, */
#define CHECKPOINT_PAGES_MAX 16000 /* or at once past this size (64 MiB) */
#define SCHEMA_VERSION       1

struct writer;

struct alarm_store {
    sd_event *event;
    char *path;
    bool sync_full;
    uint64_t retention_count, retention_age_us;
    void (*on_committed)(struct alarm_record *r, int error, void *userdata);
    void (*on_batch)(struct alarm_record *const *recs, size_t n, void *userdata);
    void *userdata;

    sqlite3 *rdb; /* main thread */
    sqlite3_stmt *q_after, *q_id_desc, *q_desc, *q_oldest, *q_active, *q_oldest_recv;
    sd_event_source *retention_timer; /* when the oldest row passes the age limit */
    uint64_t last_seq;

    /* main -> writer */
    struct cds_wfcq_head sub_head;
    struct cds_wfcq_tail sub_tail;
    int writer_fd; /* eventfd the writer sleeps on */
    atomic_int writer_sleeping;
    atomic_bool stopping;
    atomic_bool prune_requested; /* the main thread saw rows older than the age limit */
    atomic_uint inflight;
    /* writer -> main */
    struct cds_wfcq_head done_head;
    struct cds_wfcq_tail done_tail;
    int main_fd;
    atomic_bool main_notified;
    sd_event_source *done_source;
    atomic_uint_fast64_t commits;

    pthread_t writer;
    bool writer_started;
    /* WAL checkpoints run on a thread of their own, so that their fsync never delays a commit
     * (the writer's connection has no automatic checkpoints). */
    pthread_t checkpointer;
    bool checkpointer_started;
    int checkpoint_fd;    /* eventfd: a commit left the WAL past CHECKPOINT_PAGES */
    atomic_int wal_pages; /* WAL size after the last commit */
    struct writer *w;     /* the writer thread's state, freed after the join */
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS alarms("
    " seq INTEGER PRIMARY KEY, id INTEGER NOT NULL, level INTEGER NOT NULL,"
    " type INTEGER NOT NULL, time_us INTEGER NOT NULL, recv_us INTEGER NOT NULL,"
    " source TEXT NOT NULL, akey TEXT NOT NULL, node TEXT NOT NULL, origin INTEGER NOT NULL,"
    " injected INTEGER NOT NULL, uid INTEGER NOT NULL, pid INTEGER NOT NULL, text BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS alarms_by_id ON alarms(id, seq);"
    "CREATE TABLE IF NOT EXISTS active(id INTEGER NOT NULL, source TEXT NOT NULL,"
    " akey TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY(id, source, akey)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v INTEGER NOT NULL);";

#define COLUMNS \
    "seq, id, level, type, time_us, recv_us, source, akey, node, origin, injected, uid, pid, text"

static int sqlite_error(sqlite3 *db, int rc, const char *what)
{
    log_error("alarm store: %s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    return rc == SQLITE_FULL ? -ENOSPC : rc == SQLITE_NOMEM ? -ENOMEM : -EIO;
}

static int db_open(const char *path, bool sync_full, sqlite3 **ret)
{
    sqlite3 *db = NULL;
    char *err = NULL;
    char pragmas[256];
    int rc;

    rc = sqlite3_open_v2(path, &db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                             SQLITE_OPEN_NOFOLLOW,
                         NULL);
    if (rc != SQLITE_OK) {
        int r = sqlite_error(db, rc, path);
        sqlite3_close(db);
        return r;
    }
    sqlite3_busy_timeout(db, 5000);
    snprintf(pragmas, sizeof(pragmas),
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA temp_store=MEMORY;"
             "PRAGMA cache_size=-512;",
             sync_full ? "FULL" : "NORMAL");
    rc = sqlite3_exec(db, pragmas, NULL, NULL, &err);
    if (rc != SQLITE_OK) {
        log_error("alarm store: %s: %s", path, err ? err : sqlite3_errstr(rc));
        sqlite3_free(err);
        sqlite3_close(db);
        return -EIO;
    }
    *ret = db;
    return 0;
}

static int db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret)
{
    int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, ret, NULL);
    return rc == SQLITE_OK ? 0 : sqlite_error(db, rc, sql);
}

static int64_t db_scalar(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    int64_t v = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* ---- writer thread --------------------------------------------------------------------------- */

struct writer {
    struct alarm_store *s;
    sqlite3 *db;
    uint64_t oldest;       /* lowest seq stored as far as the writer knows; 0: unknown */
    usec_t last_age_check; /* CLOCK_MONOTONIC */
    sqlite3_stmt *ins, *act_set, *act_clear, *meta_seq, *del_upto, *oldest_recv_after;
    sqlite3_stmt *begin, *commit, *rollback;
    struct alarm_record *batch[BATCH_MAX];
};

static int on_wal_commit(void *userdata, sqlite3 *db, const char *name, int pages)
{
    struct alarm_store *s = userdata;
    atomic_store(&s->wal_pages, pages);
    if (pages >= CHECKPOINT_PAGES) {
        uint64_t one = 1;
        ssize_t _unused_ k = write(s->checkpoint_fd, &one, sizeof(one));
    }
    return SQLITE_OK;
}

static int writer_prepare(struct writer *w)
{
    int r;

    if (sqlite3_exec(w->db, "PRAGMA wal_autocheckpoint=0", NULL, NULL, NULL) != SQLITE_OK)
        return sqlite_error(w->db, SQLITE_ERROR, "wal_autocheckpoint");
    sqlite3_wal_hook(w->db, on_wal_commit, w->s);
    if ((r = db_prepare(w->db,
                        "INSERT INTO alarms(" COLUMNS ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        &w->ins)) < 0 ||
        (r = db_prepare(w->db,
                        "INSERT OR REPLACE INTO active(id, source, akey, seq) VALUES(?,?,?,?)",
                        &w->act_set)) < 0 ||
        (r = db_prepare(w->db, "DELETE FROM active WHERE id=? AND source=? AND akey=?",
                        &w->act_clear)) < 0 ||
        (r = db_prepare(w->db, "INSERT OR REPLACE INTO meta(k, v) VALUES('last_seq', ?)",
                        &w->meta_seq)) < 0 ||
        (r = db_prepare(w->db, "BEGIN IMMEDIATE", &w->begin)) < 0 ||
        (r = db_prepare(w->db, "COMMIT", &w->commit)) < 0 ||
        (r = db_prepare(w->db, "ROLLBACK", &w->rollback)) < 0 ||
        (r = db_prepare(w->db,
                        "DELETE FROM alarms WHERE seq IN (SELECT seq FROM alarms WHERE seq <= ? "
                        "ORDER BY seq LIMIT "
                        "20000"
                        ")",
                        &w->del_upto)) < 0 ||
        (r = db_prepare(w->db,
                        "SELECT seq, recv_us FROM alarms WHERE seq >= ? ORDER BY seq LIMIT 1",
                        &w->oldest_recv_after)) < 0)
        return r;
    return 0;
}

static void writer_finalize(struct writer *w)
{
    sqlite3_finalize(w->ins);
    sqlite3_finalize(w->act_set);
    sqlite3_finalize(w->act_clear);
    sqlite3_finalize(w->meta_seq);
    sqlite3_finalize(w->begin);
    sqlite3_finalize(w->commit);
    sqlite3_finalize(w->rollback);
    sqlite3_finalize(w->del_upto);
    sqlite3_finalize(w->oldest_recv_after);
}

static int writer_insert(struct writer *w, const struct alarm_record *r)
{
    const struct alarm *a = &r->a;
    sqlite3_stmt *st = w->ins;
    int rc;

    sqlite3_bind_int64(st, 1, (sqlite3_int64) a->seq);
    sqlite3_bind_int(st, 2, a->id);
    sqlite3_bind_int(st, 3, a->level);
    sqlite3_bind_int(st, 4, a->type);
    sqlite3_bind_int64(st, 5, (sqlite3_int64) a->time_us);
    sqlite3_bind_int64(st, 6, (sqlite3_int64) a->recv_us);
    sqlite3_bind_text(st, 7, a->source, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, a->key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, a->node, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 10, a->origin);
    sqlite3_bind_int(st, 11, a->injected);
    sqlite3_bind_int64(st, 12, a->uid);
    sqlite3_bind_int64(st, 13, a->pid);
    sqlite3_bind_blob(st, 14, a->text, (int) a->text_len, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return rc;

    if (r->active_change == ACTIVE_NONE)
        return SQLITE_OK;
    st = r->active_change == ACTIVE_SET ? w->act_set : w->act_clear;
    sqlite3_bind_int(st, 1, a->id);
    sqlite3_bind_text(st, 2, a->source, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->key, -1, SQLITE_STATIC);
    if (r->active_change == ACTIVE_SET)
        sqlite3_bind_int64(st, 4, (sqlite3_int64) a->seq);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Commits n records in one transaction. SQLITE_OK or the failing code (rolled back). */
static int step_once(sqlite3 *db, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : (rc ? rc : sqlite3_errcode(db));
}

/* Commits n records in one transaction. SQLITE_OK or the failing code (rolled back). The last
 * seq is not written per transaction: MAX(seq) of the rows tells it, and retention records it
 * in meta before it deletes rows. */
static int writer_commit(struct writer *w, size_t n)
{
    int rc = step_once(w->db, w->begin);
    if (rc != SQLITE_OK)
        return rc;
    for (size_t i = 0; i < n && rc == SQLITE_OK; i++)
        rc = writer_insert(w, w->batch[i]);
    if (rc == SQLITE_OK)
        rc = step_once(w->db, w->commit);
    if (rc != SQLITE_OK)
        (void) step_once(w->db, w->rollback);
    return rc;
}

/* Hands the batch back to the main thread, with the commit's outcome. */
static void writer_hand_back(struct writer *w, size_t n, int error)
{
    struct alarm_store *s = w->s;

    for (size_t i = 0; i < n; i++) {
        struct alarm_record *r = w->batch[i];
        r->commit_error = error;
        cds_wfcq_node_init(&r->wq);
        cds_wfcq_enqueue(&s->done_head, &s->done_tail, &r->wq);
    }
    if (!atomic_exchange(&s->main_notified, true)) {
        uint64_t one = 1;
        ssize_t _unused_ k = write(s->main_fd, &one, sizeof(one));
    }
}

/* The first seq whose row was received at or after cutoff (rows are in receive order). */
static uint64_t writer_first_young(struct writer *w, uint64_t last_seq, uint64_t cutoff)
{
    uint64_t lo = 1, hi = last_seq + 1;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2, seq = 0, recv = 0;
        sqlite3_bind_int64(w->oldest_recv_after, 1, (sqlite3_int64) mid);
        if (sqlite3_step(w->oldest_recv_after) == SQLITE_ROW) {
            seq = (uint64_t) sqlite3_column_int64(w->oldest_recv_after, 0);
            recv = (uint64_t) sqlite3_column_int64(w->oldest_recv_after, 1);
        }
        sqlite3_reset(w->oldest_recv_after);
        if (seq == 0 || recv >= cutoff)
            hi = mid;
        else
            lo = seq + 1;
    }
    return lo;
}

/* Deletes every row with seq <= upto, a bounded number per transaction. */
static void writer_delete_upto(struct writer *w, uint64_t upto, uint64_t last_seq)
{
    /* Keep the last seq known even if every row goes: seq never goes back after a restart. */
    sqlite3_bind_int64(w->meta_seq, 1, (sqlite3_int64) last_seq);
    if (step_once(w->db, w->meta_seq) != SQLITE_OK) {
        sqlite_error(w->db, SQLITE_ERROR, "retention");
        return;
    }
    for (;;) {
        sqlite3_bind_int64(w->del_upto, 1, (sqlite3_int64) upto);
        int rc = sqlite3_step(w->del_upto);
        sqlite3_reset(w->del_upto);
        if (rc != SQLITE_DONE) {
            sqlite_error(w->db, rc, "retention");
            return;
        }
        if (sqlite3_changes(w->db) < PRUNE_BATCH)
            break;
    }
    w->oldest = upto + 1;
}

/* Applies the retention limits after a commit: by count when the store holds a little more than
 * allowed (so deletes come in batches), by age at most every 10 s while alarms flow, or when
 * the main thread's timer saw the oldest row expire. */
static void writer_retain(struct writer *w, uint64_t last_seq)
{
    struct alarm_store *s = w->s;
    usec_t now = now_usec(CLOCK_MONOTONIC);
    uint64_t upto = 0;

    if (s->retention_count) {
        uint64_t slack = MAX(s->retention_count / 100, 64);
        if (w->oldest == 0)
            w->oldest =
                (uint64_t) MAX(db_scalar(w->db, "SELECT IFNULL(MIN(seq), 0) FROM alarms"), 1);
        if (last_seq >= w->oldest && last_seq - w->oldest + 1 > s->retention_count + slack)
            upto = last_seq - s->retention_count;
    }
    if (s->retention_age_us && (atomic_exchange(&s->prune_requested, false) ||
                                now - w->last_age_check >= 10 * USEC_PER_SEC)) {
        w->last_age_check = now;
        uint64_t first =
            writer_first_young(w, last_seq, now_usec(CLOCK_REALTIME) - s->retention_age_us);
        if (first > 1)
            upto = MAX(upto, first - 1);
    }
    if (upto >= (w->oldest ? w->oldest : 1))
        writer_delete_upto(w, upto, last_seq);
}

static size_t writer_take(struct writer *w)
{
    struct alarm_store *s = w->s;
    size_t n = 0;

    while (n < BATCH_MAX) {
        struct cds_wfcq_node *node = __cds_wfcq_dequeue_blocking(&s->sub_head, &s->sub_tail);
        if (!node)
            break;
        w->batch[n++] = caa_container_of(node, struct alarm_record, wq);
    }
    return n;
}

static void writer_wait(struct alarm_store *s)
{
    atomic_store(&s->writer_sleeping, 1);
    atomic_thread_fence(memory_order_seq_cst);
    if (!cds_wfcq_empty(&s->sub_head, &s->sub_tail) || atomic_load(&s->stopping) ||
        atomic_load(&s->prune_requested)) {
        atomic_store(&s->writer_sleeping, 0);
        return;
    }
    struct pollfd p = {.fd = s->writer_fd, .events = POLLIN};
    while (poll(&p, 1, -1) < 0 && errno == EINTR)
        ;
    uint64_t v;
    ssize_t _unused_ k = read(s->writer_fd, &v, sizeof(v));
    atomic_store(&s->writer_sleeping, 0);
}

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    struct alarm_store *s = w->s;
    uint64_t last = s->last_seq;

    for (;;) {
        size_t n = writer_take(w);
        if (n == 0) {
            if (atomic_load(&s->prune_requested))
                writer_retain(w, last);
            if (atomic_load(&s->stopping) && cds_wfcq_empty(&s->sub_head, &s->sub_tail))
                break;
            writer_wait(s);
            continue;
        }
        int rc = writer_commit(w, n);
        int error = 0;
        if (rc != SQLITE_OK)
            error = sqlite_error(w->db, rc, "commit");
        else
            atomic_fetch_add(&s->commits, 1);
        /* The writer keeps its own references for logging after the hand-back. */
        for (size_t i = 0; i < n; i++)
            alarm_record_ref(w->batch[i]);
        writer_hand_back(w, n, error);
        if (error == 0) {
            last = w->batch[n - 1]->a.seq;
            if (s->on_batch)
                s->on_batch(w->batch, n, s->userdata);
        }
        for (size_t i = 0; i < n; i++)
            alarm_record_unref(w->batch[i]);
        if (error == 0)
            writer_retain(w, last);
    }
    return NULL;
}

static void *checkpointer_main(void *arg)
{
    struct alarm_store *s = arg;
    sqlite3 *db = NULL;

    if (db_open(s->path, s->sync_full, &db) < 0)
        return NULL;
    for (;;) {
        struct pollfd p = {.fd = s->checkpoint_fd, .events = POLLIN};
        if (poll(&p, 1, -1) < 0 && errno != EINTR)
            break;
        uint64_t v;
        ssize_t _unused_ k = read(s->checkpoint_fd, &v, sizeof(v));
        /* each commit while the WAL is big writes the eventfd: wait until none comes */
        while (!atomic_load(&s->stopping) && atomic_load(&s->wal_pages) < CHECKPOINT_PAGES_MAX &&
               poll(&p, 1, CHECKPOINT_QUIET_MS) != 0)
            k = read(s->checkpoint_fd, &v, sizeof(v));
        if (atomic_load(&s->stopping))
            break;
        int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            sqlite_error(db, rc, "checkpoint");
    }
    /* One last pass so that the WAL is small for the next start. */
    sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    sqlite3_close(db);
    return NULL;
}

/* ---- main thread ------------------------------------------------------------------------------
 */

static void store_drain_done(struct alarm_store *s)
{
    atomic_store(&s->main_notified, false);
    atomic_thread_fence(memory_order_seq_cst);
    for (;;) {
        struct cds_wfcq_node *node = __cds_wfcq_dequeue_blocking(&s->done_head, &s->done_tail);
        if (!node)
            break;
        struct alarm_record *r = caa_container_of(node, struct alarm_record, wq);
        atomic_fetch_sub(&s->inflight, 1);
        if (s->on_committed)
            s->on_committed(r, r->commit_error, s->userdata);
        alarm_record_unref(r);
    }
}

static void store_arm_retention(struct alarm_store *s);

static int on_retention_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
    struct alarm_store *s = userdata;
    uint64_t oldest_recv = 0;

    if (sqlite3_step(s->q_oldest_recv) == SQLITE_ROW)
        oldest_recv = (uint64_t) sqlite3_column_int64(s->q_oldest_recv, 0);
    sqlite3_reset(s->q_oldest_recv);
    if (oldest_recv && oldest_recv + s->retention_age_us <= now_usec(CLOCK_REALTIME)) {
        /* Expired rows and maybe no alarm to trigger the writer: ask it to prune. */
        atomic_store(&s->prune_requested, true);
        uint64_t one = 1;
        ssize_t _unused_ k = write(s->writer_fd, &one, sizeof(one));
        sd_event_source_set_time_relative(src, 60 * USEC_PER_SEC);
        sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
        return 0;
    }
    store_arm_retention(s);
    return 0;
}

/* Sleeps until the oldest row passes the age limit (never, when the store is empty). */
static void store_arm_retention(struct alarm_store *s)
{
    uint64_t oldest_recv = 0;
    int enabled = SD_EVENT_OFF;

    if (!s->retention_age_us || !s->retention_timer)
        return;
    if (sd_event_source_get_enabled(s->retention_timer, &enabled) >= 0 && enabled != SD_EVENT_OFF)
        return;
    if (sqlite3_step(s->q_oldest_recv) == SQLITE_ROW)
        oldest_recv = (uint64_t) sqlite3_column_int64(s->q_oldest_recv, 0);
    sqlite3_reset(s->q_oldest_recv);
    if (!oldest_recv)
        return;
    usec_t now = now_usec(CLOCK_REALTIME), at = oldest_recv + s->retention_age_us + USEC_PER_SEC;
    sd_event_source_set_time_relative(s->retention_timer, at > now ? at - now : 0);
    sd_event_source_set_enabled(s->retention_timer, SD_EVENT_ONESHOT);
}

static int on_done_event(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
    struct alarm_store *s = userdata;
    uint64_t v;
    ssize_t _unused_ k = read(fd, &v, sizeof(v));
    store_drain_done(s);
    store_arm_retention(s);
    return 0;
}

void alarm_store_submit(struct alarm_store *s, struct alarm_record *r)
{
    alarm_record_ref(r);
    atomic_fetch_add(&s->inflight, 1);
    cds_wfcq_node_init(&r->wq);
    cds_wfcq_enqueue(&s->sub_head, &s->sub_tail, &r->wq);
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load(&s->writer_sleeping) && atomic_exchange(&s->writer_sleeping, 0)) {
        uint64_t one = 1;
        ssize_t _unused_ k = write(s->writer_fd, &one, sizeof(one));
    }
}

void alarm_store_sync(struct alarm_store *s)
{
    while (atomic_load(&s->inflight) > 0) {
        struct pollfd p = {.fd = s->main_fd, .events = POLLIN};
        if (poll(&p, 1, 100) < 0 && errno != EINTR)
            break;
        uint64_t v;
        ssize_t _unused_ k = read(s->main_fd, &v, sizeof(v));
        store_drain_done(s);
    }
}

unsigned alarm_store_inflight(const struct alarm_store *s)
{
    return atomic_load(&((struct alarm_store *) s)->inflight);
}

uint64_t alarm_store_commits(const struct alarm_store *s)
{
    return atomic_load(&((struct alarm_store *) s)->commits);
}

uint64_t alarm_store_last_seq(const struct alarm_store *s)
{
    return s->last_seq;
}

uint64_t alarm_store_oldest_seq(struct alarm_store *s)
{
    uint64_t v = 0;
    if (sqlite3_step(s->q_oldest) == SQLITE_ROW)
        v = (uint64_t) sqlite3_column_int64(s->q_oldest, 0);
    sqlite3_reset(s->q_oldest);
    return v;
}

static struct alarm_record *record_from_row(sqlite3_stmt *st)
{
    struct alarm a = {
        .seq = (uint64_t) sqlite3_column_int64(st, 0),
        .id = (uint16_t) sqlite3_column_int(st, 1),
        .level = (uint8_t) sqlite3_column_int(st, 2),
        .type = (uint8_t) sqlite3_column_int(st, 3),
        .time_us = (uint64_t) sqlite3_column_int64(st, 4),
        .recv_us = (uint64_t) sqlite3_column_int64(st, 5),
        .source = (const char *) sqlite3_column_text(st, 6),
        .key = (const char *) sqlite3_column_text(st, 7),
        .node = (const char *) sqlite3_column_text(st, 8),
        .origin = (uint8_t) sqlite3_column_int(st, 9),
        .injected = sqlite3_column_int(st, 10) != 0,
        .uid = (uint32_t) sqlite3_column_int64(st, 11),
        .pid = (uint32_t) sqlite3_column_int64(st, 12),
        .text = sqlite3_column_blob(st, 13),
        .text_len = (size_t) sqlite3_column_bytes(st, 13),
    };
    if (!a.source || !a.key || !a.node)
        return NULL;
    if (!a.text)
        a.text = "";
    return alarm_record_new(&a);
}

static int read_rows(struct alarm_store *s, sqlite3_stmt *st, alarm_store_row_fn fn, void *userdata)
{
    int n = 0, rc;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct alarm_record *r = record_from_row(st);
        if (!r) {
            sqlite3_reset(st);
            return -ENOMEM;
        }
        n++;
        int k = fn(r, userdata);
        alarm_record_unref(r);
        if (k < 0)
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        sqlite3_reset(st);
        return sqlite_error(s->rdb, rc, "read");
    }
    sqlite3_reset(st);
    return n;
}

int alarm_store_read_after(struct alarm_store *s, uint64_t after, uint64_t upto, unsigned limit,
                           alarm_store_row_fn fn, void *userdata)
{
    sqlite3_bind_int64(s->q_after, 1, (sqlite3_int64) after);
    sqlite3_bind_int64(s->q_after, 2, upto ? (sqlite3_int64) upto : INT64_MAX);
    sqlite3_bind_int(s->q_after, 3, (int) limit);
    return read_rows(s, s->q_after, fn, userdata);
}

int alarm_store_read_id_desc(struct alarm_store *s, uint16_t id, uint64_t before, unsigned limit,
                             alarm_store_row_fn fn, void *userdata)
{
    sqlite3_bind_int(s->q_id_desc, 1, id);
    sqlite3_bind_int64(s->q_id_desc, 2, before ? (sqlite3_int64) before : INT64_MAX);
    sqlite3_bind_int(s->q_id_desc, 3, (int) limit);
    return read_rows(s, s->q_id_desc, fn, userdata);
}

int alarm_store_read_desc(struct alarm_store *s, uint64_t before, unsigned limit,
                          alarm_store_row_fn fn, void *userdata)
{
    sqlite3_bind_int64(s->q_desc, 1, before ? (sqlite3_int64) before : INT64_MAX);
    sqlite3_bind_int(s->q_desc, 2, (int) limit);
    return read_rows(s, s->q_desc, fn, userdata);
}

int alarm_store_read_active(struct alarm_store *s, alarm_store_row_fn fn, void *userdata)
{
    return read_rows(s, s->q_active, fn, userdata);
}

static void writer_free(struct writer *w)
{
    if (!w)
        return;
    writer_finalize(w);
    sqlite3_close(w->db);
    free(w);
}

int alarm_store_open(const struct alarm_store_params *p, struct alarm_store **ret)
{
    struct alarm_store *s = calloc(1, sizeof(*s));
    struct writer *w = NULL;
    char *err = NULL;
    int r;

    if (!s)
        return -ENOMEM;
    s->event = p->event;
    s->path = strdup(p->path);
    s->sync_full = p->sync_full;
    s->retention_count = p->retention_count;
    s->retention_age_us = p->retention_age_s * USEC_PER_SEC;
    s->on_committed = p->on_committed;
    s->on_batch = p->on_batch;
    s->userdata = p->userdata;
    s->writer_fd = s->main_fd = s->checkpoint_fd = -1;
    cds_wfcq_init(&s->sub_head, &s->sub_tail);
    cds_wfcq_init(&s->done_head, &s->done_tail);

    r = db_open(p->path, p->sync_full, &s->rdb);
    if (r < 0)
        goto fail;
    if (sqlite3_exec(s->rdb, schema, NULL, NULL, &err) != SQLITE_OK) {
        log_error("alarm store %s: cannot create the schema: %s", p->path, err);
        sqlite3_free(err);
        r = -EIO;
        goto fail;
    }
    int64_t version = db_scalar(s->rdb, "PRAGMA user_version");
    if (version == 0)
        sqlite3_exec(s->rdb, "PRAGMA user_version=1", NULL, NULL, NULL);
    else if (version > SCHEMA_VERSION) {
        log_error("alarm store %s has schema version %" PRId64 ", newer than this sentryd (%d)",
                  p->path, version, SCHEMA_VERSION);
        r = -EPROTO;
        goto fail;
    }
    int64_t max_seq = db_scalar(s->rdb, "SELECT IFNULL(MAX(seq), 0) FROM alarms");
    int64_t meta_seq = db_scalar(s->rdb, "SELECT IFNULL(MAX(v), 0) FROM meta WHERE k='last_seq'");
    s->last_seq = (uint64_t) MAX(MAX(max_seq, meta_seq), 0);

    if ((r = db_prepare(s->rdb,
                        "SELECT " COLUMNS
                        " FROM alarms WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
                        &s->q_after)) < 0 ||
        (r = db_prepare(s->rdb,
                        "SELECT " COLUMNS
                        " FROM alarms WHERE id = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
                        &s->q_id_desc)) < 0 ||
        (r = db_prepare(s->rdb,
                        "SELECT " COLUMNS " FROM alarms WHERE seq < ? ORDER BY seq DESC LIMIT ?",
                        &s->q_desc)) < 0 ||
        (r = db_prepare(s->rdb, "SELECT MIN(seq) FROM alarms", &s->q_oldest)) < 0 ||
        (r = db_prepare(s->rdb, "SELECT recv_us FROM alarms ORDER BY seq LIMIT 1",
                        &s->q_oldest_recv)) < 0 ||
        (r = db_prepare(s->rdb,
                        "SELECT " COLUMNS " FROM alarms WHERE seq IN (SELECT seq FROM active) "
                        "ORDER BY seq",
                        &s->q_active)) < 0)
        goto fail;

    s->writer_fd = eventfd(0, EFD_CLOEXEC);
    s->main_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    s->checkpoint_fd = eventfd(0, EFD_CLOEXEC);
    if (s->writer_fd < 0 || s->main_fd < 0 || s->checkpoint_fd < 0) {
        r = -errno;
        goto fail;
    }
    r = sd_event_add_io(p->event, &s->done_source, s->main_fd, EPOLLIN, on_done_event, s);
    if (r < 0)
        goto fail;
    /* Committed alarms are handed out before new requests are read: lower value runs first. */
    sd_event_source_set_priority(s->done_source, SD_EVENT_PRIORITY_IMPORTANT);
    if (s->retention_age_us) {
        r = sd_event_add_time_relative(p->event, &s->retention_timer, CLOCK_MONOTONIC, USEC_PER_SEC,
                                       USEC_PER_SEC, on_retention_timer, s);
        if (r < 0)
            goto fail;
        sd_event_source_set_enabled(s->retention_timer, SD_EVENT_OFF);
        store_arm_retention(s);
    }

    w = calloc(1, sizeof(*w));
    if (!w) {
        r = -ENOMEM;
        goto fail;
    }
    w->s = s;
    if ((r = db_open(p->path, p->sync_full, &w->db)) < 0 || (r = writer_prepare(w)) < 0) {
        writer_free(w);
        goto fail;
    }
    r = -pthread_create(&s->writer, NULL, writer_main, w);
    if (r < 0) {
        writer_free(w);
        goto fail;
    }
    pthread_setname_np(s->writer, "sentry-store");
    s->writer_started = true;
    r = -pthread_create(&s->checkpointer, NULL, checkpointer_main, s);
    if (r < 0)
        goto fail;
    pthread_setname_np(s->checkpointer, "sentry-ckpt");
    s->checkpointer_started = true;
    s->w = w;
    log_info("alarm store %s: last seq %" PRIu64 "%s", p->path, s->last_seq,
             p->sync_full ? ", synchronous=FULL" : "");
    *ret = s;
    return 0;
fail:
    alarm_store_close(s);
    return r;
}

struct alarm_store *alarm_store_close(struct alarm_store *s)
{
    if (!s)
        return NULL;
    if (s->writer_started) {
        atomic_store(&s->stopping, true);
        uint64_t one = 1;
        ssize_t _unused_ k = write(s->writer_fd, &one, sizeof(one));
        pthread_join(s->writer, NULL);
        writer_free(s->w);
        s->w = NULL;
        store_drain_done(s);
    }
    if (s->checkpointer_started) {
        atomic_store(&s->stopping, true);
        uint64_t one = 1;
        ssize_t _unused_ k = write(s->checkpoint_fd, &one, sizeof(one));
        pthread_join(s->checkpointer, NULL);
    }
    sd_event_source_disable_unref(s->done_source);
    sd_event_source_disable_unref(s->retention_timer);
    sqlite3_finalize(s->q_oldest_recv);
    sqlite3_finalize(s->q_after);
    sqlite3_finalize(s->q_id_desc);
    sqlite3_finalize(s->q_desc);
    sqlite3_finalize(s->q_oldest);
    sqlite3_finalize(s->q_active);
    if (s->rdb)
        sqlite3_close(s->rdb);
    if (s->writer_fd >= 0)
        close(s->writer_fd);
    if (s->main_fd >= 0)
        close(s->main_fd);
    if (s->checkpoint_fd >= 0)
        close(s->checkpoint_fd);
    free(s->path);
    free(s);
    return NULL;
}
