/* postgres.c — sql_type `postgres`: libpq, sql_dsn as a libpq URI or key=value string (TARMAC.md
 * §5.4), the simple query protocol (PQexec: the text as-is, several statements allowed, the last
 * result counts), and a pool of connections shared by the worker threads.
 *
 * Connections are made lazily (as Tarmac's are): open only checks the DSN, the first failure
 * surfaces at the first call. Unless the DSN says otherwise, a connection gives up after
 * connect_timeout=5 s and runs with TimeZone=UTC and DateStyle=ISO (so times come back in one
 * known form). A call on a pooled connection that finds it broken (a restarted server) drops
 * every idle connection and runs once more on a fresh one.
 *
 * Cells (TARMAC.md §4.5): NULL → null; int2/int4/int8 → number; float4/float8 → number; bool →
 * true/false; text/varchar/"char" → string; date/timestamp/timestamptz/time/timetz → RFC 3339
 * text; bytea → base64 of the bytes; every other type → base64 of its text. Exec reports rows
 * affected and never a last insert id (PostgreSQL has none: Tarmac's 206). */
#include "backend/sql.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IDLE_MAX 16

/* Type OIDs (src/include/catalog/pg_type.dat; stable across versions). */
enum {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_CHAR = 18,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_TEXT = 25,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_VARCHAR = 1043,
    OID_DATE = 1082,
    OID_TIME = 1083,
    OID_TIMESTAMP = 1114,
    OID_TIMESTAMPTZ = 1184,
    OID_TIMETZ = 1266,
};

typedef struct {
    ap_sql base;
    char *dsn;
    pthread_mutex_t lock;
    PGconn *idle[IDLE_MAX];
    int nidle;
} pg_db;

/* libpq's messages end in a newline; keep the first line. */
static void set_pg_error(ap_errbuf *e, const char *what, const char *msg)
{
    size_t n = strcspn(msg ? msg : "", "\n");
    ap_errbuf_set(e, "postgres: %s: %.*s", what, (int)n, msg ? msg : "");
}

