/* test_metrics.c — tarmac:metrics:* (TARMAC.md §4.7, §11.9) × {JSON, protobuf}: creation and
 * updates seen on /metrics' text, name rules, one namespace across types, built-in names,
 * invalid actions, unparsable JSON; plus tarmac:logger:* (verbatim message, the function name,
 * level gating, never an error) and tarmac:function:* for a missing callee. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/metrics.h"
#include "harness.h"

static bool exposition_has(const char *line)
{
    ap_buf out = {0};
    assert_true(ap_metrics_write(&out));
    bool found = out.data && strstr((char *)out.data, line) != NULL;
    if (!found)
        fprintf(stderr, "missing %s in:\n%s", line, out.data ? (char *)out.data : "");
    ap_buf_free(&out);
    return found;
}

static void counters_and_gauges(void **state)
{
    harness h;
    h_open(&h, NULL, NULL, NULL);
    assert_int_equal(TCALL(&h, "metrics", "counter", B("{\"name\":\"jobs_done\"}")), AP_WAPC_HOST_OK);
    assert_int_equal(h.resp.len, 0);
    assert_int_equal(TCALL(&h, "metrics", "counter", B("\x0a\x09jobs_done")), AP_WAPC_HOST_OK);
    assert_true(exposition_has("# TYPE jobs_done counter\njobs_done 2\n"));
    assert_int_equal(TCALL(&h, "metrics", "gauge", B("{\"name\":\"queue\",\"action\":\"inc\"}")),
                     AP_WAPC_HOST_OK);
    assert_int_equal(TCALL(&h, "metrics", "gauge", B("\x0a\x05queue\x12\x03" "dec")),
                     AP_WAPC_HOST_OK);
    assert_int_equal(TCALL(&h, "metrics", "gauge", B("\x0a\x05queue\x12\x03" "dec")),
                     AP_WAPC_HOST_OK);
    assert_true(exposition_has("# TYPE queue gauge\nqueue -1\n"));
    /* histogram: a summary with quantiles, from a double (fixed64) or a JSON number */
    assert_int_equal(TCALL(&h, "metrics", "histogram", B("{\"name\":\"lat\",\"value\":2.5}")),
                     AP_WAPC_HOST_OK);
    assert_int_equal(TCALL(&h, "metrics", "histogram",
                           B("\x0a\x03lat\x11\x00\x00\x00\x00\x00\x00\x1c\x40")), /* 7.0 */
                     AP_WAPC_HOST_OK);
    assert_true(exposition_has("# TYPE lat summary\nlat{quantile=\"0.5\"} 2.5\n"));
    assert_true(exposition_has("lat{quantile=\"0.99\"} 7\nlat_sum 9.5\nlat_count 2\n"));
    /* numbers as Go writes them: shortest round-trip text */
    assert_int_equal(TCALL(&h, "metrics", "histogram", B("{\"name\":\"tenth\",\"value\":0.1}")),
                     AP_WAPC_HOST_OK);
    assert_true(exposition_has("tenth_sum 0.1\ntenth_count 1\n"));
    h_close(&h);
}

