/* test_sql.c — tarmac:sql:query/exec (TARMAC.md §4.5) through the registry on a SQLite file:
 * the result JSON (sorted keys, duplicate names, zero rows → null, the PostgreSQL-like cell
 * mapping), every status of both paths incl. the JSON path's overwrite order, exec's 206 from a
 * back end without insert ids, and undecodable exec input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static ap_sql *db;
static char path[64];

static int setup(void **state)
{
    ap_settings s;
    ap_errbuf e;
    ap_settings_defaults(&s);
    snprintf(path, sizeof path, "/tmp/apron-test-sql-%d.db", (int)getpid());
    unlink(path);
    free(s.sql_dsn);
    s.sql_dsn = strdup(path);
    int rc = ap_sql_sqlite_open(&s, &db, &e) == AP_SQL_OK ? 0 : -1;
    ap_settings_free(&s);
    harness *h = malloc(sizeof *h);
    h_open(h, NULL, db, NULL);
    *state = h;
    return rc;
}

static int teardown(void **state)
{
    h_close(*state);
    free(*state);
    ap_sql_close(db);
    char p[80];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
    return 0;
}

/* SQLQuery/SQLExec {query: sql} */
static ap_bytes pbq(ap_buf *b, const char *sql)
{
    ap_buf_reset(b);
    ap_pb_put_len(b, 1, sql, strlen(sql));
    return (ap_bytes){b->data, b->len};
}

/* {"query":"<base64>"} */
static ap_bytes jsq(ap_buf *b, const char *sql)
{
    ap_buf_reset(b);
    ap_buf_append_str(b, "{\"query\":\"");
    ap_b64_encode(b, sql, strlen(sql));
    ap_buf_append_str(b, "\"}");
    return (ap_bytes){b->data, b->len};
}

/* The data field (5) of a protobuf SQLQueryResponse, as text. */
static void pb_data(harness *h, char *out, size_t n)
{
    const uint8_t *p = h->resp.data, *end = p + h->resp.len;
    out[0] = 0;
    while (p < end) {
        uint8_t tag = *p++;
        size_t len = *p++; /* test rows are short: one-byte lengths */
        if (len & 0x80)
            len = (len & 0x7f) | (size_t)(*p++) << 7;
        if (tag == 0x2a) {
            snprintf(out, n, "%.*s", (int)len, (const char *)p);
            return;
        }
        p += len;
    }
}

static void exec_and_query(void **state)
{
    harness *h = *state;
    ap_buf q = {0};
    char data[512];
    assert_int_equal(TCALL(h, "sql", "exec",
                           pbq(&q, "CREATE TABLE t (id INTEGER, name TEXT, score REAL, pic BLOB, "
                                   "ok BOOLEAN, nada TEXT)")),
                     AP_WAPC_HOST_OK);
    assert_resp(h, "\x0a\x07\x08\xc8\x01\x12\x02OK"); /* no rows, no insert id: omitted */
    assert_int_equal(TCALL(h, "sql", "exec",
                           pbq(&q, "INSERT INTO t VALUES (1, 'John Smith', 1.5, x'00ff', 1, "
                                   "NULL), (2, '<b>', 2, x'', 0, NULL)")),
                     AP_WAPC_HOST_OK);
    assert_resp(h, "\x0a\x07\x08\xc8\x01\x12\x02OK\x10\x02\x18\x02"); /* last id 2, 2 rows */
    assert_int_equal(TCALL(h, "sql", "exec", pbq(&q, "UPDATE t SET score = 3 WHERE id = 2")),
                     AP_WAPC_HOST_OK);
    assert_resp(h, "\x0a\x07\x08\xc8\x01\x12\x02OK\x18\x01"); /* an UPDATE has no insert id */
    /* protobuf query: columns in result order, data = result JSON with sorted keys */
    assert_int_equal(TCALL(h, "sql", "query", pbq(&q, "SELECT * FROM t ORDER BY id")),
                     AP_WAPC_HOST_OK);
    assert_memory_equal(h->resp.data, "\x0a\x07\x08\xc8\x01\x12\x02OK\x22\x02id\x22\x04name", 19);
    pb_data(h, data, sizeof data);
    assert_string_equal(data, "[{\"id\":1,\"nada\":null,\"name\":\"John Smith\",\"ok\":true,"
                              "\"pic\":\"AP8=\",\"score\":1.5},{\"id\":2,\"nada\":null,\"name\":"
                              "\"\\u003cb\\u003e\",\"ok\":false,\"pic\":\"\",\"score\":3}]");
    /* JSON query: data is base64 of the same text */
    assert_int_equal(TCALL(h, "sql", "query", jsq(&q, "SELECT id, name FROM t WHERE id = 1")),
                     AP_WAPC_HOST_OK);
    /* [{"id":1,"name":"John Smith"}] */
    assert_resp_str(h, "{\"status\":{\"code\":200,\"status\":\"OK\"},\"data\":"
                       "\"W3siaWQiOjEsIm5hbWUiOiJKb2huIFNtaXRoIn1d\"}");
    /* zero rows → null, both paths */
    assert_int_equal(TCALL(h, "sql", "query", jsq(&q, "SELECT * FROM t WHERE id = 99")),
                     AP_WAPC_HOST_OK);
    assert_resp_str(h, "{\"status\":{\"code\":200,\"status\":\"OK\"},\"data\":\"bnVsbA==\"}");
    assert_int_equal(TCALL(h, "sql", "query", pbq(&q, "DELETE FROM t WHERE id = 99")),
                     AP_WAPC_HOST_OK);
    pb_data(h, data, sizeof data);
    assert_string_equal(data, "null");
    /* duplicate column names collapse, the last one wins */
    assert_int_equal(TCALL(h, "sql", "query", pbq(&q, "SELECT 1 AS a, 2 AS b, 3 AS a")),
                     AP_WAPC_HOST_OK);
    pb_data(h, data, sizeof data);
    assert_string_equal(data, "[{\"a\":3,\"b\":2}]");
    /* Inf cannot be encoded (Go's json: unsupported value) */
    assert_int_equal(TCALL(h, "sql", "query", pbq(&q, "SELECT 1e999 AS x")), AP_WAPC_HOST_ERROR);
    assert_err(h, "Unable to convert query results to JSON - json: unsupported value: +Inf");
    ap_buf_free(&q);
}

