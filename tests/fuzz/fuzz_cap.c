/* fuzz_cap.c — libFuzzer target: the payload decoders of every Tarmac capability callback
 * (src/cap/, src/cap/codec/): logger, kvstore get/set/delete/keys, sql query/exec, httpclient
 * call, metrics counter/gauge/histogram, function. An input is a sequence of calls, so one input
 * can store then read, or create then select:
 *
 *     [op][payload length: 2 bytes, little-endian][payload] ...   (a short last payload: the rest)
 *
 * op % OPS picks the call; op & 0x80 makes it from an instance named "guarded", whose tarmac.json
 * allowed_hosts restrict httpclient. Calls go through the waPC registry exactly as __host_call
 * sends them, so every payload is tried as protobuf, then as JSON, as a guest's would be.
 *
 * tarmac:function reaches real loaded functions (ap_cap_bind_functions), built from this build's
 * tests/guests: "echo" (http_echo.wasm, request isolation: answers its payload), "call"
 * (http_call.wasm: calls tarmac:function:echo) and "relay" (fn_relay.wasm: its payload names the
 * next host call, [n][namespace][m][operation][rest], so one input chains relay → relay → … →
 * any capability, traps, or fails). function_max_depth is 4 here, so chains reach the limit;
 * "guarded" has a route but no loaded function ("module not found").
 *
 * Per input, nothing shared between inputs: the in-memory KV back end (kv/mem.c) and SQLite on
 * ":memory:" (sql/sqlite.c), fenced below so a mutated statement cannot attach files, build huge
 * values or loop for ever; user metrics are forgotten after each input.
 *
 * No network: this file defines curl_easy_setopt, curl_easy_getinfo and curl_easy_perform, which
 * the linker binds httpclient.c's calls to (the rest of libcurl — URL parsing, header lists — is
 * the real one). httpclient's method, URL, allowed_hosts and header checks run; "performing"
 * feeds the response last set by op HTTP_RESPONSE ("HTTP/1.1 302 Found\r\nLocation: …\r\n\r\n
 * body") to its header and body callbacks; with none set the call fails as a refused connection.
 *
 * Any input must give an answer, never a crash, a leak or undefined behaviour. Seeds: tests/fuzz/corpus/cap/ (made by tests/fuzz/seeds.py from the unit tests'
 * payloads). */
#define _GNU_SOURCE /* RTLD_NEXT */
#define CURL_DISABLE_TYPECHECK /* curl_easy_setopt is a function here, not the checking macro */
#include <curl/curl.h>
#include <dlfcn.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/metrics.h"
#include "cap/internal.h"

/* ---- libcurl, stopped before the network ---- */

static curl_write_callback write_fn, header_fn;
static void *write_data, *header_data;
static uint8_t canned[65536]; /* the response "performed" */
static size_t canned_len;
static bool have_canned;

static void *real_sym(const char *name)
{
    void *p = dlsym(RTLD_NEXT, name);
    if (!p)
        abort();
    return p;
}

CURLcode curl_easy_setopt(CURL *h, CURLoption opt, ...)
{
    static CURLcode (*real)(CURL *, CURLoption, ...);
    if (!real)
        real = (CURLcode(*)(CURL *, CURLoption, ...))real_sym("curl_easy_setopt");
    va_list ap;
    va_start(ap, opt);
    CURLcode rc;
    /* the argument's type follows from the option's number range (curl.h's CURLOPTTYPE_*) */
    if (opt < CURLOPTTYPE_OBJECTPOINT) {
        rc = real(h, opt, va_arg(ap, long));
    } else if (opt < CURLOPTTYPE_FUNCTIONPOINT) {
        void *p = va_arg(ap, void *);
        if (opt == CURLOPT_WRITEDATA)
            write_data = p;
        else if (opt == CURLOPT_HEADERDATA)
            header_data = p;
        rc = real(h, opt, p);
    } else if (opt < CURLOPTTYPE_OFF_T) {
        curl_write_callback f = va_arg(ap, curl_write_callback);
        if (opt == CURLOPT_WRITEFUNCTION)
            write_fn = f;
        else if (opt == CURLOPT_HEADERFUNCTION)
            header_fn = f;
        rc = real(h, opt, f);
    } else if (opt < CURLOPTTYPE_BLOB) {
        rc = real(h, opt, va_arg(ap, curl_off_t));
    } else {
        rc = real(h, opt, va_arg(ap, void *));
    }
    va_end(ap);
    return rc;
}

/* The canned response's parts: status code, Location, head length. */
static long canned_code;
static char canned_location[512];

