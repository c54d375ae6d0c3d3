/* call.c — calls from the host into the engine: typed values to slots and back (wa_call), the raw
 * slot form, and function types as the public API describes them. Execution itself is wa_invoke
 * (interp.c). */
#include "runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Function types ---- */

/* The wa_valtype view lives in the interned signature, so the pointers never dangle. */
void wa_func_type(const wa_func *f, wa_functype *out)
{
    const wa_valtype *vt = wa_sig_valtypes(f->sig);
    out->nparams = f->sig->nparams;
    out->nresults = f->sig->nresults;
    out->params = vt;
    out->results = vt + f->sig->nparams;
}

/* ---- Calls ---- */

/* The outermost call on a thread clears a stale interrupt and takes the store's stack limits;
 * nested calls (host → guest → host → guest) must not clear an interrupt aimed at the outer one. */
static wa_exec *enter(wa_func *f, wa_error *err)
{
    wa_exec *e = wa_exec_get();
    if (!e) {
        wa_err(err, WA_ENOMEM, UINT32_MAX, "out of memory");
        return NULL;
    }
    if (e->depth == 0 && f->inst) {
        wa_store *s = f->inst->store;
        /* relaxed, and no write when clear: this is on every call's path */
        if (atomic_load_explicit(&s->interrupt, memory_order_relaxed))
            atomic_store_explicit(&s->interrupt, 0, memory_order_relaxed);
        bool same = s->lim.max_call_depth == e->max_depth &&
                    s->lim.max_stack_slots == (uint32_t)(e->stack_end - e->stack);
        if (!same && !wa_exec_configure(e, s->lim.max_call_depth, s->lim.max_stack_slots)) {
            wa_err(err, WA_ENOMEM, UINT32_MAX, "out of memory");
            return NULL;
        }
    }
    return e;
}

/* The interpreter knows one interrupt trap; a deadline (wa_store_expire) gets its own text here,
 * read from the flag, which stays set until the next outermost call. */
static void name_interrupt(const wa_func *f, wa_error *err)
{
    if (err && err->trap == WA_TRAP_INTERRUPTED && f->inst &&
        atomic_load(&f->inst->store->interrupt) == WA_INTERRUPT_DEADLINE) {
        err->trap = WA_TRAP_DEADLINE;
        snprintf(err->msg, sizeof err->msg, "%s", wa_trap_text(WA_TRAP_DEADLINE));
    }
}

wa_status wa_call_slots(wa_func *f, wa_slot *slots, wa_error *err)
{
    wa_exec *e = enter(f, err);
    if (!e)
        return WA_ENOMEM;
    wa_status st = wa_invoke(e, f, slots, err);
    if (st == WA_ETRAP)
        name_interrupt(f, err);
    return st;
}

static void value_to_slots(const wa_value *v, wa_slot *s)
{
    switch (v->type) {
    case WA_I32:
        s->i64 = 0;
        s->i32 = v->of.i32;
        break;
    case WA_I64: s->i64 = v->of.i64; break;
    case WA_F32:
        s->i64 = 0;
        s->f32 = v->of.f32;
        break;
    case WA_F64: s->f64 = v->of.f64; break;
    case WA_V128: memcpy(s, v->of.v128, 16); break;
    case WA_FUNCREF: s->ref = v->of.func; break;
    case WA_EXTERNREF: s->ref = v->of.ext; break;
    }
}

static void slots_to_value(uint8_t type, const wa_slot *s, wa_value *v)
{
    memset(v, 0, sizeof *v);
    v->type = (wa_valtype)type;
    switch (type) {
    case WA_I32: v->of.i32 = s->i32; break;
    case WA_I64: v->of.i64 = s->i64; break;
    case WA_F32: v->of.f32 = s->f32; break;
    case WA_F64: v->of.f64 = s->f64; break;
    case WA_V128: memcpy(v->of.v128, s, 16); break;
    case WA_FUNCREF: v->of.func = s->ref; break;
    case WA_EXTERNREF: v->of.ext = s->ref; break;
    }
}

wa_status wa_call(wa_func *f, const wa_value *args, uint32_t nargs, wa_value *results,
                  wa_error *err)
{
    const wa_sig *sig = f->sig;
    if (nargs != sig->nparams)
        return wa_err(err, WA_EINVALID, UINT32_MAX, "type mismatch");
    for (uint32_t i = 0; i < nargs; i++)
        if (args[i].type != wa_sig_params(sig)[i])
            return wa_err(err, WA_EINVALID, UINT32_MAX, "type mismatch");

    uint32_t n = sig->param_slots > sig->result_slots ? sig->param_slots : sig->result_slots;
    wa_slot local[32], *slots = local;
    if (n > 32 && !(slots = malloc(n * sizeof *slots)))
        return wa_err(err, WA_ENOMEM, UINT32_MAX, "out of memory");
    wa_slot *s = slots;
    for (uint32_t i = 0; i < nargs; i++) {
        value_to_slots(&args[i], s);
        s += wa_type_slots(args[i].type);
    }

    wa_status st = wa_call_slots(f, slots, err);
    if (st == WA_OK) {
        s = slots;
        for (uint32_t i = 0; i < sig->nresults; i++) {
            uint8_t t = wa_sig_results(sig)[i];
            slots_to_value(t, s, &results[i]);
            s += wa_type_slots(t);
        }
    }
    if (slots != local)
        free(slots);
    return st;
}
