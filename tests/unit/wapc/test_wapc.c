/* test_wapc.c — unit tests of src/wapc/: the host-call registry (exact keys, wildcards and their
 * precedence, binding aliases, the unknown-call texts: ours, and Tarmac's for an instance in
 * Tarmac mode) and the invocation sequence in process (host-call dispatch with the guest's
 * strings, full-length error texts, a trap poisoning the instance, the per-invocation context). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "wapc/wapc.h"

/* A guest, from this WAT (wat2wasm 1.0.32), kept as bytes so the test needs no tools:
 *   __guest_call: __guest_request(0, 1024); an operation starting with 't' traps (unreachable);
 *   otherwise __host_call("tarmac", "kvstore", "get", payload): on 1 answers the host response,
 *   on 0 records the payload as guest error and returns 0. */
static const uint8_t guest[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x20, 0x05, 0x60, 0x02, 0x7f, 0x7f, 0x00,
    0x60, 0x08, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x00, 0x01, 0x7f,
    0x60, 0x01, 0x7f, 0x00, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x02, 0x8a, 0x01, 0x06, 0x04, 0x77,
    0x61, 0x70, 0x63, 0x0f, 0x5f, 0x5f, 0x67, 0x75, 0x65, 0x73, 0x74, 0x5f, 0x72, 0x65, 0x71, 0x75,
    0x65, 0x73, 0x74, 0x00, 0x00, 0x04, 0x77, 0x61, 0x70, 0x63, 0x10, 0x5f, 0x5f, 0x67, 0x75, 0x65,
    0x73, 0x74, 0x5f, 0x72, 0x65, 0x73, 0x70, 0x6f, 0x6e, 0x73, 0x65, 0x00, 0x00, 0x04, 0x77, 0x61,
    0x70, 0x63, 0x0d, 0x5f, 0x5f, 0x67, 0x75, 0x65, 0x73, 0x74, 0x5f, 0x65, 0x72, 0x72, 0x6f, 0x72,
    0x00, 0x00, 0x04, 0x77, 0x61, 0x70, 0x63, 0x0b, 0x5f, 0x5f, 0x68, 0x6f, 0x73, 0x74, 0x5f, 0x63,
    0x61, 0x6c, 0x6c, 0x00, 0x01, 0x04, 0x77, 0x61, 0x70, 0x63, 0x13, 0x5f, 0x5f, 0x68, 0x6f, 0x73,
    0x74, 0x5f, 0x72, 0x65, 0x73, 0x70, 0x6f, 0x6e, 0x73, 0x65, 0x5f, 0x6c, 0x65, 0x6e, 0x00, 0x02,
    0x04, 0x77, 0x61, 0x70, 0x63, 0x0f, 0x5f, 0x5f, 0x68, 0x6f, 0x73, 0x74, 0x5f, 0x72, 0x65, 0x73,
    0x70, 0x6f, 0x6e, 0x73, 0x65, 0x00, 0x03, 0x03, 0x02, 0x01, 0x04, 0x05, 0x03, 0x01, 0x00, 0x01,
    0x07, 0x19, 0x02, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x0c, 0x5f, 0x5f, 0x67,
    0x75, 0x65, 0x73, 0x74, 0x5f, 0x63, 0x61, 0x6c, 0x6c, 0x00, 0x06, 0x0a, 0x4f, 0x01, 0x4d, 0x01,
    0x01, 0x7f, 0x41, 0x00, 0x41, 0x80, 0x08, 0x10, 0x00, 0x41, 0x00, 0x2d, 0x00, 0x00, 0x41, 0xf4,
    0x00, 0x46, 0x04, 0x40, 0x00, 0x0b, 0x41, 0xe4, 0x00, 0x41, 0x06, 0x41, 0xea, 0x00, 0x41, 0x07,
    0x41, 0xf1, 0x00, 0x41, 0x03, 0x41, 0x80, 0x08, 0x20, 0x01, 0x10, 0x03, 0x04, 0x40, 0x10, 0x04,
    0x21, 0x02, 0x41, 0x80, 0x20, 0x10, 0x05, 0x41, 0x80, 0x20, 0x20, 0x02, 0x10, 0x01, 0x41, 0x01,
    0x0f, 0x0b, 0x41, 0x80, 0x08, 0x20, 0x01, 0x10, 0x02, 0x41, 0x00, 0x0b, 0x0b, 0x17, 0x01, 0x00,
    0x41, 0xe4, 0x00, 0x0b, 0x10, 0x74, 0x61, 0x72, 0x6d, 0x61, 0x63, 0x6b, 0x76, 0x73, 0x74, 0x6f,
    0x72, 0x65, 0x67, 0x65, 0x74};

static ap_bytes str(const char *s) { return (ap_bytes){(const uint8_t *)s, strlen(s)}; }

static void assert_bytes(ap_bytes b, const char *want)
{
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.ptr, want, b.len);
}

/* ---- registry ---- */

static ap_wapc_host_status answer(void *user, const ap_wapc_call *call, ap_buf *response,
                                  ap_buf *error)
{
    ap_buf_append_str(response, user);
    return AP_WAPC_HOST_OK;
}

