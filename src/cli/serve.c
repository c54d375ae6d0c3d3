/* serve.c — `apron serve`: settings (defaults < config file < APP_* environment < flags), the
 * functions of tarmac.json (or single-function mode when it is missing), init functions, the
 * HTTP listener, a graceful stop on SIGTERM/SIGINT (TARMAC.md §1.1–1.3, §1.8, §3; also while an
 * init function waits to retry), and a reload of tarmac.json on SIGHUP that swaps the functions
 * without dropping a request. */
#include "cli.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/metrics.h"
#include "cap/cap.h"
#include "config/config.h"
#include "http/http.h"
#include "pool/pool.h"
#include "router/router.h"
#include "wapc/wapc.h"
#include "wasi/wasi.h"

extern char **environ;

static const char usage_text[] =
    "usage: apron serve [--config FILE] [--listen ADDR:PORT] [--functions TARMAC.JSON]\n"
    "                   [--print-config]\n"
    "Settings come from defaults, the config file (--config, else ./conf/config.json if present),\n"
    "APP_* environment variables and these flags, later ones winning.\n";

/* A generation: what one reading of tarmac.json (or single-function mode) produced. The server
 * starts with one; SIGHUP builds the next, swaps it into the listener and frees the previous one
 * once no request uses it. */
typedef struct {
    const ap_settings *s;
    ap_tarmac *tarmac;
    ap_wapc_registry *reg;
    ap_cap *cap; /* the capabilities registered in reg (issue 5) */
    ap_router *router;
    ap_pool_fn **fns;
    ap_wasi **wasis; /* fns[i]'s WASI context: stdout/stderr to the log, tagged with its name */
    char **tags;     /* wasis[i]'s tag */
    size_t nfns;
    int counts[AP_ROUTE_OTHER + 1];
    bool gauged; /* service_routes was raised for these routes */
    /* scheduled tasks */
    pthread_t *tasks;
    size_t ntasks;
    pthread_mutex_t task_lock;
    pthread_cond_t task_cond;
    bool stopping;
} gen;

typedef struct {
    ap_settings s;
    gen *g;
} app;

/* The signals `apron serve` takes itself (blocked in every thread from the start, taken by
 * sigwait or sigtimedwait on the main thread): SIGTERM and SIGINT stop, SIGHUP reloads. */
static void serve_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
}

/* Signals taken while init functions run (start-up or reload), where no sigwait is listening:
 * `stop` is the SIGTERM/SIGINT that asked to stop (0: none), `reload` a SIGHUP deferred until
 * the init functions are done. */
typedef struct {
    int stop;
    bool reload;
} init_signals;

/* Waits up to `seconds` (0: only looks) for the signals of serve_signals. True as soon as one
 * asks to stop (in sig->stop); a SIGHUP is noted in sig->reload and the wait goes on. */
static bool wait_for_stop(int64_t seconds, init_signals *sig)
{
    sigset_t set;
    serve_signals(&set);
    struct timespec end, now;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += seconds;
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        struct timespec left = {end.tv_sec - now.tv_sec, end.tv_nsec - now.tv_nsec};
        if (left.tv_nsec < 0) {
            left.tv_sec--;
            left.tv_nsec += 1000000000L;
        }
        if (left.tv_sec < 0) left = (struct timespec){0, 0};
        int n = sigtimedwait(&set, NULL, &left);
        if (n == SIGTERM || n == SIGINT) {
            sig->stop = n;
            return true;
        }
        if (n == SIGHUP)
            sig->reload = true;
        else if (n < 0 && errno != EINTR)
            return false; /* EAGAIN: the time is up */
    }
}

static ap_pool_fn *find_fn(gen *g, const char *name)
{
    for (size_t i = 0; i < g->nfns; i++)
        if (strcmp(ap_pool_fn_name(g->fns[i]), name) == 0) return g->fns[i];
    return NULL;
}

/* WASI stdout/stderr of a function's instances: each line becomes a log record tagged with the
 * function's name (INFO for stdout, WARN for stderr). A line that a guest writes in several
 * fd_write calls arrives as several records: instances run on many threads at once, and holding
 * partial lines per instance is not worth a lock on every write. */
