/* internal.h — what the files of src/wapc/ share: the module and instance structs, the import
 * resolvers (imports.c, env.c, wasi_stub.c) and the per-invocation state they read and write. */
#ifndef AP_WAPC_INTERNAL_H
#define AP_WAPC_INTERNAL_H

#include "wapc.h"

#include <stdatomic.h>

#define AP_WAPC_DEFAULT_MAX_HOST_CALLS 1000000u
#define AP_WAPC_DEFAULT_MAX_PAGES 4096u /* 256 MiB, WAPC.md §7 OURS */
#define AP_WAPC_DEFAULT_MAX_HOST_PAYLOAD (16u << 20)

struct ap_wapc_module {
    atomic_uint refs;
    wa_module *wasm;
    bool has_initialize, has_start, has_wapc_init; /* exported; run_init checks () -> () */
};

/* Per-invocation state (WAPC.md §3.2 step 1): reset at the start of every invocation. */
typedef struct {
    bool active;           /* inside ap_wapc_invoke */
    ap_bytes op, payload;  /* the caller's, borrowed for the invocation */
    ap_buf guest_response; /* last __guest_response */
    bool has_guest_response;
    ap_buf guest_error;   /* last __guest_error */
    ap_buf host_response; /* of the last __host_call */
    ap_buf host_error;
    uint32_t host_calls; /* __host_call count, against max_host_calls */
} wapc_call_state;

struct ap_wapc_instance {
    ap_wapc_module *module;
    wa_store *store;
    wa_instance *wasm; /* NULL while the start section runs */
    wa_func *guest_call;
    char *name;
    const ap_wapc_registry *registry;
    ap_wapc_log_fn log;
    void *log_user;
    ap_wasi *wasi;     /* cfg->wasi, or own_wasi */
    ap_wasi *own_wasi; /* the default context when the config gave none */
    uint32_t max_host_calls;
    uint32_t max_host_payload;
    wa_trap last_trap; /* of the last invocation that trapped */
    wa_trap start_trap; /* of a start-up that trapped (ap_wapc_instance_start) */
    bool started;       /* ap_wapc_instance_start ran (it runs once) */
    bool tarmac_texts;
    bool poisoned;
    void *context;
    wapc_call_state call;
    ap_buf trap_reason; /* full text of a trap a host function raised on purpose */
    ap_buf scratch;     /* __host_call strings and payload, copied out of guest memory */
    ap_buf error_text;  /* the last invocation's error, in full */
};

/* Guest memory [ptr, ptr+len) of the calling instance, or NULL (out of range). caller may be NULL
 * (then the instance's own). Valid until the guest runs again. */
uint8_t *ap_wapc__span(ap_wapc_instance *inst, wa_instance *caller, uint32_t ptr, uint32_t len);
/* Records the full reason of a deliberate trap, then traps (returns WA_ETRAP). */
wa_status ap_wapc__trap(ap_wapc_instance *inst, wa_trap kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ap_wapc__log(ap_wapc_instance *inst, const uint8_t *msg, size_t len);

/* Resolvers: each looks at one import and, when the name is theirs, makes the host function for
 * it in inst's store. */
typedef enum {
    WAPC_RESOLVE_NONE = 0, /* not mine */
    WAPC_RESOLVE_OK,       /* *out set */
    WAPC_RESOLVE_BADTYPE,  /* mine, but the guest imports it with another type */
    WAPC_RESOLVE_NOMEM,
} wapc_resolved;

wapc_resolved ap_wapc__resolve_wapc(ap_wapc_instance *inst, const char *name,
                                    const wa_functype *want, wa_func **out);
wapc_resolved ap_wapc__resolve_env(ap_wapc_instance *inst, const char *name,
                                   const wa_functype *want, wa_func **out);
/* A host function of type params -> results ('i' i32, 'I' i64, 'f' f32, 'F' f64) if want is that
 * type. */
wapc_resolved ap_wapc__host(ap_wapc_instance *inst, const wa_functype *want, const char *params,
                            const char *results, wa_host_fn fn, void *user, wa_func **out);

bool ap_wapc__type_is(const wa_functype *t, const char *params, const char *results);

#endif
