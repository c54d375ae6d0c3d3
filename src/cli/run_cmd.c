/* run_cmd.c — `apron run FILE.wasm --op NAME [--data TEXT | --data-file PATH] [options]`: loads a
 * waPC guest outside the server, invokes one operation and prints the response bytes to stdout
 * (exit 0) or the error to stderr (exit 1). Guest stdout/stderr (WASI) and __console_log lines go
 * to the process's own stdout/stderr.
 *
 * Host calls: bindings `tarmac` and `default` reach the Tarmac capabilities (src/cap: logger,
 * httpclient, metrics always; kvstore and sql when enabled by APP_* variables or by --kv-path FILE
 * (LMDB, or --kv-type in-memory|lmdb|redis|nats), --sql-path FILE (SQLite)); anything else "no
 * host function for b:ns:op" (with --tarmac, Tarmac's "callback not found"). For tests,
 * --host MODE answers every host call the same way: echo (the payload back), upper (the payload
 * in ASCII upper case), reply:TEXT, error:TEXT; --echo-host-calls is --host echo.
 * --trace-host-calls prints each host call to stderr as `host call <b>:<ns>:<op> <payload>`, the
 * ones the capabilities answer too (it wraps the capabilities' registry: their exact keys would
 * otherwise outrank a wildcard tracer).
 *
 * Limits: --timeout-ms N interrupts the invocation after N ms (a watchdog thread calling
 * ap_wapc_interrupt; start-up is not covered); --max-host-calls N caps host calls per invocation
 * (default 1,000,000). --repeat N invokes N times on one instance (a fresh one after a trap, as a
 * pool would), printing each response; the exit status is the last invocation's. --tarmac uses
 * Tarmac's texts and rules, as `apron serve` does (TARMAC.md §1.5, §1.6, §11.2): "error invoking
 * guest: <trap>", "callback not found", and a proc_exit in a call answering the response the
 * guest already gave (else success for exit 0). */
#include "cli.h"

#include "base/log.h"
#include "cap/cap.h"
#include "config/config.h"
#include "wapc/wapc.h"

extern char **environ;

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum { HOST_NONE, HOST_ECHO, HOST_UPPER, HOST_REPLY, HOST_ERROR } host_mode;

typedef struct {
    host_mode mode;
    const char *text; /* for reply:/error: */
    bool trace;
    const ap_wapc_registry *caps; /* HOST_NONE: where traced calls go on to */
} host_opts;

static int usage(void)
{
    fprintf(stderr,
            "usage: apron run FILE.wasm --op NAME [--data TEXT | --data-file PATH]\n"
            "                 [--host echo|upper|reply:TEXT|error:TEXT] [--echo-host-calls]\n"
            "                 [--trace-host-calls] [--timeout-ms N] [--max-host-calls N]\n"
            "                 [--repeat N] [--tarmac] [--kv-path FILE] [--kv-type TYPE]\n"
            "                 [--sql-path FILE]\n");
    return 2;
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    ap_buf b = {0};
    uint8_t chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (!ap_buf_append(&b, chunk, n)) {
            fclose(f);
            ap_buf_free(&b);
            errno = ENOMEM;
            return NULL;
        }
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        ap_buf_free(&b);
        errno = EIO;
        return NULL;
    }
    *len = b.len;
    return b.data ? b.data : calloc(1, 1);
}

/* ---- Host calls ---- */

static void print_bytes(FILE *f, ap_bytes b) { fwrite(b.ptr, 1, b.len, f); }

