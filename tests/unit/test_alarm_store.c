/* test_alarm_store: the alarm store against real damage and real restarts, below the daemon:
 * a damaged page in the middle is skipped by ascending, descending and per-id reads, which say
 * exactly which seqs they could not read; a database that cannot be opened (a garbled header, a
 * truncation) is moved aside with its companions and a fresh one continues above the last seq,
 * as does one found empty; after a crash (the store never closed) the next seq is above the
 * reservation; the rows of failed commits are deleted at open and the active set is put back;
 * an older store gets the new column; idempotency keys are found. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "alarm_store.h"
#include "alarm_store_columns.h"
#include "store_state.h"
#include "test_util.h"

#define PAGE 4096

struct fixture {
    char dir[64];
    char path[128];
    sd_event *event;
    unsigned committed, failed;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    snprintf(f->dir, sizeof(f->dir), "/tmp/test_alarm_store.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/alarms.db", f->dir);
    if (sd_event_new(&f->event) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    sd_event_unref(f->event);
    test_rm_rf(f->dir);
    free(f);
    return 0;
}

static void on_committed(struct alarm_record *r, int error, void *userdata)
{
    struct fixture *f = userdata;
    if (error < 0)
        f->failed++;
    else
        f->committed++;
}

static struct alarm_store *store_open(struct fixture *f)
{
    struct alarm_store_params p = {
        .event = f->event,
        .path = f->path,
        .on_committed = on_committed,
        .userdata = f,
    };
    struct alarm_store *s = NULL;
    assert_int_equal(alarm_store_open(&p, &s), 0);
    return s;
}

/* Submits alarms first..last (text "marker-%06u" and padding), active_change as given. */
static void submit_range(struct alarm_store *s, uint64_t first, uint64_t last, uint16_t id,
                         const char *key, uint8_t type, uint8_t active_change, const char *idem)
{
    for (uint64_t seq = first; seq <= last; seq++) {
        char text[200];
        snprintf(text, sizeof(text), "marker-%06" PRIu64 " %0120d", seq, 0);
        struct alarm a = {.seq = seq,
                          .time_us = 1700000000000000ULL + seq,
                          .recv_us = 1700000000000000ULL + seq,
                          .id = id,
                          .level = 1,
                          .type = type,
                          .source = "tester",
                          .key = key,
                          .node = "node1",
                          .text = text,
                          .text_len = strlen(text),
                          .idem = idem};
        struct alarm_record *r = alarm_record_new(&a);
        assert_non_null(r);
        r->active_change = active_change;
        alarm_store_submit(s, r);
        alarm_record_unref(r);
    }
}

static void fill(struct fixture *f, uint64_t n)
{
    struct alarm_store *s = store_open(f);
    submit_range(s, alarm_store_last_seq(s) + 1, alarm_store_last_seq(s) + n, 1002, "", 1, 0, NULL);
    alarm_store_sync(s);
    alarm_store_close(s);
}

/* Copies the WAL into the database file, so that the file holds every row. */
static void checkpoint(struct fixture *f)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
}

/* The page of the file that holds the row of seq (found by its text). */
static off_t page_of(struct fixture *f, uint64_t seq)
{
    char marker[32], *buf;
    struct stat st;
    int fd = open(f->path, O_RDONLY);

    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    buf = malloc((size_t) st.st_size);
    assert_int_equal(read(fd, buf, (size_t) st.st_size), st.st_size);
    close(fd);
    snprintf(marker, sizeof(marker), "marker-%06" PRIu64, seq);
    char *at = memmem(buf, (size_t) st.st_size, marker, strlen(marker));
    assert_non_null(at);
    off_t page = (at - buf) / PAGE;
    free(buf);
    return page;
}

/* Makes a page unreadable: its b-tree page type becomes one that does not exist. */
static void damage_page(struct fixture *f, off_t page)
{
    int fd = open(f->path, O_WRONLY);
    unsigned char junk[16];
    memset(junk, 0xff, sizeof(junk));
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, junk, sizeof(junk), page * PAGE), (ssize_t) sizeof(junk));
    close(fd);
}

struct collected {
    uint64_t rows[8192];
    size_t n;
    struct seq_range ranges[16];
    size_t n_ranges;
};

static int collect_row(struct alarm_record *r, void *userdata)
{
    struct collected *c = userdata;
    if (c->n < 8192)
        c->rows[c->n++] = r->a.seq;
    return 0;
}

