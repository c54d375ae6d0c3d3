/* test_leb.c — unit tests of src/wasm/leb.h: LEB128 readers (padding, overlong, too large, signed
 * edges) and the fixed-width readers. The cases mirror binary-leb128.wast's, one level down. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "leb.h"

#define READER(...)                                                                                \
    static const uint8_t bytes_[] = {__VA_ARGS__};                                                 \
    wa_reader r = {bytes_, bytes_, bytes_ + sizeof bytes_}

/* Reads an unsigned LEB of `bits` bits from the given bytes; checks status, value and that the
 * whole input was consumed on success. */
static void expect_uleb(const uint8_t *b, size_t n, unsigned bits, wa_rd_status st, uint64_t want)
{
    wa_reader r = {b, b, b + n};
    uint64_t v = 0xdeadbeef;
    assert_int_equal(wa_rd_uleb(&r, bits, &v), st);
    if (st == WA_RD_OK) {
        assert_int_equal(v, want);
        assert_int_equal(wa_rd_offset(&r), n);
    }
}

static void expect_sleb(const uint8_t *b, size_t n, unsigned bits, wa_rd_status st, int64_t want)
{
    wa_reader r = {b, b, b + n};
    int64_t v = 0x5eed;
    assert_int_equal(wa_rd_sleb(&r, bits, &v), st);
    if (st == WA_RD_OK) {
        assert_int_equal((uint64_t)v, (uint64_t)want);
        assert_int_equal(wa_rd_offset(&r), n);
    }
}

#define U(bits, st, want, ...)                                                                     \
    do {                                                                                           \
        static const uint8_t b_[] = {__VA_ARGS__};                                                 \
        expect_uleb(b_, sizeof b_, bits, st, want);                                                \
    } while (0)
#define S(bits, st, want, ...)                                                                     \
    do {                                                                                           \
        static const uint8_t b_[] = {__VA_ARGS__};                                                 \
        expect_sleb(b_, sizeof b_, bits, st, want);                                                \
    } while (0)

static void uleb32_plain(void **state)
{
    U(32, WA_RD_OK, 0, 0x00);
    U(32, WA_RD_OK, 127, 0x7f);
    U(32, WA_RD_OK, 128, 0x80, 0x01);
    U(32, WA_RD_OK, 624485, 0xe5, 0x8e, 0x26);
    U(32, WA_RD_OK, UINT32_MAX, 0xff, 0xff, 0xff, 0xff, 0x0f);
}

static void uleb32_padded(void **state)
{
    /* Any encoding up to ceil(32/7) = 5 bytes is legal, trailing zero groups included. */
    U(32, WA_RD_OK, 0, 0x80, 0x00);
    U(32, WA_RD_OK, 0, 0x80, 0x80, 0x80, 0x80, 0x00);
    U(32, WA_RD_OK, 5, 0x85, 0x80, 0x80, 0x80, 0x00);
    U(32, WA_RD_OK, 127, 0xff, 0x80, 0x80, 0x00);
}

static void uleb32_overlong_and_too_large(void **state)
{
    /* A sixth byte is never allowed, even a zero one: "integer representation too long". */
    U(32, WA_RD_TOOLONG, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00);
    U(32, WA_RD_TOOLONG, 0, 0xff, 0xff, 0xff, 0xff, 0x8f, 0x00);
    /* The fifth byte carries 4 value bits; any higher bit set is "integer too large", whether
     * or not its continuation bit is set too (the reference interpreter checks the value bits
     * first). */
    U(32, WA_RD_TOOLARGE, 0, 0xff, 0xff, 0xff, 0xff, 0x1f);
    U(32, WA_RD_TOOLARGE, 0, 0x80, 0x80, 0x80, 0x80, 0x10);
    U(32, WA_RD_TOOLARGE, 0, 0x80, 0x80, 0x80, 0x80, 0x70);
    U(32, WA_RD_TOOLARGE, 0, 0x80, 0x80, 0x80, 0x80, 0xf0, 0x00);
}

static void uleb_eof(void **state)
{
    U(32, WA_RD_EOF, 0, 0x80);
    U(32, WA_RD_EOF, 0, 0xff, 0xff, 0xff, 0xff);
    wa_reader r = {NULL, NULL, NULL};
    uint64_t v;
    assert_int_equal(wa_rd_uleb(&r, 32, &v), WA_RD_EOF);
}

