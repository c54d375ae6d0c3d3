/* fn.c — a function: a waPC module loaded once and an ap_pool of its instances; runs the guest's
 * "handler" operation with Tarmac's error texts (TARMAC.md §1.7), and observes every run in
 * wasm_functions{route="NAME:handler"} (step 5), whoever asked for it: HTTP, a scheduled task,
 * an init function or a function-to-function call. */
#include "pool.h"
#include "watchdog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/metrics.h"

struct ap_pool_fn {
    char *name;
    char *label; /* "NAME:handler", the wasm_functions label: built once, not per call */
    ap_wapc_module *module;
    ap_wapc_config cfg;
    ap_pool_fn_opts opts;
    ap_pool *pool;
    uint8_t *bytes; /* the module file, for ap_pool_fn_mentions */
    size_t len;
};

/* Set by fn_create when a start-up ran past timeout_ms; read by the caller of ap_pool_acquire,
 * which runs fn_create on its own thread. */
static _Thread_local bool start_expired;

/* A new instance: start-up (start section, _initialize/_start, wapc_init) under the function's
 * timeout_ms like an invocation, so a guest that never finishes starting fails with "deadline
 * exceeded" instead of holding the caller (and a pool slot) forever. */
static void *fn_create(void *user, ap_errbuf *e)
{
    ap_pool_fn *fn = user;
    ap_wapc_instance *inst = NULL;
    start_expired = false;
    ap_wapc_status st = ap_wapc_instance_create(fn->module, &fn->cfg, &inst, e);
    if (st != AP_WAPC_OK) return NULL;
    ap_watch w;
    bool watched = fn->opts.timeout_ms > 0 && ap_watch_start(&w, inst, fn->opts.timeout_ms);
    st = ap_wapc_instance_start(inst, e);
    if (watched) ap_watch_stop(&w);
    if (st != AP_WAPC_OK) {
        start_expired = ap_wapc_start_trap(inst) == WA_TRAP_DEADLINE;
        ap_wapc_instance_free(inst);
        return NULL;
    }
    if (fn->opts.isolation == AP_ISOLATION_REQUEST &&
        ap_wapc_instance_snapshot(inst, e) != AP_WAPC_OK) {
        ap_wapc_instance_free(inst);
        return NULL;
    }
    return inst;
}

static void fn_destroy(void *user, void *inst)
{
    (void)user;
    ap_wapc_instance_free(inst);
}

static const ap_pool_ops fn_ops = {fn_create, fn_destroy};

static bool read_file(const char *path, ap_buf *out, ap_errbuf *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        ap_errbuf_set(e, "unable to read wasm module file - open %s: %s", path, strerror(errno));
        return false;
    }
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (!ap_buf_append(out, chunk, n)) {
            fclose(f);
            ap_errbuf_set(e, "unable to read wasm module file - out of memory");
            return false;
        }
    bool err = ferror(f);
    fclose(f);
    if (err) ap_errbuf_set(e, "unable to read wasm module file - read %s failed", path);
    return !err;
}

ap_pool_status ap_pool_fn_load(const char *name, const char *filepath, size_t pool_size,
                               const ap_wapc_config *cfg, ap_pool_fn **out, ap_errbuf *e)
{
    ap_pool_fn_opts o = {.pool_size = pool_size};
    return ap_pool_fn_load_opts(name, filepath, &o, cfg, out, e);
}

