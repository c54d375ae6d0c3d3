/* test_kvstore.c — tarmac:kvstore:* (TARMAC.md §4.4) through the registry, on the in-memory back
 * end: each op × {JSON, protobuf} × each status code and text, the §4.0 classification of inputs,
 * malformed payloads (clear status, nothing written), and a broken back end for 404/500. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "harness.h"

static ap_kv *kv;

static int setup(void **state)
{
    ap_settings s;
    ap_errbuf e;
    ap_settings_defaults(&s);
    int rc = ap_kv_mem_open(&s, &kv, &e) == AP_KV_OK ? 0 : -1;
    ap_settings_free(&s);
    harness *h = malloc(sizeof *h);
    h_open(h, kv, NULL, NULL);
    *state = h;
    return rc;
}

static int teardown(void **state)
{
    h_close(*state);
    free(*state);
    ap_kv_close(kv);
    return 0;
}

static size_t nkeys(void)
{
    ap_kv_keylist l = {0};
    ap_errbuf e;
    assert_int_equal(ap_kv_keys(kv, &l, &e), AP_KV_OK);
    size_t n = l.count;
    ap_kv_keylist_free(&l);
    return n;
}

/* The encoded protobuf Status{code,text} in field 1, for comparisons. */
static void pb_status(ap_buf *b, int code, const char *text)
{
    ap_buf_reset(b);
    ap_pb_put_status(b, 1, code, text);
}

static void json_set_get_delete(void **state)
{
    harness *h = *state;
    assert_int_equal(TCALL(h, "kvstore", "set", B("{\"key\":\"k\",\"data\":\"dmFsdWU=\"}")),
                     AP_WAPC_HOST_OK);
    assert_resp_str(h, "{\"status\":{\"code\":200,\"status\":\"OK\"}}");
    assert_int_equal(TCALL(h, "kvstore", "get", B("{\"Key\":\"k\"}")), AP_WAPC_HOST_OK);
    assert_resp_str(h, "{\"status\":{\"code\":200,\"status\":\"OK\"},\"data\":\"dmFsdWU=\"}");
    assert_int_equal(TCALL(h, "kvstore", "keys", (ap_bytes){0}), AP_WAPC_HOST_OK);
    assert_resp_str(h, "{\"keys\":[\"k\"],\"status\":{\"code\":200,\"status\":\"OK\"}}");
    assert_int_equal(TCALL(h, "kvstore", "delete", B("{\"key\":\"k\"}")), AP_WAPC_HOST_OK);
    assert_resp_str(h, "{\"status\":{\"code\":200,\"status\":\"OK\"}}");
    /* deleting a missing key succeeds */
    assert_int_equal(TCALL(h, "kvstore", "delete", B("{\"key\":\"k\"}")), AP_WAPC_HOST_OK);
    /* no keys: [] (TARMAC.md §11.10) */
    assert_int_equal(TCALL(h, "kvstore", "keys", (ap_bytes){0}), AP_WAPC_HOST_OK);
    assert_resp_str(h, "{\"keys\":[],\"status\":{\"code\":200,\"status\":\"OK\"}}");
    /* the `default` binding reaches the same handlers */
    assert_int_equal(h_call(h, "default", "kvstore", "keys", (ap_bytes){0}), AP_WAPC_HOST_OK);
}

static void json_errors(void **state)
{
    harness *h = *state;
    /* 404: missing key, with the key and hord's text; data "" */
    assert_int_equal(TCALL(h, "kvstore", "get", B("{\"key\":\"nope\"}")), AP_WAPC_HOST_ERROR);
    assert_err(h, "Unable to fetch key nope - nil value returned from database");
    assert_resp_str(h, "{\"status\":{\"code\":404,\"status\":\"Unable to fetch key nope - nil value "
                       "returned from database\"},\"data\":\"\"}");
    /* 400: bad JSON, wrong types, trailing text */
    const ap_bytes bad[] = {B("{bad"), B("{\"key\":1}"), B("{\"key\":\"a\"} x"), B("[]"),
                            B("\"k\""), B("{\"key\":\"a\",\"data\":true}")};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *ops[] = {"get", "set", "delete"};
        for (int o = 0; o < 3; o++) {
            assert_int_equal(TCALL(h, "kvstore", ops[o], bad[i]), AP_WAPC_HOST_ERROR);
            assert_err(h, "Error Parsing Input");
        }
    }
    assert_int_equal(TCALL(h, "kvstore", "get", B("{bad")), AP_WAPC_HOST_ERROR);
    assert_resp_str(h, "{\"status\":{\"code\":400,\"status\":\"Error Parsing Input\"},\"data\":\"\"}");
    /* 400: bad base64, nothing written */
    assert_int_equal(TCALL(h, "kvstore", "set", B("{\"key\":\"k\",\"data\":\"!!!\"}")),
                     AP_WAPC_HOST_ERROR);
    assert_err(h, "Unable to decode data - illegal base64 data at input byte 0");
    assert_resp_str(h, "{\"status\":{\"code\":400,\"status\":\"Unable to decode data - illegal "
                       "base64 data at input byte 0\"}}");
    /* 500: the back end's rules (JSON does not pre-check) */
    assert_int_equal(TCALL(h, "kvstore", "set", B("{\"key\":\"\",\"data\":\"YQ==\"}")),
                     AP_WAPC_HOST_ERROR);
    assert_err(h, "Unable to store data using key  - key cannot be nil");
    assert_int_equal(TCALL(h, "kvstore", "set", B("{\"key\":\"k\"}")), AP_WAPC_HOST_ERROR);
    assert_err(h, "Unable to store data using key k - data cannot be empty");
    /* top-level null is an all-zero request */
    assert_int_equal(TCALL(h, "kvstore", "get", B("null")), AP_WAPC_HOST_ERROR);
    assert_err(h, "Unable to fetch key  - key cannot be nil");
    assert_int_equal(TCALL(h, "kvstore", "delete", B("{}")), AP_WAPC_HOST_ERROR);
    assert_err(h, "Unable to delete key  - key cannot be nil");
    assert_int_equal(nkeys(), 0);
}

