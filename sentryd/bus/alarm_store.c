/* alarm_store.c: see alarm_store.h.
 *
 * Threads: the main thread owns `rdb` (reads) and the `done` side; the writer thread owns `wdb`.
 * Hand-over is through two liburcu wait-free queues (submit: main -> writer, done: writer ->
 * main) and two eventfds that are only written when the other side sleeps or has not been told
 * yet, so a burst costs one wake-up per batch, not per alarm. The state file (store_state.h) is
 * the main thread's while the store opens and closes, the writer's in between.
 *
 * Every SQLite error's message is read where the error happens, before any other call (a
 * ROLLBACK would replace it). */
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/eventfd.h>

#include <sqlite3.h>

#include "alarm_scan.h"
#include "alarm_store.h"
#include "alarm_store_columns.h"
#include "json_escape.h"
#include "log.h"
#include "store_files.h"
#include "store_state.h"
#include "time_util.h"

#define BATCH_MAX   8192  /* alarms per transaction */
#define PRUNE_BATCH 20000 /* rows deleted per transaction by retention */
/* A checkpoint flushes the WAL to disk, and a commit that writes the WAL meanwhile can wait for
 * that writeback for milliseconds: checkpoints wait for a quiet moment unless the WAL is big. */
#define CHECKPOINT_PAGES     1000  /* WAL pages (4 KiB) that make the checkpointer run ... */
#define CHECKPOINT_QUIET_MS  50    /* ... once no commit came for this long, */
#define CHECKPOINT_PAGES_MAX 16000 /* or at once past this size (64 MiB) */
#define SCHEMA_VERSION       1
#define RETENTION_BACKOFF    (10 * USEC_PER_SEC) /* after retention failed, before it tries again */
#define ERRMSG_MAX           256
#define SQL_MAX              1024
#define TOLD_MAX             16 /* unreadable ranges remembered, so that each is told once */

struct writer;

/* The read statements, by order and by whether they are for one id. */
enum { READ_ASC, READ_ASC_ID, READ_DESC, READ_DESC_ID, _READ_MAX };

struct alarm_store {
    sd_event *event;
    char *path;
    char *state_path;
    bool sync_full;
    uint64_t retention_count, retention_age_us;
    void (*on_committed)(struct alarm_record *r, int error, void *userdata);
    void (*on_batch)(struct alarm_record *const *recs, size_t n, void *userdata);
    void (*on_damage)(const char *problem, const char *text, void *userdata);
    void *userdata;

    sqlite3 *rdb; /* main thread */
    sqlite3_stmt *q_read[_READ_MAX], *q_oldest, *q_oldest_recv, *q_active, *q_by_seq, *q_idem;
    sd_event_source *retention_timer; /* when the oldest row passes the age limit */
    uint64_t last_seq;                /* to continue after (open) */
    uint64_t last_stored;             /* the last seq stored (open) */
    uint64_t last_submitted;          /* the highest seq submitted (main thread) */
    char *damage;                     /* JSON text of what was wrong at open, or NULL */
    const char *damage_problem;
    struct seq_range told[TOLD_MAX]; /* unreadable ranges told (each once), a ring */
    size_t n_told;
    struct alarm_scans *scans;
    struct store_state state;

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

static const char schema_rest[] =
    "CREATE INDEX IF NOT EXISTS alarms_by_id ON alarms(id, seq);"
    "CREATE UNIQUE INDEX IF NOT EXISTS alarms_by_idem ON alarms(source, idem) "
    " WHERE idem IS NOT NULL;"
    "CREATE TABLE IF NOT EXISTS active(id INTEGER NOT NULL, source TEXT NOT NULL,"
    " akey TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY(id, source, akey)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v INTEGER NOT NULL);";

/* ---- errors ---------------------------------------------------------------------------------- */

/* What a failed SQLite call said, read where it failed: later calls (a reset, a ROLLBACK) would
 * replace it. */
struct db_error {
    char msg[ERRMSG_MAX];
    int ext; /* the extended result code */
    int sys; /* the errno SQLite got from the kernel, 0 when none */
};

static void db_error_read(sqlite3 *db, struct db_error *e)
{
    if (!e)
        return;
    snprintf(e->msg, sizeof(e->msg), "%s", sqlite3_errmsg(db));
    e->ext = sqlite3_extended_errcode(db);
    e->sys = sqlite3_system_errno(db);
}

/* The errno of a failed SQLite call: the system's own when SQLite got one from the kernel, else
 * the nearest. A full disk shows as SQLITE_FULL, or as the WAL index that cannot grow. */
static int sqlite_errno_of(int ext, int sys)
{
    switch (ext & 0xff) {
    case SQLITE_FULL:
        return -ENOSPC;
    case SQLITE_NOMEM:
        return -ENOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return -EBUSY;
    case SQLITE_READONLY:
        return -EROFS;
    case SQLITE_PERM:
    case SQLITE_AUTH:
        return -EPERM;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
        if (sys > 0)
            return -sys;
        return ext == SQLITE_IOERR_SHMSIZE ? -ENOSPC : -EIO;
    default:
        return -EIO;
    }
}

static int sqlite_errno(sqlite3 *db, int rc)
{
    return sqlite_errno_of(db ? sqlite3_extended_errcode(db) : rc,
                           db ? sqlite3_system_errno(db) : 0);
}

/* Logs SQLite's message for the failed call (read now, before anything else runs) and returns
 * its errno. */
static int sqlite_error(sqlite3 *db, int rc, const char *what)
{
    int r = sqlite_errno(db, rc);
    log_error("alarm store: %s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    return r;
}

/* A page that cannot be read: damaged content, or a sector the disk cannot read. */
static bool sqlite_rc_unreadable(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT:
    case SQLITE_IOERR:
        return true;
    default:
        return false;
    }
}

/* A file that is not a usable database (it is moved aside at open). */
static bool sqlite_rc_damaged(int rc)
{
    return (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB ||
           (rc & 0xff) == SQLITE_FORMAT;
}

/* Steps a statement to its end (or first row) and resets it. SQLITE_OK, or the error code with
 * what SQLite said in e (may be NULL), read before the reset. */
static int stmt_run(sqlite3 *db, sqlite3_stmt *st, struct db_error *e)
{
    int rc = sqlite3_step(st);

    if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
        sqlite3_reset(st);
        return SQLITE_OK;
    }
    db_error_read(db, e);
    sqlite3_reset(st);
    return rc;
}

static int db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret)
{
    int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, ret, NULL);
    return rc == SQLITE_OK ? 0 : sqlite_error(db, rc, sql);
}

