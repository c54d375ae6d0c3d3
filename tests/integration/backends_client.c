/* backends_client.c — drives one back end of src/backend/ (kv.h or sql.h ops, no server) against
 * a real service that tests/integration/backends.sh started. Settings come as key=value
 * arguments (TARMAC.md §5.2 keys); each check prints "ok NAME" or "fail NAME<TAB>why" on stdout,
 * which backends.sh turns into cmocka-style lines.
 *
 * usage: backends-client kv|kv-outage|kv-put|kv-expect|sql-postgres|sql-mysql|sql-outage
 *                        NAME-PREFIX [key=value ...] [-- ARGS]
 *   kv          the common kv checks (get/set/del/keys/ping, binary values, threads), on any
 *               kvstore_type (the embedded lmdb and in-memory stores too; lmdb adds its key
 *               order and key length limit)
 *   kv-outage   checks, then "stop?" on stdout and waits for a line on stdin (the service is
 *               down), checks that ops fail with AP_KV_UNAVAILABLE within 1 s, "start?" and a
 *               line again (the service is back), checks recovery
 *   kv-put K V / kv-expect K V   one write / one read (two processes sharing a store)
 *   sql-postgres, sql-mysql      the common sql checks plus the back end's cell mapping
 *   sql-outage  as kv-outage, for the SQL back end named by sql_type */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/kv.h"
#include "backend/sql.h"

static const char *prefix = "";
static int failures;

