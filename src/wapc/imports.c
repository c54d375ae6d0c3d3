/* imports.c — the nine `wapc` host functions (WAPC.md §2), also offered as `wasmbus.*`. Every
 * (ptr, len) is bounds-checked against the memory size read at that moment (64-bit arithmetic in
 * wa_memory_span); out of range traps the guest. Guest bytes are copied in and out, never kept. */
#include "internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint8_t *ap_wapc__span(ap_wapc_instance *inst, wa_instance *caller, uint32_t ptr, uint32_t len)
{
    wa_instance *in = caller ? caller : inst->wasm;
    if (!in)
        return NULL;
    return wa_memory_span(in, ptr, len);
}

wa_status ap_wapc__trap(ap_wapc_instance *inst, wa_trap kind, const char *fmt, ...)
{
    ap_buf_reset(&inst->trap_reason);
    va_list ap;
    va_start(ap, fmt);
    char small[192];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof small) {
        /* Longer than the engine's record: keep the whole text beside it. */
        va_start(ap, fmt);
        char *big = malloc((size_t)n + 1);
        if (big) {
            vsnprintf(big, (size_t)n + 1, fmt, ap);
            ap_buf_append(&inst->trap_reason, big, (size_t)n);
            free(big);
        }
        va_end(ap);
    } else if (n > 0) {
        ap_buf_append(&inst->trap_reason, small, (size_t)n);
    }
    return wa_host_trap(kind, small);
}

void ap_wapc__log(ap_wapc_instance *inst, const uint8_t *msg, size_t len)
{
    if (inst->log) {
        inst->log(inst->log_user, inst, (ap_bytes){msg, len});
        return;
    }
    fprintf(stderr, "%s: %.*s\n", inst->name, (int)(len > INT32_MAX ? INT32_MAX : len),
            (const char *)msg);
}

static wa_status oob(ap_wapc_instance *inst, const char *fn, uint32_t ptr, uint64_t len)
{
    return ap_wapc__trap(inst, WA_TRAP_MEMORY_OOB,
                         "out of bounds memory access (%s: %" PRIu32 "+%" PRIu64 ")", fn, ptr, len);
}

/* Copies src into guest memory at ptr; nothing (and no check) for an empty src (WAPC.md §7). */
static wa_status copy_out(ap_wapc_instance *inst, wa_instance *caller, const char *fn, uint32_t ptr,
                          const uint8_t *src, size_t len)
{
    if (len == 0)
        return WA_OK;
    if (len > UINT32_MAX)
        return oob(inst, fn, ptr, len);
    uint8_t *dst = ap_wapc__span(inst, caller, ptr, (uint32_t)len);
    if (!dst)
        return oob(inst, fn, ptr, len);
    memcpy(dst, src, len);
    return WA_OK;
}

/* Appends guest memory [ptr, ptr+len) to b; false with the trap raised when out of range. */
static wa_status copy_in(ap_wapc_instance *inst, wa_instance *caller, const char *fn, uint32_t ptr,
                         uint32_t len, ap_buf *b)
{
    if (len == 0)
        return WA_OK;
    const uint8_t *src = ap_wapc__span(inst, caller, ptr, len);
    if (!src)
        return oob(inst, fn, ptr, len);
    if (!ap_buf_append(b, src, len))
        return ap_wapc__trap(inst, WA_TRAP_HOST, "%s: out of host memory", fn);
    return WA_OK;
}

/* __guest_request(op_ptr, payload_ptr) */
static wa_status guest_request(wa_instance *caller, void *user, wa_slot *s)
{
    ap_wapc_instance *inst = user;
    if (!inst->call.active)
        return WA_OK; /* WAPC.md §2.1 OURS: outside an invocation, write nothing */
    wa_status st =
        copy_out(inst, caller, "__guest_request", s[0].i32, inst->call.op.ptr, inst->call.op.len);
    if (st != WA_OK)
        return st;
    return copy_out(inst, caller, "__guest_request", s[1].i32, inst->call.payload.ptr,
                    inst->call.payload.len);
}

