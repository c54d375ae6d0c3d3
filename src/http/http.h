/* http.h — the HTTP(S) listener on libmicrohttpd (the only folder that includes its header).
 *
 * Threading (`http_threading`, README "Threading"). Either way apron's own listener thread
 * (listener.h) is the only one that accepts; it hands each connection to libmicrohttpd.
 * - "event-loop" (default): MHD runs an epoll event loop on `http_threads` threads (MHD's thread
 *   pool), which parse requests, read bodies and answer built-ins (/health, /metrics,
 *   404/405/413). A function whose last 8 calls were each quick (under 0.5 ms) and made no host
 *   call that may wait (base/blocking.h) runs right there, on an instance already idle. Any
 *   other function request, and /ready (it asks the back ends), is suspended
 *   (MHD_suspend_connection) and queued to `wasm_workers` worker threads; the worker runs the
 *   guest, stores the response and resumes the connection, and MHD's thread sends it. A call
 *   that breaks the rule sends its function back to the workers when it ends, or as soon as
 *   another event-loop thread gets a request for the function while that call has run past the
 *   budget; until it ends it holds its own thread's other connections (timeout_ms bounds it,
 *   WASI sleeps included).
 * - "connection": each connection has a thread of its own that parses its requests, answers
 *   built-ins, runs guests and sends the responses. A slow guest holds only its own connection,
 *   which HTTP/1.1 serialises anyway.
 *
 * Routes and functions form a table that ap_http_swap replaces while serving (SIGHUP reload): a
 * request holds the table it was routed with until it completes, so none is dropped.
 *
 * During a function's invocation for a request, the host calls `tarmac:request:*` and
 * `tarmac:response:*` (issue 9, docs/http-apis.md) give the guest the request's method, path,
 * query, headers, remote address and route parameters, and let it choose the status and add
 * headers. They are registered by ap_http_register_host_calls.
 *
 * http → router → pool. */
#ifndef AP_HTTP_H
#define AP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/errbuf.h"
#include "config/config.h"
#include "pool/pool.h"
#include "router/router.h"

typedef enum {
    AP_HTTP_OK = 0,
    AP_HTTP_BAD_ADDRESS, /* listen_addr is not host:port, or its host does not resolve */
    AP_HTTP_TLS,         /* certificate, key or CA unusable */
    AP_HTTP_LISTEN,      /* bind/listen failed */
    AP_HTTP_NOMEM,
    AP_HTTP_BAD_SETTING, /* http_threading is neither "connection" nor "event-loop" */
} ap_http_status;

typedef struct ap_http ap_http;

/* What requests are routed to. Borrowed by the server until ap_http_swap replaces it and returns
 * (or ap_http_stop returns). */
typedef struct {
    const ap_router *router;
    ap_pool_fn *const *fns; /* the functions routes name */
    size_t nfns;
} ap_http_routes;

typedef struct {
    const ap_settings *settings; /* borrowed: limits, TLS files, dynamic flags */
    ap_http_routes routes;
    /* No listening socket (listen_addr is not read): connections arrive only through
     * ap_http_add_connection. For in-process drivers: tests/fuzz/fuzz_server.c, unit tests. */
    bool no_listen;
} ap_http_config;

/* Binds and starts serving. *out only on AP_HTTP_OK; e says why otherwise. */
ap_http_status ap_http_start(const ap_http_config *cfg, ap_http **out, ap_errbuf *e);
/* Routes new requests with `routes` (copied; its router and functions borrowed) and returns once
 * no request uses the previous table any more: the caller may then free what it pointed to.
 * Called from one thread at a time (the one that started the server). False on OOM (nothing
 * changed). */
bool ap_http_swap(ap_http *h, const ap_http_routes *routes);
/* Adds the handlers of `tarmac:request:*` and `tarmac:response:*` to reg (before any instance
 * using reg exists). They read the context that the server gives each invocation it starts;
 * elsewhere (init, scheduled task, function-to-function call) request:* fails with "no http
 * request in this context" and response:* succeeds without effect. False on OOM. */
bool ap_http_register_host_calls(ap_wapc_registry *reg);
/* Serves an already connected stream socket (any family: a socketpair will do) as if it had been
 * accepted; addr is the peer address the request context reports. The server owns fd from then
 * on and closes it, also when this fails (false: out of memory, too many connections). */
bool ap_http_add_connection(ap_http *h, int fd, const struct sockaddr *addr, socklen_t addrlen);
/* What the server is doing now (any thread; each figure read on its own). */
typedef struct {
    unsigned connections; /* open, accepted or added; a closed one counts until libmicrohttpd has
                             cleaned it up (its request's completion has run by then) */
    long requests;        /* begun (request line read) and not completed */
    long running;         /* guests running, or queued for a worker, for a request */
} ap_http_load;
void ap_http_get_load(const ap_http *h, ap_http_load *out);
/* "ADDR:PORT" actually bound (port 0 resolved); "-" with no_listen. */
const char *ap_http_address(const ap_http *h);
/* Graceful stop: stop accepting, let in-flight requests finish (at most timeout_s seconds), then
 * close every connection and join the threads. Returns the number of requests cut off. */
unsigned ap_http_stop(ap_http *h, int64_t timeout_s);

/* Content-Type for a response body (TARMAC.md §11.5); NULL for an empty body. */
const char *ap_http_sniff(const uint8_t *body, size_t len);

#endif
