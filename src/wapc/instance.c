/* instance.c — one waPC guest instance: import resolution, start-up (WAPC.md §4 OURS), and the
 * invocation sequence with its outcome rules (§3.2, §6.3). An instance whose call trapped is
 * poisoned and answers every later call with AP_WAPC_TRAP: the pool frees it. */
#include "internal.h"

#include "wasi/wasi.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void state_free(wapc_call_state *c)
{
    ap_buf_free(&c->guest_response);
    ap_buf_free(&c->guest_error);
    ap_buf_free(&c->host_response);
    ap_buf_free(&c->host_error);
}

void ap_wapc_instance_free(ap_wapc_instance *inst)
{
    if (!inst)
        return;
    wa_store_free(inst->store);
    ap_wasi_free(inst->own_wasi);
    ap_wapc_module_unref(inst->module);
    state_free(&inst->call);
    ap_buf_free(&inst->trap_reason);
    ap_buf_free(&inst->scratch);
    ap_buf_free(&inst->error_text);
    free(inst->name);
    free(inst);
}

/* ---- Imports ---- */

static ap_wapc_status resolve_imports(ap_wapc_instance *inst, wa_extern *imports, ap_errbuf *err)
{
    const wa_module *m = inst->module->wasm;
    uint32_t n = wa_module_import_count(m);
    for (uint32_t i = 0; i < n; i++) {
        const char *mod, *name;
        wa_extern_kind kind;
        wa_functype ft;
        wa_module_import_info(m, i, &mod, &name, &kind);
        if (kind != WA_EXTERN_FUNC || !wa_module_import_functype(m, i, &ft)) {
            ap_errbuf_set(err, "unknown import %s.%s (only functions are provided)", mod, name);
            return AP_WAPC_UNLINKABLE;
        }
        wa_func *f = NULL;
        wapc_resolved r = WAPC_RESOLVE_NONE;
        /* wasmbus: wasmCloud's name for the same nine functions (WAPC.md §9). */
        if (strcmp(mod, "wapc") == 0 || strcmp(mod, "wasmbus") == 0)
            r = ap_wapc__resolve_wapc(inst, name, &ft, &f);
        else if (strcmp(mod, "env") == 0)
            r = ap_wapc__resolve_env(inst, name, &ft, &f);
        else if (ap_wasi_is_wasi_module(mod)) {
            f = ap_wasi_resolve(inst->wasi, inst->store, mod, name, &ft);
            if (f)
                r = WAPC_RESOLVE_OK;
            else if (ap_wasi_resolve(inst->wasi, inst->store, mod, name, NULL))
                r = WAPC_RESOLVE_BADTYPE; /* the name is WASI's; the type is not */
        }
        switch (r) {
        case WAPC_RESOLVE_OK:
            imports[i].kind = WA_EXTERN_FUNC;
            imports[i].of.func = f;
            break;
        case WAPC_RESOLVE_NONE:
            ap_errbuf_set(err, "unknown import %s.%s", mod, name);
            return AP_WAPC_UNLINKABLE;
        case WAPC_RESOLVE_BADTYPE:
            ap_errbuf_set(err, "import %s.%s has the wrong type", mod, name);
            return AP_WAPC_UNLINKABLE;
        case WAPC_RESOLVE_NOMEM:
            ap_errbuf_set(err, "out of memory");
            return AP_WAPC_NOMEM;
        }
    }
    return AP_WAPC_OK;
}

/* ---- Start-up ---- */

/* The reason of a failed call: a host function's full text if it raised one, else the engine's. */
static void trap_text(ap_wapc_instance *inst, const wa_error *we, ap_buf *out)
{
    if (inst->trap_reason.len)
        ap_buf_append(out, inst->trap_reason.data, inst->trap_reason.len);
    else
        ap_buf_append_str(out, we->msg[0] ? we->msg : wa_trap_text(we->trap));
}

/* Calls the start-up export `name` (type () -> ()). proc_exit(0) ends it normally (TinyGo ≥ 0.35
 * command modules, WAPC.md §4 OURS rule 4). */