static void guest_output(void *user, int fd, const uint8_t *p, size_t n)
{
    const char *name = user;
    ap_log_level level = fd == 2 ? AP_LOG_WARN : AP_LOG_INFO;
    if (!ap_log_enabled(level)) return;
    while (n > 0) {
        const uint8_t *nl = memchr(p, '\n', n);
        size_t len = nl ? (size_t)(nl - p) : n;
        size_t line = len;
        if (line > 0 && p[line - 1] == '\r') line--;
        if (line > 0)
            AP_LOG(level, "guest output", AP_LSTR("function", name),
                   AP_LSTR("stream", fd == 2 ? "stderr" : "stdout"),
                   AP_LMEM("message", (const char *)p, line));
        if (!nl) break;
        p += len + 1;
        n -= len + 1;
    }
}

static const ap_tarmac_function *tarmac_fn(const gen *g, const char *name)
{
    for (size_t s = 0; g->tarmac && s < g->tarmac->nservices; s++)
        for (size_t f = 0; f < g->tarmac->services[s].nfunctions; f++)
            if (strcmp(g->tarmac->services[s].functions[f].name, name) == 0)
                return &g->tarmac->services[s].functions[f];
    return NULL;
}

static uint32_t clamp_u32(int64_t v, int64_t max)
{
    return v <= 0 ? 0 : v > max ? (uint32_t)max : (uint32_t)v;
}

/* A function's limits and isolation (docs/isolation.md): its tarmac.json values where given,
 * else the settings'. A limit of 0 or less takes the engine's default; timeout_ms ≤ 0 means no
 * deadline. False after logging a bad `isolation` setting. */
static bool function_opts(const gen *g, const char *name, size_t pool_size, ap_pool_fn_opts *o,
                          ap_wapc_config *wc)
{
    const ap_settings *s = g->s;
    static const ap_tarmac_function none = {0};
    const ap_tarmac_function *tf = tarmac_fn(g, name);
    if (!tf) tf = &none;
    ap_isolation iso = AP_ISOLATION_POOL;
    if (tf->isolation)
        iso = tf->isolation == AP_TARMAC_ISOLATION_REQUEST ? AP_ISOLATION_REQUEST
                                                           : AP_ISOLATION_POOL;
    else if (strcmp(s->isolation, "request") == 0)
        iso = AP_ISOLATION_REQUEST;
    else if (strcmp(s->isolation, "pool") != 0) {
        AP_LOG(AP_LOG_ERROR, "Service stopped",
               AP_LSTR("error", "isolation must be \"pool\" or \"request\""),
               AP_LSTR("isolation", s->isolation));
        return false;
    }
    *o = (ap_pool_fn_opts){.pool_size = pool_size,
                           .timeout_ms = tf->timeout_ms ? tf->timeout_ms : s->timeout_ms,
                           .isolation = iso};
    wc->limits.max_memory_pages =
        clamp_u32(tf->max_memory_pages ? tf->max_memory_pages : s->max_memory_pages, 65536);
    wc->limits.max_call_depth =
        clamp_u32(tf->max_call_depth ? tf->max_call_depth : s->max_call_depth, 1000000);
    int64_t payload = tf->max_host_payload ? tf->max_host_payload : s->max_host_payload;
    wc->max_host_payload = clamp_u32(payload, UINT32_MAX - 1);
    return true;
}

static bool load_fn(gen *g, const ap_wapc_config *base, const char *name, const char *path,
                    size_t pool_size)
{
    ap_errbuf e;
    ap_pool_fn *fn;
    ap_wapc_config wc = *base;
    /* The sink's tag is a copy: `name` belongs to the tarmac.json being loaded. */
    const char *argv[] = {name};
    ap_wasi_config wcfg = {.argc = 1, .argv = argv, .write = guest_output};
    char *tag = strdup(name);
    wcfg.write_user = tag;
    if (!tag || ap_wasi_new(&wcfg, &g->wasis[g->nfns]) != AP_WASI_OK) {
        free(tag);
        AP_LOG(AP_LOG_ERROR, "Service stopped", AP_LSTR("error", "out of memory"));
        return false;
    }
    g->tags[g->nfns] = tag;
    wc.wasi = g->wasis[g->nfns];
    ap_pool_fn_opts o;
    ap_wapc_config lc = wc;
    if (!function_opts(g, name, pool_size, &o, &lc)) goto fail; /* logged */
    if (ap_pool_fn_load_opts(name, path, &o, &lc, &fn, &e) != AP_POOL_OK) {
        /* TARMAC.md §1.2 steps 13 and 14: its wording for single-function and tarmac.json. */
        char why[sizeof e.msg + 1200];
        if (g->tarmac)
            snprintf(why, sizeof why, "could not load function %s from path %s - %s", name, path,
                     e.msg);
        else
            snprintf(why, sizeof why,
                     "could not load default function path for wasm_function (%s) - %s", path,
                     e.msg);
        AP_LOG(AP_LOG_ERROR, "Service stopped", AP_LSTR("error", why), AP_LSTR("function", name),
               AP_LSTR("path", path));
        goto fail;
    }
    g->fns[g->nfns++] = fn;
    return true;
fail:
    ap_wasi_free(g->wasis[g->nfns]);
    g->wasis[g->nfns] = NULL;
    free(tag);
    g->tags[g->nfns] = NULL;
    return false;
}

