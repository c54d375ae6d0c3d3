/* mysql.c — sql_type `mysql`: MySQL and MariaDB through libmariadb, sql_dsn in the Go MySQL
 * driver's form (TARMAC.md §5.4):
 *     [user[:password]@][net[(address)]]/dbname[?param=value&...]
 * net is tcp (address host:port, default 127.0.0.1:3306) or unix (a socket path). Parameters
 * read here: timeout, readTimeout, writeTimeout (Go durations: "5s", "500ms", rounded up to
 * whole seconds), parseTime, charset (first of a comma list; default utf8mb4), multiStatements,
 * clientFoundRows, tls (true, skip-verify, preferred, false). Other driver options are accepted
 * and ignored; any other name is a system variable set on each new connection (`SET name=value`),
 * as the Go driver does. Values are URL-decoded.
 *
 * The text protocol (mysql_real_query), as Tarmac: every non-NULL cell is base64 of its textual
 * value (id 1 → "MQ=="), except DATE/DATETIME/TIMESTAMP with parseTime=true, which become RFC
 * 3339 text in UTC. Exec reports rows affected and the last insert id.
 *
 * Connections are lazy and pooled; one found broken (CR_SERVER_GONE_ERROR / CR_SERVER_LOST, a
 * restarted server) closes the idle ones too, and a call that failed so on a pooled connection
 * runs once more on a fresh one. Unless timeout= says otherwise, connecting gives up after 5 s. */
#include "backend/sql.h"

#include <errmsg.h>
#include <mysql.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define IDLE_MAX 16

typedef struct {
    ap_sql base;
    char *user, *password, *dbname, *host, *socket;
    unsigned port;
    unsigned connect_s, read_s, write_s; /* 0: the library's default */
    bool parse_time, multi_statements, found_rows;
    int tls; /* 0 off, 1 preferred, 2 required without verification, 3 required and verified */
    char charset[32];
    char *init_sql; /* "SET a=b, c=d" for unknown parameters, or NULL */

    pthread_mutex_t lock;
    MYSQL *idle[IDLE_MAX];
    int nidle;
} my_db;

static pthread_once_t library_once = PTHREAD_ONCE_INIT;
static int library_rc;
static void library_init(void)
{
    library_rc = mysql_library_init(0, NULL, NULL);
}

/* The Go driver's wording: "Error 1064 (42000): You have an error ...". */
static void set_my_error(ap_errbuf *e, const char *what, MYSQL *m)
{
    ap_errbuf_set(e, "mysql: %s: Error %u (%s): %s", what, mysql_errno(m), mysql_sqlstate(m),
                  mysql_error(m));
}

static bool connection_lost(MYSQL *m)
{
    unsigned n = mysql_errno(m);
    return n == CR_SERVER_GONE_ERROR || n == CR_SERVER_LOST || n == CR_CONNECTION_ERROR ||
           n == CR_CONN_HOST_ERROR || n == CR_SERVER_LOST_EXTENDED;
}

static ap_sql_status connect_db(my_db *d, MYSQL **out, ap_errbuf *e)
{
    MYSQL *m = mysql_init(NULL);
    if (!m) {
        ap_errbuf_set(e, "mysql: connect: out of memory");
        return AP_SQL_UNAVAILABLE;
    }
    unsigned ct = d->connect_s ? d->connect_s : 5;
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
    if (d->read_s)
        mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &d->read_s);
    if (d->write_s)
        mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &d->write_s);
    mysql_options(m, MYSQL_SET_CHARSET_NAME, d->charset);
    if (d->tls >= 2) {
        my_bool on = 1, verify = d->tls == 3;
        mysql_options(m, MYSQL_OPT_SSL_ENFORCE, &on);
        mysql_options(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
    }
    unsigned long flags = (d->multi_statements ? CLIENT_MULTI_STATEMENTS : 0) |
                          (d->found_rows ? CLIENT_FOUND_ROWS : 0);
    if (!mysql_real_connect(m, d->host, d->user, d->password, d->dbname[0] ? d->dbname : NULL,
                            d->port, d->socket, flags)) {
        set_my_error(e, "connect", m);
        mysql_close(m);
        return AP_SQL_UNAVAILABLE;
    }
    if (d->init_sql && mysql_query(m, d->init_sql) != 0) {
        set_my_error(e, "dsn parameters", m);
        mysql_close(m);
        return AP_SQL_FAILED;
    }
    *out = m;
    return AP_SQL_OK;
}

