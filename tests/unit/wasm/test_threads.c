/* test_threads.c — one compiled module shared by several threads at once, as the server does
 * (wasm.h: a wa_module is shareable read-only between threads; a store belongs to one thread at a
 * time). Each thread instantiates the module many times in stores of its own and calls its
 * exports: plain arithmetic, a memory write read back, per-instance global state, and three traps
 * (divide by zero, out-of-bounds store past the guard, unreachable). Run under ASan (make asan);
 * a -fsanitize=thread build of this one file also passes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "module.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

enum { THREADS = 4, ROUNDS = 200, PAGE = 65536 };

/* wat2wasm of:
 * (module
 *   (memory 1 1)
 *   (global $n (mut i32) (i32.const 0))
 *   (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
 *   (func (export "poke") (param i32 i32) (result i32)
 *     (i32.store (local.get 0) (local.get 1)) (i32.load (local.get 0)))
 *   (func (export "count") (result i32)
 *     (global.set $n (i32.add (global.get $n) (i32.const 1))) (global.get $n))
 *   (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
 *   (func (export "boom") unreachable)
 *   (export "mem" (memory 0))) */
static const uint8_t shared_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0e, 0x03, 0x60, 0x02, 0x7f, 0x7f,
    0x01, 0x7f, 0x60, 0x00, 0x01, 0x7f, 0x60, 0x00, 0x00, 0x03, 0x06, 0x05, 0x00, 0x00, 0x01,
    0x00, 0x02, 0x05, 0x04, 0x01, 0x01, 0x01, 0x01, 0x06, 0x06, 0x01, 0x7f, 0x01, 0x41, 0x00,
    0x0b, 0x07, 0x29, 0x06, 0x03, 0x61, 0x64, 0x64, 0x00, 0x00, 0x04, 0x70, 0x6f, 0x6b, 0x65,
    0x00, 0x01, 0x05, 0x63, 0x6f, 0x75, 0x6e, 0x74, 0x00, 0x02, 0x03, 0x64, 0x69, 0x76, 0x00,
    0x03, 0x04, 0x62, 0x6f, 0x6f, 0x6d, 0x00, 0x04, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x0a,
    0x30, 0x05, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b, 0x0e, 0x00, 0x20, 0x00, 0x20,
    0x01, 0x36, 0x02, 0x00, 0x20, 0x00, 0x28, 0x02, 0x00, 0x0b, 0x0b, 0x00, 0x23, 0x00, 0x41,
    0x01, 0x6a, 0x24, 0x00, 0x23, 0x00, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6d, 0x0b,
    0x03, 0x00, 0x00, 0x0b,
};

/* cmocka's assertions may not run off the main thread: a worker records its first failure. */
typedef struct {
    wa_module *module;
    unsigned id;
    unsigned calls, traps;
    char failure[256];
} worker;