/* Init functions (TARMAC.md §3.4), with apron's backoff: the delay starts at `frequency` seconds
 * and doubles after each failure (Tarmac squares it); no sleep after the last attempt. A SIGTERM
 * or SIGINT during the delay ends it at once: false with sig->stop set. */
static bool run_init(gen *g, const ap_tarmac_route *r, init_signals *sig)
{
    ap_pool_fn *fn = find_fn(g, r->function);
    int64_t delay = r->frequency > 0 ? r->frequency : 1;
    for (int64_t attempt = 0; attempt <= r->retries; attempt++) {
        AP_LOG(AP_LOG_INFO, "Executing Init Function", AP_LSTR("function", r->function),
               AP_LINT("attempt", attempt + 1));
        ap_buf out = {0};
        ap_errbuf e;
        ap_pool_fn_status st = ap_pool_fn_call(fn, (ap_bytes){0}, g->s->pool_wait_timeout_ms,
                                               &out, &e);
        ap_buf_free(&out);
        if (st == AP_POOL_FN_OK) return true;
        char msg[300];
        snprintf(msg, sizeof msg, "Error executing Init Function: %s", e.msg);
        AP_LOG(AP_LOG_ERROR, msg, AP_LSTR("function", r->function), AP_LSTR("error", e.msg));
        if (attempt == r->retries) break;
        if (wait_for_stop(delay, sig)) return false;
        if (delay < 3600) delay *= 2;
    }
    AP_LOG(AP_LOG_ERROR, "Service stopped", AP_LSTR("error", "init function exceeded retries"),
           AP_LSTR("function", r->function));
    return false;
}

/* Every init function in file order; false when one ran out of retries or a signal asked to
 * stop (sig->stop), which is also looked for once they all succeeded. */
static bool run_inits(gen *g, init_signals *sig)
{
    for (size_t s = 0; g->tarmac && s < g->tarmac->nservices; s++)
        for (size_t r = 0; r < g->tarmac->services[s].nroutes; r++)
            if (g->tarmac->services[s].routes[r].type == AP_ROUTE_INIT &&
                !run_init(g, &g->tarmac->services[s].routes[r], sig))
                return false;
    return !wait_for_stop(0, sig);
}

typedef struct {
    gen *g;
    ap_pool_fn *fn;
    int64_t frequency;
} task_arg;

/* A scheduled task (TARMAC.md §3.3): every `frequency` seconds from start, the first run after one
 * interval; errors are not logged (as Tarmac) except a run stopped by the function's timeout_ms
 * (apron's own limit, docs/isolation.md), the duration is observed. Runs do not overlap. */
static void *task_main(void *p)
{
    task_arg *t = p;
    gen *g = t->g;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    pthread_mutex_lock(&g->task_lock);
    for (;;) {
        next.tv_sec += t->frequency;
        while (!g->stopping &&
               pthread_cond_timedwait(&g->task_cond, &g->task_lock, &next) == 0)
            ;
        if (g->stopping) break;
        pthread_mutex_unlock(&g->task_lock);
        AP_LOG(AP_LOG_TRACE, "Executing Scheduled Task",
               AP_LSTR("function", ap_pool_fn_name(t->fn)));
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        ap_buf out = {0};
        ap_errbuf e;
        ap_pool_fn_status st =
            ap_pool_fn_call(t->fn, (ap_bytes){0}, g->s->pool_wait_timeout_ms, &out, &e);
        ap_buf_free(&out);
        if (st == AP_POOL_FN_TIMEOUT)
            AP_LOG(AP_LOG_ERROR, "Scheduled Task exceeded timeout_ms",
                   AP_LSTR("function", ap_pool_fn_name(t->fn)), AP_LSTR("error", e.msg));
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ms = (double)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
        ap_metrics_observe(AP_METRIC_SCHEDULED_TASKS, ap_pool_fn_name(t->fn), ms);
        pthread_mutex_lock(&g->task_lock);
    }
    pthread_mutex_unlock(&g->task_lock);
    free(t);
    return NULL;
}

