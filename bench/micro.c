/* micro.c — in-process micro-benchmarks of the engine's entry and exit costs (issue 6 targets):
 * host → guest call of a trivial export, guest → host call of a trivial import, load + validate +
 * compile of a ~1 MB module, instantiation with 1 MiB of memory, and heap bytes per instance
 * beyond linear memory. The modules are assembled here, byte by byte. Prints figures; asserts
 * nothing (`make bench` runs it). */
#include "apron/wasm.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ---- a tiny module writer ---- */

typedef struct {
    uint8_t *p;
    size_t len, cap;
} buf;

static void put(buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (!b->p) abort();
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}
static void byte(buf *b, uint8_t v) { put(b, &v, 1); }
static void uleb(buf *b, uint64_t v)
{
    do {
        uint8_t x = v & 0x7f;
        v >>= 7;
        byte(b, (uint8_t)(x | (v ? 0x80 : 0)));
    } while (v);
}
static void section(buf *m, uint8_t id, const buf *content)
{
    byte(m, id);
    uleb(m, content->len);
    put(m, content->p, content->len);
}
static void header(buf *m) { put(m, "\0asm\1\0\0\0", 8); }

/* types: 0 = (i32) -> i32 */
static void type_section(buf *m)
{
    buf s = {0};
    uleb(&s, 1);
    put(&s, "\x60\x01\x7f\x01\x7f", 5);
    section(m, 1, &s);
    free(s.p);
}

/* (func (export "add") (param i32) (result i32) local.get 0 i32.const 1 i32.add) */
static buf module_add(void)
{
    buf m = {0}, s = {0};
    header(&m);
    type_section(&m);
    uleb(&s, 1), uleb(&s, 0), section(&m, 3, &s), s.len = 0;
    uleb(&s, 1), uleb(&s, 3), put(&s, "add", 3), byte(&s, 0), uleb(&s, 0), section(&m, 7, &s);
    s.len = 0;
    static const uint8_t body[] = {0x00, 0x20, 0x00, 0x41, 0x01, 0x6a, 0x0b};
    uleb(&s, 1), uleb(&s, sizeof body), put(&s, body, sizeof body), section(&m, 10, &s);
    free(s.p);
    return m;
}

/* (import "env" "f" (func (param i32) (result i32)))
 * (func (export "loop") (param i32) (result i32) (local i32)
 *   loop  local.get 1 call 0 local.set 1  local.get 0 i32.const 1 i32.sub local.tee 0 br_if 0 end
 *   local.get 1) */
static buf module_host_loop(void)
{
    buf m = {0}, s = {0};
    header(&m);
    type_section(&m);
    uleb(&s, 1), uleb(&s, 3), put(&s, "env", 3), uleb(&s, 1), put(&s, "f", 1), byte(&s, 0),
        uleb(&s, 0), section(&m, 2, &s), s.len = 0;
    uleb(&s, 1), uleb(&s, 0), section(&m, 3, &s), s.len = 0;
    uleb(&s, 1), uleb(&s, 4), put(&s, "loop", 4), byte(&s, 0), uleb(&s, 1), section(&m, 7, &s);
    s.len = 0;
    static const uint8_t body[] = {0x01, 0x01, 0x7f, 0x03, 0x40, 0x20, 0x01, 0x10, 0x00, 0x21,
                                   0x01, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x22, 0x00, 0x0d, 0x00,
                                   0x0b, 0x20, 0x01, 0x0b};
    uleb(&s, 1), uleb(&s, sizeof body), put(&s, body, sizeof body), section(&m, 10, &s);
    free(s.p);
    return m;
}

/* About 1 MB: `nfuncs` functions of straight-line arithmetic and a loop each, plus 1 MiB of
 * memory (16 pages) for the instantiation figure. */
static buf module_big(uint32_t nfuncs, bool with_memory)
{
    buf m = {0}, s = {0}, body = {0};
    header(&m);
    type_section(&m);
    uleb(&s, nfuncs);
    for (uint32_t i = 0; i < nfuncs; i++) uleb(&s, 0);
    section(&m, 3, &s), s.len = 0;
    if (with_memory) {
        put(&s, "\x01\x00\x10", 3); /* one memory, min 16 pages */
        section(&m, 5, &s), s.len = 0;
    }
    uleb(&s, 1), uleb(&s, 3), put(&s, "add", 3), byte(&s, 0), uleb(&s, 0), section(&m, 7, &s);
    s.len = 0;
    uleb(&s, nfuncs);
    for (uint32_t i = 0; i < nfuncs; i++) {
        body.len = 0;
        put(&body, "\x01\x01\x7f", 3); /* one i32 local */
        put(&body, "\x03\x40", 2);     /* loop */
        for (int k = 0; k < 40; k++) {
            /* local.get 0 i32.const k i32.add local.set 1 local.get 1 i32.const 3 i32.mul
             * local.set 0 */
            static const uint8_t op[] = {0x20, 0x00, 0x41, 0x05, 0x6a, 0x21, 0x01,
                                         0x20, 0x01, 0x41, 0x03, 0x6c, 0x21, 0x00};
            put(&body, op, sizeof op);
        }
        put(&body, "\x20\x00\x45\x0d\x00\x0b", 6); /* local.get 0 i32.eqz br_if 0 end */
        put(&body, "\x20\x00\x0b", 3);
        uleb(&s, body.len);
        put(&s, body.p, body.len);
    }
    section(&m, 10, &s);
    free(s.p);
    free(body.p);
    return m;
}