static void report(bool ok, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report(bool ok, const char *name, const char *fmt, ...)
{
    if (ok) {
        printf("ok %s%s\n", prefix, name);
    } else {
        va_list ap;
        va_start(ap, fmt);
        printf("fail %s%s\t", prefix, name);
        vprintf(fmt, ap);
        printf("\n");
        va_end(ap);
        failures++;
    }
    fflush(stdout);
}

static ap_bytes B(const char *s)
{
    return (ap_bytes){(const uint8_t *)s, strlen(s)};
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static bool wait_line(void)
{
    char line[64];
    fflush(stdout);
    return fgets(line, sizeof line, stdin) != NULL;
}

/* ---- kv ---- */

static bool has_key(const ap_kv_keylist *l, ap_bytes k)
{
    for (size_t i = 0; i < l->count; i++) {
        ap_bytes x = ap_kv_keylist_at(l, i);
        if (x.len == k.len && memcmp(x.ptr, k.ptr, k.len) == 0)
            return true;
    }
    return false;
}

typedef struct {
    ap_kv *kv;
    int id, rounds, bad;
} kv_thread;

static void *kv_worker(void *arg)
{
    kv_thread *t = arg;
    char key[64], val[64];
    for (int i = 0; i < t->rounds; i++) {
        ap_errbuf e;
        ap_buf got = {0};
        snprintf(key, sizeof key, "thread-%d-%d", t->id, i % 10);
        snprintf(val, sizeof val, "value-%d-%d", t->id, i);
        if (ap_kv_set(t->kv, B(key), B(val), &e) != AP_KV_OK ||
            ap_kv_get(t->kv, B(key), &got, &e) != AP_KV_OK || got.len != strlen(val) ||
            memcmp(got.data, val, got.len) != 0)
            t->bad++;
        ap_buf_free(&got);
    }
    for (int i = 0; i < 10; i++) {
        ap_errbuf e;
        snprintf(key, sizeof key, "thread-%d-%d", t->id, i);
        if (ap_kv_del(t->kv, B(key), &e) != AP_KV_OK)
            t->bad++;
    }
    return NULL;
}

/* Keys in byte order (memcmp, then the shorter first), as LMDB and bbolt list them. */
static bool keys_sorted(const ap_kv_keylist *l)
{
    for (size_t i = 1; i < l->count; i++) {
        ap_bytes a = ap_kv_keylist_at(l, i - 1), b = ap_kv_keylist_at(l, i);
        size_t n = a.len < b.len ? a.len : b.len;
        int c = memcmp(a.ptr, b.ptr, n);
        if (c > 0 || (c == 0 && a.len >= b.len))
            return false;
    }
    return true;
}

static void kv_checks(ap_kv *kv, const char *type)
{
    bool nats = strcmp(type, "nats") == 0;
    bool lmdb = strcmp(type, "lmdb") == 0 || strcmp(type, "internal") == 0 ||
                strcmp(type, "boltdb") == 0;
    ap_errbuf e = {{0}};
    ap_buf got = {0};
    ap_kv_status st;

    st = ap_kv_ping(kv, &e);
    report(st == AP_KV_OK, "ping", "%s: %s", ap_kv_status_name(st), e.msg);

    /* binary value with NUL and high bytes */
    static const uint8_t bin[] = {0, 1, 2, 0xff, 0xfe, 0, 'x', '\n', 0x80};
    ap_bytes binv = {bin, sizeof bin};
    st = ap_kv_set(kv, B("apron.test.bin"), binv, &e);
    report(st == AP_KV_OK, "set binary value", "%s: %s", ap_kv_status_name(st), e.msg);
    st = ap_kv_get(kv, B("apron.test.bin"), &got, &e);
    report(st == AP_KV_OK && got.len == sizeof bin && memcmp(got.data, bin, sizeof bin) == 0,
           "get binary value", "%s: %s (len %zu)", ap_kv_status_name(st), e.msg, got.len);
    ap_buf_free(&got);

    st = ap_kv_set(kv, B("apron.test.a"), B("first"), &e);
    st = st == AP_KV_OK ? ap_kv_set(kv, B("apron.test.a"), B("second"), &e) : st;
    if (st == AP_KV_OK)
        st = ap_kv_get(kv, B("apron.test.a"), &got, &e);
    report(st == AP_KV_OK && got.len == 6 && memcmp(got.data, "second", 6) == 0,
           "set replaces the value", "%s: %s", ap_kv_status_name(st), e.msg);
    ap_buf_free(&got);

    /* a large value (1 MiB) */
    size_t big = 1 << 20;
    uint8_t *bigv = malloc(big);
    for (size_t i = 0; i < big; i++)
        bigv[i] = (uint8_t)(i * 7);
    st = ap_kv_set(kv, B("apron.test.big"), (ap_bytes){bigv, big}, &e);
    if (st == AP_KV_OK)
        st = ap_kv_get(kv, B("apron.test.big"), &got, &e);
    report(st == AP_KV_OK && got.len == big && memcmp(got.data, bigv, big) == 0, "1 MiB value",
           "%s: %s", ap_kv_status_name(st), e.msg);
    ap_buf_free(&got);
    free(bigv);

    st = ap_kv_get(kv, B("apron.test.missing"), &got, &e);
    report(st == AP_KV_NOTFOUND && got.len == 0, "get missing key → not found", "%s: %s",
           ap_kv_status_name(st), e.msg);

    ap_kv_keylist keys = {0};
    st = ap_kv_keys(kv, &keys, &e);
    report(st == AP_KV_OK && has_key(&keys, B("apron.test.a")) &&
               has_key(&keys, B("apron.test.bin")) && !has_key(&keys, B("apron.test.missing")),
           "keys lists the stored keys", "%s: %s (%zu keys)", ap_kv_status_name(st), e.msg,
           keys.count);
    ap_kv_keylist_free(&keys);

    if (lmdb) {
        ap_kv_set(kv, B("apron.test.b"), B("x"), &e);
        ap_kv_set(kv, B("apron.test.ab"), B("x"), &e);
        st = ap_kv_keys(kv, &keys, &e);
        report(st == AP_KV_OK && keys.count >= 4 && keys_sorted(&keys), "lmdb: keys in byte order",
               "%s: %s (%zu keys)", ap_kv_status_name(st), e.msg, keys.count);
        ap_kv_keylist_free(&keys);
        ap_kv_del(kv, B("apron.test.b"), &e);
        ap_kv_del(kv, B("apron.test.ab"), &e);
        char longkey[513];
        memset(longkey, 'k', 512);
        longkey[512] = 0;
        st = ap_kv_set(kv, B(longkey), B("x"), &e);
        report(st == AP_KV_INVALID, "lmdb: 512-byte key → invalid", "%s: %s",
               ap_kv_status_name(st), e.msg);
        longkey[511] = 0;
        st = ap_kv_set(kv, B(longkey), B("x"), &e);
        if (st == AP_KV_OK)
            st = ap_kv_del(kv, B(longkey), &e);
        report(st == AP_KV_OK, "lmdb: 511-byte key → ok", "%s: %s", ap_kv_status_name(st), e.msg);
    }

    st = ap_kv_del(kv, B("apron.test.a"), &e);
    report(st == AP_KV_OK, "delete", "%s: %s", ap_kv_status_name(st), e.msg);
    st = ap_kv_get(kv, B("apron.test.a"), &got, &e);
    report(st == AP_KV_NOTFOUND, "get after delete → not found", "%s: %s",
           ap_kv_status_name(st), e.msg);
    ap_buf_free(&got);
    st = ap_kv_del(kv, B("apron.test.never"), &e);
    report(st == AP_KV_OK, "delete missing key → ok", "%s: %s", ap_kv_status_name(st), e.msg);

    st = ap_kv_keys(kv, &keys, &e);
    report(st == AP_KV_OK && !has_key(&keys, B("apron.test.a")), "keys after delete",
           "%s: %s", ap_kv_status_name(st), e.msg);
    ap_kv_keylist_free(&keys);

    st = ap_kv_set(kv, B(""), B("x"), &e);
    report(st == AP_KV_INVALID, "set empty key → invalid", "%s", ap_kv_status_name(st));
    st = ap_kv_set(kv, B("apron.test.empty"), B(""), &e);
    report(st == AP_KV_INVALID, "set empty value → invalid", "%s", ap_kv_status_name(st));
    st = ap_kv_get(kv, B(""), &got, &e);
    report(st == AP_KV_INVALID, "get empty key → invalid", "%s", ap_kv_status_name(st));
    st = ap_kv_del(kv, B(""), &e);
    report(st == AP_KV_INVALID, "delete empty key → invalid", "%s", ap_kv_status_name(st));

    if (nats) { /* subjects: a key with a space cannot exist */
        st = ap_kv_set(kv, B("bad key"), B("x"), &e);
        report(st == AP_KV_FAILED, "set key with a space → failed", "%s: %s",
               ap_kv_status_name(st), e.msg);
    } else { /* any bytes as a key */
        static const uint8_t k[] = {'k', 0, 0xff, ' '};
        ap_bytes kb = {k, sizeof k};
        st = ap_kv_set(kv, kb, B("v"), &e);
        if (st == AP_KV_OK)
            st = ap_kv_get(kv, kb, &got, &e);
        report(st == AP_KV_OK && got.len == 1, "binary key", "%s: %s", ap_kv_status_name(st),
               e.msg);
        ap_buf_free(&got);
        ap_kv_del(kv, kb, &e);
    }

    /* LMDB syncs every commit to disk (a few ms each here): fewer rounds keep the case short */
    int rounds = lmdb ? 25 : 200;
    kv_thread t[8];
    pthread_t th[8];
    for (int i = 0; i < 8; i++) {
        t[i] = (kv_thread){kv, i, rounds, 0};
        pthread_create(&th[i], NULL, kv_worker, &t[i]);
    }
    int bad = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        bad += t[i].bad;
    }
    char name[64];
    snprintf(name, sizeof name, "8 threads × %d set/get", rounds);
    report(bad == 0, name, "%d bad results", bad);

    ap_kv_del(kv, B("apron.test.bin"), &e);
    ap_kv_del(kv, B("apron.test.big"), &e);
}

static void kv_outage(ap_kv *kv)
{
    ap_errbuf e;
    ap_buf got = {0};
    ap_kv_status st = ap_kv_set(kv, B("apron.outage"), B("before"), &e);
    report(st == AP_KV_OK, "set before the outage", "%s: %s", ap_kv_status_name(st), e.msg);
    printf("stop?\n");
    if (!wait_line())
        return;
    double t0 = now_s();
    st = ap_kv_get(kv, B("apron.outage"), &got, &e);
    double dt = now_s() - t0;
    report(st == AP_KV_UNAVAILABLE && dt < 1.0, "get while down → unavailable within 1 s",
           "%s after %.3f s: %s", ap_kv_status_name(st), dt, e.msg);
    t0 = now_s();
    st = ap_kv_set(kv, B("apron.outage"), B("x"), &e);
    dt = now_s() - t0;
    report(st == AP_KV_UNAVAILABLE && dt < 1.0, "set while down → unavailable within 1 s",
           "%s after %.3f s: %s", ap_kv_status_name(st), dt, e.msg);
    t0 = now_s();
    st = ap_kv_ping(kv, &e);
    dt = now_s() - t0;
    report(st == AP_KV_UNAVAILABLE && dt < 1.0, "ping while down → unavailable within 1 s",
           "%s after %.3f s: %s", ap_kv_status_name(st), dt, e.msg);
    printf("start?\n");
    if (!wait_line())
        return;
    /* reconnecting clients (nats) may need a moment */
    double until = now_s() + 5;
    do {
        st = ap_kv_ping(kv, &e);
    } while (st != AP_KV_OK && now_s() < until && nanosleep(&(struct timespec){0, 50000000}, 0) == 0);
    report(st == AP_KV_OK, "ping after restart", "%s: %s", ap_kv_status_name(st), e.msg);
    st = ap_kv_set(kv, B("apron.outage"), B("after"), &e);
    if (st == AP_KV_OK)
        st = ap_kv_get(kv, B("apron.outage"), &got, &e);
    report(st == AP_KV_OK && got.len == 5, "set and get after restart", "%s: %s",
           ap_kv_status_name(st), e.msg);
    ap_buf_free(&got);
    ap_kv_del(kv, B("apron.outage"), &e);
}

/* ---- sql ---- */

static const ap_sql_cell *cell(const ap_sql_rows *r, size_t row, const char *col)
{
    for (size_t c = 0; c < r->ncols; c++)
        if (r->columns[c].len == strlen(col) && memcmp(r->columns[c].ptr, col, r->columns[c].len) == 0)
            return row < r->nrows ? &r->cells[row * r->ncols + c] : NULL;
    return NULL;
}

static bool cell_is_mem(const ap_sql_rows *r, size_t row, const char *col, ap_cell_kind kind,
                        const void *bytes, size_t len)
{
    const ap_sql_cell *c = cell(r, row, col);
    if (!c || c->kind != kind)
        return false;
    return !bytes || (c->s.len == len && memcmp(c->s.ptr, bytes, len) == 0);
}

static bool cell_is(const ap_sql_rows *r, size_t row, const char *col, ap_cell_kind kind,
                    const char *text)
{
    return cell_is_mem(r, row, col, kind, text, text ? strlen(text) : 0);
}

static ap_sql_status q(ap_sql *db, const char *sql, ap_sql_rows *r, ap_errbuf *e)
{
    ap_sql_rows_free(r);
    return ap_sql_query(db, B(sql), r, e);
}

static void sql_checks(ap_sql *db, bool pg)
{
    ap_errbuf e = {{0}};
    ap_sql_rows r = {0};
    ap_sql_done d;
    ap_sql_status st;

    st = ap_sql_ping(db, &e);
    report(st == AP_SQL_OK, "ping", "%d: %s", st, e.msg);
    q(db, "DROP TABLE IF EXISTS apron_t", &r, &e);
    st = q(db,
           pg ? "CREATE TABLE apron_t (id serial PRIMARY KEY, name varchar(64), n int, f float8, "
                "ok bool, at timestamp, raw bytea, price numeric(6,2))"
              : "CREATE TABLE apron_t (id int AUTO_INCREMENT PRIMARY KEY, name varchar(64), n int, "
                "f double, ok bool, at datetime, raw blob, price decimal(6,2))",
           &r, &e);
    report(st == AP_SQL_OK && r.ncols == 0 && r.nrows == 0, "DDL through query: no rows",
           "%d: %s", st, e.msg);

    memset(&d, 0, sizeof d);
    st = ap_sql_exec(db,
                     B(pg ? "INSERT INTO apron_t (name, n, f, ok, at, raw, price) VALUES "
                            "('John Smith', 1, 1.5, true, '2024-01-02 03:04:05', '\\x00ff', 12.5),"
                            "(NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
                          : "INSERT INTO apron_t (name, n, f, ok, at, raw, price) VALUES "
                            "('John Smith', 1, 1.5, true, '2024-01-02 03:04:05', x'00ff', 12.5),"
                            "(NULL, NULL, NULL, NULL, NULL, NULL, NULL)"),
                     &d, &e);
    report(st == AP_SQL_OK && d.has_rows_affected && d.rows_affected == 2, "exec insert: 2 rows",
           "%d: %s (has %d, %lld)", st, e.msg, d.has_rows_affected, (long long)d.rows_affected);
    if (pg)
        report(!d.has_last_insert_id && d.why_no_last_insert_id[0],
               "exec: no last insert id (206)", "has_last_insert_id %d", d.has_last_insert_id);
    else
        report(d.has_last_insert_id && d.last_insert_id == 1, "exec: last insert id",
               "has %d, id %lld", d.has_last_insert_id, (long long)d.last_insert_id);

    st = q(db, "SELECT id, name, n, f, ok, at, raw, price FROM apron_t ORDER BY id", &r, &e);
    report(st == AP_SQL_OK && r.ncols == 8 && r.nrows == 2, "query: 2 rows × 8 columns",
           "%d: %s (%zu × %zu)", st, e.msg, r.nrows, r.ncols);
    if (st == AP_SQL_OK && r.nrows == 2) {
        if (pg) {
            const ap_sql_cell *c = cell(&r, 0, "id");
            report(c && c->kind == AP_CELL_INT && c->i == 1, "int → number", "kind %d",
                   c ? (int)c->kind : -1);
            report(cell_is(&r, 0, "name", AP_CELL_TEXT, "John Smith"), "varchar → string", "-");
            c = cell(&r, 0, "f");
            report(c && c->kind == AP_CELL_FLOAT && c->f == 1.5, "float8 → number", "-");
            c = cell(&r, 0, "ok");
            report(c && c->kind == AP_CELL_BOOL && c->i == 1, "bool → true", "-");
            c = cell(&r, 0, "at");
            report(cell_is(&r, 0, "at", AP_CELL_TIME, "2024-01-02T03:04:05Z"),
                   "timestamp → RFC 3339", "%.*s", c ? (int)c->s.len : 0,
                   c && c->s.ptr ? (const char *)c->s.ptr : "");
            report(cell_is_mem(&r, 0, "raw", AP_CELL_BASE64, "\x00\xff", 2), "bytea → base64 of bytes",
                   "-");
            report(cell_is(&r, 0, "price", AP_CELL_BASE64, "12.50"), "numeric → base64 of text",
                   "-");
        } else {
            report(cell_is(&r, 0, "id", AP_CELL_BASE64, "1"), "int → base64 of text", "-");
            report(cell_is(&r, 0, "name", AP_CELL_BASE64, "John Smith"),
                   "varchar → base64 of text", "-");
            report(cell_is(&r, 0, "ok", AP_CELL_BASE64, "1"), "bool → base64 of text", "-");
            report(cell_is(&r, 0, "at", AP_CELL_BASE64, "2024-01-02 03:04:05"),
                   "datetime → base64 of text (no parseTime)", "-");
            report(cell_is_mem(&r, 0, "raw", AP_CELL_BASE64, "\x00\xff", 2), "blob → base64 of bytes",
                   "-");
        }
        report(cell_is(&r, 1, "name", AP_CELL_NULL, NULL) && cell_is(&r, 1, "n", AP_CELL_NULL, NULL),
               "NULL → null", "-");
    }

    st = q(db, "SELECT * FROM apron_t WHERE id < 0", &r, &e);
    report(st == AP_SQL_OK && r.nrows == 0 && r.ncols == 8, "zero rows", "%d: %s", st, e.msg);

    memset(&d, 0, sizeof d);
    st = ap_sql_exec(db, B("UPDATE apron_t SET n = 7"), &d, &e);
    report(st == AP_SQL_OK && d.rows_affected == 2, "exec update: rows affected", "%d: %s", st,
           e.msg);

    st = q(db, "SELEKT 1", &r, &e);
    report(st == AP_SQL_FAILED && e.msg[0], "syntax error → failed", "%d: %s", st, e.msg);
    st = ap_sql_exec(db, B("INSERT INTO no_such_table VALUES (1)"), &d, &e);
    report(st == AP_SQL_FAILED, "exec on a missing table → failed", "%d: %s", st, e.msg);
    st = q(db, "", &r, &e);
    report(st == AP_SQL_INVALID, "empty statement → invalid", "%d", st);

    st = q(db, "SELECT 1 AS one", &r, &e);
    report(st == AP_SQL_OK && r.nrows == 1, "still usable after errors", "%d: %s", st, e.msg);
    q(db, "DROP TABLE apron_t", &r, &e);
    ap_sql_rows_free(&r);
}

static void sql_outage(ap_sql *db)
{
    ap_errbuf e;
    ap_sql_rows r = {0};
    ap_sql_status st = q(db, "SELECT 1", &r, &e);
    report(st == AP_SQL_OK, "query before the outage", "%d: %s", st, e.msg);
    printf("stop?\n");
    if (!wait_line())
        return;
    double t0 = now_s();
    st = q(db, "SELECT 1", &r, &e);
    double dt = now_s() - t0;
    report(st == AP_SQL_UNAVAILABLE && dt < 1.0, "query while down → unavailable within 1 s",
           "%d after %.3f s: %s", st, dt, e.msg);
    st = ap_sql_ping(db, &e);
    report(st == AP_SQL_UNAVAILABLE, "ping while down → unavailable", "%d: %s", st, e.msg);
    printf("start?\n");
    if (!wait_line())
        return;
    st = q(db, "SELECT 1", &r, &e);
    report(st == AP_SQL_OK && r.nrows == 1, "query after restart", "%d: %s", st, e.msg);
    ap_sql_rows_free(&r);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s SCENARIO PREFIX [key=value ...] [-- ARGS]\n", argv[0]);
        return 2;
    }
    const char *scenario = argv[1];
    prefix = argv[2];
    ap_settings s;
    ap_errbuf e = {{0}};
    if (ap_settings_defaults(&s) != AP_CONFIG_OK)
        return 2;
    int i = 3;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) {
            fprintf(stderr, "not key=value: %s\n", argv[i]);
            return 2;
        }
        *eq = '\0';
        if (ap_settings_set(&s, argv[i], eq + 1, argv[i], &e) != AP_CONFIG_OK) {
            fprintf(stderr, "%s\n", e.msg);
            return 2;
        }
    }
    char **rest = i < argc ? argv + i + 1 : argv + argc;
    int nrest = (int)(argv + argc - rest);

    if (strncmp(scenario, "kv", 2) == 0) {
        ap_kv *kv = NULL;
        ap_kv_status st = ap_kv_open(&s, &kv, &e);
        report(st == AP_KV_OK, "open", "%s: %s", ap_kv_status_name(st), e.msg);
        if (st == AP_KV_OK) {
            if (strcmp(scenario, "kv") == 0) {
                kv_checks(kv, s.kvstore_type);
            } else if (strcmp(scenario, "kv-outage") == 0) {
                kv_outage(kv);
            } else if (strcmp(scenario, "kv-put") == 0 && nrest == 2) {
                st = ap_kv_set(kv, B(rest[0]), B(rest[1]), &e);
                report(st == AP_KV_OK, "put", "%s: %s", ap_kv_status_name(st), e.msg);
            } else if (strcmp(scenario, "kv-expect") == 0 && nrest == 2) {
                ap_buf got = {0};
                st = ap_kv_get(kv, B(rest[0]), &got, &e);
                report(st == AP_KV_OK && got.len == strlen(rest[1]) &&
                           memcmp(got.data, rest[1], got.len) == 0,
                       "read what another process wrote", "%s: %s", ap_kv_status_name(st), e.msg);
                ap_buf_free(&got);
            } else {
                fprintf(stderr, "unknown scenario %s\n", scenario);
                failures++;
            }
            ap_kv_close(kv);
        }
    } else {
        ap_sql *db = NULL;
        ap_sql_status st = ap_sql_open(&s, &db, &e);
        report(st == AP_SQL_OK, "open", "%d: %s", st, e.msg);
        if (st == AP_SQL_OK) {
            if (strcmp(scenario, "sql-outage") == 0)
                sql_outage(db);
            else
                sql_checks(db, strcmp(s.sql_type, "postgres") == 0);
            ap_sql_close(db);
        }
    }
    ap_settings_free(&s);
    return failures ? 1 : 0;
}
