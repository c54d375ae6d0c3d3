/* pool.h — per-function instance pools (TARMAC.md §1.4, §1.7): a function is a loaded waPC module
 * plus a pool of up to pool_size instances, created lazily (Tarmac creates all of them at start;
 * apron only the first, to fail early), lent to one caller at a time, waited for with a timeout.
 * An instance that trapped is freed and replaced by a fresh one on a later acquire; it is never
 * lent again (Tarmac returns it to the pool).
 *
 * Two layers: ap_pool is generic (create/destroy callbacks; unit-tested without wasm), and
 * ap_pool_fn is a function on top of it (src/wapc/). pool → wapc → wasm. */
#ifndef AP_POOL_H
#define AP_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/errbuf.h"
#include "wapc/wapc.h"

typedef enum {
    AP_POOL_OK = 0,
    AP_POOL_TIMEOUT,       /* no instance became free in time */
    AP_POOL_CREATE_FAILED, /* making a new instance failed; e says why */
    AP_POOL_CLOSED,        /* the pool is shutting down */
    AP_POOL_NOMEM,
} ap_pool_status;

typedef struct {
    void *(*create)(void *user, ap_errbuf *e); /* a new instance, or NULL with e set */
    void (*destroy)(void *user, void *inst);
} ap_pool_ops;

typedef struct ap_pool ap_pool;

typedef struct {
    size_t size;        /* maximum instances */
    size_t live;        /* created and not destroyed (lent + idle + being created) */
    size_t idle;
    uint64_t created;   /* ever */
    uint64_t discarded; /* released broken */
    uint64_t timeouts;
} ap_pool_stats;

/* A pool of at most `size` instances (0 → 100). ops and user must outlive it. NULL on OOM. */
ap_pool *ap_pool_new(size_t size, const ap_pool_ops *ops, void *user);
/* Lends an instance: an idle one, else a new one while fewer than size live, else waits up to
 * timeout_ms for a release. Any thread. *out only on AP_POOL_OK. */
ap_pool_status ap_pool_acquire(ap_pool *p, int64_t timeout_ms, void **out, ap_errbuf *e);
/* Lends an idle instance if there is one, and never waits or creates one: false when none is
 * idle (not counted as a timeout). */
bool ap_pool_try_acquire(ap_pool *p, void **out);
/* Gives an instance back; broken → it is destroyed and its slot freed for a new one. */
void ap_pool_release(ap_pool *p, void *inst, bool broken);
void ap_pool_get_stats(ap_pool *p, ap_pool_stats *out);
/* Destroys the idle instances; every lent instance must have been released. NULL is a no-op. */
void ap_pool_free(ap_pool *p);

/* ---- Functions: a waPC module and its pool ---- */

typedef struct ap_pool_fn ap_pool_fn;

typedef enum {
    AP_POOL_FN_OK = 0,
    AP_POOL_FN_FAILED, /* the guest reported an error, trapped, or no instance was available;
                          the text is Tarmac's (TARMAC.md §1.7) */
    AP_POOL_FN_BUSY,   /* no instance within the timeout (also FAILED's wording) */
    AP_POOL_FN_TIMEOUT, /* the invocation, or the start-up of the new instance it needed, ran
                           past timeout_ms: the guest trapped "deadline exceeded" and its
                           instance was replaced or dropped (HTTP 504) */
} ap_pool_fn_status;

/* docs/isolation.md. POOL: an instance keeps its guest state from one invocation to the next
 * (Tarmac). REQUEST: every invocation starts from the state right after start-up, restored by a
 * copy-on-write reset (wa_instance_reset) after each one. */
typedef enum { AP_ISOLATION_POOL = 0, AP_ISOLATION_REQUEST } ap_isolation;

typedef struct {
    size_t pool_size;       /* 0 → 100 */
    int64_t timeout_ms;     /* per invocation and per instance start-up (deadline, one timer
                               thread); ≤ 0: none */
    ap_isolation isolation;
} ap_pool_fn_opts;

