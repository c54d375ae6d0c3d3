/* http_ctx.c — test guest for the HTTP request context (issue 9), routed as /ctx/ followed by *rest:
 *   /ctx/echo      body: method, path, query, remote address, X-One's first value, all headers
 *                  (JSON), route parameter "rest", and the payload; answers two X-Rep headers
 *   /ctx/status/N  sets status N (SDK int; invalid ones fail in the host → the guest fails)
 *   /ctx/header    adds the header line given in the request's X-Add header
 *   /ctx/teapot    sets 418, then fails: the status stays, the body is the error
 *   /ctx/created   sets 201, then fails: below 400, so the failure is a 500
 *   /ctx/p/...     body: the path (escaped, as received) and the route parameter "rest" (decoded)
 * Called with no HTTP request (scheduled task, init, tarmac:function call), it answers what each
 * helper gave, one line each starting "outside ", on stdout and as its response, and succeeds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apron.h"

static void line(apron_buf *out, const char *label, apron_status st, const apron_buf *v,
                 const apron_error *err)
{
    apron_buf_printf(out, "%s=%s\n", label, st == APRON_OK ? apron_buf_cstr(v) : err->msg);
}

static apron_status no_request(apron_status path_st, const apron_error *path_err,
                               apron_buf *out)
{
    apron_buf v = APRON_BUF_INIT;
    apron_error err;
    apron_buf_printf(out, "outside request:path: %s\n", path_err->msg);
    apron_status st = apron_request_method(&v, &err);
    apron_buf_printf(out, "outside request:method: %s\n", st == APRON_OK ? "ok" : err.msg);
    st = apron_request_header("accept", &v, &err);
    apron_buf_printf(out, "outside request:header: %s\n", st == APRON_OK ? "ok" : err.msg);
    st = apron_response_status(201, &err);
    apron_buf_printf(out, "outside response:status 201: %s\n", st == APRON_OK ? "ok" : err.msg);
    st = apron_response_header("X-A", "b", &err);
    apron_buf_printf(out, "outside response:header: %s\n", st == APRON_OK ? "ok" : err.msg);
    fputs(apron_buf_cstr(out), stdout);
    fflush(stdout);
    apron_buf_free(&v);
    return path_st == APRON_ERR_HOST ? APRON_OK : path_st;
}

static apron_status handler(const uint8_t *payload, size_t len, apron_buf *out)
{
    apron_buf path = APRON_BUF_INIT, v = APRON_BUF_INIT;
    apron_error err;
    apron_status st = apron_request_path(&path, &err);
    if (st != APRON_OK) return no_request(st, &err, out);
    const char *p = apron_buf_cstr(&path);
    if (strcmp(p, "/ctx/echo") == 0) {
        st = apron_request_method(&v, &err);
        line(out, "method", st, &v, &err);
        line(out, "path", APRON_OK, &path, &err);
        st = apron_request_query(&v, &err);
        line(out, "query", st, &v, &err);
        st = apron_request_remote_addr(&v, &err);
        line(out, "remote_addr", st, &v, &err);
        st = apron_request_header("x-one", &v, &err);
        line(out, "x-one", st, &v, &err);
        st = apron_request_header("x-missing", &v, &err);
        line(out, "x-missing", st, &v, &err);
        st = apron_request_param("rest", &v, &err);
        line(out, "rest", st, &v, &err);
        st = apron_request_param("nope", &v, &err);
        line(out, "nope", st, &v, &err);
        st = apron_request_headers(&v, &err);
        line(out, "headers", st, &v, &err);
        apron_buf_printf(out, "body=%.*s\n", (int)len, (const char *)payload);
        apron_response_header("X-Rep", "a", NULL);
        apron_response_header("X-Rep", "b", NULL);
        st = APRON_OK;
    } else if (strncmp(p, "/ctx/status/", 12) == 0) {
        st = apron_response_status(atoi(p + 12), &err);
        if (st != APRON_OK) st = apron_fail(out, "%s", err.msg);
        else apron_buf_puts(out, "status set");
    } else if (strcmp(p, "/ctx/header") == 0) {
        st = apron_request_header("x-add", &v, &err);
        const char *h = apron_buf_cstr(&v), *colon = strchr(h, ':');
        if (st == APRON_OK && colon) {
            char name[128];
            snprintf(name, sizeof name, "%.*s", (int)(colon - h), h);
            st = apron_response_header(name, colon + 1 + (colon[1] == ' '), &err);
        }
        if (st != APRON_OK) st = apron_fail(out, "%s", err.msg);
        else apron_buf_puts(out, "header added");
    } else if (strcmp(p, "/ctx/teapot") == 0) {
        apron_response_status(418, NULL);
        st = apron_fail(out, "short and stout");
    } else if (strcmp(p, "/ctx/created") == 0) {
        apron_response_status(201, NULL);
        st = apron_fail(out, "created, then failed");
    } else if (strncmp(p, "/ctx/p/", 7) == 0) {
        line(out, "path", APRON_OK, &path, &err);
        st = apron_request_param("rest", &v, &err);
        line(out, "rest", st, &v, &err);
        st = APRON_OK;
    } else {
        st = apron_fail(out, "unknown path %s", p);
    }
    apron_buf_free(&path);
    apron_buf_free(&v);
    return st;
}

void apron_init(void) { apron_register("handler", handler); }