static bool start_task(gen *g, ap_pool_fn *fn, int64_t frequency)
{
    task_arg *t = malloc(sizeof *t);
    pthread_t *v = realloc(g->tasks, (g->ntasks + 1) * sizeof *v);
    if (v) g->tasks = v;
    if (!t || !v) {
        free(t);
        return false;
    }
    *t = (task_arg){g, fn, frequency};
    if (pthread_create(&g->tasks[g->ntasks], NULL, task_main, t) != 0) {
        free(t);
        return false;
    }
    g->ntasks++;
    return true;
}

static bool start_tasks(gen *g)
{
    for (size_t s = 0; g->tarmac && s < g->tarmac->nservices; s++)
        for (size_t r = 0; r < g->tarmac->services[s].nroutes; r++) {
            const ap_tarmac_route *rt = &g->tarmac->services[s].routes[r];
            if (rt->type != AP_ROUTE_SCHEDULED_TASK) continue;
            AP_LOG(AP_LOG_INFO, "Scheduling custom task for function",
                   AP_LSTR("function", rt->function), AP_LINT("frequency", rt->frequency));
            if (!start_task(g, find_fn(g, rt->function), rt->frequency)) return false;
        }
    return true;
}

/* Stops the scheduled tasks, waiting for a running one to finish. */
static void stop_tasks(gen *g)
{
    if (!g->ntasks) return;
    pthread_mutex_lock(&g->task_lock);
    g->stopping = true;
    pthread_cond_broadcast(&g->task_cond);
    pthread_mutex_unlock(&g->task_lock);
    for (size_t i = 0; i < g->ntasks; i++)
        pthread_join(g->tasks[i], NULL);
    g->ntasks = 0;
}

static bool route_http(gen *g, const char *service, const char *method, const char *path,
                       const char *function)
{
    ap_errbuf e;
    if (!ap_router_add(g->router, method, path, AP_HANDLER_WASM, function, &e)) {
        AP_LOG(AP_LOG_ERROR, "Service stopped", AP_LSTR("error", e.msg));
        return false;
    }
    AP_LOG(AP_LOG_INFO, "Registering Route for function", AP_LSTR("function", function),
           AP_LSTR("method", method), AP_LSTR("path", path), AP_LSTR("function_type", "http"),
           AP_LSTR("service", service));
    return true;
}

static const char *const route_type_names[] = {
    [AP_ROUTE_HTTP] = "http",
    [AP_ROUTE_INIT] = "init",
    [AP_ROUTE_SCHEDULED_TASK] = "scheduled_task",
    [AP_ROUTE_FUNCTION] = "function",
};

/* service_routes (TARMAC.md §6): +1 per route of g when it starts serving, -1 when it is
 * replaced. */
static void gauge_routes(gen *g, double delta)
{
    if (!g->tarmac) {
        ap_metrics_gauge_add(AP_METRIC_SERVICE_ROUTES, "default", "http", delta);
        return;
    }
    for (size_t s = 0; s < g->tarmac->nservices; s++) {
        const ap_tarmac_service *sv = &g->tarmac->services[s];
        for (size_t r = 0; r < sv->nroutes; r++) {
            const ap_tarmac_route *rt = &sv->routes[r];
            if (rt->type == AP_ROUTE_OTHER) continue;
            double n = rt->type == AP_ROUTE_HTTP ? (double)rt->nmethods : 1;
            ap_metrics_gauge_add(AP_METRIC_SERVICE_ROUTES, sv->key, route_type_names[rt->type],
                                 n * delta);
        }
    }
}

