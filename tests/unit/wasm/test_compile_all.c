/* test_compile_all.c — compile_all.c: a module large enough to compile on several threads gives
 * the same result as a sequential compile, and the error of the lowest-numbered bad function. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "apron/wasm.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t *p;
    size_t len, cap;
} buf;

static void put(buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void uleb(buf *b, uint64_t v)
{
    do {
        uint8_t x = v & 0x7f;
        v >>= 7;
        x |= v ? 0x80 : 0;
        put(b, &x, 1);
    } while (v);
}

/* nfuncs functions (i32) -> i32 of ~600 bytes each; functions in `bad` end with a type error
 * (an f32.add on i32 operands). Offsets of each body's first byte go to starts[]. */
static buf big_module(uint32_t nfuncs, const uint32_t *bad, size_t nbad, uint32_t *starts)
{
    buf m = {0}, s = {0}, body = {0};
    put(&m, "\0asm\1\0\0\0", 8);
    put(&m, "\x01\x06\x01\x60\x01\x7f\x01\x7f", 8);
    uleb(&s, nfuncs);
    for (uint32_t i = 0; i < nfuncs; i++) uleb(&s, 0);
    put(&m, "\x03", 1), uleb(&m, s.len), put(&m, s.p, s.len);
    s.len = 0;
    uleb(&s, nfuncs);
    size_t code_start_in_s[4096];
    for (uint32_t i = 0; i < nfuncs; i++) {
        body.len = 0;
        put(&body, "\x00", 1);
        for (int k = 0; k < 40; k++) put(&body, "\x20\x00\x41\x05\x6a\x21\x00\x20\x00\x41\x03\x6c\x21\x00", 14);
        bool is_bad = false;
        for (size_t b = 0; b < nbad; b++) is_bad |= bad[b] == i;
        if (is_bad) put(&body, "\x20\x00\x20\x00\x92\x1a", 6); /* f32.add of two i32: invalid */
        put(&body, "\x20\x00\x0b", 3);
        uleb(&s, body.len);
        code_start_in_s[i] = s.len;
        put(&s, body.p, body.len);
    }
    put(&m, "\x0a", 1), uleb(&m, s.len);
    size_t code_base = m.len;
    put(&m, s.p, s.len);
    for (uint32_t i = 0; i < nfuncs; i++) starts[i] = (uint32_t)(code_base + code_start_in_s[i]);
    free(s.p);
    free(body.p);
    return m;
}

static void test_large_module_compiles(void **state)
{
    (void)state;
    uint32_t starts[1000];
    buf m = big_module(1000, NULL, 0, starts); /* ~600 KB of code: the parallel path */
    assert_true(m.len > 400 * 1024);
    wa_module *mod = NULL;
    wa_error err;
    assert_int_equal(wa_module_load(m.p, m.len, &mod, &err), WA_OK);
    wa_store *s = wa_store_new(NULL);
    wa_instance *in;
    assert_int_equal(wa_instance_new(s, mod, NULL, NULL, &in, &err), WA_OK);
    wa_store_free(s);
    wa_module_unref(mod);
    free(m.p);
}

static void test_lowest_bad_function_reported(void **state)
{
    (void)state;
    static const uint32_t bad[] = {900, 613, 777};
    uint32_t starts[1000];
    buf m = big_module(1000, bad, 3, starts);
    for (int round = 0; round < 5; round++) {
        wa_module *mod = NULL;
        wa_error err;
        assert_int_equal(wa_module_load(m.p, m.len, &mod, &err), WA_EINVALID);
        assert_null(mod);
        assert_string_equal(err.msg, "type mismatch");
        /* inside function 613's body, not 777's or 900's */
        assert_true(err.offset > starts[613] && err.offset < starts[614]);
    }
    free(m.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_large_module_compiles),
        cmocka_unit_test(test_lowest_bad_function_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
