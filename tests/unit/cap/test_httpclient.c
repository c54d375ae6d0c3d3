/* test_httpclient.c — tarmac:httpclient:call (TARMAC.md §4.6) against a small HTTP server on a
 * thread of this test (127.0.0.1, a free port): both paths' encodings (lower-cased header names,
 * first value in JSON, all values in protobuf), what is sent (Go's User-Agent, gzip, no curl
 * extras), remote error codes as status 200, redirects, the body cap with silent truncation, and
 * every error status (bad JSON, bad base64, bad URL or method, connection refused, a body that
 * breaks off). A function with tarmac.json `allowed_hosts` (a small guest instance named
 * "guarded" makes the calls): 403 for any other host on both paths, and for a redirect that
 * leaves the list (not followed). */
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

static char away[256]; /* the /away reply, made once the port is known */

static const char *reply_for(const char *path)
{
    if (strncmp(path, "/away", 5) == 0) /* to another host name of this same server */
        return away;
    if (strncmp(path, "/short", 6) == 0) /* 10 of the 100 bytes announced, then closed */
        return "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nX-Short: yes\r\nConnection: close\r\n"
               "\r\n0123456789";
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
    snprintf(away, sizeof away,
             "HTTP/1.1 302 Found\r\nLocation: http://localhost:%d/ok\r\nContent-Length: 0\r\n"
             "Connection: close\r\n\r\n", port);
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

/* A body that breaks off after the head: Tarmac's body read error (500, "Unexpected error
 * reading HTTP response body - …") with the remote code, the headers and the bytes read. */
static void body_read_error(void **state)
{
    harness h;
    ap_buf q = {0};
    h_open(&h, NULL, NULL, NULL);
    assert_int_equal(TCALL(&h, "httpclient", "call", json_req(&q, "GET", "/short", "")),
                     AP_WAPC_HOST_ERROR);
    assert_true(strncmp((char *)h.err.data, "Unexpected error reading HTTP response body - ", 46) ==
                0);
    assert_true(strstr((char *)h.resp.data, "{\"status\":{\"code\":500,\"status\":\"Unexpected error "
                                            "reading HTTP response body - ") ==
                (char *)h.resp.data);
    assert_true(strstr((char *)h.resp.data, "\"code\":200,\"headers\":{") != NULL);
    assert_true(strstr((char *)h.resp.data, "\"x-short\":\"yes\"") != NULL);
    assert_true(strstr((char *)h.resp.data, "\"body\":\"MDEyMzQ1Njc4OQ==\"}") != NULL);
    /* protobuf: status 500, code 200 (10 c8 01), the header, the 10 bytes */
    ap_buf req = {0}, url = {0};
    ap_buf_printf(&url, "http://127.0.0.1:%d/short", port);
    ap_pb_put_len(&req, 3, url.data, url.len);
    assert_int_equal(TCALL(&h, "httpclient", "call", ((ap_bytes){req.data, req.len})),
                     AP_WAPC_HOST_ERROR);
    assert_memory_equal(h.resp.data, "\x0a", 1);
    assert_non_null(memmem(h.resp.data, 6, "\x08\xf4\x03\x12", 4)); /* Status{code: 500, … */
    assert_non_null(memmem(h.resp.data, h.resp.len, "\x10\xc8\x01", 3));
    assert_non_null(memmem(h.resp.data, h.resp.len, "x-short", 7));
    assert_memory_equal(h.resp.data + h.resp.len - 12, "\x22\x0a" "0123456789", 12);
    ap_buf_free(&req);
    ap_buf_free(&url);
    ap_buf_free(&q);
    h_close(&h);
}

/* ---- allowed_hosts: calls made by an instance of the function "guarded" ---- */

/* The smallest waPC guest (memory and a __guest_call returning 0): its instance only names the
 * caller; it never runs. */
static const uint8_t tiny_guest[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,       /* magic, version */
    0x01, 0x07, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, /* type (i32,i32)->i32 */
    0x03, 0x02, 0x01, 0x00,                               /* func 0: type 0 */
    0x05, 0x03, 0x01, 0x00, 0x01,                         /* memory min 1 */
    0x07, 0x19, 0x02, 0x0c, '_', '_', 'g', 'u', 'e', 's', 't', '_', 'c', 'a', 'l', 'l', 0x00,
    0x00, 0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00, /* exports */
    0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x00, 0x0b,       /* code: i32.const 0 */
};

typedef struct {
    harness h;
    ap_tarmac *tarmac;
    ap_wapc_instance *inst;
} guarded;

static void guarded_open(guarded *g)
{
    char json[512];
    ap_buf problems = {0};
    ap_errbuf e;
    ap_wapc_module *m;
    snprintf(json, sizeof json,
             "{\"services\":{\"svc\":{\"name\":\"svc\",\"functions\":{"
             "\"guarded\":{\"filepath\":\"g.wasm\",\"allowed_hosts\":[\"127.0.0.1:%d\","
             "\"*.example.test\"]}},"
             "\"routes\":[{\"type\":\"function\",\"function\":\"guarded\"}]}}}",
             port);
    assert_int_equal(ap_tarmac_parse(json, strlen(json), "t.json", "/", &g->tarmac, &problems),
                     AP_CONFIG_OK);
    ap_buf_free(&problems);
    h_open(&g->h, NULL, NULL, g->tarmac);
    ap_wapc_config wc = {.name = "guarded", .registry = g->h.reg};
    assert_int_equal(ap_wapc_module_load(tiny_guest, sizeof tiny_guest, &m, &e), AP_WAPC_OK);
    assert_int_equal(ap_wapc_instance_new(m, &wc, &g->inst, &e), AP_WAPC_OK);
    ap_wapc_module_unref(m);
}

static void guarded_close(guarded *g)
{
    ap_wapc_instance_free(g->inst);
    h_close(&g->h);
    ap_tarmac_free(g->tarmac);
}

/* tarmac:httpclient:call from the guarded instance */
static ap_wapc_host_status guarded_call(guarded *g, ap_bytes payload)
{
    harness *h = &g->h;
    ap_buf_reset(&h->resp);
    ap_buf_reset(&h->err);
    ap_buf_append(&h->resp, "", 0);
    ap_buf_append(&h->err, "", 0);
    ap_wapc_call c = {
        .binding = {(const uint8_t *)"tarmac", 6},
        .namespace_ = {(const uint8_t *)"httpclient", 10},
        .operation = {(const uint8_t *)"call", 4},
        .payload = payload,
        .instance = g->inst,
    };
    return h->st = ap_wapc_registry_dispatch(h->reg, &c, &h->resp, &h->err);
}

static void clear_seen(void)
{
    pthread_mutex_lock(&seen_lock);
    seen[0] = 0;
    pthread_mutex_unlock(&seen_lock);
}

static void allowed_hosts_json(void **state)
{
    guarded g;
    ap_buf q = {0};
    guarded_open(&g);
    /* the listed host:port */
    assert_int_equal(guarded_call(&g, json_req(&q, "GET", "/ok", "")), AP_WAPC_HOST_OK);
    assert_true(strstr((char *)g.h.resp.data, "{\"status\":{\"code\":200,") == (char *)g.h.resp.data);
    /* another name of the same server: refused before connecting */
    clear_seen();
    ap_buf_reset(&q);
    ap_buf_printf(&q, "{\"url\":\"http://localhost:%d/ok\"}", port);
    assert_int_equal(guarded_call(&g, (ap_bytes){q.data, q.len}), AP_WAPC_HOST_ERROR);
    assert_err(&g.h, "Unable to execute HTTP request - host localhost is not in allowed_hosts");
    assert_resp_str(&g.h, "{\"status\":{\"code\":403,\"status\":\"Unable to execute HTTP request - "
                          "host localhost is not in allowed_hosts\"},\"code\":0,\"headers\":null,"
                          "\"body\":\"\"}");
    assert_false(seen_has("GET /ok"));
    /* the listed host on another port; the bare domain of a "*.domain" entry */
    assert_int_equal(guarded_call(&g, B("{\"url\":\"http://127.0.0.1:1/\"}")), AP_WAPC_HOST_ERROR);
    assert_true(strstr((char *)g.h.resp.data, "{\"status\":{\"code\":403,") == (char *)g.h.resp.data);
    assert_err(&g.h, "Unable to execute HTTP request - host 127.0.0.1 is not in allowed_hosts");
    assert_int_equal(guarded_call(&g, B("{\"url\":\"https://example.test/\"}")), AP_WAPC_HOST_ERROR);
    assert_true(strstr((char *)g.h.resp.data, "{\"status\":{\"code\":403,") == (char *)g.h.resp.data);
    /* the same call from no function (apron run, no allowed_hosts): allowed */
    assert_int_equal(TCALL(&g.h, "httpclient", "call", ((ap_bytes){q.data, q.len})),
                     AP_WAPC_HOST_OK);
    assert_true(strstr((char *)g.h.resp.data, "\"code\":200,") != NULL);
    ap_buf_free(&q);
    guarded_close(&g);
}

static void allowed_hosts_proto(void **state)
{
    guarded g;
    ap_buf req = {0}, url = {0};
    guarded_open(&g);
    ap_buf_printf(&url, "http://localhost:%d/ok", port);
    ap_pb_put_len(&req, 3, url.data, url.len);
    clear_seen();
    assert_int_equal(guarded_call(&g, (ap_bytes){req.data, req.len}), AP_WAPC_HOST_ERROR);
    assert_err(&g.h, "Unable to execute HTTP request - host localhost is not in allowed_hosts");
    /* HTTPClientResponse{status: Status{code: 403 (08 93 03), status: text}}: no code, headers
     * or body */
    static const char text[] = "Unable to execute HTTP request - host localhost is not in "
                               "allowed_hosts";
    assert_int_equal(g.h.resp.len, 2 + 3 + 2 + sizeof text - 1);
    assert_memory_equal(g.h.resp.data, "\x0a", 1);
    assert_int_equal(g.h.resp.data[1], 3 + 2 + sizeof text - 1);
    assert_memory_equal(g.h.resp.data + 2, "\x08\x93\x03\x12", 4);
    assert_int_equal(g.h.resp.data[6], sizeof text - 1);
    assert_memory_equal(g.h.resp.data + 7, text, sizeof text - 1);
    assert_false(seen_has("GET /ok"));
    /* the listed host: 200, code 200 */
    ap_buf_reset(&req);
    ap_buf_reset(&url);
    ap_buf_printf(&url, "http://127.0.0.1:%d/ok", port);
    ap_pb_put_len(&req, 3, url.data, url.len);
    assert_int_equal(guarded_call(&g, (ap_bytes){req.data, req.len}), AP_WAPC_HOST_OK);
    assert_memory_equal(g.h.resp.data, "\x0a\x07\x08\xc8\x01\x12\x02OK\x10\xc8\x01", 12);
    ap_buf_free(&req);
    ap_buf_free(&url);
    guarded_close(&g);
}

/* Redirects of a guarded function are followed by apron, each hop checked: within the list they
 * are followed; one that leaves it is 403 and not followed. */
static void allowed_hosts_redirects(void **state)
{
    guarded g;
    ap_buf q = {0}, req = {0}, url = {0};
    guarded_open(&g);
    assert_int_equal(guarded_call(&g, json_req(&q, "GET", "/redirect", "")), AP_WAPC_HOST_OK);
    assert_true(strstr((char *)g.h.resp.data, "\"code\":200,") != NULL);
    assert_true(strstr((char *)g.h.resp.data, "\"body\":\"aGVsbG8=\"") != NULL);
    assert_true(seen_has("GET /ok HTTP/1.1\r\n"));
    clear_seen();
    assert_int_equal(guarded_call(&g, json_req(&q, "GET", "/away", "")), AP_WAPC_HOST_ERROR);
    assert_err(&g.h, "Unable to execute HTTP request - host localhost is not in allowed_hosts");
    assert_resp_str(&g.h, "{\"status\":{\"code\":403,\"status\":\"Unable to execute HTTP request - "
                          "host localhost is not in allowed_hosts\"},\"code\":0,\"headers\":null,"
                          "\"body\":\"\"}");
    assert_true(seen_has("GET /away HTTP/1.1\r\n")); /* the first hop went out, no second */
    ap_buf_printf(&url, "http://127.0.0.1:%d/away", port);
    ap_pb_put_len(&req, 3, url.data, url.len);
    assert_int_equal(guarded_call(&g, (ap_bytes){req.data, req.len}), AP_WAPC_HOST_ERROR);
    assert_memory_equal(g.h.resp.data + 2, "\x08\x93\x03\x12", 4);
    assert_true(seen_has("GET /away HTTP/1.1\r\n"));
    /* without allowed_hosts the same redirect is followed */
    assert_int_equal(TCALL(&g.h, "httpclient", "call", json_req(&q, "GET", "/away", "")),
                     AP_WAPC_HOST_OK);
    assert_true(strstr((char *)g.h.resp.data, "\"code\":200,") != NULL);
    assert_true(seen_has("GET /ok HTTP/1.1\r\n"));
    ap_buf_free(&q);
    ap_buf_free(&req);
    ap_buf_free(&url);
    guarded_close(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_path),
        cmocka_unit_test(proto_path),
        cmocka_unit_test(body_cap),
        cmocka_unit_test(errors),
        cmocka_unit_test(body_read_error),
        cmocka_unit_test(allowed_hosts_json),
        cmocka_unit_test(allowed_hosts_proto),
        cmocka_unit_test(allowed_hosts_redirects),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
