/* cap.h — Tarmac's host capabilities (TARMAC.md §4): logger, kvstore, sql, httpclient, metrics
 * and function, byte-compatible with Tarmac's protobuf and JSON messages, registered into the
 * waPC host-call registry under binding `tarmac` (and its alias `default`). cap → backend for
 * storage, cap → pool for function-to-function calls; wapc never includes cap.
 *
 * Threads: an ap_cap is built on one thread before any instance exists, then its handlers run on
 * any number of worker threads at once; they block the calling worker only (back-end calls,
 * HTTP requests), never the HTTP event loop (src/http runs guests on worker threads). */
#ifndef AP_CAP_H
#define AP_CAP_H

#include <stdbool.h>
#include <stddef.h>

#include "backend/kv.h"
#include "backend/sql.h"
#include "base/errbuf.h"
#include "config/config.h"
#include "pool/pool.h"
#include "wapc/wapc.h"

typedef struct ap_cap ap_cap;

typedef struct {
    const ap_settings *settings; /* borrowed, must outlive the ap_cap */
    const ap_tarmac *tarmac;     /* borrowed, may be NULL: function routes, allowed_hosts */
    /* Back ends. NULL: opened here from the settings when enable_kvstore / enable_sql are set
     * (and then owned by the ap_cap); non-NULL: borrowed (tests inject them). */
    ap_kv *kv;
    ap_sql *sql;
} ap_cap_config;

/* Opens the back ends the settings ask for and prepares every capability. On failure returns
 * false with e naming the back end and the reason ("kvstore lmdb: open …"). */
bool ap_cap_new(const ap_cap_config *cfg, ap_cap **out, ap_errbuf *e);
/* Adds every handler to reg: tarmac:logger:*, tarmac:httpclient:call, tarmac:metrics:*, then
 * tarmac:kvstore:* and tarmac:sql:* when a back end is present, and tarmac:function:<name> for
 * each `function` route of the tarmac.json (they override earlier registrations of the same
 * names), plus the alias default → tarmac. Before any instance exists. False on OOM. */
bool ap_cap_register(ap_cap *c, ap_wapc_registry *reg);
/* The functions that tarmac:function:<name> calls (borrowed; set once they are loaded, before
 * serving). A name not found answers "unable to load wasi environment - module not found". */
void ap_cap_bind_functions(ap_cap *c, ap_pool_fn *const *fns, size_t nfns);
/* Readiness for /ready (TARMAC.md §2.6, §11.12): the KV and SQL back ends' ping. Any thread. */
bool ap_cap_ready(ap_cap *c, ap_errbuf *e);
ap_kv *ap_cap_kv(ap_cap *c);
ap_sql *ap_cap_sql(ap_cap *c);
void ap_cap_free(ap_cap *c); /* no handler may be running; NULL is a no-op */

/* Back ends shared by every ap_cap of the process (serve's generations): opened from the
 * settings (enable_kvstore / enable_sql; NULL when off), installed as the /ready probe
 * (base/ready.h: KV and SQL pings, logged once per failure). Close with ap_cap_backends_close. */
typedef struct {
    ap_kv *kv;
    ap_sql *sql;
} ap_cap_backends;
bool ap_cap_backends_open(const ap_settings *s, ap_cap_backends *b, ap_errbuf *e);
void ap_cap_backends_close(ap_cap_backends *b); /* removes the probe */

#endif