static ap_wapc_host_status test_host(void *user, const ap_wapc_call *call, ap_buf *response,
                                     ap_buf *error)
{
    const host_opts *o = user;
    if (o->trace) {
        fputs("host call ", stderr);
        print_bytes(stderr, call->binding);
        fputc(':', stderr);
        print_bytes(stderr, call->namespace_);
        fputc(':', stderr);
        print_bytes(stderr, call->operation);
        fputc(' ', stderr);
        print_bytes(stderr, call->payload);
        fputc('\n', stderr);
    }
    switch (o->mode) {
    case HOST_NONE:
        return ap_wapc_registry_dispatch(o->caps, call, response, error);
    case HOST_ECHO:
        ap_buf_append(response, call->payload.ptr, call->payload.len);
        return AP_WAPC_HOST_OK;
    case HOST_UPPER:
        for (size_t i = 0; i < call->payload.len; i++) {
            uint8_t c = call->payload.ptr[i];
            c = c >= 'a' && c <= 'z' ? (uint8_t)(c - 'a' + 'A') : c;
            ap_buf_append(response, &c, 1);
        }
        return AP_WAPC_HOST_OK;
    case HOST_REPLY:
        ap_buf_append_str(response, o->text);
        return AP_WAPC_HOST_OK;
    case HOST_ERROR:
        ap_buf_append_str(error, o->text);
        return AP_WAPC_HOST_ERROR;
    }
    return AP_WAPC_HOST_ERROR;
}

static void log_line(void *user, const ap_wapc_instance *inst, ap_bytes msg)
{
    print_bytes(stderr, msg);
    fputc('\n', stderr);
}

/* ---- Watchdog ---- */

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ap_wapc_instance *target; /* interrupted when the deadline passes; NULL: nothing running */
    struct timespec deadline;
    bool armed, quit;
} watchdog;