static void collect_unreadable(uint64_t first, uint64_t last, void *userdata)
{
    struct collected *c = userdata;
    if (c->n_ranges < 16)
        c->ranges[c->n_ranges++] = (struct seq_range){first, last};
}

static const struct alarm_read_ops collect_ops = {.row = collect_row,
                                                  .unreadable = collect_unreadable};

/* Reads everything with q in steps of 100 rows. */
static void read_all(struct alarm_store *s, struct alarm_read q, struct collected *c)
{
    memset(c, 0, sizeof(*c));
    for (int i = 0; i < 1000 && !q.done; i++)
        assert_true(alarm_store_read(s, &q, 100, &collect_ops, c) >= 0);
    assert_true(q.done);
}

/* Every seq of 1..n is either read (in order, once) or inside a reported range; some are read
 * after the first range (the read went on). */
static void assert_covers(const struct collected *c, uint64_t n, bool desc, uint64_t damaged)
{
    static bool seen[8192];
    memset(seen, 0, sizeof(seen));
    for (size_t i = 0; i < c->n; i++) {
        if (i > 0)
            assert_true(desc ? c->rows[i] < c->rows[i - 1] : c->rows[i] > c->rows[i - 1]);
        seen[c->rows[i]] = true;
    }
    assert_true(c->n_ranges >= 1);
    bool covered = false;
    for (size_t i = 0; i < c->n_ranges; i++) {
        assert_true(c->ranges[i].first <= c->ranges[i].last);
        covered |= c->ranges[i].first <= damaged && damaged <= c->ranges[i].last;
        for (uint64_t seq = c->ranges[i].first; seq <= c->ranges[i].last; seq++) {
            assert_false(seen[seq]);
            seen[seq] = true;
        }
    }
    assert_true(covered);
    for (uint64_t seq = 1; seq <= n; seq++)
        if (!seen[seq])
            fail_msg("seq %" PRIu64 " neither read nor reported unreadable", seq);
    /* the read went past the damage, both ways */
    assert_true(c->n > 0);
    assert_int_equal(desc ? c->rows[c->n - 1] : c->rows[0], desc ? 1 : 1);
    assert_int_equal(desc ? c->rows[0] : c->rows[c->n - 1], n);
}

static void test_damaged_page_is_skipped_and_reported(void **state)
{
    struct fixture *f = *state;
    struct collected *c = calloc(1, sizeof(*c));

    fill(f, 3000);
    checkpoint(f);
    damage_page(f, page_of(f, 1500));

    struct alarm_store *s = store_open(f);
    assert_null(alarm_store_damage(s, &(const char *){NULL})); /* it opens: the damage is inside */
    assert_int_equal(alarm_store_last_stored(s), 3000);
    read_all(s, (struct alarm_read){.cursor = 0, .bound = 3000}, c);
    assert_covers(c, 3000, false, 1500);
    assert_true(c->n > 2500); /* one page of rows lost, not the rest */
    read_all(s, (struct alarm_read){.desc = true, .cursor = 3001, .bound = 0}, c);
    assert_covers(c, 3000, true, 1500);
    /* by id: the index is fine, the rows it leads to are not */
    read_all(s, (struct alarm_read){.desc = true, .id = 1002, .cursor = 3001, .bound = 0}, c);
    assert_covers(c, 3000, true, 1500);
    /* a read that starts inside the damage */
    read_all(s, (struct alarm_read){.cursor = 1499, .bound = 3000}, c);
    assert_int_equal(c->ranges[0].first, 1500);
    assert_int_equal(c->rows[c->n - 1], 3000);
    alarm_store_close(s);
    free(c);
}

static int count_damaged(struct fixture *f)
{
    DIR *d = opendir(f->dir);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)))
        n += strstr(e->d_name, "alarms.db.damaged-") != NULL && !strstr(e->d_name, "-wal") &&
             !strstr(e->d_name, "-shm");
    closedir(d);
    return n;
}

