/* instance.c — instantiation (the spec's module_instantiate, WebAssembly 2.0 §4.5.4): import
 * matching, allocation of the module's functions, tables, memory and globals, element and data
 * segment initialisation, the start function; then export lookup and host functions.
 *
 * An instance owns the tables, memory and globals its module defines; imported ones belong to
 * whoever created them (another instance or the store). All of them live until wa_store_free. */
#include "runtime.h"

#include <stdlib.h>
#include <string.h>

#define WA_MAX_PAGES 65536u

static wa_status trap(wa_error *err, wa_trap kind)
{
    wa_err(err, WA_ETRAP, UINT32_MAX, "%s", wa_trap_text(kind));
    if (err)
        err->trap = kind;
    return WA_ETRAP;
}

static wa_status oom(wa_error *err) { return wa_err(err, WA_ENOMEM, UINT32_MAX, "out of memory"); }

/* ---- Import matching (spec §4.5.2 "Import Subtyping") ---- */

/* Limits {min, max?} match {dmin, dmax?} when min >= dmin and, if dmax is given, max is given too
 * and max <= dmax. */
static bool limits_match(uint32_t min, bool has_max, uint32_t max, wa_lim want)
{
    if (min < want.min)
        return false;
    return !want.has_max || (has_max && max <= want.max);
}

static bool import_matches(const wa_module *m, const wa_import *imp, const wa_extern *ext)
{
    if (ext->kind != imp->kind)
        return false;
    switch (imp->kind) {
    case WA_EXTERN_FUNC:
        /* Interned signatures: structural equality is pointer equality. */
        return ext->of.func->sig == m->types[imp->u.type_idx];
    case WA_EXTERN_TABLE: {
        const wa_table *t = ext->of.table;
        return t->elemtype == imp->u.table.elemtype &&
               limits_match(t->size, t->has_max, t->decl_max, imp->u.table.lim);
    }
    case WA_EXTERN_MEMORY: {
        const wa_memory *mem = ext->of.memory;
        return limits_match(mem->pages, mem->has_max, mem->decl_max, imp->u.mem);
    }
    case WA_EXTERN_GLOBAL: {
        const wa_global *g = ext->of.global;
        return g->type == imp->u.global.type && (g->mut != 0) == (imp->u.global.mut != 0);
    }
    }
    return false;
}

static bool extern_present(const wa_extern *ext)
{
    switch (ext->kind) {
    case WA_EXTERN_FUNC: return ext->of.func != NULL;
    case WA_EXTERN_TABLE: return ext->of.table != NULL;
    case WA_EXTERN_MEMORY: return ext->of.memory != NULL;
    case WA_EXTERN_GLOBAL: return ext->of.global != NULL;
    }
    return false;
}

static wa_status check_imports(const wa_module *m, const wa_extern *imports, wa_error *err)
{
    for (uint32_t i = 0; i < m->nimports; i++) {
        const wa_import *imp = &m->imports[i];
        const char *why = NULL;
        if (!imports || !extern_present(&imports[i]))
            why = "unknown import";
        else if (!import_matches(m, imp, &imports[i]))
            why = "incompatible import type";
        if (why)
            return wa_err(err, WA_EUNLINKABLE, UINT32_MAX, "%s: \"%s\" \"%s\"", why, imp->module,
                          imp->name);
    }
    return WA_OK;
}

/* ---- Freeing ---- */

void wa_instance_free(wa_instance *in)
{
    if (!in)
        return;
    const wa_module *m = in->module;
    if (in->tables)
        for (uint32_t i = m->ntable_imports; i < m->ntables; i++)
            wa_table_destroy(in->tables[i]);
    if (m->nmem_imports == 0)
        wa_memory_destroy(in->mem);
    if (in->globals)
        for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++)
            free(in->globals[i]);
    if (in->elem_refs)
        for (uint32_t i = 0; i < m->nelems; i++)
            free(in->elem_refs[i]);
    free(in->elem_refs);
    free(in->elem_count);
    free(in->data_dropped);
    free(in->tables);
    free(in->globals);
    free(in->funcs);
    free(in->own_funcs);
    wa__snapshot_free(in->snap);
    wa_module_unref(in->module);
    free(in);
}

