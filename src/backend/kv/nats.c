/* nats.c — kvstore_type `nats`: a NATS JetStream key-value bucket through libnats (nats.c):
 * nats_url, or the cluster URLs in nats_servers, and the bucket nats_bucket, created with the
 * library's defaults when it does not exist (TARMAC.md §5.2–5.3).
 *
 * One connection and one kvStore serve every worker thread (libnats objects are thread-safe).
 * The connection reconnects by itself, forever, every 250 ms; while it is not connected every op
 * fails at once with AP_KV_UNAVAILABLE, and JetStream requests time out after 1 s, so a dead
 * server never holds a caller longer than that.
 *
 * Keys are NATS subjects' tokens: letters, digits and - / _ = . (no leading or trailing dot); a
 * key the server cannot take fails with the library's reason (AP_KV_FAILED). */
#include "backend/kv.h"

#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQUEST_MS 1000        /* JetStream API requests (get, put, delete, keys, status) */
#define CONNECT_MS 2000        /* initial connection */
#define RECONNECT_WAIT_MS 250

typedef struct {
    ap_kv base;
    natsConnection *nc;
    jsCtx *js;
    kvStore *store;
    char bucket[256];
} nats_kv;

/* The library's words for a failed call: its last error text when it has one. */
static void set_error(ap_errbuf *e, const char *what, natsStatus s)
{
    natsStatus last = NATS_OK;
    const char *text = nats_GetLastError(&last);
    if (text && text[0] && last == s)
        ap_errbuf_set(e, "nats: %s: %s", what, text);
    else
        ap_errbuf_set(e, "nats: %s: %s", what, natsStatus_GetText(s));
}

static ap_kv_status status_of(natsStatus s)
{
    switch (s) {
    case NATS_OK:
        return AP_KV_OK;
    case NATS_NOT_FOUND:
        return AP_KV_NOTFOUND;
    case NATS_IO_ERROR:
    case NATS_CONNECTION_CLOSED:
    case NATS_NO_SERVER:
    case NATS_STALE_CONNECTION:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_TIMEOUT:
    case NATS_NOT_YET_CONNECTED:
    case NATS_NO_RESPONDERS:
    case NATS_DRAINING:
        return AP_KV_UNAVAILABLE;
    default:
        return AP_KV_FAILED;
    }
}

/* AP_KV_OK while connected; a reconnecting connection fails fast instead of buffering. */
static ap_kv_status connected(nats_kv *n, ap_errbuf *e)
{
    natsConnStatus cs = natsConnection_Status(n->nc);
    if (cs == NATS_CONN_STATUS_CONNECTED)
        return AP_KV_OK;
    ap_errbuf_set(e, "nats: not connected (%s)",
                  cs == NATS_CONN_STATUS_RECONNECTING ? "reconnecting" : "disconnected");
    return AP_KV_UNAVAILABLE;
}

/* The key as a C string (libnats takes no lengths); keys holding a NUL byte cannot exist. */
static ap_kv_status key_text(ap_bytes key, char *small, size_t smallsz, char **out, ap_errbuf *e)
{
    if (key.len == 0) {
        ap_errbuf_set(e, "key cannot be nil");
        return AP_KV_INVALID;
    }
    if (memchr(key.ptr, 0, key.len)) {
        ap_errbuf_set(e, "nats: invalid key (NUL byte)");
        return AP_KV_FAILED;
    }
    char *k = key.len < smallsz ? small : malloc(key.len + 1);
    if (!k) {
        ap_errbuf_set(e, "nats: out of memory");
        return AP_KV_FAILED;
    }
    memcpy(k, key.ptr, key.len);
    k[key.len] = '\0';
    *out = k;
    return AP_KV_OK;
}

