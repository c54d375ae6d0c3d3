/* wapc.h — the waPC host (../shared/spec/WAPC.md): guests loaded once and shared, instances each in
 * their own wa_store, the __guest_call sequence, and the one host-call registry capabilities plug
 * into. pool → [wapc] → wasm; cap registers into the registry, wapc never includes cap.
 *
 * Object model and lifetimes:
 *   ap_wapc_module    a loaded guest: the wa_module plus what it exports/imports. Immutable,
 *                     reference counted, shareable read-only between threads.
 *   ap_wapc_instance  one instance of a module in its own wa_store (guest globals and heap
 *                     persist across invocations). Used by one thread at a time. After an
 *                     invocation returns AP_WAPC_TRAP it is poisoned: free it, never reuse it.
 *   ap_wapc_registry  host-call handlers keyed by binding/namespace/operation. Built before the
 *                     first instance, then read-only: shareable between threads and instances.
 */
#ifndef AP_WAPC_H
#define AP_WAPC_H

#include "apron/wasm.h"
#include "base/buf.h"
#include "base/errbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ap_wapc_module ap_wapc_module;
typedef struct ap_wapc_instance ap_wapc_instance;
typedef struct ap_wapc_registry ap_wapc_registry;
typedef struct ap_wasi ap_wasi; /* src/wasi/wasi.h */

typedef enum {
    AP_WAPC_OK = 0,
    AP_WAPC_GUEST_ERROR, /* the guest reported failure (__guest_error, or __guest_call gave != 1);
                            the instance stays usable */
    AP_WAPC_TRAP,        /* the guest trapped, exited, was interrupted or hit a limit during the
                            call: the instance is poisoned, free it */
    AP_WAPC_INVALID,     /* bytes are not a valid module, or not a waPC guest (no __guest_call) */
    AP_WAPC_UNLINKABLE,  /* an import nobody provides, or with the wrong type */
    AP_WAPC_INIT_FAILED, /* start section, _start/_initialize or wapc_init trapped or exited != 0 */
    AP_WAPC_NOMEM,
} ap_wapc_status;

const char *ap_wapc_status_text(ap_wapc_status st);

/* ---- Host-call registry ---- */

/* One __host_call as a handler sees it. All views are borrowed and valid only during the handler
 * (they are copies of guest memory owned by the instance). */
typedef struct {
    ap_bytes binding, namespace_, operation; /* exact bytes from the guest, not NUL-terminated */
    ap_bytes payload;
    ap_wapc_instance *instance; /* the calling instance (for ap_wapc_instance_name/_context) */
} ap_wapc_call;

typedef enum {
    AP_WAPC_HOST_OK = 0, /* __host_call returns 1; `response` is the host response */
    AP_WAPC_HOST_ERROR,  /* __host_call returns 0; `error` is the host error text (empty → a fixed
                            "host call failed"); bytes left in `response` stay readable too
                            (TARMAC.md §1.6) */
} ap_wapc_host_status;

/* A host-call handler. `response` and `error` arrive empty and are the instance's: append to them,
 * never keep them. Runs on the invoking thread, nested inside the guest's __host_call: it must not
 * invoke the same instance. */
typedef ap_wapc_host_status (*ap_wapc_handler)(void *user, const ap_wapc_call *call,
                                               ap_buf *response, ap_buf *error);

ap_wapc_registry *ap_wapc_registry_new(void);      /* NULL on OOM */
void ap_wapc_registry_free(ap_wapc_registry *reg); /* NULL is a no-op */

/* Adds a handler for binding/namespace/operation (C strings compared as exact bytes; NULL is a
 * wildcard matching anything, "" matches only the empty string). The most specific match wins:
 * an exact binding beats a wildcard binding, then the same for namespace, then operation; among
 * equals the later registration wins. `user` is passed back to fn and must outlive the registry.
 * False on OOM. */
bool ap_wapc_register(ap_wapc_registry *reg, const char *binding, const char *namespace_,
                      const char *operation, ap_wapc_handler fn, void *user);