static ap_sql_status connect_db(pg_db *d, PGconn **out, ap_errbuf *e)
{
    /* Keywords before dbname are defaults: those in the DSN (expanded from dbname) win. */
    const char *const keys[] = {"connect_timeout", "options", "dbname", NULL};
    const char *const vals[] = {"5", "-c TimeZone=UTC -c DateStyle=ISO", d->dsn, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (!c) {
        ap_errbuf_set(e, "postgres: connect: out of memory");
        return AP_SQL_UNAVAILABLE;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        set_pg_error(e, "connect", PQerrorMessage(c));
        PQfinish(c);
        return AP_SQL_UNAVAILABLE;
    }
    *out = c;
    return AP_SQL_OK;
}

static ap_sql_status borrow(pg_db *d, PGconn **out, bool *reused, ap_errbuf *e)
{
    pthread_mutex_lock(&d->lock);
    PGconn *c = d->nidle ? d->idle[--d->nidle] : NULL;
    pthread_mutex_unlock(&d->lock);
    *reused = c != NULL;
    if (c) {
        *out = c;
        return AP_SQL_OK;
    }
    return connect_db(d, out, e);
}

/* Back to the pool, unless broken: then it and every idle connection are closed. */
static void give_back(pg_db *d, PGconn *c)
{
    PGconn *drop[IDLE_MAX + 1];
    int ndrop = 0;
    bool broken = PQstatus(c) != CONNECTION_OK;
    pthread_mutex_lock(&d->lock);
    if (broken) {
        drop[ndrop++] = c;
        while (d->nidle)
            drop[ndrop++] = d->idle[--d->nidle];
    } else if (d->nidle < IDLE_MAX && PQtransactionStatus(c) == PQTRANS_IDLE) {
        d->idle[d->nidle++] = c;
    } else {
        drop[ndrop++] = c; /* a statement left a transaction open: never hand that on */
    }
    pthread_mutex_unlock(&d->lock);
    for (int i = 0; i < ndrop; i++)
        PQfinish(drop[i]);
}

/* Runs the text; on AP_SQL_OK *res is a command or tuples result (the caller's: PQclear). */
static ap_sql_status run(pg_db *d, ap_bytes sql, PGresult **res, ap_errbuf *e)
{
    if (sql.len == 0) {
        ap_errbuf_set(e, "postgres: empty statement");
        return AP_SQL_INVALID;
    }
    char *text = malloc(sql.len + 1);
    if (!text) {
        ap_errbuf_set(e, "postgres: out of memory");
        return AP_SQL_FAILED;
    }
    memcpy(text, sql.ptr, sql.len);
    text[sql.len] = '\0';
    ap_sql_status st;
    for (int attempt = 0;; attempt++) {
        PGconn *c;
        bool reused;
        if ((st = borrow(d, &c, &reused, e)) != AP_SQL_OK)
            break;
        PGresult *r = PQexec(c, text);
        ExecStatusType rs = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
        if (rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK || rs == PGRES_EMPTY_QUERY) {
            give_back(d, c);
            *res = r;
            st = AP_SQL_OK;
            break;
        }
        bool lost = PQstatus(c) != CONNECTION_OK;
        set_pg_error(e, lost ? "connection lost" : "query",
                     r ? PQresultErrorMessage(r) : PQerrorMessage(c));
        PQclear(r);
        give_back(d, c);
        if (lost && reused && attempt == 0)
            continue;
        st = lost ? AP_SQL_UNAVAILABLE : AP_SQL_FAILED;
        break;
    }
    free(text);
    return st;
}

/* "2024-01-02 03:04:05.5+05:30" (ISO DateStyle) → "2024-01-02T03:04:05.5+05:30"; UTC → "Z";
 * a zone of hours only gains ":00"; a date gains "T00:00:00Z"; a time gets Go's year 0. */
static size_t rfc3339(Oid type, const char *v, char *out, size_t outsz)
{
    char buf[96];
    const char *date = "0000-01-01", *clock = "00:00:00", *zone = "Z";
    char d[96] = "", t[96] = "", z[96] = "";
    size_t n = strlen(v);
    if (n >= sizeof buf)
        return 0;
    memcpy(buf, v, n + 1);
    char *p = buf;
    if (type == OID_DATE || type == OID_TIMESTAMP || type == OID_TIMESTAMPTZ) {
        char *sp = strchr(p, ' ');
        if (sp)
            *sp = '\0';
        snprintf(d, sizeof d, "%s", p);
        date = d;
        p = sp ? sp + 1 : p + strlen(p);
    }
    if (type != OID_DATE && *p) {
        /* a zone starts at the first '+' or '-' after the clock */
        char *zp = strpbrk(p, "+-");
        if (zp) {
            if (strcmp(zp, "+00") == 0 || strcmp(zp, "+00:00") == 0 || strcmp(zp, "-00") == 0)
                snprintf(z, sizeof z, "Z");
            else if (strlen(zp) == 3)
                snprintf(z, sizeof z, "%s:00", zp);
            else
                snprintf(z, sizeof z, "%s", zp);
            *zp = '\0';
            zone = z;
        }
        snprintf(t, sizeof t, "%s", p);
        clock = t;
    }
    int w = snprintf(out, outsz, "%sT%s%s", date, clock, zone);
    return w > 0 && (size_t)w < outsz ? (size_t)w : 0;
}

static bool add_cell(ap_sql_rows *rows, const PGresult *r, int row, int col)
{
    ap_sql_cell cell = {.kind = AP_CELL_NULL};
    if (PQgetisnull(r, row, col))
        return ap_sql_rows_add_cell(rows, cell);
    const char *v = PQgetvalue(r, row, col);
    size_t len = (size_t)PQgetlength(r, row, col);
    char when[320];
    switch (PQftype(r, col)) {
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
        cell.kind = AP_CELL_INT;
        cell.i = strtoll(v, NULL, 10);
        return ap_sql_rows_add_cell(rows, cell);
    case OID_FLOAT4:
    case OID_FLOAT8:
        cell.kind = AP_CELL_FLOAT;
        cell.f = strtod(v, NULL); /* "NaN", "Infinity" too: cap refuses to encode them */
        return ap_sql_rows_add_cell(rows, cell);
    case OID_BOOL:
        cell.kind = AP_CELL_BOOL;
        cell.i = v[0] == 't';
        return ap_sql_rows_add_cell(rows, cell);
    case OID_TEXT:
    case OID_VARCHAR:
    case OID_CHAR:
        cell.kind = AP_CELL_TEXT;
        cell.s = (ap_bytes){(const uint8_t *)v, len};
        return ap_sql_rows_add_cell(rows, cell);
    case OID_DATE:
    case OID_TIME:
    case OID_TIMESTAMP:
    case OID_TIMESTAMPTZ:
    case OID_TIMETZ: {
        size_t n = rfc3339(PQftype(r, col), v, when, sizeof when);
        cell.kind = AP_CELL_TIME;
        cell.s = n ? (ap_bytes){(const uint8_t *)when, n} : (ap_bytes){(const uint8_t *)v, len};
        return ap_sql_rows_add_cell(rows, cell); /* infinity and the like stay as text */
    }
    case OID_BYTEA: {
        size_t n = 0;
        unsigned char *raw = PQunescapeBytea((const unsigned char *)v, &n);
        if (!raw)
            return false;
        cell.kind = AP_CELL_BASE64;
        cell.s = (ap_bytes){raw, n};
        bool ok = ap_sql_rows_add_cell(rows, cell);
        PQfreemem(raw);
        return ok;
    }
    default:
        cell.kind = AP_CELL_BASE64;
        cell.s = (ap_bytes){(const uint8_t *)v, len};
        return ap_sql_rows_add_cell(rows, cell);
    }
}

static ap_sql_status pg_query(ap_sql *db, ap_bytes sql, ap_sql_rows *out, ap_errbuf *e)
{
    PGresult *r;
    ap_sql_status st = run((pg_db *)db, sql, &r, e);
    if (st != AP_SQL_OK)
        return st;
    ap_sql_rows rows = {0};
    bool ok = true;
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
        int ncols = PQnfields(r), nrows = PQntuples(r);
        for (int c = 0; ok && c < ncols; c++)
            ok = ap_sql_rows_add_column(&rows, PQfname(r, c), strlen(PQfname(r, c)));
        for (int i = 0; ok && i < nrows; i++)
            for (int c = 0; ok && c < ncols; c++)
                ok = add_cell(&rows, r, i, c);
    }
    PQclear(r);
    if (!ok) {
        ap_sql_rows_free(&rows);
        ap_errbuf_set(e, "postgres: out of memory");
        return AP_SQL_FAILED;
    }
    ap_sql_rows_free(out); /* empty on entry */
    *out = rows;
    return AP_SQL_OK;
}