/* The integer of a one-value query (0 when it gives no row or NULL). SQLite code. */
static int db_scalar(sqlite3 *db, const char *sql, int64_t *ret)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

    if (rc != SQLITE_OK)
        return rc;
    *ret = 0;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *ret = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    sqlite3_finalize(st); /* keeps the error's message */
    return rc;
}

static int db_open(const char *path, bool sync_full, sqlite3 **ret, int *ret_rc)
{
    sqlite3 *db = NULL;
    char pragmas[256];
    int rc;

    rc = sqlite3_open_v2(path, &db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                             SQLITE_OPEN_NOFOLLOW,
                         NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        snprintf(pragmas, sizeof(pragmas),
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA temp_store=MEMORY;"
                 "PRAGMA cache_size=-512;",
                 sync_full ? "FULL" : "NORMAL");
        rc = sqlite3_exec(db, pragmas, NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        int r = sqlite_errno(db, rc);
        log_error("alarm store %s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        if (ret_rc)
            *ret_rc = rc;
        sqlite3_close(db);
        return r;
    }
    *ret = db;
    return 0;
}

/* Deletes the rows of failed commits (a commit SQLite wrote to the WAL before it failed comes
 * back when the WAL is recovered) and sets the active set of their (id, source, key) again from
 * the rows that remain: active is the first OCCUR after the last RECOVER. Within the caller's
 * transaction. SQLite code; what SQLite said in e. */
static int store_purge_failed(sqlite3 *db, const struct seq_range *ranges, size_t n,
                              struct db_error *e)
{
    static const char keys_sql[] =
        "INSERT OR IGNORE INTO purge_keys SELECT DISTINCT id, source, akey FROM alarms"
        " WHERE seq BETWEEN ?1 AND ?2";
    static const char delete_sql[] = "DELETE FROM alarms WHERE seq BETWEEN ?1 AND ?2";
    char active_sql[SQL_MAX];
    sqlite3_stmt *keys = NULL, *del = NULL;
    int rc;

    snprintf(active_sql, sizeof(active_sql),
             "DELETE FROM active WHERE (id, source, akey) IN"
             " (SELECT id, source, akey FROM purge_keys);"
             "INSERT INTO active(id, source, akey, seq) SELECT * FROM"
             " (SELECT k.id, k.source, k.akey, (SELECT MIN(a.seq) FROM alarms a"
             "   WHERE a.id = k.id AND a.source = k.source AND a.akey = k.akey AND a.type = %d"
             "   AND a.seq > IFNULL((SELECT MAX(b.seq) FROM alarms b WHERE b.id = k.id"
             "     AND b.source = k.source AND b.akey = k.akey AND b.type = %d), 0)) AS s"
             "  FROM purge_keys k) WHERE s IS NOT NULL;"
             "DROP TABLE purge_keys;",
             SENTRY_ALARM_OCCUR, SENTRY_ALARM_RECOVER);
    rc = sqlite3_exec(
        db, "CREATE TEMP TABLE purge_keys(id, source, akey, PRIMARY KEY(id, source, akey))", NULL,
        NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, keys_sql, -1, &keys, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, delete_sql, -1, &del, NULL);
    for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
        sqlite3_stmt *steps[] = {keys, del};
        for (size_t k = 0; k < ELEMENTSOF(steps) && rc == SQLITE_OK; k++) {
            sqlite3_bind_int64(steps[k], 1, (sqlite3_int64) ranges[i].first);
            sqlite3_bind_int64(steps[k], 2, (sqlite3_int64) ranges[i].last);
            rc = stmt_run(db, steps[k], e);
            e = rc == SQLITE_OK ? e : NULL; /* keep the first message */
        }
        if (rc == SQLITE_OK && sqlite3_changes(db) > 0)
            log_notice("alarm store: deleted %d rows of seqs %" PRIu64 "..%" PRIu64
                       " whose commit had failed (they came back with the WAL)",
                       sqlite3_changes(db), ranges[i].first, ranges[i].last);
    }
    sqlite3_finalize(keys); /* keeps the message of a failure */
    sqlite3_finalize(del);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, active_sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        db_error_read(db, e);
    /* The temporary table goes with the transaction if it is rolled back. */
    return rc;
}

/* ---- writer thread --------------------------------------------------------------------------- */

struct writer {
    struct alarm_store *s;
    sqlite3 *db;
    uint64_t oldest;            /* lowest seq stored as far as the writer knows; 0: unknown */
    usec_t last_age_check;      /* CLOCK_MONOTONIC */
    usec_t retention_failed_at; /* CLOCK_MONOTONIC; 0: not failing */
    struct db_error error;      /* what SQLite said at the last failure */
    sqlite3_stmt *ins, *act_set, *act_clear, *meta_seq, *del_upto, *oldest_recv_after, *by_seq;
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
    char names[SQL_MAX], marks[SQL_MAX], insert[3 * SQL_MAX];
    int rc, r;

    rc = sqlite3_exec(w->db, "PRAGMA wal_autocheckpoint=0", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return sqlite_error(w->db, rc, "wal_autocheckpoint");
    sqlite3_wal_hook(w->db, on_wal_commit, w->s);
    if ((r = store_columns_names(names, sizeof(names))) < 0 ||
        (r = store_columns_placeholders(marks, sizeof(marks))) < 0)
        return r;
    snprintf(insert, sizeof(insert), "INSERT INTO alarms(%s) VALUES(%s)", names, marks);
    if ((r = db_prepare(w->db, insert, &w->ins)) < 0 ||
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
        (r = db_prepare(w->db, "SELECT 1 FROM alarms WHERE seq = ?", &w->by_seq)) < 0 ||
        (r = db_prepare(w->db,
                        "DELETE FROM alarms WHERE seq IN (SELECT seq FROM alarms WHERE seq <= ? "
                        "ORDER BY seq LIMIT 20000)",
                        &w->del_upto)) < 0 ||
        (r = db_prepare(w->db,
                        "SELECT seq, recv_us FROM alarms WHERE seq >= ? ORDER BY seq LIMIT 1",
                        &w->oldest_recv_after)) < 0)
        return r;
    return 0;
}

static void writer_finalize(struct writer *w)
{
    sqlite3_stmt *all[] = {w->ins,    w->act_set,  w->act_clear, w->meta_seq, w->begin,
                           w->commit, w->rollback, w->by_seq,    w->del_upto, w->oldest_recv_after};
    for (size_t i = 0; i < ELEMENTSOF(all); i++)
        sqlite3_finalize(all[i]);
}

/* Steps st as writer_commit's statements are: SQLite code, what SQLite said in w->error. */
static int writer_step(struct writer *w, sqlite3_stmt *st)
{
    return stmt_run(w->db, st, &w->error);
}

static int writer_insert(struct writer *w, const struct alarm_record *r)
{
    const struct alarm *a = &r->a;
    sqlite3_stmt *st = w->ins;
    int rc;

    rc = store_columns_bind(st, 1, a);
    if (rc == SQLITE_OK)
        rc = writer_step(w, st);
    else
        db_error_read(w->db, &w->error);
    if (rc != SQLITE_OK || r->active_change == ACTIVE_NONE)
        return rc;
    st = r->active_change == ACTIVE_SET ? w->act_set : w->act_clear;
    sqlite3_bind_int(st, 1, a->id);
    sqlite3_bind_text(st, 2, a->source, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->key, -1, SQLITE_STATIC);
    if (r->active_change == ACTIVE_SET)
        sqlite3_bind_int64(st, 4, (sqlite3_int64) a->seq);
    return writer_step(w, st);
}

/* Commits n records in one transaction (with the purge of failed commits, if any): 0 or -errno
 * (rolled back). *at_commit tells whether COMMIT itself failed: then SQLite may have written the
 * transaction to the WAL. The last seq is not written per transaction: MAX(seq) of the rows
 * tells it, retention records it in meta before it deletes rows, and the state file holds the
 * reservation. */
static int writer_commit(struct writer *w, size_t n, bool *at_commit)
{
    struct alarm_store *s = w->s;
    const char *what = "BEGIN";
    int rc;

    *at_commit = false;
    rc = writer_step(w, w->begin);
    if (rc == SQLITE_OK && s->state.n_failed > 0) {
        what = "deleting the rows of failed commits";
        rc = store_purge_failed(w->db, s->state.failed, s->state.n_failed, &w->error);
    }
    for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
        what = "INSERT";
        rc = writer_insert(w, w->batch[i]);
    }
    if (rc == SQLITE_OK) {
        what = "COMMIT";
        *at_commit = true;
        rc = writer_step(w, w->commit);
    }
    if (rc == SQLITE_OK)
        return 0;
    int r = sqlite_errno_of(w->error.ext, w->error.sys);
    log_error("alarm store: storing seqs %" PRIu64 "..%" PRIu64 " failed at %s: %s (%s)",
              w->batch[0]->a.seq, w->batch[n - 1]->a.seq, what, w->error.msg, strerror(-r));
    /* SQLite may have rolled the transaction back itself (a full disk, for one). */
    if (!sqlite3_get_autocommit(w->db)) {
        struct db_error e;
        rc = stmt_run(w->db, w->rollback, &e);
        if (rc != SQLITE_OK)
            log_error("alarm store: ROLLBACK: %s", e.msg);
    }
    return r;
}

/* Whether the writer's connection sees the row of seq: 1, 0, or -errno. */
static int writer_seq_visible(struct writer *w, uint64_t seq)
{
    sqlite3_bind_int64(w->by_seq, 1, (sqlite3_int64) seq);
    int rc = sqlite3_step(w->by_seq);
    int r = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : sqlite_error(w->db, rc, "checking");
    sqlite3_reset(w->by_seq);
    return r;
}

/* Makes sure the state file reserves every seq up to last, raising the reservation a block
 * ahead when needed (flushed to disk before anything above the old one is stored). */
static int writer_reserve(struct writer *w, uint64_t last)
{
    struct store_state *st = &w->s->state;
    uint64_t mark = st->seq_mark;
    int r;

    if (!store_state_is_open(st)) {
        bool damaged;
        r = store_state_open(st, w->s->state_path, &damaged);
        if (r < 0)
            return log_error_errno(r, "alarm store: cannot open %s: %m", w->s->state_path);
        st->seq_mark = MAX(st->seq_mark, mark);
    }
    if (last <= st->seq_mark)
        return 0;
    mark = st->seq_mark;
    st->seq_mark = last + ALARM_STORE_SEQ_BLOCK;
    r = store_state_save(st);
    if (r < 0) {
        st->seq_mark = mark;
        return log_error_errno(r, "alarm store: cannot reserve seqs up to %" PRIu64 " in %s: %m",
                               last + ALARM_STORE_SEQ_BLOCK, w->s->state_path);
    }
    return 0;
}

/* Stores the batch: 0, or -errno when it is not stored, for sure: a failure of COMMIT itself is
 * checked (stored after all: 0), and otherwise recorded in the state file, so that the rows are
 * deleted should the WAL bring them back. */
static int writer_store(struct writer *w, size_t n)
{
    struct alarm_store *s = w->s;
    uint64_t first = w->batch[0]->a.seq, last = w->batch[n - 1]->a.seq;
    bool at_commit;
    int r, k;

    r = writer_reserve(w, last);
    if (r < 0)
        return r;
    r = writer_commit(w, n, &at_commit);
    if (r < 0 && at_commit && writer_seq_visible(w, last) > 0) {
        log_warning("alarm store: COMMIT of seqs %" PRIu64 "..%" PRIu64
                    " reported an error, but they are stored",
                    first, last);
        r = 0;
    }
    if (r < 0) {
        k = store_state_add_failed(&s->state, first, last);
        if (k >= 0)
            k = store_state_save(&s->state);
        if (k < 0)
            log_error_errno(k,
                            "alarm store: cannot record in %s that seqs %" PRIu64 "..%" PRIu64
                            " are not stored: %m",
                            s->state_path, first, last);
        return r;
    }
    if (s->state.n_failed > 0) {
        /* This transaction deleted their rows. */
        s->state.n_failed = 0;
        k = store_state_save(&s->state);
        if (k < 0)
            log_warning_errno(k, "alarm store: cannot update %s: %m", s->state_path);
    }
    return 0;
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

/* The first seq whose row was received at or after cutoff (rows are in receive order). 0 when
 * it cannot be read. */
static uint64_t writer_first_young(struct writer *w, uint64_t last_seq, uint64_t cutoff)
{
    uint64_t lo = 1, hi = last_seq + 1;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2, seq = 0, recv = 0;
        sqlite3_bind_int64(w->oldest_recv_after, 1, (sqlite3_int64) mid);
        int rc = sqlite3_step(w->oldest_recv_after);
        if (rc == SQLITE_ROW) {
            seq = (uint64_t) sqlite3_column_int64(w->oldest_recv_after, 0);
            recv = (uint64_t) sqlite3_column_int64(w->oldest_recv_after, 1);
        } else if (rc != SQLITE_DONE) {
            sqlite_error(w->db, rc, "retention");
            sqlite3_reset(w->oldest_recv_after);
            return 0;
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
static int writer_delete_upto(struct writer *w, uint64_t upto, uint64_t last_seq)
{
    /* Keep the last seq known even if every row goes: seq never goes back after a restart. */
    sqlite3_bind_int64(w->meta_seq, 1, (sqlite3_int64) last_seq);
    int rc = writer_step(w, w->meta_seq);
    for (; rc == SQLITE_OK;) {
        sqlite3_bind_int64(w->del_upto, 1, (sqlite3_int64) upto);
        rc = writer_step(w, w->del_upto);
        if (rc == SQLITE_OK && sqlite3_changes(w->db) < PRUNE_BATCH)
            break;
    }
    if (rc != SQLITE_OK) {
        log_error("alarm store: retention: %s", w->error.msg);
        return sqlite_errno_of(w->error.ext, w->error.sys);
    }
    w->oldest = upto + 1;
    return 0;
}

/* Applies the retention limits after a commit: by count when the store holds a little more than
 * allowed (so deletes come in batches), by age at most every 10 s while alarms flow, or when
 * the main thread's timer saw the oldest row expire. After a failure (a full disk, a damaged
 * page) it waits a while before it tries again. */
static void writer_retain(struct writer *w, uint64_t last_seq)
{
    struct alarm_store *s = w->s;
    usec_t now = now_usec(CLOCK_MONOTONIC);
    uint64_t upto = 0;

    if (w->retention_failed_at && now - w->retention_failed_at < RETENTION_BACKOFF)
        return;
    if (s->retention_count) {
        uint64_t slack = MAX(s->retention_count / 100, 64);
        if (w->oldest == 0) {
            int64_t v = 0;
            int rc = db_scalar(w->db, "SELECT IFNULL(MIN(seq), 0) FROM alarms", &v);
            if (rc != SQLITE_OK) {
                sqlite_error(w->db, rc, "retention");
                w->retention_failed_at = now;
                return;
            }
            w->oldest = (uint64_t) MAX(v, 1);
        }
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
        w->retention_failed_at = writer_delete_upto(w, upto, last_seq) < 0 ? now : 0;
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
        int error = writer_store(w, n);
        if (error == 0)
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

    if (db_open(s->path, s->sync_full, &db, NULL) < 0)
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
    int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        sqlite_error(db, rc, "checkpoint");
    sqlite3_close(db);
    return NULL;
}

/* ---- main thread: commits handed back, retention timer -------------------------------------- */

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

/* The receive time of the oldest row (0: none, or unreadable). */
static uint64_t store_oldest_recv(struct alarm_store *s)
{
    uint64_t v = 0;
    int rc = sqlite3_step(s->q_oldest_recv);

    if (rc == SQLITE_ROW)
        v = (uint64_t) sqlite3_column_int64(s->q_oldest_recv, 0);
    else if (rc != SQLITE_DONE)
        sqlite_error(s->rdb, rc, "retention");
    sqlite3_reset(s->q_oldest_recv);
    return v;
}

static void store_arm_retention(struct alarm_store *s);

static int on_retention_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
    struct alarm_store *s = userdata;
    uint64_t oldest_recv = store_oldest_recv(s);

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
    int enabled = SD_EVENT_OFF;

    if (!s->retention_age_us || !s->retention_timer)
        return;
    if (sd_event_source_get_enabled(s->retention_timer, &enabled) >= 0 && enabled != SD_EVENT_OFF)
        return;
    uint64_t oldest_recv = store_oldest_recv(s);
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
    s->last_submitted = MAX(s->last_submitted, r->a.seq);
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

uint64_t alarm_store_last_stored(const struct alarm_store *s)
{
    return s->last_stored;
}

const char *alarm_store_damage(const struct alarm_store *s, const char **problem)
{
    *problem = s->damage_problem;
    return s->damage;
}

struct alarm_scans *alarm_store_scans(struct alarm_store *s)
{
    return s->scans;
}

uint64_t alarm_store_oldest_seq(struct alarm_store *s)
{
    uint64_t v = 0;
    int rc = sqlite3_step(s->q_oldest);

    if (rc == SQLITE_ROW)
        v = (uint64_t) sqlite3_column_int64(s->q_oldest, 0);
    else if (rc != SQLITE_DONE)
        sqlite_error(s->rdb, rc, "oldest seq");
    sqlite3_reset(s->q_oldest);
    return v;
}

/* ---- main thread: reads ---------------------------------------------------------------------- */

static sqlite3_stmt *read_stmt(struct alarm_store *s, const struct alarm_read *q)
{
    return s->q_read[(q->desc ? READ_DESC : READ_ASC) + (q->id ? 1 : 0)];
}

static sqlite3_int64 to_int64(uint64_t v)
{
    return v > INT64_MAX ? INT64_MAX : (sqlite3_int64) v;
}

/* Binds a read from position at (ascending: seqs >= at; descending: seqs <= at) for at most
 * limit rows. Positions, not cursors: a b-tree search for a seq lands on the page that would hold
 * it, so a read resumed from the first seq after a damaged page does not touch that page. */
static sqlite3_stmt *read_bind(struct alarm_store *s, const struct alarm_read *q, uint64_t at,
                               unsigned limit)
{
    sqlite3_stmt *st = read_stmt(s, q);
    sqlite3_bind_int64(st, 1, to_int64(at));
    sqlite3_bind_int64(st, 2, to_int64(q->bound));
    sqlite3_bind_int(st, 3, (int) MIN(limit, (unsigned) INT32_MAX));
    if (q->id)
        sqlite3_bind_int(st, 4, q->id);
    return st;
}

static char *damage_text(const char *problem, const char *store, const char *moved_to,
                         const char *error, const struct seq_range *unreadable,
                         uint64_t continues_after);

/* Tells the reader, and once per range the log and the store's owner, that seqs first..last
 * could not be read. */
static void read_report_unreadable(struct alarm_store *s, uint64_t first, uint64_t last,
                                   const struct alarm_read_ops *ops, void *userdata)
{
    struct seq_range range = {first, last};
    bool told = false;

    for (size_t i = 0; i < MIN(s->n_told, (size_t) TOLD_MAX) && !told; i++)
        told = s->told[i].first == first && s->told[i].last == last;
    if (!told) {
        s->told[s->n_told++ % TOLD_MAX] = range;
        log_warning("alarm store %s: seqs %" PRIu64 "..%" PRIu64
                    " cannot be read (a damaged page): skipped",
                    s->path, first, last);
        _cleanup_free_ char *text = damage_text("unreadable", s->path, NULL, NULL, &range, 0);
        if (s->on_damage && text)
            s->on_damage("unreadable", text, s->userdata);
    }
    if (ops->unreadable)
        ops->unreadable(first, last, userdata);
}

/* Whether rows can be read from position at on (one row, or nothing left): 1, 0 when a damaged
 * page is in the way, -errno for other errors. */
static int read_probe(struct alarm_store *s, const struct alarm_read *q, uint64_t at)
{
    sqlite3_stmt *st = read_bind(s, q, at, 1);
    int rc = sqlite3_step(st), r;

    if (rc == SQLITE_ROW) {
        struct alarm a;
        r = store_columns_read(st, 0, &a) == 0;
    } else if (rc == SQLITE_DONE)
        r = 1;
    else if (sqlite_rc_unreadable(rc))
        r = 0;
    else
        r = sqlite_error(s->rdb, rc, "read");
    sqlite3_reset(st);
    return r;
}

/* A read failed on a damaged page right after q->cursor: finds the nearest position rows can be
 * read from again (probing ever further, then bisecting), tells the reader which seqs are
 * skipped, and moves the cursor there. */
static int read_skip_unreadable(struct alarm_store *s, struct alarm_read *q,
                                const struct alarm_read_ops *ops, void *userdata)
{
    /* bad: a position the read fails from; good: one it succeeds from; end: past the bound */
    uint64_t bound = MIN(q->bound, (uint64_t) INT64_MAX - 1), step = 1, good;
    uint64_t end = q->desc ? (bound > 0 ? bound - 1 : 0) : bound + 1;
    uint64_t bad = q->desc ? q->cursor - 1 : q->cursor + 1;
    int r;

    for (;;) {
        uint64_t room = q->desc ? bad - end : end - bad;
        uint64_t at = room > step ? (q->desc ? bad - step : bad + step) : end;
        r = read_probe(s, q, at);
        if (r < 0)
            return r;
        if (r > 0) {
            good = at;
            break;
        }
        if (at == end) { /* nothing left can be read */
            if (q->desc)
                read_report_unreadable(s, MAX(bound, 1), q->cursor - 1, ops, userdata);
            else
                read_report_unreadable(s, q->cursor + 1, bound, ops, userdata);
            q->cursor = q->desc ? MAX(bound, 1) : bound;
            q->done = true;
            return 0;
        }
        bad = at;
        step = step > UINT64_MAX / 2 ? UINT64_MAX : step * 2;
    }
    while ((q->desc ? bad - good : good - bad) > 1) {
        uint64_t mid = q->desc ? good + (bad - good) / 2 : bad + (good - bad) / 2;
        r = read_probe(s, q, mid);
        if (r < 0)
            return r;
        if (r > 0)
            good = mid;
        else
            bad = mid;
    }
    if (q->desc) {
        read_report_unreadable(s, good + 1, q->cursor - 1, ops, userdata);
        q->cursor = good + 1;
    } else {
        read_report_unreadable(s, q->cursor + 1, good - 1, ops, userdata);
        q->cursor = good - 1;
    }
    return 0;
}

static bool read_at_end(const struct alarm_read *q)
{
    return q->desc ? q->cursor <= q->bound || q->cursor <= 1 : q->cursor >= q->bound;
}

int alarm_store_read(struct alarm_store *s, struct alarm_read *q, unsigned max_rows,
                     const struct alarm_read_ops *ops, void *userdata)
{
    unsigned n = 0;
    int r;

    while (!q->done && n < max_rows) {
        if (read_at_end(q)) {
            q->done = true;
            break;
        }
        unsigned limit = max_rows - n, got = 0;
        sqlite3_stmt *st = read_bind(s, q, q->desc ? q->cursor - 1 : q->cursor + 1, limit);
        uint64_t bad_row = 0;
        bool stopped = false;
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            struct alarm a;
            uint64_t seq = (uint64_t) sqlite3_column_int64(st, 0);
            if (store_columns_read(st, 0, &a) < 0) {
                bad_row = seq; /* a NULL where there never is one: a damaged row */
                break;
            }
            struct alarm_record *rec = alarm_record_new(&a);
            if (!rec) {
                sqlite3_reset(st);
                return -ENOMEM;
            }
            q->cursor = seq;
            got++;
            int k = ops->row(rec, userdata);
            alarm_record_unref(rec);
            if (k < 0) {
                stopped = true;
                break;
            }
        }
        if (rc != SQLITE_ROW && rc != SQLITE_DONE && !sqlite_rc_unreadable(rc)) {
            r = sqlite_error(s->rdb, rc, "read");
            sqlite3_reset(st);
            return r;
        }
        sqlite3_reset(st);
        n += got;
        if (stopped)
            break;
        if (bad_row) {
            /* Its seq is readable, its columns are not: that row alone is skipped. */
            read_report_unreadable(s, bad_row, bad_row, ops, userdata);
            q->cursor = bad_row;
            continue;
        }
        if (rc == SQLITE_DONE) {
            if (got < limit)
                q->done = true; /* everything up to the bound */
            continue;
        }
        if (rc != SQLITE_ROW) { /* a damaged page after the cursor */
            r = read_skip_unreadable(s, q, ops, userdata);
            if (r < 0)
                return r;
        }
    }
    return (int) n;
}

int alarm_store_read_active(struct alarm_store *s, alarm_store_row_fn fn, void *userdata)
{
    _cleanup_free_ uint64_t *seqs = NULL;
    size_t n = 0, cap = 0;
    int rc, r = 0;

    while ((rc = sqlite3_step(s->q_active)) == SQLITE_ROW) {
        if (n == cap) {
            size_t c = cap ? cap * 2 : 64;
            uint64_t *p = realloc(seqs, c * sizeof(*p));
            if (!p) {
                sqlite3_reset(s->q_active);
                return -ENOMEM;
            }
            seqs = p;
            cap = c;
        }
        seqs[n++] = (uint64_t) sqlite3_column_int64(s->q_active, 0);
    }
    if (rc != SQLITE_DONE)
        r = sqlite_error(s->rdb, rc, "reading the active alarms");
    sqlite3_reset(s->q_active);
    for (size_t i = 0; i < n; i++) {
        struct alarm a;
        sqlite3_bind_int64(s->q_by_seq, 1, (sqlite3_int64) seqs[i]);
        rc = sqlite3_step(s->q_by_seq);
        if (rc == SQLITE_ROW && store_columns_read(s->q_by_seq, 0, &a) == 0) {
            struct alarm_record *rec = alarm_record_new(&a);
            sqlite3_reset(s->q_by_seq);
            if (!rec)
                return -ENOMEM;
            fn(rec, userdata);
            alarm_record_unref(rec);
            continue;
        }
        if (rc != SQLITE_DONE && rc != SQLITE_ROW && !sqlite_rc_unreadable(rc))
            r = sqlite_error(s->rdb, rc, "reading an active alarm");
        else if (rc != SQLITE_DONE)
            read_report_unreadable(s, seqs[i], seqs[i], &(struct alarm_read_ops){0}, NULL);
        sqlite3_reset(s->q_by_seq);
    }
    return r;
}

int alarm_store_find_idem(struct alarm_store *s, const char *source, const char *idem,
                          uint64_t *ret)
{
    int rc, r;

    sqlite3_bind_text(s->q_idem, 1, source, -1, SQLITE_STATIC);
    sqlite3_bind_text(s->q_idem, 2, idem, -1, SQLITE_STATIC);
    rc = sqlite3_step(s->q_idem);
    if (rc == SQLITE_ROW) {
        *ret = (uint64_t) sqlite3_column_int64(s->q_idem, 0);
        r = 1;
    } else
        r = rc == SQLITE_DONE ? 0 : sqlite_error(s->rdb, rc, "looking up an idempotency key");
    sqlite3_reset(s->q_idem);
    return r;
}

/* ---- open and close -------------------------------------------------------------------------- */

static void writer_free(struct writer *w)
{
    if (!w)
        return;
    writer_finalize(w);
    sqlite3_close(w->db);
    free(w);
}

static void store_close_main(struct alarm_store *s)
{
    for (size_t i = 0; i < _READ_MAX; i++)
        sqlite3_finalize(s->q_read[i]);
    sqlite3_stmt *all[] = {s->q_oldest, s->q_oldest_recv, s->q_active, s->q_by_seq, s->q_idem};
    for (size_t i = 0; i < ELEMENTSOF(all); i++)
        sqlite3_finalize(all[i]);
    memset(s->q_read, 0, sizeof(s->q_read));
    s->q_oldest = s->q_oldest_recv = s->q_active = s->q_by_seq = s->q_idem = NULL;
    if (s->rdb)
        sqlite3_close(s->rdb);
    s->rdb = NULL;
}

/* The last seq stored: the highest row's, or the one retention recorded when it deleted rows.
 * SQLite code. */
static int store_read_last(struct alarm_store *s, int64_t *max_seq, int64_t *meta_seq)
{
    int rc = db_scalar(s->rdb, "SELECT MAX(seq) FROM alarms", max_seq);
    if (rc == SQLITE_OK)
        rc = db_scalar(s->rdb, "SELECT MAX(v) FROM meta WHERE k = 'last_seq'", meta_seq);
    if (rc == SQLITE_OK)
        s->last_stored = s->last_seq = (uint64_t) MAX(MAX(*max_seq, *meta_seq), 0);
    return rc;
}

/* Reports a failed call while opening: -EUCLEAN when the file is not a usable database (*why
 * gets SQLite's message), else its errno. */
static int store_open_failed(struct alarm_store *s, int rc, const char *what, char **why)
{
    const char *msg = sqlite3_errmsg(s->rdb);
    log_error("alarm store %s: %s: %s", s->path, what, msg);
    if (!sqlite_rc_damaged(rc))
        return sqlite_errno(s->rdb, rc);
    free(*why);
    *why = strdup(msg);
    return -EUCLEAN;
}

/* Opens the main thread's connection and what it needs: the schema (created, or completed with
 * the columns an older store lacks), its version, the last seq, the statements. -EUCLEAN when the
 * file is not a usable database (*why says why), other -errno otherwise. *empty: neither a row
 * nor a recorded last seq. */
static int store_open_main(struct alarm_store *s, char **why, bool *empty)
{
    char create[3 * SQL_MAX], names[SQL_MAX], sql[3 * SQL_MAX];
    int64_t version = 0, max_seq = 0, meta_seq = 0;
    int rc = SQLITE_OK, r;

    r = db_open(s->path, s->sync_full, &s->rdb, &rc);
    if (r < 0) {
        if (!sqlite_rc_damaged(rc))
            return r;
        free(*why);
        *why = strdup(sqlite3_errstr(rc));
        return -EUCLEAN;
    }
    if ((r = store_columns_create_sql(create, sizeof(create))) < 0 ||
        (r = store_columns_names(names, sizeof(names))) < 0)
        return r;
    rc = sqlite3_exec(s->rdb, create, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return store_open_failed(s, rc, "cannot create the schema", why);
    rc = store_columns_migrate(s->rdb);
    if (rc != SQLITE_OK)
        return store_open_failed(s, rc, "cannot add the new columns", why);
    rc = sqlite3_exec(s->rdb, schema_rest, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return store_open_failed(s, rc, "cannot create the schema", why);
    rc = db_scalar(s->rdb, "PRAGMA user_version", &version);
    if (rc != SQLITE_OK)
        return store_open_failed(s, rc, "cannot read the schema version", why);
    if (version > SCHEMA_VERSION) {
        log_error("alarm store %s has schema version %" PRId64 ", newer than this sentryd (%d)",
                  s->path, version, SCHEMA_VERSION);
        return -EPROTO;
    }
    if (version == 0) {
        rc = sqlite3_exec(s->rdb, "PRAGMA user_version=1", NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            return store_open_failed(s, rc, "cannot set the schema version", why);
    }
    rc = store_read_last(s, &max_seq, &meta_seq);
    if (rc != SQLITE_OK)
        return store_open_failed(s, rc, "cannot read the last seq", why);
    *empty = max_seq <= 0 && meta_seq <= 0;

    static const char *const reads[_READ_MAX] = {
        [READ_ASC] = "seq >= ?1 AND seq <= ?2 ORDER BY seq",
        [READ_ASC_ID] = "id = ?4 AND seq >= ?1 AND seq <= ?2 ORDER BY seq",
        [READ_DESC] = "seq <= ?1 AND seq >= ?2 ORDER BY seq DESC",
        [READ_DESC_ID] = "id = ?4 AND seq <= ?1 AND seq >= ?2 ORDER BY seq DESC",
    };
    for (size_t i = 0; i < _READ_MAX; i++) {
        snprintf(sql, sizeof(sql), "SELECT %s FROM alarms WHERE %s LIMIT ?3", names, reads[i]);
        if ((r = db_prepare(s->rdb, sql, &s->q_read[i])) < 0)
            return r;
    }
    snprintf(sql, sizeof(sql), "SELECT %s FROM alarms WHERE seq = ?", names);
    if ((r = db_prepare(s->rdb, sql, &s->q_by_seq)) < 0 ||
        (r = db_prepare(s->rdb, "SELECT MIN(seq) FROM alarms", &s->q_oldest)) < 0 ||
        (r = db_prepare(s->rdb, "SELECT recv_us FROM alarms ORDER BY seq LIMIT 1",
                        &s->q_oldest_recv)) < 0 ||
        (r = db_prepare(s->rdb, "SELECT seq FROM active ORDER BY seq", &s->q_active)) < 0 ||
        (r = db_prepare(s->rdb,
                        "SELECT seq FROM alarms WHERE source = ? AND idem = ? AND idem IS NOT NULL",
                        &s->q_idem)) < 0)
        return r;
    return 0;
}

/* Deletes the rows of commits that failed before the last stop, if the WAL brought them back. */
static int store_purge_at_open(struct alarm_store *s)
{
    struct db_error e = {.msg = ""};
    int64_t max_seq, meta_seq;
    int rc;

    if (s->state.n_failed == 0)
        return 0;
    rc = sqlite3_exec(s->rdb, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = store_purge_failed(s->rdb, s->state.failed, s->state.n_failed, &e);
    else
        db_error_read(s->rdb, &e);
    if (rc == SQLITE_OK) {
        rc = sqlite3_exec(s->rdb, "COMMIT", NULL, NULL, NULL);
        if (rc == SQLITE_OK) /* the last rows may have been some */
            rc = store_read_last(s, &max_seq, &meta_seq);
        if (rc != SQLITE_OK)
            db_error_read(s->rdb, &e);
    }
    if (rc != SQLITE_OK) {
        if (!sqlite3_get_autocommit(s->rdb))
            (void) sqlite3_exec(s->rdb, "ROLLBACK", NULL, NULL, NULL);
        /* The writer deletes them with its next commit. */
        log_error("alarm store %s: cannot delete the rows of failed commits: %s", s->path, e.msg);
        return sqlite_errno_of(e.ext, e.sys);
    }
    s->state.n_failed = 0;
    int r = store_state_save(&s->state);
    if (r < 0)
        log_warning_errno(r, "alarm store: cannot update %s: %m", s->state_path);
    return 0;
}

static char *damage_text(const char *problem, const char *store, const char *moved_to,
                         const char *error, const struct seq_range *unreadable,
                         uint64_t continues_after)
{
    size_t size = 256 + JSON_ESCAPE_MAX(strlen(store)) +
                  (moved_to ? JSON_ESCAPE_MAX(strlen(moved_to)) : 0) +
                  (error ? JSON_ESCAPE_MAX(strlen(error)) : 0);
    char *b = malloc(size), *o = b;

    if (!b)
        return NULL;
    o += sprintf(o, "{\"problem\":\"%s\",\"store\":", problem);
    o += json_escape(o, store, strlen(store));
    if (moved_to) {
        o += sprintf(o, ",\"moved_to\":");
        o += json_escape(o, moved_to, strlen(moved_to));
    }
    if (error) {
        o += sprintf(o, ",\"error\":");
        o += json_escape(o, error, strlen(error));
    }
    if (unreadable)
        o += sprintf(o, ",\"first\":%" PRIu64 ",\"last\":%" PRIu64, unreadable->first,
                     unreadable->last);
    else
        o += sprintf(o, ",\"continues_after\":%" PRIu64, continues_after);
    sprintf(o, "}");
    return b;
}

/* Opens the database; one that is not usable is moved aside (with its WAL) and replaced by a
 * fresh one, which continues above the seq the state file knows. */
static int store_open_database(struct alarm_store *s)
{
    _cleanup_free_ char *why = NULL, *moved = NULL;
    bool empty = false, save = false;
    int r;

    r = store_open_main(s, &why, &empty);
    if (r == -EUCLEAN) {
        store_close_main(s);
        r = store_files_move_aside(s->path, time(NULL), &moved);
        if (r < 0)
            return log_error_errno(r, "alarm store %s is damaged and cannot be moved aside: %m",
                                   s->path);
        r = store_open_main(s, &why, &empty);
        if (r < 0)
            return r;
        /* Its rows are gone: no failed commit can come back. */
        save = s->state.n_failed > 0;
        s->state.n_failed = 0;
    } else if (r < 0)
        return r;
    /* Nothing stored yet because every commit so far failed: not an emptied store. */
    bool never_stored = s->state.n_failed > 0 && s->state.failed[0].first <= 1;
    /* On failure they are deleted with the writer's first commit. */
    (void) store_purge_at_open(s);

    uint64_t known = s->state.seq_mark;
    if (known > s->last_seq)
        s->last_seq = known;
    if (moved) {
        log_error("alarm store %s was damaged (%s): moved aside to %s; a new store continues "
                  "after seq %" PRIu64,
                  s->path, strna(why), moved, s->last_seq);
        s->damage = damage_text("damaged", s->path, moved, why, NULL, s->last_seq);
        s->damage_problem = "damaged";
    } else if (empty && known > 0 && !never_stored) {
        log_error("alarm store %s holds no alarm, but seqs up to %" PRIu64
                  " were given: it was emptied or replaced; it continues after seq %" PRIu64,
                  s->path, known, s->last_seq);
        s->damage = damage_text("emptied", s->path, NULL, NULL, NULL, s->last_seq);
        s->damage_problem = "emptied";
    }
    if (s->damage_problem && !s->damage)
        return -ENOMEM;
    if (store_state_is_open(&s->state) && (save || s->state.seq_mark < s->last_seq)) {
        s->state.seq_mark = s->last_seq;
        r = store_state_save(&s->state);
        if (r < 0)
            log_warning_errno(r, "alarm store: cannot update %s: %m", s->state_path);
    }
    return 0;
}

int alarm_store_open(const struct alarm_store_params *p, struct alarm_store **ret)
{
    struct alarm_store *s = calloc(1, sizeof(*s));
    struct writer *w = NULL;
    bool state_damaged = false;
    int r;

    if (!s)
        return -ENOMEM;
    s->event = p->event;
    s->path = strdup(p->path);
    s->state_path = store_files_state_path(p->path);
    s->sync_full = p->sync_full;
    s->retention_count = p->retention_count;
    s->retention_age_us = p->retention_age_s * USEC_PER_SEC;
    s->on_committed = p->on_committed;
    s->on_batch = p->on_batch;
    s->on_damage = p->on_damage;
    s->userdata = p->userdata;
    s->state = (struct store_state) STORE_STATE_INIT;
    s->writer_fd = s->main_fd = s->checkpoint_fd = -1;
    cds_wfcq_init(&s->sub_head, &s->sub_tail);
    cds_wfcq_init(&s->done_head, &s->done_tail);
    if (!s->path || !s->state_path) {
        r = -ENOMEM;
        goto fail;
    }

    /* Without it the store runs on the seqs of the database alone; the writer tries again. */
    r = store_state_open(&s->state, s->state_path, &state_damaged);
    if (r < 0)
        log_error_errno(r, "alarm store: cannot open %s: %m", s->state_path);
    else if (state_damaged)
        log_warning("alarm store: %s holds no valid state: the seqs continue from the database",
                    s->state_path);
    r = store_open_database(s);
    if (r < 0)
        goto fail;

    s->scans = alarm_scans_new(p->event, s);
    s->writer_fd = eventfd(0, EFD_CLOEXEC);
    s->main_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    s->checkpoint_fd = eventfd(0, EFD_CLOEXEC);
    if (!s->scans) {
        r = -ENOMEM;
        goto fail;
    }
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
    if ((r = db_open(p->path, p->sync_full, &w->db, NULL)) < 0 || (r = writer_prepare(w)) < 0) {
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
    s->w = w;
    r = -pthread_create(&s->checkpointer, NULL, checkpointer_main, s);
    if (r < 0)
        goto fail;
    pthread_setname_np(s->checkpointer, "sentry-ckpt");
    s->checkpointer_started = true;
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
    s->scans = alarm_scans_free(s->scans);
    if (s->writer_started) {
        atomic_store(&s->stopping, true);
        uint64_t one = 1;
        ssize_t _unused_ k = write(s->writer_fd, &one, sizeof(one));
        pthread_join(s->writer, NULL);
        writer_free(s->w);
        s->w = NULL;
        store_drain_done(s);
        /* A clean stop: the reservation comes down to the last seq given. */
        if (store_state_is_open(&s->state)) {
            s->state.seq_mark = MAX(s->last_seq, s->last_submitted);
            int r = store_state_save(&s->state);
            if (r < 0)
                log_warning_errno(r, "alarm store: cannot update %s: %m", s->state_path);
        }
    }
    if (s->checkpointer_started) {
        atomic_store(&s->stopping, true);
        uint64_t one = 1;
        ssize_t _unused_ k = write(s->checkpoint_fd, &one, sizeof(one));
        pthread_join(s->checkpointer, NULL);
    }
    sd_event_source_disable_unref(s->done_source);
    sd_event_source_disable_unref(s->retention_timer);
    store_close_main(s);
    store_state_close(&s->state);
    if (s->writer_fd >= 0)
        close(s->writer_fd);
    if (s->main_fd >= 0)
        close(s->main_fd);
    if (s->checkpoint_fd >= 0)
        close(s->checkpoint_fd);
    free(s->damage);
    free(s->state_path);
    free(s->path);
    free(s);
    return NULL;
}
