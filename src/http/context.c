/* context.c — the `tarmac:request:*` and `tarmac:response:*` host calls of http.h (issue 9): a
 * guest invoked for an HTTP request reads the request and shapes the response through them.
 * Tarmac has neither; its guests never call them and behave as there. */
#include "http.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "internal.h"
#include "wapc/wapc.h"

static const char no_request[] = "no http request in this context";

static ap_http_invocation *invocation(const ap_wapc_call *call)
{
    ap_http_invocation *inv = ap_wapc_instance_context(call->instance);
    return inv && inv->magic == AP_HTTP_INVOCATION_MAGIC ? inv : NULL;
}

static bool op_is(const ap_wapc_call *call, const char *name)
{
    size_t n = strlen(name);
    return call->operation.len == n && memcmp(call->operation.ptr, name, n) == 0;
}

static ap_wapc_host_status fail(ap_buf *error, const char *fmt, const char *arg, size_t len)
{
    ap_buf_printf(error, fmt, (int)len, arg);
    return AP_WAPC_HOST_ERROR;
}

/* JSON string body (no quotes): escapes what RFC 8259 requires; other bytes pass through. */
static void json_escape(ap_buf *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            ap_buf_printf(out, "\\%c", c);
        else if (c < 0x20)
            ap_buf_printf(out, "\\u%04x", c);
        else
            ap_buf_append(out, s, 1);
    }
}

typedef struct {
    const char *name[128], *value[128];
    size_t n;
} header_list;

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    header_list *l = cls;
    if (l->n == 128) return MHD_NO;
    l->name[l->n] = key;
    l->value[l->n++] = value ? value : "";
    return MHD_YES;
}

/* {"name":["v1","v2"],…}: names lower-cased, in order of first appearance; repeated headers
 * keep their order. */
static void write_headers(ap_http_invocation *inv, ap_buf *out)
{
    header_list l = {.n = 0};
    MHD_get_connection_values(inv->conn, MHD_HEADER_KIND, collect, &l);
    ap_buf_append_str(out, "{");
    bool first = true;
    for (size_t i = 0; i < l.n; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcasecmp(l.name[j], l.name[i]) == 0;
        if (seen) continue;
        ap_buf_append_str(out, first ? "\"" : ",\"");
        first = false;
        for (const char *c = l.name[i]; *c; c++) {
            char lc = (char)tolower((unsigned char)*c);
            if (lc == '"' || lc == '\\' || (unsigned char)lc < 0x20) continue; /* not a tchar */
            ap_buf_append(out, &lc, 1);
        }
        ap_buf_append_str(out, "\":[");
        bool vfirst = true;
        for (size_t j = i; j < l.n; j++) {
            if (strcasecmp(l.name[j], l.name[i]) != 0) continue;
            ap_buf_append_str(out, vfirst ? "\"" : ",\"");
            vfirst = false;
            json_escape(out, l.value[j]);
            ap_buf_append_str(out, "\"");
        }
        ap_buf_append_str(out, "]");
    }
    ap_buf_append_str(out, "}");
}

static bool write_remote_addr(ap_http_invocation *inv, ap_buf *out)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(inv->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr) return false;
    char host[INET6_ADDRSTRLEN];
    if (ci->client_addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ci->client_addr;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        return ap_buf_printf(out, "[%s]:%u", host, ntohs(a->sin6_port));
    }
    const struct sockaddr_in *a = (const struct sockaddr_in *)ci->client_addr;
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    return ap_buf_printf(out, "%s:%u", host, ntohs(a->sin_port));
}

static ap_wapc_host_status request_call(void *user, const ap_wapc_call *call, ap_buf *response,
                                        ap_buf *error)
{
    ap_http_invocation *inv = invocation(call);
    if (!inv) {
        ap_buf_append_str(error, no_request);
        return AP_WAPC_HOST_ERROR;
    }
    const ap_bytes p = call->payload;
    if (op_is(call, "method")) {
        ap_buf_append_str(response, inv->method);
    } else if (op_is(call, "path")) {
        ap_buf_append_str(response, inv->path);
    } else if (op_is(call, "query")) {
        /* as the client sent it (server.c keeps it from the request line), not rebuilt from
         * libmicrohttpd's parsed arguments */
        if (inv->query) ap_buf_append_str(response, inv->query);
    } else if (op_is(call, "header")) {
        char name[256];
        if (p.len == 0 || p.len >= sizeof name || memchr(p.ptr, 0, p.len))
            return fail(error, "header not found", "", 0);
        memcpy(name, p.ptr, p.len);
        name[p.len] = '\0';
        const char *v = MHD_lookup_connection_value(inv->conn, MHD_HEADER_KIND, name);
        if (!v) return fail(error, "header not found", "", 0);
        ap_buf_append_str(response, v);
    } else if (op_is(call, "headers")) {
        write_headers(inv, response);
    } else if (op_is(call, "remote_addr")) {
        if (!write_remote_addr(inv, response)) return fail(error, "remote address unknown", "", 0);
    } else if (op_is(call, "param")) {
        for (size_t i = 0; i < inv->match->nparams; i++) {
            const ap_router_param *rp = &inv->match->params[i];
            if (rp->name_len == p.len && memcmp(rp->name, p.ptr, p.len) == 0) {
                ap_buf_append(response, rp->value, rp->value_len);
                return AP_WAPC_HOST_OK;
            }
        }
        return fail(error, "route parameter \"%.*s\" not found", (const char *)p.ptr, p.len);
    } else {
        return fail(error, "unknown request operation \"%.*s\"", (const char *)call->operation.ptr,
                    call->operation.len);
    }
    return AP_WAPC_HOST_OK;
}

