/* store_state.h: the small file beside the alarm store that outlives it (`<store>.state`): the
 * highest seq that may have been given to an alarm, and the seqs whose commit failed.
 *
 * seq_mark is a reservation: the store's writer raises it, durably (fdatasync), before it
 * commits an alarm above it, in blocks, so that after a crash, and even when the database is
 * lost or damaged, sentryd continues above every seq it ever gave; a clean stop lowers it to the
 * last seq given, so seqs jump only after a crash. failed lists the seqs that were answered "not
 * stored": SQLite can fail a commit after it wrote the transaction to the WAL (the WAL index
 * could not grow on a full disk), and such a transaction would reappear when the WAL is
 * recovered at the next start; the store deletes the rows of these seqs before it serves
 * anything, so that an error answer always means "not stored".
 *
 * The file holds two copies (slots) of the state, each a line of text with a generation and a
 * checksum, written in turn and in place: a torn write spoils one copy only (the other is the
 * previous state, still a valid bound), and a write in place needs no new disk space, so the
 * state can be kept on a full file system. `cat` shows it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_STATE_FAILED_MAX 8   /* failed ranges kept at most */
#define STORE_STATE_SLOT_SIZE  512 /* bytes per copy; two copies */

struct seq_range {
    uint64_t first, last;
};

struct store_state {
    int fd;              /* -EBADF when closed */
    uint64_t generation; /* of the newest copy */
    uint64_t seq_mark;   /* every seq ever given is <= seq_mark */
    size_t n_failed;
    struct seq_range failed[STORE_STATE_FAILED_MAX];
};

#define STORE_STATE_INIT \
    {                    \
        .fd = -EBADF     \
    }

/* Opens (or creates, with room for both copies) the state file and reads the newest valid copy.
 * A file whose copies are both unreadable gives an empty state and *damaged = true. -errno (the
 * state is then closed and empty). */
int store_state_open(struct store_state *st, const char *path, bool *damaged);
/* Writes the state over the older copy and flushes it to disk. -errno. */
int store_state_save(struct store_state *st);
void store_state_close(struct store_state *st);
static inline bool store_state_is_open(const struct store_state *st)
{
    return st->fd >= 0;
}

/* Adds first..last to the failed ranges (joined to the last range when they touch). -ENOSPC when
 * STORE_STATE_FAILED_MAX ranges are kept already. Not saved. */
int store_state_add_failed(struct store_state *st, uint64_t first, uint64_t last);

/* The text of one copy (for tests): a line ending in '\n', at most size bytes with its NUL.
 * -ENOBUFS. */
int store_state_format(const struct store_state *st, uint64_t generation, char *buf, size_t size);
/* Reads one copy; -EBADMSG when it is not a valid one. */
int store_state_parse(const char *text, size_t len, struct store_state *st, uint64_t *generation);