static void test_garbled_header_moved_aside(void **state)
{
    struct fixture *f = *state;
    const char *problem = NULL;

    fill(f, 100);
    int fd = open(f->path, O_WRONLY);
    assert_int_equal(pwrite(fd, "this is no database at all", 26, 0), 26);
    close(fd);

    struct alarm_store *s = store_open(f);
    const char *text = alarm_store_damage(s, &problem);
    assert_non_null(text);
    assert_string_equal(problem, "damaged");
    assert_non_null(strstr(text, "\"moved_to\":"));
    assert_non_null(strstr(text, "\"continues_after\":100"));
    assert_int_equal(alarm_store_last_seq(s), 100);
    assert_int_equal(count_damaged(f), 1);
    /* the new store works and goes on above */
    submit_range(s, 101, 105, 1002, "", 1, 0, NULL);
    alarm_store_sync(s);
    assert_int_equal(f->failed, 0);
    alarm_store_close(s);
    s = store_open(f);
    assert_null(alarm_store_damage(s, &problem));
    assert_int_equal(alarm_store_last_stored(s), 105);
    alarm_store_close(s);
}

static void test_truncated_store_moved_aside(void **state)
{
    struct fixture *f = *state;
    const char *problem = NULL;
    struct stat st;

    fill(f, 3000);
    checkpoint(f);
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(truncate(f->path, st.st_size / 2), 0);
    struct alarm_store *s = store_open(f);
    assert_non_null(alarm_store_damage(s, &problem));
    assert_string_equal(problem, "damaged");
    assert_int_equal(alarm_store_last_seq(s), 3000);
    alarm_store_close(s);
}

static void test_emptied_store_continues(void **state)
{
    struct fixture *f = *state;
    const char *problem = NULL;

    fill(f, 50);
    checkpoint(f);
    assert_int_equal(truncate(f->path, 0), 0);
    struct alarm_store *s = store_open(f);
    assert_non_null(alarm_store_damage(s, &problem));
    assert_string_equal(problem, "emptied");
    assert_int_equal(alarm_store_last_seq(s), 50);
    alarm_store_close(s);
}

static void test_crash_continues_above_reservation(void **state)
{
    struct fixture *f = *state;

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* no cmocka assertion here: a failure must not run the other tests in the child */
        struct alarm_store_params p = {
            .path = f->path, .on_committed = on_committed, .userdata = f};
        struct alarm_store *s = NULL;
        if (sd_event_new(&p.event) < 0 || alarm_store_open(&p, &s) < 0)
            _exit(2);
        for (uint64_t seq = 1; seq <= 10; seq++) {
            struct alarm a = {.seq = seq,
                              .id = 1002,
                              .level = 1,
                              .type = 1,
                              .source = "t",
                              .key = "",
                              .node = "n",
                              .text = "crash",
                              .text_len = 5};
            struct alarm_record *r = alarm_record_new(&a);
            if (!r)
                _exit(3);
            alarm_store_submit(s, r);
            alarm_record_unref(r);
        }
        alarm_store_sync(s);
        _exit(f->committed == 10 ? 0 : 1); /* no close: a crash */
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    struct alarm_store *s = store_open(f);
    assert_int_equal(alarm_store_last_stored(s), 10);
    /* the first commit reserved a block ahead: the next seq is above it */
    assert_true(alarm_store_last_seq(s) > 10);
    assert_true(alarm_store_last_seq(s) >= 1 + ALARM_STORE_SEQ_BLOCK);
    alarm_store_close(s);
    /* a clean stop brings the reservation down to the last seq given */
    s = store_open(f);
    uint64_t next = alarm_store_last_seq(s) + 1;
    submit_range(s, next, next, 1002, "", 1, 0, NULL);
    alarm_store_sync(s);
    alarm_store_close(s);
    s = store_open(f);
    assert_int_equal(alarm_store_last_seq(s), next);
    alarm_store_close(s);
}

static int active_row(struct alarm_record *r, void *userdata)
{
    char *out = userdata;
    sprintf(out + strlen(out), "%s=%" PRIu64 " ", r->a.key, r->a.seq);
    return 0;
}

