/* include/apron/wasm.h — apron's WebAssembly engine: load, validate, instantiate, call.
 *
 * The engine is usable as a library without the server: it needs libc only.
 *
 * Object model and lifetimes:
 *   wa_module   decoded, validated and compiled module. Immutable, reference counted, shareable
 *               read-only between many stores and threads.
 *   wa_store    owner of instances and of host-created functions, tables, memories and globals.
 *               Everything created in a store lives until wa_store_free. A store (and all that is
 *               in it) is used by one thread at a time.
 *   wa_instance an instantiated module: its memory, tables, globals, functions.
 *   wa_func / wa_table / wa_memory / wa_global
 *               runtime objects ("extern values"), exported by instances or created by the host;
 *               they are what imports are satisfied with.
 *
 * Values: a wa_slot is one 64-bit cell of the engine's value stack. i32/i64/f32/f64 and references
 * take one slot, v128 takes two. Host functions read arguments from and write results to slots.
 * References: a funcref is a `wa_func *` (NULL is ref.null); an externref is an opaque `void *`
 * (NULL is ref.null).
 */
#ifndef APRON_WASM_H
#define APRON_WASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wa_module wa_module;
typedef struct wa_store wa_store;
typedef struct wa_instance wa_instance;
typedef struct wa_func wa_func;
typedef struct wa_table wa_table;
typedef struct wa_memory wa_memory;
typedef struct wa_global wa_global;

/* Value types, numbered as in the binary format. */
typedef enum {
    WA_I32 = 0x7f,
    WA_I64 = 0x7e,
    WA_F32 = 0x7d,
    WA_F64 = 0x7c,
    WA_V128 = 0x7b,
    WA_FUNCREF = 0x70,
    WA_EXTERNREF = 0x6f,
} wa_valtype;

typedef enum {
    WA_OK = 0,
    WA_EMALFORMED,   /* the bytes are not a module (decoding failed) */
    WA_EINVALID,     /* decoded, but fails validation */
    WA_EUNLINKABLE,  /* an import is missing or has the wrong type */
    WA_ETRAP,        /* execution trapped (also: start function or segment init trapped) */
    WA_ENOMEM,       /* an allocation failed */
    WA_ELIMIT,       /* a configured limit was exceeded */
    WA_ENOTFOUND,    /* no such export */
} wa_status;

typedef enum {
    WA_TRAP_NONE = 0,
    WA_TRAP_UNREACHABLE,       /* "unreachable" */
    WA_TRAP_MEMORY_OOB,        /* "out of bounds memory access" */
    WA_TRAP_DIV_ZERO,          /* "integer divide by zero" */
    WA_TRAP_INT_OVERFLOW,      /* "integer overflow" */
    WA_TRAP_INVALID_CONV,      /* "invalid conversion to integer" */
    WA_TRAP_TABLE_OOB,         /* "out of bounds table access" */
    WA_TRAP_UNDEFINED_ELEMENT, /* "undefined element" */
    WA_TRAP_UNINIT_ELEMENT,    /* "uninitialized element" */
    WA_TRAP_INDIRECT_MISMATCH, /* "indirect call type mismatch" */
    WA_TRAP_STACK_EXHAUSTED,   /* "call stack exhausted" */
    WA_TRAP_INTERRUPTED,       /* "interrupted" (wa_interrupt, deadlines) */
    WA_TRAP_HOST,              /* a host function failed; msg says why */
    WA_TRAP_EXIT,              /* the guest asked to exit (WASI proc_exit); see exit_code */
    WA_TRAP_DEADLINE,          /* "deadline exceeded" (wa_store_expire) */
} wa_trap;

typedef struct {
    wa_status status;
    wa_trap trap;        /* when status is WA_ETRAP */
    uint32_t offset;     /* byte offset in the module, UINT32_MAX if none */
    int32_t exit_code;   /* when trap is WA_TRAP_EXIT */
    char msg[192];       /* the spec's wording where it has one, e.g. "integer divide by zero" */
} wa_error;

typedef union {
    uint32_t i32;
    uint64_t i64;
    float f32;
    double f64;
    void *ref;
} wa_slot;

/* A typed value, for wa_call and globals. */
typedef struct {
    wa_valtype type;
    union {
        uint32_t i32;
        uint64_t i64;
        float f32;
        double f64;
        uint8_t v128[16];
        wa_func *func;
        void *ext;
    } of;
} wa_value;

