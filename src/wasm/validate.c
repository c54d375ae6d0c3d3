/* validate.c — module-level validation (spec 3.4): type indices, limits, constant expressions,
 * exports, the start function, element and data segments. decode → [validate] → instantiate;
 * function bodies are validated by compile.c. Errors are WA_EINVALID in the spec tests' wording,
 * at the offset decode.c recorded for the entry at fault (its index, type, expression or start). */
#include "module.h"

#include <stdlib.h>
#include <string.h>

#define MAX_PAGES 65536u

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        wa_status try_st_ = (expr);                                                                \
        if (try_st_ != WA_OK)                                                                      \
            return try_st_;                                                                        \
    } while (0)

static wa_status check_type_idx(const wa_module *m, uint32_t idx, uint32_t off, wa_error *err)
{
    if (idx >= m->ntypes)
        return wa_err(err, WA_EINVALID, off, "unknown type %u", idx);
    return WA_OK;
}

static wa_status check_limits(const wa_lim *lim, uint32_t bound, const char *too_big, uint32_t off,
                              wa_error *err)
{
    if (lim->min > bound || (lim->has_max && lim->max > bound))
        return wa_err(err, WA_EINVALID, off, "%s", too_big);
    if (lim->has_max && lim->min > lim->max)
        return wa_err(err, WA_EINVALID, off, "size minimum must not be greater than maximum");
    return WA_OK;
}

static wa_status check_memtype(const wa_lim *lim, uint32_t off, wa_error *err)
{
    return check_limits(lim, MAX_PAGES, "memory size must be at most 65536 pages (4GiB)", off,
                        err);
}

static wa_status check_tabletype(const wa_tabletype *t, wa_error *err)
{
    return check_limits(&t->lim, UINT32_MAX, "table size", t->off, err);
}

/* A constant expression producing `want`. In WebAssembly 2.0 global.get may name only an
 * imported global, and only an immutable one (spec 3.4.10, the context C'). */
static wa_status check_cexpr(const wa_module *m, const wa_cexpr *e, uint8_t want, wa_error *err)
{
    uint8_t type = e->type;
    switch (e->op) {
    case WA_CEXPR_NOT_CONST:
        return wa_err(err, WA_EINVALID, e->off, "constant expression required");
    case WA_CEXPR_BAD_ARITY:
        return wa_err(err, WA_EINVALID, e->off, "type mismatch");
    case WA_CEXPR_GLOBAL_GET:
        if (e->idx >= m->nglobal_imports)
            return wa_err(err, WA_EINVALID, e->off, "unknown global %u", e->idx);
        if (m->globals[e->idx].mut)
            return wa_err(err, WA_EINVALID, e->off, "constant expression required");
        type = m->globals[e->idx].type;
        break;
    case WA_CEXPR_REF_FUNC:
        if (e->idx >= m->nfuncs)
            return wa_err(err, WA_EINVALID, e->off, "unknown function %u", e->idx);
        break;
    }
    if (type != want)
        return wa_err(err, WA_EINVALID, e->off, "type mismatch");
    return WA_OK;
}

static wa_status check_imports(const wa_module *m, wa_error *err)
{
    for (uint32_t i = 0; i < m->nimports; i++) {
        const wa_import *im = &m->imports[i];
        switch (im->kind) {
        case WA_EXTERN_FUNC:
            TRY(check_type_idx(m, im->u.type_idx, im->off, err));
            break;
        case WA_EXTERN_TABLE:
            TRY(check_tabletype(&im->u.table, err));
            break;
        case WA_EXTERN_MEMORY:
            TRY(check_memtype(&im->u.mem, im->off, err));
            break;
        }
    }
    return WA_OK;
}

static wa_status check_definitions(const wa_module *m, wa_error *err)
{
    for (uint32_t i = 0; i < m->nfuncs - m->nfunc_imports; i++)
        TRY(check_type_idx(m, m->funcs[i].type_idx, m->funcs[i].type_off, err));
    for (uint32_t i = m->ntable_imports; i < m->ntables; i++)
        TRY(check_tabletype(&m->tables[i], err));
    if (m->nmems > 1)
        return wa_err(err, WA_EINVALID, m->mem_off[1], "multiple memories");
    for (uint32_t i = m->nmem_imports; i < m->nmems; i++)
        TRY(check_memtype(&m->mems[i], m->mem_off[i], err));
    for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++)
        TRY(check_cexpr(m, &m->global_init[i - m->nglobal_imports], m->globals[i].type, err));
    return WA_OK;
}

