/* sqlite.c — sql_type `sqlite` (the default): one database file, WAL journal, a busy timeout,
 * and a small pool of connections so worker threads query in parallel (WAL lets readers run
 * beside the one writer).
 *
 * Rows follow the PostgreSQL mapping of TARMAC.md §4.5 by storage class: INTEGER → number,
 * REAL → number, TEXT → string, BLOB → base64, NULL → null; an INTEGER in a column declared
 * BOOL/BOOLEAN → true/false. Several statements in one text run in order; a query returns the
 * rows of the last statement that has result columns. */
#include "backend/sql.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define POOL_MAX 32 /* idle connections kept; more are opened on demand and closed after use */

typedef struct {
    ap_sql base;
    char *path;
    int busy_ms;
    pthread_mutex_t lock;
    sqlite3 *idle[POOL_MAX];
    int nidle;
} sqlite_db;

static ap_sql_status status_of(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_NOMEM:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return AP_SQL_UNAVAILABLE;
    default:
        return AP_SQL_FAILED;
    }
}

static ap_sql_status connect_db(sqlite_db *d, sqlite3 **out, ap_errbuf *e)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(d->path, &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                                 SQLITE_OPEN_URI,
                             NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, d->busy_ms);
        rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;", NULL, NULL,
                          NULL);
    }
    if (rc != SQLITE_OK) {
        ap_errbuf_set(e, "sqlite: open %s: %s", d->path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return status_of(rc) == AP_SQL_FAILED ? AP_SQL_UNAVAILABLE : status_of(rc);
    }
    *out = db;
    return AP_SQL_OK;
}

static ap_sql_status borrow(sqlite_db *d, sqlite3 **out, ap_errbuf *e)
{
    pthread_mutex_lock(&d->lock);
    sqlite3 *db = d->nidle ? d->idle[--d->nidle] : NULL;
    pthread_mutex_unlock(&d->lock);
    if (db) {
        *out = db;
        return AP_SQL_OK;
    }
    return connect_db(d, out, e);
}

static void give_back(sqlite_db *d, sqlite3 *db)
{
    pthread_mutex_lock(&d->lock);
    if (d->nidle < POOL_MAX) {
        d->idle[d->nidle++] = db;
        db = NULL;
    }
    pthread_mutex_unlock(&d->lock);
    sqlite3_close(db);
}

static bool declared_bool(sqlite3_stmt *st, int col)
{
    const char *t = sqlite3_column_decltype(st, col);
    return t && (strcasecmp(t, "BOOL") == 0 || strcasecmp(t, "BOOLEAN") == 0);
}

static bool add_row(ap_sql_rows *r, sqlite3_stmt *st, int ncols)
{
    for (int c = 0; c < ncols; c++) {
        ap_sql_cell cell = {.kind = AP_CELL_NULL};
        switch (sqlite3_column_type(st, c)) {
        case SQLITE_INTEGER:
            cell.i = sqlite3_column_int64(st, c);
            cell.kind = declared_bool(st, c) ? AP_CELL_BOOL : AP_CELL_INT;
            break;
        case SQLITE_FLOAT:
            cell.kind = AP_CELL_FLOAT;
            cell.f = sqlite3_column_double(st, c);
            break;
        case SQLITE_TEXT:
            cell.kind = AP_CELL_TEXT;
            cell.s.ptr = sqlite3_column_text(st, c);
            cell.s.len = (size_t)sqlite3_column_bytes(st, c);
            break;
        case SQLITE_BLOB:
            cell.kind = AP_CELL_BASE64;
            cell.s.ptr = sqlite3_column_blob(st, c);
            cell.s.len = (size_t)sqlite3_column_bytes(st, c);
            break;
        default:
            break;
        }
        if (!ap_sql_rows_add_cell(r, cell))
            return false;
    }
    return true;
}

/* Runs every statement of `sql`; with rows != NULL collects the last result set. */
static ap_sql_status run(sqlite3 *db, ap_bytes sql, ap_sql_rows *rows, ap_errbuf *e)
{
    const char *p = (const char *)sql.ptr, *end = p + sql.len;
    while (p < end) {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        int rc = sqlite3_prepare_v2(db, p, (int)(end - p), &st, &tail);
        if (rc != SQLITE_OK) {
            ap_errbuf_set(e, "%s", sqlite3_errmsg(db));
            return status_of(rc);
        }
        /* SQLite reads up to a NUL byte and leaves tail on it: the rest is ignored, as with the
         * C string go-sqlite3 passes (found by fuzz-cap: "SELECT 1\0x" looped for ever here) */
        p = tail && tail > p ? tail : end;
        if (!st) /* white space or a comment */
            continue;
        int ncols = sqlite3_column_count(st);
        if (rows && ncols > 0) {
            ap_sql_rows_free(rows);
            for (int c = 0; c < ncols; c++) {
                const char *name = sqlite3_column_name(st, c);
                if (!name || !ap_sql_rows_add_column(rows, name, strlen(name))) {
                    sqlite3_finalize(st);
                    ap_errbuf_set(e, "out of memory");
                    return AP_SQL_FAILED;
                }
            }
        }
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (rows && ncols > 0 && !add_row(rows, st, ncols)) {
                sqlite3_finalize(st);
                ap_errbuf_set(e, "out of memory");
                return AP_SQL_FAILED;
            }
        }
        if (rc != SQLITE_DONE) {
            ap_errbuf_set(e, "%s", sqlite3_errmsg(db));
            sqlite3_finalize(st);
            return status_of(rc);
        }
        sqlite3_finalize(st);
    }
    return AP_SQL_OK;
}