ap_pool_status ap_pool_fn_load_opts(const char *name, const char *filepath,
                                    const ap_pool_fn_opts *opts, const ap_wapc_config *cfg,
                                    ap_pool_fn **out, ap_errbuf *e)
{
    if (!name || !*name || !filepath || !*filepath) {
        ap_errbuf_set(e, "invalid module config: key and file cannot be empty");
        return AP_POOL_CREATE_FAILED;
    }
    ap_pool_fn *fn = calloc(1, sizeof *fn);
    ap_buf bytes = {0};
    ap_errbuf we;
    ap_pool_status st = AP_POOL_NOMEM;
    if (!fn || !(fn->name = strdup(name)) ||
        !(fn->label = malloc(strlen(name) + sizeof ":handler")))
        goto fail;
    strcpy(stpcpy(fn->label, name), ":handler");
    fn->cfg = *cfg;
    fn->cfg.name = fn->name;
    fn->opts = *opts;
    st = AP_POOL_CREATE_FAILED;
    if (!read_file(filepath, &bytes, e)) goto fail;
    if (ap_wapc_module_load(bytes.data, bytes.len, &fn->module, &we) != AP_WAPC_OK) {
        ap_errbuf_set(e, "unable to load module with wasm file %s - %s", filepath, we.msg);
        goto fail;
    }
    fn->bytes = bytes.data;
    fn->len = bytes.len;
    bytes = (ap_buf){0};
    st = AP_POOL_NOMEM;
    if (!(fn->pool = ap_pool_new(opts->pool_size, &fn_ops, fn))) goto fail;
    /* One instance now, so that a guest that cannot start fails start-up. */
    void *first;
    if ((st = ap_pool_acquire(fn->pool, 0, &first, &we)) != AP_POOL_OK) {
        ap_errbuf_set(e, "unable to create module pool for wasm file %s - %s", filepath, we.msg);
        goto fail;
    }
    ap_pool_release(fn->pool, first, false);
    *out = fn;
    return AP_POOL_OK;
fail:
    if (st == AP_POOL_NOMEM) ap_errbuf_set(e, "out of memory loading function %s", name);
    ap_buf_free(&bytes);
    ap_pool_fn_free(fn);
    return st;
}

/* The "handler" operation on an instance lent by fn's pool, which gets it back. */
static ap_pool_fn_status invoke(ap_pool_fn *fn, ap_wapc_instance *inst, ap_bytes payload,
                                void *ctx, ap_buf *response, ap_errbuf *e)
{
    ap_errbuf pe;
    static const uint8_t op[] = "handler";
    ap_watch w;
    if (fn->opts.timeout_ms > 0) ap_watch_start(&w, inst, fn->opts.timeout_ms);
    ap_wapc_instance_set_context(inst, ctx);
    ap_wapc_status st =
        ap_wapc_invoke(inst, (ap_bytes){op, sizeof op - 1}, payload, response, &pe);
    ap_wapc_instance_set_context(inst, NULL);
    if (fn->opts.timeout_ms > 0) ap_watch_stop(&w);
    bool expired = st == AP_WAPC_TRAP && ap_wapc_last_trap(inst) == WA_TRAP_DEADLINE;
    bool broken = st == AP_WAPC_TRAP || ap_wapc_instance_poisoned(inst);
    /* Request isolation: whatever this invocation left, the next one starts from the snapshot. */
    if (!broken && fn->opts.isolation == AP_ISOLATION_REQUEST) broken = !ap_wapc_instance_reset(inst);
    ap_pool_release(fn->pool, inst, broken);
    if (st == AP_WAPC_OK) return AP_POOL_FN_OK;
    ap_errbuf_set(e, "failed to execute wasm module - %s", pe.msg);
    return expired ? AP_POOL_FN_TIMEOUT : AP_POOL_FN_FAILED;
}

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* TARMAC.md §1.7 step 5: whole milliseconds since t0, every outcome; the ns to elapsed_ns. */
static void observe(const ap_pool_fn *fn, long long t0, int64_t *elapsed_ns)
{
    long long ns = now_ns() - t0;
    ap_metrics_observe(AP_METRIC_WASM_FUNCTIONS, fn->label, (double)(ns / 1000000));
    if (elapsed_ns) *elapsed_ns = ns;
}

bool ap_pool_fn_try_call_ctx(ap_pool_fn *fn, ap_bytes payload, void *ctx, ap_buf *response,
                             ap_errbuf *e, ap_pool_fn_status *st, int64_t *elapsed_ns)
{
    long long t0 = now_ns();
    void *inst;
    if (!ap_pool_try_acquire(fn->pool, &inst)) return false;
    *st = invoke(fn, inst, payload, ctx, response, e);
    observe(fn, t0, elapsed_ns);
    return true;
}

ap_pool_fn_status ap_pool_fn_call(ap_pool_fn *fn, ap_bytes payload, int64_t timeout_ms,
                                  ap_buf *response, ap_errbuf *e)
{
    return ap_pool_fn_call_ctx(fn, payload, timeout_ms, NULL, response, e, NULL);
}

