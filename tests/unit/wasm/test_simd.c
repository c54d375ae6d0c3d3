/* test_simd.c — unit tests of the SIMD (0xFD) instructions beyond the spec suite: malformed vs
 * invalid classification of bodies holding SIMD code (scan.c), lane-index validation
 * (compile_simd.inc), and a v128 call through the public API (interp_simd.inc: shuffle, const,
 * add). The lane arithmetic itself is covered by the spec's simd_*.wast scripts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "module.h"

#include <string.h>

#define HDR 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00
/* one type () -> (), two functions of it */
#define TWO_FUNCS 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x03, 0x02, 0x00, 0x00

static wa_status load(const uint8_t *b, size_t n, wa_error *e)
{
    wa_module *m = NULL;
    wa_status st = wa_module_load(b, n, &m, e);
    wa_module_unref(m);
    return st;
}

/* Body 0 is invalid (i8x16.add on an empty stack), body 1 malformed (sub-opcode 0x9a does not
 * exist): the module is malformed, so scan.c must decode the SIMD code of body 0 to reach
 * body 1. */
static void malformed_after_invalid_simd(void **state)
{
    static const uint8_t b[] = {HDR, TWO_FUNCS, 0x0a, 0x0c, 0x02,
                                0x04, 0x00, 0xfd, 0x6e, 0x0b,         /* i8x16.add */
                                0x05, 0x00, 0xfd, 0x9a, 0x01, 0x0b};  /* 0xfd 0x9a */
    wa_error e = {0};
    assert_int_equal(load(b, sizeof b, &e), WA_EMALFORMED);
    assert_string_equal(e.msg, "illegal opcode");
}

/* Body 0 invalid, body 1 valid SIMD with every immediate shape (memarg, lane, 16 bytes): the
 * scan must step over them all and leave the module invalid. */
static void invalid_with_valid_simd_after(void **state)
{
    static const uint8_t b[] = {
        HDR, TWO_FUNCS,
        0x05, 0x03, 0x01, 0x00, 0x01, /* memory 0, min 1 */
        0x0a, 0x37, 0x02,
        0x04, 0x00, 0xfd, 0x6e, 0x0b,
        0x30, 0x00,
        0x41, 0x00, 0xfd, 0x00, 0x04, 0x00,                               /* v128.load */
        0xfd, 0x0c, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, /* v128.const */
        0xfd, 0x0d, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 31, /* i8x16.shuffle */
        0xfd, 0x15, 0x0f,                                                 /* extract_lane_s 15 */
        0x1a, 0x0b};
    wa_error e = {0};
    assert_int_equal(load(b, sizeof b, &e), WA_EINVALID);
    assert_string_equal(e.msg, "type mismatch");
}

static void lane_index_checked(void **state)
{
    /* one function: v128.const 0; i8x16.extract_lane_u LANE; drop */
    uint8_t b[] = {HDR, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
                   0x0a, 0x1a, 0x01, 0x18, 0x00,
                   0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                   0xfd, 0x16, 15, 0x1a, 0x0b};
    wa_error e = {0};
    assert_int_equal(load(b, sizeof b, &e), WA_OK);
    b[sizeof b - 3] = 16;
    assert_int_equal(load(b, sizeof b, &e), WA_EINVALID);
    assert_string_equal(e.msg, "invalid lane index");
    /* the 16 bytes of v128.const cut short by the end of the body */
    static const uint8_t cut[] = {HDR, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
                                  0x0a, 0x0a, 0x01, 0x08, 0x00, 0xfd, 0x0c, 0, 0, 0, 0, 0x0b};
    assert_int_equal(load(cut, sizeof cut, &e), WA_EMALFORMED);
    assert_string_equal(e.msg, "unexpected end of section or function");
}

/* (v128, v128) -> v128: i8x16.shuffle 31 0 1 ... 13 16, then i32x4.add of 1 in every lane. */
static void shuffle_and_add_through_the_api(void **state)
{
    static const uint8_t b[] = {
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x07, 0x01, 0x60, 0x02, 0x7b, 0x7b,
        0x01, 0x7b, 0x03, 0x02, 0x01, 0x00, 0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, 0x0a, 0x2f,
        0x01, 0x2d, 0x00, 0x20, 0x00, 0x20, 0x01, 0xfd, 0x0d, 0x1f, 0x00, 0x01, 0x02, 0x03, 0x04,
        0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x10, 0xfd, 0x0c, 0x01, 0x00, 0x00,
        0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0xfd, 0xae,
        0x01, 0x0b};
    wa_module *m = NULL;
    wa_error e = {0};
    assert_int_equal(wa_module_load(b, sizeof b, &m, &e), WA_OK);
    wa_store *s = wa_store_new(NULL);
    assert_non_null(s);
    wa_instance *in = NULL;
    assert_int_equal(wa_instance_new(s, m, NULL, NULL, &in, &e), WA_OK);
    wa_func *f = wa_instance_func(in, "f");
    assert_non_null(f);
    wa_value args[2] = {{.type = WA_V128}, {.type = WA_V128}}, res = {0};
    for (int i = 0; i < 16; i++) {
        args[0].of.v128[i] = (uint8_t)i;         /* a: 0..15 */
        args[1].of.v128[i] = (uint8_t)(0xf0 + i); /* b: 0xf0..0xff */
    }
    assert_int_equal(wa_call(f, args, 2, &res, &e), WA_OK);
    assert_int_equal(res.type, WA_V128);
    /* bytes: ff 00 01 .. 0d f0, then +1 on each little-endian 32-bit lane's low byte */
    uint8_t want[16] = {0xff, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 0xf0};
    for (int l = 0; l < 4; l++) {
        uint32_t v;
        memcpy(&v, want + 4 * l, 4);
        v += 1;
        memcpy(want + 4 * l, &v, 4);
    }
    assert_memory_equal(res.of.v128, want, 16);
    wa_store_free(s);
    wa_module_unref(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(malformed_after_invalid_simd),
        cmocka_unit_test(invalid_with_valid_simd_after),
        cmocka_unit_test(lane_index_checked),
        cmocka_unit_test(shuffle_and_add_through_the_api),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