/* ---- Allocation ---- */

/* A constant expression's value (validation guarantees the indices and types). Global initialisers
 * read only globals before them, so every global.get here sees an initialised global. */
static void eval_cexpr(const wa_instance *in, const wa_cexpr *e, wa_slot out[2])
{
    out[0].i64 = out[1].i64 = 0;
    switch (e->op) {
    case WA_CEXPR_CONST:
        out[0].i64 = e->v[0];
        out[1].i64 = e->v[1];
        break;
    case WA_CEXPR_GLOBAL_GET:
        out[0] = in->globals[e->idx]->val[0];
        out[1] = in->globals[e->idx]->val[1];
        break;
    case WA_CEXPR_REF_NULL: out[0].ref = NULL; break;
    case WA_CEXPR_REF_FUNC: out[0].ref = in->funcs[e->idx]; break;
    }
}

static wa_status alloc_arrays(wa_instance *in, const wa_module *m)
{
    uint32_t ndefined = m->nfuncs - m->nfunc_imports;
    if ((m->nfuncs && !(in->funcs = calloc(m->nfuncs, sizeof *in->funcs))) ||
        (ndefined && !(in->own_funcs = calloc(ndefined, sizeof *in->own_funcs))) ||
        (m->ntables && !(in->tables = calloc(m->ntables, sizeof *in->tables))) ||
        (m->nglobals && !(in->globals = calloc(m->nglobals, sizeof *in->globals))) ||
        (m->nelems && !(in->elem_refs = calloc(m->nelems, sizeof *in->elem_refs))) ||
        (m->nelems && !(in->elem_count = calloc(m->nelems, sizeof *in->elem_count))) ||
        (m->ndatas && !(in->data_dropped = calloc(m->ndatas, sizeof *in->data_dropped))))
        return WA_ENOMEM;
    return WA_OK;
}

static void link_imports(wa_instance *in, const wa_module *m, const wa_extern *imports)
{
    uint32_t nf = 0, nt = 0, ng = 0;
    for (uint32_t i = 0; i < m->nimports; i++) {
        const wa_extern *x = &imports[i];
        switch (m->imports[i].kind) {
        case WA_EXTERN_FUNC: in->funcs[nf++] = x->of.func; break;
        case WA_EXTERN_TABLE: in->tables[nt++] = x->of.table; break;
        case WA_EXTERN_MEMORY: in->mem = x->of.memory; break;
        case WA_EXTERN_GLOBAL: in->globals[ng++] = x->of.global; break;
        }
    }
}

static void make_funcs(wa_instance *in, const wa_module *m)
{
    for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++) {
        wa_func *f = &in->own_funcs[i - m->nfunc_imports];
        f->sig = m->types[m->func_type[i]];
        f->inst = in;
        f->def = &m->funcs[i - m->nfunc_imports];
        f->index = i;
        in->funcs[i] = f;
    }
}

/* Defined tables and memory start at their minimum and may grow to the declared maximum, or the
 * store's limit when that is lower or there is none. A minimum above the limit is WA_ELIMIT. */
