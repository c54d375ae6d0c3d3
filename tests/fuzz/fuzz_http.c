/* fuzz_http.c — libFuzzer target: the request handling of the HTTP layer that is apron's own,
 * in-process, no sockets: the router (src/router/: route registration, method + path matching,
 * 405/OPTIONS Allow lists, `:name` / `*name` parameters), the `tarmac:request:*` and
 * `tarmac:response:*` host calls (src/http/context.c) over arbitrary headers, query strings,
 * remote addresses and route parameters, and the response Content-Type sniffer (sniff.c).
 *
 * An input is text, one directive per line ('\n'; a line's bytes are used as they are):
 *     R METHOD PATTERN        adds a route (to a table that already has Tarmac-like routes)
 *     Q METHOD PATH[?QUERY]   a new request: routed now; QUERY split on '&' and the first '='
 *     H NAME: VALUE           a header of the current request
 *     A 4|6 BYTES             its remote address (the bytes fill the address and port)
 *     C NS OP PAYLOAD         a host call tarmac:NS:OP during it (NS request|response)
 *     S BYTES                 ap_http_sniff on the rest of the line
 * libmicrohttpd's parser is not ours: this file defines the three libmicrohttpd functions that
 * context.c reads a connection through (the linker binds context.c's calls to them), and serves
 * the current request's lists from them.
 *
 * Any input must give answers, never a crash, a leak or undefined behaviour. Seeds:
 * tests/fuzz/corpus/http/. */
#define _GNU_SOURCE /* strndup */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/http.h"
#include "http/internal.h"
#include "router/router.h"
#include "wapc/wapc.h"

/* ---- the connection, as libmicrohttpd would show it ---- */

#define MAX_VALUES 200 /* more than context.c's 128, so its bound is reached */

typedef struct {
    char *key[MAX_VALUES], *value[MAX_VALUES];
    enum MHD_ValueKind kind[MAX_VALUES];
    size_t n;
    struct sockaddr_storage addr;
    bool has_addr;
    union MHD_ConnectionInfo info;
} fake_conn;

int MHD_get_connection_values(struct MHD_Connection *connection, enum MHD_ValueKind kind,
                              MHD_KeyValueIterator iterator, void *iterator_cls)
{
    fake_conn *c = (fake_conn *)connection;
    int n = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (!(c->kind[i] & kind))
            continue;
        n++;
        if (iterator && iterator(iterator_cls, c->kind[i], c->key[i], c->value[i]) != MHD_YES)
            break;
    }
    return n;
}

const char *MHD_lookup_connection_value(struct MHD_Connection *connection, enum MHD_ValueKind kind,
                                        const char *key)
{
    fake_conn *c = (fake_conn *)connection;
    for (size_t i = 0; i < c->n; i++)
        if ((c->kind[i] & kind) && key && strcasecmp(c->key[i], key) == 0)
            return c->value[i];
    return NULL;
}

const union MHD_ConnectionInfo *MHD_get_connection_info(struct MHD_Connection *connection,
                                                        enum MHD_ConnectionInfoType info_type,
                                                        ...)
{
    fake_conn *c = (fake_conn *)connection;
    if (info_type != MHD_CONNECTION_INFO_CLIENT_ADDRESS || !c->has_addr)
        return NULL;
    c->info.client_addr = (struct sockaddr *)&c->addr;
    return &c->info;
}

static void conn_clear(fake_conn *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->key[i]);
        free(c->value[i]);
    }
    memset(c, 0, sizeof *c);
}

static void conn_add(fake_conn *c, enum MHD_ValueKind kind, const char *k, size_t kl,
                     const char *v, size_t vl, bool has_value)
{
    if (c->n == MAX_VALUES)
        return;
    char *key = strndup(k, kl), *value = has_value ? strndup(v, vl) : NULL;
    c->kind[c->n] = kind;
    c->key[c->n] = key;
    c->value[c->n++] = value;
}

/* ---- the harness ---- */

static ap_wapc_registry *reg;
static ap_wapc_instance *inst;

/* The smallest waPC guest (memory, a __guest_call returning 0): its instance carries the
 * invocation context to the host calls; it never runs. */