static void test_failed_commits_purged_at_open(void **state)
{
    struct fixture *f = *state;
    struct store_state st = STORE_STATE_INIT;
    char path[256], active[256] = "";
    bool damaged;

    struct alarm_store *s = store_open(f);
    /* what the bus decides: a RECOVER of a key that is not active changes nothing */
    submit_range(s, 1, 2, 1002, "", 2, ACTIVE_NONE, NULL);
    submit_range(s, 3, 3, 1002, "k3", 1, ACTIVE_SET, NULL);
    submit_range(s, 4, 4, 1002, "", 2, ACTIVE_NONE, NULL);
    submit_range(s, 5, 5, 1002, "k5", 1, ACTIVE_SET, NULL);
    submit_range(s, 6, 6, 1002, "k3", 2, ACTIVE_CLEAR, NULL);
    submit_range(s, 7, 7, 1002, "", 2, ACTIVE_NONE, "idem-7");
    submit_range(s, 8, 10, 1002, "", 2, ACTIVE_NONE, NULL);
    alarm_store_sync(s);
    alarm_store_close(s);
    /* As if 5..7 had been answered "not stored" and come back with the WAL. */
    snprintf(path, sizeof(path), "%s.state", f->path);
    assert_int_equal(store_state_open(&st, path, &damaged), 0);
    assert_int_equal(store_state_add_failed(&st, 5, 7), 0);
    assert_int_equal(store_state_save(&st), 0);
    store_state_close(&st);

    s = store_open(f);
    struct collected *c = calloc(1, sizeof(*c));
    read_all(s, (struct alarm_read){.cursor = 0, .bound = 10}, c);
    assert_int_equal(c->n, 7);
    assert_int_equal(c->rows[4], 8);
    assert_int_equal(c->n_ranges, 0);
    /* k5's OCCUR is gone, k3's RECOVER too: k3 is active again */
    assert_int_equal(alarm_store_read_active(s, active_row, active), 0);
    assert_string_equal(active, "k3=3 ");
    uint64_t seq = 0;
    assert_int_equal(alarm_store_find_idem(s, "tester", "idem-7", &seq), 0);
    alarm_store_close(s);
    assert_int_equal(store_state_open(&st, path, &damaged), 0);
    assert_int_equal(st.n_failed, 0);
    assert_int_equal(st.seq_mark, 10);
    store_state_close(&st);
    free(c);
}

static void test_old_store_gets_new_column(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db;
    uint64_t seq = 0;

    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "CREATE TABLE alarms(seq INTEGER PRIMARY KEY, id INTEGER NOT NULL,"
                     " level INTEGER NOT NULL, type INTEGER NOT NULL, time_us INTEGER NOT NULL,"
                     " recv_us INTEGER NOT NULL, source TEXT NOT NULL, akey TEXT NOT NULL,"
                     " node TEXT NOT NULL, origin INTEGER NOT NULL, injected INTEGER NOT NULL,"
                     " uid INTEGER NOT NULL, pid INTEGER NOT NULL, text BLOB NOT NULL);"
                     "INSERT INTO alarms VALUES(41, 1002, 1, 1, 5, 5, 'old', '', 'n', 0, 0, 0, 0,"
                     " 'from before');"
                     "PRAGMA user_version=1;",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);

    struct alarm_store *s = store_open(f);
    assert_int_equal(alarm_store_last_seq(s), 41);
    submit_range(s, 42, 42, 1002, "", 1, 0, "key-42");
    alarm_store_sync(s);
    assert_int_equal(f->failed, 0);
    assert_int_equal(alarm_store_find_idem(s, "tester", "key-42", &seq), 1);
    assert_int_equal(seq, 42);
    assert_int_equal(alarm_store_find_idem(s, "old", "key-42", &seq), 0);
    struct collected *c = calloc(1, sizeof(*c));
    read_all(s, (struct alarm_read){.cursor = 0, .bound = 42}, c);
    assert_int_equal(c->n, 2);
    alarm_store_close(s);
    free(c);
}

static void test_column_table(void **state)
{
    char names[1024], marks[1024], create[2048];

    assert_int_equal(store_columns_names(names, sizeof(names)), 0);
    assert_int_equal(store_columns_placeholders(marks, sizeof(marks)), 0);
    assert_int_equal(store_columns_create_sql(create, sizeof(create)), 0);
    assert_true(strncmp(names, "seq, ", 5) == 0); /* seq first: reads take it from column 0 */
    size_t commas = 0, marks_n = 0;
    for (const char *p = names; *p; p++)
        commas += *p == ',';
    for (const char *p = marks; *p; p++)
        marks_n += *p == '?';
    assert_int_equal(commas + 1, store_columns_count);
    assert_int_equal(marks_n, store_columns_count);
    for (size_t i = 0; i < store_columns_count; i++)
        assert_non_null(strstr(create, store_columns[i].name));
    assert_int_equal(store_columns_names(names, 8), -ENOBUFS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_damaged_page_is_skipped_and_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbled_header_moved_aside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_store_moved_aside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_emptied_store_continues, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_continues_above_reservation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_commits_purged_at_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_store_gets_new_column, setup, teardown),
        cmocka_unit_test(test_column_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
