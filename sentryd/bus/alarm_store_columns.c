/* alarm_store_columns.c: see alarm_store_columns.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alarm_store_columns.h"
#include "macro.h"

#define COLUMN(n, d, k, member)                                                         \
    {                                                                                   \
        .name = (n), .decl = (d), .kind = (k), .offset = offsetof(struct alarm, member) \
    }

const struct store_column store_columns[] = {
    COLUMN("seq", "INTEGER PRIMARY KEY", STORE_COLUMN_U64, seq),
    COLUMN("id", "INTEGER NOT NULL", STORE_COLUMN_U16, id),
    COLUMN("level", "INTEGER NOT NULL", STORE_COLUMN_U8, level),
    COLUMN("type", "INTEGER NOT NULL", STORE_COLUMN_U8, type),
    COLUMN("time_us", "INTEGER NOT NULL", STORE_COLUMN_U64, time_us),
    COLUMN("recv_us", "INTEGER NOT NULL", STORE_COLUMN_U64, recv_us),
    COLUMN("source", "TEXT NOT NULL", STORE_COLUMN_TEXT, source),
    COLUMN("akey", "TEXT NOT NULL", STORE_COLUMN_TEXT, key),
    COLUMN("node", "TEXT NOT NULL", STORE_COLUMN_TEXT, node),
    COLUMN("origin", "INTEGER NOT NULL", STORE_COLUMN_U8, origin),
    COLUMN("injected", "INTEGER NOT NULL", STORE_COLUMN_BOOL, injected),
    COLUMN("uid", "INTEGER NOT NULL", STORE_COLUMN_U32, uid),
    COLUMN("pid", "INTEGER NOT NULL", STORE_COLUMN_U32, pid),
    {.name = "text",
     .decl = "BLOB NOT NULL",
     .kind = STORE_COLUMN_BLOB,
     .offset = offsetof(struct alarm, text),
     .len_offset = offsetof(struct alarm, text_len)},
    /* added after the first release: NULL in older rows */
    COLUMN("idem", "TEXT", STORE_COLUMN_TEXT_OR_NULL, idem),
};
const size_t store_columns_count = ELEMENTSOF(store_columns);

/* Appends to buf at *at; -ENOBUFS when it does not fit. */
_printf_(4, 5) static int append(char *buf, size_t size, size_t *at, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(buf + *at, size - *at, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t) n >= size - *at)
        return -ENOBUFS;
    *at += (size_t) n;
    return 0;
}

int store_columns_create_sql(char *buf, size_t size)
{
    size_t at = 0;
    int r = append(buf, size, &at, "CREATE TABLE IF NOT EXISTS alarms(");

    for (size_t i = 0; i < store_columns_count && r >= 0; i++)
        r = append(buf, size, &at, "%s%s %s", i ? ", " : "", store_columns[i].name,
                   store_columns[i].decl);
    return r < 0 ? r : append(buf, size, &at, ")");
}

int store_columns_names(char *buf, size_t size)
{
    size_t at = 0;
    int r = 0;

    buf[0] = 0;
    for (size_t i = 0; i < store_columns_count && r >= 0; i++)
        r = append(buf, size, &at, "%s%s", i ? ", " : "", store_columns[i].name);
    return r;
}

int store_columns_placeholders(char *buf, size_t size)
{
    size_t at = 0;
    int r = 0;

    buf[0] = 0;
    for (size_t i = 0; i < store_columns_count && r >= 0; i++)
        r = append(buf, size, &at, "%s?", i ? "," : "");
    return r;
}

int store_columns_bind(sqlite3_stmt *st, int first, const struct alarm *a)
{
    const char *base = (const char *) a;
    int rc = SQLITE_OK;

    for (size_t i = 0; i < store_columns_count && rc == SQLITE_OK; i++) {
        const struct store_column *c = &store_columns[i];
        const void *m = base + c->offset;
        int k = first + (int) i;
        switch (c->kind) {
        case STORE_COLUMN_U64:
            rc = sqlite3_bind_int64(st, k, (sqlite3_int64) * (const uint64_t *) m);
            break;
        case STORE_COLUMN_U32:
            rc = sqlite3_bind_int64(st, k, *(const uint32_t *) m);
            break;
        case STORE_COLUMN_U16:
            rc = sqlite3_bind_int(st, k, *(const uint16_t *) m);
            break;
        case STORE_COLUMN_U8:
            rc = sqlite3_bind_int(st, k, *(const uint8_t *) m);
            break;
        case STORE_COLUMN_BOOL:
            rc = sqlite3_bind_int(st, k, *(const bool *) m);
            break;
        case STORE_COLUMN_TEXT:
        case STORE_COLUMN_TEXT_OR_NULL: {
            const char *s = *(const char *const *) m;
            rc = s ? sqlite3_bind_text(st, k, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, k);
            break;
        }
        case STORE_COLUMN_BLOB:
            rc = sqlite3_bind_blob(st, k, *(const char *const *) m,
                                   (int) *(const size_t *) (base + c->len_offset), SQLITE_STATIC);
            break;
        }
    }
    return rc;
}

int store_columns_read(sqlite3_stmt *st, int first, struct alarm *a)
{
    char *base = (char *) a;

    for (size_t i = 0; i < store_columns_count; i++) {
        const struct store_column *c = &store_columns[i];
        void *m = base + c->offset;
        int k = first + (int) i;
        switch (c->kind) {
        case STORE_COLUMN_U64:
            *(uint64_t *) m = (uint64_t) sqlite3_column_int64(st, k);
            break;
        case STORE_COLUMN_U32:
            *(uint32_t *) m = (uint32_t) sqlite3_column_int64(st, k);
            break;
        case STORE_COLUMN_U16:
            *(uint16_t *) m = (uint16_t) sqlite3_column_int(st, k);
            break;
        case STORE_COLUMN_U8:
            *(uint8_t *) m = (uint8_t) sqlite3_column_int(st, k);
            break;
        case STORE_COLUMN_BOOL:
            *(bool *) m = sqlite3_column_int(st, k) != 0;
            break;
        case STORE_COLUMN_TEXT:
        case STORE_COLUMN_TEXT_OR_NULL: {
            const char *s = (const char *) sqlite3_column_text(st, k);
            if (!s && c->kind == STORE_COLUMN_TEXT)
                return -EBADMSG;
            *(const char **) m = s;
            break;
        }
        case STORE_COLUMN_BLOB: {
            const char *b = sqlite3_column_blob(st, k);
            *(size_t *) (base + c->len_offset) = (size_t) sqlite3_column_bytes(st, k);
            *(const char **) m = b ? b : "";
            break;
        }
        }
    }
    return 0;
}

int store_columns_migrate(sqlite3 *db)
{
    bool present[ELEMENTSOF(store_columns)] = {false};
    sqlite3_stmt *st = NULL;
    int rc;

    rc = sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info('alarms')", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *) sqlite3_column_text(st, 0);
        for (size_t i = 0; name && i < store_columns_count; i++)
            if (streq(name, store_columns[i].name))
                present[i] = true;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return rc;
    for (size_t i = 0; i < store_columns_count; i++) {
        char sql[256];
        if (present[i])
            continue;
        snprintf(sql, sizeof(sql), "ALTER TABLE alarms ADD COLUMN %s %s", store_columns[i].name,
                 store_columns[i].decl);
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            return rc;
    }
    return SQLITE_OK;
}