static const uint8_t guest[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,             /* magic, version */
    0x01, 0x07, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f,       /* type (i32,i32)->i32 */
    0x03, 0x02, 0x01, 0x00,                                     /* func 0: type 0 */
    0x05, 0x03, 0x01, 0x00, 0x01,                               /* memory min 1 */
    0x07, 0x19, 0x02, 0x0c, '_', '_', 'g', 'u', 'e', 's', 't', '_', 'c', 'a', 'l', 'l', 0x00,
    0x00, 0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00,       /* exports */
    0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x00, 0x0b,             /* code: i32.const 0 */
};

/* What cmd/serve builds from a tarmac.json with a few functions, plus the built-ins. */
static const struct {
    const char *method, *pattern;
    ap_handler_kind kind;
    const char *function;
} base_routes[] = {
    {"GET", "/health", AP_HANDLER_HEALTH, NULL},
    {"GET", "/ready", AP_HANDLER_READY, NULL},
    {"GET", "/metrics", AP_HANDLER_METRICS, NULL},
    {"GET", "/", AP_HANDLER_WASM, "default"},
    {"POST", "/", AP_HANDLER_WASM, "default"},
    {"GET", "/users/:id", AP_HANDLER_WASM, "user"},
    {"PUT", "/users/:id/items/:item", AP_HANDLER_WASM, "item"},
    {"GET", "/static/*file", AP_HANDLER_WASM, "files"},
};

static void setup(void)
{
    ap_errbuf e;
    ap_wapc_module *m;
    if (!(reg = ap_wapc_registry_new()) || !ap_http_register_host_calls(reg))
        abort();
    ap_wapc_config wc = {.name = "fuzz", .registry = reg};
    if (ap_wapc_module_load(guest, sizeof guest, &m, &e) != AP_WAPC_OK ||
        ap_wapc_instance_new(m, &wc, &inst, &e) != AP_WAPC_OK)
        abort();
    ap_wapc_module_unref(m);
}

/* The next space-separated word of [*p, end); *p moves past it and one space. */
static ap_bytes word(const char **p, const char *end)
{
    const char *s = *p, *e = memchr(s, ' ', (size_t)(end - s));
    if (!e)
        e = end;
    *p = e < end ? e + 1 : e;
    return (ap_bytes){(const uint8_t *)s, (size_t)(e - s)};
}

typedef struct {
    char *method, *path; /* NUL-terminated copies, as libmicrohttpd hands them over */
    char *query;         /* the raw query, as server.c keeps it for request:query */
    ap_router_match match;
    ap_router_status status;
    fake_conn conn;
    ap_http_invocation inv;
    bool active;
} request;

static void request_end(request *rq)
{
    free(rq->method);
    free(rq->path);
    free(rq->query);
    conn_clear(&rq->conn);
    ap_buf_free(&rq->inv.headers);
    memset(rq, 0, sizeof *rq);
}

static void check_match(const request *rq)
{
    /* every parameter value lies inside the path; names inside some pattern (ASan checks) */
    if (rq->status != AP_ROUTER_FOUND) {
        if (strlen(rq->match.allow) >= sizeof rq->match.allow)
            abort();
        return;
    }
    if (rq->match.nparams > AP_ROUTER_MAX_PARAMS)
        abort();
    size_t plen = strlen(rq->path);
    for (size_t i = 0; i < rq->match.nparams; i++) {
        const ap_router_param *p = &rq->match.params[i];
        if (p->value < rq->path || p->value + p->value_len > rq->path + plen)
            abort();
        volatile char sink = p->name_len ? p->name[p->name_len - 1] : 0;
        (void)sink;
    }
}

