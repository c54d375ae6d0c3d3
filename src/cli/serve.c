/* serve.c — `apron serve`: settings (defaults < config file < APP_* environment < flags), the
 * functions of tarmac.json (or single-function mode when it is missing), init functions, the
 * HTTP listener, and a graceful stop on SIGTERM/SIGINT (TARMAC.md §1.1–1.3, §1.8, §3). */
#include "cli.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/metrics.h"
#include "config/config.h"
#include "http/http.h"
#include "pool/pool.h"
#include "router/router.h"
#include "wapc/wapc.h"

extern char **environ;

static const char usage_text[] =
    "usage: apron serve [--config FILE] [--listen ADDR:PORT] [--functions TARMAC.JSON]\n"
    "                   [--print-config]\n"
    "Settings come from defaults, the config file (--config, else ./conf/config.json if present),\n"
    "APP_* environment variables and these flags, later ones winning.\n";

/* A function-to-function callback target, filled once the callee is loaded. */
typedef struct {
    ap_pool_fn *fn;
    const ap_settings *s;
} f2f_target;

typedef struct {
    ap_settings s;
    ap_tarmac *tarmac;
    ap_wapc_registry *reg;
    ap_router *router;
    ap_pool_fn **fns;
    size_t nfns;
    f2f_target *f2f;
    size_t nf2f;
    /* scheduled tasks */
    pthread_t *tasks;
    size_t ntasks;
    pthread_mutex_t task_lock;
    pthread_cond_t task_cond;
    bool stopping;
} app;

static ap_wapc_host_status call_function(void *user, const ap_wapc_call *call, ap_buf *response,
                                         ap_buf *error)
{
    f2f_target *t = user;
    if (!t->fn) {
        ap_buf_append_str(error, "unable to load wasi environment - module not found");
        return AP_WAPC_HOST_ERROR;
    }
    AP_LOG(AP_LOG_INFO, "Executing Function to Function callback",
           AP_LSTR("function", ap_pool_fn_name(t->fn)));
    ap_errbuf e;
    if (ap_pool_fn_call(t->fn, call->payload, t->s->pool_wait_timeout_ms, response, &e) !=
        AP_POOL_FN_OK) {
        ap_buf_append_str(error, e.msg);
        return AP_WAPC_HOST_ERROR;
    }
    return AP_WAPC_HOST_OK;
}

static ap_pool_fn *find_fn(app *a, const char *name)
{
    for (size_t i = 0; i < a->nfns; i++)
        if (strcmp(ap_pool_fn_name(a->fns[i]), name) == 0) return a->fns[i];
    return NULL;
}

static bool load_fn(app *a, const ap_wapc_config *wc, const char *name, const char *path,
                    size_t pool_size)
{
    ap_errbuf e;
    ap_pool_fn *fn;
    if (ap_pool_fn_load(name, path, pool_size, wc, &fn, &e) != AP_POOL_OK) {
        AP_LOG(AP_LOG_ERROR, "Service stopped",
               AP_LSTR("error", "could not load function"), AP_LSTR("function", name),
               AP_LSTR("path", path), AP_LSTR("detail", e.msg));
        return false;
    }
    a->fns[a->nfns++] = fn;
    return true;
}

/* Init functions (TARMAC.md §3.4), with apron's backoff: the delay starts at `frequency` seconds
 * and doubles after each failure (Tarmac squares it); no sleep after the last attempt. */
