/* test_metrics.c — unit tests of src/base/metrics.c: ap_metrics_summary_get (what /debug/stats
 * shows per function) against the exposition text ap_metrics_write gives for the same series. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/metrics.h"

static int reset(void **state)
{
    (void)state;
    ap_metrics_reset();
    return 0;
}

static void unknown_series(void **state)
{
    (void)state;
    ap_metrics_summary s = {.count = 7};
    assert_false(ap_metrics_summary_get(AP_METRIC_WASM_FUNCTIONS, "none:handler", &s));
    assert_int_equal(s.count, 7); /* untouched */
    ap_metrics_observe(AP_METRIC_WASM_FUNCTIONS, "a:handler", 1);
    assert_false(ap_metrics_summary_get(AP_METRIC_WASM_FUNCTIONS, "b:handler", &s));
    /* Same label, other family. */
    assert_false(ap_metrics_summary_get(AP_METRIC_HTTP_SERVER, "a:handler", &s));
}

static void count_sum_quantiles(void **state)
{
    (void)state;
    for (int i = 1; i <= 100; i++)
        ap_metrics_observe(AP_METRIC_WASM_FUNCTIONS, "f:handler", i);
    ap_metrics_observe(AP_METRIC_WASM_FUNCTIONS, "g:handler", 42);
    ap_metrics_summary s;
    assert_true(ap_metrics_summary_get(AP_METRIC_WASM_FUNCTIONS, "f:handler", &s));
    assert_int_equal(s.count, 100);
    assert_true(s.sum == 5050);
    assert_true(s.p50 == 50 && s.p90 == 90 && s.p99 == 99);
    assert_true(ap_metrics_summary_get(AP_METRIC_WASM_FUNCTIONS, "g:handler", &s));
    assert_int_equal(s.count, 1);
    assert_true(s.sum == 42 && s.p50 == 42 && s.p99 == 42);
    /* The exposition text agrees. */
    ap_buf out = {0};
    assert_true(ap_metrics_write(&out));
    assert_true(ap_buf_append(&out, "", 1));
    const char *text = (const char *)out.data;
    assert_non_null(strstr(text, "wasm_functions{route=\"f:handler\",quantile=\"0.9\"} 90\n"));
    assert_non_null(strstr(text, "wasm_functions_count{route=\"f:handler\"} 100\n"));
    assert_non_null(strstr(text, "wasm_functions_sum{route=\"f:handler\"} 5050\n"));
    ap_buf_free(&out);
}

static void gauge_is_not_a_summary(void **state)
{
    (void)state;
    ap_metrics_gauge_add(AP_METRIC_SERVICE_ROUTES, "svc", "http", 2);
    ap_metrics_summary s;
    assert_false(ap_metrics_summary_get(AP_METRIC_SERVICE_ROUTES, "svc", &s));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(unknown_series, reset),
        cmocka_unit_test_setup(count_sum_quantiles, reset),
        cmocka_unit_test_setup(gauge_is_not_a_summary, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
