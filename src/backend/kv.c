/* kv.c — kvstore_type → constructor (the one table), and the key list helpers of kv.h. */
#include "backend/kv.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *type;
    ap_kv_open_fn open; /* NULL: refused, `why` says so */
    const char *why;
} kv_types[] = {
    {"in-memory", ap_kv_mem_open, NULL},
    {"internal", ap_kv_lmdb_open, NULL},
    {"boltdb", ap_kv_lmdb_open, NULL},
    {"lmdb", ap_kv_lmdb_open, NULL},
    {"", ap_kv_lmdb_open, NULL},
    {"redis", ap_kv_redis_open, NULL},
    {"nats", ap_kv_nats_open, NULL},
    /* TARMAC.md §11.11: no C driver nor server is packaged for Debian 12. */
    {"cassandra", NULL,
     "kvstore_type cassandra is not supported by apron (no C driver is available); use redis, "
     "nats, lmdb or in-memory"},
};

ap_kv_status ap_kv_open(const ap_settings *s, ap_kv **out, ap_errbuf *e)
{
    const char *type = s->kvstore_type ? s->kvstore_type : "";
    for (size_t i = 0; i < sizeof kv_types / sizeof kv_types[0]; i++) {
        if (strcasecmp(type, kv_types[i].type) != 0)
            continue;
        if (!kv_types[i].open) {
            ap_errbuf_set(e, "%s", kv_types[i].why);
            return AP_KV_INVALID;
        }
        return kv_types[i].open(s, out, e);
    }
    ap_errbuf_set(e,
                  "unknown kvstore_type \"%s\" (expected in-memory, internal, boltdb, lmdb, "
                  "redis or nats)",
                  type);
    return AP_KV_INVALID;
}

const char *ap_kv_status_name(ap_kv_status st)
{
    switch (st) {
    case AP_KV_OK:
        return "ok";
    case AP_KV_NOTFOUND:
        return "not found";
    case AP_KV_INVALID:
        return "invalid";
    case AP_KV_FAILED:
        return "failed";
    case AP_KV_UNAVAILABLE:
        return "unavailable";
    }
    return "unknown";
}

bool ap_kv_keylist_add(ap_kv_keylist *l, const void *key, size_t len)
{
    if (l->count == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        size_t *n = realloc(l->ends, ncap * sizeof *n);
        if (!n)
            return false;
        l->ends = n;
        l->cap = ncap;
    }
    if (!ap_buf_append(&l->data, key, len))
        return false;
    l->ends[l->count++] = l->data.len;
    return true;
}

ap_bytes ap_kv_keylist_at(const ap_kv_keylist *l, size_t i)
{
    size_t start = i ? l->ends[i - 1] : 0;
    return (ap_bytes){l->data.data + start, l->ends[i] - start};
}

void ap_kv_keylist_free(ap_kv_keylist *l)
{
    ap_buf_free(&l->data);
    free(l->ends);
    memset(l, 0, sizeof *l);
}