static bool run_init(app *a, const ap_tarmac_route *r)
{
    ap_pool_fn *fn = find_fn(a, r->function);
    int64_t delay = r->frequency > 0 ? r->frequency : 1;
    for (int64_t attempt = 0; attempt <= r->retries; attempt++) {
        AP_LOG(AP_LOG_INFO, "Executing Init Function", AP_LSTR("function", r->function),
               AP_LINT("attempt", attempt + 1));
        ap_buf out = {0};
        ap_errbuf e;
        ap_pool_fn_status st = ap_pool_fn_call(fn, (ap_bytes){0}, a->s.pool_wait_timeout_ms,
                                               &out, &e);
        ap_buf_free(&out);
        if (st == AP_POOL_FN_OK) return true;
        char msg[300];
        snprintf(msg, sizeof msg, "Error executing Init Function: %s", e.msg);
        AP_LOG(AP_LOG_ERROR, msg, AP_LSTR("function", r->function), AP_LSTR("error", e.msg));
        if (attempt == r->retries) break;
        struct timespec ts = {.tv_sec = delay};
        nanosleep(&ts, NULL);
        if (delay < 3600) delay *= 2;
    }
    AP_LOG(AP_LOG_ERROR, "Service stopped", AP_LSTR("error", "init function exceeded retries"),
           AP_LSTR("function", r->function));
    return false;
}

typedef struct {
    app *a;
    ap_pool_fn *fn;
    int64_t frequency;
} task_arg;

/* A scheduled task (TARMAC.md §3.3): every `frequency` seconds from start, the first run after one
 * interval; errors are not logged (as Tarmac), the duration is observed. Runs do not overlap. */
static void *task_main(void *p)
{
    task_arg *t = p;
    app *a = t->a;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    pthread_mutex_lock(&a->task_lock);
    for (;;) {
        next.tv_sec += t->frequency;
        while (!a->stopping &&
               pthread_cond_timedwait(&a->task_cond, &a->task_lock, &next) == 0)
            ;
        if (a->stopping) break;
        pthread_mutex_unlock(&a->task_lock);
        AP_LOG(AP_LOG_TRACE, "Executing Scheduled Task",
               AP_LSTR("function", ap_pool_fn_name(t->fn)));
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        ap_buf out = {0};
        ap_errbuf e;
        ap_pool_fn_call(t->fn, (ap_bytes){0}, a->s.pool_wait_timeout_ms, &out, &e);
        ap_buf_free(&out);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ms = (double)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
        ap_metrics_observe(AP_METRIC_SCHEDULED_TASKS, ap_pool_fn_name(t->fn), ms);
        pthread_mutex_lock(&a->task_lock);
    }
    pthread_mutex_unlock(&a->task_lock);
    free(t);
    return NULL;
}

static bool start_task(app *a, ap_pool_fn *fn, int64_t frequency)
{
    task_arg *t = malloc(sizeof *t);
    pthread_t *v = realloc(a->tasks, (a->ntasks + 1) * sizeof *v);
    if (!t || !v) {
        free(t);
        return false;
    }
    a->tasks = v;
    *t = (task_arg){a, fn, frequency};
    if (pthread_create(&a->tasks[a->ntasks], NULL, task_main, t) != 0) {
        free(t);
        return false;
    }
    a->ntasks++;
    return true;
}

static bool route_http(app *a, const char *service, const char *method, const char *path,
                       const char *function)
{
    ap_errbuf e;
    if (!ap_router_add(a->router, method, path, AP_HANDLER_WASM, function, &e)) {
        AP_LOG(AP_LOG_ERROR, "Service stopped", AP_LSTR("error", e.msg));
        return false;
    }
    AP_LOG(AP_LOG_INFO, "Registering Route for function", AP_LSTR("function", function),
           AP_LSTR("method", method), AP_LSTR("path", path), AP_LSTR("function_type", "http"),
           AP_LSTR("service", service));
    ap_metrics_gauge_add(AP_METRIC_SERVICE_ROUTES, service, "http", 1);
    return true;
}

