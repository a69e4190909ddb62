/* alarm_store_columns.h: the columns of the store's `alarms` table, declared once.
 *
 * The table's schema, the column list of every SELECT and of the INSERT, binding an alarm to the
 * INSERT and reading a row back into a struct alarm all come from store_columns[]: adding a
 * column is one entry there (and its member in struct alarm). A store made before a column
 * existed gets it with ALTER TABLE when it is opened, so a column added later must allow NULL or
 * carry a DEFAULT. */
#pragma once

#include <stddef.h>

#include <sqlite3.h>

#include "alarm.h"

enum store_column_kind {
    STORE_COLUMN_U64,          /* uint64_t */
    STORE_COLUMN_U32,          /* uint32_t */
    STORE_COLUMN_U16,          /* uint16_t */
    STORE_COLUMN_U8,           /* uint8_t */
    STORE_COLUMN_BOOL,         /* bool */
    STORE_COLUMN_TEXT,         /* const char *, never NULL */
    STORE_COLUMN_TEXT_OR_NULL, /* const char *, NULL when absent */
    STORE_COLUMN_BLOB,         /* const char * and its size_t length (len_offset) */
};

struct store_column {
    const char *name;
    const char *decl; /* SQL type and constraints */
    enum store_column_kind kind;
    size_t offset;     /* of the member in struct alarm */
    size_t len_offset; /* STORE_COLUMN_BLOB: of its length */
};

extern const struct store_column store_columns[];
extern const size_t store_columns_count;

/* "CREATE TABLE IF NOT EXISTS alarms(seq INTEGER PRIMARY KEY, ...)". -ENOBUFS when it does not
 * fit. */
int store_columns_create_sql(char *buf, size_t size);
/* "seq, id, level, ..." (for SELECT and INSERT). -ENOBUFS. */
int store_columns_names(char *buf, size_t size);
/* "?,?,?,..." as many as there are columns. -ENOBUFS. */
int store_columns_placeholders(char *buf, size_t size);

/* Binds the alarm's members to the parameters first..first+count-1. SQLite error code. The
 * strings are bound SQLITE_STATIC: the alarm must outlive the statement's step. */
int store_columns_bind(sqlite3_stmt *st, int first, const struct alarm *a);
/* Reads columns first..first+count-1 of the current row into *a (strings point into the
 * statement's row: valid until it steps or resets). -EBADMSG when a column that is never NULL
 * is (a damaged row). */
int store_columns_read(sqlite3_stmt *st, int first, struct alarm *a);

/* Adds the columns an older store lacks (ALTER TABLE ... ADD COLUMN). SQLite error code; the
 * message is in sqlite3_errmsg(db). */
int store_columns_migrate(sqlite3 *db);