/* Loads the functions and routes; false after logging why. */
static bool load_functions(gen *g, const ap_wapc_config *wc)
{
    int *counts = g->counts;
    if (!g->tarmac) {
        /* Single-function mode (TARMAC.md §1.3). */
        g->fns = calloc(1, sizeof *g->fns);
        g->wasis = calloc(1, sizeof *g->wasis);
        g->tags = calloc(1, sizeof *g->tags);
        if (!g->fns || !g->wasis || !g->tags) return false;
        if (!load_fn(g, wc, "default", g->s->wasm_function,
                     g->s->wasm_pool_size > 0 ? (size_t)g->s->wasm_pool_size : 100))
            return false;
        static const char *const m[] = {"GET", "POST", "PUT", "DELETE", "HEAD"};
        ap_errbuf e;
        for (int i = 0; i < 5; i++)
            if (!ap_router_add(g->router, m[i], "/", AP_HANDLER_WASM, "default", &e)) return false;
        counts[AP_ROUTE_HTTP] = 1;
        return true;
    }
    size_t total = 0;
    for (size_t s = 0; s < g->tarmac->nservices; s++)
        total += g->tarmac->services[s].nfunctions;
    g->fns = calloc(total + 1, sizeof *g->fns);
    g->wasis = calloc(total + 1, sizeof *g->wasis);
    g->tags = calloc(total + 1, sizeof *g->tags);
    if (!g->fns || !g->wasis || !g->tags) return false;
    AP_LOG(AP_LOG_INFO, "Loading Services from wasm_function_config",
           AP_LSTR("config_path", g->tarmac->path));
    for (size_t s = 0; s < g->tarmac->nservices; s++) {
        const ap_tarmac_service *sv = &g->tarmac->services[s];
        AP_LOG(AP_LOG_INFO, "Loading Functions from Service", AP_LSTR("service", sv->key));
        for (size_t f = 0; f < sv->nfunctions; f++) {
            if (!load_fn(g, wc, sv->functions[f].name, sv->functions[f].filepath,
                         (size_t)sv->functions[f].pool_size))
                return false;
            AP_LOG(AP_LOG_INFO, "Loaded Function for Service", AP_LSTR("service", sv->key),
                   AP_LSTR("function", sv->functions[f].name));
        }
        AP_LOG(AP_LOG_INFO, "Registering Routes from Service", AP_LSTR("service", sv->key));
        for (size_t r = 0; r < sv->nroutes; r++) {
            const ap_tarmac_route *rt = &sv->routes[r];
            if (rt->type == AP_ROUTE_HTTP) {
                for (size_t m = 0; m < rt->nmethods; m++)
                    if (!route_http(g, sv->key, rt->methods[m], rt->path, rt->function))
                        return false;
                counts[AP_ROUTE_HTTP] += (int)rt->nmethods;
            } else if (rt->type != AP_ROUTE_OTHER) {
                counts[rt->type]++;
            }
        }
    }
    return true;
}

/* Tarmac's start-up line for each function-to-function route; the handlers themselves are
 * src/cap's (ap_cap_register). */
static void log_f2f(const gen *g)
{
    for (size_t s = 0; g->tarmac && s < g->tarmac->nservices; s++)
        for (size_t r = 0; r < g->tarmac->services[s].nroutes; r++) {
            const ap_tarmac_route *rt = &g->tarmac->services[s].routes[r];
            if (rt->type == AP_ROUTE_FUNCTION && rt->function)
                AP_LOG(AP_LOG_INFO, "Registering Function to Function callback",
                       AP_LSTR("function", rt->function));
        }
}

static void guest_log(void *user, const ap_wapc_instance *inst, ap_bytes msg)
{
    AP_LOG(AP_LOG_INFO, "guest", AP_LSTR("function", ap_wapc_instance_name(inst)),
           AP_LMEM("message", (const char *)msg.ptr, msg.len ? msg.len : 0));
}

/* Stops g's tasks and frees it; no request may be using it. NULL is a no-op. */
static void gen_free(gen *g)
{
    if (!g) return;
    stop_tasks(g);
    if (g->gauged) gauge_routes(g, -1);
    free(g->tasks);
    for (size_t i = 0; i < g->nfns; i++) {
        ap_pool_fn_free(g->fns[i]);
        ap_wasi_free(g->wasis[i]);
        free(g->tags[i]);
    }
    free(g->fns);
    free(g->wasis);
    free(g->tags);
    ap_router_free(g->router);
    ap_wapc_registry_free(g->reg);
    ap_cap_free(g->cap);
    ap_tarmac_free(g->tarmac);
    pthread_cond_destroy(&g->task_cond);
    pthread_mutex_destroy(&g->task_lock);
    free(g);
}