static wa_status make_tables_memory(wa_instance *in, const wa_module *m, wa_error *err)
{
    const wa_limits *lim = &in->store->lim;
    for (uint32_t i = m->ntable_imports; i < m->ntables; i++) {
        const wa_tabletype *tt = &m->tables[i];
        if (tt->lim.min > lim->max_table_elems)
            return wa_err(err, WA_ELIMIT, UINT32_MAX, "table of %u elements exceeds the limit %u",
                          tt->lim.min, lim->max_table_elems);
        uint32_t max = tt->lim.has_max && tt->lim.max < lim->max_table_elems ? tt->lim.max
                                                                             : lim->max_table_elems;
        wa_table *t = wa_table_create(tt->elemtype, tt->lim.min, max);
        if (!t)
            return oom(err);
        t->has_max = tt->lim.has_max;
        t->decl_max = tt->lim.has_max ? tt->lim.max : 0;
        in->tables[i] = t;
    }
    if (m->nmems > m->nmem_imports) {
        const wa_lim *ml = &m->mems[m->nmem_imports];
        uint32_t cap = lim->max_memory_pages < WA_MAX_PAGES ? lim->max_memory_pages : WA_MAX_PAGES;
        if (ml->min > cap)
            return wa_err(err, WA_ELIMIT, UINT32_MAX, "memory of %u pages exceeds the limit %u",
                          ml->min, cap);
        uint32_t max = ml->has_max && ml->max < cap ? ml->max : cap;
        if (!(in->mem = wa_memory_create(ml->min, max)))
            return oom(err);
        in->mem->has_max = ml->has_max;
        in->mem->decl_max = ml->has_max ? ml->max : 0;
    }
    return WA_OK;
}

static wa_status make_globals(wa_instance *in, const wa_module *m, wa_error *err)
{
    for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) {
        wa_slot val[2];
        eval_cexpr(in, &m->global_init[i - m->nglobal_imports], val);
        if (!(in->globals[i] = wa_global_create(m->globals[i].type, m->globals[i].mut, val)))
            return oom(err);
    }
    return WA_OK;
}

/* Every segment's references are evaluated up front (the spec's elemaddrs); a declarative segment
 * is dropped at once, since only ref.func validation ever needed it. */
static wa_status eval_elems(wa_instance *in, const wa_module *m, wa_error *err)
{
    for (uint32_t i = 0; i < m->nelems; i++) {
        const wa_elemseg *seg = &m->elems[i];
        if (seg->mode == WA_SEG_DECLARATIVE || seg->count == 0)
            continue;
        void **refs = malloc((size_t)seg->count * sizeof *refs);
        if (!refs)
            return oom(err);
        for (uint32_t j = 0; j < seg->count; j++) {
            wa_slot v[2];
            eval_cexpr(in, &seg->items[j], v);
            refs[j] = v[0].ref;
        }
        in->elem_refs[i] = refs;
        in->elem_count[i] = seg->count;
    }
    return WA_OK;
}

/* ---- Initialisation (side effects: from here on the instance stays in the store) ---- */

static void drop_elem(wa_instance *in, uint32_t i)
{
    free(in->elem_refs[i]);
    in->elem_refs[i] = NULL;
    in->elem_count[i] = 0;
}

/* Spec 2.0: active segments run as table.init/memory.init followed by a drop, in module order;
 * the first out-of-range one traps and the writes before it stay. A zero-length segment still
 * traps when its offset lies past the end. */
static wa_status init_segments(wa_instance *in, const wa_module *m, wa_error *err)
{
    for (uint32_t i = 0; i < m->nelems; i++) {
        const wa_elemseg *seg = &m->elems[i];
        if (seg->mode != WA_SEG_ACTIVE)
            continue;
        wa_slot off[2];
        eval_cexpr(in, &seg->offset, off);
        wa_table *t = in->tables[seg->table];
        uint32_t n = in->elem_count[i];
        if ((uint64_t)off[0].i32 + n > t->size)
            return trap(err, WA_TRAP_TABLE_OOB);
        if (n)
            memcpy(t->elems + off[0].i32, in->elem_refs[i], (size_t)n * sizeof *t->elems);
        drop_elem(in, i);
    }
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const wa_dataseg *seg = &m->datas[i];
        if (seg->mode != WA_SEG_ACTIVE)
            continue;
        wa_slot off[2];
        eval_cexpr(in, &seg->offset, off);
        wa_memory *mem = in->mem;
        if (!mem || (uint64_t)off[0].i32 + seg->len > mem->size)
            return trap(err, WA_TRAP_MEMORY_OOB);
        if (seg->len)
            memcpy(mem->base + off[0].i32, m->bytes + seg->data_off, seg->len);
        in->data_dropped[i] = 1;
    }
    return WA_OK;
}