typedef struct {
    uint32_t nparams, nresults;
    const wa_valtype *params, *results;
} wa_functype;

typedef struct {
    uint32_t min, max;  /* pages for memories, elements for tables */
    bool has_max;
} wa_lim;

typedef enum { WA_EXTERN_FUNC = 0, WA_EXTERN_TABLE = 1, WA_EXTERN_MEMORY = 2, WA_EXTERN_GLOBAL = 3 } wa_extern_kind;

typedef struct {
    wa_extern_kind kind;
    union {
        wa_func *func;
        wa_table *table;
        wa_memory *memory;
        wa_global *global;
    } of;
} wa_extern;

/* Engine limits; zero fields take the defaults. */
typedef struct {
    uint32_t max_memory_pages;   /* default 65536 (4 GiB) */
    uint32_t max_table_elems;    /* default 10,000,000 */
    uint32_t max_call_depth;     /* default 10,000 frames */
    uint32_t max_stack_slots;    /* value-stack slots per thread, default 1 Mi (8 MiB) */
} wa_limits;

/* ---- Modules ---- */

/* Decodes, validates and compiles `bytes`. Copies what it needs: `bytes` may be freed on return.
 * On failure *out is untouched and err (may be NULL) says why, with the byte offset. */
wa_status wa_module_load(const uint8_t *bytes, size_t len, wa_module **out, wa_error *err);
wa_module *wa_module_ref(wa_module *m);
void wa_module_unref(wa_module *m); /* NULL is a no-op */

/* Imports, in the module's order. Strings live as long as the module. */
uint32_t wa_module_import_count(const wa_module *m);
void wa_module_import_info(const wa_module *m, uint32_t i, const char **module, const char **name,
                           wa_extern_kind *kind);
/* For a function import: its type (pointers live as long as the module). */
bool wa_module_import_functype(const wa_module *m, uint32_t i, wa_functype *out);
/* The declared type of a table, memory or global import, what wa_table_new, wa_memory_new and
 * wa_global_new need to make an object that satisfies it. False, outputs untouched, when import i
 * is of another kind; NULL outputs are skipped. */
bool wa_module_import_tabletype(const wa_module *m, uint32_t i, wa_valtype *elemtype, wa_lim *lim);
bool wa_module_import_memtype(const wa_module *m, uint32_t i, wa_lim *lim); /* lim in pages */
bool wa_module_import_globaltype(const wa_module *m, uint32_t i, wa_valtype *type, bool *mutable_);
uint32_t wa_module_export_count(const wa_module *m);
void wa_module_export_info(const wa_module *m, uint32_t i, const char **name, wa_extern_kind *kind);

/* ---- Stores and host objects ---- */

wa_store *wa_store_new(const wa_limits *lim); /* lim may be NULL; NULL on OOM */
void wa_store_free(wa_store *s);              /* frees every instance and object in it */

/* A host function. Arguments are in slots[0..param slots), results go to slots[0..result slots).
 * Return WA_OK, or WA_ETRAP after wa_host_trap(). `caller` is the calling instance (NULL when
 * called from wa_call_func on the function itself). */
typedef wa_status (*wa_host_fn)(wa_instance *caller, void *user, wa_slot *slots);
wa_func *wa_func_new_host(wa_store *s, const wa_functype *type, wa_host_fn fn, void *user);
wa_table *wa_table_new(wa_store *s, wa_valtype elemtype, wa_lim lim);
wa_memory *wa_memory_new(wa_store *s, wa_lim lim);
wa_global *wa_global_new(wa_store *s, wa_value init, bool mutable_);

/* Called from inside a host function: record a trap, then return WA_ETRAP. */
wa_status wa_host_trap(wa_trap kind, const char *msg);
wa_status wa_host_exit(int32_t code); /* WASI proc_exit */

/* ---- Instances ---- */

/* Instantiates `m` in store `s`. `imports` has wa_module_import_count(m) entries in import order.
 * Runs segment initialisation and the start function. On failure returns the status and nothing
 * stays in the store that can be reached (the spec's partial table/memory writes of an
 * uninstantiable module persist in imported objects, as the spec requires). `user` is returned
 * by wa_instance_user. */
wa_status wa_instance_new(wa_store *s, wa_module *m, const wa_extern *imports, void *user,
                          wa_instance **out, wa_error *err);
