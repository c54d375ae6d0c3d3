/* module.h — the decoded module: what decode.c fills, validate.c checks, compile.c translates and
 * instance.c instantiates. Internal to src/wasm/. */
#ifndef WA_MODULE_H
#define WA_MODULE_H

#include "apron/wasm.h"

#include <stdatomic.h>

/* A function type, interned: structurally equal types share one pointer, so call_indirect's
 * check is a pointer comparison, across modules too. Lives for the process. */
typedef struct wa_sig {
    uint32_t nparams, nresults;
    uint32_t param_slots, result_slots; /* v128 takes two slots */
    uint32_t hash;
    struct wa_sig *next; /* intern table chain */
    uint8_t types[];     /* params, then results (wa_valtype values) */
} wa_sig;

/* NULL on OOM. Thread-safe. */
const wa_sig *wa_sig_intern(const uint8_t *params, uint32_t nparams, const uint8_t *results,
                            uint32_t nresults);
/* The same types as wa_valtype (params, then results), for wa_functype; lives as long as s. */
const wa_valtype *wa_sig_valtypes(const wa_sig *s);
static inline const uint8_t *wa_sig_params(const wa_sig *s) { return s->types; }
static inline const uint8_t *wa_sig_results(const wa_sig *s) { return s->types + s->nparams; }
static inline uint32_t wa_type_slots(uint8_t t) { return t == WA_V128 ? 2 : 1; }

typedef struct {
    uint8_t elemtype; /* WA_FUNCREF or WA_EXTERNREF */
    wa_lim lim;
    uint32_t off;     /* of the table type in the module, for errors */
} wa_tabletype;

typedef struct {
    uint8_t type;
    uint8_t mut;
} wa_globaltype;

/* A constant expression. WebAssembly 2.0 allows exactly one instruction before `end`. */
enum { WA_CEXPR_CONST, WA_CEXPR_GLOBAL_GET, WA_CEXPR_REF_NULL, WA_CEXPR_REF_FUNC,
       /* Set by decode.c, rejected by validate.c (so never seen by instance.c): the expression
        * used a non-constant instruction ("constant expression required"), or had other than
        * one instruction ("type mismatch"). */
       WA_CEXPR_NOT_CONST, WA_CEXPR_BAD_ARITY };
typedef struct {
    uint8_t op;    /* WA_CEXPR_* */
    uint8_t type;  /* the value type it produces */
    uint32_t idx;  /* global index or function index */
    uint32_t off;  /* of the expression (or function index) in the module, for errors */
    uint64_t v[2]; /* the constant's bits (v128 uses both) */
} wa_cexpr;

typedef struct {
    char *module, *name;           /* NUL-terminated copies; names may contain U+0000, so */
    uint32_t module_len, name_len; /* compare by length */
    uint8_t kind; /* wa_extern_kind */
    uint32_t off; /* of the description after the kind byte, for errors */
    union {
        uint32_t type_idx; /* function */
        wa_tabletype table;
        wa_lim mem;
        wa_globaltype global;
    } u;
} wa_import;

typedef struct {
    char *name; /* NUL-terminated copy; may contain U+0000 (names.wast does), see name_len */
    uint32_t name_len;
    uint8_t kind;
    uint32_t idx;
    uint32_t off; /* of the entry (its name) in the module, for errors */
} wa_export;

enum { WA_SEG_ACTIVE, WA_SEG_PASSIVE, WA_SEG_DECLARATIVE };

typedef struct {
    uint8_t mode;
    uint8_t elemtype;
    uint32_t off; /* of the segment in the module, for errors */
    uint32_t table;
    wa_cexpr offset;
    uint32_t count;
    wa_cexpr *items; /* ref.func / ref.null / global.get */
} wa_elemseg;

typedef struct {
    uint8_t mode; /* WA_SEG_ACTIVE or WA_SEG_PASSIVE */
    uint32_t off; /* of the segment in the module, for errors */
    uint32_t mem;
    wa_cexpr offset;
    uint32_t data_off, len; /* the bytes, in wa_module.bytes */
} wa_dataseg;

struct wa_instr; /* compile.h */