static ap_sql_status borrow(my_db *d, MYSQL **out, bool *reused, ap_errbuf *e)
{
    pthread_mutex_lock(&d->lock);
    MYSQL *m = d->nidle ? d->idle[--d->nidle] : NULL;
    pthread_mutex_unlock(&d->lock);
    *reused = m != NULL;
    if (m) {
        *out = m;
        return AP_SQL_OK;
    }
    return connect_db(d, out, e);
}

static void give_back(my_db *d, MYSQL *m, bool broken)
{
    MYSQL *drop[IDLE_MAX + 1];
    int ndrop = 0;
    pthread_mutex_lock(&d->lock);
    if (broken) {
        drop[ndrop++] = m;
        while (d->nidle)
            drop[ndrop++] = d->idle[--d->nidle];
    } else if (d->nidle < IDLE_MAX) {
        d->idle[d->nidle++] = m;
    } else {
        drop[ndrop++] = m;
    }
    pthread_mutex_unlock(&d->lock);
    for (int i = 0; i < ndrop; i++)
        mysql_close(drop[i]);
}

/* "2024-01-02 03:04:05.123" → "2024-01-02T03:04:05.123Z" (fraction's trailing zeros dropped,
 * as Go writes it); a zero date is Go's zero time. */
static size_t rfc3339(const char *v, size_t len, char *out, size_t outsz)
{
    char date[16], clock[32] = "00:00:00";
    if (len < 10 || len >= 40)
        return 0;
    memcpy(date, v, 10);
    date[10] = '\0';
    if (len > 11) {
        size_t n = len - 11;
        memcpy(clock, v + 11, n);
        clock[n] = '\0';
        char *dot = strchr(clock, '.');
        if (dot) {
            char *end = clock + strlen(clock);
            while (end > dot + 1 && end[-1] == '0')
                *--end = '\0';
            if (end == dot + 1)
                *dot = '\0';
        }
    }
    if (strcmp(date, "0000-00-00") == 0)
        snprintf(date, sizeof date, "0001-01-01");
    int w = snprintf(out, outsz, "%sT%sZ", date, clock);
    return w > 0 && (size_t)w < outsz ? (size_t)w : 0;
}

static bool is_time_type(enum enum_field_types t)
{
    return t == MYSQL_TYPE_DATE || t == MYSQL_TYPE_DATETIME || t == MYSQL_TYPE_TIMESTAMP ||
           t == MYSQL_TYPE_NEWDATE;
}

/* Reads every row of the current result (mysql_store_result) into rows. */
static bool collect(my_db *d, MYSQL_RES *res, ap_sql_rows *rows)
{
    unsigned ncols = mysql_num_fields(res);
    MYSQL_FIELD *fields = mysql_fetch_fields(res);
    for (unsigned c = 0; c < ncols; c++)
        if (!ap_sql_rows_add_column(rows, fields[c].name, fields[c].name_length))
            return false;
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res))) {
        unsigned long *lens = mysql_fetch_lengths(res);
        for (unsigned c = 0; c < ncols; c++) {
            ap_sql_cell cell = {.kind = AP_CELL_NULL};
            char when[64];
            size_t n;
            if (row[c] && d->parse_time && is_time_type(fields[c].type) &&
                (n = rfc3339(row[c], lens[c], when, sizeof when)) > 0) {
                cell.kind = AP_CELL_TIME;
                cell.s = (ap_bytes){(const uint8_t *)when, n};
            } else if (row[c]) {
                cell.kind = AP_CELL_BASE64;
                cell.s = (ap_bytes){(const uint8_t *)row[c], lens[c]};
            }
            if (!ap_sql_rows_add_cell(rows, cell))
                return false;
        }
    }
    return true;
}

typedef struct {
    ap_sql_rows *rows; /* query: the last result set's rows go here */
    ap_sql_done *done; /* exec */
} my_want;

/* Runs the text and drains every result (several with multiStatements): the last result set
 * for a query, the first statement's counts for an exec. */
