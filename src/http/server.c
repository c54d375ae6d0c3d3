/* server.c — the server of http.h: connections from listener.c's thread go to libmicrohttpd,
 * whose epoll threads (http_threading "event-loop", the default) run quick functions themselves
 * and hand the others (and /ready) to wasm worker threads with suspend/resume, or which gives
 * each connection a thread of its own that runs its guests ("connection"); route semantics of
 * TARMAC.md §2.2–2.6, body limit (413),
 * connection timeout and header memory limit, TLS and mutual TLS (enforced here: MHD only asks
 * for the client certificate), the swappable route table, and the response a guest shapes
 * through context.c. */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <malloc.h>
#include <math.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/blocking.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/ready.h"
#include "internal.h"
#include "listener.h"

typedef enum { REQ_NEW, REQ_BODY, REQ_RUNNING, REQ_DONE } req_state;

/* A route table and the requests routed with it. */
typedef struct table {
    ap_http_routes r;
    bool *reads_request; /* per r.fns[i]: the module's data mentions `request` (read once, not
                            per request: it is a search through the module's bytes) */
    atomic_uint *streak; /* per r.fns[i]: calls in a row that were quick and waited on nothing
                            (up to INLINE_STREAK): event-loop threads run it themselves */
    size_t nloops;       /* event-loop threads (0: connection threading) */
    atomic_llong *since; /* per r.fns[i] × event-loop thread: when the call running on that
                            thread began (ns), 0 when none runs there */
    atomic_long refs;
} table;

typedef struct request {
    struct request *next; /* worker queue */
    struct ap_http *h;
    struct MHD_Connection *conn;
    req_state state;
    long long start_ns;
    char *method, *path; /* path as received (escaped), without the query */
    char *query;         /* the query as received, without '?' ("" when none): request:query */
    bool started;        /* on_request has seen the request (on_uri made it) */
    char *decoded;       /* path percent-decoded: what routes match (route parameters point in) */
    table *table;        /* held from routing to completion */
    ap_pool_fn *fn;
    bool fn_reads_request;
    atomic_uint *fn_streak; /* the table's streak for fn */
    atomic_llong *fn_since; /* the table's `since` row for fn (nloops entries) */
    ap_router_match match;
    bool routed;     /* went through the middleware: Server header, metric */
    bool too_large;
    bool keep_body;  /* POST and PUT carry the payload (TARMAC.md §2.5.2); every method with a
                        body does for a function that may read the request (issue 9) */
    ap_buf body;
    /* Worker's result. */
    unsigned status;
    ap_buf out;
    ap_buf headers;  /* the guest's, "Name\0value\0" pairs */
    bool has_content_type;
} request;

struct ap_http {
    ap_http_config cfg;
    pthread_mutex_t tlock; /* guards `current` and the reference taken on it */
    table *current;
    struct MHD_Daemon *d;
    ap_listener *listener; /* NULL with no_listen */
    char address[80];
    char *tls_cert, *tls_key, *tls_ca;
    atomic_long inflight;  /* requests between the first call and completion */
    atomic_long running;   /* queued or running a guest */
    bool event_loop;       /* http_threading "event-loop": epoll threads + workers */
    unsigned nloops;       /* event-loop threads */
    atomic_uint next_loop; /* the next event-loop thread's index (loop_index) */
    /* Worker queue (event-loop threading only). */
    pthread_mutex_t qlock;
    pthread_cond_t qcond;
    request *qhead, *qtail;
    bool stopping;
    pthread_t *workers;
    size_t nworkers;
};

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- Responses ---- */

/* The Date header (IMF-fixdate, as Go's net/http sends it), formatted once a second per thread.
 * libmicrohttpd's own (turned off with MHD_USE_SUPPRESS_DATE_NO_CLOCK) calls gmtime_r for every
 * response, and glibc's gmtime_r takes the process-wide time-zone lock each time. */
static const char *http_date(void)
{
    static const char days[] = "SunMonTueWedThuFriSat";
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    static _Thread_local time_t at = -1;
    static _Thread_local char text[64];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts); /* a tick's precision, no clock read */
    if (ts.tv_sec != at) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        snprintf(text, sizeof text, "%.3s, %02d %.3s %04d %02d:%02d:%02d GMT",
                 days + 3 * tm.tm_wday, tm.tm_mday, months + 3 * tm.tm_mon, tm.tm_year + 1900,
                 tm.tm_hour, tm.tm_min, tm.tm_sec);
        at = ts.tv_sec;
    }
    return text;
}

