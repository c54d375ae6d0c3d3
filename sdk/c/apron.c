/* apron.c — the C guest SDK (see apron.h): buffers, the operation registry and the waPC entry
 * points, host calls, the Tarmac capability helpers, and the small JSON, base64 and protobuf
 * codecs they need. Only the waPC imports and exports depend on WebAssembly (#ifdef __wasm__);
 * the rest compiles natively for the unit tests (tests/unit/sdk/). */
#include "apron.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *apron_status_text(apron_status st)
{
    switch (st) {
    case APRON_OK: return "ok";
    case APRON_PARTIAL: return "partial result";
    case APRON_ERR_INVALID: return "invalid argument";
    case APRON_ERR_HOST: return "host call failed";
    case APRON_ERR_REPLY: return "malformed host reply";
    case APRON_ERR_NOMEM: return "out of memory";
    case APRON_ERR_FAILED: return "failed";
    }
    return "unknown status";
}

/* ---- Errors ---- */

static void set_err(apron_error *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_err(apron_error *e, int code, const char *fmt, ...)
{
    if (!e) return;
    va_list ap;
    va_start(ap, fmt);
    e->code = code;
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
}

/* ---- Byte buffers ---- */

void apron_buf_free(apron_buf *b)
{
    free(b->ptr);
    b->ptr = NULL;
    b->len = b->cap = 0;
}

void apron_buf_reset(apron_buf *b)
{
    b->len = 0;
    if (b->ptr) b->ptr[0] = 0;
}

/* Makes room for `n` more bytes plus the NUL. */
static apron_status buf_reserve(apron_buf *b, size_t n)
{
    if (n > SIZE_MAX - b->len - 1) return APRON_ERR_NOMEM;
    size_t need = b->len + n + 1;
    if (need <= b->cap) return APRON_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *p = realloc(b->ptr, cap);
    if (!p) return APRON_ERR_NOMEM;
    b->ptr = p;
    b->cap = cap;
    return APRON_OK;
}

apron_status apron_buf_append(apron_buf *b, const void *p, size_t n)
{
    if (buf_reserve(b, n) != APRON_OK) return APRON_ERR_NOMEM;
    if (n) memcpy(b->ptr + b->len, p, n);
    b->len += n;
    b->ptr[b->len] = 0;
    return APRON_OK;
}

static apron_status buf_byte(apron_buf *b, uint8_t c)
{
    return apron_buf_append(b, &c, 1);
}

apron_status apron_buf_puts(apron_buf *b, const char *s)
{
    return apron_buf_append(b, s, strlen(s));
}

apron_status apron_buf_vprintf(apron_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) return APRON_ERR_INVALID;
    if (buf_reserve(b, (size_t)n) != APRON_OK) return APRON_ERR_NOMEM;
    vsnprintf((char *)b->ptr + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return APRON_OK;
}

apron_status apron_buf_printf(apron_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    apron_status st = apron_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return st;
}

const char *apron_buf_cstr(const apron_buf *b)
{
    return b->ptr ? (const char *)b->ptr : "";
}

/* Moves `from` into `to`, freeing what `to` held. */
static void buf_move(apron_buf *to, apron_buf *from)
{
    apron_buf_free(to);
    *to = *from;
    *from = (apron_buf)APRON_BUF_INIT;
}

void apron_strlist_free(apron_strlist *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

static apron_status strlist_push(apron_strlist *l, const apron_buf *s)
{
    char **items = realloc(l->items, (l->count + 1) * sizeof *items);
    if (!items) return APRON_ERR_NOMEM;
    l->items = items;
    char *copy = malloc(s->len + 1);
    if (!copy) return APRON_ERR_NOMEM;
    if (s->len) memcpy(copy, s->ptr, s->len);
    copy[s->len] = 0;
    l->items[l->count++] = copy;
    return APRON_OK;
}

/* ---- Registry and dispatch ---- */

typedef struct {
    char *op;
    size_t len;
    apron_handler fn;
} op_entry;

static op_entry *ops;
static size_t nops;
static int init_done;

static void ensure_init(void)
{
    if (init_done) return;
    init_done = 1;
    apron_init();
}

apron_status apron_register(const char *op, apron_handler fn)
{
    if (!op || !*op || !fn) return APRON_ERR_INVALID;
    size_t len = strlen(op);
    for (size_t i = 0; i < nops; i++) {
        if (ops[i].len == len && memcmp(ops[i].op, op, len) == 0) {
            ops[i].fn = fn;
            return APRON_OK;
        }
    }
    op_entry *grown = realloc(ops, (nops + 1) * sizeof *grown);
    if (!grown) return APRON_ERR_NOMEM;
    ops = grown;
    char *copy = malloc(len + 1);
    if (!copy) return APRON_ERR_NOMEM;
    memcpy(copy, op, len + 1);
    ops[nops++] = (op_entry){copy, len, fn};
    return APRON_OK;
}

apron_status apron_fail(apron_buf *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    apron_buf_reset(out);
    apron_buf_vprintf(out, fmt, ap);
    va_end(ap);
    return APRON_ERR_FAILED;
}

apron_status apron_dispatch(const char *op, size_t op_len, const uint8_t *payload, size_t len,
                            apron_buf *out)
{
    ensure_init();
    for (size_t i = 0; i < nops; i++) {
        if (ops[i].len != op_len || memcmp(ops[i].op, op, op_len) != 0) continue;
        apron_status st = ops[i].fn(payload ? payload : (const uint8_t *)"", len, out);
        if (st != APRON_OK && out->len == 0)
            apron_buf_printf(out, "operation \"%.*s\" failed", (int)op_len, op);
        return st;
    }
    apron_fail(out, "Could not find function \"%.*s\"", (int)op_len, op);
    return APRON_ERR_FAILED;
}

/* ---- waPC ---- */

static const char *binding = "tarmac";

void apron_set_binding(const char *b)
{
    binding = b && *b ? b : "tarmac";
}

#ifdef __wasm__

#define WAPC_IMPORT(name) __attribute__((import_module("wapc"), import_name(#name)))

WAPC_IMPORT(__guest_request) void wapc_guest_request(uint8_t *op, uint8_t *payload);
WAPC_IMPORT(__guest_response) void wapc_guest_response(const uint8_t *ptr, size_t len);
WAPC_IMPORT(__guest_error) void wapc_guest_error(const uint8_t *ptr, size_t len);
WAPC_IMPORT(__host_call)
int wapc_host_call(const char *bd, size_t bd_len, const char *ns, size_t ns_len, const char *op,
                   size_t op_len, const uint8_t *pl, size_t pl_len);
WAPC_IMPORT(__host_response_len) size_t wapc_host_response_len(void);
WAPC_IMPORT(__host_response) void wapc_host_response(uint8_t *ptr);
WAPC_IMPORT(__host_error_len) size_t wapc_host_error_len(void);
WAPC_IMPORT(__host_error) void wapc_host_error(uint8_t *ptr);
WAPC_IMPORT(__console_log) void wapc_console_log(const char *ptr, size_t len);

__attribute__((export_name("wapc_init"))) void wapc_init(void)
{
    ensure_init();
}

/* The operation and the payload of a call land in these when they fit, and the response buffer
 * keeps its memory from one call to the next (up to 64 KiB), so that a typical call makes no
 * allocation at all (a guest runs one call at a time; handlers get the payload for the call's
 * duration only). */
static uint8_t small_op[128], small_payload[2048];
static apron_buf call_out;

__attribute__((export_name("__guest_call"))) int guest_call(size_t op_len, size_t payload_len)
{
    static const char oom[] = "guest out of memory";
    uint8_t *op = op_len < sizeof small_op ? small_op : malloc(op_len + 1);
    uint8_t *payload = payload_len < sizeof small_payload ? small_payload : malloc(payload_len + 1);
    if (!op || !payload) {
        if (op != small_op) free(op);
        if (payload != small_payload) free(payload);
        wapc_guest_error((const uint8_t *)oom, sizeof oom - 1);
        return 0;
    }
    wapc_guest_request(op, payload);
    op[op_len] = 0;
    payload[payload_len] = 0;
    apron_buf_reset(&call_out);
    apron_status st = apron_dispatch((const char *)op, op_len, payload, payload_len, &call_out);
    if (op != small_op) free(op);
    if (payload != small_payload) free(payload);
    const uint8_t *p = call_out.ptr ? call_out.ptr : (const uint8_t *)"";
    if (st == APRON_OK)
        wapc_guest_response(p, call_out.len);
    else
        wapc_guest_error(p, call_out.len);
    if (call_out.cap > 65536) apron_buf_free(&call_out);
    return st == APRON_OK;
}

void apron_console_log(const char *msg)
{
    wapc_console_log(msg, strlen(msg));
}

/* Reads `n` bytes with `read` into b (replacing its contents). */
static apron_status read_host_bytes(apron_buf *b, size_t n, void (*read)(uint8_t *))
{
    apron_buf_reset(b);
    if (n == 0) return APRON_OK;
    if (buf_reserve(b, n) != APRON_OK) return APRON_ERR_NOMEM;
    read(b->ptr);
    b->len = n;
    b->ptr[n] = 0;
    return APRON_OK;
}

static int raw_host_call(const char *bd, const char *ns, const char *op, const uint8_t *payload,
                         size_t len, apron_reply *r, apron_status *st)
{
    int ok = wapc_host_call(bd, strlen(bd), ns, strlen(ns), op, strlen(op), payload, len) != 0;
    *st = read_host_bytes(&r->data, wapc_host_response_len(), wapc_host_response);
    if (*st == APRON_OK && !ok) *st = read_host_bytes(&r->error, wapc_host_error_len(), wapc_host_error);
    return ok;
}

#else /* native builds: the unit tests' host */

int (*apron_native_host_call)(const char *binding, const char *ns, const char *op,
                              const uint8_t *payload, size_t len, apron_reply *r);

void apron_console_log(const char *msg)
{
    fprintf(stderr, "%s\n", msg);
}

static int raw_host_call(const char *bd, const char *ns, const char *op, const uint8_t *payload,
                         size_t len, apron_reply *r, apron_status *st)
{
    *st = APRON_OK;
    if (!apron_native_host_call) return 0;
    return apron_native_host_call(bd, ns, op, payload, len, r) != 0;
}

#endif

void apron_reply_free(apron_reply *r)
{
    apron_buf_free(&r->data);
    apron_buf_free(&r->error);
}

apron_status apron_host_call(const char *bd, const char *ns, const char *op, const void *payload,
                             size_t len, apron_reply *r)
{
    apron_buf_reset(&r->data);
    apron_buf_reset(&r->error);
    apron_status st;
    int ok = raw_host_call(bd, ns, op, payload ? payload : "", len, r, &st);
    if (st != APRON_OK) return st;
    if (ok) return APRON_OK;
    if (r->error.len == 0 && apron_buf_puts(&r->error, "host call failed") != APRON_OK)
        return APRON_ERR_NOMEM;
    return APRON_ERR_HOST;
}

/* ---- UTF-8 ---- */

/* Decodes one UTF-8 sequence at s (n > 0 bytes left): returns its length and sets *cp, or returns
 * 0 for an invalid byte (overlong forms, surrogates and values past U+10FFFF are invalid). */
static size_t utf8_decode(const uint8_t *s, size_t n, uint32_t *cp)
{
    uint8_t c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    uint32_t v, min;
    if (c >= 0xc2 && c <= 0xdf) len = 2, v = c & 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef) len = 3, v = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4) len = 4, v = c & 0x07, min = 0x10000;
    else return 0;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
    *cp = v;
    return len;
}

