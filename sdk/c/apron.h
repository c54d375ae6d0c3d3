/* apron.h — the C guest SDK: write apron (and Tarmac) functions in C as waPC guests.
 *
 * A function is a WebAssembly reactor that registers operation handlers in apron_init() and
 * calls the host's capabilities (logger, kvstore, sql, httpclient, metrics, function) through
 * the typed helpers below, which speak the JSON payloads of Tarmac's host callbacks (SQL exec:
 * protobuf, the only format Tarmac accepts for it). Build, with sdk/c/apron.c beside your file:
 *
 *   clang --target=wasm32-wasi --sysroot=/usr -mexec-model=reactor -O2 \
 *         -I sdk/c -o hello.wasm hello.c sdk/c/apron.c
 *
 *   #include "apron.h"
 *   static apron_status hello(const uint8_t *payload, size_t len, apron_buf *out)
 *   {
 *       return apron_buf_printf(out, "Hello, %.*s", (int)len, (const char *)payload);
 *   }
 *   void apron_init(void) { apron_register("handler", hello); }
 *
 * The SDK exports `__guest_call` and `wapc_init`, and imports only the `wapc` functions it uses.
 * apron_init() runs once, from `wapc_init` or before the first call, whichever comes first.
 * Memory comes from malloc; every buffer the SDK fills belongs to the caller (apron_buf_free,
 * apron_strlist_free, apron_http_response_free). A guest runs one call at a time: nothing here
 * is thread-safe, and nothing needs to be.
 *
 * Outside WebAssembly (native unit tests) the same file compiles without the waPC imports:
 * host calls go to apron_native_host_call, a hook the test sets. */
#ifndef APRON_H
#define APRON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Status ---- */

typedef enum {
    APRON_OK = 0,
    APRON_PARTIAL,      /* sql exec ran but the host lacks some metadata (Tarmac's 206) */
    APRON_ERR_INVALID,  /* bad argument; rejected before any host call */
    APRON_ERR_HOST,     /* the host call failed; apron_error holds the host's text and code */
    APRON_ERR_REPLY,    /* the host's reply could not be parsed */
    APRON_ERR_NOMEM,    /* malloc failed */
    APRON_ERR_FAILED    /* a handler's own failure (apron_fail) */
} apron_status;

/* A static English text for a status ("ok", "invalid argument", ...). */
const char *apron_status_text(apron_status st);

/* The error a typed helper reports: `code` is the status code in the host's reply (Tarmac's 400,
 * 404, 500, 206 ...) or 0 when there was none; `msg` the host's error text or the SDK's own,
 * NUL-terminated and cut at sizeof msg - 1 bytes. Written only when a helper does not return
 * APRON_OK. Every helper accepts NULL for it. */
typedef struct {
    int code;
    char msg[512];
} apron_error;

/* ---- Byte buffers ---- */

/* A growable byte buffer: `ptr` holds `len` bytes followed by a NUL (not counted), so text in it
 * is a C string; `ptr` is NULL while empty. Zero-initialise (APRON_BUF_INIT), free with
 * apron_buf_free. */
typedef struct {
    uint8_t *ptr;
    size_t len;
    size_t cap;
} apron_buf;

#define APRON_BUF_INIT {NULL, 0, 0}