static ap_wapc_status run_init(ap_wapc_instance *inst, const char *name, ap_errbuf *err)
{
    wa_func *f = wa_instance_func(inst->wasm, name);
    if (!f)
        return AP_WAPC_OK;
    wa_functype ft;
    wa_func_type(f, &ft);
    if (ft.nparams || ft.nresults) {
        ap_errbuf_set(err, "init function %s has the wrong type (want () -> ())", name);
        return AP_WAPC_INIT_FAILED;
    }
    ap_buf_reset(&inst->trap_reason);
    wa_error we;
    wa_status st = wa_call(f, NULL, 0, NULL, &we);
    if (st == WA_OK)
        return AP_WAPC_OK;
    if (st == WA_ETRAP && we.trap == WA_TRAP_EXIT) {
        if (we.exit_code == 0)
            return AP_WAPC_OK;
        if (inst->tarmac_texts)
            ap_errbuf_set(err, "module closed with exit_code(%" PRId32 ")", we.exit_code);
        else
            ap_errbuf_set(err, "init function %s failed: exited with code %" PRId32, name,
                          we.exit_code);
        return AP_WAPC_INIT_FAILED;
    }
    if (st == WA_ETRAP)
        inst->start_trap = we.trap;
    ap_buf why = {0};
    trap_text(inst, &we, &why);
    ap_errbuf_set(err, inst->tarmac_texts ? "error calling %s: %s" : "init function %s failed: %s",
                  name, why.data ? (char *)why.data : "");
    ap_buf_free(&why);
    return st == WA_ENOMEM ? AP_WAPC_NOMEM : AP_WAPC_INIT_FAILED;
}

static ap_wapc_status start_up(ap_wapc_instance *inst, ap_errbuf *err)
{
    const ap_wapc_module *m = inst->module;
    ap_wapc_status st = AP_WAPC_OK;
    if (m->has_initialize) {
        if (m->has_start) {
            static const char warn[] =
                "exports both _initialize and _start: calling _initialize only";
            ap_wapc__log(inst, (const uint8_t *)warn, sizeof warn - 1);
        }
        st = run_init(inst, "_initialize", err);
    } else if (m->has_start) {
        st = run_init(inst, "_start", err);
    }
    if (st == AP_WAPC_OK && m->has_wapc_init)
        st = run_init(inst, "wapc_init", err);
    return st;
}

ap_wapc_status ap_wapc_instance_create(ap_wapc_module *m, const ap_wapc_config *cfg,
                                       ap_wapc_instance **out, ap_errbuf *err)
{
    static const ap_wapc_config defaults = {0};
    if (!cfg)
        cfg = &defaults;
    ap_wapc_instance *inst = calloc(1, sizeof *inst);
    if (!inst)
        goto nomem;
    inst->module = ap_wapc_module_ref(m);
    inst->name = strdup(cfg->name ? cfg->name : "guest");
    if (!inst->name)
        goto nomem;
    inst->registry = cfg->registry;
    inst->log = cfg->log;
    inst->log_user = cfg->log_user;
    inst->max_host_calls =
        cfg->max_host_calls ? cfg->max_host_calls : AP_WAPC_DEFAULT_MAX_HOST_CALLS;
    inst->max_host_payload =
        cfg->max_host_payload ? cfg->max_host_payload : AP_WAPC_DEFAULT_MAX_HOST_PAYLOAD;
    inst->tarmac_texts = cfg->tarmac_texts;
    inst->wasi = cfg->wasi;
    if (!inst->wasi) {
        if (ap_wasi_new(NULL, &inst->own_wasi) != AP_WASI_OK)
            goto nomem;
        inst->wasi = inst->own_wasi;
    }
    wa_limits lim = cfg->limits;
    if (!lim.max_memory_pages)
        lim.max_memory_pages = AP_WAPC_DEFAULT_MAX_PAGES;
    inst->store = wa_store_new(&lim);
    if (!inst->store)
        goto nomem;
    *out = inst;
    return AP_WAPC_OK;
nomem:
    ap_errbuf_set(err, "out of memory");
    ap_wapc_instance_free(inst);
    return AP_WAPC_NOMEM;
}

