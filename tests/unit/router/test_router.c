/* test_router.c — unit tests of src/router/router.c: exact matches, 404, 405 with Allow, OPTIONS,
 * parameters (their own function, values returned), registration errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "router/router.h"

static ap_router *single_mode(void)
{
    ap_router *r = ap_router_new();
    ap_errbuf e;
    assert_true(ap_router_add(r, "GET", "/health", AP_HANDLER_HEALTH, NULL, &e));
    static const char *const m[] = {"GET", "POST", "PUT", "DELETE", "HEAD"};
    for (int i = 0; i < 5; i++)
        assert_true(ap_router_add(r, m[i], "/", AP_HANDLER_WASM, "default", &e));
    assert_true(ap_router_add(r, "POST", "/users/:id", AP_HANDLER_WASM, "users", &e));
    assert_true(ap_router_add(r, "GET", "/files/*rest", AP_HANDLER_WASM, "files", &e));
    return r;
}

static void matches(void **state)
{
    ap_router *r = single_mode();
    ap_router_match m;
    assert_int_equal(ap_router_match_request(r, "GET", "/health", &m), AP_ROUTER_FOUND);
    assert_int_equal(m.kind, AP_HANDLER_HEALTH);
    assert_int_equal(ap_router_match_request(r, "HEAD", "/", &m), AP_ROUTER_FOUND);
    assert_string_equal(m.function, "default");
    assert_int_equal(ap_router_match_request(r, "POST", "/users/7", &m), AP_ROUTER_FOUND);
    assert_string_equal(m.function, "users");
    assert_int_equal(m.nparams, 1);
    assert_memory_equal(m.params[0].name, "id", 2);
    assert_int_equal(m.params[0].name_len, 2);
    assert_memory_equal(m.params[0].value, "7", 1);
    assert_int_equal(m.params[0].value_len, 1);
    assert_int_equal(ap_router_match_request(r, "POST", "/users/", &m), AP_ROUTER_NOT_FOUND);
    assert_int_equal(ap_router_match_request(r, "GET", "/files/a/b", &m), AP_ROUTER_FOUND);
    assert_string_equal(m.function, "files");
    assert_int_equal(m.nparams, 1);
    assert_int_equal(m.params[0].value_len, 4);
    assert_memory_equal(m.params[0].value, "/a/b", 4);
    assert_int_equal(ap_router_match_request(r, "GET", "/nope", &m), AP_ROUTER_NOT_FOUND);
    assert_int_equal(ap_router_match_request(r, "GET", "/Health", &m), AP_ROUTER_NOT_FOUND);
    ap_router_free(r);
}

static void two_params(void **state)
{
    ap_router *r = ap_router_new();
    ap_errbuf e;
    assert_true(ap_router_add(r, "GET", "/a/:x/b/:yy", AP_HANDLER_WASM, "ab", &e));
    ap_router_match m;
    assert_int_equal(ap_router_match_request(r, "GET", "/a/1/b/22", &m), AP_ROUTER_FOUND);
    assert_int_equal(m.nparams, 2);
    assert_memory_equal(m.params[1].name, "yy", 2);
    assert_int_equal(m.params[1].name_len, 2);
    assert_memory_equal(m.params[1].value, "22", 2);
    assert_int_equal(m.params[1].value_len, 2);
    assert_int_equal(ap_router_match_request(r, "GET", "/a/1/b", &m), AP_ROUTER_NOT_FOUND);
    ap_router_free(r);
}

static void not_allowed(void **state)
{
    ap_router *r = single_mode();
    ap_router_match m;
    assert_int_equal(ap_router_match_request(r, "PATCH", "/", &m), AP_ROUTER_METHOD_NOT_ALLOWED);
    assert_string_equal(m.allow, "DELETE, GET, HEAD, OPTIONS, POST, PUT");
    assert_int_equal(ap_router_match_request(r, "POST", "/health", &m),
                     AP_ROUTER_METHOD_NOT_ALLOWED);
    assert_string_equal(m.allow, "GET, OPTIONS");
    assert_int_equal(ap_router_match_request(r, "OPTIONS", "/health", &m), AP_ROUTER_OPTIONS);
    assert_string_equal(m.allow, "GET, OPTIONS");
    ap_router_free(r);
}

static void bad_routes(void **state)
{
    ap_router *r = single_mode();
    ap_errbuf e;
    assert_false(ap_router_add(r, "GET", "/", AP_HANDLER_WASM, "x", &e));
    assert_string_equal(e.msg, "a handle is already registered for GET /");
    assert_false(ap_router_add(r, "GET", "x", AP_HANDLER_WASM, "x", &e));
    assert_false(ap_router_add(r, "GET", "/a/*b/c", AP_HANDLER_WASM, "x", &e));
    ap_router_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matches),
        cmocka_unit_test(two_params),
        cmocka_unit_test(not_allowed),
        cmocka_unit_test(bad_routes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