static int export_cmp(const void *a, const void *b)
{
    const wa_export *x = *(const wa_export *const *)a, *y = *(const wa_export *const *)b;
    if (x->name_len != y->name_len)
        return x->name_len < y->name_len ? -1 : 1;
    return memcmp(x->name, y->name, x->name_len);
}

static wa_status check_exports(const wa_module *m, wa_error *err)
{
    static const char *const what[] = {"function", "table", "memory", "global"};
    for (uint32_t i = 0; i < m->nexports; i++) {
        const wa_export *ex = &m->exports[i];
        uint32_t n = ex->kind == WA_EXTERN_FUNC     ? m->nfuncs
                     : ex->kind == WA_EXTERN_TABLE  ? m->ntables
                     : ex->kind == WA_EXTERN_MEMORY ? m->nmems
                                                    : m->nglobals;
        if (ex->idx >= n)
            return wa_err(err, WA_EINVALID, ex->off, "unknown %s %u", what[ex->kind], ex->idx);
    }
    if (m->nexports < 2)
        return WA_OK;
    /* names are unique: sort, then compare neighbours; the error is at the later of the two */
    const wa_export **sorted = malloc(m->nexports * sizeof *sorted);
    if (!sorted)
        return wa_err(err, WA_ENOMEM, UINT32_MAX, "out of memory");
    for (uint32_t i = 0; i < m->nexports; i++)
        sorted[i] = &m->exports[i];
    qsort(sorted, m->nexports, sizeof *sorted, export_cmp);
    wa_status st = WA_OK;
    for (uint32_t i = 1; i < m->nexports && st == WA_OK; i++)
        if (export_cmp(&sorted[i - 1], &sorted[i]) == 0)
            st = wa_err(err, WA_EINVALID,
                        sorted[i - 1]->off > sorted[i]->off ? sorted[i - 1]->off : sorted[i]->off,
                        "duplicate export name");
    free(sorted);
    return st;
}

static wa_status check_start(const wa_module *m, wa_error *err)
{
    if (m->start < 0)
        return WA_OK;
    if (m->start >= m->nfuncs)
        return wa_err(err, WA_EINVALID, m->start_off, "unknown function %u", (uint32_t)m->start);
    const wa_sig *sig = m->types[m->func_type[m->start]];
    if (sig->nparams != 0 || sig->nresults != 0)
        return wa_err(err, WA_EINVALID, m->start_off, "start function");
    return WA_OK;
}

static wa_status check_elems(const wa_module *m, wa_error *err)
{
    for (uint32_t i = 0; i < m->nelems; i++) {
        const wa_elemseg *s = &m->elems[i];
        for (uint32_t k = 0; k < s->count; k++)
            TRY(check_cexpr(m, &s->items[k], s->elemtype, err));
        if (s->mode != WA_SEG_ACTIVE)
            continue;
        if (s->table >= m->ntables)
            return wa_err(err, WA_EINVALID, s->off, "unknown table %u", s->table);
        TRY(check_cexpr(m, &s->offset, WA_I32, err));
        if (m->tables[s->table].elemtype != s->elemtype)
            return wa_err(err, WA_EINVALID, s->off, "type mismatch");
    }
    return WA_OK;
}

static wa_status check_datas(const wa_module *m, wa_error *err)
{
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const wa_dataseg *s = &m->datas[i];
        if (s->mode != WA_SEG_ACTIVE)
            continue;
        if (s->mem >= m->nmems)
            return wa_err(err, WA_EINVALID, s->off, "unknown memory %u", s->mem);
        TRY(check_cexpr(m, &s->offset, WA_I32, err));
    }
    return WA_OK;
}

wa_status wa_validate_module(const wa_module *m, wa_error *err)
{
    TRY(check_imports(m, err));
    TRY(check_definitions(m, err));
    TRY(check_exports(m, err));
    TRY(check_start(m, err));
    TRY(check_elems(m, err));
    TRY(check_datas(m, err));
    return WA_OK;
}