/* __guest_response(ptr, len) */
static wa_status guest_response(wa_instance *caller, void *user, wa_slot *s)
{
    ap_wapc_instance *inst = user;
    ap_buf_reset(&inst->call.guest_response);
    inst->call.has_guest_response = true;
    return copy_in(inst, caller, "__guest_response", s[0].i32, s[1].i32,
                   &inst->call.guest_response);
}

/* __guest_error(ptr, len) */
static wa_status guest_error(wa_instance *caller, void *user, wa_slot *s)
{
    ap_wapc_instance *inst = user;
    ap_buf_reset(&inst->call.guest_error);
    return copy_in(inst, caller, "__guest_error", s[0].i32, s[1].i32, &inst->call.guest_error);
}

/* __host_call(bd_ptr, bd_len, ns_ptr, ns_len, op_ptr, op_len, pl_ptr, pl_len) -> 0/1 */
static wa_status host_call(wa_instance *caller, void *user, wa_slot *s)
{
    ap_wapc_instance *inst = user;
    wapc_call_state *c = &inst->call;
    if (++c->host_calls > inst->max_host_calls)
        return ap_wapc__trap(inst, WA_TRAP_HOST, "host call limit exceeded (%" PRIu32 ")",
                             inst->max_host_calls);
    /* Clear both before dispatch (WAPC.md §2.3 OURS). */
    ap_buf_reset(&c->host_response);
    ap_buf_reset(&c->host_error);

    /* The four regions are copied into one scratch buffer; offsets, not pointers, until it stops
     * growing. */
    ap_buf *sc = &inst->scratch;
    ap_buf_reset(sc);
    size_t off[5];
    for (int i = 0; i < 4; i++) {
        off[i] = sc->len;
        wa_status st = copy_in(inst, caller, "__host_call", s[2 * i].i32, s[2 * i + 1].i32, sc);
        if (st != WA_OK)
            return st;
    }
    off[4] = sc->len;
    /* Checked after the copy so that an out-of-range region still reports as such. */
    if (sc->len > inst->max_host_payload)
        return ap_wapc__trap(inst, WA_TRAP_HOST,
                             "host call payload too large (%zu bytes, limit %" PRIu32 ")", sc->len,
                             inst->max_host_payload);
    ap_bytes part[4];
    for (int i = 0; i < 4; i++)
        part[i] =
            (ap_bytes){sc->data ? sc->data + off[i] : (const uint8_t *)"", off[i + 1] - off[i]};
    ap_wapc_call call = {
        .binding = part[0],
        .namespace_ = part[1],
        .operation = part[2],
        .payload = part[3],
        .instance = inst,
    };
    ap_wapc_host_status hs =
        ap_wapc_registry_dispatch(inst->registry, &call, &c->host_response, &c->host_error);
    if (c->host_response.len > inst->max_host_payload) {
        ap_buf_reset(&c->host_response);
        ap_buf_reset(&c->host_error);
        ap_buf_append_str(&c->host_error, "host response too large");
        hs = AP_WAPC_HOST_ERROR;
    }
    if (hs == AP_WAPC_HOST_OK) {
        ap_buf_reset(&c->host_error);
        s[0].i32 = 1;
        return WA_OK;
    }
    if (c->host_error.len == 0 || c->host_error.len > UINT32_MAX) {
        ap_buf_reset(&c->host_error);
        ap_buf_append_str(&c->host_error, "host call failed");
    }
    s[0].i32 = 0;
    return WA_OK;
}

/* __host_response_len() -> i32 */
static wa_status host_response_len(wa_instance *caller, void *user, wa_slot *s)
{
    ap_wapc_instance *inst = user;
    s[0].i32 = (uint32_t)inst->call.host_response.len;
    return WA_OK;
}

/* __host_response(ptr) */
static wa_status host_response(wa_instance *caller, void *user, wa_slot *s)
{
    ap_wapc_instance *inst = user;
    return copy_out(inst, caller, "__host_response", s[0].i32, inst->call.host_response.data,
                    inst->call.host_response.len);
}