static void proto_ops(void **state)
{
    harness *h = *state;
    ap_buf want = {0};
    /* KVStoreSet{key:"k", data:"value"} */
    assert_int_equal(TCALL(h, "kvstore", "set", B("\x0a\x01k\x12\x05value")), AP_WAPC_HOST_OK);
    assert_resp(h, "\x0a\x07\x08\xc8\x01\x12\x02OK");
    assert_int_equal(TCALL(h, "kvstore", "get", B("\x0a\x01k")), AP_WAPC_HOST_OK);
    assert_resp(h, "\x0a\x07\x08\xc8\x01\x12\x02OK\x12\x05value");
    /* keys: any non-empty payload → protobuf, content not read */
    assert_int_equal(TCALL(h, "kvstore", "keys", B("\x08\x01")), AP_WAPC_HOST_OK);
    assert_resp(h, "\x0a\x07\x08\xc8\x01\x12\x02OK\x12\x01k");
    assert_int_equal(TCALL(h, "kvstore", "keys", B("{garbage")), AP_WAPC_HOST_OK);
    assert_resp(h, "\x0a\x07\x08\xc8\x01\x12\x02OK\x12\x01k");
    assert_int_equal(TCALL(h, "kvstore", "delete", B("\x0a\x01k")), AP_WAPC_HOST_OK);
    assert_resp(h, "\x0a\x07\x08\xc8\x01\x12\x02OK");
    /* 404 get */
    assert_int_equal(TCALL(h, "kvstore", "get", B("\x0a\x01k")), AP_WAPC_HOST_ERROR);
    assert_err(h, "Unable to fetch key nil value returned from database");
    pb_status(&want, 404, "Unable to fetch key nil value returned from database");
    assert_int_equal(h->resp.len, want.len);
    assert_memory_equal(h->resp.data, want.data, want.len);
    assert_memory_equal(h->resp.data, "\x0a\x39\x08\x94\x03", 5); /* code 404 = 94 03 */
    /* 400: an empty payload decodes (all defaults) → protobuf path, key empty */
    assert_int_equal(TCALL(h, "kvstore", "get", (ap_bytes){0}), AP_WAPC_HOST_ERROR);
    assert_err(h, "key cannot be nil");
    assert_int_equal(TCALL(h, "kvstore", "delete", (ap_bytes){0}), AP_WAPC_HOST_ERROR);
    assert_err(h, "key cannot be nil");
    assert_int_equal(TCALL(h, "kvstore", "set", B("\x12\x01v")), AP_WAPC_HOST_ERROR);
    assert_err(h, "key cannot be nil");
    /* data absent → "Data cannot be nil"; present but empty reaches the back end → 500 */
    assert_int_equal(TCALL(h, "kvstore", "set", B("\x0a\x01k")), AP_WAPC_HOST_ERROR);
    assert_err(h, "Data cannot be nil");
    pb_status(&want, 400, "Data cannot be nil");
    assert_int_equal(h->resp.len, want.len);
    assert_int_equal(TCALL(h, "kvstore", "set", B("\x0a\x01k\x12\x00")), AP_WAPC_HOST_ERROR);
    assert_err(h, "Unable to store data - data cannot be empty");
    /* unknown fields are skipped; repeated fields: the last wins */
    assert_int_equal(TCALL(h, "kvstore", "set", B("\x0a\x01x\x18\x07\x0a\x01k\x12\x01" "a\x12\x01" "b")),
                     AP_WAPC_HOST_OK);
    assert_int_equal(TCALL(h, "kvstore", "get", B("\x0a\x01k")), AP_WAPC_HOST_OK);
    assert_resp(h, "\x0a\x07\x08\xc8\x01\x12\x02OK\x12\x01" "b");
    assert_int_equal(nkeys(), 1);
    TCALL(h, "kvstore", "delete", B("\x0a\x01k"));
    ap_buf_free(&want);
}

