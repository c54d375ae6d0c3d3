/* cap.c — the capability set: opens the back ends the settings ask for, registers one entry per
 * callback into the waPC registry, and wraps every callback with what Tarmac's callback router
 * does around it (TARMAC.md §1.6): timing into wasm_callbacks{callback="tarmac:<op>"}, DEBUG
 * records, a WARN record for every callback error. */
#include "cap/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <time.h>

#include "base/blocking.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/ready.h"

typedef struct cap_entry {
    struct cap_entry *next;
    ap_cap *cap;
    cap_fn fn;
    bool may_block; /* waits on a back end, a server or a pool: base/blocking.h */
    char label[96]; /* wasm_callbacks label: binding:operation, as Tarmac (no capability) */
} cap_entry;

void cap_status_set(cap_status *st, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    st->code = code;
    vsnprintf(st->text, sizeof st->text, fmt, ap);
    va_end(ap);
}

bool cap_json_status(ap_buf *b, const cap_status *st)
{
    return ap_buf_printf(b, "{\"code\":%d,\"status\":", st->code) &&
           ap_json_put_str(b, st->text, strlen(st->text)) && ap_buf_append(b, "}", 1);
}

ap_wapc_host_status cap_finish(const cap_status *st, bool encoded, ap_buf *response,
                               ap_buf *error)
{
    if (!encoded) {
        ap_buf_reset(response);
        ap_buf_append_str(error, "out of memory");
        return AP_WAPC_HOST_ERROR;
    }
    if (st->code == 200)
        return AP_WAPC_HOST_OK;
    ap_buf_append_str(error, st->text);
    return AP_WAPC_HOST_ERROR;
}

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static ap_wapc_host_status dispatch(void *user, const ap_wapc_call *call, ap_buf *response,
                                    ap_buf *error)
{
    cap_entry *en = user;
    AP_LOG(AP_LOG_DEBUG, "CallbackRouter called",
           AP_LMEM("namespace", (const char *)call->binding.ptr, call->binding.len),
           AP_LMEM("capability", (const char *)call->namespace_.ptr, call->namespace_.len),
           AP_LMEM("operation", (const char *)call->operation.ptr, call->operation.len));
    if (en->may_block) ap_blocking_note();
    long long t0 = now_ns();
    ap_wapc_host_status st = en->fn(en->cap, call, response, error);
    double ms = (double)((now_ns() - t0) / 1000000);
    ap_metrics_observe(AP_METRIC_WASM_CALLBACKS, en->label, ms);
    if (st == AP_WAPC_HOST_OK) {
        AP_LOG(AP_LOG_DEBUG, "Callback returned result successfully",
               AP_LSTR("callback", en->label), AP_LFLOAT("duration_ms", ms));
    } else {
        const char *msg = error->data ? (const char *)error->data : "";
        AP_LOG(AP_LOG_WARN, "Callback call resulted in error", AP_LSTR("callback", en->label),
               AP_LSTR("error", msg),
               AP_LSTR("function", call->instance ? ap_wapc_instance_name(call->instance) : ""));
    }
    return st;
}

static bool add(ap_cap *c, ap_wapc_registry *reg, const char *ns, const char *op, cap_fn fn)
{
    cap_entry *en = calloc(1, sizeof *en);
    if (!en)
        return false;
    en->cap = c;
    en->fn = fn;
    /* Logging and metrics stay in the process; every other capability may wait. */
    en->may_block = strcmp(ns, "logger") != 0 && strcmp(ns, "metrics") != 0;
    snprintf(en->label, sizeof en->label, "tarmac:%s", op);
    en->next = c->entries;
    c->entries = en;
    return ap_wapc_register(reg, "tarmac", ns, op, dispatch, en);
}

bool ap_cap_register(ap_cap *c, ap_wapc_registry *reg)
{
    static const char *const levels[] = {"error", "warn", "info", "debug", "trace"};
    cap_metrics_install();
    for (size_t i = 0; i < 5; i++)
        if (!add(c, reg, "logger", levels[i], cap_log))
            return false;
    bool ok = add(c, reg, "httpclient", "call", cap_http_call) &&
              add(c, reg, "metrics", "counter", cap_metrics_counter) &&
              add(c, reg, "metrics", "gauge", cap_metrics_gauge) &&
              add(c, reg, "metrics", "histogram", cap_metrics_histogram);
    if (ok && c->kv)
        ok = add(c, reg, "kvstore", "get", cap_kv_get) && add(c, reg, "kvstore", "set", cap_kv_set) &&
             add(c, reg, "kvstore", "delete", cap_kv_delete) &&
             add(c, reg, "kvstore", "keys", cap_kv_keys);
    if (ok && c->sql)
        ok = add(c, reg, "sql", "query", cap_sql_query) && add(c, reg, "sql", "exec", cap_sql_exec);
    for (size_t s = 0; ok && c->tarmac && s < c->tarmac->nservices; s++)
        for (size_t r = 0; ok && r < c->tarmac->services[s].nroutes; r++) {
            const ap_tarmac_route *rt = &c->tarmac->services[s].routes[r];
            if (rt->type == AP_ROUTE_FUNCTION && rt->function)
                ok = add(c, reg, "function", rt->function, cap_function);
        }
    return ok && ap_wapc_registry_alias(reg, "default", "tarmac");
}

