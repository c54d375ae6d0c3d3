/* kvstore.c — tarmac:kvstore:get/set/delete/keys (TARMAC.md §4.4): the protobuf-vs-JSON rule of
 * §4.0, hord's texts for the conditions every back end shares, Tarmac's status codes and texts. */
#include "cap/internal.h"

#include <string.h>

/* KVStoreGet / KVStoreSet / KVStoreDelete: 1 key string, 2 data bytes (Set only). */
static const signed char kv_wt[] = {-1, AP_PB_LEN, AP_PB_LEN};
static const ap_pb_schema get_schema = {kv_wt, 2}, set_schema = {kv_wt, 3};

typedef struct {
    ap_bytes key, data;
    bool has_data;
} kv_req;

static bool kv_field(void *ctx, int field, uint64_t v, ap_bytes b)
{
    kv_req *r = ctx;
    if (field == 1) {
        r->key = b;
    } else {
        r->data = b;
        r->has_data = true; /* present-but-empty counts as present */
    }
    return true;
}

/* The back end's reason in hord's words where hord has fixed ones. */
static const char *reason(ap_kv_status ks, const ap_errbuf *e, bool setting)
{
    switch (ks) {
    case AP_KV_NOTFOUND:
        return "nil value returned from database";
    default:
        return e->msg;
    }
}

/* Tarmac answers every failed get or delete with 404. apron keeps that for a missing key or a
 * refused request, but an outage of the back end is not "not found": it answers 503, so callers
 * and load balancers can tell (issue 5; docs/capabilities.md). */
static int miss_code(ap_kv_status ks) { return ks == AP_KV_UNAVAILABLE ? 503 : 404; }

static bool json_req(const ap_wapc_call *call, json_t **root, kv_req *r)
{
    ap_errbuf e;
    memset(r, 0, sizeof *r);
    if (!ap_jin_parse(call->payload, root, &e))
        return false;
    ap_bytes data;
    if (!ap_jin_str(*root, "key", &r->key, &e) || !ap_jin_str(*root, "data", &data, &e)) {
        json_decref(*root);
        *root = NULL;
        return false;
    }
    r->data = data;
    return true;
}

static bool key_check(ap_kv *kv, ap_bytes key, ap_errbuf *e)
{
    (void)kv;
    if (key.len == 0) {
        ap_errbuf_set(e, "key cannot be nil");
        return false;
    }
    return true;
}

ap_wapc_host_status cap_kv_get(ap_cap *c, const ap_wapc_call *call, ap_buf *response,
                               ap_buf *error)
{
    kv_req r = {0};
    ap_errbuf e;
    cap_status st;
    ap_buf val = {0};
    bool ok;
    cap_status_set(&st, 200, "OK");
    if (ap_pb_walk(call->payload, &get_schema, kv_field, &r, &e)) {
        if (r.key.len == 0) {
            cap_status_set(&st, 400, "key cannot be nil");
        } else {
            ap_kv_status ks = ap_kv_get(c->kv, r.key, &val, &e);
            if (ks != AP_KV_OK)
                cap_status_set(&st, miss_code(ks), "Unable to fetch key %s", reason(ks, &e, false));
        }
        ok = ap_pb_put_status(response, 1, st.code, st.text) &&
             (st.code != 200 || val.len == 0 || ap_pb_put_len(response, 2, val.data, val.len));
    } else {
        json_t *root = NULL;
        if (!json_req(call, &root, &r)) {
            cap_status_set(&st, 400, "Error Parsing Input");
        } else {
            ap_kv_status ks = key_check(c->kv, r.key, &e) ? ap_kv_get(c->kv, r.key, &val, &e)
                                                          : AP_KV_INVALID;
            if (ks != AP_KV_OK)
                cap_status_set(&st, miss_code(ks), "Unable to fetch key %.*s - %s", (int)r.key.len,
                               (const char *)r.key.ptr, reason(ks, &e, false));
        }
        json_decref(root);
        ok = ap_buf_append_str(response, "{\"status\":") && cap_json_status(response, &st) &&
             ap_buf_append_str(response, ",\"data\":") &&
             ap_json_put_b64(response, val.data, st.code == 200 ? val.len : 0) &&
             ap_buf_append(response, "}", 1);
    }
    ap_buf_free(&val);
    return cap_finish(&st, ok, response, error);
}