/* Makes binding `alias` reach whatever `target` reaches (e.g. "default" → "tarmac": the Go SDK's
 * default binding). Looked up once, not chained. False on OOM. */
bool ap_wapc_registry_alias(ap_wapc_registry *reg, const char *alias, const char *target);
/* Runs the handler for call (what __host_call does, minus guest memory). No handler: error
 * "no host function for <binding>:<namespace>:<operation>", or Tarmac's "callback not found"
 * when call->instance has tarmac_texts (TARMAC.md §1.6). reg may be NULL (no handlers). */
ap_wapc_host_status ap_wapc_registry_dispatch(const ap_wapc_registry *reg, const ap_wapc_call *call,
                                              ap_buf *response, ap_buf *error);

/* ---- Modules ---- */

/* Decodes, validates and compiles a guest and checks it is one: an exported __guest_call of type
 * (i32,i32)->i32 and a memory (export `memory`, else memory 0). Copies what it needs: `bytes` may
 * be freed on return. *out (refcount 1) only on AP_WAPC_OK. */
ap_wapc_status ap_wapc_module_load(const uint8_t *bytes, size_t len, ap_wapc_module **out,
                                   ap_errbuf *err);
ap_wapc_module *ap_wapc_module_ref(ap_wapc_module *m); /* any thread */
void ap_wapc_module_unref(ap_wapc_module *m);          /* any thread; NULL is a no-op */
const wa_module *ap_wapc_module_wasm(const ap_wapc_module *m);

/* ---- Instances ---- */

/* __console_log, and the host's own warnings about the guest. `msg` is borrowed for the call,
 * raw guest bytes (not validated as UTF-8). */
typedef void (*ap_wapc_log_fn)(void *user, const ap_wapc_instance *inst, ap_bytes msg);

typedef struct {
    const char *name;                 /* for logs and messages; NULL → "guest". Copied. */
    const ap_wapc_registry *registry; /* borrowed, must outlive the instance; NULL: every host
                                         call fails with "no host function for …" (with
                                         tarmac_texts "callback not found") */
    ap_wapc_log_fn log;               /* NULL: one line "<name>: <msg>" on stderr */
    void *log_user;
    ap_wasi *wasi;           /* borrowed, must outlive the instance; resolves WASI
                                imports. NULL: the instance makes its own with
                                ap_wasi_new(NULL) (no args/env, output to fd 1/2) */
    wa_limits limits;        /* engine limits of the instance's store (0 = default;
                                max_memory_pages defaults to 4096 = 256 MiB here) */
    uint32_t max_host_calls; /* per invocation; exceeding it traps the guest
                                ("host call limit exceeded"). 0 = 1,000,000 */
    uint32_t max_host_payload; /* bytes a __host_call may pass (binding, namespace,
                                  operation and payload together) and a host response
                                  may hold; more traps the guest ("host call payload too
                                  large") or fails the call. 0 = 16 MiB */
    bool tarmac_texts;       /* Tarmac wording (TARMAC.md §1.5, §1.6, §11.2): a trap is
                                "error invoking guest: <trap>"; proc_exit in a call
                                answers the response the guest already gave (any
                                code), else exit(0) is success with an empty payload;
                                an unknown host call fails "callback not found" */
} ap_wapc_config;

/* Instantiates m in a new store: resolves imports (wapc.* and its alias wasmbus.*, env.abort/
 * trace/seed/__console_log, WASI through cfg->wasi; anything else fails with "unknown import
 * <module>.<name>"), then start-up as WAPC.md §4 OURS: start section, `_initialize` if exported
 * else `_start`, then `wapc_init`; proc_exit(0) in start-up ends that step normally. Host calls
 * during start-up are dispatched normally. Takes a reference on m. *out only on AP_WAPC_OK. */
ap_wapc_status ap_wapc_instance_new(ap_wapc_module *m, const ap_wapc_config *cfg,
                                    ap_wapc_instance **out, ap_errbuf *err);