#define CHECK(w, cond)                                                                            \
    do {                                                                                          \
        if (!(cond) && !(w)->failure[0])                                                          \
            snprintf((w)->failure, sizeof (w)->failure, "thread %u, line %d: %s", (w)->id,       \
                     __LINE__, #cond);                                                            \
        if (!(cond)) return false;                                                                \
    } while (0)

static wa_value i32v(uint32_t v) { return (wa_value){.type = WA_I32, .of.i32 = v}; }

/* Calls name(a, b) (or name() with nargs 0): WA_OK with *res set, or the trap in *err. */
static wa_status call2(wa_instance *in, const char *name, uint32_t nargs, uint32_t a, uint32_t b,
                       uint32_t *res, wa_error *err)
{
    wa_func *f = wa_instance_func(in, name);
    if (!f) return WA_ENOTFOUND;
    wa_value args[2] = {i32v(a), i32v(b)}, out = {0};
    wa_status st = wa_call(f, args, nargs, &out, err);
    if (st == WA_OK && res) *res = out.of.i32;
    return st;
}

static bool expect_trap(worker *w, wa_instance *in, const char *name, uint32_t nargs, uint32_t a,
                        uint32_t b, wa_trap trap, const char *msg)
{
    wa_error err = {0};
    CHECK(w, call2(in, name, nargs, a, b, NULL, &err) == WA_ETRAP);
    CHECK(w, err.trap == trap);
    CHECK(w, strcmp(err.msg, msg) == 0);
    w->traps++;
    return true;
}

/* One round: a store, two instances of the shared module, every export on each. */
static bool round_trip(worker *w, unsigned round)
{
    wa_store *s = wa_store_new(NULL);
    CHECK(w, s != NULL);
    wa_instance *in[2] = {NULL, NULL};
    wa_error err = {0};
    bool ok = false;
    for (int k = 0; k < 2; k++)
        if (wa_instance_new(s, w->module, NULL, NULL, &in[k], &err) != WA_OK) goto out;

    uint32_t tag = (w->id << 24) | (round << 1), r = 0;
    for (int k = 0; k < 2; k++) {
        if (call2(in[k], "add", 2, tag, (uint32_t)k, &r, &err) != WA_OK || r != tag + (uint32_t)k)
            goto out;
        /* The last word of the page: each instance's memory is its own and starts zeroed. */
        uint8_t *word = wa_memory_span(in[k], PAGE - 4, 4);
        if (!word || memcmp(word, "\0\0\0\0", 4) != 0) goto out;
        if (call2(in[k], "poke", 2, PAGE - 4, tag + (uint32_t)k, &r, &err) != WA_OK ||
            r != tag + (uint32_t)k)
            goto out;
        uint32_t stored;
        memcpy(&stored, wa_memory_span(in[k], PAGE - 4, 4), 4);
        if (stored != tag + (uint32_t)k) goto out;
        for (uint32_t n = 1; n <= 3; n++)
            if (call2(in[k], "count", 0, 0, 0, &r, &err) != WA_OK || r != n) goto out;
        if (call2(in[k], "div", 2, (uint32_t)-42, 6, &r, &err) != WA_OK || r != (uint32_t)-7)
            goto out;
        w->calls += 6;
    }
    /* Traps, then the instance still answers. */
    if (!expect_trap(w, in[0], "div", 2, 1, 0, WA_TRAP_DIV_ZERO, "integer divide by zero") ||
        !expect_trap(w, in[0], "div", 2, 0x80000000u, (uint32_t)-1, WA_TRAP_INT_OVERFLOW,
                     "integer overflow") ||
        !expect_trap(w, in[1], "poke", 2, PAGE - 2, 1, WA_TRAP_MEMORY_OOB,
                     "out of bounds memory access") ||
        !expect_trap(w, in[1], "boom", 0, 0, 0, WA_TRAP_UNREACHABLE, "unreachable"))
        goto free_store;
    if (call2(in[1], "add", 2, 2, 3, &r, &err) != WA_OK || r != 5) goto out;
    if (call2(in[0], "count", 0, 0, 0, &r, &err) != WA_OK || r != 4) goto out;
    w->calls += 2;
    ok = true;
out:
    if (!ok && !w->failure[0])
        snprintf(w->failure, sizeof w->failure, "thread %u, round %u: %s (%s)", w->id, round,
                 wa_status_text(err.status), err.msg);
free_store:
    wa_store_free(s);
    return ok;
}

static void *run_worker(void *arg)
{
    worker *w = arg;
    for (unsigned i = 0; i < ROUNDS; i++)
        if (!round_trip(w, i)) break;
    return NULL;
}

static void one_module_many_threads(void **state)
{
    wa_module *m = NULL;
    wa_error err = {0};
    assert_int_equal(wa_module_load(shared_wasm, sizeof shared_wasm, &m, &err), WA_OK);
    worker w[THREADS];
    pthread_t tid[THREADS];
    for (unsigned t = 0; t < THREADS; t++) {
        w[t] = (worker){.module = m, .id = t};
        assert_int_equal(pthread_create(&tid[t], NULL, run_worker, &w[t]), 0);
    }
    for (unsigned t = 0; t < THREADS; t++)
        assert_int_equal(pthread_join(tid[t], NULL), 0);
    for (unsigned t = 0; t < THREADS; t++) {
        if (w[t].failure[0]) fail_msg("%s", w[t].failure);
        assert_int_equal(w[t].calls, ROUNDS * 14);
        assert_int_equal(w[t].traps, ROUNDS * 4);
    }
    /* Every instance dropped its reference: this one is the last, and the module still works. */
    assert_int_equal(atomic_load(&m->refs), 1);
    wa_store *s = wa_store_new(NULL);
    wa_instance *in = NULL;
    assert_int_equal(wa_instance_new(s, m, NULL, NULL, &in, &err), WA_OK);
    uint32_t r = 0;
    assert_int_equal(call2(in, "add", 2, 40, 2, &r, &err), WA_OK);
    assert_int_equal(r, 42);
    wa_store_free(s);
    wa_module_unref(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_module_many_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