/* The KV and SQL back ends of the capabilities: process-wide, shared by every generation. */
static ap_cap_backends backends;

typedef enum { GEN_OK, GEN_INVALID, GEN_FAILED } gen_status;

/* Reads tarmac.json (single-function mode when it is missing), builds the host-call registry,
 * loads the functions and registers the routes (with /metrics unless `job`). Init functions and
 * scheduled tasks are the caller's next steps. *out only on GEN_OK; otherwise the reason is
 * logged (an invalid tarmac.json also on stderr: a deliberate difference from Tarmac, which
 * falls back to single-function mode). */
static gen_status gen_new(const ap_settings *s, bool job, gen **out)
{
    gen *g = calloc(1, sizeof *g);
    if (!g) return GEN_FAILED;
    g->s = s;
    pthread_mutex_init(&g->task_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->task_cond, &ca);
    pthread_condattr_destroy(&ca);

    ap_buf problems = {0};
    ap_config_status ts = ap_tarmac_load(s->wasm_function_config, &g->tarmac, &problems);
    if (ts == AP_CONFIG_NOTFOUND) {
        AP_LOG(AP_LOG_INFO, "Could not load wasm_function_config starting with default function "
                            "path",
               AP_LSTR("config_path", s->wasm_function_config),
               AP_LSTR("error", "file not found"));
    } else if (ts != AP_CONFIG_OK) {
        fprintf(stderr, "apron serve: %s is invalid:\n%s", s->wasm_function_config,
                problems.data ? (char *)problems.data : "out of memory\n");
        AP_LOG(AP_LOG_ERROR, "Service stopped", AP_LSTR("error", "invalid wasm_function_config"),
               AP_LSTR("config_path", s->wasm_function_config));
        ap_buf_free(&problems);
        gen_free(g);
        return GEN_INVALID;
    }
    ap_buf_free(&problems);

    ap_errbuf e;
    /* Every host call is registered here, before the first instance exists. */
    if (!(g->reg = ap_wapc_registry_new()) || !ap_wapc_registry_alias(g->reg, "default", "tarmac") ||
        !ap_http_register_host_calls(g->reg) || !(g->router = ap_router_new()) ||
        !ap_router_add(g->router, "GET", "/health", AP_HANDLER_HEALTH, NULL, &e) ||
        !ap_router_add(g->router, "GET", "/ready", AP_HANDLER_READY, NULL, &e)) {
        AP_LOG(AP_LOG_ERROR, "Service stopped", AP_LSTR("error", "out of memory"));
        gen_free(g);
        return GEN_FAILED;
    }
    /* Capabilities (src/cap, issue 5), among them tarmac:function:<name> for every `function`
     * route (with the call-chain depth limit). */
    log_f2f(g);
    ap_cap_config cc = {.settings = s, .tarmac = g->tarmac, .kv = backends.kv, .sql = backends.sql};
    if (!ap_cap_new(&cc, &g->cap, &e) || !ap_cap_register(g->cap, g->reg)) {
        AP_LOG(AP_LOG_ERROR, "Service stopped", AP_LSTR("error", "capabilities: out of memory"));
        gen_free(g);
        return GEN_FAILED;
    }
    ap_wapc_config wc = {.registry = g->reg, .tarmac_texts = true, .log = guest_log};
    if (!load_functions(g, &wc)) {
        gen_free(g);
        return GEN_FAILED;
    }
    ap_cap_bind_functions(g->cap, g->fns, g->nfns);
    if (!job && !ap_router_add(g->router, "GET", "/metrics", AP_HANDLER_METRICS, NULL, &e)) {
        AP_LOG(AP_LOG_ERROR, "Service stopped", AP_LSTR("error", e.msg));
        gen_free(g);
        return GEN_FAILED;
    }
    *out = g;
    return GEN_OK;
}

static ap_http_routes gen_routes(const gen *g)
{
    return (ap_http_routes){.router = g->router, .fns = g->fns, .nfns = g->nfns};
}

/* SIGHUP: a new generation from tarmac.json, its init functions run and its tasks started, then
 * swapped in. The running one stays if anything fails; a SIGTERM/SIGINT while its init functions
 * run abandons it (sig->stop), a SIGHUP then asks for another reload (sig->reload). */
