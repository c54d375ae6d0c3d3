/* sql.h — the SQL seam: the sql capability (src/cap/sql.c) sees nothing else. cap → [backend].
 * One ops table per back end (sql/sqlite.c, sql/postgres.c, sql/mysql.c), one table in sql.c
 * mapping `sql_type` to a constructor (STYLE.md §2.5).
 *
 * Rows come back as typed cells; the back end chooses each cell's JSON mapping (TARMAC.md §4.5):
 *   MySQL:    NULL → AP_CELL_NULL, everything else AP_CELL_BASE64 of the textual value
 *             (DATE/DATETIME/TIMESTAMP → AP_CELL_TIME with parseTime=true in the DSN);
 *   Postgres: int2/4/8 → INT, float4/8 → FLOAT, bool → BOOL, text/varchar/"char" → TEXT,
 *             date/timestamp[tz]/time[tz] → TIME (RFC 3339 text), bytea → BASE64 of the raw
 *             bytes, any other type → BASE64 of the textual value;
 *   SQLite:   the Postgres mapping by storage class: INTEGER → INT, REAL → FLOAT, TEXT → TEXT,
 *             BLOB → BASE64, NULL → NULL.
 * src/cap/sql.c turns them into Tarmac's JSON (sorted keys, zero rows → null).
 *
 * Threads: query/exec may run on many worker threads at once on the same ap_sql (a back end
 * keeps a connection per thread or a pool). Errors as kv.h: a status, outputs untouched unless
 * AP_SQL_OK, the library's words in the caller's ap_errbuf; Tarmac's texts live in src/cap/. */
#ifndef AP_BACKEND_SQL_H
#define AP_BACKEND_SQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/errbuf.h"
#include "config/config.h"

typedef enum {
    AP_SQL_OK = 0,
    AP_SQL_INVALID,     /* empty statement */
    AP_SQL_FAILED,      /* the database rejected the statement (syntax, constraint, ...) */
    AP_SQL_UNAVAILABLE, /* cannot reach the database, timeout, busy beyond the timeout */
} ap_sql_status;

typedef enum {
    AP_CELL_NULL,   /* JSON null */
    AP_CELL_INT,    /* i, a JSON number */
    AP_CELL_FLOAT,  /* f, a JSON number (NaN/Inf make the encoding fail, as in Go) */
    AP_CELL_BOOL,   /* i != 0 */
    AP_CELL_TEXT,   /* s, a JSON string (escaped, invalid UTF-8 → U+FFFD) */
    AP_CELL_TIME,   /* s, RFC 3339 text written by the back end, a JSON string */
    AP_CELL_BASE64, /* s, raw bytes, a JSON string of their standard base64 */
} ap_cell_kind;

typedef struct {
    ap_cell_kind kind;
    int64_t i;
    double f;
    ap_bytes s;
} ap_sql_cell;

/* A result set: column names in result order, then rows of ncols cells each (row-major). Owns
 * every byte it points at (cells' s live in its own blocks, which never move). Build it with
 * the functions below; zero-initialised is empty. */
typedef struct ap_sql_block ap_sql_block;
typedef struct {
    ap_bytes *columns;
    size_t ncols;
    ap_sql_cell *cells; /* nrows * ncols */
    size_t nrows;
    size_t ncells, cap_cells, cap_cols;
    ap_sql_block *blocks;
} ap_sql_rows;

bool ap_sql_rows_add_column(ap_sql_rows *r, const void *name, size_t len); /* false on OOM */
/* Appends one cell to the current row (a row is complete after ncols cells); copies c.s. */
bool ap_sql_rows_add_cell(ap_sql_rows *r, ap_sql_cell c);
void ap_sql_rows_free(ap_sql_rows *r); /* back to empty */

/* What an exec reports. A has_ flag is false when the driver cannot tell; `why_no_*` then
 * holds the driver's reason (Postgres: no last insert id, ever; cap turns it into 206). */
typedef struct {
    bool has_rows_affected, has_last_insert_id;
    int64_t rows_affected, last_insert_id;
    char why_no_rows_affected[128], why_no_last_insert_id[128];
} ap_sql_done;

typedef struct ap_sql ap_sql;

typedef struct {
    const char *name; /* "sqlite", "postgres", "mysql" */
    /* Runs the text as-is (no parameters; any statement) and collects every row into `out`
     * (the caller's, empty on entry). A statement without a result set gives 0 columns. */
    ap_sql_status (*query)(ap_sql *db, ap_bytes sql, ap_sql_rows *out, ap_errbuf *e);
    /* Runs the text as-is and reports rows affected / last insert id. */
    ap_sql_status (*exec)(ap_sql *db, ap_bytes sql, ap_sql_done *out, ap_errbuf *e);
    /* Health for /ready: AP_SQL_OK or AP_SQL_UNAVAILABLE, within about a second. */
    ap_sql_status (*ping)(ap_sql *db, ap_errbuf *e);
    void (*close)(ap_sql *db); /* no op may be running */
} ap_sql_ops;

struct ap_sql {
    const ap_sql_ops *ops; /* first member of each back end */
};

static inline ap_sql_status ap_sql_query(ap_sql *db, ap_bytes sql, ap_sql_rows *out, ap_errbuf *e)
{
    return db->ops->query(db, sql, out, e);
}
static inline ap_sql_status ap_sql_exec(ap_sql *db, ap_bytes sql, ap_sql_done *out, ap_errbuf *e)
{
    return db->ops->exec(db, sql, out, e);
}
static inline ap_sql_status ap_sql_ping(ap_sql *db, ap_errbuf *e)
{
    return db->ops->ping(db, e);
}
static inline void ap_sql_close(ap_sql *db) /* NULL is a no-op */
{
    if (db)
        db->ops->close(db);
}

/* Constructors, as kv.h: settings in, *out on AP_SQL_OK only. Network back ends may connect
 * lazily (Tarmac does: the first failure surfaces at the first callback). */
typedef ap_sql_status (*ap_sql_open_fn)(const ap_settings *s, ap_sql **out, ap_errbuf *e);

/* SQLite: sql_dsn is the database file (or a "file:" URI); "" → /data/tarmac/tarmac.sqlite3.
 * WAL journal, busy timeout sqlite_busy_timeout_ms. */
ap_sql_status ap_sql_sqlite_open(const ap_settings *s, ap_sql **out, ap_errbuf *e);
ap_sql_status ap_sql_postgres_open(const ap_settings *s, ap_sql **out, ap_errbuf *e);
ap_sql_status ap_sql_mysql_open(const ap_settings *s, ap_sql **out, ap_errbuf *e);

/* Opens the back end named by s->sql_type: "sqlite" (and "" — the default), "postgres",
 * "mysql". Unknown names → AP_SQL_INVALID naming the accepted ones. */
ap_sql_status ap_sql_open(const ap_settings *s, ap_sql **out, ap_errbuf *e);

#endif
