/* fuzz_server.c — libFuzzer target: the libmicrohttpd glue of src/http/server.c, driven the way a
 * client drives it. An input is the raw bytes an HTTP/1.1 client sends on one connection (any
 * number of pipelined requests, or garbage); libmicrohttpd's parser reads them, and server.c's
 * request handling runs for real: path decoding, routing, 404/405/OPTIONS, method and body rules,
 * the body size limit (413 from Content-Length or from the bytes), header handling, /health,
 * /ready, /metrics, /debug/, dispatch to real guests (tests/guests: echo, trap, fail, a
 * function-to-function call, and the SDK guest http_ctx that reads the request context and
 * chooses status and headers), and the response a guest shapes.
 *
 * LLVMFuzzerInitialize starts two servers on one route table, without listening sockets
 * (ap_http_config.no_listen): http_threading "connection" (the default) and "event-loop". Each
 * input goes to both in turn: a socketpair, one end handed over with ap_http_add_connection, the
 * input written into the other, and everything the server answers read until it closes the
 * connection. Once the server has read every byte, runs no guest and has sent nothing for
 * QUIET_MS, the client half-closes (libmicrohttpd answers the request in progress, if complete,
 * and closes; it drops pipelined requests it has not started, so the client waits until then). The answer must be a sequence of
 * well-formed HTTP/1.x responses (status line, header lines, a body of Content-Length bytes, or
 * none for HEAD, 1xx, 204, 304) or nothing; the server must close the connection within
 * CLOSE_S seconds and clean it up (its request's completion has run) before the next input.
 * Anything else aborts, as does a crash, a leak or undefined behaviour.
 *
 * Seeds: `python3 tests/fuzz/seeds.py --server DIR` (the integration tests' requests), written by
 * `make fuzz-server` into its build folder. FUZZ_DEBUG=1 prints each answer. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "cap/cap.h"
#include "http/http.h"
#include "wasi/wasi.h"

#ifndef APRON_GUESTS_DIR
#error "APRON_GUESTS_DIR: the build's tests/guests folder (tests/fuzz/fuzz.cmake)"
#endif

#define CLOSE_S 15 /* answer and close within this (http_idle_timeout is 5 s) */
#define QUIET_MS 1 /* no answer for this long, all sent bytes read, no guest running: done */

static const char tarmac_fmt[] =
    "{\"services\":{\"fuzz\":{\"name\":\"fuzz\",\"functions\":{"
    "\"echo\":{\"filepath\":\"%1$s/http_echo.wasm\",\"pool_size\":4},"
    "\"iso\":{\"filepath\":\"%1$s/http_echo.wasm\",\"pool_size\":2,\"isolation\":\"request\"},"
    "\"call\":{\"filepath\":\"%1$s/http_call.wasm\",\"pool_size\":4},"
    "\"trap\":{\"filepath\":\"%1$s/http_trap.wasm\",\"pool_size\":2},"
    "\"fail\":{\"filepath\":\"%1$s/http_fail.wasm\",\"pool_size\":2},"
    "\"ctx\":{\"filepath\":\"%1$s/http_ctx.wasm\",\"pool_size\":2}},"
    "\"routes\":["
    "{\"type\":\"http\",\"path\":\"/echo\",\"methods\":[\"GET\",\"HEAD\",\"POST\",\"PUT\","
    "\"DELETE\"],\"function\":\"echo\"},"
    "{\"type\":\"http\",\"path\":\"/iso\",\"methods\":[\"POST\"],\"function\":\"iso\"},"
    "{\"type\":\"http\",\"path\":\"/call\",\"methods\":[\"POST\"],\"function\":\"call\"},"
    "{\"type\":\"http\",\"path\":\"/trap\",\"methods\":[\"POST\"],\"function\":\"trap\"},"
    "{\"type\":\"http\",\"path\":\"/fail\",\"methods\":[\"POST\"],\"function\":\"fail\"},"
    "{\"type\":\"http\",\"path\":\"/items/:id\",\"methods\":[\"GET\",\"PUT\",\"DELETE\"],"
    "\"function\":\"echo\"},"
    "{\"type\":\"http\",\"path\":\"/ctx/*rest\",\"methods\":[\"GET\",\"POST\",\"PUT\",\"PATCH\","
    "\"DELETE\"],\"function\":\"ctx\"},"
    "{\"type\":\"function\",\"function\":\"echo\"}]}}}";