static apron_status utf8_put(apron_buf *b, uint32_t cp)
{
    uint8_t u[4];
    size_t n;
    if (cp < 0x80) u[0] = (uint8_t)cp, n = 1;
    else if (cp < 0x800) u[0] = (uint8_t)(0xc0 | cp >> 6), u[1] = (uint8_t)(0x80 | (cp & 0x3f)), n = 2;
    else if (cp < 0x10000)
        u[0] = (uint8_t)(0xe0 | cp >> 12), u[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f)),
        u[2] = (uint8_t)(0x80 | (cp & 0x3f)), n = 3;
    else
        u[0] = (uint8_t)(0xf0 | cp >> 18), u[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f)),
        u[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f)), u[3] = (uint8_t)(0x80 | (cp & 0x3f)), n = 4;
    return apron_buf_append(b, u, n);
}

/* ---- JSON writer ---- */

apron_status apron_json_put_string(apron_buf *b, const char *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *s = (const uint8_t *)str;
    size_t start = b->len, i = 0;
    apron_status st = buf_byte(b, '"');
    while (st == APRON_OK && i < n) {
        uint8_t c = s[i];
        const char *esc = NULL;
        char u[7];
        uint32_t cp;
        size_t len = 1;
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default:
            if (c < 0x20 || c == '<' || c == '>' || c == '&') {
                snprintf(u, sizeof u, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
                esc = u;
            } else if (c >= 0x80) {
                len = utf8_decode(s + i, n - i, &cp);
                if (len == 0) esc = "\\ufffd", len = 1;
                else if (cp == 0x2028) esc = "\\u2028";
                else if (cp == 0x2029) esc = "\\u2029";
            }
        }
        st = esc ? apron_buf_puts(b, esc) : apron_buf_append(b, s + i, len);
        i += len;
    }
    if (st == APRON_OK) st = buf_byte(b, '"');
    if (st != APRON_OK) b->len = start;
    return st;
}

