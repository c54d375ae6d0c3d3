/* harness.h — shared by the cap unit tests: an ap_cap over test back ends with its handlers in a
 * registry, and a call helper that dispatches like __host_call and records both halves (response
 * and error). A "broken" KV back end fails every op, for the 5xx paths. */
#ifndef CAP_TEST_HARNESS_H
#define CAP_TEST_HARNESS_H

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "cap/cap.h"
#include "cap/codec/codec.h"

#define B(s) ((ap_bytes){(const uint8_t *)(s), sizeof(s) - 1})

typedef struct {
    ap_settings s;
    ap_cap *cap;
    ap_wapc_registry *reg;
    ap_buf resp, err;
    ap_wapc_host_status st;
} harness;

static inline void h_open(harness *h, ap_kv *kv, ap_sql *sql, const ap_tarmac *t)
{
    memset(h, 0, sizeof *h);
    ap_errbuf e;
    ap_log_setup(AP_LOG_OFF, false, NULL); /* the WARN per callback error is not under test */
    assert_int_equal(ap_settings_defaults(&h->s), AP_CONFIG_OK);
    ap_cap_config cc = {.settings = &h->s, .tarmac = t, .kv = kv, .sql = sql};
    assert_true(ap_cap_new(&cc, &h->cap, &e));
    assert_non_null(h->reg = ap_wapc_registry_new());
    assert_true(ap_cap_register(h->cap, h->reg));
}

/* Rebuilds the cap and registry after the test changed h->s. */
static inline void h_reopen(harness *h, ap_kv *kv, ap_sql *sql, const ap_tarmac *t)
{
    ap_errbuf e;
    ap_wapc_registry_free(h->reg);
    ap_cap_free(h->cap);
    ap_cap_config cc = {.settings = &h->s, .tarmac = t, .kv = kv, .sql = sql};
    assert_true(ap_cap_new(&cc, &h->cap, &e));
    assert_non_null(h->reg = ap_wapc_registry_new());
    assert_true(ap_cap_register(h->cap, h->reg));
}

static inline void h_close(harness *h)
{
    ap_wapc_registry_free(h->reg);
    ap_cap_free(h->cap);
    ap_buf_free(&h->resp);
    ap_buf_free(&h->err);
    ap_settings_free(&h->s);
}

/* Calls binding:ns:op with payload; the response and error land in h->resp / h->err as
 * NUL-terminated text (bytes may contain NULs: use .len). */
static inline ap_wapc_host_status h_call(harness *h, const char *binding, const char *ns,
                                         const char *op, ap_bytes payload)
{
    ap_buf_reset(&h->resp);
    ap_buf_reset(&h->err);
    ap_buf_append(&h->resp, "", 0);
    ap_buf_append(&h->err, "", 0);
    ap_wapc_call c = {
        .binding = {(const uint8_t *)binding, strlen(binding)},
        .namespace_ = {(const uint8_t *)ns, strlen(ns)},
        .operation = {(const uint8_t *)op, strlen(op)},
        .payload = payload,
    };
    h->st = ap_wapc_registry_dispatch(h->reg, &c, &h->resp, &h->err);
    return h->st;
}

#define TCALL(h, ns, op, payload) h_call((h), "tarmac", (ns), (op), (payload))

/* The response equals the bytes of literal `lit`. */
#define assert_resp(h, lit)                                                                        \
    do {                                                                                           \
        assert_int_equal((h)->resp.len, sizeof(lit) - 1);                                          \
        assert_memory_equal((h)->resp.data, (lit), sizeof(lit) - 1);                               \
    } while (0)
#define assert_resp_str(h, str) assert_string_equal((char *)(h)->resp.data, (str))
#define assert_err(h, str) assert_string_equal((char *)(h)->err.data, (str))

/* A KV back end that fails every op with a fixed reason. */
static ap_kv_status broken_get(ap_kv *kv, ap_bytes k, ap_buf *v, ap_errbuf *e)
{
    ap_errbuf_set(e, "connection refused");
    return AP_KV_UNAVAILABLE;
}
static ap_kv_status broken_set(ap_kv *kv, ap_bytes k, ap_bytes v, ap_errbuf *e)
{
    ap_errbuf_set(e, "connection refused");
    return AP_KV_UNAVAILABLE;
}
static ap_kv_status broken_del(ap_kv *kv, ap_bytes k, ap_errbuf *e)
{
    ap_errbuf_set(e, "connection refused");
    return AP_KV_UNAVAILABLE;
}
static ap_kv_status broken_keys(ap_kv *kv, ap_kv_keylist *o, ap_errbuf *e)
{
    ap_errbuf_set(e, "connection refused");
    return AP_KV_UNAVAILABLE;
}
static ap_kv_status broken_ping(ap_kv *kv, ap_errbuf *e)
{
    ap_errbuf_set(e, "connection refused");
    return AP_KV_UNAVAILABLE;
}
static void broken_close(ap_kv *kv) {}
static const ap_kv_ops broken_ops = {"broken",    broken_get,  broken_set,  broken_del,
                                     broken_keys, broken_ping, broken_close};
static ap_kv broken_kv __attribute__((unused)) = {&broken_ops};

#endif
