/* sqlprobe.c — test guest for the sql capability (tests/integration/capabilities.sh,
 * backends.sh): the payload is one SQL text, run through tarmac:sql:query; the answer is the
 * host's encoding of the rows (a JSON array, or `null` for none). A failed host call fails the
 * function with "sql CODE: TEXT" (CODE is the status code of the host's reply), which the server
 * answers as a 500 with that text. Used to hold a guest in a slow statement (pg_sleep, a SQLite
 * write lock held elsewhere) while other requests are timed. */
#include "apron.h"

static apron_status probe(const uint8_t *payload, size_t len, apron_buf *out)
{
    apron_buf rows = APRON_BUF_INIT;
    apron_error err = {0, ""};
    if (len == 0) return apron_fail(out, "the payload must be an SQL statement");
    apron_status st = apron_sql_query((const char *)payload, &rows, &err);
    if (st == APRON_OK) st = apron_buf_append(out, rows.ptr, rows.len);
    else st = apron_fail(out, "sql %d: %s", err.code, err.msg);
    apron_buf_free(&rows);
    return st;
}

void apron_init(void)
{
    apron_register("handler", probe);
}
