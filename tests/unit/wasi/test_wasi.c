/* test_wasi.c — src/wasi/ through the engine: each WASI function is imported by a small
 * hand-encoded module that re-exports it as "call" (a wasm function forwarding its arguments, so
 * the host function sees a calling instance with a 1 MiB memory). Hostile pointers must answer
 * EFAULT and touch nothing; the resolver must refuse what is not WASI or has the wrong type. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "wasi/wasi.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGES 16
#define MEM_SIZE (PAGES * 65536u)

enum {
    E_SUCCESS = 0,
    E_BADF = 8,
    E_FAULT = 21,
    E_INVAL = 28,
    E_NOSYS = 52,
    E_SPIPE = 70,
    E_NOTCAPABLE = 76,
};

/* ---- A sink that records ---- */

typedef struct {
    uint8_t data[2][16384]; /* fd 1, fd 2 */
    size_t len[2];
    int calls;
} capture;

static void capture_write(void *user, int fd, const uint8_t *p, size_t n)
{
    capture *c = user;
    assert_true(fd == 1 || fd == 2);
    size_t room = sizeof c->data[0] - c->len[fd - 1];
    size_t k = n < room ? n : room;
    memcpy(c->data[fd - 1] + c->len[fd - 1], p, k);
    c->len[fd - 1] += k;
    c->calls++;
}

/* ---- The rig: one WASI import behind an exported forwarder ---- */

typedef struct {
    ap_wasi *wasi;
    wa_module *module;
    wa_store *store;
    wa_instance *in;
    wa_func *call;
    uint8_t *mem;
    const char *params;
    bool result;
    capture cap;
} rig;

static void put_name(uint8_t **p, const char *s)
{
    size_t n = strlen(s);
    *(*p)++ = (uint8_t)n;
    memcpy(*p, s, n);
    *p += n;
}

/* A section: id, one-byte size (every section here is under 128 bytes), body. */
static void put_section(uint8_t **p, uint8_t id, const uint8_t *body, size_t n)
{
    assert_true(n < 128);
    *(*p)++ = id;
    *(*p)++ = (uint8_t)n;
    memcpy(*p, body, n);
    *p += n;
}

