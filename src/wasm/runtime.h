/* runtime.h — runtime objects: stores, instances, functions, tables, memories, globals, and the
 * per-thread execution context. Shared by instance.c (creation), interp.c (execution) and
 * memory.c. Internal to src/wasm/. */
#ifndef WA_RUNTIME_H
#define WA_RUNTIME_H

#include "module.h"

#include <setjmp.h>

struct wa_func {
    const wa_sig *sig;
    wa_instance *inst;       /* owning instance of a wasm function; NULL for a host function */
    const wa_funcdef *def;   /* compiled code of a wasm function; NULL for a host function */
    wa_host_fn host;
    void *user;
    uint32_t index;          /* index in the owning module's function space */
};

/* Linear memory: the whole maximum is reserved up front (plus a guard region) and pages are
 * committed as it grows, so `base` never moves. */
struct wa_memory {
    uint8_t *base;
    uint64_t size;      /* bytes currently accessible (pages * 65536) */
    uint32_t pages;
    uint32_t max_pages; /* declared max clamped by the store's limit */
    size_t reserved;    /* bytes of address space reserved at base */
    bool has_max;       /* declared with a maximum: decl_max (import matching uses these) */
    uint32_t decl_max;
};

struct wa_table {
    uint8_t elemtype;
    uint32_t size, max; /* max: declared max clamped by the limit */
    void **elems;       /* wa_func * for funcref, void * for externref; NULL is null */
    uint32_t cap;
    bool has_max;       /* declared with a maximum: decl_max (import matching uses these) */
    uint32_t decl_max;
};

struct wa_global {
    uint8_t type, mut;
    wa_slot val[2]; /* v128 uses both */
};

typedef struct wa_snapshot wa_snapshot;

struct wa_instance {
    wa_store *store;
    wa_module *module;   /* a reference is held */
    void *user;
    wa_func **funcs;     /* [nfuncs] imported entries point at other objects */
    wa_table **tables;   /* [ntables] */
    wa_memory *mem;      /* memory 0 or NULL (WebAssembly 2.0 has at most one) */
    wa_global **globals; /* [nglobals] */
    /* Element segments evaluated at instantiation; a dropped segment has count 0. */
    void ***elem_refs;   /* [nelems] */
    uint32_t *elem_count;
    uint8_t *data_dropped; /* [ndatas] */
    wa_func *own_funcs;  /* storage of the module's defined functions */
    wa_snapshot *snap;   /* wa_instance_snapshot's record, or NULL (snapshot.c) */
    struct wa_instance *next_in_store;
};

/* Every object a store owns is on one list, freed by wa_store_free. */
typedef struct wa_store_obj {
    struct wa_store_obj *next;
    void (*free)(void *);
    void *ptr;
} wa_store_obj;

/* Values of wa_store.interrupt: any non-zero value stops the guest; call.c tells the two apart. */
enum { WA_INTERRUPT_NONE = 0, WA_INTERRUPT_HOST = 1, WA_INTERRUPT_DEADLINE = 2 };

struct wa_store {
    wa_limits lim;
    atomic_uint interrupt;     /* WA_INTERRUPT_*: set by wa_store_interrupt/_expire, checked at
                                  back-edges and calls */
    wa_instance *instances;
    wa_store_obj *objs;
};

/* Per-thread execution state: the value stack all wasm frames of this thread live on, and the
 * error record host functions report traps through. Nested calls (host → guest → host → guest)
 * stack on top of each other. */
typedef struct {
    wa_slot *stack, *stack_end; /* NULL until first use */
    wa_slot *top;               /* first free slot */
    uint32_t depth, max_depth;
    wa_error err;               /* pending trap from a host function */
    void *frames;               /* interp.c's call frames, [max_depth + 1], allocated by it */
} wa_exec;

wa_exec *wa_exec_get(void); /* the calling thread's context, created on first use (NULL on OOM) */
/* exec.c: applies a store's limits (0 = default) to an idle context (depth 0, empty stack): a new
 * max_depth frees `frames` for interp.c to reallocate; a new size remaps the stack. False on OOM,
 * the context then keeps its old stack. Called by wa_call at the outermost call. */
bool wa_exec_configure(wa_exec *e, uint32_t max_depth, uint32_t stack_slots);

/* interp.c: runs f on the calling thread's context ex with its arguments in args[0..param
 * slots) (anywhere in memory); results are written back to args[0..result slots). Works for host
 * and wasm functions alike. */
wa_status wa_invoke(wa_exec *ex, wa_func *f, wa_slot *args, wa_error *err);

/* memory.c */
wa_memory *wa_memory_create(uint32_t min_pages, uint32_t max_pages); /* NULL on OOM */
void wa_memory_destroy(wa_memory *m);
int64_t wa_memory_grow_pages(wa_memory *m, uint32_t delta); /* old pages or -1 */

/* table.c: a table of min elements (all NULL), growable to max; NULL on OOM. */
wa_table *wa_table_create(uint8_t elemtype, uint32_t min, uint32_t max);
void wa_table_destroy(wa_table *t); /* NULL is a no-op */
/* table grow: old size or -1 */
int64_t wa_table_grow_elems(wa_table *t, uint32_t delta, void *init);

/* global.c: NULL on OOM. Freed with free(). */
wa_global *wa_global_create(uint8_t type, bool mut, const wa_slot val[2]);

/* store.c: puts ptr on the store's object list, to be freed with free_fn by wa_store_free.
 * On OOM frees ptr with free_fn and returns false. */
bool wa_store_track(wa_store *s, void (*free_fn)(void *), void *ptr);

/* instance.c: frees an instance, its own tables, memory and globals, and drops its module
 * reference. Used by wa_store_free. */
void wa_instance_free(wa_instance *in);

/* snapshot.c: frees a snapshot record (NULL is a no-op); the memory mapping stays. */
void wa__snapshot_free(wa_snapshot *s);
/* How a snapshot's memory is restored (wa_instance_reset_method names them). */
typedef enum { WA_RESET_NONE, WA_RESET_WRITTEN, WA_RESET_MADVISE, WA_RESET_COPY } wa_reset_method;
/* snapshot.c, for tests: the 4 KiB pages the last reset copied back (method "written"), else 0. */
size_t wa__snapshot_restored(const wa_instance *in);

#endif