static ap_kv_status nats_get(ap_kv *kv, ap_bytes key, ap_buf *val, ap_errbuf *e)
{
    nats_kv *n = (nats_kv *)kv;
    char small[256], *k = NULL;
    ap_kv_status st = key_text(key, small, sizeof small, &k, e);
    if (st != AP_KV_OK || (st = connected(n, e)) != AP_KV_OK)
        goto out;
    kvEntry *ent = NULL;
    natsStatus s = kvStore_Get(&ent, n->store, k);
    if (s == NATS_NOT_FOUND) {
        ap_errbuf_set(e, "nil value returned from database");
        st = AP_KV_NOTFOUND;
    } else if (s != NATS_OK) {
        set_error(e, "get", s);
        st = status_of(s);
    } else {
        if (!ap_buf_append(val, kvEntry_Value(ent), (size_t)kvEntry_ValueLen(ent))) {
            ap_errbuf_set(e, "nats: get: out of memory");
            st = AP_KV_FAILED;
        }
        kvEntry_Destroy(ent);
    }
out:
    if (k != small)
        free(k);
    return st;
}

static ap_kv_status nats_set(ap_kv *kv, ap_bytes key, ap_bytes val, ap_errbuf *e)
{
    nats_kv *n = (nats_kv *)kv;
    if (key.len && val.len == 0) {
        ap_errbuf_set(e, "data cannot be empty");
        return AP_KV_INVALID;
    }
    if (val.len > INT32_MAX) {
        ap_errbuf_set(e, "nats: value too large");
        return AP_KV_FAILED;
    }
    char small[256], *k = NULL;
    ap_kv_status st = key_text(key, small, sizeof small, &k, e);
    if (st != AP_KV_OK)
        return st;
    if ((st = connected(n, e)) == AP_KV_OK) {
        natsStatus s = kvStore_Put(NULL, n->store, k, val.ptr, (int)val.len);
        if (s != NATS_OK) {
            set_error(e, "put", s);
            st = status_of(s) == AP_KV_NOTFOUND ? AP_KV_FAILED : status_of(s);
        }
    }
    if (k != small)
        free(k);
    return st;
}

static ap_kv_status nats_del(ap_kv *kv, ap_bytes key, ap_errbuf *e)
{
    nats_kv *n = (nats_kv *)kv;
    char small[256], *k = NULL;
    ap_kv_status st = key_text(key, small, sizeof small, &k, e);
    if (st != AP_KV_OK)
        return st;
    if ((st = connected(n, e)) == AP_KV_OK) {
        natsStatus s = kvStore_Delete(n->store, k);
        if (s != NATS_OK && s != NATS_NOT_FOUND) {
            set_error(e, "delete", s);
            st = status_of(s);
        }
    }
    if (k != small)
        free(k);
    return st;
}

static ap_kv_status nats_keys(ap_kv *kv, ap_kv_keylist *out, ap_errbuf *e)
{
    nats_kv *n = (nats_kv *)kv;
    ap_kv_status st = connected(n, e);
    if (st != AP_KV_OK)
        return st;
    kvKeysList list = {0};
    natsStatus s = kvStore_Keys(&list, n->store, NULL);
    if (s == NATS_NOT_FOUND) /* an empty bucket */
        return AP_KV_OK;
    if (s != NATS_OK) {
        set_error(e, "keys", s);
        return status_of(s);
    }
    ap_kv_keylist got = {0};
    for (int i = 0; i < list.Count; i++) {
        if (!ap_kv_keylist_add(&got, list.Keys[i], strlen(list.Keys[i]))) {
            ap_errbuf_set(e, "nats: keys: out of memory");
            ap_kv_keylist_free(&got);
            kvKeysList_Destroy(&list);
            return AP_KV_FAILED;
        }
    }
    kvKeysList_Destroy(&list);
    ap_kv_keylist_free(out); /* empty on entry */
    *out = got;
    return AP_KV_OK;
}

static ap_kv_status nats_ping(ap_kv *kv, ap_errbuf *e)
{
    nats_kv *n = (nats_kv *)kv;
    if (connected(n, e) != AP_KV_OK)
        return AP_KV_UNAVAILABLE;
    kvStatus *sts = NULL;
    natsStatus s = kvStore_Status(&sts, n->store);
    if (s != NATS_OK) {
        set_error(e, "bucket status", s);
        return AP_KV_UNAVAILABLE;
    }
    kvStatus_Destroy(sts);
    return AP_KV_OK;
}