static void query_errors(void **state)
{
    harness *h = *state;
    ap_buf q = {0};
    char data[256];
    /* 400 protobuf: empty query (an empty payload decodes) */
    assert_int_equal(TCALL(h, "sql", "query", (ap_bytes){0}), AP_WAPC_HOST_ERROR);
    assert_err(h, "SQL Query must be defined");
    pb_data(h, data, sizeof data);
    assert_string_equal(data, "null");
    /* 500: execution error */
    assert_int_equal(TCALL(h, "sql", "query", pbq(&q, "SELECT * FROM missing")), AP_WAPC_HOST_ERROR);
    assert_err(h, "Unable to execute query - unable to execute query - no such table: missing");
    assert_int_equal(TCALL(h, "sql", "query", jsq(&q, "SELEC 1")), AP_WAPC_HOST_ERROR);
    assert_true(strncmp((char *)h->err.data, "Unable to execute query - unable to execute query - ",
                        52) == 0);
    /* JSON: bad JSON ends as "SQL Query must be defined" (the last check overwrites) */
    assert_int_equal(TCALL(h, "sql", "query", B("{bad")), AP_WAPC_HOST_ERROR);
    assert_err(h, "SQL Query must be defined");
    assert_resp_str(h, "{\"status\":{\"code\":400,\"status\":\"SQL Query must be defined\"},\"data\":"
                       "\"bnVsbA==\"}");
    assert_int_equal(TCALL(h, "sql", "query", B("{\"query\":5}")), AP_WAPC_HOST_ERROR);
    assert_err(h, "SQL Query must be defined");
    /* bad base64 with nothing decoded before it: overwritten too */
    assert_int_equal(TCALL(h, "sql", "query", B("{\"query\":\"!!!!\"}")), AP_WAPC_HOST_ERROR);
    assert_err(h, "SQL Query must be defined");
    /* bad base64 after a decoded quantum: the decode error stays */
    assert_int_equal(TCALL(h, "sql", "query", B("{\"query\":\"U0VM!!\"}")), AP_WAPC_HOST_ERROR);
    assert_err(h, "Unable to decode query - illegal base64 data at input byte 4");
    ap_buf_free(&q);
}

static void exec_errors(void **state)
{
    harness *h = *state;
    ap_buf q = {0};
    /* protobuf only: JSON or any undecodable payload → fixed error, empty response */
    assert_int_equal(TCALL(h, "sql", "exec", jsq(&q, "SELECT 1")), AP_WAPC_HOST_ERROR);
    assert_err(h, "unable to unmarshal database:exec request");
    assert_int_equal(h->resp.len, 0);
    assert_int_equal(TCALL(h, "sql", "exec", B("\x0a\x80")), AP_WAPC_HOST_ERROR);
    assert_err(h, "unable to unmarshal database:exec request");
    assert_int_equal(TCALL(h, "sql", "exec", B("\x0a\xff\xff\xff\xff\x0f")), AP_WAPC_HOST_ERROR);
    assert_err(h, "unable to unmarshal database:exec request");
    /* 400 empty; 500 failure */
    assert_int_equal(TCALL(h, "sql", "exec", (ap_bytes){0}), AP_WAPC_HOST_ERROR);
    assert_err(h, "SQL Query must be defined");
    assert_int_equal(TCALL(h, "sql", "exec", pbq(&q, "INSERT INTO missing VALUES (1)")),
                     AP_WAPC_HOST_ERROR);
    assert_err(h, "Unable to execute query - no such table: missing");
    ap_buf_free(&q);
}

