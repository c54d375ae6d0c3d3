/* test_codec.c — src/cap/codec: Go's base64 (error offsets, CR/LF, padding, partial output), Go's
 * JSON string escaping and float64 formatting, the strict protobuf walker's accept/reject
 * decisions of TARMAC.md §4.0 (they choose the JSON or protobuf path), the protobuf writer's bytes
 * (§4.1 examples) and the JSON request reader's Go rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "cap/codec/codec.h"

#define B(s) ((ap_bytes){(const uint8_t *)(s), sizeof(s) - 1})

static void b64_round_trip(void **state)
{
    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        ap_buf b = {0}, d = {0};
        ap_errbuf e;
        assert_true(ap_b64_encode(&b, in[i], strlen(in[i])));
        assert_int_equal(b.len, strlen(out[i]));
        assert_memory_equal(b.data, out[i], b.len);
        assert_true(ap_b64_decode(&d, b.data, b.len, &e));
        assert_int_equal(d.len, strlen(in[i]));
        if (d.len)
            assert_memory_equal(d.data, in[i], d.len);
        ap_buf_free(&b);
        ap_buf_free(&d);
    }
}

static void b64_decode_case(const char *in, bool ok, const char *want, const char *err)
{
    ap_buf d = {0};
    ap_errbuf e = {{0}};
    bool got = ap_b64_decode(&d, in, strlen(in), &e);
    assert_int_equal(got, ok);
    if (want) {
        assert_int_equal(d.len, strlen(want));
        if (d.len)
            assert_memory_equal(d.data, want, d.len);
    }
    if (err)
        assert_string_equal(e.msg, err);
    ap_buf_free(&d);
}

static void b64_go_rules(void **state)
{
    b64_decode_case("Zm9v\r\nYmFy", true, "foobar", NULL);         /* CR/LF skipped */
    b64_decode_case("Zm9vYg=\n=", true, "foob", NULL);             /* even between pads */
    b64_decode_case("Zg", false, "", "illegal base64 data at input byte 0"); /* padding needed */
    b64_decode_case("Zm9vZ", false, "foo", "illegal base64 data at input byte 4");
    b64_decode_case("Zm9v!", false, "foo", "illegal base64 data at input byte 4");
    b64_decode_case("=", false, "", "illegal base64 data at input byte 0");
    b64_decode_case("Zg=", false, "", "illegal base64 data at input byte 3");
    b64_decode_case("Zg=x", false, "", "illegal base64 data at input byte 2");
    b64_decode_case("Zg==Zg==", false, "f", "illegal base64 data at input byte 4");
    b64_decode_case("Zh==", true, "f", NULL); /* non-zero trailing bits pass (not Strict) */
    b64_decode_case("aGVsbG8=", true, "hello", NULL);
}

static void json_str(const char *in, size_t n, const char *want)
{
    ap_buf b = {0};
    assert_true(ap_json_put_str(&b, in, n));
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    ap_buf_free(&b);
}