static void uleb64(void **state)
{
    U(64, WA_RD_OK, UINT64_MAX, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
    U(64, WA_RD_OK, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00);
    U(64, WA_RD_OK, (uint64_t)1 << 63, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01);
    U(64, WA_RD_TOOLARGE, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02);
    U(64, WA_RD_TOOLONG, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00);
}

static void uleb_small_widths(void **state)
{
    /* 1-bit fields (flags such as a reserved byte) fit in one byte with 6 zero bits above. */
    U(1, WA_RD_OK, 1, 0x01);
    U(1, WA_RD_TOOLARGE, 0, 0x02);
    U(1, WA_RD_TOOLONG, 0, 0x80, 0x00);
    U(1, WA_RD_TOOLONG, 0, 0x81, 0x00);
    U(1, WA_RD_TOOLARGE, 0, 0x82, 0x00);
    U(7, WA_RD_OK, 0x7f, 0x7f);
    U(7, WA_RD_TOOLONG, 0, 0x80, 0x00);
}

static void sleb32(void **state)
{
    S(32, WA_RD_OK, 0, 0x00);
    S(32, WA_RD_OK, -1, 0x7f);
    S(32, WA_RD_OK, 63, 0x3f);
    S(32, WA_RD_OK, -64, 0x40);
    S(32, WA_RD_OK, 64, 0xc0, 0x00);
    S(32, WA_RD_OK, -65, 0xbf, 0x7f);
    S(32, WA_RD_OK, -128, 0x80, 0x7f);
    S(32, WA_RD_OK, INT32_MAX, 0xff, 0xff, 0xff, 0xff, 0x07);
    S(32, WA_RD_OK, INT32_MIN, 0x80, 0x80, 0x80, 0x80, 0x78);
}

static void sleb32_padded(void **state)
{
    S(32, WA_RD_OK, -1, 0xff, 0xff, 0xff, 0xff, 0x7f);
    S(32, WA_RD_OK, 0, 0x80, 0x80, 0x80, 0x80, 0x00);
    S(32, WA_RD_OK, -1, 0xff, 0x7f);
}

static void sleb32_overlong_and_too_large(void **state)
{
    S(32, WA_RD_TOOLONG, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00);
    S(32, WA_RD_TOOLONG, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f);
    /* Last byte: bits 3..6 must all equal the sign bit (bit 3). */
    S(32, WA_RD_TOOLARGE, 0, 0xff, 0xff, 0xff, 0xff, 0x0f);
    S(32, WA_RD_TOOLARGE, 0, 0x80, 0x80, 0x80, 0x80, 0x70);
    S(32, WA_RD_TOOLARGE, 0, 0x80, 0x80, 0x80, 0x80, 0x1f);
    S(32, WA_RD_EOF, 0, 0xff);
}

static void sleb64(void **state)
{
    S(64, WA_RD_OK, INT64_MIN, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f);
    S(64, WA_RD_OK, INT64_MAX, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00);
    S(64, WA_RD_OK, -1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f);
    S(64, WA_RD_TOOLARGE, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01);
    S(64, WA_RD_TOOLARGE, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7e);
    S(64, WA_RD_TOOLONG, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00);
    S(64, WA_RD_TOOLARGE, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x81, 0x00);
}

static void sleb33_blocktype(void **state)
{
    /* Block types are s33: a type index up to 2^32-1 stays positive. */
    S(33, WA_RD_OK, -64, 0x40);
    S(33, WA_RD_OK, UINT32_MAX, 0xff, 0xff, 0xff, 0xff, 0x0f);
    S(33, WA_RD_TOOLARGE, 0, 0xff, 0xff, 0xff, 0xff, 0x1f);
}

static void reader_advances(void **state)
{
    READER(0xe5, 0x8e, 0x26, 0x2a, 0x01, 0x02, 0x03, 0x04, 0xaa);
    uint32_t v32;
    uint8_t b;
    const uint8_t *span = NULL;
    assert_int_equal(wa_rd_u32(&r, &v32), WA_RD_OK);
    assert_int_equal(v32, 624485);
    assert_int_equal(wa_rd_offset(&r), 3);
    assert_int_equal(wa_rd_byte(&r, &b), WA_RD_OK);
    assert_int_equal(b, 0x2a);
    assert_int_equal(wa_rd_fixed32(&r, &v32), WA_RD_OK);
    assert_int_equal(v32, 0x04030201);
    assert_int_equal(wa_rd_bytes(&r, 2, &span), WA_RD_EOF);
    assert_int_equal(wa_rd_bytes(&r, 1, &span), WA_RD_OK);
    assert_int_equal(span[0], 0xaa);
    assert_int_equal(wa_rd_byte(&r, &b), WA_RD_EOF);
}

static void fixed64(void **state)
{
    READER(0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09);
    uint64_t v;
    assert_int_equal(wa_rd_fixed64(&r, &v), WA_RD_OK);
    assert_int_equal(v, 0x0807060504030201ull);
    assert_int_equal(wa_rd_fixed64(&r, &v), WA_RD_EOF);
    uint32_t v32;
    assert_int_equal(wa_rd_fixed32(&r, &v32), WA_RD_EOF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(uleb32_plain),
        cmocka_unit_test(uleb32_padded),
        cmocka_unit_test(uleb32_overlong_and_too_large),
        cmocka_unit_test(uleb_eof),
        cmocka_unit_test(uleb64),
        cmocka_unit_test(uleb_small_widths),
        cmocka_unit_test(sleb32),
        cmocka_unit_test(sleb32_padded),
        cmocka_unit_test(sleb32_overlong_and_too_large),
        cmocka_unit_test(sleb64),
        cmocka_unit_test(sleb33_blocktype),
        cmocka_unit_test(reader_advances),
        cmocka_unit_test(fixed64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