static ap_sql_status run(my_db *d, ap_bytes sql, my_want want, ap_errbuf *e)
{
    if (sql.len == 0) {
        ap_errbuf_set(e, "mysql: empty statement");
        return AP_SQL_INVALID;
    }
    for (int attempt = 0;; attempt++) {
        MYSQL *m;
        bool reused;
        ap_sql_status st = borrow(d, &m, &reused, e);
        if (st != AP_SQL_OK)
            return st;
        if (mysql_real_query(m, (const char *)sql.ptr, sql.len) != 0) {
            bool lost = connection_lost(m);
            set_my_error(e, lost ? "connection lost" : "query", m);
            give_back(d, m, lost);
            if (lost && reused && attempt == 0)
                continue;
            return lost ? AP_SQL_UNAVAILABLE : AP_SQL_FAILED;
        }
        ap_sql_rows got = {0};
        bool first = true, oom = false;
        int more;
        do {
            MYSQL_RES *res = mysql_store_result(m);
            if (res) {
                if (want.rows) {
                    ap_sql_rows_free(&got);
                    oom = oom || !collect(d, res, &got);
                }
                mysql_free_result(res);
            } else if (mysql_field_count(m) != 0) {
                break; /* an error reading the result: reported below */
            }
            if (first && want.done) {
                memset(want.done, 0, sizeof *want.done);
                want.done->has_rows_affected = want.done->has_last_insert_id = true;
                my_ulonglong n = mysql_affected_rows(m);
                want.done->rows_affected = n == (my_ulonglong)-1 ? 0 : (int64_t)n;
                want.done->last_insert_id = (int64_t)mysql_insert_id(m);
            }
            first = false;
        } while ((more = mysql_next_result(m)) == 0);
        if (mysql_errno(m) != 0) {
            bool lost = connection_lost(m);
            set_my_error(e, lost ? "connection lost" : "query", m);
            ap_sql_rows_free(&got);
            give_back(d, m, lost);
            return lost ? AP_SQL_UNAVAILABLE : AP_SQL_FAILED;
        }
        give_back(d, m, false);
        if (oom) {
            ap_sql_rows_free(&got);
            ap_errbuf_set(e, "mysql: out of memory");
            return AP_SQL_FAILED;
        }
        if (want.rows) {
            ap_sql_rows_free(want.rows); /* empty on entry */
            *want.rows = got;
        }
        return AP_SQL_OK;
    }
}

static ap_sql_status my_query(ap_sql *db, ap_bytes sql, ap_sql_rows *out, ap_errbuf *e)
{
    return run((my_db *)db, sql, (my_want){.rows = out}, e);
}

static ap_sql_status my_exec(ap_sql *db, ap_bytes sql, ap_sql_done *out, ap_errbuf *e)
{
    ap_sql_done done;
    ap_sql_status st = run((my_db *)db, sql, (my_want){.done = &done}, e);
    if (st == AP_SQL_OK)
        *out = done;
    return st;
}

static ap_sql_status my_ping(ap_sql *db, ap_errbuf *e)
{
    my_db *d = (my_db *)db;
    for (int attempt = 0; attempt < 2; attempt++) {
        MYSQL *m;
        bool reused;
        if (borrow(d, &m, &reused, e) != AP_SQL_OK)
            return AP_SQL_UNAVAILABLE;
        if (mysql_ping(m) == 0) {
            give_back(d, m, false);
            return AP_SQL_OK;
        }
        set_my_error(e, "ping", m);
        give_back(d, m, true);
        if (!reused)
            break;
    }
    return AP_SQL_UNAVAILABLE;
}

static void my_close(ap_sql *db)
{
    my_db *d = (my_db *)db;
    while (d->nidle)
        mysql_close(d->idle[--d->nidle]);
    pthread_mutex_destroy(&d->lock);
    free(d->user);
    free(d->password);
    free(d->dbname);
    free(d->host);
    free(d->socket);
    free(d->init_sql);
    free(d);
}

static const ap_sql_ops my_ops = {
    .name = "mysql",
    .query = my_query,
    .exec = my_exec,
    .ping = my_ping,
    .close = my_close,
};

/* ---- the Go driver's DSN ---- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A copy of [p, p+n), %XX-decoded (and '+' → ' ' when `query`); NULL on a bad escape or OOM. */
static char *unescape(const char *p, size_t n, bool query)
{
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '%') {
            if (i + 2 >= n || hexval(p[i + 1]) < 0 || hexval(p[i + 2]) < 0) {
                free(out);
                return NULL;
            }
            *o++ = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
            i += 2;
        } else {
            *o++ = query && p[i] == '+' ? ' ' : p[i];
        }
    }
    *o = '\0';
    return out;
}

/* Go's time.ParseDuration for what DSNs use ("1m30s", "500ms", "5s"), rounded up to seconds. */
static bool parse_duration_s(const char *v, unsigned *out)
{
    double total = 0;
    const char *p = v;
    if (!*p)
        return false;
    while (*p) {
        char *end;
        double x = strtod(p, &end);
        if (end == p || x < 0)
            return false;
        p = end;
        double unit;
        if (strncmp(p, "ns", 2) == 0)
            unit = 1e-9, p += 2;
        else if (strncmp(p, "us", 2) == 0)
            unit = 1e-6, p += 2;
        else if (strncmp(p, "\xc2\xb5s", 3) == 0)
            unit = 1e-6, p += 3;
        else if (strncmp(p, "ms", 2) == 0)
            unit = 1e-3, p += 2;
        else if (*p == 's')
            unit = 1, p++;
        else if (*p == 'm')
            unit = 60, p++;
        else if (*p == 'h')
            unit = 3600, p++;
        else if (*p == '\0' && x == 0)
            unit = 0;
        else
            return false;
        total += x * unit;
    }
    if (total > 86400.0 * 365)
        return false;
    unsigned s = (unsigned)total;
    *out = (double)s < total ? s + 1 : s;
    return true;
}