/* Headers a guest cannot set: the server's own, and those that frame the connection or the
 * message (hop-by-hop, RFC 9110 §7.6.1; lengths and dates are the server's). */
static const char *const reserved_headers[] = {
    "server",  "connection", "keep-alive",     "proxy-connection", "transfer-encoding",
    "upgrade", "te",         "trailer",        "content-length",   "date",
    "proxy-authenticate",    "proxy-authorization"};

static bool tchar(unsigned char c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static ap_wapc_host_status add_header(ap_http_invocation *inv, ap_bytes p, ap_buf *error)
{
    const char *s = (const char *)p.ptr;
    const char *colon = p.len ? memchr(s, ':', p.len) : NULL;
    size_t nl = colon ? (size_t)(colon - s) : 0;
    bool ok = nl > 0;
    for (size_t i = 0; ok && i < nl; i++)
        ok = tchar((unsigned char)s[i]);
    if (!ok) return fail(error, "invalid header \"%.*s\": want \"Name: value\"", s, p.len);
    size_t vs = nl + 1, ve = p.len;
    while (vs < ve && (s[vs] == ' ' || s[vs] == '\t'))
        vs++;
    while (ve > vs && (s[ve - 1] == ' ' || s[ve - 1] == '\t'))
        ve--;
    for (size_t i = vs; i < ve; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return fail(error, "invalid header \"%.*s\": control character in the value", s, nl);
    }
    for (size_t i = 0; i < sizeof reserved_headers / sizeof *reserved_headers; i++)
        if (strlen(reserved_headers[i]) == nl && strncasecmp(reserved_headers[i], s, nl) == 0)
            return fail(error, "header \"%.*s\" cannot be set by a function", s, nl);
    if (nl == 12 && strncasecmp(s, "content-type", 12) == 0) inv->has_content_type = true;
    if (!ap_buf_append(&inv->headers, s, nl) || !ap_buf_append(&inv->headers, "", 1) ||
        !ap_buf_append(&inv->headers, s + vs, ve - vs) || !ap_buf_append(&inv->headers, "", 1))
        return fail(error, "out of memory", "", 0);
    return AP_WAPC_HOST_OK;
}

static ap_wapc_host_status response_call(void *user, const ap_wapc_call *call, ap_buf *response,
                                         ap_buf *error)
{
    ap_http_invocation *inv = invocation(call);
    const ap_bytes p = call->payload;
    if (op_is(call, "status")) {
        unsigned code = 0;
        bool ok = p.len == 3;
        for (size_t i = 0; ok && i < p.len; i++) {
            ok = p.ptr[i] >= '0' && p.ptr[i] <= '9';
            code = code * 10 + (unsigned)(p.ptr[i] - '0');
        }
        /* 1xx is informational: sent as the final status, the client would wait for another
         * response and take the next request's as this one's (found by fuzz-server) */
        if (!ok || code < 200 || code > 599)
            return fail(error, "invalid status code \"%.*s\": want a number from 200 to 599",
                        (const char *)p.ptr, p.len > 32 ? 32 : p.len);
        if (inv) inv->status = code;
        return AP_WAPC_HOST_OK;
    }
    if (op_is(call, "header")) {
        if (!inv) {
            /* Outside a request there is nothing to add to; validate anyway, so a guest sees
             * the same errors in tests run from a scheduled task. */
            ap_http_invocation scratch = {.magic = 0};
            ap_wapc_host_status st = add_header(&scratch, p, error);
            ap_buf_free(&scratch.headers);
            return st;
        }
        return add_header(inv, p, error);
    }
    return fail(error, "unknown response operation \"%.*s\"", (const char *)call->operation.ptr,
                call->operation.len);
}

bool ap_http_register_host_calls(ap_wapc_registry *reg)
{
    return ap_wapc_register(reg, "tarmac", "request", NULL, request_call, NULL) &&
           ap_wapc_register(reg, "tarmac", "response", NULL, response_call, NULL);
}