/* __host_error_len() -> i32 */
static wa_status host_error_len(wa_instance *caller, void *user, wa_slot *s)
{
    ap_wapc_instance *inst = user;
    s[0].i32 = (uint32_t)inst->call.host_error.len;
    return WA_OK;
}

/* __host_error(ptr) */
static wa_status host_error(wa_instance *caller, void *user, wa_slot *s)
{
    ap_wapc_instance *inst = user;
    return copy_out(inst, caller, "__host_error", s[0].i32, inst->call.host_error.data,
                    inst->call.host_error.len);
}

/* __console_log(ptr, len) */
static wa_status console_log(wa_instance *caller, void *user, wa_slot *s)
{
    ap_wapc_instance *inst = user;
    uint32_t ptr = s[0].i32, len = s[1].i32;
    const uint8_t *msg = len ? ap_wapc__span(inst, caller, ptr, len) : (const uint8_t *)"";
    if (!msg)
        return oob(inst, "__console_log", ptr, len);
    /* Copied first: a log sink may be slow or keep the text. */
    ap_buf_reset(&inst->scratch);
    if (!ap_buf_append(&inst->scratch, msg, len))
        return ap_wapc__trap(inst, WA_TRAP_HOST, "__console_log: out of host memory");
    ap_wapc__log(inst, inst->scratch.data ? inst->scratch.data : (const uint8_t *)"", len);
    return WA_OK;
}

static const struct {
    const char *name;
    const char *params, *results;
    wa_host_fn fn;
} wapc_funcs[] = {
    {"__guest_request", "ii", "", guest_request},
    {"__guest_response", "ii", "", guest_response},
    {"__guest_error", "ii", "", guest_error},
    {"__host_call", "iiiiiiii", "i", host_call},
    {"__host_response_len", "", "i", host_response_len},
    {"__host_response", "i", "", host_response},
    {"__host_error_len", "", "i", host_error_len},
    {"__host_error", "i", "", host_error},
    {"__console_log", "ii", "", console_log},
};

bool ap_wapc__type_is(const wa_functype *t, const char *params, const char *results)
{
    static const struct {
        char c;
        wa_valtype t;
    } map[] = {{'i', WA_I32}, {'I', WA_I64}, {'f', WA_F32}, {'F', WA_F64}};
    const char *want[2] = {params, results};
    const wa_valtype *have[2] = {t->params, t->results};
    uint32_t n[2] = {t->nparams, t->nresults};
    for (int k = 0; k < 2; k++) {
        if (strlen(want[k]) != n[k])
            return false;
        for (uint32_t i = 0; i < n[k]; i++) {
            bool ok = false;
            for (size_t m = 0; m < sizeof map / sizeof map[0]; m++)
                if (map[m].c == want[k][i] && map[m].t == have[k][i])
                    ok = true;
            if (!ok)
                return false;
        }
    }
    return true;
}

wapc_resolved ap_wapc__host(ap_wapc_instance *inst, const wa_functype *want, const char *params,
                            const char *results, wa_host_fn fn, void *user, wa_func **out)
{
    if (!ap_wapc__type_is(want, params, results))
        return WAPC_RESOLVE_BADTYPE;
    *out = wa_func_new_host(inst->store, want, fn, user);
    return *out ? WAPC_RESOLVE_OK : WAPC_RESOLVE_NOMEM;
}

wapc_resolved ap_wapc__resolve_wapc(ap_wapc_instance *inst, const char *name,
                                    const wa_functype *want, wa_func **out)
{
    for (size_t i = 0; i < sizeof wapc_funcs / sizeof wapc_funcs[0]; i++)
        if (strcmp(name, wapc_funcs[i].name) == 0)
            return ap_wapc__host(inst, want, wapc_funcs[i].params, wapc_funcs[i].results,
                                 wapc_funcs[i].fn, inst, out);
    return WAPC_RESOLVE_NONE;
}