static void json_escaping(void **state)
{
    json_str("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
    json_str("\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\"");
    json_str("\x01\x1f", 2, "\"\\u0001\\u001f\"");
    json_str("<a>&", 4, "\"\\u003ca\\u003e\\u0026\"");
    json_str("\xe2\x80\xa8\xe2\x80\xa9", 6, "\"\\u2028\\u2029\"");
    json_str("\xff", 1, "\"\\ufffd\"");
    json_str("a\xc3(", 3, "\"a\\ufffd(\"");           /* invalid sequence: one byte */
    json_str("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
    json_str("\xc0\xaf", 2, "\"\\ufffd\\ufffd\"");      /* overlong */
    json_str("h\xc3\xa9 \xf0\x9f\x98\x80", 8, "\"h\xc3\xa9 \xf0\x9f\x98\x80\"");
    json_str("\x7f", 1, "\"\x7f\"");
    json_str("a\0b", 3, "\"a\\u0000b\"");
}

static void json_float(double f, const char *want)
{
    ap_buf b = {0};
    bool unsupported;
    assert_true(ap_json_put_float(&b, f, &unsupported));
    assert_string_equal((char *)b.data, want);
    ap_buf_free(&b);
}

static void json_floats(void **state)
{
    json_float(1.5, "1.5");
    json_float(100, "100");
    json_float(0.1, "0.1");
    json_float(-2.25, "-2.25");
    json_float(1e20, "100000000000000000000");
    json_float(1e21, "1e+21");
    json_float(1.5e-7, "1.5e-7");
    json_float(0.000001, "0.000001");
    json_float(123456789.125, "123456789.125");
    json_float(3.141592653589793, "3.141592653589793");
    json_float(0, "0");
    ap_buf b = {0};
    bool unsupported;
    assert_false(ap_json_put_float(&b, NAN, &unsupported));
    assert_true(unsupported);
    assert_false(ap_json_put_float(&b, INFINITY, &unsupported));
    assert_true(unsupported);
    ap_buf_free(&b);
}

/* KVStoreSet's schema: 1 key (LEN), 2 data (LEN). */
static const signed char set_wt[] = {-1, AP_PB_LEN, AP_PB_LEN};
static const ap_pb_schema set_schema = {set_wt, 3};
static int nfields;
static bool count(void *ctx, int field, uint64_t v, ap_bytes b)
{
    nfields++;
    return true;
}

static bool walks(ap_bytes msg)
{
    ap_errbuf e;
    nfields = 0;
    return ap_pb_walk(msg, &set_schema, count, NULL, &e);
}

static void pb_classification(void **state)
{
    /* §4.0: an empty payload decodes (protobuf path) */
    assert_true(walks((ap_bytes){0}));
    /* typical JSON: '{' is field 15, wire type 3, and fails in skip */
    assert_false(walks(B("{\"key\":\"a\"}")));
    assert_false(walks(B("{}")));
    assert_false(walks(B("[]")));
    assert_false(walks(B("null")));
    /* valid messages */
    assert_true(walks(B("\x0a\x01k\x12\x01v")));
    assert_int_equal(nfields, 2);
    assert_true(walks(B("\x0a\x00"))); /* empty key */
    /* truncated varint tag, value, length */
    assert_false(walks(B("\x80")));
    assert_false(walks(B("\x0a")));
    assert_false(walks(B("\x0a\x80")));
    /* over-long varint: 11 bytes */
    assert_false(walks(B("\x0a\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01")));
    /* length past the end; huge length */
    assert_false(walks(B("\x0a\x05" "ab")));
    assert_false(walks(B("\x0a\xff\xff\xff\xff\xff\xff\xff\xff\x7f" "a")));
    /* wire type 4 at the top; field number 0 */
    assert_false(walks(B("\x0c")));
    assert_false(walks(B("\x02\x00")));
    /* known field with the wrong wire type */
    assert_false(walks(B("\x08\x01")));
    /* unknown fields are skipped: varint, fixed64, fixed32, bytes, a group */
    assert_true(walks(B("\x18\x05")));
    assert_true(walks(B("\x19" "12345678")));
    assert_true(walks(B("\x1d" "1234")));
    assert_true(walks(B("\x1a\x02zz")));
    assert_true(walks(B("\x1b\x08\x01\x1c"))); /* group 3 { field 1 = 1 } */
    assert_int_equal(nfields, 0);
    /* ...but not a broken one: fixed64 short, unclosed group, wire types 6 and 7 */
    assert_false(walks(B("\x19" "1234")));
    assert_false(walks(B("\x1b\x08\x01")));
    assert_false(walks(B("\x1e\x00")));
    assert_false(walks(B("\x1f\x00")));
    /* field number above int32 wraps negative → error */
    assert_false(walks(B("\xf8\xff\xff\xff\xff\x01\x00")));
    /* KVStoreKeys{return_proto:true} bytes walk (its content is never parsed) */
    static const signed char keys_wt[] = {-1, AP_PB_VARINT};
    ap_pb_schema ks = {keys_wt, 2};
    ap_errbuf e;
    assert_true(ap_pb_walk(B("\x08\x01"), &ks, count, NULL, &e));
}

static void pb_writer(void **state)
{
    ap_buf b = {0};
    assert_true(ap_pb_put_status(&b, 1, 200, "OK"));
    assert_int_equal(b.len, 9);
    assert_memory_equal(b.data, "\x0a\x07\x08\xc8\x01\x12\x02OK", 9);
    ap_buf_reset(&b);
    assert_true(ap_pb_put_varint(&b, 1, 404));
    assert_memory_equal(b.data, "\x08\x94\x03", 3);
    ap_buf_reset(&b);
    assert_true(ap_pb_put_double(&b, 2, 1.0));
    assert_memory_equal(b.data, "\x11\x00\x00\x00\x00\x00\x00\xf0\x3f", 9);
    ap_buf_free(&b);
}

static void json_reader(void **state)
{
    json_t *root;
    ap_errbuf e;
    ap_bytes s;
    bool flag;
    double d;
    assert_true(ap_jin_parse(B("{\"KEY\":\"a\",\"key\":\"b\",\"other\":1}"), &root, &e));
    assert_true(ap_jin_str(root, "key", &s, &e));
    assert_int_equal(s.len, 1);
    assert_memory_equal(s.ptr, "b", 1); /* last match wins, case-insensitively */
    assert_false(ap_jin_str(root, "other", &s, &e));
    assert_true(ap_jin_str(root, "missing", &s, &e));
    assert_int_equal(s.len, 0);
    json_decref(root);
    assert_true(ap_jin_parse(B(" null "), &root, &e));
    assert_null(root);
    assert_true(ap_jin_str(root, "key", &s, &e));
    assert_false(ap_jin_parse(B("{} x"), &root, &e));
    assert_false(ap_jin_parse(B("[1]"), &root, &e));
    assert_false(ap_jin_parse(B("\"s\""), &root, &e));
    assert_false(ap_jin_parse(B("{\"key\":"), &root, &e));
    assert_true(ap_jin_parse(B("{\"b\":true,\"n\":2.5,\"z\":null}"), &root, &e));
    assert_true(ap_jin_bool(root, "b", &flag, &e));
    assert_true(flag);
    assert_false(ap_jin_bool(root, "n", &flag, &e));
    assert_true(ap_jin_number(root, "n", &d, &e));
    assert_true(d == 2.5);
    assert_true(ap_jin_str(root, "z", &s, &e)); /* null → zero value */
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(b64_round_trip),    cmocka_unit_test(b64_go_rules),
        cmocka_unit_test(json_escaping),     cmocka_unit_test(json_floats),
        cmocka_unit_test(pb_classification), cmocka_unit_test(pb_writer),
        cmocka_unit_test(json_reader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