static void nats_close(ap_kv *kv)
{
    nats_kv *n = (nats_kv *)kv;
    kvStore_Destroy(n->store);
    jsCtx_Destroy(n->js);
    if (n->nc) {
        natsConnection_Close(n->nc);
        natsConnection_Destroy(n->nc);
    }
    free(n);
}

static const ap_kv_ops nats_ops = {
    .name = "nats",
    .get = nats_get,
    .set = nats_set,
    .del = nats_del,
    .keys = nats_keys,
    .ping = nats_ping,
    .close = nats_close,
};

static bool bucket_name_ok(const char *b)
{
    if (!b[0])
        return false;
    for (const char *p = b; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            return false;
    return true;
}

/* Connects (failing the start when no server answers, as Tarmac does), then opens the bucket
 * or creates it. */
ap_kv_status ap_kv_nats_open(const ap_settings *s, ap_kv **out, ap_errbuf *e)
{
    const char *bucket = s->nats_bucket ? s->nats_bucket : "";
    if (!bucket_name_ok(bucket) || strlen(bucket) >= sizeof ((nats_kv *)0)->bucket) {
        ap_errbuf_set(e, "nats: nats_bucket \"%s\" must match ^[a-zA-Z0-9_-]+$", bucket);
        return AP_KV_INVALID;
    }
    nats_kv *n = calloc(1, sizeof *n);
    natsOptions *opts = NULL;
    natsStatus st = NATS_NO_MEMORY;
    const char *what = "options";
    if (!n)
        goto fail;
    n->base.ops = &nats_ops;
    strcpy(n->bucket, bucket);
    if ((st = natsOptions_Create(&opts)) != NATS_OK)
        goto fail;
    if (s->nats_servers.n > 0)
        st = natsOptions_SetServers(opts, (const char **)s->nats_servers.v,
                                    (int)s->nats_servers.n);
    else
        st = natsOptions_SetURL(opts, s->nats_url && s->nats_url[0] ? s->nats_url
                                                                    : "nats://localhost:4222");
    if (st != NATS_OK)
        goto fail;
    if ((st = natsOptions_SetTimeout(opts, CONNECT_MS)) != NATS_OK ||
        (st = natsOptions_SetAllowReconnect(opts, true)) != NATS_OK ||
        (st = natsOptions_SetMaxReconnect(opts, -1)) != NATS_OK ||
        (st = natsOptions_SetReconnectWait(opts, RECONNECT_WAIT_MS)) != NATS_OK)
        goto fail;
    what = "connect";
    if ((st = natsConnection_Connect(&n->nc, opts)) != NATS_OK)
        goto fail;
    jsOptions jo;
    what = "jetstream";
    if ((st = jsOptions_Init(&jo)) != NATS_OK)
        goto fail;
    jo.Wait = REQUEST_MS;
    if ((st = natsConnection_JetStream(&n->js, n->nc, &jo)) != NATS_OK)
        goto fail;
    what = "open bucket";
    st = js_KeyValue(&n->store, n->js, bucket);
    if (st == NATS_NOT_FOUND) {
        kvConfig cfg;
        what = "create bucket";
        if ((st = kvConfig_Init(&cfg)) != NATS_OK)
            goto fail;
        cfg.Bucket = bucket;
        st = js_CreateKeyValue(&n->store, n->js, &cfg);
    }
    if (st != NATS_OK)
        goto fail;
    natsOptions_Destroy(opts);
    *out = &n->base;
    return AP_KV_OK;
fail:
    set_error(e, what, st);
    if (st == NATS_NO_SERVER)
        ap_errbuf_set(e, "nats: connect %s: no server available",
                      s->nats_servers.n ? s->nats_servers.v[0] : s->nats_url);
    natsOptions_Destroy(opts);
    if (n)
        nats_close(&n->base);
    return status_of(st) == AP_KV_OK || status_of(st) == AP_KV_NOTFOUND ? AP_KV_FAILED
                                                                        : status_of(st);
}