/* ap_pool_fn_load with limits and isolation. With AP_ISOLATION_REQUEST every instance is
 * snapshotted after start-up; a guest that cannot be (it imports memory, tables or mutable
 * globals) fails to load. */
ap_pool_status ap_pool_fn_load_opts(const char *name, const char *filepath,
                                    const ap_pool_fn_opts *opts, const ap_wapc_config *cfg,
                                    ap_pool_fn **out, ap_errbuf *e);

/* Reads and compiles the module at `filepath` and makes its first instance (so a broken guest
 * fails start-up). `cfg` is copied (its registry/wasi are borrowed: they must outlive the
 * function); cfg->name is replaced by `name`. Errors use Tarmac's wording (§1.4). */
ap_pool_status ap_pool_fn_load(const char *name, const char *filepath, size_t pool_size,
                               const ap_wapc_config *cfg, ap_pool_fn **out, ap_errbuf *e);
/* Runs the guest's "handler" operation with payload. OK: response receives the guest's bytes.
 * FAILED/BUSY: e holds "failed to execute wasm module - …". Any thread. Every outcome, the wait
 * for an instance included, is observed in wasm_functions{route="NAME:handler"} (whole ms;
 * TARMAC.md §1.7 step 5), as by ap_pool_fn_call_ctx and ap_pool_fn_try_call_ctx (when it ran). */
ap_pool_fn_status ap_pool_fn_call(ap_pool_fn *fn, ap_bytes payload, int64_t timeout_ms,
                                  ap_buf *response, ap_errbuf *e);
/* ap_pool_fn_call with a per-invocation context for host-call handlers: the instance's
 * ap_wapc_instance_context is `ctx` during the call and NULL again afterwards (ap_pool_fn_call
 * passes NULL). `ctx` is borrowed for the call. elapsed_ns (may be NULL) receives the run's
 * duration as observed in wasm_functions. */
ap_pool_fn_status ap_pool_fn_call_ctx(ap_pool_fn *fn, ap_bytes payload, int64_t timeout_ms,
                                      void *ctx, ap_buf *response, ap_errbuf *e,
                                      int64_t *elapsed_ns);
/* ap_pool_fn_call_ctx only with an instance already idle: no wait for one, no start-up of a new
 * one (for a caller that must not block, such as an event-loop thread). False, with nothing done,
 * when none is idle; otherwise *st is what ap_pool_fn_call_ctx would return. */
bool ap_pool_fn_try_call_ctx(ap_pool_fn *fn, ap_bytes payload, void *ctx, ap_buf *response,
                             ap_errbuf *e, ap_pool_fn_status *st, int64_t *elapsed_ns);
/* ap_pool_data_mentions on the function's module file (e.g. "request" tells the HTTP layer the
 * guest may ask for the request context, issue 9). */
bool ap_pool_fn_mentions(const ap_pool_fn *fn, const char *word);
/* True when a data section of the wasm module `module` (len bytes) holds `word` (ASCII), in UTF-8
 * or UTF-16LE (AssemblyScript's static strings), not right after a '_': a host-call namespace a
 * guest passes to __host_call lies in its data, while the import `__guest_request` every waPC
 * guest has (import section) and function names such as `key_request` (name section, or data
 * after '_') do not count. Other sections are not searched; a malformed module gives false. */
bool ap_pool_data_mentions(const uint8_t *module, size_t len, const char *word);
const char *ap_pool_fn_name(const ap_pool_fn *fn);
/* "NAME:handler": the function's wasm_functions label. */
const char *ap_pool_fn_label(const ap_pool_fn *fn);
void ap_pool_fn_stats(ap_pool_fn *fn, ap_pool_stats *out);
void ap_pool_fn_free(ap_pool_fn *fn); /* no call may be running; NULL is a no-op */

#endif
