/* internal.h — what server.c and context.c share: the context an HTTP-triggered invocation
 * carries to the `tarmac:request:*` / `tarmac:response:*` host calls (http.h). Private to
 * src/http/. */
#ifndef AP_HTTP_INTERNAL_H
#define AP_HTTP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <microhttpd.h>

#include "base/buf.h"
#include "router/router.h"

#define AP_HTTP_INVOCATION_MAGIC 0x68747470u /* "http": the context is ours */

/* Lives on the stack of the thread running one invocation: a worker, with the connection
 * suspended meanwhile (so reading its headers from there is safe), or the MHD thread that owns
 * the connection. */
typedef struct {
    uint32_t magic;
    struct MHD_Connection *conn;
    const char *method;
    const char *path;            /* as received: escaped, without the query */
    const char *query;           /* as received, without '?'; NULL or "" when none */
    const ap_router_match *match; /* route parameters */
    /* Set by the guest. */
    unsigned status;             /* 0: not set */
    ap_buf headers;              /* "Name\0value\0" pairs, in the order added */
    bool has_content_type;
} ap_http_invocation;

#endif