static ap_sql_status pg_exec(ap_sql *db, ap_bytes sql, ap_sql_done *out, ap_errbuf *e)
{
    PGresult *r;
    ap_sql_status st = run((pg_db *)db, sql, &r, e);
    if (st != AP_SQL_OK)
        return st;
    memset(out, 0, sizeof *out);
    out->has_rows_affected = true;
    out->rows_affected = strtoll(PQcmdTuples(r), NULL, 10); /* "" (DDL) → 0, as Go's drivers */
    snprintf(out->why_no_last_insert_id, sizeof out->why_no_last_insert_id,
             "LastInsertId is not supported by this driver");
    PQclear(r);
    return AP_SQL_OK;
}

static ap_sql_status pg_ping(ap_sql *db, ap_errbuf *e)
{
    PGresult *r;
    ap_bytes empty_stmt = {(const uint8_t *)";", 1};
    if (run((pg_db *)db, empty_stmt, &r, e) != AP_SQL_OK)
        return AP_SQL_UNAVAILABLE;
    PQclear(r);
    return AP_SQL_OK;
}

static void pg_close(ap_sql *db)
{
    pg_db *d = (pg_db *)db;
    while (d->nidle)
        PQfinish(d->idle[--d->nidle]);
    pthread_mutex_destroy(&d->lock);
    free(d->dsn);
    free(d);
}

static const ap_sql_ops pg_ops = {
    .name = "postgres",
    .query = pg_query,
    .exec = pg_exec,
    .ping = pg_ping,
    .close = pg_close,
};

/* Checks sql_dsn's syntax; connects nothing (lazy, as Tarmac). */
ap_sql_status ap_sql_postgres_open(const ap_settings *s, ap_sql **out, ap_errbuf *e)
{
    const char *dsn = s->sql_dsn ? s->sql_dsn : "";
    char *why = NULL;
    PQconninfoOption *opts = PQconninfoParse(dsn, &why);
    if (!opts) {
        set_pg_error(e, "sql_dsn", why ? why : "out of memory");
        PQfreemem(why);
        return AP_SQL_INVALID;
    }
    PQconninfoFree(opts);
    pg_db *d = calloc(1, sizeof *d);
    if (!d || !(d->dsn = strdup(dsn))) {
        free(d);
        ap_errbuf_set(e, "postgres: out of memory");
        return AP_SQL_FAILED;
    }
    pthread_mutex_init(&d->lock, NULL);
    d->base.ops = &pg_ops;
    *out = &d->base;
    return AP_SQL_OK;
}