static enum MHD_Result send_bytes(request *rq, unsigned status, const void *data, size_t len,
                                  const char *ctype, bool owned)
{
    struct MHD_Response *resp;
    if (len == 0) {
        if (owned) free((void *)data);
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    } else {
        resp = MHD_create_response_from_buffer(len, (void *)data,
                                               owned ? MHD_RESPMEM_MUST_FREE
                                                     : MHD_RESPMEM_MUST_COPY);
    }
    if (!resp) return MHD_NO;
    if (rq->routed) MHD_add_response_header(resp, "Server", "tarmac");
    bool dated = false;
    for (size_t i = 0; i < rq->headers.len;) {
        const char *name = (const char *)rq->headers.data + i;
        const char *value = name + strlen(name) + 1;
        MHD_add_response_header(resp, name, value);
        dated |= strcasecmp(name, "Date") == 0;
        i += strlen(name) + strlen(value) + 2;
    }
    if (!dated) MHD_add_response_header(resp, MHD_HTTP_HEADER_DATE, http_date());
    if (ctype) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (status == 404 || status == 405) {
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    }
    if ((status == 405 || (status == 200 && rq->match.allow[0])) && rq->match.allow[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, rq->match.allow);
    rq->status = status;
    enum MHD_Result r = MHD_queue_response(rq->conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result send_text(request *rq, unsigned status, const char *text)
{
    return send_bytes(rq, status, text, strlen(text),
                      *text ? "text/plain; charset=utf-8" : NULL, false);
}

/* ---- Functions, on connection threads or worker threads ---- */

static ap_pool_fn *find_fn(const table *t, request *rq)
{
    for (size_t i = 0; i < t->r.nfns; i++)
        if (strcmp(ap_pool_fn_name(t->r.fns[i]), rq->match.function) == 0) {
            rq->fn_reads_request = t->reads_request[i];
            rq->fn_streak = &t->streak[i];
            rq->fn_since = t->since ? &t->since[i * t->nloops] : NULL;
            return t->r.fns[i];
        }
    return NULL;
}

/* The status of a function's response (issue 9): the guest's choice when it made one, else
 * Tarmac's 200; on failure 503 when no instance was free, the guest's status when it chose one
 * of 400 and above before failing, else 500. */
static unsigned response_status(ap_pool_fn_status st, unsigned chosen)
{
    if (st == AP_POOL_FN_OK) return chosen ? chosen : 200;
    if (st == AP_POOL_FN_BUSY) return 503;
    if (st == AP_POOL_FN_TIMEOUT) return 504; /* deadline exceeded (issue 7) */
    return chosen >= 400 ? chosen : 500;
}

/* Event-loop threading runs a function on the event-loop thread itself (no hand-off to a
 * worker: half the CPU per request) once its last INLINE_STREAK calls each finished within
 * INLINE_BUDGET_NS without a host call that may wait (base/blocking.h) — and only when one of its
 * instances is idle, so the thread never waits for one or starts one. A call that breaks the rule
 * sends the function back to the workers until it earns its streak again: when it ends, or
 * earlier, as soon as another event-loop thread is asked for the function while that call has
 * run past the budget (`since`). So a guest that turns slow holds at most the event-loop threads
 * it was already running on, each for that one call (which timeout_ms bounds). */
#define INLINE_STREAK 8u
#define INLINE_BUDGET_NS 500000LL

/* This thread's index among the server's event-loop threads, given on first use; -1 past
 * nloops (never expected: MHD's pool has nloops threads). */
static int loop_index(ap_http *h)
{
    static _Thread_local const ap_http *owner;
    static _Thread_local int index = -1;
    if (owner != h) {
        unsigned i = atomic_fetch_add(&h->next_loop, 1);
        index = i < h->nloops ? (int)i : -1;
        owner = h;
    }
    return index;
}

static bool runs_inline(ap_http *h, request *rq)
{
    if (!rq->fn_streak || !rq->fn_since ||
        atomic_load_explicit(rq->fn_streak, memory_order_relaxed) < INLINE_STREAK)
        return false;
    if (loop_index(h) < 0) return false;
    for (size_t i = 0; i < h->nloops; i++) {
        long long since = atomic_load_explicit(&rq->fn_since[i], memory_order_relaxed);
        if (since && rq->start_ns - since > INLINE_BUDGET_NS) {
            atomic_store_explicit(rq->fn_streak, 0, memory_order_relaxed);
            return false;
        }
    }
    return true;
}

static void note_call(request *rq, bool ok, long long ns, bool waited)
{
    if (!rq->fn_streak) return;
    if (ok && !waited && ns < INLINE_BUDGET_NS) {
        if (atomic_load_explicit(rq->fn_streak, memory_order_relaxed) < INLINE_STREAK)
            atomic_fetch_add_explicit(rq->fn_streak, 1, memory_order_relaxed);
    } else {
        atomic_store_explicit(rq->fn_streak, 0, memory_order_relaxed);
    }
}

/* Runs the request's function; with idle_only, only if an instance is idle (false: nothing was
 * done). */
static bool run_function(ap_http *h, request *rq, bool idle_only)
{
    const char *name = rq->match.function;
    ap_pool_fn *fn = rq->fn;
    ap_errbuf e;
    bool ok = false;
    int64_t ns = 0; /* the run, as the pool measured it for wasm_functions */
    if (!fn) {
        /* The one HTTP outcome that never reaches a pool, which observes the others (TARMAC.md
         * §1.7 step 5: module-not-found counts too). */
        char route[300];
        snprintf(route, sizeof route, "%s:handler", name);
        ap_metrics_observe(AP_METRIC_WASM_FUNCTIONS, route, 0);
        ap_errbuf_set(&e, "unable to load wasi environment - module not found");
        rq->status = 500;
    } else {
        ap_bytes payload = {rq->body.data, rq->keep_body ? rq->body.len : 0};
        ap_http_invocation inv = {.magic = AP_HTTP_INVOCATION_MAGIC,
                                  .conn = rq->conn,
                                  .method = rq->method,
                                  .path = rq->path,
                                  .query = rq->query,
                                  .match = &rq->match};
        unsigned long waits = ap_blocking_count();
        ap_pool_fn_status st;
        if (!idle_only)
            st = ap_pool_fn_call_ctx(fn, payload, h->cfg.settings->pool_wait_timeout_ms, &inv,
                                     &rq->out, &e, &ns);
        else {
            /* The request's start stands for the call's: a few µs apart, against a 0.5 ms
             * budget, and no clock read. */
            atomic_llong *since = &rq->fn_since[loop_index(h)];
            atomic_store_explicit(since, rq->start_ns, memory_order_relaxed);
            bool ran = ap_pool_fn_try_call_ctx(fn, payload, &inv, &rq->out, &e, &st, &ns);
            atomic_store_explicit(since, 0, memory_order_relaxed);
            if (!ran) return false;
        }
        rq->status = response_status(st, inv.status);
        ok = st == AP_POOL_FN_OK;
        note_call(rq, ok, ns, ap_blocking_count() != waits);
        rq->headers = inv.headers;
        rq->has_content_type = inv.has_content_type;
    }
    if (ok) {
        AP_LOG(AP_LOG_DEBUG, "WASM Module Executed successfully", AP_LSTR("module", name),
               AP_LSTR("handler", "handler"), AP_LINT("duration_ms", ns / 1000000));
    } else {
        AP_LOG(AP_LOG_DEBUG, "Error executing WASM module", AP_LSTR("error", e.msg));
        /* TARMAC.md §2.5.5: the guest's bytes if any (never, in practice), else the error. */
        ap_buf_reset(&rq->out);
        ap_buf_append_str(&rq->out, e.msg);
    }
    return true;
}

/* /ready's status: 503 in maintenance mode or when a back end does not answer its probe
 * (base/ready.h: a round trip to each one, so event-loop threading asks it on a worker). */
static unsigned ready_status(const ap_http *h)
{
    return h->cfg.settings->enable_maintenance_mode || !ap_ready_check(NULL) ? 503 : 200;
}

static void *worker_main(void *arg)
{
    ap_http *h = arg;
    for (;;) {
        pthread_mutex_lock(&h->qlock);
        while (!h->qhead && !h->stopping)
            pthread_cond_wait(&h->qcond, &h->qlock);
        request *rq = h->qhead;
        if (!rq) {
            pthread_mutex_unlock(&h->qlock);
            return NULL;
        }
        h->qhead = rq->next;
        if (!h->qhead) h->qtail = NULL;
        pthread_mutex_unlock(&h->qlock);
        if (rq->match.kind == AP_HANDLER_READY)
            rq->status = ready_status(h);
        else
            run_function(h, rq, false);
        rq->state = REQ_DONE;
        atomic_fetch_sub(&h->running, 1);
        MHD_resume_connection(rq->conn);
    }
}

static void enqueue(ap_http *h, request *rq)
{
    atomic_fetch_add(&h->running, 1);
    pthread_mutex_lock(&h->qlock);
    rq->next = NULL;
    if (h->qtail)
        h->qtail->next = rq;
    else
        h->qhead = rq;
    h->qtail = rq;
    pthread_cond_signal(&h->qcond);
    pthread_mutex_unlock(&h->qlock);
}

/* ---- Built-in handlers, on MHD threads ---- */

static enum MHD_Result serve_builtin(ap_http *h, request *rq)
{
    switch (rq->match.kind) {
    case AP_HANDLER_HEALTH: return send_text(rq, 200, "");
    case AP_HANDLER_READY: return send_text(rq, ready_status(h), "");
    case AP_HANDLER_METRICS: {
        ap_buf out = {0};
        if (!ap_metrics_write(&out)) {
            ap_buf_free(&out);
            return send_text(rq, 500, "out of memory");
        }
        size_t len = out.len;
        return send_bytes(rq, 200, out.data, len, "text/plain; version=0.0.4; charset=utf-8",
                          true);
    }
    case AP_HANDLER_WASM: break;
    }
    return send_text(rq, 500, "internal error");
}

/* Appends v as the body of a JSON string (quotes, backslashes and control bytes escaped). */
static bool json_text(ap_buf *out, const char *v)
{
    bool ok = true;
    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;
        if (c == '"' || c == '\\')
            ok &= ap_buf_printf(out, "\\%c", c);
        else if (c < 0x20)
            ok &= ap_buf_printf(out, "\\u%04x", c);
        else
            ok &= ap_buf_append(out, v, 1);
    }
    return ok;
}

/* A latency in ms as JSON: null when there is none (no observation in the window). */
static bool json_ms(ap_buf *out, const char *name, double v, const char *sep)
{
    return isnan(v) ? ap_buf_printf(out, "\"%s\":null%s", name, sep)
                    : ap_buf_printf(out, "\"%s\":%.17g%s", name, v, sep);
}

/* With enable_pprof, apron's own statistics as JSON (TARMAC.md §11.7): requests in flight, the
 * process's memory (resident and virtual from /proc/self/statm, malloc's bytes in use), and per
 * function of the current route table its pool (size, instances live and idle, created,
 * discarded, pool-wait timeouts), its HTTP invocations: count and latency in whole ms (the
 * wasm_functions metric: mean over all, quantiles over the last 10 minutes), and whether
 * event-loop threads run it themselves now (on_event_loop, see runs_inline). */
static enum MHD_Result serve_debug(ap_http *h, request *rq)
{
    ap_buf out = {0};
    bool ok = ap_buf_printf(&out, "{\"inflight\":%ld,\"running\":%ld,\"memory\":{",
                            atomic_load(&h->inflight), atomic_load(&h->running));
    unsigned long long vm_pages = 0, rss_pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%llu %llu", &vm_pages, &rss_pages) != 2) vm_pages = rss_pages = 0;
        fclose(f);
    }
    unsigned long long page = (unsigned long long)sysconf(_SC_PAGESIZE);
    /* 0 from an allocator that keeps no such count (AddressSanitizer's): reported as null */
    struct mallinfo2 mi = mallinfo2();
    size_t heap = mi.uordblks + mi.hblkhd;
    char heap_text[32] = "null";
    if (heap) snprintf(heap_text, sizeof heap_text, "%zu", heap);
    ok &= ap_buf_printf(&out,
                        "\"rss_bytes\":%llu,\"virtual_bytes\":%llu,\"heap_in_use_bytes\":%s},"
                        "\"functions\":[",
                        rss_pages * page, vm_pages * page, heap_text);
    const ap_http_routes *r = &rq->table->r;
    for (size_t i = 0; i < r->nfns; i++) {
        ap_pool_stats st;
        ap_pool_fn_stats(r->fns[i], &st);
        ap_metrics_summary calls = {0, 0, NAN, NAN, NAN};
        ap_metrics_summary_get(AP_METRIC_WASM_FUNCTIONS, ap_pool_fn_label(r->fns[i]), &calls);
        ok &= ap_buf_printf(&out, "%s{\"name\":\"", i ? "," : "");
        ok &= json_text(&out, ap_pool_fn_name(r->fns[i]));
        ok &= ap_buf_printf(&out,
                            "\",\"pool_size\":%zu,\"live\":%zu,\"idle\":%zu,"
                            "\"created\":%llu,\"discarded\":%llu,\"timeouts\":%llu,"
                            "\"calls\":%llu,\"on_event_loop\":%s,\"latency_ms\":{",
                            st.size, st.live, st.idle, (unsigned long long)st.created,
                            (unsigned long long)st.discarded, (unsigned long long)st.timeouts,
                            calls.count,
                            h->event_loop && atomic_load(&rq->table->streak[i]) >= INLINE_STREAK
                                ? "true"
                                : "false");
        ok &= json_ms(&out, "mean", calls.count ? calls.sum / (double)calls.count : NAN, ",");
        ok &= json_ms(&out, "p50", calls.p50, ",");
        ok &= json_ms(&out, "p90", calls.p90, ",");
        ok &= json_ms(&out, "p99", calls.p99, "}}");
    }
    ok &= ap_buf_append_str(&out, "]}\n");
    if (!ok) {
        ap_buf_free(&out);
        return send_text(rq, 500, "out of memory");
    }
    size_t len = out.len;
    return send_bytes(rq, 200, out.data, len, "application/json", true);
}

/* ---- Route tables ---- */

static void table_free(table *t)
{
    if (!t) return;
    free(t->reads_request);
    free(t->streak);
    free(t->since);
    free(t);
}

/* A table for `routes`, with what each function reads and its metric label made once. NULL on
 * OOM. */
static table *table_new(const ap_http_routes *routes, size_t nloops)
{
    table *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->r = *routes;
    t->nloops = nloops;
    if (nloops && !(t->since = calloc(routes->nfns * nloops + 1, sizeof *t->since))) {
        free(t);
        return NULL;
    }
    if (!(t->reads_request = calloc(routes->nfns + 1, sizeof *t->reads_request)) ||
        !(t->streak = calloc(routes->nfns + 1, sizeof *t->streak))) {
        table_free(t);
        return NULL;
    }
    for (size_t i = 0; i < routes->nfns; i++) {
        /* Tarmac passes bodies of POST and PUT only; a function that may read the request (its
         * module's data holds the `request` namespace, not just the `__guest_request` import
         * every waPC guest has: ap_pool_data_mentions) gets every method's body (issue 9). */
        t->reads_request[i] = ap_pool_fn_mentions(routes->fns[i], "request");
    }
    return t;
}

static table *table_acquire(ap_http *h)
{
    pthread_mutex_lock(&h->tlock);
    table *t = h->current;
    atomic_fetch_add(&t->refs, 1);
    pthread_mutex_unlock(&h->tlock);
    return t;
}

static void table_release(table *t) { atomic_fetch_sub(&t->refs, 1); }

bool ap_http_swap(ap_http *h, const ap_http_routes *routes)
{
    table *t = table_new(routes, h->nloops);
    if (!t) return false;
    pthread_mutex_lock(&h->tlock);
    table *old = h->current;
    h->current = t;
    pthread_mutex_unlock(&h->tlock);
    while (atomic_load(&old->refs) > 0)
        usleep(1000);
    table_free(old);
    return true;
}

/* libmicrohttpd unescapes the path and the query arguments in place before the handler runs;
 * this callback leaves them as received, so the guest and the metrics see the escaped path
 * (TARMAC.md §2.4), and decode_path makes what routes match. */
static size_t keep_escaped(void *cls, struct MHD_Connection *conn, char *s) { return strlen(s); }

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* %XX → byte (as Go's PathUnescape; a malformed escape is kept as it is). */
static char *decode_path(const char *s)
{
    char *out = malloc(strlen(s) + 1), *o = out;
    if (!out) return NULL;
    while (*s) {
        int hi, lo;
        if (s[0] == '%' && (hi = hexval(s[1])) >= 0 && (lo = hexval(s[2])) >= 0) {
            *o++ = (char)(hi << 4 | lo);
            s += 3;
        } else {
            *o++ = *s++;
        }
    }
    *o = '\0';
    return out;
}

/* Mutual TLS (TARMAC.md §2.1): libmicrohttpd requests the certificate; verifying it, and
 * requiring it unless ignore_client_cert, is ours. False → drop the connection. */
static bool client_cert_ok(ap_http *h, struct MHD_Connection *conn)
{
    const ap_settings *s = h->cfg.settings;
    if (!s->enable_tls || !s->ca_file[0]) return true;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!ci || !ci->tls_session) return false;
    gnutls_session_t session = ci->tls_session;
    unsigned int n = 0;
    if (!gnutls_certificate_get_peers(session, &n) || n == 0) return s->ignore_client_cert;
    unsigned int status = 0;
    if (gnutls_certificate_verify_peers2(session, &status) != GNUTLS_E_SUCCESS) return false;
    return status == 0;
}

/* The response of a function request that ran: the guest's bytes, or the error text. */
static enum MHD_Result send_result(request *rq)
{
    unsigned status = rq->status;
    size_t len = rq->out.len;
    if (status == 204 || status == 304) len = 0; /* no content allowed (1xx: context.c refuses) */
    const char *ctype = rq->has_content_type ? NULL : ap_http_sniff(rq->out.data, len);
    uint8_t *data = rq->out.data;
    rq->out = (ap_buf){0};
    return send_bytes(rq, status, data, len, ctype, true);
}

/* libmicrohttpd's URI log callback, called once per request with the request target as
 * received, before the query is split into arguments (which turns '+' into a space and cannot
 * tell `a` from `a=`): the request starts here, keeping the raw query for request:query. What it
 * returns is the *con_cls of on_request and on_completed (libmicrohttpd calls on_completed for
 * every request this saw). NULL on OOM: on_request then drops the connection. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    ap_http *h = cls;
    request *rq = calloc(1, sizeof *rq);
    if (!rq) return NULL;
    const char *q = strchr(uri, '?');
    if (!(rq->query = strdup(q ? q + 1 : ""))) {
        free(rq);
        return NULL;
    }
    rq->h = h;
    rq->conn = conn;
    rq->start_ns = now_ns();
    atomic_fetch_add(&h->inflight, 1);
    return rq;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    ap_http *h = cls;
    request *rq = *con_cls;
    const ap_settings *s = h->cfg.settings;
    if (!rq) return MHD_NO; /* on_uri ran out of memory */
    if (!rq->started) {
        rq->started = true;
        if (!client_cert_ok(h, conn)) {
            AP_LOG(AP_LOG_DEBUG, "client certificate missing or not trusted",
                   AP_LSTR("path", url));
            return MHD_NO;
        }
        rq->method = strdup(method);
        rq->path = strdup(url);
        rq->decoded = decode_path(url);
        if (!rq->method || !rq->path || !rq->decoded) return MHD_NO;
        rq->table = table_acquire(h);
        rq->keep_body = strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > (unsigned long long)s->max_request_body_size) {
            rq->routed = true;
            return send_text(rq, 413, "request body too large\n");
        }
        if (strstr(url, "debug/pprof") || strncmp(url, "/debug/", 7) == 0) {
            rq->routed = true;
            if (!s->enable_pprof) return send_text(rq, 403, "");
            return serve_debug(h, rq);
        }
        switch (ap_router_match_request(rq->table->r.router, method, rq->decoded, &rq->match)) {
        case AP_ROUTER_NOT_FOUND: return send_text(rq, 404, "404 page not found\n");
        case AP_ROUTER_METHOD_NOT_ALLOWED: return send_text(rq, 405, "Method Not Allowed\n");
        case AP_ROUTER_OPTIONS: return send_text(rq, 200, "");
        case AP_ROUTER_FOUND: break;
        }
        rq->routed = true;
        rq->state = REQ_BODY;
        if (rq->match.kind == AP_HANDLER_WASM) {
            rq->fn = find_fn(rq->table, rq);
            if (rq->fn && rq->fn_reads_request) rq->keep_body = true;
        }
        return MHD_YES;
    }
    if (rq->state == REQ_BODY && *upload_data_size) {
        if (!rq->too_large) {
            if (rq->body.len + *upload_data_size > (uint64_t)s->max_request_body_size)
                rq->too_large = true;
            else if (rq->keep_body && !ap_buf_append(&rq->body, upload_data, *upload_data_size))
                return MHD_NO;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (rq->state == REQ_BODY) {
        if (rq->too_large) return send_text(rq, 413, "request body too large\n");
        /* /ready waits on the back ends: event-loop threading asks a worker, as for a guest. */
        bool handed = rq->match.kind == AP_HANDLER_WASM ||
                      (rq->match.kind == AP_HANDLER_READY && h->event_loop);
        if (!handed) return serve_builtin(h, rq);
        /* Connection threading: this is the connection's own thread, not the one that accepts;
         * the guest runs here and the response goes out right after. Event-loop threading: the
         * same for a marked function when one of its instances is idle (runs_inline). */
        if (rq->match.kind == AP_HANDLER_WASM && (!h->event_loop || runs_inline(h, rq))) {
            atomic_fetch_add(&h->running, 1);
            bool ran = run_function(h, rq, h->event_loop);
            atomic_fetch_sub(&h->running, 1);
            if (ran) {
                rq->state = REQ_DONE;
                return send_result(rq);
            }
        }
        rq->state = REQ_RUNNING;
        MHD_suspend_connection(conn);
        enqueue(h, rq);
        return MHD_YES;
    }
    if (rq->state == REQ_DONE) return send_result(rq);
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    ap_http *h = cls;
    request *rq = *con_cls;
    if (!rq) return;
    double ms = (double)((now_ns() - rq->start_ns) / 1000000);
    if (rq->routed && rq->path) ap_metrics_observe(AP_METRIC_HTTP_SERVER, rq->path, ms);
    AP_LOG(AP_LOG_DEBUG, "HTTP Request complete", AP_LSTR("method", rq->method),
           AP_LSTR("path", rq->path), AP_LINT("status", rq->status),
           AP_LINT("duration_ms", (long long)ms),
           AP_LBOOL("completed", toe == MHD_REQUEST_TERMINATED_COMPLETED_OK));
    if (rq->table) table_release(rq->table);
    free(rq->method);
    free(rq->path);
    free(rq->query);
    free(rq->decoded);
    ap_buf_free(&rq->body);
    ap_buf_free(&rq->out);
    ap_buf_free(&rq->headers);
    free(rq);
    *con_cls = NULL;
    atomic_fetch_sub(&h->inflight, 1);
}

/* ---- Start and stop ---- */

static char *slurp(const char *path, ap_errbuf *e, const char *what)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        ap_errbuf_set(e, "unable to read %s %s - %s", what, path, strerror(errno));
        return NULL;
    }
    ap_buf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        ap_buf_append(&b, chunk, n);
    fclose(f);
    if (!b.data) {
        ap_errbuf_set(e, "%s %s is empty", what, path);
        return NULL;
    }
    return (char *)b.data;
}