static apron_status put_cstr(apron_buf *b, const char *s)
{
    return apron_json_put_string(b, s, strlen(s));
}

/* ---- JSON reader ---- */

static int jfail(apron_json *j)
{
    j->failed = 1;
    return -1;
}

static void jws(apron_json *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

void apron_json_init(apron_json *j, const char *s, size_t n)
{
    memset(j, 0, sizeof *j);
    j->p = s;
    j->end = s + n;
}

apron_json_type apron_json_peek(apron_json *j)
{
    if (j->failed) return APRON_JSON_NONE;
    jws(j);
    if (j->p >= j->end) return APRON_JSON_NONE;
    switch (*j->p) {
    case '{': return APRON_JSON_OBJECT;
    case '[': return APRON_JSON_ARRAY;
    case '"': return APRON_JSON_STRING;
    case 't':
    case 'f': return APRON_JSON_BOOL;
    case 'n': return APRON_JSON_NULL;
    default: return (*j->p == '-' || (*j->p >= '0' && *j->p <= '9')) ? APRON_JSON_NUMBER : APRON_JSON_NONE;
    }
}

static int jopen(apron_json *j, char c)
{
    if (j->failed) return -1;
    jws(j);
    if (j->p >= j->end || *j->p != c || j->depth >= APRON_JSON_MAX_DEPTH) return jfail(j);
    j->p++;
    j->first[j->depth++] = 1;
    return 0;
}

int apron_json_begin_object(apron_json *j)
{
    return jopen(j, '{');
}

int apron_json_begin_array(apron_json *j)
{
    return jopen(j, '[');
}

/* Before a member or element: the closing `close` (returns 0), a separating comma, or the first
 * item (returns 1). */
static int jnext(apron_json *j, char close)
{
    if (j->failed || j->depth == 0) return jfail(j);
    jws(j);
    if (j->p >= j->end) return jfail(j);
    if (*j->p == close) {
        j->p++;
        j->depth--;
        return 0;
    }
    if (!j->first[j->depth - 1]) {
        if (*j->p != ',') return jfail(j);
        j->p++;
    }
    j->first[j->depth - 1] = 0;
    return 1;
}

static int jstring(apron_json *j, apron_buf *out);

int apron_json_next_member(apron_json *j, apron_buf *key)
{
    int r = jnext(j, '}');
    if (r <= 0) return r;
    if (jstring(j, key) != 0) return -1;
    jws(j);
    if (j->p >= j->end || *j->p != ':') return jfail(j);
    j->p++;
    return 1;
}

int apron_json_next_element(apron_json *j)
{
    return jnext(j, ']');
}

static int hex4(const char *p, uint32_t *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        *v = *v << 4 | (uint32_t)d;
    }
    return 0;
}

/* Reads a string; `out` may be NULL (skip). Invalid UTF-8 and lone surrogates become U+FFFD, as
 * Go's decoder does. */
static int jstring(apron_json *j, apron_buf *out)
{
    if (j->failed) return -1;
    jws(j);
    if (j->p >= j->end || *j->p != '"') return jfail(j);
    j->p++;
    apron_buf tmp = APRON_BUF_INIT;
    apron_status st = APRON_OK;
    for (;;) {
        if (j->p >= j->end) goto fail;
        uint8_t c = (uint8_t)*j->p;
        if (c == '"') {
            j->p++;
            break;
        }
        if (c < 0x20) goto fail;
        if (c != '\\') {
            uint32_t cp;
            size_t len = utf8_decode((const uint8_t *)j->p, (size_t)(j->end - j->p), &cp);
            if (out) st = len ? apron_buf_append(&tmp, j->p, len) : utf8_put(&tmp, 0xfffd);
            j->p += len ? len : 1;
        } else {
            if (j->end - j->p < 2) goto fail;
            char e = j->p[1];
            j->p += 2;
            uint32_t cp;
            switch (e) {
            case '"': cp = '"'; break;
            case '\\': cp = '\\'; break;
            case '/': cp = '/'; break;
            case 'b': cp = '\b'; break;
            case 'f': cp = '\f'; break;
            case 'n': cp = '\n'; break;
            case 'r': cp = '\r'; break;
            case 't': cp = '\t'; break;
            case 'u':
                if (j->end - j->p < 4 || hex4(j->p, &cp) != 0) goto fail;
                j->p += 4;
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    uint32_t lo;
                    if (j->end - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u' &&
                        hex4(j->p + 2, &lo) == 0 && lo >= 0xdc00 && lo <= 0xdfff) {
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                        j->p += 6;
                    } else {
                        cp = 0xfffd;
                    }
                } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                    cp = 0xfffd;
                }
                break;
            default: goto fail;
            }
            if (out) st = utf8_put(&tmp, cp);
        }
        if (st != APRON_OK) goto fail;
    }
    if (out) {
        if (!tmp.ptr && apron_buf_append(&tmp, "", 0) != APRON_OK) goto fail;
        buf_move(out, &tmp);
    }
    return 0;
fail:
    apron_buf_free(&tmp);
    return jfail(j);
}

int apron_json_string(apron_json *j, apron_buf *out)
{
    return jstring(j, out);
}

