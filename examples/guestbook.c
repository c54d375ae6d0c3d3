/* guestbook.c — the SQL capability: signs the guest book with the name in the payload and returns
 * every signature as JSON: {"added":<rows affected>,"guests":<rows>}. <rows> is the host's
 * encoding of the query result (a JSON array of {"name":...} objects; with MySQL each value is
 * base64 of its text, as in Tarmac). The table is created on first use. Tarmac's SQL has no
 * parameters, so the name is checked against a small alphabet instead of being escaped. */
#include "apron.h"

#define MAX_NAME 64

static int valid_name(const uint8_t *s, size_t n)
{
    if (n == 0 || n > MAX_NAME) return 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == ' ' || c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

static apron_status sign(const uint8_t *payload, size_t len, apron_buf *out)
{
    apron_buf sql = APRON_BUF_INIT, rows = APRON_BUF_INIT;
    apron_sql_exec_result res = {0, 0};
    apron_error err;
    apron_status st;

    if (!valid_name(payload, len))
        return apron_fail(out, "the payload must be a name: 1 to %d letters, digits, spaces, "
                               "'-', '_' or '.'", MAX_NAME);

    /* Any statement may go through query; exec reports rows affected. APRON_PARTIAL: the
     * statement ran but the back end lacks some metadata (Postgres has no insert id). */
    st = apron_sql_query("CREATE TABLE IF NOT EXISTS guestbook (name varchar(64) NOT NULL)", &rows,
                         &err);
    if (st != APRON_OK) return apron_fail(out, "create table: %s", err.msg);
    if (apron_buf_printf(&sql, "INSERT INTO guestbook (name) VALUES ('%.*s')", (int)len,
                         (const char *)payload) != APRON_OK) {
        st = apron_fail(out, "out of memory");
        goto done;
    }
    st = apron_sql_exec(apron_buf_cstr(&sql), &res, &err);
    if (st != APRON_OK && st != APRON_PARTIAL) {
        st = apron_fail(out, "insert: %s", err.msg);
        goto done;
    }
    if (apron_sql_query("SELECT name FROM guestbook ORDER BY name", &rows, &err) != APRON_OK) {
        st = apron_fail(out, "select: %s", err.msg);
        goto done;
    }
    st = apron_buf_printf(out, "{\"added\":%lld,\"guests\":%s}", (long long)res.rows_affected,
                          apron_buf_cstr(&rows));
    if (st != APRON_OK) st = apron_fail(out, "out of memory");
done:
    apron_buf_free(&rows);
    apron_buf_free(&sql);
    return st;
}

void apron_init(void)
{
    apron_register("handler", sign);
    apron_register("sign", sign);
}