typedef struct {
    const char *threading;
    ap_settings s;
    ap_http *h;
} server;

static server servers[] = {{.threading = "connection"}, {.threading = "event-loop"}};
#define NSERVERS (sizeof servers / sizeof *servers)
static bool debug;

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz-server: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static void settings(server *sv)
{
    ap_errbuf e;
    if (ap_settings_defaults(&sv->s) != AP_CONFIG_OK ||
        ap_settings_set(&sv->s, "http_threading", sv->threading, "fuzz", &e) != AP_CONFIG_OK)
        die("settings", NULL);
    sv->s.enable_tls = false;
    sv->s.enable_pprof = true;          /* /debug/ answers */
    sv->s.max_request_body_size = 1024; /* small: both 413 paths are within reach */
    sv->s.max_header_size = 4096;       /* libmicrohttpd's smallest per-connection memory */
    sv->s.http_idle_timeout = 5;
    sv->s.pool_wait_timeout_ms = 2000;
    sv->s.timeout_ms = 10000;
    sv->s.http_threads = 1;
    sv->s.wasm_workers = 2;
}

static void drop_output(void *user, int fd, const uint8_t *p, size_t n) {}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    debug = getenv("FUZZ_DEBUG") != NULL;
    /* every record is formatted (paths, methods, errors from the guests), then dropped */
    ap_log_setup(AP_LOG_DEBUG, false, fopen("/dev/null", "w"));
    for (size_t i = 0; i < NSERVERS; i++)
        settings(&servers[i]);
    const ap_settings *s = &servers[0].s;

    static char text[sizeof tarmac_fmt + 8 * 4096];
    int tl = snprintf(text, sizeof text, tarmac_fmt, APRON_GUESTS_DIR);
    ap_tarmac *tarmac;
    ap_buf problems = {0};
    if (ap_tarmac_parse(text, (size_t)tl, "fuzz.json", "/", &tarmac, &problems) != AP_CONFIG_OK)
        die("tarmac.json", problems.data ? (const char *)problems.data : "out of memory");

    /* As apron serve builds a generation (src/cli/serve.c): registry, request/response host
     * calls, capabilities (tarmac:function:echo among them), functions, routes. */
    ap_errbuf e;
    ap_wapc_registry *reg = ap_wapc_registry_new();
    ap_router *router = ap_router_new();
    ap_cap *cap;
    ap_cap_config cc = {.settings = s, .tarmac = tarmac};
    if (!reg || !router || !ap_wapc_registry_alias(reg, "default", "tarmac") ||
        !ap_http_register_host_calls(reg) || !ap_cap_new(&cc, &cap, &e) ||
        !ap_cap_register(cap, reg) ||
        !ap_router_add(router, "GET", "/health", AP_HANDLER_HEALTH, NULL, &e) ||
        !ap_router_add(router, "GET", "/ready", AP_HANDLER_READY, NULL, &e) ||
        !ap_router_add(router, "GET", "/metrics", AP_HANDLER_METRICS, NULL, &e))
        die("setup", NULL);
    ap_wasi *wasi;
    const char *wargv[] = {"fuzz"};
    ap_wasi_config wcfg = {.argc = 1, .argv = wargv, .write = drop_output};
    if (ap_wasi_new(&wcfg, &wasi) != AP_WASI_OK) die("wasi", NULL);
    static ap_pool_fn *fns[16];
    size_t nfns = 0;
    const ap_tarmac_service *svc = &tarmac->services[0];
    for (size_t i = 0; i < svc->nfunctions && nfns < 16; i++) {
        const ap_tarmac_function *tf = &svc->functions[i];
        ap_wapc_config wc = {.registry = reg, .tarmac_texts = true, .wasi = wasi};
        ap_pool_fn_opts o = {.pool_size = (size_t)tf->pool_size,
                             .timeout_ms = s->timeout_ms,
                             .isolation = tf->isolation == AP_TARMAC_ISOLATION_REQUEST
                                              ? AP_ISOLATION_REQUEST
                                              : AP_ISOLATION_POOL};
        if (ap_pool_fn_load_opts(tf->name, tf->filepath, &o, &wc, &fns[nfns++], &e) != AP_POOL_OK)
            die(tf->filepath, e.msg); /* built by the wat_guests and guest_examples targets */
    }
    ap_cap_bind_functions(cap, fns, nfns);
    for (size_t r = 0; r < svc->nroutes; r++) {
        const ap_tarmac_route *rt = &svc->routes[r];
        for (size_t m = 0; rt->type == AP_ROUTE_HTTP && m < rt->nmethods; m++)
            if (!ap_router_add(router, rt->methods[m], rt->path, AP_HANDLER_WASM, rt->function, &e))
                die("route", e.msg);
    }
    for (size_t i = 0; i < NSERVERS; i++) {
        ap_http_config hc = {.settings = &servers[i].s,
                             .routes = {.router = router, .fns = fns, .nfns = nfns},
                             .no_listen = true};
        if (ap_http_start(&hc, &servers[i].h, &e) != AP_HTTP_OK) die("ap_http_start", e.msg);
    }
    /* The servers, functions and registry live until the process exits. */
    return 0;
}