static void dispatch_expect(const ap_wapc_registry *reg, const char *b, const char *ns,
                            const char *op, ap_wapc_host_status want_st, const char *want)
{
    ap_wapc_call call = {.binding = str(b), .namespace_ = str(ns), .operation = str(op)};
    ap_buf resp = {0}, err = {0};
    assert_int_equal(ap_wapc_registry_dispatch(reg, &call, &resp, &err), want_st);
    ap_buf *got = want_st == AP_WAPC_HOST_OK ? &resp : &err;
    assert_bytes((ap_bytes){got->data, got->len}, want);
    ap_buf_free(&resp);
    ap_buf_free(&err);
}

static void registry_precedence(void **state)
{
    ap_wapc_registry *reg = ap_wapc_registry_new();
    assert_non_null(reg);
    assert_true(ap_wapc_register(reg, NULL, NULL, NULL, answer, "any"));
    assert_true(ap_wapc_register(reg, "tarmac", NULL, NULL, answer, "tarmac-any"));
    assert_true(ap_wapc_register(reg, "tarmac", "kvstore", "get", answer, "kv-get"));
    assert_true(ap_wapc_register(reg, NULL, "kvstore", "set", answer, "any-kv-set"));
    assert_true(ap_wapc_register(reg, "tarmac", "", "", answer, "empty"));
    assert_true(ap_wapc_registry_alias(reg, "default", "tarmac"));

    dispatch_expect(reg, "tarmac", "kvstore", "get", AP_WAPC_HOST_OK, "kv-get");
    dispatch_expect(reg, "default", "kvstore", "get", AP_WAPC_HOST_OK, "kv-get");
    dispatch_expect(reg, "tarmac", "kvstore", "set", AP_WAPC_HOST_OK, "tarmac-any");
    dispatch_expect(reg, "other", "kvstore", "set", AP_WAPC_HOST_OK, "any-kv-set");
    dispatch_expect(reg, "tarmac", "sql", "query", AP_WAPC_HOST_OK, "tarmac-any");
    dispatch_expect(reg, "tarmac", "", "", AP_WAPC_HOST_OK, "empty");
    dispatch_expect(reg, "x", "y", "z", AP_WAPC_HOST_OK, "any");
    /* Keys compare as exact bytes: a prefix is not a match. */
    dispatch_expect(reg, "tarmac", "kvstore", "gets", AP_WAPC_HOST_OK, "tarmac-any");
    ap_wapc_registry_free(reg);
}

static void registry_unknown(void **state)
{
    ap_wapc_registry *reg = ap_wapc_registry_new();
    assert_true(ap_wapc_register(reg, "tarmac", "logger", "info", answer, "ok"));
    dispatch_expect(reg, "tarmac", "logger", "warn", AP_WAPC_HOST_ERROR,
                    "no host function for tarmac:logger:warn");
    dispatch_expect(reg, "", "", "", AP_WAPC_HOST_ERROR, "no host function for ::");
    dispatch_expect(NULL, "a", "b", "c", AP_WAPC_HOST_ERROR, "no host function for a:b:c");
    ap_wapc_registry_free(reg);
    ap_wapc_registry_free(NULL);
}

/* An unknown key called from an instance with Tarmac's texts fails with Tarmac's "callback not
 * found" (TARMAC.md §1.6), from any other instance with the detailed text. */
static void registry_unknown_tarmac(void **state)
{
    (void)state;
    ap_errbuf err = {{0}};
    ap_wapc_module *mod = NULL;
    assert_int_equal(ap_wapc_module_load(guest, sizeof guest, &mod, &err), AP_WAPC_OK);
    ap_wapc_registry *reg = ap_wapc_registry_new();
    assert_true(ap_wapc_register(reg, "tarmac", "logger", "info", answer, "ok"));
    for (int tarmac = 0; tarmac < 2; tarmac++) {
        ap_wapc_config cfg = {.name = "unit", .registry = reg, .tarmac_texts = tarmac};
        ap_wapc_instance *inst = NULL;
        assert_int_equal(ap_wapc_instance_new(mod, &cfg, &inst, &err), AP_WAPC_OK);
        ap_wapc_call call = {.binding = str("tarmac"), .namespace_ = str("function"),
                             .operation = str("nope"), .instance = inst};
        ap_buf resp = {0}, e = {0};
        assert_int_equal(ap_wapc_registry_dispatch(reg, &call, &resp, &e), AP_WAPC_HOST_ERROR);
        assert_bytes((ap_bytes){e.data, e.len},
                     tarmac ? "callback not found" : "no host function for tarmac:function:nope");
        assert_int_equal(resp.len, 0);
        /* A known key is unaffected. */
        ap_buf_reset(&e);
        call.namespace_ = str("logger");
        call.operation = str("info");
        assert_int_equal(ap_wapc_registry_dispatch(reg, &call, &resp, &e), AP_WAPC_HOST_OK);
        assert_bytes((ap_bytes){resp.data, resp.len}, "ok");
        ap_buf_free(&resp);
        ap_buf_free(&e);
        ap_wapc_instance_free(inst);
    }
    ap_wapc_registry_free(reg);
    ap_wapc_module_unref(mod);
}