static void *watchdog_main(void *p)
{
    watchdog *w = p;
    pthread_mutex_lock(&w->mu);
    while (!w->quit) {
        if (!w->armed) {
            pthread_cond_wait(&w->cv, &w->mu);
            continue;
        }
        if (pthread_cond_timedwait(&w->cv, &w->mu, &w->deadline) == ETIMEDOUT && w->armed) {
            ap_wapc_interrupt(w->target);
            w->armed = false;
        }
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void watchdog_arm(watchdog *w, ap_wapc_instance *inst, long timeout_ms)
{
    pthread_mutex_lock(&w->mu);
    clock_gettime(CLOCK_REALTIME, &w->deadline);
    w->deadline.tv_sec += timeout_ms / 1000;
    w->deadline.tv_nsec += (timeout_ms % 1000) * 1000000L;
    if (w->deadline.tv_nsec >= 1000000000L) {
        w->deadline.tv_sec++;
        w->deadline.tv_nsec -= 1000000000L;
    }
    w->target = inst;
    w->armed = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void watchdog_disarm(watchdog *w)
{
    pthread_mutex_lock(&w->mu);
    w->armed = false;
    w->target = NULL;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* ---- The command ---- */

static bool parse_count(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < 0)
        return false;
    *out = v;
    return true;
}

int ap_cli_run(int argc, char **argv)
{
    const char *path = NULL, *op = NULL, *data = NULL, *data_file = NULL;
    host_opts host = {.mode = HOST_NONE};
    long timeout_ms = 0, max_host_calls = 0, repeat = 1;
    bool tarmac = false;
    const char *kv_path = NULL, *kv_type = NULL, *sql_path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_val = i + 1 < argc;
        if (strcmp(a, "--op") == 0 && has_val)
            op = argv[++i];
        else if (strcmp(a, "--data") == 0 && has_val)
            data = argv[++i];
        else if (strcmp(a, "--data-file") == 0 && has_val)
            data_file = argv[++i];
        else if (strcmp(a, "--echo-host-calls") == 0)
            host.mode = HOST_ECHO;
        else if (strcmp(a, "--trace-host-calls") == 0)
            host.trace = true;
        else if (strcmp(a, "--tarmac") == 0)
            tarmac = true;
        else if (strcmp(a, "--kv-path") == 0 && has_val)
            kv_path = argv[++i];
        else if (strcmp(a, "--kv-type") == 0 && has_val)
            kv_type = argv[++i];
        else if (strcmp(a, "--sql-path") == 0 && has_val)
            sql_path = argv[++i];
        else if (strcmp(a, "--host") == 0 && has_val) {
            const char *m = argv[++i];
            if (strcmp(m, "echo") == 0)
                host.mode = HOST_ECHO;
            else if (strcmp(m, "upper") == 0)
                host.mode = HOST_UPPER;
            else if (strncmp(m, "reply:", 6) == 0)
                host.mode = HOST_REPLY, host.text = m + 6;
            else if (strncmp(m, "error:", 6) == 0)
                host.mode = HOST_ERROR, host.text = m + 6;
            else
                return usage();
        } else if (strcmp(a, "--timeout-ms") == 0 && has_val) {
            if (!parse_count(argv[++i], &timeout_ms))
                return usage();
        } else if (strcmp(a, "--max-host-calls") == 0 && has_val) {
            if (!parse_count(argv[++i], &max_host_calls) || max_host_calls > UINT32_MAX)
                return usage();
        } else if (strcmp(a, "--repeat") == 0 && has_val) {
            if (!parse_count(argv[++i], &repeat) || repeat < 1)
                return usage();
        } else if (a[0] == '-' || path)
            return usage();
        else
            path = a;
    }
    if (!path || !op || (data && data_file))
        return usage();

    int status = 1;
    uint8_t *wasm = NULL, *payload = NULL;
    size_t wasm_len = 0, payload_len = 0;
    ap_wapc_registry *reg = NULL, *caps = NULL;
    ap_settings settings;
    ap_cap_backends backends = {0};
    ap_cap *cap = NULL;
    ap_wapc_module *mod = NULL;
    ap_wapc_instance *inst = NULL;
    ap_buf response = {0};
    ap_errbuf err = {{0}};
    watchdog wd = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    pthread_t wd_thread;
    bool wd_running = false;

    /* Capability settings: defaults < APP_* < flags (one-shot runs want embedded stores). */
    ap_buf problems = {0};
    if (ap_settings_defaults(&settings) != AP_CONFIG_OK ||
        ap_settings_load_env(&settings, environ, &problems) != AP_CONFIG_OK ||
        (kv_path && (ap_settings_set(&settings, "enable_kvstore", "true", "--kv-path", &err) ||
                     ap_settings_set(&settings, "boltdb_filename", kv_path, "--kv-path", &err) ||
                     ap_settings_set(&settings, "kvstore_type", "lmdb", "--kv-path", &err))) ||
        (kv_type && (ap_settings_set(&settings, "enable_kvstore", "true", "--kv-type", &err) ||
                     ap_settings_set(&settings, "kvstore_type", kv_type, "--kv-type", &err))) ||
        (sql_path && (ap_settings_set(&settings, "enable_sql", "true", "--sql-path", &err) ||
                      ap_settings_set(&settings, "sql_type", "sqlite", "--sql-path", &err) ||
                      ap_settings_set(&settings, "sql_dsn", sql_path, "--sql-path", &err)))) {
        fprintf(stderr, "apron run: invalid settings: %s\n",
                problems.len ? (char *)problems.data : err.msg);
        ap_buf_free(&problems);
        ap_settings_free(&settings);
        return 2;
    }
    ap_buf_free(&problems);
    /* Capability logs (logger, callback errors) go to stderr: stdout is the response. */
    ap_log_setup(ap_log_level_from(settings.debug, settings.trace, settings.disable_logging), false,
                 stderr);

    if (!(wasm = read_all(path, &wasm_len))) {
        fprintf(stderr, "apron run: cannot read %s: %s\n", path, strerror(errno));
        goto out;
    }
    if (data_file) {
        if (!(payload = read_all(data_file, &payload_len))) {
            fprintf(stderr, "apron run: cannot read %s: %s\n", data_file, strerror(errno));
            goto out;
        }
    } else if (data) {
        payload = (uint8_t *)strdup(data);
        payload_len = strlen(data);
    }

    reg = ap_wapc_registry_new();
    if (!reg)
        goto oom;
    if (host.mode != HOST_NONE || host.trace) {
        if (!ap_wapc_register(reg, NULL, NULL, NULL, test_host, &host))
            goto oom;
    }
    if (host.mode == HOST_NONE) {
        /* Traced: the capabilities sit behind test_host, in their own registry. */
        if (host.trace) {
            if (!(caps = ap_wapc_registry_new()))
                goto oom;
            host.caps = caps;
        }
        /* The capabilities (issue 5); ap_cap_register also aliases `default` (the Go SDK's
         * binding) to `tarmac`. */
        ap_cap_config cc = {.settings = &settings};
        if (!ap_cap_backends_open(&settings, &backends, &err)) {
            fprintf(stderr, "apron run: %s\n", err.msg);
            goto out;
        }
        cc.kv = backends.kv;
        cc.sql = backends.sql;
        if (!ap_cap_new(&cc, &cap, &err) || !ap_cap_register(cap, caps ? caps : reg))
            goto oom;
    }

    if (ap_wapc_module_load(wasm, wasm_len, &mod, &err) != AP_WAPC_OK) {
        fprintf(stderr, "apron run: %s: %s\n", path, err.msg);
        goto out;
    }
    free(wasm);
    wasm = NULL;

    const char *base = strrchr(path, '/');
    ap_wapc_config cfg = {
        .name = base ? base + 1 : path,
        .registry = reg,
        .log = log_line,
        .max_host_calls = (uint32_t)max_host_calls,
        .tarmac_texts = tarmac,
    };
    if (timeout_ms > 0) {
        if (pthread_create(&wd_thread, NULL, watchdog_main, &wd) != 0) {
            fprintf(stderr, "apron run: cannot start the watchdog thread\n");
            goto out;
        }
        wd_running = true;
    }
    ap_bytes opb = {(const uint8_t *)op, strlen(op)};
    ap_bytes pl = {payload ? payload : (const uint8_t *)"", payload_len};
    for (long n = 0; n < repeat; n++) {
        if (!inst && ap_wapc_instance_new(mod, &cfg, &inst, &err) != AP_WAPC_OK) {
            fprintf(stderr, "apron run: %s: %s\n", path, err.msg);
            status = 1;
            goto out;
        }
        if (wd_running)
            watchdog_arm(&wd, inst, timeout_ms);
        ap_buf_reset(&response);
        ap_wapc_status st = ap_wapc_invoke(inst, opb, pl, &response, &err);
        if (wd_running)
            watchdog_disarm(&wd);
        if (st == AP_WAPC_OK) {
            fwrite(response.data ? response.data : (uint8_t *)"", 1, response.len, stdout);
            fflush(stdout);
            status = 0;
        } else {
            ap_bytes e = ap_wapc_error_text(inst);
            fflush(stdout);
            print_bytes(stderr, e);
            fputc('\n', stderr);
            status = 1;
        }
        if (ap_wapc_instance_poisoned(inst)) {
            ap_wapc_instance_free(inst);
            inst = NULL;
        }
    }
    goto out;
oom:
    fprintf(stderr, "apron run: out of memory\n");
    status = 1;
out:
    if (wd_running) {
        pthread_mutex_lock(&wd.mu);
        wd.quit = true;
        pthread_cond_signal(&wd.cv);
        pthread_mutex_unlock(&wd.mu);
        pthread_join(wd_thread, NULL);
    }
    ap_wapc_instance_free(inst);
    ap_wapc_module_unref(mod);
    ap_wapc_registry_free(reg);
    ap_wapc_registry_free(caps);
    ap_cap_free(cap);
    ap_cap_backends_close(&backends);
    ap_settings_free(&settings);
    ap_buf_free(&response);
    free(payload);
    free(wasm);
    return status;
}