/* Scans a number token; *is_int tells whether it has neither fraction nor exponent. */
static int jnumber(apron_json *j, const char **start, size_t *len, int *is_int)
{
    if (j->failed) return -1;
    jws(j);
    const char *p = j->p, *e = j->end;
    *start = p;
    *is_int = 1;
    if (p < e && *p == '-') p++;
    if (p >= e) return jfail(j);
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9') while (p < e && *p >= '0' && *p <= '9') p++;
    else return jfail(j);
    if (p < e && *p == '.') {
        *is_int = 0;
        p++;
        if (p >= e || *p < '0' || *p > '9') return jfail(j);
        while (p < e && *p >= '0' && *p <= '9') p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        *is_int = 0;
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        if (p >= e || *p < '0' || *p > '9') return jfail(j);
        while (p < e && *p >= '0' && *p <= '9') p++;
    }
    *len = (size_t)(p - *start);
    j->p = p;
    return 0;
}

int apron_json_int(apron_json *j, int64_t *out)
{
    const char *s;
    size_t n;
    int is_int;
    if (jnumber(j, &s, &n, &is_int) != 0) return -1;
    if (!is_int) return jfail(j);
    int neg = s[0] == '-';
    uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (size_t i = (size_t)neg; i < n; i++) {
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (lim - d) / 10) return jfail(j);
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

int apron_json_double(apron_json *j, double *out)
{
    const char *s;
    size_t n;
    int is_int;
    char tmp[128];
    if (jnumber(j, &s, &n, &is_int) != 0) return -1;
    if (n >= sizeof tmp) return jfail(j);
    memcpy(tmp, s, n);
    tmp[n] = 0;
    double v = strtod(tmp, NULL);
    if (!isfinite(v)) return jfail(j);
    *out = v;
    return 0;
}

static int jliteral(apron_json *j, const char *lit)
{
    if (j->failed) return -1;
    jws(j);
    size_t n = strlen(lit);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0) return jfail(j);
    j->p += n;
    return 0;
}

int apron_json_bool(apron_json *j, int *out)
{
    if (apron_json_peek(j) != APRON_JSON_BOOL) return jfail(j);
    int t = *j->p == 't';
    if (jliteral(j, t ? "true" : "false") != 0) return -1;
    *out = t;
    return 0;
}

int apron_json_null(apron_json *j)
{
    return jliteral(j, "null");
}

int apron_json_skip(apron_json *j)
{
    const char *s;
    size_t n;
    int is_int, r, b;
    switch (apron_json_peek(j)) {
    case APRON_JSON_NULL: return apron_json_null(j);
    case APRON_JSON_BOOL: return apron_json_bool(j, &b);
    case APRON_JSON_NUMBER: return jnumber(j, &s, &n, &is_int);
    case APRON_JSON_STRING: return jstring(j, NULL);
    case APRON_JSON_ARRAY:
        if (apron_json_begin_array(j) != 0) return -1;
        while ((r = apron_json_next_element(j)) == 1)
            if (apron_json_skip(j) != 0) return -1;
        return r;
    case APRON_JSON_OBJECT:
        if (apron_json_begin_object(j) != 0) return -1;
        while ((r = apron_json_next_member(j, NULL)) == 1)
            if (apron_json_skip(j) != 0) return -1;
        return r;
    case APRON_JSON_NONE: break;
    }
    return jfail(j);
}

int apron_json_finish(apron_json *j)
{
    if (j->failed) return -1;
    jws(j);
    return j->p == j->end ? 0 : jfail(j);
}

/* Key comparison as Go's decoder does it for ASCII names: case-insensitive. */
static int key_is(const apron_buf *key, const char *name)
{
    size_t n = strlen(name);
    if (key->len != n) return 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t a = key->ptr[i], c = (uint8_t)name[i];
        if (a >= 'A' && a <= 'Z') a = (uint8_t)(a + 32);
        if (a != c) return 0;
    }
    return 1;
}

/* ---- base64 ---- */

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

apron_status apron_base64_encode(apron_buf *out, const void *data, size_t n)
{
    const uint8_t *s = data;
    if (n / 3 >= SIZE_MAX / 4 - 1 || buf_reserve(out, (n + 2) / 3 * 4) != APRON_OK)
        return APRON_ERR_NOMEM;
    char *o = (char *)out->ptr + out->len;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *o++ = b64chars[v >> 18];
        *o++ = b64chars[v >> 12 & 63];
        *o++ = b64chars[v >> 6 & 63];
        *o++ = b64chars[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0);
        *o++ = b64chars[v >> 18];
        *o++ = b64chars[v >> 12 & 63];
        *o++ = i + 1 < n ? b64chars[v >> 6 & 63] : '=';
        *o++ = '=';
    }
    out->len = (size_t)((uint8_t *)o - out->ptr);
    out->ptr[out->len] = 0;
    return APRON_OK;
}

static int b64value(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

apron_status apron_base64_decode(apron_buf *out, const char *s, size_t n)
{
    size_t start = out->len;
    int quad[4], k = 0, pad = 0;
    if (buf_reserve(out, n / 4 * 3 + 3) != APRON_OK) return APRON_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\r' || c == '\n') continue;
        if (pad && c != '=') goto bad; /* data after padding */
        int v;
        if (c == '=') {
            if (k < 2) goto bad;
            pad++;
            v = 0;
        } else if ((v = b64value(c)) < 0) {
            goto bad;
        }
        quad[k++] = v;
        if (k == 4) {
            uint32_t w = (uint32_t)quad[0] << 18 | (uint32_t)quad[1] << 12 | (uint32_t)quad[2] << 6 |
                         (uint32_t)quad[3];
            uint8_t bytes[3] = {(uint8_t)(w >> 16), (uint8_t)(w >> 8), (uint8_t)w};
            memcpy(out->ptr + out->len, bytes, (size_t)(3 - pad));
            out->len += (size_t)(3 - pad);
            k = 0;
            if (pad) pad = 3; /* only line breaks may follow */
        }
    }
    if (k != 0) goto bad;
    out->ptr[out->len] = 0;
    return APRON_OK;
bad:
    out->len = start;
    out->ptr[start] = 0;
    return APRON_ERR_INVALID;
}

/* ---- Replies ---- */

/* Handles one member of a reply object (the value comes next in j); returns 1 when it read the
 * value, 0 to have it skipped, -1 on error. */
typedef int (*member_fn)(apron_json *j, const apron_buf *key, void *ctx);

/* Parses a Tarmac JSON reply object: `status` ({code, status}) into *code and *text, any other
 * member through fn (NULL: skip). Top-level null is an empty reply, as in Go. */
