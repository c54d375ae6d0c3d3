/* sql.c — sql_type → constructor (the one table), and the result-set builder of sql.h. */
#include "backend/sql.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *type;
    ap_sql_open_fn open;
} sql_types[] = {
    {"sqlite", ap_sql_sqlite_open},
    {"", ap_sql_sqlite_open},
    {"postgres", ap_sql_postgres_open},
    {"mysql", ap_sql_mysql_open},
};

ap_sql_status ap_sql_open(const ap_settings *s, ap_sql **out, ap_errbuf *e)
{
    const char *type = s->sql_type ? s->sql_type : "";
    for (size_t i = 0; i < sizeof sql_types / sizeof sql_types[0]; i++)
        if (strcasecmp(type, sql_types[i].type) == 0)
            return sql_types[i].open(s, out, e);
    ap_errbuf_set(e, "unknown sql_type \"%s\" (expected sqlite, postgres or mysql)", type);
    return AP_SQL_INVALID;
}

/* Cell and column bytes live in blocks that never move, so ap_bytes stay valid as rows grow. */
struct ap_sql_block {
    ap_sql_block *next;
    size_t used, cap;
    uint8_t data[];
};

#define BLOCK_SIZE 16384

static const uint8_t *keep(ap_sql_rows *r, const void *p, size_t len)
{
    static const uint8_t empty[1];
    if (len == 0)
        return empty;
    ap_sql_block *b = r->blocks;
    if (!b || b->cap - b->used < len) {
        size_t cap = len > BLOCK_SIZE ? len : BLOCK_SIZE;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->used = 0;
        b->cap = cap;
        b->next = r->blocks;
        r->blocks = b;
    }
    uint8_t *d = b->data + b->used;
    memcpy(d, p, len);
    b->used += len;
    return d;
}

bool ap_sql_rows_add_column(ap_sql_rows *r, const void *name, size_t len)
{
    if (r->ncols == r->cap_cols) {
        size_t ncap = r->cap_cols ? r->cap_cols * 2 : 8;
        ap_bytes *n = realloc(r->columns, ncap * sizeof *n);
        if (!n)
            return false;
        r->columns = n;
        r->cap_cols = ncap;
    }
    const uint8_t *p = keep(r, name, len);
    if (!p)
        return false;
    r->columns[r->ncols++] = (ap_bytes){p, len};
    return true;
}

bool ap_sql_rows_add_cell(ap_sql_rows *r, ap_sql_cell c)
{
    if (r->ncols == 0)
        return false;
    if (r->ncells == r->cap_cells) {
        size_t ncap = r->cap_cells ? r->cap_cells * 2 : 64;
        ap_sql_cell *n = realloc(r->cells, ncap * sizeof *n);
        if (!n)
            return false;
        r->cells = n;
        r->cap_cells = ncap;
    }
    if (c.kind == AP_CELL_TEXT || c.kind == AP_CELL_TIME || c.kind == AP_CELL_BASE64) {
        const uint8_t *p = keep(r, c.s.ptr, c.s.len);
        if (!p)
            return false;
        c.s.ptr = p;
    } else {
        c.s = (ap_bytes){0};
    }
    r->cells[r->ncells++] = c;
    r->nrows = r->ncells / r->ncols;
    return true;
}

void ap_sql_rows_free(ap_sql_rows *r)
{
    for (ap_sql_block *b = r->blocks, *n; b; b = n) {
        n = b->next;
        free(b);
    }
    free(r->columns);
    free(r->cells);
    memset(r, 0, sizeof *r);
}
