/* store_files.h: the alarm store's files on disk as a set: the database and SQLite's companions
 * (`-wal`, `-shm`, `-journal`), moved aside together when the database cannot be used, so that
 * a fresh store can start in its place while the damaged one is kept for an operator (it opens
 * with the sqlite3 tool, its WAL included). */
#pragma once

#include <time.h>

/* Renames path and its companions to `<path>.damaged-<UTC time>[-N]` (and that name's -wal,
 * -shm, -journal), then flushes the directory. *ret gets the new name of the database file
 * (malloc'ed). -errno; companions that do not exist are fine. */
int store_files_move_aside(const char *path, time_t now, char **ret);

/* The path of the state file beside the database (malloc'ed; NULL on ENOMEM). */
char *store_files_state_path(const char *path);
