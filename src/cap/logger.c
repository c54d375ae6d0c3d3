/* logger.c — tarmac:logger:<level> (TARMAC.md §4.3): the payload verbatim as the message at the
 * operation's level (debug/trace gated by the log level, like every record), the calling
 * function's name attached. Never fails, always an empty response. */
#include "cap/internal.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"

ap_wapc_host_status cap_log(ap_cap *c, const ap_wapc_call *call, ap_buf *response,
                            ap_buf *error)
{
    ap_bytes op = call->operation;
    ap_log_level level = AP_LOG_INFO;
    if (op.len == 5 && memcmp(op.ptr, "error", 5) == 0)
        level = AP_LOG_ERROR;
    else if (op.len == 4 && memcmp(op.ptr, "warn", 4) == 0)
        level = AP_LOG_WARN;
    else if (op.len == 5 && memcmp(op.ptr, "debug", 5) == 0)
        level = AP_LOG_DEBUG;
    else if (op.len == 5 && memcmp(op.ptr, "trace", 5) == 0)
        level = AP_LOG_TRACE;
    if (!ap_log_enabled(level))
        return AP_WAPC_HOST_OK;
    /* the message is a C string: copy it (an embedded NUL ends it) */
    char small[1024];
    size_t n = call->payload.len;
    char *msg = n < sizeof small ? small : malloc(n + 1);
    if (!msg)
        return AP_WAPC_HOST_OK;
    if (n)
        memcpy(msg, call->payload.ptr, n);
    msg[n] = 0;
    AP_LOG(level, msg,
           AP_LSTR("function", call->instance ? ap_wapc_instance_name(call->instance) : ""));
    if (msg != small)
        free(msg);
    return AP_WAPC_HOST_OK;
}