static void request_start(request *rq, const ap_router *r, const char *s, const char *end)
{
    request_end(rq);
    ap_bytes m = word(&s, end);
    const char *q = memchr(s, '?', (size_t)(end - s));
    const char *pend = q ? q : end;
    rq->method = strndup((const char *)m.ptr, m.len);
    rq->path = strndup(s, (size_t)(pend - s));
    rq->query = q ? strndup(q + 1, (size_t)(end - q - 1)) : strdup("");
    if (!rq->method || !rq->path || !rq->query)
        abort();
    rq->status = ap_router_match_request(r, rq->method, rq->path, &rq->match);
    check_match(rq);
    for (const char *a = q ? q + 1 : end; a < end;) { /* query arguments */
        const char *amp = memchr(a, '&', (size_t)(end - a)), *ae = amp ? amp : end;
        const char *eq = memchr(a, '=', (size_t)(ae - a));
        conn_add(&rq->conn, MHD_GET_ARGUMENT_KIND, a, (size_t)((eq ? eq : ae) - a), eq ? eq + 1 : "",
                 eq ? (size_t)(ae - eq - 1) : 0, eq != NULL);
        a = amp ? amp + 1 : end;
    }
    rq->inv = (ap_http_invocation){.magic = AP_HTTP_INVOCATION_MAGIC,
                                   .conn = (struct MHD_Connection *)&rq->conn,
                                   .method = rq->method,
                                   .path = rq->path,
                                   .query = rq->query,
                                   .match = &rq->match};
    rq->active = true;
}

static void host_call(request *rq, const char *s, const char *end)
{
    ap_bytes ns = word(&s, end), op = word(&s, end);
    ap_wapc_call call = {
        .binding = {(const uint8_t *)"tarmac", 6},
        .namespace_ = ns,
        .operation = op,
        .payload = {(const uint8_t *)s, (size_t)(end - s)},
        .instance = inst,
    };
    /* outside a request (no Q yet) the calls see no context, as in init or a scheduled task */
    ap_wapc_instance_set_context(inst, rq->active ? &rq->inv : NULL);
    ap_buf resp = {0}, err = {0};
    ap_wapc_registry_dispatch(reg, &call, &resp, &err);
    ap_wapc_instance_set_context(inst, NULL);
    ap_buf_free(&resp);
    ap_buf_free(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!reg)
        setup();
    ap_errbuf e;
    ap_router *r = ap_router_new();
    if (!r)
        abort();
    for (size_t i = 0; i < sizeof base_routes / sizeof *base_routes; i++)
        if (!ap_router_add(r, base_routes[i].method, base_routes[i].pattern, base_routes[i].kind,
                           base_routes[i].function, &e))
            abort();
    request rq = {0};
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
        if (le - p >= 2 && p[1] == ' ') {
            const char *s = p + 2;
            switch (p[0]) {
            case 'R': {
                ap_bytes m = word(&s, le);
                char *method = strndup((const char *)m.ptr, m.len);
                char *pattern = strndup(s, (size_t)(le - s));
                if (!method || !pattern)
                    abort();
                ap_router_add(r, method, pattern, AP_HANDLER_WASM, "fuzz", &e);
                free(method);
                free(pattern);
                break;
            }
            case 'Q':
                request_start(&rq, r, s, le);
                break;
            case 'H': {
                const char *colon = memchr(s, ':', (size_t)(le - s));
                const char *v = colon ? colon + 1 : le;
                while (v < le && *v == ' ')
                    v++;
                conn_add(&rq.conn, MHD_HEADER_KIND, s, (size_t)((colon ? colon : le) - s), v,
                         (size_t)(le - v), true);
                break;
            }
            case 'A': {
                ap_bytes fam = word(&s, le);
                struct sockaddr_storage *ss = &rq.conn.addr;
                memset(ss, 0, sizeof *ss);
                size_t n = (size_t)(le - s);
                if (fam.len == 1 && fam.ptr[0] == '6') {
                    struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
                    a->sin6_family = AF_INET6;
                    memcpy(&a->sin6_addr, s, n < 16 ? n : 16);
                    a->sin6_port = n > 16 ? (uint16_t)((uint8_t)s[16] << 8 | (n > 17 ? (uint8_t)s[17] : 0)) : 0;
                } else {
                    struct sockaddr_in *a = (struct sockaddr_in *)ss;
                    a->sin_family = AF_INET;
                    memcpy(&a->sin_addr, s, n < 4 ? n : 4);
                    a->sin_port = n > 4 ? (uint16_t)((uint8_t)s[4] << 8 | (n > 5 ? (uint8_t)s[5] : 0)) : 0;
                }
                rq.conn.has_addr = true;
                break;
            }
            case 'C':
                host_call(&rq, s, le);
                break;
            case 'S':
                ap_http_sniff((const uint8_t *)s, (size_t)(le - s));
                break;
            }
        }
        p = nl ? nl + 1 : end;
    }
    request_end(&rq);
    ap_router_free(r);
    return 0;
}