void apron_buf_free(apron_buf *b);                                /* then empty and reusable */
void apron_buf_reset(apron_buf *b);                               /* len = 0, keeps memory */
apron_status apron_buf_append(apron_buf *b, const void *p, size_t n);
apron_status apron_buf_puts(apron_buf *b, const char *s);
apron_status apron_buf_printf(apron_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
apron_status apron_buf_vprintf(apron_buf *b, const char *fmt, va_list ap);
/* The text in b, "" when empty; valid until b next changes. */
const char *apron_buf_cstr(const apron_buf *b);

/* A list of NUL-terminated strings, each and the array malloc'd; free with apron_strlist_free. */
typedef struct {
    char **items;
    size_t count;
} apron_strlist;

void apron_strlist_free(apron_strlist *l);

/* ---- Handlers and the waPC entry points ---- */

/* Runs one invocation. `payload` holds `len` bytes followed by a NUL (so text payloads are C
 * strings); it lives until the handler returns. Append the response to `out` and return
 * APRON_OK, or put an error message in `out` and return anything else (apron_fail does both).
 * An empty message becomes `operation "<op>" failed`. */
typedef apron_status (*apron_handler)(const uint8_t *payload, size_t len, apron_buf *out);

/* Defined by the guest: registers its operations. Tarmac invokes operation "handler". */
void apron_init(void);

/* Registers `fn` for operation `op` (copied; a second registration replaces the first).
 * APRON_ERR_INVALID for an empty name or NULL fn, APRON_ERR_NOMEM. */
apron_status apron_register(const char *op, apron_handler fn);

/* For handlers: replaces the contents of `out` with the formatted message and returns
 * APRON_ERR_FAILED. */
apron_status apron_fail(apron_buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Runs the handler registered for `op` as __guest_call does (calling apron_init first if it has
 * not run); `out` receives the response or the error text. Unknown operations fail with
 * `Could not find function "<op>"`, the text TinyGo and AssemblyScript guests use. */
apron_status apron_dispatch(const char *op, size_t op_len, const uint8_t *payload, size_t len,
                            apron_buf *out);

/* ---- Raw host calls ---- */

/* What one host call left: the host's response bytes and, when it failed, its error text. Tarmac
 * leaves an encoded status response even on failure, so `data` may be non-empty then too. */
typedef struct {
    apron_buf data;
    apron_buf error;
} apron_reply;

void apron_reply_free(apron_reply *r);

/* Calls the host: binding/namespace/operation and `len` payload bytes. APRON_OK when the host
 * answered success, APRON_ERR_HOST when it answered failure (r->error holds its text, never
 * empty: "host call failed" stands in for none), APRON_ERR_NOMEM. `r` is overwritten either way;
 * free it with apron_reply_free. */
apron_status apron_host_call(const char *binding, const char *ns, const char *op,
                             const void *payload, size_t len, apron_reply *r);

/* The binding the typed helpers use: "tarmac" unless set (apron also answers "default").
 * The string must stay valid. */
void apron_set_binding(const char *binding);

/* Writes a line to the host log through waPC's __console_log (no capability needed). */
void apron_console_log(const char *msg);

#ifndef __wasm__
/* Native builds only: the host that apron_host_call talks to. It fills `r` (empty on entry) and
 * returns 1 for success, 0 for failure, as __host_call does. NULL: every call fails. */
extern int (*apron_native_host_call)(const char *binding, const char *ns, const char *op,
                                     const uint8_t *payload, size_t len, apron_reply *r);
#endif

/* ---- logger: tarmac:logger:<level>, the message as raw bytes ---- */

typedef enum {
    APRON_LOG_ERROR,
    APRON_LOG_WARN,
    APRON_LOG_INFO,
    APRON_LOG_DEBUG,
    APRON_LOG_TRACE
} apron_log_level;

apron_status apron_log(apron_log_level level, const char *msg, size_t len);
apron_status apron_logf(apron_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
apron_status apron_log_error(const char *msg);
apron_status apron_log_warn(const char *msg);
apron_status apron_log_info(const char *msg);
apron_status apron_log_debug(const char *msg);
apron_status apron_log_trace(const char *msg);

/* ---- kvstore: tarmac:kvstore:{get,set,delete,keys}, JSON ---- */

/* Reads the value of `key` into `value` (replaced on success only). Empty key:
 * APRON_ERR_INVALID "key cannot be empty". A missing key is APRON_ERR_HOST with code 404. */
apron_status apron_kv_get(const char *key, apron_buf *value, apron_error *err);
/* Stores `len` bytes under `key`; empty key or data is APRON_ERR_INVALID. */
apron_status apron_kv_set(const char *key, const void *data, size_t len, apron_error *err);
apron_status apron_kv_delete(const char *key, apron_error *err);
/* Every key in the store into `keys` (replaced on success only; count 0 for none). */
apron_status apron_kv_keys(apron_strlist *keys, apron_error *err);

/* ---- sql: tarmac:sql:query (JSON), tarmac:sql:exec (protobuf) ---- */

/* Runs `sql`; `result` receives the rows as the host encodes them: a JSON array of objects, one
 * per row, keys = column names, or the text `null` for no rows (replaced on success only). */
apron_status apron_sql_query(const char *sql, apron_buf *result, apron_error *err);

typedef struct {
    int64_t rows_affected;
    int64_t last_insert_id;
} apron_sql_exec_result;

/* Runs a statement and reports rows affected and last insert id (0 when the back end lacks one).
 * APRON_PARTIAL (with `out` filled and err holding code 206 and the host's text) when the
 * statement ran but some metadata is unavailable — every Postgres exec. */
apron_status apron_sql_exec(const char *sql, apron_sql_exec_result *out, apron_error *err);

/* ---- httpclient: tarmac:httpclient:call, JSON ---- */

typedef struct {
    const char *name;
    const char *value;
} apron_header;

typedef struct {
    const char *method;          /* NULL or "" = GET */
    const char *url;             /* required */
    const apron_header *headers; /* nheaders pairs; the host sets one value per name */
    size_t nheaders;
    const void *body;            /* sent base64-encoded; may be NULL when body_len is 0 */
    size_t body_len;
    int insecure;                /* non-zero: skip TLS certificate verification */
} apron_http_request;

typedef struct {
    int code;              /* the remote status code (404 is a successful call) */
    apron_header *headers; /* names lower-cased, first value of each; owned */
    size_t nheaders;
    apron_buf body;
} apron_http_response;

void apron_http_response_free(apron_http_response *resp);
/* The value of header `name` (ASCII case-insensitive) or NULL. */
const char *apron_http_header(const apron_http_response *resp, const char *name);

/* Sends the request; `resp` is replaced on success only. A remote error status is still
 * APRON_OK: check resp->code. Transport failures are APRON_ERR_HOST (code 400 or 500). */
apron_status apron_http_call(const apron_http_request *req, apron_http_response *resp,
                             apron_error *err);
apron_status apron_http_get(const char *url, apron_http_response *resp, apron_error *err);

/* ---- metrics: tarmac:metrics:{counter,gauge,histogram}, JSON ---- */

apron_status apron_metrics_counter_inc(const char *name, apron_error *err);
apron_status apron_metrics_gauge_inc(const char *name, apron_error *err);
apron_status apron_metrics_gauge_dec(const char *name, apron_error *err);
/* `value` must be finite (JSON has no NaN or infinity). */
apron_status apron_metrics_histogram_observe(const char *name, double value, apron_error *err);

/* ---- function: tarmac:function:<name>, raw bytes ---- */

/* Runs another function's handler with `len` bytes of input; `out` receives its output
 * (replaced on success only). */
apron_status apron_function_call(const char *name, const void *input, size_t len, apron_buf *out,
                                 apron_error *err);

/* ---- HTTP request and response: tarmac:request:*, tarmac:response:* (apron, not Tarmac) ---- */

/* During a call made for an HTTP request these read the request and shape the response
 * (docs/http-apis.md). Elsewhere (init function, scheduled task, function-to-function call) the
 * request helpers fail with APRON_ERR_HOST "no http request in this context" and the response
 * helpers succeed without effect. `out` is replaced on success only. */
apron_status apron_request_method(apron_buf *out, apron_error *err); /* "GET", "POST", ... */
apron_status apron_request_path(apron_buf *out, apron_error *err);   /* escaped, no query */
apron_status apron_request_query(apron_buf *out, apron_error *err);  /* raw, without '?' */
/* The first value of header `name` (any case); APRON_ERR_HOST "header not found" when absent. */
apron_status apron_request_header(const char *name, apron_buf *out, apron_error *err);
/* Every header as a JSON object: lower-cased name → array of values, in the order received. */
apron_status apron_request_headers(apron_buf *out, apron_error *err);
apron_status apron_request_remote_addr(apron_buf *out, apron_error *err); /* "ip:port" */
/* The value of the route's `:name` (or `*name`) segment. */
apron_status apron_request_param(const char *name, apron_buf *out, apron_error *err);
/* The response status, 200-599; anything else fails with the host's error. A handler that
 * fails after choosing a status of 400 or more answers with that status and its error text. */
apron_status apron_response_status(int status, apron_error *err);
/* Adds a response header (repeatable). The host refuses Server, hop-by-hop headers,
 * Content-Length and Date, and names that are not HTTP tokens or values with control
 * characters. */
apron_status apron_response_header(const char *name, const char *value, apron_error *err);

/* ---- JSON and base64, as the helpers use them (usable by guests too) ---- */

/* Appends `s` as a JSON string literal, escaped as Go's encoding/json does (\" \\ \n \r \t \b
 * \f, other controls and < > & as \u00XX, U+2028/U+2029 escaped, invalid UTF-8 as \ufffd). */
apron_status apron_json_put_string(apron_buf *b, const char *s, size_t n);

/* A JSON reader over `n` bytes: a cursor moved by the calls below. The first error sticks
 * (`failed` set, every later call fails); nothing reads past `end`; nesting is limited to
 * APRON_JSON_MAX_DEPTH. */
#define APRON_JSON_MAX_DEPTH 64

typedef enum {
    APRON_JSON_NONE,
    APRON_JSON_NULL,
    APRON_JSON_BOOL,
    APRON_JSON_NUMBER,
    APRON_JSON_STRING,
    APRON_JSON_ARRAY,
    APRON_JSON_OBJECT
} apron_json_type;

typedef struct {
    const char *p;
    const char *end;
    int failed;
    int depth;
    unsigned char first[APRON_JSON_MAX_DEPTH]; /* per open container: no member read yet */
} apron_json;

void apron_json_init(apron_json *j, const char *s, size_t n);
/* The type of the next value (APRON_JSON_NONE at the end or after an error). */
apron_json_type apron_json_peek(apron_json *j);
/* Object: begin, then next_member until it returns 0 (the closing brace, consumed); 1 means a
 * member's key is in `key` and its value comes next (read it or skip it); -1 an error. */
int apron_json_begin_object(apron_json *j);
int apron_json_next_member(apron_json *j, apron_buf *key);
/* Array: the same, with next_element returning 1 before each element. */
int apron_json_begin_array(apron_json *j);
int apron_json_next_element(apron_json *j);
/* Values; each returns 0 on success and -1 on error (a wrong type is an error). A string is
 * decoded to UTF-8 into `out` (replaced); \u escapes of lone surrogates become U+FFFD. */
int apron_json_string(apron_json *j, apron_buf *out);
int apron_json_int(apron_json *j, int64_t *out);
int apron_json_double(apron_json *j, double *out);
int apron_json_bool(apron_json *j, int *out);
int apron_json_null(apron_json *j);
int apron_json_skip(apron_json *j);
/* 0 when only white space is left, else -1. */
int apron_json_finish(apron_json *j);

/* Standard base64 with padding. Decoding ignores CR and LF, rejects anything else that is not
 * in the alphabet, misplaced padding and a length that is not a multiple of 4 (APRON_ERR_INVALID,
 * `out` untouched). Both append to `out`. */
apron_status apron_base64_encode(apron_buf *out, const void *data, size_t n);
apron_status apron_base64_decode(apron_buf *out, const char *s, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* APRON_H */
