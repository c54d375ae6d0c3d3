/* sql.c — tarmac:sql:query and tarmac:sql:exec (TARMAC.md §4.5): the result JSON (one object per
 * row, keys sorted, a duplicate column name keeps the last value, zero rows → null), and every
 * status code and text, including the overwrite order of the JSON path's checks. */
#include "cap/internal.h"

#include <stdlib.h>
#include <string.h>

/* SQLQuery / SQLExec: 1 query bytes. */
static const signed char q_wt[] = {-1, AP_PB_LEN};
static const ap_pb_schema q_schema = {q_wt, 2};

static bool q_field(void *ctx, int field, uint64_t v, ap_bytes b)
{
    *(ap_bytes *)ctx = b;
    return true;
}

static _Thread_local const ap_sql_rows *sort_rows;

static int by_name(const void *a, const void *b)
{
    ap_bytes x = sort_rows->columns[*(const size_t *)a], y = sort_rows->columns[*(const size_t *)b];
    size_t n = x.len < y.len ? x.len : y.len;
    int c = memcmp(x.ptr, y.ptr, n);
    if (c)
        return c;
    if (x.len != y.len)
        return x.len < y.len ? -1 : 1;
    /* equal names: the later column first, so the dedup below keeps it */
    return *(const size_t *)a < *(const size_t *)b ? 1 : -1;
}

static bool put_cell(ap_buf *out, const ap_sql_cell *cell, ap_errbuf *e)
{
    bool unsupported;
    switch (cell->kind) {
    case AP_CELL_NULL:
        return ap_buf_append_str(out, "null");
    case AP_CELL_INT:
        return ap_buf_printf(out, "%lld", (long long)cell->i);
    case AP_CELL_FLOAT:
        if (ap_json_put_float(out, cell->f, &unsupported))
            return true;
        if (unsupported)
            ap_errbuf_set(e, "json: unsupported value: %s",
                          cell->f != cell->f ? "NaN" : cell->f > 0 ? "+Inf" : "-Inf");
        else
            ap_errbuf_set(e, "out of memory");
        return false;
    case AP_CELL_BOOL:
        return ap_buf_append_str(out, cell->i ? "true" : "false");
    case AP_CELL_TEXT:
    case AP_CELL_TIME:
        return ap_json_put_str(out, cell->s.ptr, cell->s.len);
    case AP_CELL_BASE64:
        return ap_json_put_b64(out, cell->s.ptr, cell->s.len);
    }
    return false;
}

bool cap_sql_rows_json(const ap_sql_rows *r, ap_buf *out, ap_errbuf *e)
{
    if (r->nrows == 0 || r->ncols == 0)
        return ap_buf_append_str(out, "null");
    size_t *order = malloc(r->ncols * sizeof *order);
    if (!order) {
        ap_errbuf_set(e, "out of memory");
        return false;
    }
    for (size_t i = 0; i < r->ncols; i++)
        order[i] = i;
    sort_rows = r;
    qsort(order, r->ncols, sizeof *order, by_name);
    bool ok = ap_buf_append(out, "[", 1);
    for (size_t row = 0; ok && row < r->nrows; row++) {
        ok = ap_buf_append_str(out, row ? ",{" : "{");
        bool first = true;
        for (size_t k = 0; ok && k < r->ncols; k++) {
            size_t c = order[k];
            ap_bytes name = r->columns[c];
            if (k > 0) {
                ap_bytes prev = r->columns[order[k - 1]];
                if (prev.len == name.len && memcmp(prev.ptr, name.ptr, name.len) == 0)
                    continue; /* Go map: the last column of that name won */
            }
            ok = (first || ap_buf_append(out, ",", 1)) && ap_json_put_str(out, name.ptr, name.len) &&
                 ap_buf_append(out, ":", 1);
            if (ok && !put_cell(out, &r->cells[row * r->ncols + c], e)) {
                free(order);
                return false;
            }
            first = false;
        }
        ok = ok && ap_buf_append(out, "}", 1);
    }
    ok = ok && ap_buf_append(out, "]", 1);
    free(order);
    if (!ok)
        ap_errbuf_set(e, "out of memory");
    return ok;
}