static void malformed_proto_falls_to_json(void **state)
{
    harness *h = *state;
    /* each fails the strict walk → JSON path → 400, nothing written */
    const ap_bytes bad[] = {
        B("\x0a\x80"),                                           /* truncated varint */
        B("\x0a\xff\xff\xff\xff\x0f"),                           /* huge length */
        B("\x0a\x05" "ab"),                                      /* length past the end */
        B("\x08\x01"),                                           /* wrong wire type */
        B("\x0c"),                                               /* wire type 4 */
        B("\x0a\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01"),   /* 11-byte varint */
        B("\x12\x01v\x1e"),                                      /* wire type 6 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(TCALL(h, "kvstore", "set", bad[i]), AP_WAPC_HOST_ERROR);
        assert_err(h, "Error Parsing Input");
        assert_resp_str(h, "{\"status\":{\"code\":400,\"status\":\"Error Parsing Input\"}}");
        assert_int_equal(TCALL(h, "kvstore", "get", bad[i]), AP_WAPC_HOST_ERROR);
        assert_err(h, "Error Parsing Input");
    }
    assert_int_equal(nkeys(), 0);
}

static void broken_backend(void **state)
{
    harness hb;
    h_open(&hb, &broken_kv, NULL, NULL);
    harness *h = &hb;
    assert_int_equal(TCALL(h, "kvstore", "get", B("{\"key\":\"k\"}")), AP_WAPC_HOST_ERROR);
    assert_err(h, "Unable to fetch key k - connection refused");
    assert_int_equal(TCALL(h, "kvstore", "get", B("\x0a\x01k")), AP_WAPC_HOST_ERROR);
    assert_err(h, "Unable to fetch key connection refused");
    assert_int_equal(TCALL(h, "kvstore", "set", B("{\"key\":\"k\",\"data\":\"YQ==\"}")),
                     AP_WAPC_HOST_ERROR);
    assert_err(h, "Unable to store data using key k - connection refused");
    assert_int_equal(TCALL(h, "kvstore", "set", B("\x0a\x01k\x12\x01v")), AP_WAPC_HOST_ERROR);
    assert_err(h, "Unable to store data - connection refused");
    assert_int_equal(TCALL(h, "kvstore", "delete", B("{\"key\":\"k\"}")), AP_WAPC_HOST_ERROR);
    assert_err(h, "Unable to delete key k - connection refused");
    assert_int_equal(TCALL(h, "kvstore", "delete", B("\x0a\x01k")), AP_WAPC_HOST_ERROR);
    assert_err(h, "Unable to delete key connection refused");
    assert_int_equal(TCALL(h, "kvstore", "keys", (ap_bytes){0}), AP_WAPC_HOST_ERROR);
    assert_err(h, "Unable to fetch keys - connection refused");
    assert_resp_str(h, "{\"keys\":null,\"status\":{\"code\":500,\"status\":\"Unable to fetch keys - "
                       "connection refused\"}}");
    assert_int_equal(TCALL(h, "kvstore", "keys", B("\x08\x01")), AP_WAPC_HOST_ERROR);
    assert_memory_equal(h->resp.data, "\x0a", 1);
    ap_errbuf e;
    ap_cap *c = h->cap;
    assert_false(ap_cap_ready(c, &e));
    assert_string_equal(e.msg, "connection refused");
    h_close(h);
}

static void not_registered_without_backend(void **state)
{
    harness hb;
    h_open(&hb, NULL, NULL, NULL);
    assert_int_equal(TCALL(&hb, "kvstore", "get", B("{\"key\":\"k\"}")), AP_WAPC_HOST_ERROR);
    assert_int_equal(TCALL(&hb, "sql", "query", B("")), AP_WAPC_HOST_ERROR);
    assert_int_equal(TCALL(&hb, "logger", "info", B("x")), AP_WAPC_HOST_OK);
    h_close(&hb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_set_get_delete),
        cmocka_unit_test(json_errors),
        cmocka_unit_test(proto_ops),
        cmocka_unit_test(malformed_proto_falls_to_json),
        cmocka_unit_test(broken_backend),
        cmocka_unit_test(not_registered_without_backend),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