static void reload(app *a, ap_http *h, init_signals *sig)
{
    AP_LOG(AP_LOG_INFO, "Reloading wasm_function_config",
           AP_LSTR("config_path", a->s.wasm_function_config));
    gen *g = NULL;
    if (gen_new(&a->s, false, &g) != GEN_OK || !run_inits(g, sig) || !start_tasks(g)) {
        gen_free(g);
        if (sig->stop)
            AP_LOG(AP_LOG_INFO, "Reload abandoned, the running functions stay");
        else
            AP_LOG(AP_LOG_ERROR, "Reload failed, the running functions stay");
        return;
    }
    ap_http_routes r = gen_routes(g);
    if (!ap_http_swap(h, &r)) {
        gen_free(g);
        AP_LOG(AP_LOG_ERROR, "Reload failed, the running functions stay",
               AP_LSTR("error", "out of memory"));
        return;
    }
    gen *old = a->g;
    a->g = g;
    gauge_routes(g, 1);
    g->gauged = true;
    gen_free(old);
    AP_LOG(AP_LOG_INFO, "Reloaded Functions and Routes", AP_LINT("init", g->counts[AP_ROUTE_INIT]),
           AP_LINT("http", g->counts[AP_ROUTE_HTTP]),
           AP_LINT("scheduled_task", g->counts[AP_ROUTE_SCHEDULED_TASK]),
           AP_LINT("function", g->counts[AP_ROUTE_FUNCTION]));
}

/* Settings from every source; false after printing every problem on stderr. */
static bool load_settings(app *a, int argc, char **argv, bool *print)
{
    const char *config = NULL, *listen = NULL, *functions = NULL;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char **dst = strcmp(arg, "--config") == 0      ? &config
                           : strcmp(arg, "--listen") == 0    ? &listen
                           : strcmp(arg, "--functions") == 0 ? &functions
                                                             : NULL;
        if (dst && i + 1 < argc) {
            *dst = argv[++i];
        } else if (strcmp(arg, "--print-config") == 0) {
            *print = true;
        } else {
            fprintf(stderr, "apron serve: unknown or incomplete argument '%s'\n%s", arg,
                    usage_text);
            return false;
        }
    }
    if (ap_settings_defaults(&a->s) != AP_CONFIG_OK) return false;
    ap_buf problems = {0};
    bool ok = true;
    const char *file = config ? config : "conf/config.json";
    ap_config_status st = ap_settings_load_file(&a->s, file, &problems);
    if (st == AP_CONFIG_NOTFOUND && config) {
        fprintf(stderr, "apron serve: config file %s not found\n", config);
        ok = false;
    } else if (st != AP_CONFIG_OK && st != AP_CONFIG_NOTFOUND) {
        ok = false;
    }
    if (ap_settings_load_env(&a->s, environ, &problems) != AP_CONFIG_OK) ok = false;
    ap_errbuf e;
    if (listen && ap_settings_set(&a->s, "listen_addr", listen, "--listen", &e) != AP_CONFIG_OK) {
        ap_buf_printf(&problems, "%s\n", e.msg);
        ok = false;
    }
    if (functions && ap_settings_set(&a->s, "wasm_function_config", functions, "--functions",
                                     &e) != AP_CONFIG_OK) {
        ap_buf_printf(&problems, "%s\n", e.msg);
        ok = false;
    }
    if (!ok) fprintf(stderr, "apron serve: invalid configuration:\n%s", problems.data ? (char *)problems.data : "");
    ap_buf_free(&problems);
    return ok;
}