static wa_status host_inc(wa_instance *caller, void *user, wa_slot *slots)
{
    (void)caller, (void)user;
    slots[0].i32 += 1;
    return WA_OK;
}

static wa_module *load(const buf *b)
{
    wa_module *m = NULL;
    wa_error err;
    if (wa_module_load(b->p, b->len, &m, &err) != WA_OK) {
        fprintf(stderr, "micro: load failed: %s\n", err.msg);
        exit(1);
    }
    return m;
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 10000000;
    printf("engine micro-benchmarks (targets from issue 6 in brackets)\n");

    /* host → guest */
    buf b = module_add();
    wa_module *m = load(&b);
    wa_store *s = wa_store_new(NULL);
    wa_instance *in;
    wa_error err;
    if (wa_instance_new(s, m, NULL, NULL, &in, &err) != WA_OK) return 1;
    wa_func *add = wa_instance_func(in, "add");
    wa_slot slot[1] = {{.i32 = 0}};
    wa_call_slots(add, slot, &err);
    double t0 = now_ns();
    uint32_t acc = 0;
    for (long i = 0; i < iters; i++) {
        slot[0].i32 = acc;
        wa_call_slots(add, slot, &err);
        acc = slot[0].i32;
    }
    double raw = (now_ns() - t0) / (double)iters;
    wa_value arg = {.type = WA_I32}, res;
    t0 = now_ns();
    for (long i = 0; i < iters; i++) {
        arg.of.i32 = acc;
        wa_call(add, &arg, 1, &res, &err);
        acc = res.of.i32;
    }
    double typed = (now_ns() - t0) / (double)iters;
    printf("host -> guest call, add(i, 1):   %6.1f ns (wa_call_slots)  %6.1f ns (wa_call)  [<= 30 ns]"
           "  check=%u\n", raw, typed, acc);
    wa_store_free(s);
    wa_module_unref(m);
    free(b.p);

    /* guest → host */
    b = module_host_loop();
    m = load(&b);
    s = wa_store_new(NULL);
    wa_functype ft = {1, 1, (const wa_valtype[]){WA_I32}, (const wa_valtype[]){WA_I32}};
    wa_extern imp = {.kind = WA_EXTERN_FUNC, .of.func = wa_func_new_host(s, &ft, host_inc, NULL)};
    if (wa_instance_new(s, m, &imp, NULL, &in, &err) != WA_OK) return 1;
    wa_func *loop = wa_instance_func(in, "loop");
    slot[0].i32 = (uint32_t)iters;
    t0 = now_ns();
    wa_call_slots(loop, slot, &err);
    double host = (now_ns() - t0) / (double)iters;
    printf("guest -> host call, trivial:     %6.1f ns per iteration (call + loop)  [<= 30 ns]"
           "  check=%u\n", host, slot[0].i32);
    wa_store_free(s);
    wa_module_unref(m);
    free(b.p);

    /* load + validate + compile ~1 MB */
    b = module_big(1700, false);
    double best = 1e18;
    for (int r = 0; r < 5; r++) {
        t0 = now_ns();
        m = load(&b);
        double t = now_ns() - t0;
        if (t < best) best = t;
        wa_module_unref(m);
    }
    printf("load+validate+compile %4zu KB:   %6.2f ms  [<= 10 ms for 1 MB]\n", b.len / 1024,
           best / 1e6);
    free(b.p);

    /* instantiate with 1 MiB of memory; heap per instance */
    b = module_big(50, true);
    m = load(&b);
    s = wa_store_new(NULL);
    const int n = 2000;
    wa_store *stores[64];
    t0 = now_ns();
    for (int i = 0; i < n; i++) {
        wa_store *st = wa_store_new(NULL);
        if (wa_instance_new(st, m, NULL, NULL, &in, &err) != WA_OK) return 1;
        wa_store_free(st);
    }
    double inst = (now_ns() - t0) / n;
    struct mallinfo2 before = mallinfo2();
    for (int i = 0; i < 64; i++) {
        stores[i] = wa_store_new(NULL);
        if (wa_instance_new(stores[i], m, NULL, NULL, &in, &err) != WA_OK) return 1;
    }
    struct mallinfo2 after = mallinfo2();
    for (int i = 0; i < 64; i++) wa_store_free(stores[i]);
    printf("instantiate (1 MiB memory):      %6.1f us incl. store new/free  [<= 50 us]\n",
           inst / 1e3);
    printf("heap per instance (50 funcs):    %6zu bytes beyond linear memory  [<= 64 KiB]\n",
           (after.uordblks - before.uordblks) / 64);
    wa_store_free(s);
    wa_module_unref(m);
    free(b.p);
    return 0;
}