wa_status wa_instance_new(wa_store *s, wa_module *m, const wa_extern *imports, void *user,
                          wa_instance **out, wa_error *err)
{
    wa_status st = check_imports(m, imports, err);
    if (st != WA_OK)
        return st;
    wa_instance *in = calloc(1, sizeof *in);
    if (!in)
        return oom(err);
    in->store = s;
    in->module = wa_module_ref(m);
    in->user = user;
    if (alloc_arrays(in, m) != WA_OK) {
        st = oom(err);
        goto fail;
    }
    link_imports(in, m, imports);
    make_funcs(in, m);
    if ((st = make_tables_memory(in, m, err)) != WA_OK ||
        (st = make_globals(in, m, err)) != WA_OK || (st = eval_elems(in, m, err)) != WA_OK)
        goto fail;

    /* Segment initialisation may store this instance's functions into imported tables, and the
     * start function may too: from here the instance must outlive a failure, so it joins the
     * store now and is freed with it. */
    in->next_in_store = s->instances;
    s->instances = in;
    if ((st = init_segments(in, m, err)) != WA_OK)
        return st;
    if (m->start >= 0) {
        wa_slot slots[2];
        if ((st = wa_call_slots(in->funcs[m->start], slots, err)) != WA_OK)
            return st;
    }
    *out = in;
    return WA_OK;
fail:
    wa_instance_free(in);
    return st;
}

/* ---- Accessors ---- */

void *wa_instance_user(const wa_instance *in) { return in->user; }

const wa_module *wa_instance_module(const wa_instance *in) { return in->module; }

wa_store *wa_instance_store(const wa_instance *in) { return in->store; }

bool wa_instance_export(const wa_instance *in, const char *name, wa_extern *out)
{
    return wa_instance_export_n(in, name, strlen(name), out);
}

bool wa_instance_export_n(const wa_instance *in, const char *name, size_t len, wa_extern *out)
{
    const wa_module *m = in->module;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const wa_export *e = &m->exports[i];
        /* Export names may hold U+0000: "a\0b" must not answer for "a". */
        if (e->name_len != len || (len && memcmp(e->name, name, len) != 0))
            continue;
        out->kind = (wa_extern_kind)e->kind;
        switch (e->kind) {
        case WA_EXTERN_FUNC: out->of.func = in->funcs[e->idx]; break;
        case WA_EXTERN_TABLE: out->of.table = in->tables[e->idx]; break;
        case WA_EXTERN_MEMORY: out->of.memory = in->mem; break;
        case WA_EXTERN_GLOBAL: out->of.global = in->globals[e->idx]; break;
        }
        return true;
    }
    return false;
}

wa_func *wa_instance_func(const wa_instance *in, const char *name)
{
    wa_extern x;
    if (!wa_instance_export(in, name, &x) || x.kind != WA_EXTERN_FUNC)
        return NULL;
    return x.of.func;
}

/* ---- Host functions ---- */

static void free_func(void *p) { free(p); }

wa_func *wa_func_new_host(wa_store *s, const wa_functype *type, wa_host_fn fn, void *user)
{
    uint32_t n = type->nparams + type->nresults;
    uint8_t local[32], *types = local;
    if (n > sizeof local && !(types = malloc(n)))
        return NULL;
    for (uint32_t i = 0; i < type->nparams; i++)
        types[i] = (uint8_t)type->params[i];
    for (uint32_t i = 0; i < type->nresults; i++)
        types[type->nparams + i] = (uint8_t)type->results[i];
    const wa_sig *sig = wa_sig_intern(types, type->nparams, types + type->nparams, type->nresults);
    if (types != local)
        free(types);
    wa_func *f = sig ? calloc(1, sizeof *f) : NULL;
    if (!f)
        return NULL;
    f->sig = sig;
    f->host = fn;
    f->user = user;
    f->index = UINT32_MAX;
    if (!wa_store_track(s, free_func, f))
        return NULL;
    return f;
}
