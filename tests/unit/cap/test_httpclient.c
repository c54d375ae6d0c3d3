/* test_httpclient.c — tarmac:httpclient:call (TARMAC.md §4.6) against a small HTTP server on a
 * thread of this test (127.0.0.1, a free port): both paths' encodings (lower-cased header names,
 * first value in JSON, all values in protobuf), what is sent (Go's User-Agent, gzip, no curl
 * extras), remote error codes as status 200, redirects, the body cap with silent truncation, and
 * every error status (bad JSON, bad base64, bad URL or method, connection refused). */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static int listen_fd, port;
static pthread_t server;
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static char seen[8192]; /* the last request, head and body */

static const char *reply_for(const char *path)
{
    if (strncmp(path, "/ok", 3) == 0)
        return "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Multi: a\r\nX-Multi: b\r\n"
               "Content-Length: 5\r\nConnection: close\r\n\r\nhello";
    if (strncmp(path, "/missing", 8) == 0)
        return "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\nConnection: close\r\n\r\nnf";
    if (strncmp(path, "/redirect", 9) == 0)
        return "HTTP/1.1 302 Found\r\nLocation: /ok\r\nContent-Length: 0\r\nConnection: "
               "close\r\n\r\n";
    if (strncmp(path, "/big", 4) == 0)
        return "HTTP/1.1 200 OK\r\nContent-Length: 40\r\nConnection: close\r\n\r\n"
               "0123456789012345678901234567890123456789";
    return "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
}

static void *serve(void *arg)
{
    for (;;) {
        int c = accept(listen_fd, NULL, NULL);
        if (c < 0)
            return NULL;
        char req[8192];
        size_t n = 0;
        ssize_t r;
        while (n < sizeof req - 1 && (r = read(c, req + n, sizeof req - 1 - n)) > 0) {
            n += (size_t)r;
            req[n] = 0;
            char *end = strstr(req, "\r\n\r\n");
            if (!end)
                continue;
            char *cl = strstr(req, "Content-Length: ");
            size_t want = cl && cl < end ? (size_t)atoi(cl + 16) : 0;
            if (n >= (size_t)(end + 4 - req) + want)
                break;
        }
        req[n] = 0;
        pthread_mutex_lock(&seen_lock);
        snprintf(seen, sizeof seen, "%s", req);
        pthread_mutex_unlock(&seen_lock);
        char path[256] = "/";
        sscanf(req, "%*s %255s", path);
        const char *rep = reply_for(path);
        if (write(c, rep, strlen(rep)) < 0)
            perror("write");
        close(c);
    }
}

static int setup(void **state)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(listen_fd, 16) != 0 || getsockname(listen_fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    port = ntohs(a.sin_port);
    return pthread_create(&server, NULL, serve, NULL);
}

static int teardown(void **state)
{
    shutdown(listen_fd, SHUT_RDWR);
    close(listen_fd);
    pthread_join(server, NULL);
    return 0;
}

static ap_bytes json_req(ap_buf *b, const char *method, const char *path, const char *extra)
{
    ap_buf_reset(b);
    ap_buf_printf(b, "{\"method\":\"%s\",\"url\":\"http://127.0.0.1:%d%s\"%s}", method, port, path,
                  extra);
    return (ap_bytes){b->data, b->len};
}

static bool seen_has(const char *s)
{
    pthread_mutex_lock(&seen_lock);
    bool found = strstr(seen, s) != NULL;
    pthread_mutex_unlock(&seen_lock);
    return found;
}