ap_wapc_status ap_wapc_instance_start(ap_wapc_instance *inst, ap_errbuf *err)
{
    const ap_wapc_module *m = inst->module;
    if (inst->wasm || inst->started) {
        ap_errbuf_set(err, "instance already started");
        return AP_WAPC_INVALID;
    }
    inst->started = true;
    uint32_t n = wa_module_import_count(m->wasm);
    wa_extern *imports = calloc(n ? n : 1, sizeof *imports);
    if (!imports) {
        ap_errbuf_set(err, "out of memory");
        return AP_WAPC_NOMEM;
    }
    ap_wapc_status rc = resolve_imports(inst, imports, err);
    if (rc != AP_WAPC_OK) {
        free(imports);
        return rc;
    }

    /* Step 1: instantiate, running the start section (AssemblyScript registers there). */
    wa_error we;
    wa_status ws = wa_instance_new(inst->store, m->wasm, imports, inst, &inst->wasm, &we);
    free(imports);
    if (ws != WA_OK) {
        inst->wasm = NULL;
        if (ws == WA_ETRAP) {
            ap_buf why = {0};
            if (we.trap == WA_TRAP_EXIT)
                ap_buf_printf(&why, "exited with code %" PRId32, we.exit_code);
            else
                trap_text(inst, &we, &why);
            ap_errbuf_set(err, "start function failed: %s", why.data ? (char *)why.data : "");
            ap_buf_free(&why);
            inst->start_trap = we.trap;
            return AP_WAPC_INIT_FAILED;
        }
        ap_errbuf_set(err, "instantiation failed: %s", we.msg);
        return ws == WA_ENOMEM ? AP_WAPC_NOMEM : AP_WAPC_UNLINKABLE;
    }

    inst->guest_call = wa_instance_func(inst->wasm, "__guest_call");
    wa_functype ft;
    if (inst->guest_call)
        wa_func_type(inst->guest_call, &ft);
    if (!inst->guest_call || !ap_wapc__type_is(&ft, "ii", "i")) {
        ap_errbuf_set(err, "not a waPC guest: __guest_call must have type (i32, i32) -> i32");
        return AP_WAPC_INVALID;
    }
    /* Steps 2-4. */
    return start_up(inst, err);
}

ap_wapc_status ap_wapc_instance_new(ap_wapc_module *m, const ap_wapc_config *cfg,
                                    ap_wapc_instance **out, ap_errbuf *err)
{
    ap_wapc_instance *inst;
    ap_wapc_status rc = ap_wapc_instance_create(m, cfg, &inst, err);
    if (rc != AP_WAPC_OK)
        return rc;
    if ((rc = ap_wapc_instance_start(inst, err)) != AP_WAPC_OK) {
        ap_wapc_instance_free(inst);
        return rc;
    }
    *out = inst;
    return AP_WAPC_OK;
}

wa_trap ap_wapc_start_trap(const ap_wapc_instance *inst) { return inst->start_trap; }

/* ---- Invocation ---- */

static void call_reset(wapc_call_state *c, ap_bytes op, ap_bytes payload)
{
    c->op = op;
    c->payload = payload;
    ap_buf_reset(&c->guest_response);
    c->has_guest_response = false;
    ap_buf_reset(&c->guest_error);
    ap_buf_reset(&c->host_response);
    ap_buf_reset(&c->host_error);
    c->host_calls = 0;
}

/* Sets the invocation's error text (in full in error_text, truncated in err). */
static void set_error(ap_wapc_instance *inst, ap_errbuf *err)
{
    const ap_buf *et = &inst->error_text;
    ap_errbuf_set(err, "%.*s", (int)(et->len > 255 ? 255 : et->len),
                  et->data ? (const char *)et->data : "");
}