/* Runs the query; on success *json holds the result JSON, else st says why. */
static void run_query(ap_cap *c, ap_bytes q, cap_status *st, ap_sql_rows *rows, ap_buf *json)
{
    ap_errbuf e;
    ap_sql_status ss = ap_sql_query(c->sql, q, rows, &e);
    if (ss != AP_SQL_OK) {
        cap_status_set(st, 500, "Unable to execute query - unable to execute query - %s", e.msg);
        return;
    }
    if (!cap_sql_rows_json(rows, json, &e)) {
        ap_buf_reset(json);
        cap_status_set(st, 500, "Unable to convert query results to JSON - %s", e.msg);
    }
}

ap_wapc_host_status cap_sql_query(ap_cap *c, const ap_wapc_call *call, ap_buf *response,
                                  ap_buf *error)
{
    ap_bytes q = {0};
    ap_errbuf e;
    cap_status st;
    ap_sql_rows rows = {0};
    ap_buf json = {0};
    bool ok;
    cap_status_set(&st, 200, "OK");
    if (ap_pb_walk(call->payload, &q_schema, q_field, &q, &e)) {
        if (q.len == 0)
            cap_status_set(&st, 400, "SQL Query must be defined");
        else
            run_query(c, q, &st, &rows, &json);
        if (json.len == 0)
            ap_buf_append_str(&json, "null");
        ok = ap_pb_put_status(response, 1, st.code, st.text);
        for (size_t i = 0; ok && st.code == 200 && i < rows.ncols; i++)
            ok = ap_pb_put_len(response, 4, rows.columns[i].ptr, rows.columns[i].len);
        ok = ok && ap_pb_put_len(response, 5, json.data, json.len);
    } else {
        json_t *root = NULL;
        ap_buf sql = {0};
        ap_bytes text = {0};
        if (!ap_jin_parse(call->payload, &root, &e) || !ap_jin_str(root, "query", &text, &e)) {
            cap_status_set(&st, 400, "Error Parsing Input");
        } else if (!ap_b64_decode(&sql, text.ptr, text.len, &e)) {
            cap_status_set(&st, 400, "Unable to decode query - %s", e.msg);
        }
        /* Tarmac checks the decoded text last, overwriting the earlier texts */
        if (sql.len == 0)
            cap_status_set(&st, 400, "SQL Query must be defined");
        if (st.code == 200)
            run_query(c, (ap_bytes){sql.data, sql.len}, &st, &rows, &json);
        if (json.len == 0)
            ap_buf_append_str(&json, "null");
        ap_buf_free(&sql);
        json_decref(root);
        ok = ap_buf_append_str(response, "{\"status\":") && cap_json_status(response, &st) &&
             ap_buf_append_str(response, ",\"data\":") &&
             ap_json_put_b64(response, json.data, json.len) && ap_buf_append(response, "}", 1);
    }
    ap_sql_rows_free(&rows);
    ap_buf_free(&json);
    return cap_finish(&st, ok, response, error);
}

ap_wapc_host_status cap_sql_exec(ap_cap *c, const ap_wapc_call *call, ap_buf *response,
                                 ap_buf *error)
{
    ap_bytes q = {0};
    ap_errbuf e;
    cap_status st;
    if (!ap_pb_walk(call->payload, &q_schema, q_field, &q, &e)) {
        ap_buf_append_str(error, "unable to unmarshal database:exec request");
        return AP_WAPC_HOST_ERROR;
    }
    cap_status_set(&st, 200, "OK");
    ap_sql_done done = {0};
    if (q.len == 0) {
        cap_status_set(&st, 400, "SQL Query must be defined");
    } else {
        ap_sql_status ss = ap_sql_exec(c->sql, q, &done, &e);
        if (ss != AP_SQL_OK) {
            cap_status_set(&st, 500, "Unable to execute query - %s", e.msg);
            memset(&done, 0, sizeof done);
        } else {
            if (!done.has_rows_affected) {
                cap_status_set(&st, 206, "Unable to get rows affected - %s",
                               done.why_no_rows_affected);
                done.rows_affected = 0;
            }
            if (!done.has_last_insert_id) {
                cap_status_set(&st, 206, "Unable to get last insert ID - %s",
                               done.why_no_last_insert_id);
                done.last_insert_id = 0;
            }
        }
    }
    bool ok = ap_pb_put_status(response, 1, st.code, st.text) &&
              (done.last_insert_id == 0 ||
               ap_pb_put_varint(response, 2, (uint64_t)done.last_insert_id)) &&
              (done.rows_affected == 0 ||
               ap_pb_put_varint(response, 3, (uint64_t)done.rows_affected));
    return cap_finish(&st, ok, response, error);
}