static void json_path(void **state)
{
    harness h;
    ap_buf q = {0};
    h_open(&h, NULL, NULL, NULL);
    assert_int_equal(TCALL(&h, "httpclient", "call", json_req(&q, "GET", "/ok", "")),
                     AP_WAPC_HOST_OK);
    assert_resp_str(&h, "{\"status\":{\"code\":200,\"status\":\"OK\"},\"code\":200,\"headers\":{"
                        "\"connection\":\"close\",\"content-length\":\"5\",\"content-type\":"
                        "\"text/plain\",\"x-multi\":\"a\"},\"body\":\"aGVsbG8=\"}");
    assert_true(seen_has("GET /ok HTTP/1.1\r\n"));
    assert_true(seen_has("User-Agent: Go-http-client/1.1\r\n"));
    assert_true(seen_has("Accept-Encoding: gzip\r\n"));
    assert_false(seen_has("Accept: "));
    /* method default GET; headers set; body base64; a remote 404 is still status 200 */
    assert_int_equal(TCALL(&h, "httpclient", "call",
                           json_req(&q, "", "/missing",
                                    ",\"headers\":{\"X-Test\":\"1\",\"User-Agent\":\"me\"}")),
                     AP_WAPC_HOST_OK);
    assert_true(strstr((char *)h.resp.data, "\"code\":404,") != NULL);
    assert_true(seen_has("X-Test: 1\r\n"));
    assert_true(seen_has("User-Agent: me\r\n"));
    assert_int_equal(TCALL(&h, "httpclient", "call",
                           json_req(&q, "POST", "/ok", ",\"body\":\"cGF5bG9hZA==\"")),
                     AP_WAPC_HOST_OK);
    assert_true(seen_has("POST /ok HTTP/1.1\r\n"));
    assert_true(seen_has("\r\n\r\npayload"));
    assert_false(seen_has("Content-Type:"));
    assert_false(seen_has("Expect:"));
    /* redirects are followed */
    assert_int_equal(TCALL(&h, "httpclient", "call", json_req(&q, "GET", "/redirect", "")),
                     AP_WAPC_HOST_OK);
    assert_true(strstr((char *)h.resp.data, "\"code\":200,") != NULL);
    ap_buf_free(&q);
    h_close(&h);
}

static void proto_path(void **state)
{
    harness h;
    h_open(&h, NULL, NULL, NULL);
    ap_buf req = {0}, entry = {0}, hv = {0}, url = {0};
    ap_buf_printf(&url, "http://127.0.0.1:%d/ok", port);
    /* HTTPClient{method:"PUT", headers:{"X-Two": ["1","2"]}, url, body:"b"} */
    ap_pb_put_len(&hv, 1, "1", 1);
    ap_pb_put_len(&hv, 1, "2", 1);
    ap_pb_put_len(&entry, 1, "X-Two", 5);
    ap_pb_put_len(&entry, 2, hv.data, hv.len);
    ap_pb_put_len(&req, 1, "PUT", 3);
    ap_pb_put_len(&req, 2, entry.data, entry.len);
    ap_pb_put_len(&req, 3, url.data, url.len);
    ap_pb_put_len(&req, 4, "b", 1);
    assert_int_equal(TCALL(&h, "httpclient", "call", ((ap_bytes){req.data, req.len})),
                     AP_WAPC_HOST_OK);
    assert_true(seen_has("PUT /ok HTTP/1.1\r\n"));
    assert_true(seen_has("X-Two: 1\r\nX-Two: 2\r\n"));
    /* response: status, code 200 (10 c8 01), headers sorted with every value, raw body */
    assert_memory_equal(h.resp.data, "\x0a\x07\x08\xc8\x01\x12\x02OK\x10\xc8\x01", 12);
    assert_non_null(memmem(h.resp.data, h.resp.len, "\x0a\x07x-multi\x12\x06\x0a\x01" "a\x0a\x01" "b",
                           17));
    assert_memory_equal(h.resp.data + h.resp.len - 7, "\x22\x05hello", 7);
    /* the old map<string,string> header form fails protobuf → JSON → 400 */
    ap_buf_reset(&entry);
    ap_buf_reset(&req);
    ap_pb_put_len(&entry, 1, "k", 1);
    ap_pb_put_len(&entry, 2, "\xff", 1); /* a "string" value that is no Header message */
    ap_pb_put_len(&req, 2, entry.data, entry.len);
    assert_int_equal(TCALL(&h, "httpclient", "call", ((ap_bytes){req.data, req.len})),
                     AP_WAPC_HOST_ERROR);
    assert_err(&h, "Error Parsing Input");
    ap_buf_free(&req);
    ap_buf_free(&entry);
    ap_buf_free(&hv);
    ap_buf_free(&url);
    h_close(&h);
}

