/* lmdb.c — kvstore_type `internal`, `boltdb`, `lmdb` (the default): one LMDB file
 * (boltdb_filename, MDB_NOSUBDIR) with a named database per boltdb_bucket, so the settings
 * Tarmac users already have keep their meaning. Readers never block writers; writes serialise
 * inside LMDB. Unlike bbolt, a second process may open the same file. */
#include "backend/kv.h"

#include <errno.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    ap_kv base;
    MDB_env *env;
    MDB_dbi dbi;
    size_t max_key;
} lmdb_kv;

static ap_kv_status fail(ap_errbuf *e, const char *what, int rc)
{
    ap_errbuf_set(e, "lmdb: %s: %s", what, mdb_strerror(rc));
    return rc == MDB_MAP_FULL || rc == ENOMEM ? AP_KV_FAILED
           : rc == EIO || rc == MDB_PANIC     ? AP_KV_UNAVAILABLE
                                              : AP_KV_FAILED;
}

static bool key_ok(lmdb_kv *l, ap_bytes key, ap_errbuf *e)
{
    if (key.len == 0) {
        ap_errbuf_set(e, "key cannot be nil");
        return false;
    }
    if (key.len > l->max_key) {
        ap_errbuf_set(e, "lmdb: key longer than %zu bytes", l->max_key);
        return false;
    }
    return true;
}

static ap_kv_status lmdb_get(ap_kv *kv, ap_bytes key, ap_buf *val, ap_errbuf *e)
{
    lmdb_kv *l = (lmdb_kv *)kv;
    if (!key_ok(l, key, e))
        return AP_KV_INVALID;
    MDB_txn *txn;
    int rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return fail(e, "begin", rc);
    MDB_val k = {key.len, (void *)key.ptr}, v;
    rc = mdb_get(txn, l->dbi, &k, &v);
    ap_kv_status st = AP_KV_OK;
    if (rc == MDB_NOTFOUND) {
        ap_errbuf_set(e, "key not found");
        st = AP_KV_NOTFOUND;
    } else if (rc) {
        st = fail(e, "get", rc);
    } else if (!ap_buf_append(val, v.mv_data, v.mv_size)) {
        /* the value belongs to the map and lives until the txn ends: copy before abort */
        st = fail(e, "get", ENOMEM);
    }
    mdb_txn_abort(txn);
    return st;
}

static ap_kv_status lmdb_set(ap_kv *kv, ap_bytes key, ap_bytes val, ap_errbuf *e)
{
    lmdb_kv *l = (lmdb_kv *)kv;
    if (!key_ok(l, key, e))
        return AP_KV_INVALID;
    if (val.len == 0) {
        ap_errbuf_set(e, "data cannot be empty");
        return AP_KV_INVALID;
    }
    MDB_txn *txn;
    int rc = mdb_txn_begin(l->env, NULL, 0, &txn);
    if (rc)
        return fail(e, "begin", rc);
    MDB_val k = {key.len, (void *)key.ptr}, v = {val.len, (void *)val.ptr};
    if ((rc = mdb_put(txn, l->dbi, &k, &v, 0)) != 0) {
        mdb_txn_abort(txn);
        return fail(e, "put", rc);
    }
    if ((rc = mdb_txn_commit(txn)) != 0)
        return fail(e, "commit", rc);
    return AP_KV_OK;
}

static ap_kv_status lmdb_del(ap_kv *kv, ap_bytes key, ap_errbuf *e)
{
    lmdb_kv *l = (lmdb_kv *)kv;
    if (!key_ok(l, key, e))
        return AP_KV_INVALID;
    MDB_txn *txn;
    int rc = mdb_txn_begin(l->env, NULL, 0, &txn);
    if (rc)
        return fail(e, "begin", rc);
    MDB_val k = {key.len, (void *)key.ptr};
    rc = mdb_del(txn, l->dbi, &k, NULL);
    if (rc && rc != MDB_NOTFOUND) {
        mdb_txn_abort(txn);
        return fail(e, "del", rc);
    }
    if ((rc = mdb_txn_commit(txn)) != 0)
        return fail(e, "commit", rc);
    return AP_KV_OK;
}

