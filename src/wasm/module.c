/* module.c — loading a module (decode.c → compile.c → validate.c), its reference count and its
 * teardown, and the import/export listing of the public API. */
#include "module.h"

#include <stdlib.h>
#include <string.h>

wa_status wa_module_load(const uint8_t *bytes, size_t len, wa_module **out, wa_error *err)
{
    /* Offsets in the module and in errors are 32-bit; below 2 GiB, the sum of any two counts
     * (imported + defined entries of an index space) cannot wrap either. */
    if (len > INT32_MAX)
        return wa_err(err, WA_ELIMIT, UINT32_MAX, "module too large");
    wa_status st;
    wa_module *m = calloc(1, sizeof *m);
    if (!m)
        return wa_err(err, WA_ENOMEM, UINT32_MAX, "out of memory");
    atomic_init(&m->refs, 1);
    m->start = -1;
    m->bytes = malloc(len ? len : 1);
    if (!m->bytes) {
        st = wa_err(err, WA_ENOMEM, UINT32_MAX, "out of memory");
        goto fail;
    }
    if (len)
        memcpy(m->bytes, bytes, len);
    m->len = len;

    if ((st = wa_decode(m, err)) != WA_OK)
        goto fail;
    /* Bodies first: a body may still be malformed, and that outranks any validation error. The
     * compiler needs each function's type, so a bad type index skips straight to validation,
     * which reports it. */
    bool types_ok = true;
    for (uint32_t i = 0; i < m->nfuncs - m->nfunc_imports; i++)
        if (m->funcs[i].type_idx >= m->ntypes)
            types_ok = false;
    if (types_ok && (st = wa_compile_all(m, err)) != WA_OK)
        goto fail;
    if ((st = wa_validate_module(m, err)) != WA_OK)
        goto fail;
    *out = m;
    return WA_OK;
fail:
    wa_module_destroy(m);
    return st;
}

wa_module *wa_module_ref(wa_module *m)
{
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}

void wa_module_unref(wa_module *m)
{
    if (m && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
        wa_module_destroy(m);
}

/* Frees a module in any state decode.c may leave it: every count covers only entries that were
 * filled (or zeroed by calloc), so a half-decoded module is freed like a whole one. */
void wa_module_destroy(wa_module *m)
{
    if (!m)
        return;
    free(m->types); /* the signatures themselves are interned for the process */
    for (uint32_t i = 0; m->imports && i < m->nimports; i++) {
        free(m->imports[i].module);
        free(m->imports[i].name);
    }
    free(m->imports);
    free(m->func_type);
    for (uint32_t i = 0; m->funcs && i < m->nfuncs - m->nfunc_imports; i++)
        free(m->funcs[i].code);
    free(m->funcs);
    free(m->tables);
    free(m->mems);
    free(m->mem_off);
    free(m->globals);
    free(m->global_init);
    for (uint32_t i = 0; m->exports && i < m->nexports; i++)
        free(m->exports[i].name);
    free(m->exports);
    for (uint32_t i = 0; m->elems && i < m->nelems; i++)
        free(m->elems[i].items);
    free(m->elems);
    free(m->datas);
    free(m->func_declared);
    for (uint32_t i = 0; i < m->ncustoms; i++)
        free(m->customs[i].name);
    free(m->customs);
    for (uint32_t i = 0; m->func_names && i < m->nfuncs; i++)
        free(m->func_names[i]);
    free(m->func_names);
    free(m->bytes);
    free(m);
}

uint32_t wa_module_import_count(const wa_module *m) { return m->nimports; }

void wa_module_import_info(const wa_module *m, uint32_t i, const char **module, const char **name,
                           wa_extern_kind *kind)
{
    const wa_import *im = &m->imports[i];
    if (module)
        *module = im->module;
    if (name)
        *name = im->name;
    if (kind)
        *kind = (wa_extern_kind)im->kind;
}

bool wa_module_import_functype(const wa_module *m, uint32_t i, wa_functype *out)
{
    const wa_import *im = &m->imports[i];
    if (im->kind != WA_EXTERN_FUNC)
        return false;
    const wa_sig *sig = m->types[im->u.type_idx];
    const wa_valtype *vt = wa_sig_valtypes(sig);
    out->nparams = sig->nparams;
    out->nresults = sig->nresults;
    out->params = vt;
    out->results = vt + sig->nparams;
    return true;
}

bool wa_module_import_tabletype(const wa_module *m, uint32_t i, wa_valtype *elemtype, wa_lim *lim)
{
    const wa_import *im = &m->imports[i];
    if (im->kind != WA_EXTERN_TABLE)
        return false;
    if (elemtype)
        *elemtype = (wa_valtype)im->u.table.elemtype;
    if (lim)
        *lim = im->u.table.lim;
    return true;
}

bool wa_module_import_memtype(const wa_module *m, uint32_t i, wa_lim *lim)
{
    const wa_import *im = &m->imports[i];
    if (im->kind != WA_EXTERN_MEMORY)
        return false;
    if (lim)
        *lim = im->u.mem;
    return true;
}

bool wa_module_import_globaltype(const wa_module *m, uint32_t i, wa_valtype *type, bool *mutable_)
{
    const wa_import *im = &m->imports[i];
    if (im->kind != WA_EXTERN_GLOBAL)
        return false;
    if (type)
        *type = (wa_valtype)im->u.global.type;
    if (mutable_)
        *mutable_ = im->u.global.mut != 0;
    return true;
}

uint32_t wa_module_export_count(const wa_module *m) { return m->nexports; }

void wa_module_export_info(const wa_module *m, uint32_t i, const char **name, wa_extern_kind *kind)
{
    const wa_export *ex = &m->exports[i];
    if (name)
        *name = ex->name;
    if (kind)
        *kind = (wa_extern_kind)ex->kind;
}
