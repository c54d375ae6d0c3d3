/* global.c — global variables: creation and the host's typed get/set. The interpreter reads and
 * writes `val` directly. */
#include "runtime.h"

#include <stdlib.h>
#include <string.h>

wa_global *wa_global_create(uint8_t type, bool mut, const wa_slot val[2])
{
    wa_global *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->type = type;
    g->mut = mut;
    g->val[0] = val[0];
    g->val[1] = val[1];
    return g;
}

static bool value_to_slots(wa_value v, wa_slot out[2])
{
    out[0].i64 = out[1].i64 = 0;
    switch (v.type) {
    case WA_I32: out[0].i32 = v.of.i32; return true;
    case WA_I64: out[0].i64 = v.of.i64; return true;
    case WA_F32: out[0].f32 = v.of.f32; return true;
    case WA_F64: out[0].f64 = v.of.f64; return true;
    case WA_V128: memcpy(out, v.of.v128, 16); return true;
    case WA_FUNCREF: out[0].ref = v.of.func; return true;
    case WA_EXTERNREF: out[0].ref = v.of.ext; return true;
    }
    return false;
}

static void free_global(void *p) { free(p); }

wa_global *wa_global_new(wa_store *s, wa_value init, bool mutable_)
{
    wa_slot val[2];
    if (!s || !value_to_slots(init, val))
        return NULL;
    wa_global *g = wa_global_create((uint8_t)init.type, mutable_, val);
    if (!g || !wa_store_track(s, free_global, g))
        return NULL;
    return g;
}

wa_value wa_global_get(const wa_global *g)
{
    wa_value v;
    memset(&v, 0, sizeof v);
    v.type = (wa_valtype)g->type;
    switch (g->type) {
    case WA_I32: v.of.i32 = g->val[0].i32; break;
    case WA_I64: v.of.i64 = g->val[0].i64; break;
    case WA_F32: v.of.f32 = g->val[0].f32; break;
    case WA_F64: v.of.f64 = g->val[0].f64; break;
    case WA_V128: memcpy(v.of.v128, g->val, 16); break;
    case WA_FUNCREF: v.of.func = g->val[0].ref; break;
    case WA_EXTERNREF: v.of.ext = g->val[0].ref; break;
    }
    return v;
}

/* A mismatched type or an immutable global is the host's mistake (the spec's global_write fails):
 * WA_EINVALID, and the global is left unchanged rather than reinterpreted. */
wa_status wa_global_set(wa_global *g, wa_value v)
{
    wa_slot val[2];
    if (!g || !g->mut || v.type != g->type || !value_to_slots(v, val))
        return WA_EINVALID;
    g->val[0] = val[0];
    g->val[1] = val[1];
    return WA_OK;
}