static ap_sql_status check_text(ap_bytes sql, ap_errbuf *e)
{
    if (sql.len == 0) {
        ap_errbuf_set(e, "empty statement");
        return AP_SQL_INVALID;
    }
    if (sql.len > (size_t)0x7fffffff) {
        ap_errbuf_set(e, "statement too long");
        return AP_SQL_INVALID;
    }
    return AP_SQL_OK;
}

static ap_sql_status sqlite_query(ap_sql *s, ap_bytes sql, ap_sql_rows *out, ap_errbuf *e)
{
    sqlite_db *d = (sqlite_db *)s;
    sqlite3 *db;
    ap_sql_status st = check_text(sql, e);
    if (st != AP_SQL_OK || (st = borrow(d, &db, e)) != AP_SQL_OK)
        return st;
    ap_sql_rows rows = {0};
    st = run(db, sql, &rows, e);
    if (st != AP_SQL_OK && !sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL); /* never lend a connection mid-txn */
    give_back(d, db);
    if (st != AP_SQL_OK) {
        ap_sql_rows_free(&rows);
        return st;
    }
    ap_sql_rows_free(out);
    *out = rows;
    return AP_SQL_OK;
}

static ap_sql_status sqlite_exec(ap_sql *s, ap_bytes sql, ap_sql_done *out, ap_errbuf *e)
{
    sqlite_db *d = (sqlite_db *)s;
    sqlite3 *db;
    ap_sql_status st = check_text(sql, e);
    if (st != AP_SQL_OK || (st = borrow(d, &db, e)) != AP_SQL_OK)
        return st;
    /* last_insert_rowid is per connection: clear it so a non-INSERT reports 0, as MySQL does */
    sqlite3_set_last_insert_rowid(db, 0);
    sqlite3_int64 before = sqlite3_total_changes64(db);
    st = run(db, sql, NULL, e);
    if (st == AP_SQL_OK) {
        memset(out, 0, sizeof *out);
        out->has_rows_affected = out->has_last_insert_id = true;
        /* changes() keeps the last INSERT/UPDATE/DELETE's count across DDL; total_changes
         * tells whether this text changed anything at all */
        out->rows_affected = sqlite3_total_changes64(db) == before ? 0 : sqlite3_changes64(db);
        out->last_insert_id = sqlite3_last_insert_rowid(db);
    } else if (!sqlite3_get_autocommit(db)) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }
    give_back(d, db);
    return st;
}

static ap_sql_status sqlite_ping(ap_sql *s, ap_errbuf *e)
{
    sqlite_db *d = (sqlite_db *)s;
    sqlite3 *db;
    ap_sql_status st = borrow(d, &db, e);
    if (st != AP_SQL_OK)
        return AP_SQL_UNAVAILABLE;
    int rc = sqlite3_exec(db, "SELECT 1", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        ap_errbuf_set(e, "sqlite: %s", sqlite3_errmsg(db));
        st = AP_SQL_UNAVAILABLE;
    }
    give_back(d, db);
    return st;
}

static void sqlite_close(ap_sql *s)
{
    sqlite_db *d = (sqlite_db *)s;
    for (int i = 0; i < d->nidle; i++)
        sqlite3_close(d->idle[i]);
    pthread_mutex_destroy(&d->lock);
    free(d->path);
    free(d);
}

static const ap_sql_ops sqlite_ops = {
    .name = "sqlite",
    .query = sqlite_query,
    .exec = sqlite_exec,
    .ping = sqlite_ping,
    .close = sqlite_close,
};

ap_sql_status ap_sql_sqlite_open(const ap_settings *s, ap_sql **out, ap_errbuf *e)
{
    const char *path = s->sql_dsn && *s->sql_dsn ? s->sql_dsn : "/data/tarmac/tarmac.sqlite3";
    sqlite_db *d = calloc(1, sizeof *d);
    if (!d || !(d->path = strdup(path)) || pthread_mutex_init(&d->lock, NULL) != 0) {
        if (d)
            free(d->path);
        free(d);
        ap_errbuf_set(e, "sqlite: out of memory");
        return AP_SQL_FAILED;
    }
    d->busy_ms = s->sqlite_busy_timeout_ms < 0           ? 0
                 : s->sqlite_busy_timeout_ms > 3600000 ? 3600000
                                                        : (int)s->sqlite_busy_timeout_ms;
    d->base.ops = &sqlite_ops;
    /* open one connection now: a wrong path fails at start-up, not at the first call */
    sqlite3 *db;
    ap_sql_status st = connect_db(d, &db, e);
    if (st != AP_SQL_OK) {
        sqlite_close(&d->base);
        return st;
    }
    give_back(d, db);
    *out = &d->base;
    return AP_SQL_OK;
}