/* A NUL byte ends the SQL text, as for SQLite's C strings; it used to loop for ever (fuzz-cap) */
static void nul_byte(void **state)
{
    harness *h = *state;
    static const char q[] = "\x0a\x19SELECT 7 AS n;\0SELECT 8 x";
    assert_int_equal(TCALL(h, "sql", "query", B(q)), AP_WAPC_HOST_OK);
    ap_buf want = {0};
    ap_pb_put_status(&want, 1, 200, "OK");
    ap_pb_put_len(&want, 4, "n", 1);
    ap_pb_put_len(&want, 5, "[{\"n\":7}]", 9);
    assert_int_equal(h->resp.len, want.len);
    assert_memory_equal(h->resp.data, want.data, want.len);
    assert_int_equal(TCALL(h, "sql", "exec", B("\x0a\x03\0\0\0")), AP_WAPC_HOST_OK);
    ap_buf_free(&want);
}

/* A back end like PostgreSQL: exec reports rows affected but never an insert id. */
static ap_sql_status pg_query(ap_sql *d, ap_bytes s, ap_sql_rows *o, ap_errbuf *e)
{
    return AP_SQL_OK;
}
static ap_sql_status pg_exec(ap_sql *d, ap_bytes s, ap_sql_done *o, ap_errbuf *e)
{
    memset(o, 0, sizeof *o);
    o->has_rows_affected = true;
    o->rows_affected = 3;
    snprintf(o->why_no_last_insert_id, sizeof o->why_no_last_insert_id,
             "LastInsertId is not supported by this driver");
    return AP_SQL_OK;
}
static ap_sql_status pg_ping(ap_sql *d, ap_errbuf *e) { return AP_SQL_OK; }
static void pg_close(ap_sql *d) {}
static const ap_sql_ops pg_ops = {"pg-like", pg_query, pg_exec, pg_ping, pg_close};

static void exec_206(void **state)
{
    ap_sql pg = {&pg_ops};
    harness hb;
    h_open(&hb, NULL, &pg, NULL);
    ap_buf q = {0};
    assert_int_equal(TCALL(&hb, "sql", "exec", pbq(&q, "UPDATE x SET y = 1")), AP_WAPC_HOST_ERROR);
    assert_err(&hb, "Unable to get last insert ID - LastInsertId is not supported by this driver");
    ap_buf want = {0};
    ap_pb_put_status(&want, 1, 206,
                     "Unable to get last insert ID - LastInsertId is not supported by this driver");
    ap_pb_put_varint(&want, 3, 3);
    assert_int_equal(hb.resp.len, want.len);
    assert_memory_equal(hb.resp.data, want.data, want.len);
    /* an empty result set through query is null */
    assert_int_equal(TCALL(&hb, "sql", "query", pbq(&q, "SELECT 1")), AP_WAPC_HOST_OK);
    ap_buf_free(&want);
    ap_buf_free(&q);
    h_close(&hb);
}

static void rows_builder(void **state)
{
    ap_sql_rows r = {0};
    char big[40000];
    memset(big, 'x', sizeof big);
    assert_true(ap_sql_rows_add_column(&r, "a", 1));
    for (int i = 0; i < 100; i++) /* blocks must not move: earlier cells stay valid */
        assert_true(ap_sql_rows_add_cell(
            &r, (ap_sql_cell){.kind = AP_CELL_TEXT, .s = {(const uint8_t *)big, sizeof big}}));
    assert_int_equal(r.nrows, 100);
    assert_memory_equal(r.cells[0].s.ptr, big, sizeof big);
    ap_sql_rows_free(&r);
    assert_false(ap_sql_rows_add_cell(&r, (ap_sql_cell){.kind = AP_CELL_NULL})); /* no columns */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exec_and_query), cmocka_unit_test(query_errors),
        cmocka_unit_test(exec_errors),    cmocka_unit_test(exec_206),
        cmocka_unit_test(rows_builder),   cmocka_unit_test(nul_byte),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