ap_wapc_host_status cap_kv_set(ap_cap *c, const ap_wapc_call *call, ap_buf *response,
                               ap_buf *error)
{
    kv_req r = {0};
    ap_errbuf e;
    cap_status st;
    bool ok;
    cap_status_set(&st, 200, "OK");
    if (ap_pb_walk(call->payload, &set_schema, kv_field, &r, &e)) {
        if (r.key.len == 0)
            cap_status_set(&st, 400, "key cannot be nil");
        if (!r.has_data)
            cap_status_set(&st, 400, "Data cannot be nil");
        if (st.code == 200) {
            ap_kv_status ks = r.data.len == 0 ? (ap_errbuf_set(&e, "data cannot be empty"),
                                                 AP_KV_INVALID)
                                              : ap_kv_set(c->kv, r.key, r.data, &e);
            if (ks != AP_KV_OK)
                cap_status_set(&st, 500, "Unable to store data - %s", reason(ks, &e, true));
        }
        ok = ap_pb_put_status(response, 1, st.code, st.text);
    } else {
        json_t *root = NULL;
        ap_buf data = {0};
        if (!json_req(call, &root, &r)) {
            cap_status_set(&st, 400, "Error Parsing Input");
        } else if (!ap_b64_decode(&data, r.data.ptr, r.data.len, &e)) {
            cap_status_set(&st, 400, "Unable to decode data - %s", e.msg);
        } else {
            /* JSON does not pre-check key or data: the back end's rules answer (hord's texts) */
            ap_kv_status ks;
            if (r.key.len == 0) {
                ap_errbuf_set(&e, "key cannot be nil");
                ks = AP_KV_INVALID;
            } else if (data.len == 0) {
                ap_errbuf_set(&e, "data cannot be empty");
                ks = AP_KV_INVALID;
            } else {
                ks = ap_kv_set(c->kv, r.key, (ap_bytes){data.data, data.len}, &e);
            }
            if (ks != AP_KV_OK)
                cap_status_set(&st, 500, "Unable to store data using key %.*s - %s",
                               (int)r.key.len, (const char *)r.key.ptr, reason(ks, &e, true));
        }
        ap_buf_free(&data);
        json_decref(root);
        ok = ap_buf_append_str(response, "{\"status\":") && cap_json_status(response, &st) &&
             ap_buf_append(response, "}", 1);
    }
    return cap_finish(&st, ok, response, error);
}

ap_wapc_host_status cap_kv_delete(ap_cap *c, const ap_wapc_call *call, ap_buf *response,
                                  ap_buf *error)
{
    kv_req r = {0};
    ap_errbuf e;
    cap_status st;
    bool ok;
    cap_status_set(&st, 200, "OK");
    if (ap_pb_walk(call->payload, &get_schema, kv_field, &r, &e)) {
        if (r.key.len == 0) {
            cap_status_set(&st, 400, "key cannot be nil");
        } else {
            ap_kv_status ks = ap_kv_del(c->kv, r.key, &e);
            if (ks != AP_KV_OK)
                cap_status_set(&st, miss_code(ks), "Unable to delete key %s", reason(ks, &e, false));
        }
        ok = ap_pb_put_status(response, 1, st.code, st.text);
    } else {
        json_t *root = NULL;
        if (!json_req(call, &root, &r)) {
            cap_status_set(&st, 400, "Error Parsing Input");
        } else {
            ap_kv_status ks = key_check(c->kv, r.key, &e) ? ap_kv_del(c->kv, r.key, &e)
                                                          : AP_KV_INVALID;
            if (ks != AP_KV_OK)
                cap_status_set(&st, miss_code(ks), "Unable to delete key %.*s - %s", (int)r.key.len,
                               (const char *)r.key.ptr, reason(ks, &e, false));
        }
        json_decref(root);
        ok = ap_buf_append_str(response, "{\"status\":") && cap_json_status(response, &st) &&
             ap_buf_append(response, "}", 1);
    }
    return cap_finish(&st, ok, response, error);
}

ap_wapc_host_status cap_kv_keys(ap_cap *c, const ap_wapc_call *call, ap_buf *response,
                                ap_buf *error)
{
    ap_kv_keylist keys = {0};
    ap_errbuf e;
    cap_status st;
    bool ok = true;
    cap_status_set(&st, 200, "OK");
    ap_kv_status ks = ap_kv_keys(c->kv, &keys, &e);
    if (ks != AP_KV_OK)
        cap_status_set(&st, 500, "Unable to fetch keys - %s", e.msg);
    if (call->payload.len > 0) {
        /* any non-empty payload asks for protobuf; its content is not read (§4.0) */
        ok = ap_pb_put_status(response, 1, st.code, st.text);
        for (size_t i = 0; ok && st.code == 200 && i < keys.count; i++) {
            ap_bytes k = ap_kv_keylist_at(&keys, i);
            ok = ap_pb_put_len(response, 2, k.ptr, k.len);
        }
    } else {
        /* TARMAC.md §11.10: no keys is [] on every back end; a failure is null */
        ok = ap_buf_append_str(response, st.code == 200 ? "{\"keys\":[" : "{\"keys\":null");
        for (size_t i = 0; ok && st.code == 200 && i < keys.count; i++) {
            ap_bytes k = ap_kv_keylist_at(&keys, i);
            ok = (i == 0 || ap_buf_append(response, ",", 1)) &&
                 ap_json_put_str(response, k.ptr, k.len);
        }
        ok = ok && ap_buf_append_str(response, st.code == 200 ? "],\"status\":" : ",\"status\":") &&
             cap_json_status(response, &st) && ap_buf_append(response, "}", 1);
    }
    ap_kv_keylist_free(&keys);
    return cap_finish(&st, ok, response, error);
}