static int parse_reply(const apron_buf *data, member_fn fn, void *ctx, int *code, apron_buf *text)
{
    apron_json j;
    apron_buf key = APRON_BUF_INIT;
    int r;
    *code = 0;
    apron_json_init(&j, (const char *)apron_buf_cstr(data), data->len);
    if (apron_json_peek(&j) == APRON_JSON_NULL) {
        r = apron_json_null(&j);
        goto done;
    }
    if ((r = apron_json_begin_object(&j)) != 0) goto done;
    while ((r = apron_json_next_member(&j, &key)) == 1) {
        if (key_is(&key, "status")) {
            if (apron_json_peek(&j) == APRON_JSON_NULL) {
                if ((r = apron_json_null(&j)) != 0) break;
                continue;
            }
            if ((r = apron_json_begin_object(&j)) != 0) break;
            while ((r = apron_json_next_member(&j, &key)) == 1) {
                int64_t v = 0;
                if (key_is(&key, "code")) {
                    if (apron_json_peek(&j) == APRON_JSON_NULL) r = apron_json_null(&j);
                    else if ((r = apron_json_int(&j, &v)) == 0 && (v < INT32_MIN || v > INT32_MAX))
                        r = -1;
                    if (r == 0) *code = (int)v;
                } else if (key_is(&key, "status") && apron_json_peek(&j) != APRON_JSON_NULL) {
                    r = apron_json_string(&j, text);
                } else {
                    r = apron_json_skip(&j);
                }
                if (r != 0) break;
            }
            if (r != 0) break;
            continue;
        }
        r = fn ? fn(&j, &key, ctx) : 0;
        if (r == 0) r = apron_json_skip(&j);
        else if (r == 1) r = 0;
        if (r != 0) break;
    }
done:
    if (r == 0) r = apron_json_finish(&j);
    apron_buf_free(&key);
    return r == 0 ? 0 : -1;
}

/* Calls ns:op with a JSON request and parses the JSON reply through fn. Fills err on failure:
 * the host's text and the code of its encoded reply, or the SDK's reason. */
static apron_status call_json(const char *ns, const char *op, const apron_buf *req, member_fn fn,
                              void *ctx, apron_error *err)
{
    apron_reply r = {APRON_BUF_INIT, APRON_BUF_INIT};
    apron_buf text = APRON_BUF_INIT;
    int code = 0;
    apron_status st = apron_host_call(binding, ns, op, req->ptr, req->len, &r);
    if (st == APRON_ERR_NOMEM) {
        set_err(err, 0, "out of memory");
    } else if (st == APRON_ERR_HOST) {
        if (parse_reply(&r.data, NULL, NULL, &code, &text) != 0) code = 0;
        set_err(err, code, "%s", apron_buf_cstr(&r.error));
    } else if (parse_reply(&r.data, fn, ctx, &code, &text) != 0) {
        st = APRON_ERR_REPLY;
        set_err(err, 0, "malformed %s:%s reply", ns, op);
    } else if (code != 200) {
        st = APRON_ERR_REPLY;
        set_err(err, code, "%s:%s reply has status %d %s", ns, op, code, apron_buf_cstr(&text));
    }
    apron_buf_free(&text);
    apron_reply_free(&r);
    return st;
}

/* Calls ns:op expecting no payload back (logger, metrics). */
static apron_status call_plain(const char *ns, const char *op, const void *payload, size_t len,
                               apron_buf *out, apron_error *err)
{
    apron_reply r = {APRON_BUF_INIT, APRON_BUF_INIT};
    apron_status st = apron_host_call(binding, ns, op, payload, len, &r);
    if (st == APRON_ERR_NOMEM) set_err(err, 0, "out of memory");
    else if (st == APRON_ERR_HOST) set_err(err, 0, "%s", apron_buf_cstr(&r.error));
    else if (out) buf_move(out, &r.data);
    apron_reply_free(&r);
    return st;
}

static apron_status nomem(apron_error *err)
{
    set_err(err, 0, "out of memory");
    return APRON_ERR_NOMEM;
}

/* ---- logger ---- */

static const char *const level_ops[] = {"error", "warn", "info", "debug", "trace"};

apron_status apron_log(apron_log_level level, const char *msg, size_t len)
{
    if ((unsigned)level > APRON_LOG_TRACE) return APRON_ERR_INVALID;
    return call_plain("logger", level_ops[level], msg, len, NULL, NULL);
}

apron_status apron_logf(apron_log_level level, const char *fmt, ...)
{
    apron_buf b = APRON_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    apron_status st = apron_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (st == APRON_OK) st = apron_log(level, (const char *)b.ptr, b.len);
    apron_buf_free(&b);
    return st;
}

apron_status apron_log_error(const char *m) { return apron_log(APRON_LOG_ERROR, m, strlen(m)); }
apron_status apron_log_warn(const char *m) { return apron_log(APRON_LOG_WARN, m, strlen(m)); }
apron_status apron_log_info(const char *m) { return apron_log(APRON_LOG_INFO, m, strlen(m)); }
apron_status apron_log_debug(const char *m) { return apron_log(APRON_LOG_DEBUG, m, strlen(m)); }
apron_status apron_log_trace(const char *m) { return apron_log(APRON_LOG_TRACE, m, strlen(m)); }

/* ---- kvstore ---- */

/* {"key":"<key>"} */
static apron_status key_request(apron_buf *req, const char *key)
{
    if (apron_buf_puts(req, "{\"key\":") || put_cstr(req, key) || buf_byte(req, '}'))
        return APRON_ERR_NOMEM;
    return APRON_OK;
}

/* A base64 string value (or null: empty) decoded into `data`; 1 on success, -1 on error. */
static int b64_value(apron_json *j, apron_buf *data)
{
    apron_buf text = APRON_BUF_INIT;
    apron_buf_reset(data);
    if (apron_json_peek(j) == APRON_JSON_NULL) return apron_json_null(j) == 0 ? 1 : -1;
    int r = apron_json_string(j, &text);
    if (r == 0 && apron_base64_decode(data, (const char *)apron_buf_cstr(&text), text.len) != APRON_OK)
        r = -1;
    apron_buf_free(&text);
    return r == 0 ? 1 : -1;
}

/* `data` member: base64 decoded into the apron_buf ctx. */
static int data_member(apron_json *j, const apron_buf *key, void *ctx)
{
    return key_is(key, "data") ? b64_value(j, ctx) : 0;
}