static void log_mhd(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    AP_LOG(AP_LOG_DEBUG, "libmicrohttpd", AP_LSTR("detail", msg));
}

static long cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

static void free_http(ap_http *h)
{
    if (!h) return;
    free(h->tls_cert);
    free(h->tls_key);
    free(h->tls_ca);
    free(h->workers);
    table_free(h->current);
    pthread_mutex_destroy(&h->tlock);
    pthread_mutex_destroy(&h->qlock);
    pthread_cond_destroy(&h->qcond);
    free(h);
}

static void stop_workers(ap_http *h)
{
    pthread_mutex_lock(&h->qlock);
    h->stopping = true;
    pthread_cond_broadcast(&h->qcond);
    pthread_mutex_unlock(&h->qlock);
    for (size_t i = 0; i < h->nworkers; i++)
        pthread_join(h->workers[i], NULL);
    h->nworkers = 0;
}

bool ap_http_add_connection(ap_http *h, int fd, const struct sockaddr *addr, socklen_t addrlen)
{
    return MHD_add_connection(h->d, fd, addr, addrlen) == MHD_YES;
}

/* The listener's thread: a new connection goes to MHD (to one of its event-loop threads, or a
 * thread of its own). MHD closes the socket when it cannot take it. */
static void on_accept(void *user, int fd, const struct sockaddr *addr, socklen_t addrlen)
{
    if (!ap_http_add_connection(user, fd, addr, addrlen))
        AP_LOG(AP_LOG_DEBUG, "connection refused by libmicrohttpd",
               AP_LSTR("error", strerror(errno)));
}