static void body_cap(void **state)
{
    harness h;
    ap_buf q = {0};
    h_open(&h, NULL, NULL, NULL);
    h.s.http_client_max_response_body_size = 10;
    h_reopen(&h, NULL, NULL, NULL);
    assert_int_equal(TCALL(&h, "httpclient", "call", json_req(&q, "GET", "/big", "")),
                     AP_WAPC_HOST_OK);
    assert_true(strstr((char *)h.resp.data, "\"body\":\"MDEyMzQ1Njc4OQ==\"}") != NULL);
    ap_buf_free(&q);
    h_close(&h);
}

static void errors(void **state)
{
    harness h;
    ap_buf q = {0};
    h_open(&h, NULL, NULL, NULL);
    assert_int_equal(TCALL(&h, "httpclient", "call", B("{\"url\":5}")), AP_WAPC_HOST_ERROR);
    assert_err(&h, "Error Parsing Input");
    assert_resp_str(&h, "{\"status\":{\"code\":400,\"status\":\"Error Parsing Input\"},\"code\":0,"
                        "\"headers\":null,\"body\":\"\"}");
    assert_int_equal(TCALL(&h, "httpclient", "call", B("{\"headers\":{\"a\":1}}")),
                     AP_WAPC_HOST_ERROR);
    assert_err(&h, "Error Parsing Input");
    assert_int_equal(TCALL(&h, "httpclient", "call", json_req(&q, "POST", "/ok", ",\"body\":\"%%\"")),
                     AP_WAPC_HOST_ERROR);
    assert_err(&h, "Unable to decode data - illegal base64 data at input byte 0");
    assert_int_equal(TCALL(&h, "httpclient", "call", B("{\"url\":\"://bad-url\"}")),
                     AP_WAPC_HOST_ERROR);
    assert_true(strncmp((char *)h.err.data, "Unable to create HTTP request - ", 32) == 0);
    assert_int_equal(TCALL(&h, "httpclient", "call", json_req(&q, "BAD METHOD", "/ok", "")),
                     AP_WAPC_HOST_ERROR);
    assert_err(&h, "Unable to create HTTP request - net/http: invalid method \"BAD METHOD\"");
    /* a header value with CR/LF: Go's client refuses it when sending → 500 */
    assert_int_equal(TCALL(&h, "httpclient", "call",
                           json_req(&q, "GET", "/ok", ",\"headers\":{\"X\":\"a\\r\\nB: c\"}")),
                     AP_WAPC_HOST_ERROR);
    assert_err(&h, "Unable to execute HTTP request - net/http: invalid header field");
    assert_int_equal(TCALL(&h, "httpclient", "call", B("{\"url\":\"http://127.0.0.1:1/\"}")),
                     AP_WAPC_HOST_ERROR);
    assert_true(strncmp((char *)h.err.data, "Unable to execute HTTP request - ", 32) == 0);
    assert_true(strstr((char *)h.resp.data, "\"code\":0,\"headers\":null,\"body\":\"\"}") != NULL);
    assert_int_equal(TCALL(&h, "httpclient", "call", B("{\"url\":\"ftp://127.0.0.1/\"}")),
                     AP_WAPC_HOST_ERROR);
    assert_true(strncmp((char *)h.err.data, "Unable to execute HTTP request - ", 32) == 0);
    /* protobuf with an empty URL: Go builds the request and fails sending it */
    assert_int_equal(TCALL(&h, "httpclient", "call", (ap_bytes){0}), AP_WAPC_HOST_ERROR);
    assert_err(&h, "Unable to execute HTTP request - GET \"\": unsupported protocol scheme \"\"");
    assert_memory_equal(h.resp.data, "\x0a", 1);
    ap_buf_free(&q);
    h_close(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_path),
        cmocka_unit_test(proto_path),
        cmocka_unit_test(body_cap),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