int ap_cli_serve(int argc, char **argv)
{
    app a = {0};
    bool print = false;
    int rc = 1;
    if (!load_settings(&a, argc, argv, &print)) {
        ap_settings_free(&a.s);
        return 2;
    }
    if (print) {
        ap_buf out = {0};
        ap_settings_dump(&a.s, &out);
        fputs(out.data ? (char *)out.data : "", stdout);
        ap_buf_free(&out);
        ap_settings_free(&a.s);
        return 0;
    }
    /* From here on the signals are taken by sigwait on this thread (sigtimedwait while init
     * functions wait between attempts); every thread started later inherits the mask, so none
     * of them is ended by a signal, start-up included. */
    sigset_t sigs;
    serve_signals(&sigs);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    init_signals isig = {0};

    ap_log_setup(ap_log_level_from(a.s.debug, a.s.trace, a.s.disable_logging), a.s.text_log_format,
                 stdout);
    if (!a.s.config_file)
        AP_LOG(AP_LOG_WARN, "No Config file found, loaded config from Environment - Default path "
                            "./conf");
    AP_LOG(AP_LOG_INFO, "Starting apron", AP_LSTR("run_mode", a.s.run_mode),
           AP_LBOOL("use_consul", a.s.use_consul), AP_LBOOL("enable_kvstore", a.s.enable_kvstore),
           AP_LBOOL("enable_sql", a.s.enable_sql), AP_LBOOL("enable_tls", a.s.enable_tls),
           AP_LBOOL("enable_metrics", a.s.enable_metrics));
    if (a.s.use_consul) {
        AP_LOG(AP_LOG_ERROR, "Service stopped", AP_LSTR("error", "not supported yet"),
               AP_LSTR("setting", "use_consul (Consul configuration)"));
        goto out;
    }
    /* The capabilities' back ends (issue 5): opened once, shared by every generation. */
    ap_errbuf be;
    if (!ap_cap_backends_open(&a.s, &backends, &be)) {
        AP_LOG(AP_LOG_ERROR, "Service stopped", AP_LSTR("error", be.msg));
        goto out;
    }

    bool job = strcmp(a.s.run_mode, "job") == 0;
    if (gen_new(&a.s, job, &a.g) != GEN_OK) goto out;
    if (!run_inits(a.g, &isig)) {
        if (!isig.stop) goto out;
        /* TARMAC.md §1.8: a stop asked for during start-up is a stop, not a failure. */
        AP_LOG(AP_LOG_INFO, "Received shutdown signal", AP_LSTR("signal", strsignal(isig.stop)));
        AP_LOG(AP_LOG_INFO, "Service shutdown");
        rc = 0;
        goto out;
    }
    gen *g = a.g;
    AP_LOG(AP_LOG_INFO, "Loaded Functions and Routes", AP_LINT("init", g->counts[AP_ROUTE_INIT]),
           AP_LINT("http", g->counts[AP_ROUTE_HTTP]),
           AP_LINT("scheduled_task", g->counts[AP_ROUTE_SCHEDULED_TASK]),
           AP_LINT("function", g->counts[AP_ROUTE_FUNCTION]));
    if (job) {
        AP_LOG(AP_LOG_INFO, "Run mode is job, exiting after init function execution");
        rc = 0;
        goto out;
    }
    gauge_routes(g, 1);
    g->gauged = true;

    if (!start_tasks(g)) {
        AP_LOG(AP_LOG_ERROR, "Service stopped", AP_LSTR("error", "cannot start scheduled tasks"));
        goto out;
    }
    ap_http_config hc = {.settings = &a.s, .routes = gen_routes(g)};
    ap_http *h;
    ap_errbuf e;
    AP_LOG(AP_LOG_INFO, "Starting HTTP Listener", AP_LSTR("address", a.s.listen_addr));
    if (ap_http_start(&hc, &h, &e) != AP_HTTP_OK) {
        AP_LOG(AP_LOG_ERROR, "Service stopped", AP_LSTR("error", e.msg));
        goto out;
    }
    char msg[128];
    snprintf(msg, sizeof msg, "listening on %s", ap_http_address(h));
    AP_LOG(AP_LOG_INFO, msg, AP_LSTR("address", ap_http_address(h)),
           AP_LBOOL("tls", a.s.enable_tls));
    /* A SIGHUP taken while init functions ran is a reload now. */
    int sig = 0;
    while (!isig.stop) {
        if (isig.reload) {
            isig.reload = false;
            reload(&a, h, &isig);
        } else if (sigwait(&sigs, &sig) == 0 && sig == SIGHUP) {
            isig.reload = true;
        } else {
            break;
        }
    }
    if (isig.stop) sig = isig.stop;
    AP_LOG(AP_LOG_INFO, "Received shutdown signal", AP_LSTR("signal", strsignal(sig)));
    unsigned cut = ap_http_stop(h, a.s.shutdown_timeout);
    if (cut) {
        AP_LOG(AP_LOG_WARN, "Shutdown timed out with requests still running",
               AP_LINT("requests", cut));
        return 0; /* their guests still run: skip freeing what they use */
    }
    AP_LOG(AP_LOG_INFO, "Service shutdown");
    rc = 0;
out:
    gen_free(a.g);
    ap_cap_backends_close(&backends);
    ap_settings_free(&a.s);
    return rc;
}