apron_status apron_kv_get(const char *key, apron_buf *value, apron_error *err)
{
    if (!key || !*key) {
        set_err(err, 0, "key cannot be empty");
        return APRON_ERR_INVALID;
    }
    apron_buf req = APRON_BUF_INIT, data = APRON_BUF_INIT;
    apron_status st = key_request(&req, key);
    if (st != APRON_OK) st = nomem(err);
    else st = call_json("kvstore", "get", &req, data_member, &data, err);
    if (st == APRON_OK) {
        if (!data.ptr && apron_buf_append(&data, "", 0) != APRON_OK) st = nomem(err);
        else buf_move(value, &data);
    }
    apron_buf_free(&data);
    apron_buf_free(&req);
    return st;
}

apron_status apron_kv_set(const char *key, const void *data, size_t len, apron_error *err)
{
    if (!key || !*key) {
        set_err(err, 0, "key cannot be empty");
        return APRON_ERR_INVALID;
    }
    if (len == 0) {
        set_err(err, 0, "data cannot be empty");
        return APRON_ERR_INVALID;
    }
    apron_buf req = APRON_BUF_INIT;
    apron_status st;
    if (apron_buf_puts(&req, "{\"key\":") || put_cstr(&req, key) ||
        apron_buf_puts(&req, ",\"data\":\"") || apron_base64_encode(&req, data, len) ||
        apron_buf_puts(&req, "\"}"))
        st = nomem(err);
    else
        st = call_json("kvstore", "set", &req, NULL, NULL, err);
    apron_buf_free(&req);
    return st;
}

apron_status apron_kv_delete(const char *key, apron_error *err)
{
    if (!key || !*key) {
        set_err(err, 0, "key cannot be empty");
        return APRON_ERR_INVALID;
    }
    apron_buf req = APRON_BUF_INIT;
    apron_status st = key_request(&req, key);
    if (st != APRON_OK) st = nomem(err);
    else st = call_json("kvstore", "delete", &req, NULL, NULL, err);
    apron_buf_free(&req);
    return st;
}

/* `keys` member: array of strings or null, into the apron_strlist ctx. */
static int keys_member(apron_json *j, const apron_buf *key, void *ctx)
{
    apron_strlist *l = ctx;
    apron_buf s = APRON_BUF_INIT;
    int r;
    if (!key_is(key, "keys")) return 0;
    apron_strlist_free(l);
    if (apron_json_peek(j) == APRON_JSON_NULL) return apron_json_null(j) == 0 ? 1 : -1;
    if (apron_json_begin_array(j) != 0) return -1;
    while ((r = apron_json_next_element(j)) == 1) {
        if (apron_json_string(j, &s) != 0 || strlist_push(l, &s) != APRON_OK) {
            r = -1;
            break;
        }
    }
    apron_buf_free(&s);
    return r == 0 ? 1 : -1;
}

apron_status apron_kv_keys(apron_strlist *keys, apron_error *err)
{
    apron_buf req = APRON_BUF_INIT; /* empty payload: Tarmac answers in JSON */
    apron_strlist l = {NULL, 0};
    apron_status st = call_json("kvstore", "keys", &req, keys_member, &l, err);
    if (st == APRON_OK) {
        apron_strlist_free(keys);
        *keys = l;
    } else {
        apron_strlist_free(&l);
    }
    return st;
}

/* ---- sql ---- */

apron_status apron_sql_query(const char *sql, apron_buf *result, apron_error *err)
{
    if (!sql || !*sql) {
        set_err(err, 0, "query cannot be empty");
        return APRON_ERR_INVALID;
    }
    apron_buf req = APRON_BUF_INIT, data = APRON_BUF_INIT;
    apron_status st;
    if (apron_buf_puts(&req, "{\"query\":\"") || apron_base64_encode(&req, sql, strlen(sql)) ||
        apron_buf_puts(&req, "\"}"))
        st = nomem(err);
    else
        st = call_json("sql", "query", &req, data_member, &data, err);
    if (st == APRON_OK) {
        if (!data.ptr && apron_buf_append(&data, "", 0) != APRON_OK) st = nomem(err);
        else buf_move(result, &data);
    }
    apron_buf_free(&data);
    apron_buf_free(&req);
    return st;
}

/* Protobuf, for sql exec only (Tarmac has no JSON form of it). */

static apron_status pb_varint(apron_buf *b, uint64_t v)
{
    uint8_t t[10];
    size_t n = 0;
    do {
        t[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return apron_buf_append(b, t, n);
}

static int pb_read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*p >= end) return -1;
        uint8_t c = *(*p)++;
        *v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) return 0;
    }
    return -1;
}

/* Skips one field's value of wire type wt; groups are not supported (-1). */
static int pb_skip(const uint8_t **p, const uint8_t *end, unsigned wt)
{
    uint64_t v;
    switch (wt) {
    case 0: return pb_read_varint(p, end, &v);
    case 1: v = 8; break;
    case 2:
        if (pb_read_varint(p, end, &v) != 0) return -1;
        break;
    case 5: v = 4; break;
    default: return -1;
    }
    if (v > (uint64_t)(end - *p)) return -1;
    *p += v;
    return 0;
}

/* tarmac.Status: 1 code int32, 2 status string. */
static int pb_status(const uint8_t *p, const uint8_t *end, int *code, apron_buf *text)
{
    while (p < end) {
        uint64_t tag, v;
        if (pb_read_varint(&p, end, &tag) != 0) return -1;
        if (tag == 0x08) {
            if (pb_read_varint(&p, end, &v) != 0) return -1;
            *code = (int)(int32_t)v;
        } else if (tag == 0x12) {
            if (pb_read_varint(&p, end, &v) != 0 || v > (uint64_t)(end - p)) return -1;
            apron_buf_reset(text);
            if (apron_buf_append(text, p, (size_t)v) != APRON_OK) return -1;
            p += v;
        } else if ((tag >> 3) == 0 || pb_skip(&p, end, (unsigned)(tag & 7)) != 0) {
            return -1;
        }
    }
    return 0;
}