void *wa_instance_user(const wa_instance *in);
const wa_module *wa_instance_module(const wa_instance *in);
wa_store *wa_instance_store(const wa_instance *in);
/* Export lookup by name: false if absent. */
bool wa_instance_export(const wa_instance *in, const char *name, wa_extern *out);
/* The same for a name of `len` bytes, which may hold NUL bytes (export names are any UTF-8,
 * U+0000 included): "a\0b" is matched by its 3 bytes only, never by "a". */
bool wa_instance_export_n(const wa_instance *in, const char *name, size_t len, wa_extern *out);
wa_func *wa_instance_func(const wa_instance *in, const char *name); /* NULL if no such function */

/* ---- Calls ---- */

void wa_func_type(const wa_func *f, wa_functype *out);
/* Calls f with args (nparams typed values); writes nresults values to results. */
wa_status wa_call(wa_func *f, const wa_value *args, uint32_t nargs, wa_value *results, wa_error *err);
/* Raw form: args in slots[], results overwrite slots[] (slots must hold max(param, result) slots). */
wa_status wa_call_slots(wa_func *f, wa_slot *slots, wa_error *err);

/* ---- Memory, globals, tables ---- */

wa_memory *wa_instance_memory(const wa_instance *in); /* memory 0, or NULL */
uint8_t *wa_memory_data(const wa_memory *mem);
uint64_t wa_memory_size(const wa_memory *mem); /* bytes */
/* Guest memory [ptr, ptr+len) of the instance's memory 0, or NULL if out of range.
 * Valid until the guest runs again. */
uint8_t *wa_memory_span(wa_instance *in, uint32_t ptr, uint32_t len);
/* Grows by delta pages; returns the old size in pages, or -1. */
int64_t wa_memory_grow(wa_memory *mem, uint32_t delta);

wa_value wa_global_get(const wa_global *g);
/* Sets a mutable global. WA_OK, or WA_EINVALID with the global unchanged when g is NULL, is
 * immutable, or v.type is not the global's value type (the spec's global_write error: a value is
 * never reinterpreted as another type). */
wa_status wa_global_set(wa_global *g, wa_value v);
uint32_t wa_table_size(const wa_table *t);

/* Any thread: the guest of this store traps with WA_TRAP_INTERRUPTED at its next loop back-edge
 * or call. Cleared when the next wa_call on the store begins. */
void wa_store_interrupt(wa_store *s);
/* The same, for a deadline: the guest traps with WA_TRAP_DEADLINE, "deadline exceeded". */
void wa_store_expire(wa_store *s);
/* True while an interrupt or deadline is pending for the store's guest (a host function that
 * waits, such as a WASI sleep, polls this to give up early). */
bool wa_store_interrupted(const wa_store *s);

/* ---- Snapshots: a pristine instance per call (src/wasm/snapshot.c) ---- */

/* Records the instance's state (memory contents and size, the module's own globals and tables,
 * dropped segments) for wa_instance_reset; a second call replaces the record. The memory moves
 * to a private copy-on-write mapping of the recorded bytes. Not while the instance's guest runs.
 * WA_EINVALID if the instance imports a memory, a table or a mutable global (state shared with
 * others cannot be reset); WA_ENOMEM. Host-side state (WASI, the embedder's) is not included. */
wa_status wa_instance_snapshot(wa_instance *in, wa_error *err);
/* Returns the instance to its snapshot: memory pages written since get the snapshot's bytes back,
 * memory grown since shrinks back, globals, tables and segments are copied
 * back. Cost grows with the pages written since, not with the memory's size. WA_ENOTFOUND
 * without a snapshot; WA_ENOMEM if the kernel or malloc failed (discard the instance then). */
wa_status wa_instance_reset(wa_instance *in);
/* How this instance's resets restore its memory (docs/isolation.md): "written" (only the pages
 * written since are copied back; Linux ≥ 6.7 userfaultfd write-protection and PAGEMAP_SCAN),
 * "madvise" (written pages are dropped and every page is faulted in again; where the first is
 * refused, or forced with the environment variable APRON_SNAPSHOT_RESET=madvise at snapshot
 * time), "copy" (the whole memory is copied back; without memfd), "none" (no memory); NULL
 * without a snapshot. */
const char *wa_instance_reset_method(const wa_instance *in);

const char *wa_status_text(wa_status st);
const char *wa_trap_text(wa_trap t);

#ifdef __cplusplus
}
#endif
#endif