bool ap_cap_new(const ap_cap_config *cfg, ap_cap **out, ap_errbuf *e)
{
    ap_cap *c = calloc(1, sizeof *c);
    if (!c) {
        ap_errbuf_set(e, "out of memory");
        return false;
    }
    c->s = cfg->settings;
    c->tarmac = cfg->tarmac;
    curl_global_init(CURL_GLOBAL_DEFAULT); /* on the thread that builds the server */
    c->http_max_body = c->s->http_client_max_response_body_size > 0
                           ? c->s->http_client_max_response_body_size
                           : 10485760;
    ap_errbuf be;
    if (cfg->kv) {
        c->kv = cfg->kv;
    } else if (c->s->enable_kvstore) {
        if (ap_kv_open(c->s, &c->kv, &be) != AP_KV_OK) {
            ap_errbuf_set(e, "kvstore %s: %s", c->s->kvstore_type, be.msg);
            free(c);
            return false;
        }
        c->own_kv = true;
    }
    if (cfg->sql) {
        c->sql = cfg->sql;
    } else if (c->s->enable_sql) {
        if (ap_sql_open(c->s, &c->sql, &be) != AP_SQL_OK) {
            ap_errbuf_set(e, "sql %s: %s", *c->s->sql_type ? c->s->sql_type : "sqlite", be.msg);
            ap_cap_free(c);
            return false;
        }
        c->own_sql = true;
    }
    *out = c;
    return true;
}

void ap_cap_bind_functions(ap_cap *c, ap_pool_fn *const *fns, size_t nfns)
{
    c->fns = fns;
    c->nfns = nfns;
}

bool ap_cap_ready(ap_cap *c, ap_errbuf *e)
{
    if (c->kv && ap_kv_ping(c->kv, e) != AP_KV_OK)
        return false;
    if (c->sql && ap_sql_ping(c->sql, e) != AP_SQL_OK)
        return false;
    return true;
}

ap_kv *ap_cap_kv(ap_cap *c) { return c->kv; }
ap_sql *ap_cap_sql(ap_cap *c) { return c->sql; }

static bool backends_ready(void *user, ap_errbuf *e)
{
    ap_cap_backends *b = user;
    ap_cap c = {.kv = b->kv, .sql = b->sql};
    if (ap_cap_ready(&c, e))
        return true;
    AP_LOG(AP_LOG_WARN, "Readiness check failed", AP_LSTR("error", e ? e->msg : ""));
    return false;
}

bool ap_cap_backends_open(const ap_settings *s, ap_cap_backends *b, ap_errbuf *e)
{
    ap_errbuf be;
    memset(b, 0, sizeof *b);
    if (s->enable_kvstore && ap_kv_open(s, &b->kv, &be) != AP_KV_OK) {
        ap_errbuf_set(e, "kvstore %s: %s", s->kvstore_type, be.msg);
        return false;
    }
    if (s->enable_sql && ap_sql_open(s, &b->sql, &be) != AP_SQL_OK) {
        ap_errbuf_set(e, "sql %s: %s", *s->sql_type ? s->sql_type : "sqlite", be.msg);
        ap_kv_close(b->kv);
        b->kv = NULL;
        return false;
    }
    if (b->kv || b->sql)
        ap_ready_set_probe(backends_ready, b);
    return true;
}

void ap_cap_backends_close(ap_cap_backends *b)
{
    if (b->kv || b->sql)
        ap_ready_set_probe(NULL, NULL);
    ap_kv_close(b->kv);
    ap_sql_close(b->sql);
    memset(b, 0, sizeof *b);
}

void ap_cap_free(ap_cap *c)
{
    if (!c)
        return;
    if (c->own_kv)
        ap_kv_close(c->kv);
    if (c->own_sql)
        ap_sql_close(c->sql);
    for (cap_entry *en = c->entries, *n; en; en = n) {
        n = en->next;
        free(en);
    }
    free(c);
}