static void metric_errors(void **state)
{
    harness h;
    h_open(&h, NULL, NULL, NULL);
    const char *bad = "invalid metric name: must match [a-zA-Z_:][a-zA-Z0-9_:]*";
    assert_int_equal(TCALL(&h, "metrics", "counter", B("{\"name\":\"bad-name\"}")), AP_WAPC_HOST_ERROR);
    assert_err(&h, bad);
    assert_int_equal(h.resp.len, 0);
    assert_int_equal(TCALL(&h, "metrics", "counter", B("{\"name\":\"9lives\"}")), AP_WAPC_HOST_ERROR);
    assert_err(&h, bad);
    assert_int_equal(TCALL(&h, "metrics", "counter", (ap_bytes){0}), AP_WAPC_HOST_ERROR);
    assert_err(&h, bad); /* empty payload: protobuf path, empty name */
    assert_int_equal(TCALL(&h, "metrics", "gauge", B("{\"name\":\"g1\",\"action\":\"up\"}")),
                     AP_WAPC_HOST_ERROR);
    assert_err(&h, "invalid action");
    assert_false(exposition_has("g1 ")); /* checked before creation */
    assert_int_equal(TCALL(&h, "metrics", "gauge", B("\x0a\x02g1")), AP_WAPC_HOST_ERROR);
    assert_err(&h, "invalid action");
    /* one namespace across types */
    assert_int_equal(TCALL(&h, "metrics", "counter", B("{\"name\":\"shared\"}")), AP_WAPC_HOST_OK);
    assert_int_equal(TCALL(&h, "metrics", "gauge", B("{\"name\":\"shared\",\"action\":\"inc\"}")),
                     AP_WAPC_HOST_ERROR);
    assert_err(&h, "metric name in use");
    assert_int_equal(TCALL(&h, "metrics", "histogram", B("{\"name\":\"shared\",\"value\":1}")),
                     AP_WAPC_HOST_ERROR);
    assert_err(&h, "metric name in use");
    /* built-in names: a clean error where Tarmac's registration panics */
    assert_int_equal(TCALL(&h, "metrics", "counter", B("{\"name\":\"http_server\"}")),
                     AP_WAPC_HOST_ERROR);
    assert_err(&h, "metric name in use");
    assert_int_equal(TCALL(&h, "metrics", "counter", B("{\"name\":\"process_open_fds\"}")),
                     AP_WAPC_HOST_ERROR);
    assert_err(&h, "metric name in use");
    /* JSON that does not parse or has wrong types */
    assert_int_equal(TCALL(&h, "metrics", "counter", B("{oops")), AP_WAPC_HOST_ERROR);
    assert_true(strncmp((char *)h.err.data, "unable to parse input JSON - ", 29) == 0);
    assert_int_equal(TCALL(&h, "metrics", "histogram", B("{\"name\":\"h\",\"value\":\"1\"}")),
                     AP_WAPC_HOST_ERROR);
    assert_true(strncmp((char *)h.err.data, "unable to parse input JSON - ", 29) == 0);
    /* truncated protobuf double → not protobuf → JSON → parse error */
    assert_int_equal(TCALL(&h, "metrics", "histogram", B("\x0a\x01h\x11\x00\x00")),
                     AP_WAPC_HOST_ERROR);
    assert_true(strncmp((char *)h.err.data, "unable to parse input JSON - ", 29) == 0);
    h_close(&h);
}

static void logger(void **state)
{
    harness h;
    h_open(&h, NULL, NULL, NULL);
    char path[64];
    snprintf(path, sizeof path, "/tmp/apron-test-log-%d", (int)getpid());
    FILE *f = fopen(path, "w+");
    assert_non_null(f);
    ap_log_setup(AP_LOG_INFO, true, f);
    const char *ops[] = {"error", "warn", "info", "debug", "trace"};
    for (int i = 0; i < 5; i++) {
        char msg[32];
        snprintf(msg, sizeof msg, "msg-%s \"quoted\"", ops[i]);
        ap_bytes m = {(const uint8_t *)msg, strlen(msg)};
        assert_int_equal(TCALL(&h, "logger", ops[i], m), AP_WAPC_HOST_OK);
        assert_int_equal(h.resp.len, 0);
        assert_int_equal(h.err.len, 0);
    }
    ap_log_set_level(AP_LOG_TRACE);
    assert_int_equal(TCALL(&h, "logger", "trace", B("now visible")), AP_WAPC_HOST_OK);
    ap_log_setup(AP_LOG_OFF, false, NULL);
    fflush(f);
    rewind(f);
    char text[4096];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = 0;
    fclose(f);
    unlink(path);
    assert_non_null(strstr(text, "level=ERROR msg=\"msg-error \\\"quoted\\\"\""));
    assert_non_null(strstr(text, "level=WARN msg="));
    assert_non_null(strstr(text, "level=INFO msg="));
    assert_null(strstr(text, "msg-debug")); /* gated */
    assert_null(strstr(text, "msg-trace"));
    assert_non_null(strstr(text, "now visible"));
    assert_non_null(strstr(text, "function="));
    h_close(&h);
}

static void function_missing(void **state)
{
    /* a tarmac.json with a function route whose callee is not bound */
    ap_tarmac_route rt = {.type = AP_ROUTE_FUNCTION, .function = "callee"};
    ap_tarmac_service sv = {.key = "s", .name = "s", .routes = &rt, .nroutes = 1};
    ap_tarmac t = {.services = &sv, .nservices = 1};
    harness h;
    h_open(&h, NULL, NULL, &t);
    assert_int_equal(TCALL(&h, "function", "callee", B("x")), AP_WAPC_HOST_ERROR);
    assert_err(&h, "unable to load wasi environment - module not found");
    /* unlisted names are not registered */
    assert_int_equal(TCALL(&h, "function", "other", B("x")), AP_WAPC_HOST_ERROR);
    assert_int_equal(TCALL(&h, "nope", "x", B("x")), AP_WAPC_HOST_ERROR);
    h_close(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counters_and_gauges),
        cmocka_unit_test(metric_errors),
        cmocka_unit_test(logger),
        cmocka_unit_test(function_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