static bool parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < 6; i++) {
        if (strcmp(v, yes[i]) == 0)
            return *out = true, true;
        if (strcmp(v, no[i]) == 0)
            return *out = false, true;
    }
    return false;
}

/* Driver options that mean nothing here (the C library decides, or they are Go-only). */
static bool ignored_param(const char *k)
{
    static const char *const names[] = {
        "allowAllFiles", "allowCleartextPasswords", "allowFallbackToPlaintext",
        "allowNativePasswords", "allowOldPasswords", "checkConnLiveness", "collation",
        "columnsWithAlias", "connectionAttributes", "interpolateParams", "loc",
        "maxAllowedPacket", "rejectReadOnly", "serverPubKey", "timeTruncate"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(k, names[i]) == 0)
            return true;
    return false;
}

static bool apply_param(my_db *d, const char *k, const char *v, ap_buf *set, ap_errbuf *e)
{
    bool b;
    if (strcmp(k, "timeout") == 0 || strcmp(k, "readTimeout") == 0 ||
        strcmp(k, "writeTimeout") == 0) {
        unsigned *dst = k[0] == 't' ? &d->connect_s : k[0] == 'r' ? &d->read_s : &d->write_s;
        if (!parse_duration_s(v, dst))
            goto bad;
    } else if (strcmp(k, "parseTime") == 0) {
        if (!parse_bool(v, &d->parse_time))
            goto bad;
    } else if (strcmp(k, "multiStatements") == 0) {
        if (!parse_bool(v, &d->multi_statements))
            goto bad;
    } else if (strcmp(k, "clientFoundRows") == 0) {
        if (!parse_bool(v, &d->found_rows))
            goto bad;
    } else if (strcmp(k, "charset") == 0) {
        size_t n = strcspn(v, ",");
        if (n == 0 || n >= sizeof d->charset)
            goto bad;
        memcpy(d->charset, v, n);
        d->charset[n] = '\0';
    } else if (strcmp(k, "tls") == 0) {
        if (parse_bool(v, &b))
            d->tls = b ? 3 : 0;
        else if (strcmp(v, "skip-verify") == 0)
            d->tls = 2;
        else if (strcmp(v, "preferred") == 0)
            d->tls = 1;
        else {
            ap_errbuf_set(e, "mysql: sql_dsn: tls=%s: only true, false, skip-verify and "
                             "preferred are supported",
                          v);
            return false;
        }
    } else if (!ignored_param(k)) {
        for (const char *p = k; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '@'))
                goto bad;
        if (!ap_buf_printf(set, "%s%s=%s", set->len ? ", " : "SET ", k, v)) {
            ap_errbuf_set(e, "mysql: out of memory");
            return false;
        }
    }
    return true;
bad:
    ap_errbuf_set(e, "mysql: sql_dsn: invalid value for %s: \"%s\"", k, v);
    return false;
}

