/* test_context.c — unit tests of src/http/context.c's `tarmac:response:status`, called through the
 * waPC registry as a guest's __host_call arrives (outside a request: the code is validated, then
 * has no effect). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "http/http.h"
#include "wapc/wapc.h"

/* The smallest waPC guest: memory and a __guest_call that returns 0 (never called here). */
static const uint8_t guest[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,             /* magic, version */
    0x01, 0x07, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f,       /* type (i32,i32)->i32 */
    0x03, 0x02, 0x01, 0x00,                                     /* func 0: type 0 */
    0x05, 0x03, 0x01, 0x00, 0x01,                               /* memory min 1 */
    0x07, 0x19, 0x02, 0x0c, '_', '_', 'g', 'u', 'e', 's', 't', '_', 'c', 'a', 'l', 'l', 0x00,
    0x00, 0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00,       /* exports */
    0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x00, 0x0b,             /* code: i32.const 0 */
};

static ap_wapc_host_status status_call(ap_wapc_registry *reg, ap_wapc_instance *inst,
                                       const char *code, ap_buf *err)
{
    ap_buf resp = {0};
    ap_buf_reset(err);
    ap_wapc_call call = {.binding = {(const uint8_t *)"tarmac", 6},
                         .namespace_ = {(const uint8_t *)"response", 8},
                         .operation = {(const uint8_t *)"status", 6},
                         .payload = {(const uint8_t *)code, strlen(code)},
                         .instance = inst};
    ap_wapc_host_status st = ap_wapc_registry_dispatch(reg, &call, &resp, err);
    ap_buf_free(&resp);
    return st;
}

/* 200-599 only: a 1xx sent as the final status left the client waiting for the real response,
 * and it took the next pipelined request's response for this one's (found by fuzz-server). */
static void status_range(void **state)
{
    ap_wapc_registry *reg = ap_wapc_registry_new();
    assert_non_null(reg);
    assert_true(ap_http_register_host_calls(reg));
    ap_errbuf e;
    ap_wapc_module *m;
    ap_wapc_instance *inst;
    ap_wapc_config wc = {.name = "t", .registry = reg};
    assert_int_equal(ap_wapc_module_load(guest, sizeof guest, &m, &e), AP_WAPC_OK);
    assert_int_equal(ap_wapc_instance_new(m, &wc, &inst, &e), AP_WAPC_OK);
    ap_buf err = {0};
    static const char *const good[] = {"200", "204", "304", "418", "599"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_int_equal(status_call(reg, inst, good[i], &err), AP_WAPC_HOST_OK);
    static const char *const bad[] = {"100", "101", "103", "199", "600", "099", "20", "2000", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(status_call(reg, inst, bad[i], &err), AP_WAPC_HOST_ERROR);
        ap_buf_append(&err, "", 1);
        assert_non_null(strstr((const char *)err.data, "want a number from 200 to 599"));
    }
    ap_buf_free(&err);
    ap_wapc_instance_free(inst);
    ap_wapc_module_unref(m);
    ap_wapc_registry_free(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(status_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