/* Loads the functions and routes; false after logging why. */
static bool load_functions(app *a, const ap_wapc_config *wc, int *counts)
{
    if (!a->tarmac) {
        /* Single-function mode (TARMAC.md §1.3). */
        a->fns = calloc(1, sizeof *a->fns);
        if (!a->fns) return false;
        if (!load_fn(a, wc, "default", a->s.wasm_function,
                     a->s.wasm_pool_size > 0 ? (size_t)a->s.wasm_pool_size : 100))
            return false;
        static const char *const m[] = {"GET", "POST", "PUT", "DELETE", "HEAD"};
        ap_errbuf e;
        for (int i = 0; i < 5; i++)
            if (!ap_router_add(a->router, m[i], "/", AP_HANDLER_WASM, "default", &e)) return false;
        ap_metrics_gauge_add(AP_METRIC_SERVICE_ROUTES, "default", "http", 1);
        counts[AP_ROUTE_HTTP] = 1;
        return true;
    }
    size_t total = 0;
    for (size_t s = 0; s < a->tarmac->nservices; s++)
        total += a->tarmac->services[s].nfunctions;
    a->fns = calloc(total + 1, sizeof *a->fns);
    if (!a->fns) return false;
    AP_LOG(AP_LOG_INFO, "Loading Services from wasm_function_config",
           AP_LSTR("config_path", a->tarmac->path));
    for (size_t s = 0; s < a->tarmac->nservices; s++) {
        const ap_tarmac_service *sv = &a->tarmac->services[s];
        AP_LOG(AP_LOG_INFO, "Loading Functions from Service", AP_LSTR("service", sv->key));
        for (size_t f = 0; f < sv->nfunctions; f++) {
            if (!load_fn(a, wc, sv->functions[f].name, sv->functions[f].filepath,
                         (size_t)sv->functions[f].pool_size))
                return false;
            AP_LOG(AP_LOG_INFO, "Loaded Function for Service", AP_LSTR("service", sv->key),
                   AP_LSTR("function", sv->functions[f].name));
        }
        AP_LOG(AP_LOG_INFO, "Registering Routes from Service", AP_LSTR("service", sv->key));
        for (size_t r = 0; r < sv->nroutes; r++) {
            const ap_tarmac_route *rt = &sv->routes[r];
            switch (rt->type) {
            case AP_ROUTE_HTTP:
                for (size_t m = 0; m < rt->nmethods; m++)
                    if (!route_http(a, sv->key, rt->methods[m], rt->path, rt->function))
                        return false;
                counts[AP_ROUTE_HTTP] += (int)rt->nmethods;
                break;
            case AP_ROUTE_INIT:
                ap_metrics_gauge_add(AP_METRIC_SERVICE_ROUTES, sv->key, "init", 1);
                counts[AP_ROUTE_INIT]++;
                break;
            case AP_ROUTE_SCHEDULED_TASK:
                ap_metrics_gauge_add(AP_METRIC_SERVICE_ROUTES, sv->key, "scheduled_task", 1);
                counts[AP_ROUTE_SCHEDULED_TASK]++;
                break;
            case AP_ROUTE_FUNCTION:
                ap_metrics_gauge_add(AP_METRIC_SERVICE_ROUTES, sv->key, "function", 1);
                counts[AP_ROUTE_FUNCTION]++;
                break;
            case AP_ROUTE_OTHER: break;
            }
        }
    }
    return true;
}

/* Function-to-function callbacks are registered before any instance exists (the registry is
 * read-only afterwards); their targets are filled in once every function is loaded. */
static bool register_f2f(app *a)
{
    if (!a->tarmac) return true;
    size_t n = 0;
    for (size_t s = 0; s < a->tarmac->nservices; s++)
        for (size_t r = 0; r < a->tarmac->services[s].nroutes; r++)
            n += a->tarmac->services[s].routes[r].type == AP_ROUTE_FUNCTION;
    a->f2f = calloc(n + 1, sizeof *a->f2f);
    if (!a->f2f) return false;
    for (size_t s = 0; s < a->tarmac->nservices; s++)
        for (size_t r = 0; r < a->tarmac->services[s].nroutes; r++) {
            const ap_tarmac_route *rt = &a->tarmac->services[s].routes[r];
            if (rt->type != AP_ROUTE_FUNCTION) continue;
            f2f_target *t = &a->f2f[a->nf2f++];
            t->s = &a->s;
            AP_LOG(AP_LOG_INFO, "Registering Function to Function callback",
                   AP_LSTR("function", rt->function));
            if (!ap_wapc_register(a->reg, "tarmac", "function", rt->function, call_function, t))
                return false;
        }
    return true;
}