/* ---- invocations ---- */

typedef struct {
    int calls;
    char seen[64];
    void *ctx;
} recorder;

static ap_wapc_host_status record(void *user, const ap_wapc_call *call, ap_buf *response,
                                  ap_buf *error)
{
    recorder *r = user;
    r->calls++;
    r->ctx = ap_wapc_instance_context(call->instance);
    snprintf(r->seen, sizeof r->seen, "%.*s:%.*s:%.*s", (int)call->binding.len,
             (const char *)call->binding.ptr, (int)call->namespace_.len,
             (const char *)call->namespace_.ptr, (int)call->operation.len,
             (const char *)call->operation.ptr);
    if (call->payload.len == 0) {
        ap_buf_append_str(error, "empty payload");
        return AP_WAPC_HOST_ERROR;
    }
    ap_buf_append_str(response, "<");
    ap_buf_append(response, call->payload.ptr, call->payload.len);
    ap_buf_append_str(response, ">");
    return AP_WAPC_HOST_OK;
}

static void invoke_sequence(void **state)
{
    ap_errbuf err = {{0}};
    ap_wapc_module *mod = NULL;
    assert_int_equal(ap_wapc_module_load(guest, sizeof guest, &mod, &err), AP_WAPC_OK);
    recorder rec = {0};
    ap_wapc_registry *reg = ap_wapc_registry_new();
    assert_true(ap_wapc_register(reg, "tarmac", NULL, NULL, record, &rec));
    ap_wapc_config cfg = {.name = "unit", .registry = reg};
    ap_wapc_instance *inst = NULL;
    assert_int_equal(ap_wapc_instance_new(mod, &cfg, &inst, &err), AP_WAPC_OK);
    assert_string_equal(ap_wapc_instance_name(inst), "unit");
    int ctx;
    ap_wapc_instance_set_context(inst, &ctx);

    ap_buf resp = {0};
    assert_int_equal(ap_wapc_invoke(inst, str("get"), str("key"), &resp, &err), AP_WAPC_OK);
    assert_bytes((ap_bytes){resp.data, resp.len}, "<key>");
    assert_string_equal(rec.seen, "tarmac:kvstore:get");
    assert_ptr_equal(rec.ctx, &ctx);

    /* A failing host call: the guest records its payload (empty here) and returns 0. */
    ap_buf_reset(&resp);
    assert_int_equal(ap_wapc_invoke(inst, str("get"), str(""), &resp, &err), AP_WAPC_GUEST_ERROR);
    assert_string_equal(err.msg, "call to \"get\" was unsuccessful");
    assert_int_equal(resp.len, 0);

    /* A guest error longer than ap_errbuf comes back whole through ap_wapc_error_text. */
    char big[1000];
    memset(big, 'x', sizeof big);
    ap_wapc_registry_free(reg);
    reg = ap_wapc_registry_new(); /* no handlers: every host call fails */
    ap_wapc_instance_free(inst);
    cfg.registry = reg;
    assert_int_equal(ap_wapc_instance_new(mod, &cfg, &inst, &err), AP_WAPC_OK);
    ap_bytes bigb = {(const uint8_t *)big, sizeof big};
    assert_int_equal(ap_wapc_invoke(inst, str("get"), bigb, &resp, &err), AP_WAPC_GUEST_ERROR);
    assert_int_equal(ap_wapc_error_text(inst).len, sizeof big);
    assert_int_equal(strlen(err.msg), sizeof err.msg - 1);
    assert_false(ap_wapc_instance_poisoned(inst));

    /* A trap poisons the instance: later calls do not run. */
    assert_int_equal(ap_wapc_invoke(inst, str("trap"), str("x"), &resp, &err), AP_WAPC_TRAP);
    assert_string_equal(err.msg, "guest trapped: unreachable");
    assert_true(ap_wapc_instance_poisoned(inst));
    assert_int_equal(ap_wapc_invoke(inst, str("get"), str("x"), &resp, &err), AP_WAPC_TRAP);

    ap_buf_free(&resp);
    ap_wapc_instance_free(inst);
    ap_wapc_module_unref(mod);
    ap_wapc_registry_free(reg);
}

static void module_rejects(void **state)
{
    ap_errbuf err = {{0}};
    ap_wapc_module *mod = NULL;
    static const uint8_t junk[] = {0, 'a', 's', 'm', 9, 9};
    assert_int_equal(ap_wapc_module_load(junk, sizeof junk, &mod, &err), AP_WAPC_INVALID);
    assert_null(mod);
    /* An empty module: valid wasm, but no __guest_call. */
    static const uint8_t empty[] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    assert_int_equal(ap_wapc_module_load(empty, sizeof empty, &mod, &err), AP_WAPC_INVALID);
    assert_string_equal(err.msg, "not a waPC guest: no exported function __guest_call");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(registry_precedence),
        cmocka_unit_test(registry_unknown),
        cmocka_unit_test(registry_unknown_tarmac),
        cmocka_unit_test(invoke_sequence),
        cmocka_unit_test(module_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
