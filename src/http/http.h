/* http.h — the HTTP(S) listener on libmicrohttpd (the only folder that includes its header).
 *
 * Threading: MHD runs an epoll event loop on `http_threads` threads (MHD's thread pool), which
 * accept connections, parse requests and read bodies. Built-in handlers (/health, /ready,
 * /metrics, 404/405/413) answer right there. A request for a function is suspended
 * (MHD_suspend_connection) and queued to `wasm_workers` worker threads; the worker runs the
 * guest, stores the response and resumes the connection, and MHD's thread sends it. Guests never
 * run on the event-loop threads, so a slow guest never stalls other connections.
 *
 * http → router → pool. */
#ifndef AP_HTTP_H
#define AP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/errbuf.h"
#include "config/config.h"
#include "pool/pool.h"
#include "router/router.h"

typedef enum {
    AP_HTTP_OK = 0,
    AP_HTTP_BAD_ADDRESS, /* listen_addr is not host:port */
    AP_HTTP_TLS,         /* certificate, key or CA unusable */
    AP_HTTP_LISTEN,      /* bind/listen failed */
    AP_HTTP_NOMEM,
} ap_http_status;

typedef struct ap_http ap_http;

typedef struct {
    const ap_settings *settings; /* borrowed: limits, TLS files, dynamic flags */
    const ap_router *router;     /* borrowed */
    ap_pool_fn *const *fns;      /* borrowed: the functions routes name */
    size_t nfns;
} ap_http_config;

/* Binds and starts serving. *out only on AP_HTTP_OK; e says why otherwise. */
ap_http_status ap_http_start(const ap_http_config *cfg, ap_http **out, ap_errbuf *e);
/* "ADDR:PORT" actually bound (port 0 resolved). */
const char *ap_http_address(const ap_http *h);
/* Graceful stop: stop accepting, let in-flight requests finish (at most timeout_s seconds), then
 * close every connection and join the threads. Returns the number of requests cut off. */
unsigned ap_http_stop(ap_http *h, int64_t timeout_s);

/* Content-Type for a response body (TARMAC.md §11.5); NULL for an empty body. */
const char *ap_http_sniff(const uint8_t *body, size_t len);

#endif