/* Fills d from a Go MySQL DSN; false with e set on a malformed one. */
static bool parse_dsn(my_db *d, const char *dsn, ap_errbuf *e)
{
    char *addr = NULL;
    const char *slash = NULL;
    const char *q = strchr(dsn, '?');
    const char *end_path = q ? q : dsn + strlen(dsn);
    for (const char *p = end_path; p > dsn; p--)
        if (p[-1] == '/') {
            slash = p - 1;
            break;
        }
    if (!slash) {
        ap_errbuf_set(e, "mysql: sql_dsn: invalid DSN: missing the slash separating the "
                         "database name (user:pass@tcp(host:port)/db)");
        return false;
    }
    /* user:password@net(address) */
    const char *at = NULL;
    for (const char *p = slash; p > dsn; p--)
        if (p[-1] == '@') {
            at = p - 1;
            break;
        }
    const char *net = at ? at + 1 : dsn;
    if (at) {
        const char *colon = memchr(dsn, ':', (size_t)(at - dsn));
        d->user = strndup(dsn, (size_t)((colon ? colon : at) - dsn));
        d->password = colon ? strndup(colon + 1, (size_t)(at - colon - 1)) : strdup("");
    } else {
        d->user = strdup("");
        d->password = strdup("");
    }
    if (!d->user || !d->password)
        goto oom;
    size_t netlen = (size_t)(slash - net);
    const char *paren = memchr(net, '(', netlen);
    char proto[16] = "tcp";
    if (paren) {
        if (slash[-1] != ')' || (size_t)(paren - net) >= sizeof proto) {
            ap_errbuf_set(e, "mysql: sql_dsn: invalid DSN: network address not terminated "
                             "(missing closing brace)");
            return false;
        }
        memcpy(proto, net, (size_t)(paren - net));
        proto[paren - net] = '\0';
        addr = strndup(paren + 1, (size_t)(slash - 1 - paren - 1));
    } else if (netlen) {
        if (netlen >= sizeof proto)
            goto badnet;
        memcpy(proto, net, netlen);
        proto[netlen] = '\0';
    }
    if (paren && !addr)
        goto oom;
    if (strcmp(proto, "tcp") == 0) {
        const char *hp = addr && addr[0] ? addr : "127.0.0.1:3306";
        const char *colon = strrchr(hp, ':');
        const char *hend = colon ? colon : hp + strlen(hp);
        if (hp[0] == '[') { /* [v6]:port */
            const char *close = strchr(hp, ']');
            if (!close)
                goto badnet;
            d->host = strndup(hp + 1, (size_t)(close - hp - 1));
            colon = close[1] == ':' ? close + 1 : NULL;
        } else {
            d->host = strndup(hp, (size_t)(hend - hp));
        }
        d->port = 3306;
        if (colon) {
            char *end;
            long port = strtol(colon + 1, &end, 10);
            if (*end || port <= 0 || port > 65535)
                goto badnet;
            d->port = (unsigned)port;
        }
        if (!d->host)
            goto oom;
    } else if (strcmp(proto, "unix") == 0) {
        d->socket = strdup(addr && addr[0] ? addr : "/tmp/mysql.sock");
        d->host = strdup("localhost");
        if (!d->socket || !d->host)
            goto oom;
    } else {
        goto badnet;
    }
    free(addr);
    addr = NULL;
    if (!(d->dbname = unescape(slash + 1, (size_t)(end_path - slash - 1), false))) {
        ap_errbuf_set(e, "mysql: sql_dsn: invalid database name escape");
        return false;
    }
    /* parameters */
    ap_buf set = {0};
    for (const char *p = q ? q + 1 : end_path; *p;) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (n) {
            char *k = unescape(p, eq ? (size_t)(eq - p) : n, true);
            char *v = eq ? unescape(eq + 1, n - (size_t)(eq - p) - 1, true) : strdup("");
            bool ok = k && v;
            if (!ok)
                ap_errbuf_set(e, "mysql: sql_dsn: invalid parameter escape");
            else if (!eq)
                ap_errbuf_set(e, "mysql: sql_dsn: invalid DSN: parameter \"%s\" has no value", k);
            ok = ok && eq && apply_param(d, k, v, &set, e);
            free(k);
            free(v);
            if (!ok) {
                ap_buf_free(&set);
                return false;
            }
        }
        p += n + (amp ? 1 : 0);
    }
    d->init_sql = set.len ? (char *)set.data : NULL;
    if (!set.len)
        ap_buf_free(&set);
    return true;
badnet:
    free(addr);
    ap_errbuf_set(e, "mysql: sql_dsn: unsupported network address \"%.*s\" (want tcp(host:port) "
                     "or unix(/path))",
                  (int)netlen, net);
    return false;
oom:
    free(addr);
    ap_errbuf_set(e, "mysql: out of memory");
    return false;
}

/* Parses sql_dsn; connects nothing (lazy, as Tarmac). */
ap_sql_status ap_sql_mysql_open(const ap_settings *s, ap_sql **out, ap_errbuf *e)
{
    pthread_once(&library_once, library_init);
    if (library_rc != 0) {
        ap_errbuf_set(e, "mysql: the client library failed to initialise");
        return AP_SQL_FAILED;
    }
    my_db *d = calloc(1, sizeof *d);
    if (!d) {
        ap_errbuf_set(e, "mysql: out of memory");
        return AP_SQL_FAILED;
    }
    pthread_mutex_init(&d->lock, NULL);
    d->base.ops = &my_ops;
    snprintf(d->charset, sizeof d->charset, "utf8mb4");
    if (!parse_dsn(d, s->sql_dsn ? s->sql_dsn : "", e)) {
        my_close(&d->base);
        return AP_SQL_INVALID;
    }
    *out = &d->base;
    return AP_SQL_OK;
}