static void bind_f2f(app *a)
{
    size_t i = 0;
    for (size_t s = 0; a->tarmac && s < a->tarmac->nservices; s++)
        for (size_t r = 0; r < a->tarmac->services[s].nroutes; r++)
            if (a->tarmac->services[s].routes[r].type == AP_ROUTE_FUNCTION)
                a->f2f[i++].fn = find_fn(a, a->tarmac->services[s].routes[r].function);
}

static void guest_log(void *user, const ap_wapc_instance *inst, ap_bytes msg)
{
    AP_LOG(AP_LOG_INFO, "guest", AP_LSTR("function", ap_wapc_instance_name(inst)),
           AP_LMEM("message", (const char *)msg.ptr, msg.len ? msg.len : 0));
}

static void app_free(app *a)
{
    if (a->ntasks) {
        pthread_mutex_lock(&a->task_lock);
        a->stopping = true;
        pthread_cond_broadcast(&a->task_cond);
        pthread_mutex_unlock(&a->task_lock);
        for (size_t i = 0; i < a->ntasks; i++)
            pthread_join(a->tasks[i], NULL);
    }
    free(a->tasks);
    for (size_t i = 0; i < a->nfns; i++)
        ap_pool_fn_free(a->fns[i]);
    free(a->fns);
    free(a->f2f);
    ap_router_free(a->router);
    ap_wapc_registry_free(a->reg);
    ap_tarmac_free(a->tarmac);
    ap_settings_free(&a->s);
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
    pthread_mutex_init(&a.task_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a.task_cond, &ca);
    pthread_condattr_destroy(&ca);
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
    ap_log_setup(ap_log_level_from(a.s.debug, a.s.trace, a.s.disable_logging), a.s.text_log_format,
                 stdout);
    if (!a.s.config_file)
        AP_LOG(AP_LOG_WARN, "No Config file found, loaded config from Environment - Default path "
                            "./conf");
    AP_LOG(AP_LOG_INFO, "Starting apron", AP_LSTR("run_mode", a.s.run_mode),
           AP_LBOOL("use_consul", a.s.use_consul), AP_LBOOL("enable_kvstore", a.s.enable_kvstore),
           AP_LBOOL("enable_sql", a.s.enable_sql), AP_LBOOL("enable_tls", a.s.enable_tls),
           AP_LBOOL("enable_metrics", a.s.enable_metrics));
    const char *unsupported = a.s.use_consul       ? "use_consul (Consul configuration)"
                              : a.s.enable_kvstore ? "enable_kvstore (key-value store)"
                              : a.s.enable_sql     ? "enable_sql (SQL store)"
                                                   : NULL;
    if (unsupported) {
        AP_LOG(AP_LOG_ERROR, "Service stopped", AP_LSTR("error", "not supported yet"),
               AP_LSTR("setting", unsupported));
        goto out;
    }

    ap_buf problems = {0};
    ap_config_status ts = ap_tarmac_load(a.s.wasm_function_config, &a.tarmac, &problems);
    if (ts == AP_CONFIG_NOTFOUND) {
        AP_LOG(AP_LOG_INFO, "Could not load wasm_function_config starting with default function "
                            "path",
               AP_LSTR("config_path", a.s.wasm_function_config),
               AP_LSTR("error", "file not found"));
    } else if (ts != AP_CONFIG_OK) {
        /* A deliberate difference from Tarmac: an invalid tarmac.json stops start-up. */
        fprintf(stderr, "apron serve: %s is invalid:\n%s", a.s.wasm_function_config,
                problems.data ? (char *)problems.data : "out of memory\n");
        AP_LOG(AP_LOG_ERROR, "Service stopped", AP_LSTR("error", "invalid wasm_function_config"),
               AP_LSTR("config_path", a.s.wasm_function_config));
        ap_buf_free(&problems);
        goto out;
    }
    ap_buf_free(&problems);

    if (!(a.reg = ap_wapc_registry_new()) || !ap_wapc_registry_alias(a.reg, "default", "tarmac") ||
        !(a.router = ap_router_new()) || !register_f2f(&a))
        goto oom;
    ap_errbuf e;
    if (!ap_router_add(a.router, "GET", "/health", AP_HANDLER_HEALTH, NULL, &e) ||
        !ap_router_add(a.router, "GET", "/ready", AP_HANDLER_READY, NULL, &e))
        goto oom;
    ap_wapc_config wc = {.registry = a.reg, .tarmac_texts = true, .log = guest_log};
    int counts[AP_ROUTE_OTHER + 1] = {0};
    if (!load_functions(&a, &wc, counts)) goto out;
    bind_f2f(&a);
    for (size_t s = 0; a.tarmac && s < a.tarmac->nservices; s++)
        for (size_t r = 0; r < a.tarmac->services[s].nroutes; r++)
            if (a.tarmac->services[s].routes[r].type == AP_ROUTE_INIT &&
                !run_init(&a, &a.tarmac->services[s].routes[r]))
                goto out;
    AP_LOG(AP_LOG_INFO, "Loaded Functions and Routes", AP_LINT("init", counts[AP_ROUTE_INIT]),
           AP_LINT("http", counts[AP_ROUTE_HTTP]),
           AP_LINT("scheduled_task", counts[AP_ROUTE_SCHEDULED_TASK]),
           AP_LINT("function", counts[AP_ROUTE_FUNCTION]));
    if (strcmp(a.s.run_mode, "job") == 0) {
        AP_LOG(AP_LOG_INFO, "Run mode is job, exiting after init function execution");
        rc = 0;
        goto out;
    }
    if (!ap_router_add(a.router, "GET", "/metrics", AP_HANDLER_METRICS, NULL, &e)) goto oom;

    /* Signals are taken by sigwait on this thread; every thread started from here inherits the
     * mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    for (size_t s = 0; a.tarmac && s < a.tarmac->nservices; s++)
        for (size_t r = 0; r < a.tarmac->services[s].nroutes; r++) {
            const ap_tarmac_route *rt = &a.tarmac->services[s].routes[r];
            if (rt->type != AP_ROUTE_SCHEDULED_TASK) continue;
            AP_LOG(AP_LOG_INFO, "Scheduling custom task for function",
                   AP_LSTR("function", rt->function), AP_LINT("frequency", rt->frequency));
            if (!start_task(&a, find_fn(&a, rt->function), rt->frequency)) goto oom;
        }

    ap_http_config hc = {.settings = &a.s, .router = a.router, .fns = a.fns, .nfns = a.nfns};
    ap_http *h;
    AP_LOG(AP_LOG_INFO, "Starting HTTP Listener", AP_LSTR("address", a.s.listen_addr));
    if (ap_http_start(&hc, &h, &e) != AP_HTTP_OK) {
        AP_LOG(AP_LOG_ERROR, "Service stopped", AP_LSTR("error", e.msg));
        goto out;
    }
    char msg[128];
    snprintf(msg, sizeof msg, "listening on %s", ap_http_address(h));
    AP_LOG(AP_LOG_INFO, msg, AP_LSTR("address", ap_http_address(h)),
           AP_LBOOL("tls", a.s.enable_tls));
    int sig = 0;
    sigwait(&sigs, &sig);
    AP_LOG(AP_LOG_INFO, "Received shutdown signal", AP_LSTR("signal", strsignal(sig)));
    unsigned cut = ap_http_stop(h, a.s.shutdown_timeout);
    if (cut) {
        AP_LOG(AP_LOG_WARN, "Shutdown timed out with requests still running",
               AP_LINT("requests", cut));
        return 0; /* their guests still run: skip freeing what they use */
    }
    AP_LOG(AP_LOG_INFO, "Service shutdown");
    rc = 0;
    goto out;
oom:
    AP_LOG(AP_LOG_ERROR, "Service stopped", AP_LSTR("error", "start-up failed (out of memory or "
                                                             "route conflict)"));
out:
    app_free(&a);
    return rc;
}
