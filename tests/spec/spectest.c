/* spectest.c — the `spectest` host module the official suite imports from, and the registry that
 * resolves a module's imports by (module, name) against it and the `register`ed instances. Uses
 * the public engine API only. */
#include "spectest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    wa_extern ext;
} st_entry;

typedef struct {
    char *name;
    wa_instance *in;
} st_reg;

struct st_registry {
    st_entry spectest[16];
    uint32_t nspectest;
    st_reg *regs;
    uint32_t nregs, cap;
};

/* The print functions: the suite only checks that they link and can be called. */
static wa_status print_nothing(wa_instance *caller, void *user, wa_slot *slots)
{
    return WA_OK;
}

static int add_func(st_registry *r, wa_store *s, const char *name, const wa_valtype *params,
                    uint32_t nparams)
{
    wa_functype ft = {.nparams = nparams, .nresults = 0, .params = params, .results = NULL};
    wa_func *f = wa_func_new_host(s, &ft, print_nothing, NULL);
    if (!f) return -1;
    r->spectest[r->nspectest++] = (st_entry){name, {.kind = WA_EXTERN_FUNC, .of.func = f}};
    return 0;
}

static int add_global(st_registry *r, wa_store *s, const char *name, wa_value v)
{
    wa_global *g = wa_global_new(s, v, false);
    if (!g) return -1;
    r->spectest[r->nspectest++] = (st_entry){name, {.kind = WA_EXTERN_GLOBAL, .of.global = g}};
    return 0;
}

st_registry *st_registry_new(wa_store *s)
{
    static const wa_valtype i32[] = {WA_I32}, i64[] = {WA_I64}, f32[] = {WA_F32},
                            f64[] = {WA_F64}, i32_f32[] = {WA_I32, WA_F32},
                            f64_f64[] = {WA_F64, WA_F64};
    st_registry *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    int rc = 0;
    rc |= add_func(r, s, "print", NULL, 0);
    rc |= add_func(r, s, "print_i32", i32, 1);
    rc |= add_func(r, s, "print_i64", i64, 1);
    rc |= add_func(r, s, "print_f32", f32, 1);
    rc |= add_func(r, s, "print_f64", f64, 1);
    rc |= add_func(r, s, "print_i32_f32", i32_f32, 2);
    rc |= add_func(r, s, "print_f64_f64", f64_f64, 2);
    rc |= add_global(r, s, "global_i32", (wa_value){.type = WA_I32, .of.i32 = 666});
    rc |= add_global(r, s, "global_i64", (wa_value){.type = WA_I64, .of.i64 = 666});
    rc |= add_global(r, s, "global_f32", (wa_value){.type = WA_F32, .of.f32 = 666.6f});
    rc |= add_global(r, s, "global_f64", (wa_value){.type = WA_F64, .of.f64 = 666.6});
    wa_table *t = wa_table_new(s, WA_FUNCREF, (wa_lim){.min = 10, .max = 20, .has_max = true});
    wa_memory *mem = wa_memory_new(s, (wa_lim){.min = 1, .max = 2, .has_max = true});
    if (rc != 0 || !t || !mem) {
        fprintf(stderr, "spectest: the engine could not create the spectest module's objects\n");
        free(r);
        return NULL;
    }
    r->spectest[r->nspectest++] = (st_entry){"table", {.kind = WA_EXTERN_TABLE, .of.table = t}};
    r->spectest[r->nspectest++] =
        (st_entry){"memory", {.kind = WA_EXTERN_MEMORY, .of.memory = mem}};
    return r;
}

void st_registry_free(st_registry *r)
{
    if (!r) return;
    for (uint32_t i = 0; i < r->nregs; i++)
        free(r->regs[i].name);
    free(r->regs);
    free(r);
}

int st_registry_add(st_registry *r, const char *name, wa_instance *in)
{
    if (r->nregs == r->cap) {
        uint32_t cap = r->cap ? r->cap * 2 : 8;
        st_reg *regs = realloc(r->regs, cap * sizeof *regs);
        if (!regs) return -1;
        r->regs = regs;
        r->cap = cap;
    }
    char *copy = strdup(name);
    if (!copy) return -1;
    r->regs[r->nregs++] = (st_reg){copy, in};
    return 0;
}

/* Finds (module, name): true with *out set, false if nothing is registered under it. */
static bool lookup(const st_registry *r, const char *module, const char *name, wa_extern *out)
{
    for (uint32_t i = r->nregs; i-- > 0;) {
        if (strcmp(r->regs[i].name, module) == 0)
            return wa_instance_export(r->regs[i].in, name, out);
    }
    if (strcmp(module, "spectest") != 0) return false;
    for (uint32_t i = 0; i < r->nspectest; i++) {
        if (strcmp(r->spectest[i].name, name) == 0) {
            *out = r->spectest[i].ext;
            return true;
        }
    }
    return false;
}

static wa_status unlinkable(wa_error *err, const char *what, const char *module, const char *name)
{
    if (err) {
        err->status = WA_EUNLINKABLE;
        err->trap = WA_TRAP_NONE;
        err->offset = UINT32_MAX;
        snprintf(err->msg, sizeof err->msg, "%s: \"%s\" \"%s\"", what, module, name);
    }
    return WA_EUNLINKABLE;
}

wa_status st_registry_resolve(const st_registry *r, const wa_module *m, wa_extern *imports,
                              wa_error *err)
{
    uint32_t n = wa_module_import_count(m);
    for (uint32_t i = 0; i < n; i++) {
        const char *module = NULL, *name = NULL;
        wa_extern_kind kind;
        wa_module_import_info(m, i, &module, &name, &kind);
        if (!module || !name || !lookup(r, module, name, &imports[i]))
            return unlinkable(err, "unknown import", module ? module : "?", name ? name : "?");
        if (imports[i].kind != kind)
            return unlinkable(err, "incompatible import type", module, name);
    }
    return WA_OK;
}