/* SQLExecResponse: 1 status, 2 last_insert_id int64, 3 rows_affected int64. */
static int pb_exec_response(const apron_buf *data, int *code, apron_buf *text,
                            apron_sql_exec_result *out)
{
    const uint8_t *p = data->ptr, *end = data->ptr + data->len;
    *code = 0;
    while (p && p < end) {
        uint64_t tag, v;
        if (pb_read_varint(&p, end, &tag) != 0) return -1;
        if (tag == 0x0a) {
            if (pb_read_varint(&p, end, &v) != 0 || v > (uint64_t)(end - p)) return -1;
            if (pb_status(p, p + v, code, text) != 0) return -1;
            p += v;
        } else if (tag == 0x10 || tag == 0x18) {
            if (pb_read_varint(&p, end, &v) != 0) return -1;
            if (tag == 0x10) out->last_insert_id = (int64_t)v;
            else out->rows_affected = (int64_t)v;
        } else if ((tag >> 3) == 0 || pb_skip(&p, end, (unsigned)(tag & 7)) != 0) {
            return -1;
        }
    }
    return 0;
}

apron_status apron_sql_exec(const char *sql, apron_sql_exec_result *out, apron_error *err)
{
    if (!sql || !*sql) {
        set_err(err, 0, "query cannot be empty");
        return APRON_ERR_INVALID;
    }
    size_t n = strlen(sql);
    apron_buf req = APRON_BUF_INIT, text = APRON_BUF_INIT;
    apron_reply r = {APRON_BUF_INIT, APRON_BUF_INIT};
    apron_sql_exec_result res = {0, 0};
    int code = 0;
    apron_status st;
    if (buf_byte(&req, 0x0a) || pb_varint(&req, n) || apron_buf_append(&req, sql, n)) {
        st = nomem(err);
        goto done;
    }
    st = apron_host_call(binding, "sql", "exec", req.ptr, req.len, &r);
    if (st == APRON_ERR_NOMEM) {
        nomem(err);
    } else if (st == APRON_ERR_HOST) {
        if (pb_exec_response(&r.data, &code, &text, &res) != 0) code = 0;
        set_err(err, code, "%s", apron_buf_cstr(&r.error));
        if (code == 206) {
            st = APRON_PARTIAL;
            *out = res;
        }
    } else if (pb_exec_response(&r.data, &code, &text, &res) != 0) {
        st = APRON_ERR_REPLY;
        set_err(err, 0, "malformed sql:exec reply");
    } else if (code != 200) {
        st = APRON_ERR_REPLY;
        set_err(err, code, "sql:exec reply has status %d %s", code, apron_buf_cstr(&text));
    } else {
        *out = res;
    }
done:
    apron_reply_free(&r);
    apron_buf_free(&text);
    apron_buf_free(&req);
    return st;
}

/* ---- httpclient ---- */

void apron_http_response_free(apron_http_response *resp)
{
    for (size_t i = 0; i < resp->nheaders; i++) {
        free((char *)resp->headers[i].name);
        free((char *)resp->headers[i].value);
    }
    free(resp->headers);
    apron_buf_free(&resp->body);
    resp->headers = NULL;
    resp->nheaders = 0;
    resp->code = 0;
}

const char *apron_http_header(const apron_http_response *resp, const char *name)
{
    for (size_t i = 0; i < resp->nheaders; i++) {
        const char *a = resp->headers[i].name, *b = name;
        while (*a && *b) {
            char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
            char y = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;
            if (x != y) break;
            a++, b++;
        }
        if (!*a && !*b) return resp->headers[i].value;
    }
    return NULL;
}

static char *dup_buf(const apron_buf *b)
{
    char *s = malloc(b->len + 1);
    if (s) {
        if (b->len) memcpy(s, b->ptr, b->len);
        s[b->len] = 0;
    }
    return s;
}

/* code, headers ({name: first value} or null), body (base64) into the apron_http_response ctx. */
static int http_member(apron_json *j, const apron_buf *key, void *ctx)
{
    apron_http_response *resp = ctx;
    if (key_is(key, "body")) return b64_value(j, &resp->body);
    if (key_is(key, "code")) {
        int64_t v = 0;
        if (apron_json_peek(j) == APRON_JSON_NULL) return apron_json_null(j) == 0 ? 1 : -1;
        if (apron_json_int(j, &v) != 0 || v < INT32_MIN || v > INT32_MAX) return -1;
        resp->code = (int)v;
        return 1;
    }
    if (!key_is(key, "headers")) return 0;
    if (apron_json_peek(j) == APRON_JSON_NULL) return apron_json_null(j) == 0 ? 1 : -1;
    apron_buf name = APRON_BUF_INIT, value = APRON_BUF_INIT;
    int r;
    if (apron_json_begin_object(j) != 0) return -1;
    while ((r = apron_json_next_member(j, &name)) == 1) {
        apron_header h = {NULL, NULL};
        apron_header *grown = NULL;
        if (apron_json_string(j, &value) != 0 || !(h.name = dup_buf(&name)) ||
            !(h.value = dup_buf(&value)) ||
            !(grown = realloc(resp->headers, (resp->nheaders + 1) * sizeof *grown))) {
            free((char *)h.name);
            free((char *)h.value);
            r = -1;
            break;
        }
        resp->headers = grown;
        resp->headers[resp->nheaders++] = h;
    }
    apron_buf_free(&name);
    apron_buf_free(&value);
    return r == 0 ? 1 : -1;
}

apron_status apron_http_call(const apron_http_request *req, apron_http_response *resp,
                             apron_error *err)
{
    if (!req || !req->url || !*req->url) {
        set_err(err, 0, "url cannot be empty");
        return APRON_ERR_INVALID;
    }
    const char *method = req->method && *req->method ? req->method : "GET";
    apron_buf b = APRON_BUF_INIT;
    apron_http_response tmp = {0, NULL, 0, APRON_BUF_INIT};
    apron_status st = APRON_OK;
    if (apron_buf_puts(&b, "{\"method\":") || put_cstr(&b, method) ||
        apron_buf_puts(&b, ",\"headers\":{"))
        st = APRON_ERR_NOMEM;
    for (size_t i = 0; st == APRON_OK && i < req->nheaders; i++) {
        const apron_header *h = &req->headers[i];
        if (!h->name || !h->value) continue;
        if ((i && buf_byte(&b, ',')) || put_cstr(&b, h->name) || buf_byte(&b, ':') ||
            put_cstr(&b, h->value))
            st = APRON_ERR_NOMEM;
    }
    if (st == APRON_OK &&
        (apron_buf_puts(&b, "},\"url\":") || put_cstr(&b, req->url) ||
         apron_buf_puts(&b, ",\"body\":\"") ||
         apron_base64_encode(&b, req->body ? req->body : "", req->body ? req->body_len : 0) ||
         apron_buf_puts(&b, req->insecure ? "\",\"insecure\":true}" : "\",\"insecure\":false}")))
        st = APRON_ERR_NOMEM;
    if (st != APRON_OK) st = nomem(err);
    else st = call_json("httpclient", "call", &b, http_member, &tmp, err);
    if (st == APRON_OK) {
        if (!tmp.body.ptr && apron_buf_append(&tmp.body, "", 0) != APRON_OK) {
            st = nomem(err);
        } else {
            apron_http_response_free(resp);
            *resp = tmp;
            tmp = (apron_http_response){0, NULL, 0, APRON_BUF_INIT};
        }
    }
    apron_http_response_free(&tmp);
    apron_buf_free(&b);
    return st;
}