static ap_kv_status lmdb_keys(ap_kv *kv, ap_kv_keylist *out, ap_errbuf *e)
{
    lmdb_kv *l = (lmdb_kv *)kv;
    MDB_txn *txn;
    MDB_cursor *cur;
    int rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return fail(e, "begin", rc);
    if ((rc = mdb_cursor_open(txn, l->dbi, &cur)) != 0) {
        mdb_txn_abort(txn);
        return fail(e, "cursor", rc);
    }
    ap_kv_keylist list = {0};
    MDB_val k, v;
    /* keys come back in byte order, as bbolt's */
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        if (!ap_kv_keylist_add(&list, k.mv_data, k.mv_size)) {
            rc = ENOMEM;
            break;
        }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    if (rc != MDB_NOTFOUND) {
        ap_kv_keylist_free(&list);
        return fail(e, "keys", rc);
    }
    ap_kv_keylist_free(out);
    *out = list;
    return AP_KV_OK;
}

static ap_kv_status lmdb_ping(ap_kv *kv, ap_errbuf *e)
{
    lmdb_kv *l = (lmdb_kv *)kv;
    MDB_txn *txn;
    MDB_stat st;
    int rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &txn);
    if (rc == 0) {
        rc = mdb_stat(txn, l->dbi, &st);
        mdb_txn_abort(txn);
    }
    if (rc) {
        ap_errbuf_set(e, "lmdb: %s", mdb_strerror(rc));
        return AP_KV_UNAVAILABLE;
    }
    return AP_KV_OK;
}

static void lmdb_close(ap_kv *kv)
{
    lmdb_kv *l = (lmdb_kv *)kv;
    mdb_env_close(l->env);
    free(l);
}

static const ap_kv_ops lmdb_ops = {
    .name = "lmdb",
    .get = lmdb_get,
    .set = lmdb_set,
    .del = lmdb_del,
    .keys = lmdb_keys,
    .ping = lmdb_ping,
    .close = lmdb_close,
};

ap_kv_status ap_kv_lmdb_open(const ap_settings *s, ap_kv **out, ap_errbuf *e)
{
    const char *path = s->boltdb_filename;
    const char *bucket = s->boltdb_bucket && *s->boltdb_bucket ? s->boltdb_bucket : "tarmac";
    const char *what = "create";
    MDB_txn *txn = NULL;
    int rc = ENOMEM;
    if (!path || !*path) {
        ap_errbuf_set(e, "lmdb: boltdb_filename is empty");
        return AP_KV_INVALID;
    }
    if (s->lmdb_map_size < 65536) {
        ap_errbuf_set(e, "lmdb: lmdb_map_size %lld is below 65536 bytes",
                      (long long)s->lmdb_map_size);
        return AP_KV_INVALID;
    }
    lmdb_kv *l = calloc(1, sizeof *l);
    if (!l)
        goto fail;
    if ((rc = mdb_env_create(&l->env)) != 0)
        goto fail;
    what = "configure";
    if ((rc = mdb_env_set_mapsize(l->env, (size_t)s->lmdb_map_size)) != 0 ||
        (rc = mdb_env_set_maxdbs(l->env, 4)) != 0 ||
        (rc = mdb_env_set_maxreaders(l->env, 1024)) != 0)
        goto fail;
    what = "open";
    /* NOTLS: a read txn is tied to the txn object, not the thread (workers hop threads) */
    if ((rc = mdb_env_open(l->env, path, MDB_NOSUBDIR | MDB_NOTLS,
                           (mdb_mode_t)(s->boltdb_permissions ? s->boltdb_permissions : 0600))) !=
        0)
        goto fail;
    what = "create bucket";
    if ((rc = mdb_txn_begin(l->env, NULL, 0, &txn)) != 0)
        goto fail;
    if ((rc = mdb_dbi_open(txn, bucket, MDB_CREATE, &l->dbi)) != 0)
        goto fail;
    rc = mdb_txn_commit(txn);
    txn = NULL;
    if (rc)
        goto fail;
    l->max_key = (size_t)mdb_env_get_maxkeysize(l->env);
    l->base.ops = &lmdb_ops;
    *out = &l->base;
    return AP_KV_OK;
fail:
    ap_errbuf_set(e, "lmdb: %s %s: %s", what, path, mdb_strerror(rc));
    if (txn)
        mdb_txn_abort(txn);
    if (l && l->env)
        mdb_env_close(l->env);
    free(l);
    return AP_KV_FAILED;
}
