/* test_data_mentions.c — unit tests of ap_pool_data_mentions (src/pool/fn.c), which tells the
 * HTTP layer whether a guest may use the `request` host-call namespace and so gets the bodies
 * of every method (issue 9): only data sections count, in UTF-8 or UTF-16LE, and not right
 * after a '_' — the `__guest_request` import every waPC guest has, and function names in the
 * name section, do not. Modules are assembled here byte by byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pool/pool.h"

typedef struct {
    uint8_t b[1024];
    size_t n;
} mod;

static void put(mod *m, const void *p, size_t n)
{
    assert_true(m->n + n <= sizeof m->b);
    memcpy(m->b + m->n, p, n);
    m->n += n;
}

static void byte(mod *m, uint8_t v) { put(m, &v, 1); }

static void leb(mod *m, uint32_t v)
{
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        byte(m, (uint8_t)(b | (v ? 0x80 : 0)));
    } while (v);
}

static void section(mod *m, uint8_t id, const void *content, size_t n)
{
    byte(m, id);
    leb(m, (uint32_t)n);
    put(m, content, n);
}

/* magic, version, a type (i32 i32) -> () and the import "wapc" "__guest_request" */
static void guest_start(mod *m)
{
    static const uint8_t header[8] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    static const uint8_t types[] = {1, 0x60, 2, 0x7f, 0x7f, 0};
    static const uint8_t imports[] = {1, 4, 'w', 'a', 'p', 'c', 15, '_', '_', 'g', 'u', 'e',
                                      's', 't', '_', 'r', 'e', 'q', 'u', 'e', 's', 't', 0, 0};
    m->n = 0;
    put(m, header, sizeof header);
    section(m, 1, types, sizeof types);
    section(m, 2, imports, sizeof imports);
}

/* a data section of one segment holding bytes[0, n): active at 0 (flags 0) or passive (1) */
static void data(mod *m, const void *bytes, size_t n, bool passive)
{
    mod c = {.n = 0};
    byte(&c, 1);
    if (passive) {
        byte(&c, 1);
    } else {
        static const uint8_t at0[] = {0, 0x41, 0, 0x0b}; /* flags 0, i32.const 0, end */
        put(&c, at0, sizeof at0);
    }
    leb(&c, (uint32_t)n);
    put(&c, bytes, n);
    section(m, 11, c.b, c.n);
}

static bool data_with(const void *bytes, size_t n)
{
    mod m;
    guest_start(&m);
    data(&m, bytes, n, false);
    return ap_pool_data_mentions(m.b, m.n, "request");
}

/* A guest that never uses request:* still imports __guest_request: that does not count. */
static void import_alone(void **state)
{
    mod m;
    guest_start(&m);
    assert_false(ap_pool_data_mentions(m.b, m.n, "request"));
    static const char text[] = "\0hello\0tarmac\0kvstore\0get";
    data(&m, text, sizeof text, false);
    assert_false(ap_pool_data_mentions(m.b, m.n, "request"));
}

/* The C SDK's namespace literal (NUL-terminated), a packed string pool (Rust, TinyGo: no
 * separators), and a passive segment. */
static void namespace_in_data(void **state)
{
    static const char c_sdk[] = "short and stout\0request\0rest";
    assert_true(data_with(c_sdk, sizeof c_sdk));
    static const char packed[] = "tarmacrequestmethod";
    assert_true(data_with(packed, sizeof packed - 1));
    static const char at_start[] = "request";
    assert_true(data_with(at_start, sizeof at_start - 1));
    mod m;
    guest_start(&m);
    data(&m, c_sdk, sizeof c_sdk, true);
    assert_true(ap_pool_data_mentions(m.b, m.n, "request"));
}

/* Right after '_' it is part of an identifier: `__guest_request`, `key_request`. */
static void after_underscore(void **state)
{
    static const char import_name[] = "\0__guest_request\0";
    assert_false(data_with(import_name, sizeof import_name));
    static const char fn_name[] = "key_request";
    assert_false(data_with(fn_name, sizeof fn_name - 1));
    static const char both[] = "key_request\0request"; /* the second one counts */
    assert_true(data_with(both, sizeof both - 1));
    static const char truncated[] = "reques";
    assert_false(data_with(truncated, sizeof truncated - 1));
}

/* AssemblyScript keeps static strings in UTF-16LE. */
static void utf16(void **state)
{
    static const uint8_t as[] = {'r', 0, 'e', 0, 'q', 0, 'u', 0, 'e', 0, 's', 0, 't', 0};
    assert_true(data_with(as, sizeof as));
    static const uint8_t under[] = {'_', 0, 'r', 0, 'e', 0, 'q', 0, 'u', 0, 'e', 0, 's', 0, 't', 0};
    assert_false(data_with(under, sizeof under));
    static const uint8_t wide[] = {'r', 1, 'e', 0, 'q', 0, 'u', 0, 'e', 0, 's', 0, 't', 0};
    assert_false(data_with(wide, sizeof wide));
}

/* Only the data section is searched: a name section (function names such as request_op) and
 * other custom sections do not count, and a section whose size needs two LEB128 bytes is
 * stepped over correctly. */
static void other_sections(void **state)
{
    mod m;
    guest_start(&m);
    uint8_t custom[300];
    memset(custom, 'x', sizeof custom);
    custom[0] = 4;
    memcpy(custom + 1, "name", 4);
    memcpy(custom + 100, "\nrequest_op", 11);
    memcpy(custom + 200, " request ", 9);
    section(&m, 0, custom, sizeof custom);
    assert_false(ap_pool_data_mentions(m.b, m.n, "request"));
    static const char text[] = "\0request\0";
    data(&m, text, sizeof text, false);
    assert_true(ap_pool_data_mentions(m.b, m.n, "request"));
    assert_true(ap_pool_data_mentions(m.b, m.n, "req")); /* any word */
    assert_false(ap_pool_data_mentions(m.b, m.n, "response"));
    assert_false(ap_pool_data_mentions(m.b, m.n, ""));
}

/* Not a module, or cut short: false, and nothing read past the end (ASan build). */
static void malformed(void **state)
{
    mod m;
    guest_start(&m);
    static const char text[] = "\0request\0";
    data(&m, text, sizeof text, false);
    assert_true(ap_pool_data_mentions(m.b, m.n, "request"));
    for (size_t n = 0; n < m.n; n++)
        assert_false(ap_pool_data_mentions(m.b, n, "request")); /* every truncation */
    assert_false(ap_pool_data_mentions(NULL, 0, "request"));
    m.b[4] = 2; /* another version */
    assert_false(ap_pool_data_mentions(m.b, m.n, "request"));
    m.b[4] = 1;
    m.b[0] = 'x'; /* not the magic */
    assert_false(ap_pool_data_mentions(m.b, m.n, "request"));
    /* a section size LEB128 that never ends */
    static const uint8_t endless[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 11, 0x80, 0x80, 0x80,
                                      0x80, 0x80, 0x80, 'r', 'e', 'q', 'u', 'e', 's', 't'};
    assert_false(ap_pool_data_mentions(endless, sizeof endless, "request"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(import_alone),     cmocka_unit_test(namespace_in_data),
        cmocka_unit_test(after_underscore), cmocka_unit_test(utf16),
        cmocka_unit_test(other_sections),   cmocka_unit_test(malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