/* params: 'i' i32, 'I' i64; result: one i32 or none. */
static size_t build_module(uint8_t *out, const char *module, const char *name, const char *params,
                           bool result)
{
    uint8_t body[128], *b, *p = out;
    static const uint8_t header[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
    size_t np = strlen(params);
    memcpy(p, header, sizeof header);
    p += sizeof header;

    b = body; /* type */
    *b++ = 1;
    *b++ = 0x60;
    *b++ = (uint8_t)np;
    for (size_t i = 0; i < np; i++)
        *b++ = params[i] == 'I' ? 0x7e : 0x7f;
    *b++ = result ? 1 : 0;
    if (result)
        *b++ = 0x7f;
    put_section(&p, 1, body, (size_t)(b - body));

    b = body; /* import */
    *b++ = 1;
    put_name(&b, module);
    put_name(&b, name);
    *b++ = 0x00;
    *b++ = 0;
    put_section(&p, 2, body, (size_t)(b - body));

    static const uint8_t funcs[] = {1, 0};
    put_section(&p, 3, funcs, sizeof funcs);
    static const uint8_t mems[] = {1, 0x00, PAGES};
    put_section(&p, 5, mems, sizeof mems);

    b = body; /* export */
    *b++ = 2;
    put_name(&b, "call");
    *b++ = 0x00;
    *b++ = 1;
    put_name(&b, "memory");
    *b++ = 0x02;
    *b++ = 0;
    put_section(&p, 7, body, (size_t)(b - body));

    b = body; /* code: local.get 0..n-1, call 0, end */
    *b++ = 1;
    *b++ = (uint8_t)(1 + 2 * np + 3);
    *b++ = 0; /* no locals */
    for (size_t i = 0; i < np; i++) {
        *b++ = 0x20;
        *b++ = (uint8_t)i;
    }
    *b++ = 0x10;
    *b++ = 0;
    *b++ = 0x0b;
    put_section(&p, 10, body, (size_t)(b - body));
    return (size_t)(p - out);
}

static void rig_open_cfg(rig *r, const char *module, const char *name, const char *params,
                         bool result, ap_wasi_config *cfg)
{
    memset(r, 0, sizeof *r);
    cfg->write = capture_write;
    cfg->write_user = &r->cap;
    assert_int_equal(ap_wasi_new(cfg, &r->wasi), AP_WASI_OK);
    uint8_t bytes[512];
    size_t len = build_module(bytes, module, name, params, result);
    wa_error err;
    assert_int_equal(wa_module_load(bytes, len, &r->module, &err), WA_OK);
    assert_non_null(r->store = wa_store_new(NULL));
    wa_functype ft;
    assert_true(wa_module_import_functype(r->module, 0, &ft));
    wa_extern imp = {.kind = WA_EXTERN_FUNC};
    assert_non_null(imp.of.func = ap_wasi_resolve(r->wasi, r->store, module, name, &ft));
    assert_int_equal(wa_instance_new(r->store, r->module, &imp, NULL, &r->in, &err), WA_OK);
    assert_non_null(r->call = wa_instance_func(r->in, "call"));
    r->mem = wa_memory_data(wa_instance_memory(r->in));
    assert_int_equal(wa_memory_size(wa_instance_memory(r->in)), MEM_SIZE);
    r->params = params;
    r->result = result;
}

static void rig_open(rig *r, const char *name, const char *params)
{
    ap_wasi_config cfg = {0};
    rig_open_cfg(r, "wasi_snapshot_preview1", name, params, true, &cfg);
}

static void rig_close(rig *r)
{
    wa_store_free(r->store);
    wa_module_unref(r->module);
    ap_wasi_free(r->wasi);
}

/* Calls the import with args (as many as it takes); returns the errno, or the wa_status | 0x10000
 * when the call did not return normally (the error goes to *err_out if given). */
static uint32_t rig_call_err(rig *r, const uint64_t *args, wa_error *err_out)
{
    wa_value in[9], out[1];
    size_t n = strlen(r->params);
    for (size_t i = 0; i < n; i++) {
        memset(&in[i], 0, sizeof in[i]);
        in[i].type = r->params[i] == 'I' ? WA_I64 : WA_I32;
        if (in[i].type == WA_I64)
            in[i].of.i64 = args[i];
        else
            in[i].of.i32 = (uint32_t)args[i];
    }
    wa_error err;
    wa_status st = wa_call(r->call, in, (uint32_t)n, out, &err);
    if (err_out)
        *err_out = err;
    if (st != WA_OK)
        return 0x10000u | st;
    return r->result ? out[0].of.i32 : 0;
}

static uint32_t rig_call(rig *r, const uint64_t *args)
{
    return rig_call_err(r, args, NULL);
}

static uint32_t get32(const rig *r, uint32_t at)
{
    const uint8_t *p = r->mem + at;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const rig *r, uint32_t at)
{
    return get32(r, at) | (uint64_t)get32(r, at + 4) << 32;
}

static void put32(rig *r, uint32_t at, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        r->mem[at + i] = (uint8_t)(v >> (8 * i));
}

static void put64(rig *r, uint32_t at, uint64_t v)
{
    put32(r, at, (uint32_t)v);
    put32(r, at + 4, (uint32_t)(v >> 32));
}

static void put_iov(rig *r, uint32_t at, uint32_t buf, uint32_t len)
{
    put32(r, at, buf);
    put32(r, at + 4, len);
}

/* ---- fd_write ---- */

static void test_fd_write_gathers(void **state)
{
    rig r;
    rig_open(&r, "fd_write", "iiii");
    memcpy(r.mem + 1000, "hel", 3);
    memcpy(r.mem + 2000, "lo\n", 3);
    put_iov(&r, 100, 1000, 3);
    put_iov(&r, 108, 0, 0);
    put_iov(&r, 116, 2000, 3);
    put32(&r, 200, 0xdeadbeef);
    assert_int_equal(rig_call(&r, (uint64_t[]){1, 100, 3, 200}), E_SUCCESS);
    assert_int_equal(get32(&r, 200), 6);
    assert_int_equal(r.cap.calls, 1);
    assert_int_equal(r.cap.len[0], 6);
    assert_memory_equal(r.cap.data[0], "hello\n", 6);

    /* stderr goes to fd 2; zero iovecs write nothing and report 0 */
    assert_int_equal(rig_call(&r, (uint64_t[]){2, 100, 1, 200}), E_SUCCESS);
    assert_int_equal(r.cap.len[1], 3);
    assert_int_equal(rig_call(&r, (uint64_t[]){1, 100, 0, 200}), E_SUCCESS);
    assert_int_equal(get32(&r, 200), 0);
    assert_int_equal(r.cap.calls, 2);
    rig_close(&r);
}

static void test_fd_write_large_iovecs_one_call_each(void **state)
{
    rig r;
    rig_open(&r, "fd_write", "iiii");
    memset(r.mem + 10000, 'a', 3000);
    memset(r.mem + 20000, 'b', 3000);
    put_iov(&r, 100, 10000, 3000);
    put_iov(&r, 108, 20000, 3000);
    assert_int_equal(rig_call(&r, (uint64_t[]){1, 100, 2, 200}), E_SUCCESS);
    assert_int_equal(get32(&r, 200), 6000);
    assert_int_equal(r.cap.calls, 2);
    assert_int_equal(r.cap.len[0], 6000);
    assert_int_equal(r.cap.data[0][2999], 'a');
    assert_int_equal(r.cap.data[0][3000], 'b');
    rig_close(&r);
}

static void test_fd_write_hostile_pointers(void **state)
{
    rig r;
    rig_open(&r, "fd_write", "iiii");
    memcpy(r.mem + 1000, "ok", 2);
    put32(&r, 200, 77);

    /* iovec array past the end, or straddling it */
    assert_int_equal(rig_call(&r, (uint64_t[]){1, 0xfffffff0u, 4, 200}), E_FAULT);
    assert_int_equal(rig_call(&r, (uint64_t[]){1, MEM_SIZE - 8, 2, 200}), E_FAULT);
    assert_int_equal(rig_call(&r, (uint64_t[]){1, MEM_SIZE, 1, 200}), E_FAULT);
    /* iovs_len * 8 wraps in 32 bits to 8: must not pass as one iovec */
    put_iov(&r, 0, 1000, 2);
    assert_int_equal(rig_call(&r, (uint64_t[]){1, 0, 0x20000001u, 200}), E_FAULT);
    assert_int_equal(rig_call(&r, (uint64_t[]){1, 0, 0xffffffffu, 200}), E_FAULT);

    /* a good iovec then a bad one: nothing is written at all */
    put_iov(&r, 100, 1000, 2);
    put_iov(&r, 108, MEM_SIZE - 4, 10);
    assert_int_equal(rig_call(&r, (uint64_t[]){1, 100, 2, 200}), E_FAULT);
    put_iov(&r, 108, 0xffffffffu, 1); /* ptr + len wraps to 0 in 32 bits */
    assert_int_equal(rig_call(&r, (uint64_t[]){1, 100, 2, 200}), E_FAULT);
    put_iov(&r, 108, 1, 0xffffffffu);
    assert_int_equal(rig_call(&r, (uint64_t[]){1, 100, 2, 200}), E_FAULT);

    /* nwritten out of range, or straddling the end */
    assert_int_equal(rig_call(&r, (uint64_t[]){1, 100, 1, MEM_SIZE - 2}), E_FAULT);
    assert_int_equal(rig_call(&r, (uint64_t[]){1, 100, 1, 0xffffffffu}), E_FAULT);

    /* an iovec ending exactly at the end of memory is fine */
    memcpy(r.mem + MEM_SIZE - 2, "zz", 2);
    put_iov(&r, 108, MEM_SIZE - 2, 2);
    assert_int_equal(rig_call(&r, (uint64_t[]){1, 108, 1, 200}), E_SUCCESS);
    assert_int_equal(get32(&r, 200), 2);
    assert_int_equal(r.cap.len[0], 2);
    assert_memory_equal(r.cap.data[0], "zz", 2);
    assert_int_equal(r.cap.calls, 1);
    rig_close(&r);
}

static void test_fd_write_total_over_4gib(void **state)
{
    rig r;
    rig_open(&r, "fd_write", "iiii");
    /* 65,537 iovecs of 64 KiB each: every one in range, 4 GiB + 64 KiB in all */
    uint32_t n = 65537;
    for (uint32_t i = 0; i < n; i++)
        put_iov(&r, 8 * i, 0, 65536);
    assert_int_equal(rig_call(&r, (uint64_t[]){1, 0, n, MEM_SIZE - 4}), E_INVAL);
    assert_int_equal(r.cap.calls, 0);
    rig_close(&r);
}

static void test_fd_write_bad_fd(void **state)
{
    rig r;
    rig_open(&r, "fd_write", "iiii");
    assert_int_equal(rig_call(&r, (uint64_t[]){0, 100, 1, 200}), E_BADF);
    assert_int_equal(rig_call(&r, (uint64_t[]){3, 100, 1, 200}), E_BADF);
    assert_int_equal(rig_call(&r, (uint64_t[]){0xffffffffu, 100, 1, 200}), E_BADF);
    rig_close(&r);
}

/* ---- stdin, fdstat, seek, prestat, paths ---- */

static void test_fd_read_stdin_eof(void **state)
{
    rig r;
    rig_open(&r, "fd_read", "iiii");
    put_iov(&r, 100, 1000, 16);
    put32(&r, 200, 99);
    assert_int_equal(rig_call(&r, (uint64_t[]){0, 100, 1, 200}), E_SUCCESS);
    assert_int_equal(get32(&r, 200), 0);
    assert_int_equal(rig_call(&r, (uint64_t[]){0, 100, 1, MEM_SIZE}), E_FAULT);
    put_iov(&r, 100, MEM_SIZE - 1, 16);
    assert_int_equal(rig_call(&r, (uint64_t[]){0, 100, 1, 200}), E_FAULT);
    assert_int_equal(rig_call(&r, (uint64_t[]){1, 100, 1, 200}), E_BADF);
    rig_close(&r);
}

static void test_fd_fdstat_stdio(void **state)
{
    rig r;
    rig_open(&r, "fd_fdstat_get", "ii");
    memset(r.mem + 100, 0xee, 24);
    assert_int_equal(rig_call(&r, (uint64_t[]){1, 100}), E_SUCCESS);
    assert_int_equal(r.mem[100], 2);          /* character device */
    assert_true(get64(&r, 108) & (1u << 6));  /* fd_write right */
    assert_false(get64(&r, 108) & (1u << 2)); /* no seek: isatty() holds */
    assert_int_equal(get64(&r, 116), 0);
    assert_int_equal(rig_call(&r, (uint64_t[]){3, 100}), E_BADF);
    assert_int_equal(rig_call(&r, (uint64_t[]){1, MEM_SIZE - 23}), E_FAULT);
    rig_close(&r);

    rig_open(&r, "fd_seek", "iIii");
    assert_int_equal(rig_call(&r, (uint64_t[]){1, 0, 1, 100}), E_SPIPE);
    assert_int_equal(rig_call(&r, (uint64_t[]){5, 0, 1, 100}), E_BADF);
    rig_close(&r);

    rig_open(&r, "fd_close", "i");
    assert_int_equal(rig_call(&r, (uint64_t[]){2}), E_SUCCESS);
    assert_int_equal(rig_call(&r, (uint64_t[]){3}), E_BADF);
    rig_close(&r);
}

static void test_no_files(void **state)
{
    rig r;
    rig_open(&r, "fd_prestat_get", "ii");
    assert_int_equal(rig_call(&r, (uint64_t[]){3, 100}), E_BADF);
    rig_close(&r);
    rig_open(&r, "path_open", "iiiiiIIii");
    memcpy(r.mem + 100, "/etc/passwd", 11);
    assert_int_equal(rig_call(&r, (uint64_t[]){3, 0, 100, 11, 0, ~0ull, ~0ull, 0, 200}), E_BADF);
    assert_int_equal(rig_call(&r, (uint64_t[]){0, 0, 100, 11, 0, ~0ull, ~0ull, 0, 200}),
                     E_NOTCAPABLE);
    rig_close(&r);
    rig_open(&r, "path_symlink", "iiiii");
    assert_int_equal(rig_call(&r, (uint64_t[]){100, 11, 1, 100, 11}), E_NOTCAPABLE);
    rig_close(&r);
    rig_open(&r, "sock_recv", "iiiiii");
    assert_int_equal(rig_call(&r, (uint64_t[]){3, 0, 0, 0, 0, 0}), E_NOSYS);
    rig_close(&r);
}

/* ---- args, environ ---- */

static void test_args_and_environ(void **state)
{
    const char *argv[] = {"prog", "", "two words"};
    const char *envp[] = {"A=1", "EMPTY="};
    ap_wasi_config cfg = {.argc = 3, .argv = argv, .envc = 2, .envp = envp};
    rig r;
    rig_open_cfg(&r, "wasi_snapshot_preview1", "args_sizes_get", "ii", true, &cfg);
    assert_int_equal(rig_call(&r, (uint64_t[]){100, 104}), E_SUCCESS);
    assert_int_equal(get32(&r, 100), 3);
    assert_int_equal(get32(&r, 104), 5 + 1 + 10);
    assert_int_equal(rig_call(&r, (uint64_t[]){MEM_SIZE - 2, 104}), E_FAULT);
    rig_close(&r);

    rig_open_cfg(&r, "wasi_snapshot_preview1", "args_get", "ii", true, &cfg);
    assert_int_equal(rig_call(&r, (uint64_t[]){100, 1000}), E_SUCCESS);
    assert_int_equal(get32(&r, 100), 1000);
    assert_int_equal(get32(&r, 104), 1005);
    assert_int_equal(get32(&r, 108), 1006);
    assert_memory_equal(r.mem + 1000, "prog\0\0two words\0", 16);
    /* the buffer straddling the end, the vector wrapping */
    assert_int_equal(rig_call(&r, (uint64_t[]){100, MEM_SIZE - 15}), E_FAULT);
    assert_int_equal(rig_call(&r, (uint64_t[]){0xfffffffcu, 1000}), E_FAULT);
    rig_close(&r);

    rig_open_cfg(&r, "wasi_snapshot_preview1", "environ_get", "ii", true, &cfg);
    assert_int_equal(rig_call(&r, (uint64_t[]){100, 1000}), E_SUCCESS);
    assert_int_equal(get32(&r, 104), 1004);
    assert_memory_equal(r.mem + 1000, "A=1\0EMPTY=\0", 11);
    rig_close(&r);

    /* the default: no environment */
    rig_open(&r, "environ_sizes_get", "ii");
    put32(&r, 100, 5);
    put32(&r, 104, 5);
    assert_int_equal(rig_call(&r, (uint64_t[]){100, 104}), E_SUCCESS);
    assert_int_equal(get32(&r, 100), 0);
    assert_int_equal(get32(&r, 104), 0);
    rig_close(&r);
}

/* ---- clocks, random, poll ---- */

static void test_clocks_and_random(void **state)
{
    rig r;
    rig_open(&r, "clock_time_get", "iIi");
    for (uint32_t id = 0; id < 4; id++) {
        put64(&r, 100, 0);
        assert_int_equal(rig_call(&r, (uint64_t[]){id, 1, 100}), E_SUCCESS);
        assert_true(get64(&r, 100) > 0);
    }
    assert_true(get64(&r, 100) < (uint64_t)60 * 1000000000u); /* thread CPU time, ns */
    assert_int_equal(rig_call(&r, (uint64_t[]){0, 1, 100}), E_SUCCESS);
    assert_true(get64(&r, 100) > (uint64_t)1577836800 * 1000000000u); /* after 2020 */
    assert_int_equal(rig_call(&r, (uint64_t[]){4, 1, 100}), E_INVAL);
    assert_int_equal(rig_call(&r, (uint64_t[]){1, 1, MEM_SIZE - 7}), E_FAULT);
    rig_close(&r);

    rig_open(&r, "clock_res_get", "ii");
    assert_int_equal(rig_call(&r, (uint64_t[]){1, 100}), E_SUCCESS);
    assert_true(get64(&r, 100) > 0 && get64(&r, 100) <= 1000000000u);
    rig_close(&r);

    rig_open(&r, "random_get", "ii");
    assert_int_equal(rig_call(&r, (uint64_t[]){1000, 64}), E_SUCCESS);
    static const uint8_t zero[64];
    assert_memory_not_equal(r.mem + 1000, zero, 64);
    assert_int_equal(rig_call(&r, (uint64_t[]){0, MEM_SIZE}), E_SUCCESS);
    assert_int_equal(rig_call(&r, (uint64_t[]){1, MEM_SIZE}), E_FAULT);
    assert_int_equal(rig_call(&r, (uint64_t[]){0xffffffffu, 2}), E_FAULT);
    rig_close(&r);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A preview1 subscription (48 bytes) at `at`. */
static void put_clock_sub(rig *r, uint32_t at, uint64_t userdata, uint32_t clock, uint64_t timeout,
                          uint16_t flags)
{
    memset(r->mem + at, 0, 48);
    put64(r, at, userdata);
    r->mem[at + 8] = 0;
    put32(r, at + 16, clock);
    put64(r, at + 24, timeout);
    r->mem[at + 40] = (uint8_t)flags;
}

static void put_fd_sub(rig *r, uint32_t at, uint64_t userdata, uint8_t type, uint32_t fd)
{
    memset(r->mem + at, 0, 48);
    put64(r, at, userdata);
    r->mem[at + 8] = type;
    put32(r, at + 16, fd);
}

static void test_poll_oneoff(void **state)
{
    rig r;
    rig_open(&r, "poll_oneoff", "iiii");

    /* relative monotonic sleep of 20 ms */
    put_clock_sub(&r, 1000, 0x1122334455667788ull, 1, 20000000, 0);
    uint64_t t0 = mono_ns();
    assert_int_equal(rig_call(&r, (uint64_t[]){1000, 2000, 1, 3000}), E_SUCCESS);
    assert_true(mono_ns() - t0 >= 20000000);
    assert_int_equal(get32(&r, 3000), 1);
    assert_int_equal(get64(&r, 2000), 0x1122334455667788ull);
    assert_int_equal(r.mem[2000 + 8], 0);  /* error */
    assert_int_equal(r.mem[2000 + 10], 0); /* clock */

    /* absolute realtime in the past: at once */
    put_clock_sub(&r, 1000, 7, 0, 1000, 1);
    assert_int_equal(rig_call(&r, (uint64_t[]){1000, 2000, 1, 3000}), E_SUCCESS);
    assert_int_equal(get32(&r, 3000), 1);

    /* an fd subscription answers at once; a 10 s clock beside it is not due */
    put_clock_sub(&r, 1000, 1, 1, 10000000000ull, 0);
    put_fd_sub(&r, 1048, 2, 1, 0);
    put_fd_sub(&r, 1096, 3, 2, 1);
    put_fd_sub(&r, 1144, 4, 1, 9);
    t0 = mono_ns();
    assert_int_equal(rig_call(&r, (uint64_t[]){1000, 2000, 4, 3000}), E_SUCCESS);
    assert_true(mono_ns() - t0 < 1000000000u);
    assert_int_equal(get32(&r, 3000), 3);
    assert_int_equal(get64(&r, 2000), 2);
    assert_int_equal(r.mem[2000 + 10], 1);
    assert_int_equal(r.mem[2000 + 24], 1); /* hangup: end of file */
    assert_int_equal(get64(&r, 2032), 3);
    assert_int_equal(get64(&r, 2064), 4);
    assert_int_equal(r.mem[2064 + 8], E_BADF);

    /* a bad clock id is an event with EINVAL, not a sleep */
    put_clock_sub(&r, 1000, 5, 99, 10000000000ull, 0);
    assert_int_equal(rig_call(&r, (uint64_t[]){1000, 2000, 1, 3000}), E_SUCCESS);
    assert_int_equal(get32(&r, 3000), 1);
    assert_int_equal(r.mem[2000 + 8], E_INVAL);

    /* in and out may overlap */
    put_clock_sub(&r, 1000, 6, 1, 0, 0);
    assert_int_equal(rig_call(&r, (uint64_t[]){1000, 1000, 1, 3000}), E_SUCCESS);
    assert_int_equal(get64(&r, 1000), 6);

    /* no subscriptions; hostile pointers and counts */
    assert_int_equal(rig_call(&r, (uint64_t[]){1000, 2000, 0, 3000}), E_INVAL);
    assert_int_equal(rig_call(&r, (uint64_t[]){MEM_SIZE - 47, 2000, 1, 3000}), E_FAULT);
    assert_int_equal(rig_call(&r, (uint64_t[]){1000, MEM_SIZE - 31, 1, 3000}), E_FAULT);
    assert_int_equal(rig_call(&r, (uint64_t[]){1000, 2000, 1, MEM_SIZE}), E_FAULT);
    assert_int_equal(rig_call(&r, (uint64_t[]){0, 0, 0x10000000u, 3000}), E_FAULT);
    rig_close(&r);
}

static void test_poll_oneoff_unstable_layout(void **state)
{
    ap_wasi_config cfg = {0};
    rig r;
    rig_open_cfg(&r, "wasi_unstable", "poll_oneoff", "iiii", true, &cfg);
    /* snapshot 0: identifier u64 at 16, clock id at 24, timeout at 32, flags at 48 */
    memset(r.mem + 1000, 0, 56);
    put64(&r, 1000, 42);
    put32(&r, 1024, 1);
    put64(&r, 1032, 5000000);
    uint64_t t0 = mono_ns();
    assert_int_equal(rig_call(&r, (uint64_t[]){1000, 2000, 1, 3000}), E_SUCCESS);
    assert_true(mono_ns() - t0 >= 5000000);
    assert_int_equal(get32(&r, 3000), 1);
    assert_int_equal(get64(&r, 2000), 42);
    assert_int_equal(r.mem[2008], 0);
    assert_int_equal(rig_call(&r, (uint64_t[]){MEM_SIZE - 55, 2000, 1, 3000}), E_FAULT);
    rig_close(&r);
}

/* ---- proc_exit ---- */

static void test_proc_exit(void **state)
{
    ap_wasi_config cfg = {0};
    rig r;
    rig_open_cfg(&r, "wasi_snapshot_preview1", "proc_exit", "i", false, &cfg);
    int32_t code = -5;
    assert_false(ap_wasi_exit_code(r.wasi, &code));
    wa_error err;
    assert_int_equal(rig_call_err(&r, (uint64_t[]){3}, &err), 0x10000u | WA_ETRAP);
    assert_int_equal(err.trap, WA_TRAP_EXIT);
    assert_int_equal(err.exit_code, 3);
    assert_true(ap_wasi_exit_code(r.wasi, &code));
    assert_int_equal(code, 3);
    rig_close(&r);
}

/* ---- The resolver ---- */

static const struct {
    const char *name, *params;
} all_functions[] = {
    {"args_get", "ii"},
    {"args_sizes_get", "ii"},
    {"environ_get", "ii"},
    {"environ_sizes_get", "ii"},
    {"clock_res_get", "ii"},
    {"clock_time_get", "iIi"},
    {"fd_advise", "iIIi"},
    {"fd_allocate", "iII"},
    {"fd_close", "i"},
    {"fd_datasync", "i"},
    {"fd_fdstat_get", "ii"},
    {"fd_fdstat_set_flags", "ii"},
    {"fd_fdstat_set_rights", "iII"},
    {"fd_filestat_get", "ii"},
    {"fd_filestat_set_size", "iI"},
    {"fd_filestat_set_times", "iIIi"},
    {"fd_pread", "iiiIi"},
    {"fd_prestat_get", "ii"},
    {"fd_prestat_dir_name", "iii"},
    {"fd_pwrite", "iiiIi"},
    {"fd_read", "iiii"},
    {"fd_readdir", "iiiIi"},
    {"fd_renumber", "ii"},
    {"fd_seek", "iIii"},
    {"fd_sync", "i"},
    {"fd_tell", "ii"},
    {"fd_write", "iiii"},
    {"path_create_directory", "iii"},
    {"path_filestat_get", "iiiii"},
    {"path_filestat_set_times", "iiiiIIi"},
    {"path_link", "iiiiiii"},
    {"path_open", "iiiiiIIii"},
    {"path_readlink", "iiiiii"},
    {"path_remove_directory", "iii"},
    {"path_rename", "iiiiii"},
    {"path_symlink", "iiiii"},
    {"path_unlink_file", "iii"},
    {"poll_oneoff", "iiii"},
    {"proc_raise", "i"},
    {"random_get", "ii"},
    {"sched_yield", ""},
    {"sock_accept", "iii"},
    {"sock_recv", "iiiiii"},
    {"sock_send", "iiiii"},
    {"sock_shutdown", "ii"},
};

static void test_resolver(void **state)
{
    ap_wasi *w;
    assert_int_equal(ap_wasi_new(NULL, &w), AP_WASI_OK);
    wa_store *s = wa_store_new(NULL);
    assert_non_null(s);
    wa_valtype params[10], res[1] = {WA_I32};
    for (size_t i = 0; i < sizeof all_functions / sizeof all_functions[0]; i++) {
        wa_functype ft = {.nparams = (uint32_t)strlen(all_functions[i].params),
                          .nresults = 1,
                          .params = params,
                          .results = res};
        for (uint32_t k = 0; k < ft.nparams; k++)
            params[k] = all_functions[i].params[k] == 'I' ? WA_I64 : WA_I32;
        const char *name = all_functions[i].name;
        assert_non_null(ap_wasi_resolve(w, s, "wasi_snapshot_preview1", name, &ft));
        assert_non_null(ap_wasi_resolve(w, s, "wasi_snapshot_preview1", name, NULL));
        if (strcmp(name, "sock_accept") != 0)
            assert_non_null(ap_wasi_resolve(w, s, "wasi_unstable", name, &ft));
        /* the same name with any other type is refused */
        ft.nresults = 0;
        assert_null(ap_wasi_resolve(w, s, "wasi_snapshot_preview1", name, &ft));
        ft.nresults = 1;
        res[0] = WA_I64;
        assert_null(ap_wasi_resolve(w, s, "wasi_snapshot_preview1", name, &ft));
        res[0] = WA_I32;
        if (ft.nparams) {
            params[0] = WA_F32;
            assert_null(ap_wasi_resolve(w, s, "wasi_snapshot_preview1", name, &ft));
        }
        ft.nparams++;
        params[ft.nparams - 1] = WA_I32;
        assert_null(ap_wasi_resolve(w, s, "wasi_snapshot_preview1", name, &ft));
    }
    wa_functype exit_ft = {.nparams = 1, .params = (wa_valtype[]){WA_I32}};
    assert_non_null(ap_wasi_resolve(w, s, "wasi_snapshot_preview1", "proc_exit", &exit_ft));
    assert_non_null(ap_wasi_resolve(w, s, "wasi_unstable", "proc_exit", &exit_ft));
    exit_ft.nresults = 1;
    exit_ft.results = (wa_valtype[]){WA_I32};
    assert_null(ap_wasi_resolve(w, s, "wasi_snapshot_preview1", "proc_exit", &exit_ft));

    assert_null(ap_wasi_resolve(w, s, "wasi_unstable", "sock_accept", NULL));
    assert_null(ap_wasi_resolve(w, s, "wasi_snapshot_preview1", "nope", NULL));
    assert_null(ap_wasi_resolve(w, s, "wasi_snapshot_preview2", "fd_write", NULL));
    assert_null(ap_wasi_resolve(w, s, "env", "fd_write", NULL));
    assert_null(ap_wasi_resolve(w, s, "wasi", "fd_write", NULL));
    assert_true(ap_wasi_is_wasi_module("wasi_unstable"));
    assert_false(ap_wasi_is_wasi_module("wasi_snapshot_preview"));
    wa_store_free(s);
    ap_wasi_free(w);
}

/* A WASI function called directly (no calling instance, no memory) faults, never crashes. */
static void test_no_caller(void **state)
{
    ap_wasi *w;
    assert_int_equal(ap_wasi_new(NULL, &w), AP_WASI_OK);
    wa_store *s = wa_store_new(NULL);
    wa_func *f = ap_wasi_resolve(w, s, "wasi_snapshot_preview1", "fd_write", NULL);
    assert_non_null(f);
    wa_value args[4] = {{.type = WA_I32, .of.i32 = 1},
                        {.type = WA_I32, .of.i32 = 0},
                        {.type = WA_I32, .of.i32 = 1},
                        {.type = WA_I32, .of.i32 = 8}};
    wa_value res[1];
    wa_error err;
    assert_int_equal(wa_call(f, args, 4, res, &err), WA_OK);
    assert_int_equal(res[0].of.i32, E_FAULT);
    wa_store_free(s);
    ap_wasi_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fd_write_gathers),
        cmocka_unit_test(test_fd_write_large_iovecs_one_call_each),
        cmocka_unit_test(test_fd_write_hostile_pointers),
        cmocka_unit_test(test_fd_write_total_over_4gib),
        cmocka_unit_test(test_fd_write_bad_fd),
        cmocka_unit_test(test_fd_read_stdin_eof),
        cmocka_unit_test(test_fd_fdstat_stdio),
        cmocka_unit_test(test_no_files),
        cmocka_unit_test(test_args_and_environ),
        cmocka_unit_test(test_clocks_and_random),
        cmocka_unit_test(test_poll_oneoff),
        cmocka_unit_test(test_poll_oneoff_unstable_layout),
        cmocka_unit_test(test_proc_exit),
        cmocka_unit_test(test_resolver),
        cmocka_unit_test(test_no_caller),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