CURLcode curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
    static CURLcode (*real)(CURL *, CURLINFO, ...);
    if (!real)
        real = (CURLcode(*)(CURL *, CURLINFO, ...))real_sym("curl_easy_getinfo");
    va_list ap;
    va_start(ap, info);
    void *p = va_arg(ap, void *);
    va_end(ap);
    if (info == CURLINFO_RESPONSE_CODE) {
        *(long *)p = canned_code;
        return CURLE_OK;
    }
    if (info == CURLINFO_REDIRECT_URL) {
        *(char **)p = canned_code >= 300 && canned_code < 400 && canned_location[0]
                          ? canned_location
                          : NULL;
        return CURLE_OK;
    }
    return real(h, info, p);
}

CURLcode curl_easy_perform(CURL *h)
{
    (void)h;
    if (!have_canned)
        return CURLE_COULDNT_CONNECT;
    canned_code = 0;
    canned_location[0] = 0;
    /* head: lines up to an empty one, each handed over with its line end, as curl does */
    size_t i = 0;
    while (i < canned_len) {
        size_t e = i;
        while (e < canned_len && canned[e] != '\n')
            e++;
        size_t len = e < canned_len ? e - i + 1 : e - i;
        char *line = (char *)canned + i;
        if (i == 0 && len > 9 && memcmp(line, "HTTP/", 5) == 0)
            canned_code = strtol(line + 9, NULL, 10) % 1000;
        if (len >= 9 && strncasecmp(line, "location:", 9) == 0) {
            size_t n = len - 9 < sizeof canned_location - 1 ? len - 9 : sizeof canned_location - 1;
            memcpy(canned_location, line + 9, n);
            canned_location[n] = 0;
            canned_location[strcspn(canned_location, "\r\n")] = 0;
        }
        if (header_fn(line, 1, len, header_data) != len)
            return CURLE_WRITE_ERROR;
        i += len;
        if (len <= 2 && (line[0] == '\r' || line[0] == '\n'))
            break; /* the empty line ends the head */
    }
    /* body: in two pieces, so a cap can fall between them */
    size_t rest = canned_len - i, half = rest / 2;
    if (half && write_fn((char *)canned + i, 1, half, write_data) != half)
        return CURLE_WRITE_ERROR;
    if (rest - half &&
        write_fn((char *)canned + i + half, 1, rest - half, write_data) != rest - half)
        return CURLE_WRITE_ERROR;
    return CURLE_OK;
}

/* ---- SQLite, fenced ---- */

static long sql_budget; /* progress callbacks left for this input */

static int sql_progress(void *user)
{
    (void)user;
    return --sql_budget < 0; /* non-zero interrupts the statement */
}

int sqlite3_open_v2(const char *name, sqlite3 **db, int flags, const char *vfs)
{
    static int (*real)(const char *, sqlite3 **, int, const char *);
    if (!real)
        real = (int (*)(const char *, sqlite3 **, int, const char *))real_sym("sqlite3_open_v2");
    int rc = real(":memory:", db, flags, vfs);
    if (rc == SQLITE_OK) {
        sqlite3_limit(*db, SQLITE_LIMIT_ATTACHED, 0); /* no ATTACH, no VACUUM INTO: no files */
        sqlite3_limit(*db, SQLITE_LIMIT_LENGTH, 1 << 20);
        sqlite3_progress_handler(*db, 1000, sql_progress, NULL);
    }
    return rc;
}

/* ---- the capabilities ---- */

enum {
    OP_LOG_ERROR, OP_LOG_WARN, OP_LOG_INFO, OP_LOG_DEBUG, OP_LOG_TRACE,
    OP_KV_GET, OP_KV_SET, OP_KV_DELETE, OP_KV_KEYS,
    OP_SQL_QUERY, OP_SQL_EXEC,
    OP_HTTP_CALL,
    OP_METRICS_COUNTER, OP_METRICS_GAUGE, OP_METRICS_HISTOGRAM,
    OP_FUNCTION,         /* tarmac:function:guarded (a route with no loaded function) */
    OP_FUNCTION_UNKNOWN, /* tarmac:function:<payload>: no such handler */
    OP_HTTP_RESPONSE,    /* sets the response the next httpclient calls get */
    OP_METRICS_RENDER,   /* /metrics with the user metrics so far */
    OP_FUNCTION_CALL,    /* [n][name: n bytes][rest]: tarmac:function:<name> with rest */
    OPS
};