/* ---- the answer: HTTP/1.x responses back to back ---- */

static bool tchar(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* The head of a response at p[0..n): its length through the empty line, its status and its
 * Content-Length (-1: none). False when malformed or incomplete, and for a 1xx response of
 * server.c's (send_bytes dates every response; libmicrohttpd's own "100 Continue" has no header):
 * that would be a final answer where only an interim one may stand, and the client would take
 * the next request's response for this one's. */
static bool parse_head(const uint8_t *p, size_t n, size_t *head, unsigned *status, long long *cl)
{
    bool dated = false;
    if (n < 13 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != ' ' ||
        p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9' ||
        p[12] != ' ')
        return false;
    *status = (unsigned)((p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0'));
    *cl = -1;
    size_t i = 13;
    while (i < n && p[i] != '\r' && p[i] != '\n') /* reason phrase */
        i++;
    if (i + 1 >= n || p[i] != '\r' || p[i + 1] != '\n') return false;
    i += 2;
    for (;;) {
        if (i + 1 < n && p[i] == '\r' && p[i + 1] == '\n') {
            *head = i + 2;
            return !(*status < 200 && dated);
        }
        size_t name = i;
        while (i < n && tchar(p[i]))
            i++;
        if (i == name || i >= n || p[i] != ':') return false;
        size_t name_len = i - name;
        i++;
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
        size_t value = i;
        while (i < n && p[i] != '\r' && p[i] != '\n' && p[i] != 0)
            i++;
        if (i + 1 >= n || p[i] != '\r' || p[i + 1] != '\n') return false; /* bare CR/LF, NUL */
        size_t value_len = i - value;
        i += 2;
        if (name_len == 4 && strncasecmp((const char *)p + name, "Date", 4) == 0) dated = true;
        if (name_len == 17 && strncasecmp((const char *)p + name, "Transfer-Encoding", 17) == 0)
            return false; /* every response of server.c has a known length */
        if (name_len == 14 && strncasecmp((const char *)p + name, "Content-Length", 14) == 0) {
            long long v = 0;
            if (value_len == 0 || value_len > 12) return false;
            for (size_t k = 0; k < value_len; k++) {
                if (p[value + k] < '0' || p[value + k] > '9') return false;
                v = v * 10 + (p[value + k] - '0');
            }
            if (*cl >= 0 && *cl != v) return false;
            *cl = v;
        }
    }
}

/* True when the whole of p[0..n) is responses back to back. A response's body is its
 * Content-Length bytes, or none (HEAD, and always for 1xx, 204, 304); one without
 * Content-Length runs to the end. Both readings of a Content-Length are tried (a HEAD response
 * carries the length of the body it leaves out), by marking the offsets where a response may
 * start. */
static bool well_formed(const uint8_t *p, size_t n)
{
    if (n == 0) return true;
    uint8_t *start = calloc(n + 1, 1);
    if (!start) die("out of memory", NULL);
    start[0] = 1;
    for (size_t at = 0; at < n; at++) {
        if (!start[at]) continue;
        size_t head;
        unsigned status;
        long long cl;
        if (!parse_head(p + at, n - at, &head, &status, &cl)) continue;
        size_t next = at + head;
        bool no_body = status < 200 || status == 204 || status == 304;
        start[next] = 1;
        if (!no_body && cl < 0) start[n] = 1;
        if (!no_body && cl > 0 && (unsigned long long)cl <= n - next) start[next + cl] = 1;
    }
    bool ok = start[n];
    free(start);
    return ok;
}

/* ---- one connection ---- */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void exchange(server *sv, const uint8_t *data, size_t size, ap_buf *answer)
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) die("socketpair", NULL);
    struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(50123),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (!ap_http_add_connection(sv->h, fds[1], (struct sockaddr *)&peer, sizeof peer))
        die("ap_http_add_connection", strerror(errno));
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    size_t sent = 0;
    bool writing = size > 0, open = true; /* open: the client may still send */
    long long deadline = now_ms() + CLOSE_S * 1000;
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0) die("the server did not close the connection", sv->threading);
        struct pollfd pf = {.fd = fds[0], .events = POLLIN | (writing ? POLLOUT : 0)};
        int ready = poll(&pf, 1, open && !writing ? QUIET_MS : (int)left);
        if (ready < 0 && errno != EINTR) die("poll", strerror(errno));
        if (ready == 0 && open && !writing) {
            int unread = 0;
            ap_http_load load;
            ap_http_get_load(sv->h, &load);
            if (ioctl(fds[0], SIOCOUTQ, &unread) == 0 && unread == 0 && load.running == 0) {
                shutdown(fds[0], SHUT_WR);
                open = false;
            }
            continue;
        }
        if (writing && (pf.revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = send(fds[0], data + sent, size - sent, MSG_NOSIGNAL);
            if (w > 0) sent += (size_t)w;
            if (sent == size) writing = false;
            /* the server may close before reading everything (413, 400): stop sending */
            if (w < 0 && errno != EAGAIN && errno != EINTR) {
                shutdown(fds[0], SHUT_WR);
                writing = open = false;
            }
        }
        if (pf.revents & (POLLIN | POLLERR | POLLHUP)) {
            char chunk[16384];
            ssize_t r = read(fds[0], chunk, sizeof chunk);
            if (r == 0 || (r < 0 && errno == ECONNRESET)) break;
            if (r > 0 && !ap_buf_append(answer, chunk, (size_t)r)) die("out of memory", NULL);
        }
    }
    close(fds[0]);
    /* the connection's clean-up (on_completed) finishes before the next input starts */
    for (;;) {
        ap_http_load load;
        ap_http_get_load(sv->h, &load);
        if (load.connections == 0 && load.requests == 0) break;
        if (now_ms() > deadline) die("the connection was not cleaned up", sv->threading);
        usleep(200);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ap_buf answer = {0};
    for (size_t i = 0; i < NSERVERS; i++) {
        ap_buf_reset(&answer);
        exchange(&servers[i], data, size, &answer);
        if (debug)
            fprintf(stderr, "--- %s: %zu bytes\n%.*s\n", servers[i].threading, answer.len,
                    (int)answer.len, answer.data ? (const char *)answer.data : "");
        if (!well_formed(answer.data, answer.len)) {
            fprintf(stderr, "fuzz-server: %s: malformed answer (%zu bytes):\n%.*s\n",
                    servers[i].threading, answer.len, (int)(answer.len > 4096 ? 4096 : answer.len),
                    (const char *)answer.data);
            abort();
        }
    }
    ap_buf_free(&answer);
    return 0;
}
