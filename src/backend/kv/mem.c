/* mem.c — kvstore_type `in-memory`: a process-local hash map (open addressing would need
 * tombstones; chained buckets keep delete simple), guarded by one rwlock. Lost on exit. */
#include "backend/kv.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct mem_entry {
    struct mem_entry *next;
    uint64_t hash;
    size_t klen, vlen;
    uint8_t bytes[]; /* key then value */
} mem_entry;

typedef struct {
    ap_kv base;
    pthread_rwlock_t lock;
    mem_entry **buckets;
    size_t nbuckets, count;
} mem_kv;

static uint64_t hash_bytes(ap_bytes k) /* FNV-1a */
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < k.len; i++) {
        h ^= k.ptr[i];
        h *= 1099511628211ull;
    }
    return h;
}

static mem_entry **find(mem_kv *m, ap_bytes key, uint64_t h)
{
    mem_entry **pp = &m->buckets[h & (m->nbuckets - 1)];
    for (; *pp; pp = &(*pp)->next)
        if ((*pp)->hash == h && (*pp)->klen == key.len && memcmp((*pp)->bytes, key.ptr, key.len) == 0)
            return pp;
    return pp;
}

static bool grow(mem_kv *m)
{
    size_t n = m->nbuckets * 2;
    mem_entry **b = calloc(n, sizeof *b);
    if (!b)
        return false;
    for (size_t i = 0; i < m->nbuckets; i++) {
        for (mem_entry *e = m->buckets[i], *next; e; e = next) {
            next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = n;
    return true;
}

static ap_kv_status mem_get(ap_kv *kv, ap_bytes key, ap_buf *val, ap_errbuf *e)
{
    mem_kv *m = (mem_kv *)kv;
    ap_kv_status st = AP_KV_OK;
    if (key.len == 0) { /* as every other back end */
        ap_errbuf_set(e, "key cannot be nil");
        return AP_KV_INVALID;
    }
    pthread_rwlock_rdlock(&m->lock);
    mem_entry *en = *find(m, key, hash_bytes(key));
    if (!en) {
        ap_errbuf_set(e, "key not found");
        st = AP_KV_NOTFOUND;
    } else if (!ap_buf_append(val, en->bytes + en->klen, en->vlen)) {
        ap_errbuf_set(e, "out of memory");
        st = AP_KV_FAILED;
    }
    pthread_rwlock_unlock(&m->lock);
    return st;
}

static ap_kv_status mem_set(ap_kv *kv, ap_bytes key, ap_bytes val, ap_errbuf *e)
{
    mem_kv *m = (mem_kv *)kv;
    if (key.len == 0 || val.len == 0) {
        ap_errbuf_set(e, key.len == 0 ? "key cannot be nil" : "data cannot be empty");
        return AP_KV_INVALID;
    }
    if (key.len > SIZE_MAX / 2 || val.len > SIZE_MAX / 2 - key.len - sizeof(mem_entry)) {
        ap_errbuf_set(e, "value too large");
        return AP_KV_INVALID;
    }
    mem_entry *n = malloc(sizeof *n + key.len + val.len);
    if (!n) {
        ap_errbuf_set(e, "out of memory");
        return AP_KV_FAILED;
    }
    n->hash = hash_bytes(key);
    n->klen = key.len;
    n->vlen = val.len;
    memcpy(n->bytes, key.ptr, key.len);
    memcpy(n->bytes + key.len, val.ptr, val.len);
    pthread_rwlock_wrlock(&m->lock);
    mem_entry **pp = find(m, key, n->hash);
    if (*pp) {
        mem_entry *old = *pp;
        n->next = old->next;
        *pp = n;
        free(old);
    } else {
        n->next = NULL;
        *pp = n;
        m->count++;
        if (m->count > m->nbuckets)
            grow(m); /* on OOM the chains just get longer */
    }
    pthread_rwlock_unlock(&m->lock);
    return AP_KV_OK;
}

static ap_kv_status mem_del(ap_kv *kv, ap_bytes key, ap_errbuf *e)
{
    mem_kv *m = (mem_kv *)kv;
    if (key.len == 0) {
        ap_errbuf_set(e, "key cannot be nil");
        return AP_KV_INVALID;
    }
    pthread_rwlock_wrlock(&m->lock);
    mem_entry **pp = find(m, key, hash_bytes(key));
    if (*pp) {
        mem_entry *old = *pp;
        *pp = old->next;
        free(old);
        m->count--;
    }
    pthread_rwlock_unlock(&m->lock);
    return AP_KV_OK;
}

static ap_kv_status mem_keys(ap_kv *kv, ap_kv_keylist *out, ap_errbuf *e)
{
    mem_kv *m = (mem_kv *)kv;
    ap_kv_keylist l = {0};
    ap_kv_status st = AP_KV_OK;
    pthread_rwlock_rdlock(&m->lock);
    for (size_t i = 0; i < m->nbuckets && st == AP_KV_OK; i++)
        for (mem_entry *en = m->buckets[i]; en && st == AP_KV_OK; en = en->next)
            if (!ap_kv_keylist_add(&l, en->bytes, en->klen))
                st = AP_KV_FAILED;
    pthread_rwlock_unlock(&m->lock);
    if (st != AP_KV_OK) {
        ap_errbuf_set(e, "out of memory");
        ap_kv_keylist_free(&l);
        return st;
    }
    ap_kv_keylist_free(out);
    *out = l;
    return AP_KV_OK;
}

static ap_kv_status mem_ping(ap_kv *kv, ap_errbuf *e)
{
    return AP_KV_OK;
}

static void mem_close(ap_kv *kv)
{
    mem_kv *m = (mem_kv *)kv;
    for (size_t i = 0; i < m->nbuckets; i++)
        for (mem_entry *en = m->buckets[i], *next; en; en = next) {
            next = en->next;
            free(en);
        }
    free(m->buckets);
    pthread_rwlock_destroy(&m->lock);
    free(m);
}

static const ap_kv_ops mem_ops = {
    .name = "in-memory",
    .get = mem_get,
    .set = mem_set,
    .del = mem_del,
    .keys = mem_keys,
    .ping = mem_ping,
    .close = mem_close,
};

ap_kv_status ap_kv_mem_open(const ap_settings *s, ap_kv **out, ap_errbuf *e)
{
    mem_kv *m = calloc(1, sizeof *m);
    if (m)
        m->buckets = calloc(64, sizeof *m->buckets);
    if (!m || !m->buckets || pthread_rwlock_init(&m->lock, NULL) != 0) {
        if (m)
            free(m->buckets);
        free(m);
        ap_errbuf_set(e, "in-memory: out of memory");
        return AP_KV_FAILED;
    }
    m->nbuckets = 64;
    m->base.ops = &mem_ops;
    *out = &m->base;
    return AP_KV_OK;
}