apron_status apron_http_get(const char *url, apron_http_response *resp, apron_error *err)
{
    apron_http_request req = {.method = "GET", .url = url};
    return apron_http_call(&req, resp, err);
}

/* ---- metrics ---- */

static apron_status metric(const char *op, const char *name, const char *action, const double *value,
                           apron_error *err)
{
    if (!name || !*name) {
        set_err(err, 0, "metric name cannot be empty");
        return APRON_ERR_INVALID;
    }
    apron_buf b = APRON_BUF_INIT;
    apron_status st = APRON_OK;
    if (apron_buf_puts(&b, "{\"name\":") || put_cstr(&b, name)) st = APRON_ERR_NOMEM;
    if (st == APRON_OK && action && (apron_buf_puts(&b, ",\"action\":") || put_cstr(&b, action)))
        st = APRON_ERR_NOMEM;
    if (st == APRON_OK && value) {
        /* The shortest of %.15g..%.17g that reads back exactly. */
        char num[32];
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(num, sizeof num, "%.*g", prec, *value);
            if (strtod(num, NULL) == *value) break;
        }
        if (apron_buf_printf(&b, ",\"value\":%s", num) != APRON_OK) st = APRON_ERR_NOMEM;
    }
    if (st == APRON_OK && buf_byte(&b, '}')) st = APRON_ERR_NOMEM;
    if (st != APRON_OK) st = nomem(err);
    else st = call_plain("metrics", op, b.ptr, b.len, NULL, err);
    apron_buf_free(&b);
    return st;
}

apron_status apron_metrics_counter_inc(const char *name, apron_error *err)
{
    return metric("counter", name, NULL, NULL, err);
}

apron_status apron_metrics_gauge_inc(const char *name, apron_error *err)
{
    return metric("gauge", name, "inc", NULL, err);
}

apron_status apron_metrics_gauge_dec(const char *name, apron_error *err)
{
    return metric("gauge", name, "dec", NULL, err);
}

apron_status apron_metrics_histogram_observe(const char *name, double value, apron_error *err)
{
    if (!isfinite(value)) {
        set_err(err, 0, "histogram value must be finite");
        return APRON_ERR_INVALID;
    }
    return metric("histogram", name, NULL, &value, err);
}

/* ---- function ---- */

apron_status apron_function_call(const char *name, const void *input, size_t len, apron_buf *out,
                                 apron_error *err)
{
    if (!name || !*name) {
        set_err(err, 0, "function name cannot be empty");
        return APRON_ERR_INVALID;
    }
    apron_buf tmp = APRON_BUF_INIT;
    apron_status st = call_plain("function", name, input, len, &tmp, err);
    if (st == APRON_OK) {
        if (!tmp.ptr && apron_buf_append(&tmp, "", 0) != APRON_OK) st = nomem(err);
        else buf_move(out, &tmp);
    }
    apron_buf_free(&tmp);
    return st;
}

/* ---- HTTP request and response ---- */

static apron_status request_op(const char *op, const char *arg, apron_buf *out, apron_error *err)
{
    apron_buf tmp = APRON_BUF_INIT;
    apron_status st = call_plain("request", op, arg, arg ? strlen(arg) : 0, &tmp, err);
    if (st == APRON_OK) {
        if (!tmp.ptr && apron_buf_append(&tmp, "", 0) != APRON_OK) st = nomem(err);
        else buf_move(out, &tmp);
    }
    apron_buf_free(&tmp);
    return st;
}

apron_status apron_request_method(apron_buf *out, apron_error *err)
{
    return request_op("method", NULL, out, err);
}

apron_status apron_request_path(apron_buf *out, apron_error *err)
{
    return request_op("path", NULL, out, err);
}

apron_status apron_request_query(apron_buf *out, apron_error *err)
{
    return request_op("query", NULL, out, err);
}

apron_status apron_request_header(const char *name, apron_buf *out, apron_error *err)
{
    if (!name || !*name) {
        set_err(err, 0, "header name cannot be empty");
        return APRON_ERR_INVALID;
    }
    return request_op("header", name, out, err);
}

apron_status apron_request_headers(apron_buf *out, apron_error *err)
{
    return request_op("headers", NULL, out, err);
}

apron_status apron_request_remote_addr(apron_buf *out, apron_error *err)
{
    return request_op("remote_addr", NULL, out, err);
}

apron_status apron_request_param(const char *name, apron_buf *out, apron_error *err)
{
    if (!name || !*name) {
        set_err(err, 0, "parameter name cannot be empty");
        return APRON_ERR_INVALID;
    }
    return request_op("param", name, out, err);
}

apron_status apron_response_status(int status, apron_error *err)
{
    char text[16];
    int n = snprintf(text, sizeof text, "%d", status);
    return call_plain("response", "status", text, (size_t)n, NULL, err);
}

apron_status apron_response_header(const char *name, const char *value, apron_error *err)
{
    if (!name || !value) {
        set_err(err, 0, "header name and value are required");
        return APRON_ERR_INVALID;
    }
    apron_buf line = APRON_BUF_INIT;
    if (apron_buf_printf(&line, "%s: %s", name, value) != APRON_OK) {
        apron_buf_free(&line);
        return nomem(err);
    }
    apron_status st = call_plain("response", "header", line.ptr, line.len, NULL, err);
    apron_buf_free(&line);
    return st;
}