ap_http_status ap_http_start(const ap_http_config *cfg, ap_http **out, ap_errbuf *e)
{
    const ap_settings *s = cfg->settings;
    ap_http *h = calloc(1, sizeof *h);
    if (!h) return AP_HTTP_NOMEM;
    h->cfg = *cfg;
    pthread_mutex_init(&h->tlock, NULL);
    pthread_mutex_init(&h->qlock, NULL);
    pthread_cond_init(&h->qcond, NULL);
    ap_http_status st = AP_HTTP_BAD_SETTING;
    if (strcmp(s->http_threading, "event-loop") == 0) {
        h->event_loop = true;
        h->nloops = s->http_threads > 0 ? (unsigned)s->http_threads : (unsigned)cpus();
    } else if (strcmp(s->http_threading, "connection") != 0) {
        ap_errbuf_set(e, "http_threading must be \"connection\" or \"event-loop\", not \"%s\"",
                      s->http_threading);
        goto fail;
    }
    snprintf(h->address, sizeof h->address, "-");
    if (!cfg->no_listen) {
        ap_errbuf le;
        ap_listener_status ls =
            ap_listener_open(s->listen_addr, &h->listener, h->address, sizeof h->address, &le);
        if (ls == AP_LISTENER_BAD_ADDRESS) {
            ap_errbuf_set(e, "%s", le.msg);
            st = AP_HTTP_BAD_ADDRESS;
            goto fail;
        }
        if (ls != AP_LISTENER_OK) {
            ap_errbuf_set(e, "unable to start %s Server - %s", s->enable_tls ? "HTTPS" : "HTTP",
                          le.msg);
            st = AP_HTTP_LISTEN;
            goto fail;
        }
    }
    st = AP_HTTP_NOMEM;
    if (!(h->current = table_new(&cfg->routes, h->nloops))) goto fail;
    st = AP_HTTP_TLS;
    if (s->enable_tls) {
        ap_errbuf te;
        if (!(h->tls_cert = slurp(s->cert_file, &te, "certificate")) ||
            !(h->tls_key = slurp(s->key_file, &te, "key"))) {
            ap_errbuf_set(e, "unable to configure HTTPS server with certificate and key - %s",
                          te.msg);
            goto fail;
        }
        if (s->ca_file[0] && !(h->tls_ca = slurp(s->ca_file, &te, "ca file"))) {
            ap_errbuf_set(e,
                          "unable to configure HTTPS server with provided client certificate "
                          "authority - %s",
                          te.msg);
            goto fail;
        }
        if (h->tls_ca && !strstr(h->tls_ca, "-----BEGIN CERTIFICATE-----")) {
            ap_errbuf_set(e, "unable to load ca certificate: invalid PEM");
            goto fail;
        }
    }
    /* Our listener's thread accepts and hands each connection to MHD (MHD_add_connection, woken
     * through its inter-thread channel). Connection threading: each connection a
     * thread of its own (poll(2) on its socket), which parses, runs the guest and sends.
     * Event-loop threading: `http_threads` epoll threads and `wasm_workers` workers. */
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ERROR_LOG;
    unsigned threads = 0;
    if (h->event_loop) {
        size_t nworkers = s->wasm_workers > 0 ? (size_t)s->wasm_workers : (size_t)(2 * cpus());
        threads = h->nloops;
        h->workers = calloc(nworkers, sizeof *h->workers);
        st = AP_HTTP_NOMEM;
        if (!h->workers) goto fail;
        for (; h->nworkers < nworkers; h->nworkers++)
            if (pthread_create(&h->workers[h->nworkers], NULL, worker_main, h) != 0) goto fail;
        flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    }
    flags |= MHD_USE_SUPPRESS_DATE_NO_CLOCK; /* send_bytes adds http_date() */
    flags |= MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC; /* ap_http_add_connection only */
    if (s->enable_tls) flags |= MHD_USE_TLS;
    struct MHD_OptionItem opts[16];
    size_t no = 0;
    if (threads) opts[no++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, threads, NULL};
    opts[no++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT,
                                         s->http_idle_timeout > 0 ? s->http_idle_timeout : 0,
                                         NULL};
    opts[no++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                                         (intptr_t)(s->max_header_size > 4096 ? s->max_header_size
                                                                               : 4096),
                                         NULL};
    if (s->enable_tls) {
        opts[no++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, h->tls_cert};
        opts[no++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, h->tls_key};
        /* TARMAC.md §2.1: TLS 1.3 and 1.2 only; TLS 1.2 with ECDHE-RSA/ECDSA and AES-GCM only.
         * GnuTLS's cipher keywords apply to both versions, so TLS 1.3 keeps
         * TLS_AES_256_GCM_SHA384 and TLS_AES_128_GCM_SHA256 but loses CHACHA20-POLY1305 and
         * CCM (README, deliberate differences). */
        opts[no++] = (struct MHD_OptionItem){
            MHD_OPTION_HTTPS_PRIORITIES, 0,
            "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:"
            "-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA"};
        if (h->tls_ca) opts[no++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, h->tls_ca};
    }
    opts[no++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_NOTIFY_COMPLETED,
                            on_completed, h, MHD_OPTION_EXTERNAL_LOGGER, log_mhd, h,
                            MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL,
                            MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
                            MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (!h->d) {
        ap_errbuf_set(e, "unable to start %s Server on %s", s->enable_tls ? "HTTPS" : "HTTP",
                      s->listen_addr);
        st = AP_HTTP_LISTEN;
        goto fail;
    }
    ap_errbuf le;
    if (h->listener && !ap_listener_start(h->listener, on_accept, h, &le)) {
        ap_errbuf_set(e, "unable to start %s Server - %s", s->enable_tls ? "HTTPS" : "HTTP",
                      le.msg);
        st = AP_HTTP_LISTEN;
        goto fail;
    }
    *out = h;
    return AP_HTTP_OK;
fail:
    ap_listener_close(h->listener);
    if (h->d) MHD_stop_daemon(h->d);
    stop_workers(h);
    free_http(h);
    return st;
}

const char *ap_http_address(const ap_http *h) { return h->address; }

void ap_http_get_load(const ap_http *h, ap_http_load *out)
{
    const union MHD_DaemonInfo *di =
        MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    out->connections = di ? di->num_connections : 0;
    out->requests = atomic_load(&h->inflight);
    out->running = atomic_load(&h->running);
}

unsigned ap_http_stop(ap_http *h, int64_t timeout_s)
{
    if (!h) return 0;
    ap_listener_close(h->listener); /* stop accepting */
    h->listener = NULL;
    long long deadline = now_ns() + timeout_s * 1000000000LL;
    while (atomic_load(&h->running) > 0 && now_ns() < deadline)
        usleep(5000);
    unsigned cut = (unsigned)atomic_load(&h->running);
    if (cut > 0) return cut; /* guests still running: the process exits under them */
    /* Let resumed connections send their responses before closing everything. */
    long long grace = now_ns() + 500000000LL;
    while (atomic_load(&h->inflight) > 0 && now_ns() < grace)
        usleep(5000);
    MHD_stop_daemon(h->d);
    stop_workers(h);
    free_http(h);
    return 0;
}