/* ap_wapc_instance_new in two steps, for a caller that arms a deadline (ap_wapc_expire, e.g.
 * from a watchdog) before any guest code runs. _create allocates the instance and its store and
 * runs nothing (*out only on AP_WAPC_OK); _start, once, resolves imports and runs everything
 * ap_wapc_instance_new runs after that, with the same results and texts, except that on failure
 * the instance is not freed: free it (it cannot be invoked). A start-up that hit its deadline
 * fails with AP_WAPC_INIT_FAILED and ap_wapc_start_trap gives WA_TRAP_DEADLINE. */
ap_wapc_status ap_wapc_instance_create(ap_wapc_module *m, const ap_wapc_config *cfg,
                                       ap_wapc_instance **out, ap_errbuf *err);
ap_wapc_status ap_wapc_instance_start(ap_wapc_instance *inst, ap_errbuf *err);
/* The engine's trap kind of a start-up that trapped (WA_TRAP_NONE otherwise). */
wa_trap ap_wapc_start_trap(const ap_wapc_instance *inst);
void ap_wapc_instance_free(ap_wapc_instance *inst); /* NULL is a no-op */

/* Runs one invocation (WAPC.md §3.2). On AP_WAPC_OK `response` receives the guest's response
 * bytes (appended; empty if it gave none). On AP_WAPC_GUEST_ERROR / AP_WAPC_TRAP, err gets the
 * message (truncated to 255 bytes; the full text is ap_wapc_error_text) and response is
 * untouched. Texts (WAPC.md §6.3): the guest's error; `call to "<op>" was unsuccessful`;
 * `guest trapped: <trap>[: <guest error>]`; `guest exited with code <n>`. A poisoned instance
 * answers AP_WAPC_TRAP without running. */
ap_wapc_status ap_wapc_invoke(ap_wapc_instance *inst, ap_bytes op, ap_bytes payload,
                              ap_buf *response, ap_errbuf *err);
/* The full error text of the last failed invocation; valid until the next invoke or free. */
ap_bytes ap_wapc_error_text(const ap_wapc_instance *inst);
/* True after an invocation trapped: the instance must be freed, not lent again. */
bool ap_wapc_instance_poisoned(const ap_wapc_instance *inst);

/* Any thread: the running invocation (or start-up) traps "interrupted" at its next loop
 * back-edge or call. Deadlines are built on this (a watchdog calls it). A call that has already
 * ended is unaffected; one not yet begun is too (the engine clears the flag at each call). */
void ap_wapc_interrupt(ap_wapc_instance *inst);

/* Any thread: as ap_wapc_interrupt, but the trap is "deadline exceeded" (WA_TRAP_DEADLINE). */
void ap_wapc_expire(ap_wapc_instance *inst);
/* The engine's trap kind of the last invocation that returned AP_WAPC_TRAP (WA_TRAP_NONE after
 * any other outcome). */
wa_trap ap_wapc_last_trap(const ap_wapc_instance *inst);

/* Isolation per invocation (docs/isolation.md). Snapshot: records the instance's state as it is
 * now, normally right after ap_wapc_instance_new (start-up done, nothing invoked); reset: returns
 * to it, so nothing one invocation leaves in guest memory, globals or tables is seen by the next.
 * Snapshot fails (AP_WAPC_INVALID, err says why) for a guest that imports memory, tables or
 * mutable globals; reset returns false if it could not restore (free the instance then). */
ap_wapc_status ap_wapc_instance_snapshot(ap_wapc_instance *inst, ap_errbuf *err);
bool ap_wapc_instance_reset(ap_wapc_instance *inst);

/* A per-invocation pointer for host-call handlers (ap_wapc_call.instance → this). */
void ap_wapc_instance_set_context(ap_wapc_instance *inst, void *ctx);
void *ap_wapc_instance_context(const ap_wapc_instance *inst);
const char *ap_wapc_instance_name(const ap_wapc_instance *inst);
wa_instance *ap_wapc_instance_wasm(ap_wapc_instance *inst); /* for tests and WASI glue */

#endif