ap_wapc_status ap_wapc_invoke(ap_wapc_instance *inst, ap_bytes op, ap_bytes payload,
                              ap_buf *response, ap_errbuf *err)
{
    ap_buf *et = &inst->error_text;
    ap_buf_reset(et);
    inst->last_trap = WA_TRAP_NONE;
    if (inst->poisoned) {
        ap_buf_append_str(et, "instance trapped earlier and cannot be reused");
        set_error(inst, err);
        return AP_WAPC_TRAP;
    }
    if (op.len > UINT32_MAX || payload.len > UINT32_MAX) {
        ap_buf_append_str(et, "operation or payload larger than 4 GiB");
        set_error(inst, err);
        return AP_WAPC_GUEST_ERROR;
    }
    wapc_call_state *c = &inst->call;
    call_reset(c, op, payload);
    c->active = true;
    ap_buf_reset(&inst->trap_reason);

    wa_value args[2] = {{.type = WA_I32, .of.i32 = (uint32_t)op.len},
                        {.type = WA_I32, .of.i32 = (uint32_t)payload.len}};
    wa_value rc = {.type = WA_I32};
    wa_error we;
    wa_status st = wa_call(inst->guest_call, args, 2, &rc, &we);
    c->active = false;
    c->op = c->payload = (ap_bytes){NULL, 0};

    ap_wapc_status out;
    if (st == WA_ETRAP && we.trap == WA_TRAP_EXIT && inst->tarmac_texts &&
        (c->has_guest_response || we.exit_code == 0)) {
        /* TARMAC.md §11.2: proc_exit ends the call; a response the guest already gave is the
         * answer, whatever the code; without one, exit(0) is success with no payload (§1.5, as
         * Tarmac's engine) and another code the error below. The instance is discarded either
         * way: the guest runtime believes it has ended. */
        inst->poisoned = true;
        if (c->has_guest_response && c->guest_response.len &&
            !ap_buf_append(response, c->guest_response.data, c->guest_response.len)) {
            ap_buf_append_str(et, "out of memory");
            set_error(inst, err);
            return AP_WAPC_NOMEM;
        }
        return AP_WAPC_OK;
    }
    if (st != WA_OK) {
        /* WAPC.md §6.3 rule 1; a trap poisons the instance (rule 5). */
        inst->poisoned = true;
        inst->last_trap = st == WA_ETRAP ? we.trap : WA_TRAP_HOST;
        if (st == WA_ETRAP && we.trap == WA_TRAP_EXIT) {
            ap_buf_printf(et, "guest exited with code %" PRId32, we.exit_code);
        } else {
            ap_buf_append_str(et,
                              inst->tarmac_texts ? "error invoking guest: " : "guest trapped: ");
            size_t start = et->len;
            if (st == WA_ETRAP)
                trap_text(inst, &we, et);
            else
                ap_buf_append_str(et, we.msg);
            /* AssemblyScript records a message and then traps: keep both. */
            const ap_buf *ge = &c->guest_error;
            if (!inst->tarmac_texts && ge->len &&
                !(et->len - start == ge->len && memcmp(et->data + start, ge->data, ge->len) == 0)) {
                ap_buf_append_str(et, ": ");
                ap_buf_append(et, ge->data, ge->len);
            }
        }
        out = AP_WAPC_TRAP;
    } else if (c->guest_error.len) {
        /* Rules 3 and 4: a non-empty guest error fails the call whatever __guest_call returned. */
        ap_buf_append(et, c->guest_error.data, c->guest_error.len);
        out = AP_WAPC_GUEST_ERROR;
    } else if (rc.of.i32 == 1) {
        if (c->guest_response.len &&
            !ap_buf_append(response, c->guest_response.data, c->guest_response.len)) {
            ap_buf_append_str(et, "out of memory");
            set_error(inst, err);
            return AP_WAPC_NOMEM;
        }
        return AP_WAPC_OK;
    } else {
        ap_buf_append_str(et, "call to \"");
        ap_buf_append(et, op.ptr, op.len);
        ap_buf_append_str(et, "\" was unsuccessful");
        out = AP_WAPC_GUEST_ERROR;
    }
    set_error(inst, err);
    return out;
}

ap_bytes ap_wapc_error_text(const ap_wapc_instance *inst)
{
    return (ap_bytes){inst->error_text.data ? inst->error_text.data : (const uint8_t *)"",
                      inst->error_text.len};
}

bool ap_wapc_instance_poisoned(const ap_wapc_instance *inst) { return inst->poisoned; }
void ap_wapc_interrupt(ap_wapc_instance *inst) { wa_store_interrupt(inst->store); }
void ap_wapc_expire(ap_wapc_instance *inst) { wa_store_expire(inst->store); }
wa_trap ap_wapc_last_trap(const ap_wapc_instance *inst) { return inst->last_trap; }

ap_wapc_status ap_wapc_instance_snapshot(ap_wapc_instance *inst, ap_errbuf *err)
{
    wa_error we;
    wa_status st = wa_instance_snapshot(inst->wasm, &we);
    if (st == WA_OK)
        return AP_WAPC_OK;
    ap_errbuf_set(err, "snapshot: %s", we.msg);
    return st == WA_ENOMEM ? AP_WAPC_NOMEM : AP_WAPC_INVALID;
}

/* The per-invocation state is reset by every invoke; only the guest's side needs restoring. */
bool ap_wapc_instance_reset(ap_wapc_instance *inst)
{
    return !inst->poisoned && wa_instance_reset(inst->wasm) == WA_OK;
}
void ap_wapc_instance_set_context(ap_wapc_instance *inst, void *ctx) { inst->context = ctx; }
void *ap_wapc_instance_context(const ap_wapc_instance *inst) { return inst->context; }
const char *ap_wapc_instance_name(const ap_wapc_instance *inst) { return inst->name; }
wa_instance *ap_wapc_instance_wasm(ap_wapc_instance *inst) { return inst->wasm; }
