/* kv.h — the key-value seam: the kvstore capability (src/cap/kvstore.c) sees nothing else.
 * cap → [backend]. One ops table per back end, one constructor per back end, one table in kv.c
 * mapping `kvstore_type` to a constructor (STYLE.md §2.5).
 *
 * The back ends: kv/mem.c (`in-memory`), kv/lmdb.c (`internal`, `boltdb`, `lmdb`), kv/redis.c
 * (`redis`), kv/nats.c (`nats`); docs/capabilities.md and docs/backends.md describe them.
 *
 * Threads: every op may run on many worker threads at once, on the same ap_kv. A back end that
 * needs per-thread or pooled connections (hiredis) keeps them itself. open and close run on one
 * thread, with no op in flight.
 *
 * Errors (STYLE.md §2.6): each op returns a status; outputs stay untouched unless it is AP_KV_OK;
 * the reason goes into the caller's ap_errbuf in the back end's words (the library's text,
 * e.g. mdb_strerror). Tarmac's status codes and texts are written in src/cap/, never here; for
 * AP_KV_NOTFOUND and AP_KV_INVALID cap uses hord's fixed texts (TARMAC.md §4.4), so those are
 * the same on every back end whatever e says. */
#ifndef AP_BACKEND_KV_H
#define AP_BACKEND_KV_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/errbuf.h"
#include "config/config.h"

typedef enum {
    AP_KV_OK = 0,
    AP_KV_NOTFOUND,    /* get: no such key (delete of a missing key is AP_KV_OK) */
    AP_KV_INVALID,     /* the request itself is wrong: empty key, empty value, key too long */
    AP_KV_FAILED,      /* the store answered with an error */
    AP_KV_UNAVAILABLE, /* outage, timeout, connection lost: statuses >= 500, /ready 503 */
} ap_kv_status;

const char *ap_kv_status_name(ap_kv_status st); /* "ok", "not found", ... */

/* A list of keys: owned bytes back to back plus their end offsets. Zero-initialised is empty. */
typedef struct {
    ap_buf data;
    size_t *ends; /* ends[i]: offset one past key i in data */
    size_t count, cap;
} ap_kv_keylist;

bool ap_kv_keylist_add(ap_kv_keylist *l, const void *key, size_t len); /* false on OOM */
ap_bytes ap_kv_keylist_at(const ap_kv_keylist *l, size_t i); /* valid until the next add/free */
void ap_kv_keylist_free(ap_kv_keylist *l);                   /* back to empty */

typedef struct ap_kv ap_kv;

typedef struct {
    const char *name; /* the back end, as in logs: "lmdb", "in-memory", "redis", "nats" */
    /* Appends the value of `key` to `val` (the caller's; empty on entry). Missing key →
     * AP_KV_NOTFOUND, empty key → AP_KV_INVALID. Values are opaque bytes. */
    ap_kv_status (*get)(ap_kv *kv, ap_bytes key, ap_buf *val, ap_errbuf *e);
    /* Stores a copy of val under key, replacing any value. Empty key or empty value →
     * AP_KV_INVALID (hord's rules, TARMAC.md §4.4). */
    ap_kv_status (*set)(ap_kv *kv, ap_bytes key, ap_bytes val, ap_errbuf *e);
    /* Removes key; a missing key is AP_KV_OK. Empty key → AP_KV_INVALID. */
    ap_kv_status (*del)(ap_kv *kv, ap_bytes key, ap_errbuf *e);
    /* Appends every key to `out` (the caller's; empty on entry), in the back end's order. */
    ap_kv_status (*keys)(ap_kv *kv, ap_kv_keylist *out, ap_errbuf *e);
    /* Health for /ready: AP_KV_OK or AP_KV_UNAVAILABLE. Must answer within about a second. */
    ap_kv_status (*ping)(ap_kv *kv, ap_errbuf *e);
    /* Frees everything; no op may be running. */
    void (*close)(ap_kv *kv);
} ap_kv_ops;

/* Each back end embeds this as its first member (h2o's `super`). */
struct ap_kv {
    const ap_kv_ops *ops;
};

static inline ap_kv_status ap_kv_get(ap_kv *kv, ap_bytes key, ap_buf *val, ap_errbuf *e)
{
    return kv->ops->get(kv, key, val, e);
}
static inline ap_kv_status ap_kv_set(ap_kv *kv, ap_bytes key, ap_bytes val, ap_errbuf *e)
{
    return kv->ops->set(kv, key, val, e);
}
static inline ap_kv_status ap_kv_del(ap_kv *kv, ap_bytes key, ap_errbuf *e)
{
    return kv->ops->del(kv, key, e);
}
static inline ap_kv_status ap_kv_keys(ap_kv *kv, ap_kv_keylist *out, ap_errbuf *e)
{
    return kv->ops->keys(kv, out, e);
}
static inline ap_kv_status ap_kv_ping(ap_kv *kv, ap_errbuf *e)
{
    return kv->ops->ping(kv, e);
}
static inline void ap_kv_close(ap_kv *kv) /* NULL is a no-op */
{
    if (kv)
        kv->ops->close(kv);
}

/* Constructors: each reads its keys from the settings (TARMAC.md §5.2 plus apron's own), checks
 * them, connects or opens, and on AP_KV_OK sets *out (the caller's: ap_kv_close). On failure
 * *out is untouched and e says why ("lmdb: open /data/x.db: Permission denied"). Network back
 * ends may connect lazily, but must then report outages as AP_KV_UNAVAILABLE from the ops. */
typedef ap_kv_status (*ap_kv_open_fn)(const ap_settings *s, ap_kv **out, ap_errbuf *e);

ap_kv_status ap_kv_mem_open(const ap_settings *s, ap_kv **out, ap_errbuf *e);
/* LMDB: file boltdb_filename (MDB_NOSUBDIR; the lock file is <file>-lock; the folder must
 * exist), mode boltdb_permissions, map size lmdb_map_size bytes. */
ap_kv_status ap_kv_lmdb_open(const ap_settings *s, ap_kv **out, ap_errbuf *e);
ap_kv_status ap_kv_redis_open(const ap_settings *s, ap_kv **out, ap_errbuf *e);
ap_kv_status ap_kv_nats_open(const ap_settings *s, ap_kv **out, ap_errbuf *e);

/* Opens the back end named by s->kvstore_type: "in-memory"; "internal", "boltdb", "lmdb" (and
 * "" — the default); "redis"; "nats". "cassandra" and unknown names fail with
 * AP_KV_INVALID and a message saying why. */
ap_kv_status ap_kv_open(const ap_settings *s, ap_kv **out, ap_errbuf *e);

#endif