/* A function defined in the module (not imported). */
typedef struct {
    uint32_t type_idx, type_off; /* type_off: of type_idx in the function section */
    uint32_t body_off, body_len; /* the code entry after its size: locals vector, then expr */
    /* Filled by compile.c: */
    struct wa_instr *code;
    uint32_t ncode;
    uint32_t param_slots;  /* params, in slots */
    uint32_t nlocal_slots; /* params + declared locals, in slots */
    uint32_t frame_slots;  /* locals + operand stack, in slots */
} wa_funcdef;

typedef struct {
    char *name;
    uint32_t off, len; /* contents, in wa_module.bytes */
} wa_custom;

struct wa_module {
    atomic_int refs;
    uint8_t *bytes; /* owned copy of the binary */
    size_t len;

    uint32_t ntypes;
    const wa_sig **types;

    uint32_t nimports;
    wa_import *imports;

    /* Index spaces: imported entries first. */
    uint32_t nfuncs, nfunc_imports;
    uint32_t *func_type; /* [nfuncs] type index */
    wa_funcdef *funcs;   /* [nfuncs - nfunc_imports] */

    uint32_t ntables, ntable_imports;
    wa_tabletype *tables; /* [ntables] */

    uint32_t nmems, nmem_imports;
    wa_lim *mems;      /* [nmems] */
    uint32_t *mem_off; /* [nmems] of each memory type in the module, for errors */

    uint32_t nglobals, nglobal_imports;
    wa_globaltype *globals; /* [nglobals] */
    wa_cexpr *global_init;  /* [nglobals - nglobal_imports] */

    uint32_t nexports;
    wa_export *exports;

    int64_t start;      /* function index, -1 if none */
    uint32_t start_off; /* of the start section's function index */

    uint32_t nelems;
    wa_elemseg *elems;

    uint32_t ndatas;
    wa_dataseg *datas;
    bool has_datacount;
    uint32_t datacount;

    /* Functions a ref.func in code may name: those referenced in elements, exports and
     * global initialisers (the spec's C.refs). Bitmap, [nfuncs] bits. */
    uint8_t *func_declared;

    uint32_t ncustoms;
    wa_custom *customs;
    char **func_names; /* [nfuncs] from the name section, entries may be NULL; NULL if none */
};

static inline bool wa_module_func_declared(const wa_module *m, uint32_t f)
{
    return (m->func_declared[f >> 3] >> (f & 7)) & 1;
}

/* decode.c: parses every section of bytes[0..len) (already owned by m) into m, and computes
 * func_declared. Function bodies are located, not decoded. Errors are WA_EMALFORMED (or
 * WA_EINVALID where the spec classifies a decode-time check as validation) with the offset. */
wa_status wa_decode(wa_module *m, wa_error *err);

/* validate.c: module-level validation (indices, limits, const exprs, exports, start, segments).
 * Function bodies are validated by compile.c. */
wa_status wa_validate_module(const wa_module *m, wa_error *err);

/* compile.c: validates one function body and translates it into the interpreter's code. */
wa_status wa_compile_func(const wa_module *m, uint32_t def_idx, wa_error *err);
/* compile_all.c: every body, on several threads for large modules; the error is the lowest-
 * numbered failing function's, as a sequential compile would report. */
wa_status wa_compile_all(wa_module *m, wa_error *err);

/* scan.c: whether defined function def_idx or a later one is malformed (then fills err). */
bool wa_scan_bodies_malformed(const wa_module *m, uint32_t def_idx, wa_error *err);
/* scan.c: decodes the body at bytes[off, off+len) as the reference interpreter does, reading past
 * its declared end up to the module's; if that finds it malformed (a missing `end` is "unexpected
 * end of section or function" at the module's end, "section size mismatch" if the body ends
 * beyond its size, ...), fills err and returns true. For decode.c, on the error path only. */
bool wa_scan_body_beyond(const wa_module *m, uint32_t off, uint32_t len, wa_error *err);

/* module.c: frees everything a module owns (used on load failure too). */
void wa_module_destroy(wa_module *m);

/* errors.c: fills err (may be NULL) and returns status. */
wa_status wa_err(wa_error *err, wa_status st, uint32_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