static const struct {
    const char *ns, *op;
} calls[] = {
    [OP_LOG_ERROR] = {"logger", "error"},        [OP_LOG_WARN] = {"logger", "warn"},
    [OP_LOG_INFO] = {"logger", "info"},          [OP_LOG_DEBUG] = {"logger", "debug"},
    [OP_LOG_TRACE] = {"logger", "trace"},        [OP_KV_GET] = {"kvstore", "get"},
    [OP_KV_SET] = {"kvstore", "set"},            [OP_KV_DELETE] = {"kvstore", "delete"},
    [OP_KV_KEYS] = {"kvstore", "keys"},          [OP_SQL_QUERY] = {"sql", "query"},
    [OP_SQL_EXEC] = {"sql", "exec"},             [OP_HTTP_CALL] = {"httpclient", "call"},
    [OP_METRICS_COUNTER] = {"metrics", "counter"}, [OP_METRICS_GAUGE] = {"metrics", "gauge"},
    [OP_METRICS_HISTOGRAM] = {"metrics", "histogram"}, [OP_FUNCTION] = {"function", "guarded"},
};

static const char tarmac_json[] =
    "{\"services\":{\"svc\":{\"name\":\"svc\",\"functions\":{"
    "\"guarded\":{\"filepath\":\"g.wasm\",\"allowed_hosts\":[\"127.0.0.1:1\",\"*.example.test\","
    "\"localhost\"]},"
    "\"echo\":{\"filepath\":\"http_echo.wasm\"},\"call\":{\"filepath\":\"http_call.wasm\"},"
    "\"relay\":{\"filepath\":\"fn_relay.wasm\"}},"
    "\"routes\":[{\"type\":\"function\",\"function\":\"guarded\"},"
    "{\"type\":\"function\",\"function\":\"echo\"},{\"type\":\"function\",\"function\":\"call\"},"
    "{\"type\":\"function\",\"function\":\"relay\"}]}}}";

#ifndef APRON_GUESTS_DIR
#error "APRON_GUESTS_DIR: the build's tests/guests folder (tests/fuzz/fuzz.cmake)"
#endif

/* The functions tarmac:function calls: name, guest file, pool size, isolation. Pools are larger
 * than the depth limit, so a chain never waits for an instance. */
static const struct {
    const char *name, *file;
    size_t pool;
    ap_isolation isolation;
} loaded[] = {
    {"echo", "http_echo.wasm", 8, AP_ISOLATION_REQUEST},
    {"call", "http_call.wasm", 8, AP_ISOLATION_POOL},
    {"relay", "fn_relay.wasm", 8, AP_ISOLATION_POOL},
};
#define NLOADED (sizeof loaded / sizeof *loaded)
static ap_pool_fn *fns[NLOADED];

/* The smallest waPC guest: memory and a __guest_call that returns 0. Its instance only names
 * the caller (allowed_hosts, log records); it never runs. */
static const uint8_t guest[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,             /* magic, version */
    0x01, 0x07, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f,       /* type (i32,i32)->i32 */
    0x03, 0x02, 0x01, 0x00,                                     /* func 0: type 0 */
    0x05, 0x03, 0x01, 0x00, 0x01,                               /* memory min 1 */
    0x07, 0x19, 0x02, 0x0c, '_', '_', 'g', 'u', 'e', 's', 't', '_', 'c', 'a', 'l', 'l', 0x00,
    0x00, 0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00,       /* exports */
    0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x00, 0x0b,             /* code: i32.const 0 */
};

static ap_settings settings;
static ap_tarmac *tarmac;
static ap_cap *cap;
static ap_wapc_registry *reg;
static ap_wapc_instance *guarded;
static bool debug;