ap_pool_fn_status ap_pool_fn_call_ctx(ap_pool_fn *fn, ap_bytes payload, int64_t timeout_ms,
                                      void *ctx, ap_buf *response, ap_errbuf *e,
                                      int64_t *elapsed_ns)
{
    long long t0 = now_ns();
    void *p;
    ap_errbuf pe;
    ap_pool_fn_status st;
    ap_pool_status ps = ap_pool_acquire(fn->pool, timeout_ms, &p, &pe);
    if (ps == AP_POOL_TIMEOUT) {
        ap_errbuf_set(e, "failed to execute wasm module - could not fetch module from pool - %s",
                      pe.msg);
        st = AP_POOL_FN_BUSY;
    } else if (ps != AP_POOL_OK) {
        ap_errbuf_set(e, "failed to execute wasm module - could not fetch module from pool - %s",
                      ps == AP_POOL_NOMEM ? "out of memory" : pe.msg);
        /* A new instance whose start-up ran past timeout_ms: a deadline, as for a call. */
        st = ps == AP_POOL_CREATE_FAILED && start_expired ? AP_POOL_FN_TIMEOUT : AP_POOL_FN_FAILED;
    } else {
        st = invoke(fn, p, payload, ctx, response, e);
    }
    observe(fn, t0, elapsed_ns);
    return st;
}

const char *ap_pool_fn_name(const ap_pool_fn *fn) { return fn->name; }

const char *ap_pool_fn_label(const ap_pool_fn *fn) { return fn->label; }

bool ap_pool_fn_mentions(const ap_pool_fn *fn, const char *word)
{
    return ap_pool_data_mentions(fn->bytes, fn->len, word);
}

/* An unsigned LEB128 of at most 32 bits at *p; false when it runs past end or is too long. */
static bool read_u32(const uint8_t **p, const uint8_t *end, uint32_t *out)
{
    uint32_t v = 0;
    for (unsigned shift = 0; shift < 35; shift += 7) {
        if (*p >= end) return false;
        uint8_t b = *(*p)++;
        v |= (uint32_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* `word` somewhere in s[0, n), each character `unit` bytes wide (1: UTF-8; 2: UTF-16LE, the high
 * byte 0), and not right after a '_' of the same width. */
static bool holds_word(const uint8_t *s, size_t n, const char *word, size_t unit)
{
    size_t wl = strlen(word);
    if (wl == 0 || wl * unit > n) return false;
    for (size_t i = 0; i + wl * unit <= n; i++) {
        size_t k = 0;
        while (k < wl && s[i + k * unit] == (uint8_t)word[k] &&
               (unit == 1 || s[i + k * unit + 1] == 0))
            k++;
        if (k < wl) continue;
        if (i >= unit && s[i - unit] == '_' && (unit == 1 || s[i - 1] == 0)) continue;
        return true;
    }
    return false;
}

bool ap_pool_data_mentions(const uint8_t *module, size_t len, const char *word)
{
    static const uint8_t header[8] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    if (!module || len < sizeof header || memcmp(module, header, sizeof header) != 0)
        return false;
    const uint8_t *p = module + sizeof header, *end = module + len;
    while (p < end) {
        uint8_t id = *p++;
        uint32_t size;
        if (!read_u32(&p, end, &size) || size > (size_t)(end - p)) return false;
        /* Section 11 is the data section: segment headers and bytes, searched as a whole (the
         * headers are a few LEB128 numbers and a constant expression). */
        if (id == 11 && (holds_word(p, size, word, 1) || holds_word(p, size, word, 2)))
            return true;
        p += size;
    }
    return false;
}

void ap_pool_fn_stats(ap_pool_fn *fn, ap_pool_stats *out) { ap_pool_get_stats(fn->pool, out); }

void ap_pool_fn_free(ap_pool_fn *fn)
{
    if (!fn) return;
    ap_pool_free(fn->pool);
    ap_wapc_module_unref(fn->module);
    free(fn->bytes);
    free(fn->name);
    free(fn->label);
    free(fn);
}
