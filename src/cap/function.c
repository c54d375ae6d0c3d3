/* function.c — tarmac:function:<name> (TARMAC.md §4.8): the payload goes to the callee's
 * `handler` through its pool, its output comes back. A call made from inside a callee runs
 * nested on the same worker thread, so a thread-local counter is the chain's depth: beyond
 * function_max_depth (default 16) the call fails cleanly instead of exhausting pools or stacks. */
#include "cap/internal.h"

#include <string.h>

#include "base/log.h"

static _Thread_local int depth;

ap_wapc_host_status cap_function(ap_cap *c, const ap_wapc_call *call, ap_buf *response,
                                 ap_buf *error)
{
    ap_pool_fn *fn = NULL;
    for (size_t i = 0; i < c->nfns && !fn; i++) {
        const char *n = ap_pool_fn_name(c->fns[i]);
        if (strlen(n) == call->operation.len && memcmp(n, call->operation.ptr, call->operation.len) == 0)
            fn = c->fns[i];
    }
    if (!fn) {
        ap_buf_append_str(error, "unable to load wasi environment - module not found");
        return AP_WAPC_HOST_ERROR;
    }
    int64_t max = c->s->function_max_depth > 0 ? c->s->function_max_depth : 16;
    if (depth >= max) {
        ap_buf_printf(error,
                      "failed to execute wasm module - function call chain deeper than %lld "
                      "(function_max_depth) calling %s",
                      (long long)max, ap_pool_fn_name(fn));
        return AP_WAPC_HOST_ERROR;
    }
    AP_LOG(AP_LOG_INFO, "Executing Function to Function callback",
           AP_LSTR("function", ap_pool_fn_name(fn)), AP_LINT("depth", depth + 1));
    ap_errbuf e;
    depth++;
    ap_pool_fn_status st =
        ap_pool_fn_call(fn, call->payload, c->s->pool_wait_timeout_ms, response, &e);
    depth--;
    if (st != AP_POOL_FN_OK) {
        ap_buf_reset(response);
        ap_buf_append_str(error, e.msg);
        return AP_WAPC_HOST_ERROR;
    }
    return AP_WAPC_HOST_OK;
}