static void setup(void)
{
    ap_errbuf e;
    ap_buf problems = {0};
    /* every record is formatted (the logger's payload is the message), then dropped */
    ap_log_setup(AP_LOG_TRACE, false, fopen("/dev/null", "w"));
    if (ap_settings_defaults(&settings) != AP_CONFIG_OK)
        abort();
    settings.http_client_max_response_body_size = 64; /* small: the cap's truncation is reached */
    settings.function_max_depth = 4;                   /* chains reach the limit */
    settings.pool_wait_timeout_ms = 100;
    if (ap_tarmac_parse(tarmac_json, sizeof tarmac_json - 1, "fuzz.json", "/fuzz", &tarmac,
                        &problems) != AP_CONFIG_OK)
        abort();
    ap_buf_free(&problems);
    /* back ends are set per input; present now so every kvstore and sql handler registers */
    static ap_kv placeholder_kv;
    static ap_sql placeholder_sql;
    ap_cap_config cc = {.settings = &settings, .tarmac = tarmac, .kv = &placeholder_kv,
                        .sql = &placeholder_sql};
    if (!ap_cap_new(&cc, &cap, &e) || !(reg = ap_wapc_registry_new()) ||
        !ap_cap_register(cap, reg))
        abort();
    ap_wapc_module *m;
    ap_wapc_config wc = {.name = "guarded", .registry = reg};
    if (ap_wapc_module_load(guest, sizeof guest, &m, &e) != AP_WAPC_OK ||
        ap_wapc_instance_new(m, &wc, &guarded, &e) != AP_WAPC_OK)
        abort();
    ap_wapc_module_unref(m);
    for (size_t i = 0; i < NLOADED; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", APRON_GUESTS_DIR, loaded[i].file);
        ap_wapc_config fc = {.registry = reg, .tarmac_texts = true};
        ap_pool_fn_opts o = {.pool_size = loaded[i].pool, .timeout_ms = 10000,
                             .isolation = loaded[i].isolation};
        if (ap_pool_fn_load_opts(loaded[i].name, path, &o, &fc, &fns[i], &e) != AP_POOL_OK) {
            fprintf(stderr, "fuzz-cap: %s: %s (built by the wat_guests target)\n", path, e.msg);
            abort();
        }
    }
    ap_cap_bind_functions(cap, fns, NLOADED);
    debug = getenv("FUZZ_DEBUG") != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!reg)
        setup();
    ap_errbuf e;
    ap_settings mem = settings;
    mem.sql_dsn = (char *)":memory:";
    if (ap_kv_mem_open(&mem, &cap->kv, &e) != AP_KV_OK ||
        ap_sql_sqlite_open(&mem, &cap->sql, &e) != AP_SQL_OK)
        abort();
    sql_budget = 20000; /* 20M SQLite VM steps per input */
    have_canned = false;
    ap_buf resp = {0}, err = {0};
    for (size_t i = 0; i + 3 <= size;) {
        uint8_t op = data[i];
        size_t len = (size_t)data[i + 1] | (size_t)data[i + 2] << 8;
        i += 3;
        if (len > size - i)
            len = size - i;
        ap_bytes payload = {data + i, len};
        i += len;
        int k = (op & 0x7f) % OPS;
        if (k == OP_HTTP_RESPONSE) {
            canned_len = len < sizeof canned ? len : sizeof canned;
            memcpy(canned, payload.ptr, canned_len);
            have_canned = true;
            continue;
        }
        ap_buf_reset(&resp);
        ap_buf_reset(&err);
        if (k == OP_METRICS_RENDER) {
            ap_metrics_write(&resp);
            continue;
        }
        ap_wapc_call call = {
            .binding = {(const uint8_t *)"tarmac", 6},
            .payload = payload,
            .instance = op & 0x80 ? guarded : NULL,
        };
        if (k == OP_FUNCTION_UNKNOWN) {
            call.namespace_ = (ap_bytes){(const uint8_t *)"function", 8};
            call.operation = payload;
        } else if (k == OP_FUNCTION_CALL) {
            size_t n = len ? payload.ptr[0] : 0;
            if (n > len - (len > 0)) n = len - (len > 0);
            call.namespace_ = (ap_bytes){(const uint8_t *)"function", 8};
            call.operation = (ap_bytes){payload.ptr + (len > 0), n};
            call.payload = (ap_bytes){payload.ptr + (len > 0) + n, len - (len > 0) - n};
        } else {
            call.namespace_ = (ap_bytes){(const uint8_t *)calls[k].ns, strlen(calls[k].ns)};
            call.operation = (ap_bytes){(const uint8_t *)calls[k].op, strlen(calls[k].op)};
        }
        ap_wapc_host_status st = ap_wapc_registry_dispatch(reg, &call, &resp, &err);
        if (debug) /* FUZZ_DEBUG=1: what each call answered, to check seeds by hand */
            fprintf(stderr, "%s:%.*s %s resp=%.*s err=%.*s\n", (const char *)call.namespace_.ptr,
                    (int)call.operation.len, (const char *)call.operation.ptr,
                    st == AP_WAPC_HOST_OK ? "ok" : "error", (int)resp.len,
                    resp.data ? (const char *)resp.data : "", (int)err.len,
                    err.data ? (const char *)err.data : "");
    }
    ap_buf_free(&resp);
    ap_buf_free(&err);
    ap_kv_close(cap->kv);
    ap_sql_close(cap->sql);
    cap->kv = NULL;
    cap->sql = NULL;
    cap_metrics_reset();
    return 0;
}
