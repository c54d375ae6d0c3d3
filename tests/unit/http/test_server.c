/* test_server.c — unit tests of src/http/server.c driven without a listening socket
 * (ap_http_config.no_listen): requests are written into one end of a socketpair whose other end
 * the server was handed with ap_http_add_connection, as tests/fuzz/fuzz_server.c does. Built-in
 * handlers and the request rules only (no guest): both threadings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "http/http.h"

typedef struct {
    ap_settings s;
    ap_router *router;
    ap_http *h;
} server;

static server *start(const char *threading)
{
    server *sv = calloc(1, sizeof *sv);
    assert_non_null(sv);
    assert_int_equal(ap_settings_defaults(&sv->s), AP_CONFIG_OK);
    sv->s.enable_tls = false;
    sv->s.max_request_body_size = 16;
    free(sv->s.http_threading);
    sv->s.http_threading = strdup(threading);
    ap_errbuf e;
    assert_non_null(sv->router = ap_router_new());
    assert_true(ap_router_add(sv->router, "GET", "/health", AP_HANDLER_HEALTH, NULL, &e));
    assert_true(ap_router_add(sv->router, "GET", "/metrics", AP_HANDLER_METRICS, NULL, &e));
    /* a function route whose function is not loaded: 500 "module not found" */
    assert_true(ap_router_add(sv->router, "POST", "/fn", AP_HANDLER_WASM, "missing", &e));
    ap_http_config hc = {.settings = &sv->s, .routes = {.router = sv->router}, .no_listen = true};
    assert_int_equal(ap_http_start(&hc, &sv->h, &e), AP_HTTP_OK);
    assert_string_equal(ap_http_address(sv->h), "-");
    return sv;
}

static void stop(server *sv)
{
    assert_int_equal(ap_http_stop(sv->h, 5), 0);
    ap_router_free(sv->router);
    ap_settings_free(&sv->s);
    free(sv);
}

/* Sends `req` (then half-closes) and returns everything the server wrote until it closed the
 * connection; waits until the server has cleaned the connection up. */
static char *exchange(server *sv, const char *req, size_t len)
{
    int fds[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(40000),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_true(ap_http_add_connection(sv->h, fds[1], (struct sockaddr *)&peer, sizeof peer));
    assert_int_equal(send(fds[0], req, len, MSG_NOSIGNAL), (ssize_t)len);
    shutdown(fds[0], SHUT_WR);
    ap_buf out = {0};
    for (;;) {
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        assert_int_equal(poll(&p, 1, 10000), 1);
        char chunk[4096];
        ssize_t n = read(fds[0], chunk, sizeof chunk);
        if (n <= 0) break;
        assert_true(ap_buf_append(&out, chunk, (size_t)n));
    }
    close(fds[0]);
    ap_http_load load;
    for (int i = 0; i < 1000; i++) {
        ap_http_get_load(sv->h, &load);
        if (load.connections == 0 && load.requests == 0) break;
        usleep(1000);
    }
    assert_int_equal(load.connections, 0);
    assert_int_equal(load.requests, 0);
    ap_buf_append(&out, "", 1);
    return (char *)out.data;
}

#define EXCHANGE(sv, lit) exchange(sv, lit, sizeof lit - 1)

static void starts_with(const char *got, const char *want)
{
    if (strncmp(got, want, strlen(want)) != 0) fail_msg("want \"%s…\", got \"%s\"", want, got);
}

static void contains(const char *got, const char *want)
{
    if (!strstr(got, want)) fail_msg("want \"%s\" in \"%s\"", want, got);
}

static void builtins_and_rules(const char *threading)
{
    server *sv = start(threading);
    char *r = EXCHANGE(sv, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    starts_with(r, "HTTP/1.1 200 ");
    contains(r, "Server: tarmac\r\n");
    free(r);
    r = EXCHANGE(sv, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
    starts_with(r, "HTTP/1.1 404 ");
    contains(r, "404 page not found");
    free(r);
    r = EXCHANGE(sv, "DELETE /health HTTP/1.1\r\nHost: x\r\n\r\n");
    starts_with(r, "HTTP/1.1 405 ");
    contains(r, "Allow: GET, OPTIONS\r\n");
    free(r);
    r = EXCHANGE(sv, "POST /fn HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n\r\n0123456789abcdefg");
    starts_with(r, "HTTP/1.1 413 ");
    free(r);
    r = EXCHANGE(sv, "POST /fn HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
    starts_with(r, "HTTP/1.1 500 ");
    contains(r, "module not found");
    free(r);
    /* two requests on one connection, then the metrics of both */
    r = EXCHANGE(sv, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
                     "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    starts_with(r, "HTTP/1.1 200 ");
    contains(strstr(r + 1, "HTTP/1.1 "), "http_server");
    free(r);
    r = EXCHANGE(sv, "GET /health HTTP/1.1\r\nno colon here\r\n\r\n");
    starts_with(r, "HTTP/1.1 400 ");
    free(r);
    r = EXCHANGE(sv, "GET /health HTTP/7.1\r\nHost: x\r\n\r\n");
    starts_with(r, "HTTP/1.1 505 ");
    free(r);
    stop(sv);
}

static void connection_threading(void **state) { builtins_and_rules("connection"); }
static void event_loop_threading(void **state) { builtins_and_rules("event-loop"); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(connection_threading),
        cmocka_unit_test(event_loop_threading),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
