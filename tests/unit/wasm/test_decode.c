/* test_decode.c — unit tests of src/wasm/decode.c, validate.c and module.c: hand-built binaries
 * through wa_module_load, checking what lands in the module and, for bad input, the status, the
 * spec's wording and the offset. Every function body here is valid, so the tests hold whatever
 * compile.c checks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "module.h"

#define HDR 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00

static wa_module *load_ok(const uint8_t *b, size_t n)
{
    wa_module *m = NULL;
    wa_error e = {0};
    wa_status st = wa_module_load(b, n, &m, &e);
    if (st != WA_OK) print_error("load failed: %s at %u\n", e.msg, e.offset);
    assert_int_equal(st, WA_OK);
    assert_non_null(m);
    return m;
}

#define LOAD_OK(arr) load_ok(arr, sizeof arr)

/* Loads bytes that must fail with `st`, the message starting with `msg`, at `offset` (or any
 * offset when it is UINT32_MAX - 1). */
static void load_fail(const uint8_t *b, size_t n, wa_status st, const char *msg, uint32_t offset)
{
    wa_module *m = (wa_module *)0x1;
    wa_error e = {0};
    wa_status got = wa_module_load(b, n, &m, &e);
    if (got != st || strncmp(e.msg, msg, strlen(msg)) != 0)
        print_error("got status %d \"%s\" at %u, want %d \"%s\"\n", got, e.msg, e.offset, st, msg);
    assert_int_equal(got, st);
    assert_int_equal(e.status, st);
    assert_true(strncmp(e.msg, msg, strlen(msg)) == 0);
    if (offset != UINT32_MAX - 1) assert_int_equal(e.offset, offset);
    assert_ptr_equal(m, (wa_module *)0x1); /* untouched on failure */
}

#define ANY_OFFSET (UINT32_MAX - 1)
#define MALFORMED(arr, msg, off) load_fail(arr, sizeof arr, WA_EMALFORMED, msg, off)
#define INVALID(arr, msg) load_fail(arr, sizeof arr, WA_EINVALID, msg, ANY_OFFSET)
#define INVALID_AT(arr, msg, off) load_fail(arr, sizeof arr, WA_EINVALID, msg, off)

/* ---- Valid modules ---- */

static void minimal_module(void **state)
{
    static const uint8_t b[] = {HDR};
    wa_module *m = LOAD_OK(b);
    assert_int_equal(m->ntypes, 0);
    assert_int_equal(m->nfuncs, 0);
    assert_int_equal(m->start, -1);
    assert_false(m->has_datacount);
    assert_null(m->func_names);
    assert_int_equal(wa_module_import_count(m), 0);
    assert_int_equal(wa_module_export_count(m), 0);
    wa_module_unref(m);
}

/* One module with every section kind. */
static const uint8_t every_section[] = {
    HDR,
    /* type: 0 = (i32 i32) -> i32, 1 = () -> () */
    0x01, 0x0a, 0x02, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x00, 0x00,
    /* import: m.f func type 1, m.t table funcref 1, m.mem memory 1..2, m.g global i32 */
    0x02, 0x20, 0x04,
    0x01, 'm', 0x01, 'f', 0x00, 0x01,
    0x01, 'm', 0x01, 't', 0x01, 0x70, 0x00, 0x01,
    0x01, 'm', 0x03, 'm', 'e', 'm', 0x02, 0x01, 0x01, 0x02,
    0x01, 'm', 0x01, 'g', 0x03, 0x7f, 0x00,
    /* function: types 0, 1 (function indices 1, 2) */
    0x03, 0x03, 0x02, 0x00, 0x01,
    /* table: externref 0..5 */
    0x04, 0x05, 0x01, 0x6f, 0x01, 0x00, 0x05,
    /* global: (mut i64) = -2; i32 = global.get 0 */
    0x06, 0x0b, 0x02, 0x7e, 0x01, 0x42, 0x7e, 0x0b, 0x7f, 0x00, 0x23, 0x00, 0x0b,
    /* export: "add" func 1, "g" global 2 */
    0x07, 0x0b, 0x02, 0x03, 'a', 'd', 'd', 0x00, 0x01, 0x01, 'g', 0x03, 0x02,
    /* start: func 2 */
    0x08, 0x01, 0x02,
    /* element: active, table 0, offset i32.const 0, funcs [2] */
    0x09, 0x07, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x01, 0x02,
    /* datacount: 1 */
    0x0c, 0x01, 0x01,
    /* code: local.get 0, local.get 1, i32.add; three i32 locals, nothing */
    0x0a, 0x0e, 0x02, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b, 0x04, 0x01, 0x03, 0x7f,
    0x0b,
    /* data: passive "hi" */
    0x0b, 0x05, 0x01, 0x01, 0x02, 'h', 'i',
    /* custom "name": function 1 is "add" */
    0x00, 0x0d, 0x04, 'n', 'a', 'm', 'e', 0x01, 0x06, 0x01, 0x01, 0x03, 'a', 'd', 'd',
};

static void every_section_kind(void **state)
{
    wa_module *m = LOAD_OK(every_section);

    assert_int_equal(m->ntypes, 2);
    assert_int_equal(m->types[0]->nparams, 2);
    assert_int_equal(m->types[0]->nresults, 1);
    assert_int_equal(wa_sig_results(m->types[0])[0], WA_I32);
    assert_int_equal(m->types[1]->nparams + m->types[1]->nresults, 0);

    assert_int_equal(wa_module_import_count(m), 4);
    const char *mod, *name;
    wa_extern_kind kind;
    wa_module_import_info(m, 2, &mod, &name, &kind);
    assert_string_equal(mod, "m");
    assert_string_equal(name, "mem");
    assert_int_equal(kind, WA_EXTERN_MEMORY);
    wa_functype ft;
    assert_true(wa_module_import_functype(m, 0, &ft));
    assert_int_equal(ft.nparams, 0);
    assert_int_equal(ft.nresults, 0);
    assert_false(wa_module_import_functype(m, 1, &ft));

    assert_int_equal(m->nfuncs, 3);
    assert_int_equal(m->nfunc_imports, 1);
    assert_int_equal(m->func_type[0], 1);
    assert_int_equal(m->func_type[1], 0);
    assert_int_equal(m->func_type[2], 1);
    const wa_funcdef *f0 = &m->funcs[0], *f1 = &m->funcs[1];
    assert_int_equal(f0->body_len, 7);
    assert_int_equal(m->bytes[f0->body_off], 0x00);
    assert_int_equal(m->bytes[f0->body_off + 5], 0x6a);
    assert_int_equal(f1->body_len, 4);
    assert_int_equal(m->bytes[f1->body_off + 1], 0x03);

    assert_int_equal(m->ntables, 2);
    assert_int_equal(m->ntable_imports, 1);
    assert_int_equal(m->tables[0].elemtype, WA_FUNCREF);
    assert_int_equal(m->tables[1].elemtype, WA_EXTERNREF);
    assert_true(m->tables[1].lim.has_max);
    assert_int_equal(m->tables[1].lim.max, 5);

    assert_int_equal(m->nmems, 1);
    assert_int_equal(m->mems[0].min, 1);
    assert_int_equal(m->mems[0].max, 2);

    assert_int_equal(m->nglobals, 3);
    assert_int_equal(m->globals[1].type, WA_I64);
    assert_int_equal(m->globals[1].mut, 1);
    assert_int_equal(m->global_init[0].op, WA_CEXPR_CONST);
    assert_int_equal(m->global_init[0].v[0], (uint64_t)-2);
    assert_int_equal(m->global_init[1].op, WA_CEXPR_GLOBAL_GET);
    assert_int_equal(m->global_init[1].idx, 0);
    assert_int_equal(m->global_init[1].type, WA_I32);

    assert_int_equal(wa_module_export_count(m), 2);
    wa_module_export_info(m, 0, &name, &kind);
    assert_string_equal(name, "add");
    assert_int_equal(kind, WA_EXTERN_FUNC);
    assert_int_equal(m->exports[0].name_len, 3);
    assert_int_equal(m->exports[1].idx, 2);

    assert_int_equal(m->start, 2);

    assert_int_equal(m->nelems, 1);
    assert_int_equal(m->elems[0].mode, WA_SEG_ACTIVE);
    assert_int_equal(m->elems[0].count, 1);
    assert_int_equal(m->elems[0].items[0].op, WA_CEXPR_REF_FUNC);
    assert_int_equal(m->elems[0].items[0].idx, 2);

    assert_true(m->has_datacount);
    assert_int_equal(m->datacount, 1);
    assert_int_equal(m->ndatas, 1);
    assert_int_equal(m->datas[0].mode, WA_SEG_PASSIVE);
    assert_int_equal(m->datas[0].len, 2);
    assert_memory_equal(m->bytes + m->datas[0].data_off, "hi", 2);

    assert_int_equal(m->ncustoms, 1);
    assert_string_equal(m->customs[0].name, "name");
    assert_non_null(m->func_names);
    assert_null(m->func_names[0]);
    assert_string_equal(m->func_names[1], "add");

    /* C.refs: exported function 1 and element item 2, not the import */
    assert_false(wa_module_func_declared(m, 0));
    assert_true(wa_module_func_declared(m, 1));
    assert_true(wa_module_func_declared(m, 2));
    wa_module_unref(m);
}

static void interned_types(void **state)
{
    /* the same type twice, and in a second module: one pointer */
    static const uint8_t b[] = {HDR, 0x01, 0x09, 0x02, 0x60, 0x01, 0x7e, 0x00, 0x60, 0x01, 0x7e, 0x00};
    wa_module *m1 = LOAD_OK(b), *m2 = LOAD_OK(b);
    assert_ptr_equal(m1->types[0], m1->types[1]);
    assert_ptr_equal(m1->types[0], m2->types[0]);
    assert_int_equal(wa_sig_valtypes(m1->types[0])[0], WA_I64);
    wa_module_unref(m1);
    wa_module_unref(m2);
}

static void refcount(void **state)
{
    static const uint8_t b[] = {HDR};
    wa_module *m = LOAD_OK(b);
    assert_ptr_equal(wa_module_ref(m), m);
    wa_module_unref(m);
    assert_int_equal(atomic_load(&m->refs), 1);
    wa_module_unref(m);
    wa_module_unref(NULL);
}

static void element_encodings(void **state)
{
    static const uint8_t b[] = {
        HDR,
        0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
        0x03, 0x02, 0x01, 0x00,
        0x04, 0x04, 0x01, 0x70, 0x00, 0x01,
        0x09, 0x38, 0x08,
        0x00, 0x41, 0x00, 0x0b, 0x01, 0x00,                   /* 0: active, func indices */
        0x01, 0x00, 0x01, 0x00,                               /* 1: passive, elemkind */
        0x02, 0x00, 0x41, 0x00, 0x0b, 0x00, 0x01, 0x00,       /* 2: active, table index */
        0x03, 0x00, 0x01, 0x00,                               /* 3: declarative */
        0x04, 0x41, 0x00, 0x0b, 0x01, 0xd2, 0x00, 0x0b,       /* 4: active, expressions */
        0x05, 0x70, 0x02, 0xd2, 0x00, 0x0b, 0xd0, 0x70, 0x0b, /* 5: passive, reftype */
        0x06, 0x00, 0x41, 0x00, 0x0b, 0x70, 0x01, 0xd2, 0x00, 0x0b, /* 6: active, both */
        0x07, 0x70, 0x01, 0xd0, 0x70, 0x0b,                   /* 7: declarative, exprs */
        0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b,
    };
    wa_module *m = LOAD_OK(b);
    static const uint8_t modes[8] = {WA_SEG_ACTIVE,  WA_SEG_PASSIVE, WA_SEG_ACTIVE,
                                     WA_SEG_DECLARATIVE, WA_SEG_ACTIVE, WA_SEG_PASSIVE,
                                     WA_SEG_ACTIVE, WA_SEG_DECLARATIVE};
    assert_int_equal(m->nelems, 8);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(m->elems[i].mode, modes[i]);
        assert_int_equal(m->elems[i].elemtype, WA_FUNCREF);
        assert_int_equal(m->elems[i].table, 0);
        assert_int_equal(m->elems[i].items[0].type, WA_FUNCREF);
    }
    assert_int_equal(m->elems[2].offset.op, WA_CEXPR_CONST);
    assert_int_equal(m->elems[5].count, 2);
    assert_int_equal(m->elems[5].items[0].op, WA_CEXPR_REF_FUNC);
    assert_int_equal(m->elems[5].items[1].op, WA_CEXPR_REF_NULL);
    assert_int_equal(m->elems[7].items[0].op, WA_CEXPR_REF_NULL);
    assert_true(wa_module_func_declared(m, 0));
    wa_module_unref(m);
}

static void data_encodings(void **state)
{
    static const uint8_t b[] = {
        HDR,
        0x05, 0x03, 0x01, 0x00, 0x01,
        0x0c, 0x01, 0x03,
        0x0b, 0x11, 0x03,
        0x00, 0x41, 0x05, 0x0b, 0x02, 'a', 'b', /* active, memory 0 */
        0x01, 0x01, 'c',                        /* passive */
        0x02, 0x00, 0x41, 0x07, 0x0b, 0x00,     /* active, explicit memory, empty */
    };
    wa_module *m = LOAD_OK(b);
    assert_int_equal(m->ndatas, 3);
    assert_int_equal(m->datas[0].mode, WA_SEG_ACTIVE);
    assert_int_equal(m->datas[0].offset.v[0], 5);
    assert_memory_equal(m->bytes + m->datas[0].data_off, "ab", 2);
    assert_int_equal(m->datas[1].mode, WA_SEG_PASSIVE);
    assert_int_equal(m->datas[1].len, 1);
    assert_int_equal(m->datas[2].mode, WA_SEG_ACTIVE);
    assert_int_equal(m->datas[2].offset.v[0], 7);
    assert_int_equal(m->datas[2].len, 0);
    wa_module_unref(m);
}

static void padded_lebs(void **state)
{
    /* memory minimum 2 in five bytes; an active element segment whose flags and table index
     * take two bytes each */
    static const uint8_t mem[] = {HDR, 0x05, 0x07, 0x01, 0x00, 0x82, 0x80, 0x80, 0x80, 0x00};
    wa_module *m = LOAD_OK(mem);
    assert_int_equal(m->mems[0].min, 2);
    wa_module_unref(m);
    static const uint8_t elem[] = {HDR, 0x04, 0x04, 0x01, 0x70, 0x00, 0x00, 0x09, 0x0a, 0x01,
                                   0x82, 0x00, 0x80, 0x00, 0x41, 0x00, 0x0b, 0x00, 0x00};
    m = LOAD_OK(elem);
    assert_int_equal(m->elems[0].mode, WA_SEG_ACTIVE);
    assert_int_equal(m->elems[0].count, 0);
    wa_module_unref(m);
}

static void vector_and_v128_consts(void **state)
{
    /* global v128 = v128.const 1..16 */
    static const uint8_t b[] = {HDR, 0x06, 0x16, 0x01, 0x7b, 0x00, 0xfd, 0x0c, 1, 2, 3, 4, 5, 6,
                                7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0x0b};
    wa_module *m = LOAD_OK(b);
    assert_int_equal(m->global_init[0].type, WA_V128);
    assert_int_equal(m->global_init[0].v[0] & 0xff, 1);
    assert_int_equal(m->global_init[0].v[1] >> 56, 16);
    wa_module_unref(m);
}

static void bad_name_section_ignored(void **state)
{
    /* function names with a name length past the subsection: the module still loads */
    static const uint8_t b[] = {HDR, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
                                0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b,
                                0x00, 0x0a, 0x04, 'n', 'a', 'm', 'e', 0x01, 0x03, 0x01, 0x00, 0x09};
    wa_module *m = LOAD_OK(b);
    assert_null(m->func_names);
    assert_int_equal(m->ncustoms, 1);
    wa_module_unref(m);
}

/* ---- Malformed ---- */

static void bad_header(void **state)
{
    static const uint8_t magic[] = {0x00, 0x61, 0x73, 0x6e, 0x01, 0x00, 0x00, 0x00};
    MALFORMED(magic, "magic header not detected", 0);
    static const uint8_t version[] = {0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00};
    MALFORMED(version, "unknown binary version", 4);
    static const uint8_t short_magic[] = {0x00, 0x61, 0x73};
    MALFORMED(short_magic, "unexpected end", 3);
    static const uint8_t short_version[] = {0x00, 0x61, 0x73, 0x6d, 0x01};
    MALFORMED(short_version, "unexpected end", 5);
    load_fail(short_magic, 0, WA_EMALFORMED, "unexpected end", 0);
}

static void truncated(void **state)
{
    /* type section of 5 bytes, 2 given */
    static const uint8_t section[] = {HDR, 0x01, 0x05, 0x01, 0x60};
    MALFORMED(section, "length out of bounds", 9); /* at the size, as the reference's len32 */
    /* one type declared, its result count missing */
    static const uint8_t entry[] = {HDR, 0x01, 0x03, 0x01, 0x60, 0x00};
    MALFORMED(entry, "unexpected end", 13);
    /* a section id and nothing else */
    static const uint8_t id[] = {HDR, 0x01};
    MALFORMED(id, "unexpected end", 9);
}

static void bad_lebs(void **state)
{
    static const uint8_t too_long[] = {HDR, 0x05, 0x08, 0x01, 0x00, 0x82, 0x80, 0x80, 0x80,
                                       0x80, 0x00};
    MALFORMED(too_long, "integer representation too long", 12);
    static const uint8_t too_large[] = {HDR, 0x05, 0x07, 0x01, 0x00, 0x82, 0x80, 0x80, 0x80, 0x70};
    MALFORMED(too_large, "integer too large", 12);
    /* i32.const -1 with unused bits unset */
    static const uint8_t sleb[] = {HDR, 0x06, 0x0a, 0x01, 0x7f, 0x00, 0x41, 0xff, 0xff, 0xff,
                                   0xff, 0x0f, 0x0b};
    MALFORMED(sleb, "integer too large", 14);
}

static void section_order(void **state)
{
    static const uint8_t order[] = {HDR, 0x03, 0x01, 0x00, 0x01, 0x01, 0x00};
    MALFORMED(order, "unexpected content after last section", 11);
    static const uint8_t twice[] = {HDR, 0x01, 0x01, 0x00, 0x01, 0x01, 0x00};
    MALFORMED(twice, "unexpected content after last section", 11);
    /* data count goes before code */
    static const uint8_t datacount[] = {HDR, 0x0a, 0x01, 0x00, 0x0c, 0x01, 0x00};
    MALFORMED(datacount, "unexpected content after last section", 11);
    static const uint8_t id[] = {HDR, 0x0d, 0x00};
    MALFORMED(id, "malformed section id", 8);
    /* custom sections go anywhere, repeated */
    static const uint8_t custom[] = {HDR, 0x00, 0x02, 0x01, 'a', 0x01, 0x01, 0x00,
                                     0x00, 0x02, 0x01, 'b', 0x03, 0x01, 0x00, 0x00, 0x01, 0x00};
    wa_module *m = LOAD_OK(custom);
    assert_int_equal(m->ncustoms, 3);
    assert_string_equal(m->customs[2].name, "");
    wa_module_unref(m);
}

static void section_size_mismatch(void **state)
{
    static const uint8_t b[] = {HDR, 0x01, 0x02, 0x00, 0x00};
    MALFORMED(b, "section size mismatch", 11);
}

static void inconsistent_lengths(void **state)
{
    static const uint8_t no_code[] = {HDR, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
                                      0x03, 0x02, 0x01, 0x00};
    MALFORMED(no_code, "function and code section have inconsistent lengths", ANY_OFFSET);
    static const uint8_t no_funcs[] = {HDR, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b};
    MALFORMED(no_funcs, "function and code section have inconsistent lengths", 10);
    static const uint8_t data[] = {HDR, 0x05, 0x03, 0x01, 0x00, 0x01, 0x0c, 0x01, 0x02,
                                   0x0b, 0x04, 0x01, 0x01, 0x01, 'x'};
    MALFORMED(data, "data count and data section have inconsistent lengths", ANY_OFFSET);
    static const uint8_t no_data[] = {HDR, 0x0c, 0x01, 0x01};
    MALFORMED(no_data, "data count and data section have inconsistent lengths", ANY_OFFSET);
}

static void bad_utf8(void **state)
{
    /* import module name "\c0\80": an overlong NUL */
    static const uint8_t overlong[] = {HDR, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
                                       0x02, 0x08, 0x01, 0x02, 0xc0, 0x80, 0x01, 'f', 0x00, 0x00};
    MALFORMED(overlong, "malformed UTF-8 encoding", 18);
    /* export name with a surrogate */
    static const uint8_t surrogate[] = {HDR, 0x07, 0x07, 0x01, 0x03, 0xed, 0xa0, 0x80, 0x00, 0x00};
    MALFORMED(surrogate, "malformed UTF-8 encoding", 12);
    /* custom section name cut inside a sequence */
    static const uint8_t cut[] = {HDR, 0x00, 0x02, 0x01, 0xe2};
    MALFORMED(cut, "malformed UTF-8 encoding", 11);
    /* a valid four-byte sequence is fine */
    static const uint8_t ok[] = {HDR, 0x00, 0x05, 0x04, 0xf0, 0x9f, 0x98, 0x80};
    wa_module *m = LOAD_OK(ok);
    wa_module_unref(m);
}

static void too_many_locals(void **state)
{
    static const uint8_t b[] = {HDR, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
                                0x0a, 0x0c, 0x01, 0x0a, 0x02, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x7f,
                                0x02, 0x7e, 0x0b};
    MALFORMED(b, "too many locals", 29);
}

static void bad_kinds(void **state)
{
    static const uint8_t import_kind[] = {HDR, 0x02, 0x06, 0x01, 0x01, 'm', 0x01, 'f', 0x04};
    MALFORMED(import_kind, "malformed import kind", 15);
    static const uint8_t mutability[] = {HDR, 0x06, 0x06, 0x01, 0x7f, 0x02, 0x41, 0x00, 0x0b};
    MALFORMED(mutability, "malformed mutability", 12);
    static const uint8_t elemkind[] = {HDR, 0x09, 0x04, 0x01, 0x01, 0x01, 0x00};
    MALFORMED(elemkind, "malformed element kind", 12);
    static const uint8_t reftype[] = {HDR, 0x09, 0x07, 0x01, 0x05, 0x7f, 0x01, 0xd0, 0x70, 0x0b};
    MALFORMED(reftype, "malformed reference type", 12);
    static const uint8_t opcode[] = {HDR, 0x06, 0x05, 0x01, 0x7f, 0x00, 0xf3, 0x0b};
    MALFORMED(opcode, "illegal opcode", 13);
    static const uint8_t valtype[] = {HDR, 0x01, 0x05, 0x01, 0x60, 0x01, 0x40, 0x00};
    MALFORMED(valtype, "malformed value type", 13);
    static const uint8_t missing_end[] = {HDR, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
                                          0x03, 0x02, 0x01, 0x00, 0x0a, 0x05, 0x01, 0x03,
                                          0x00, 0x41, 0x01};
    /* A body without its final `end` is read on past its size, as the reference interpreter
     * does: here the module ends first, */
    MALFORMED(missing_end, "unexpected end of section or function", 25);
    /* here the next section's id 0x0b ends the body one byte late, */
    static const uint8_t end_late[] = {HDR, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01,
                                       0x00, 0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x01, 0x1a,
                                       0x0b, 0x03, 0x01, 0x01, 0x00};
    MALFORMED(end_late, "section size mismatch", 27);
    /* and here the next body's size byte, 0x05, is an `else` outside any `if`. */
    static const uint8_t else_next[] = {HDR, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x03,
                                        0x02, 0x00, 0x00, 0x0a, 0x0c, 0x02, 0x04, 0x00, 0x41,
                                        0x01, 0x1a, 0x05, 0x00, 0x41, 0x01, 0x1a, 0x0b};
    MALFORMED(else_next, "END opcode expected", 27);
}

/* ---- Invalid ---- */

static void invalid_module_level(void **state)
{
    static const uint8_t type[] = {HDR, 0x03, 0x02, 0x01, 0x00, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b};
    INVALID_AT(type, "unknown type 0", 11); /* the index in the function section */
    static const uint8_t dup[] = {HDR, 0x05, 0x03, 0x01, 0x00, 0x00,
                                  0x07, 0x09, 0x02, 0x01, 'x', 0x02, 0x00, 0x01, 'x', 0x02, 0x00};
    INVALID_AT(dup, "duplicate export name", 20); /* the second export */
    static const uint8_t mems[] = {HDR, 0x05, 0x05, 0x02, 0x00, 0x01, 0x00, 0x01};
    INVALID_AT(mems, "multiple memories", 13); /* the second memory */
    static const uint8_t big[] = {HDR, 0x05, 0x05, 0x01, 0x00, 0x81, 0x80, 0x04};
    INVALID_AT(big, "memory size must be at most 65536 pages (4GiB)", 11);
    static const uint8_t minmax[] = {HDR, 0x05, 0x04, 0x01, 0x01, 0x02, 0x01};
    INVALID_AT(minmax, "size minimum must not be greater than maximum", 11);
    static const uint8_t nonconst[] = {HDR, 0x06, 0x07, 0x01, 0x7f, 0x00, 0x41, 0x00, 0x01, 0x0b};
    INVALID_AT(nonconst, "constant expression required", 13); /* the expression */
    static const uint8_t arity[] = {HDR, 0x06, 0x08, 0x01, 0x7f, 0x00, 0x41, 0x00, 0x41, 0x00,
                                    0x0b};
    INVALID_AT(arity, "type mismatch", 13);
    static const uint8_t empty[] = {HDR, 0x06, 0x04, 0x01, 0x7f, 0x00, 0x0b};
    INVALID_AT(empty, "type mismatch", 13);
    static const uint8_t consttype[] = {HDR, 0x06, 0x06, 0x01, 0x7f, 0x00, 0x42, 0x00, 0x0b};
    INVALID_AT(consttype, "type mismatch", 13);
    /* global.get of a mutable import; of a global defined in the module */
    static const uint8_t mut[] = {HDR, 0x02, 0x08, 0x01, 0x01, 'm', 0x01, 'g', 0x03, 0x7f, 0x01,
                                  0x06, 0x06, 0x01, 0x7f, 0x00, 0x23, 0x00, 0x0b};
    INVALID_AT(mut, "constant expression required", 23);
    static const uint8_t defined[] = {HDR, 0x06, 0x0b, 0x02, 0x7f, 0x00, 0x41, 0x00, 0x0b,
                                      0x7f, 0x00, 0x23, 0x00, 0x0b};
    INVALID_AT(defined, "unknown global 0", 18);
    static const uint8_t start[] = {HDR, 0x01, 0x05, 0x01, 0x60, 0x01, 0x7f, 0x00,
                                    0x03, 0x02, 0x01, 0x00, 0x08, 0x01, 0x00,
                                    0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b};
    INVALID_AT(start, "start function", 21); /* the start section's index */
    static const uint8_t nostart[] = {HDR, 0x08, 0x01, 0x00};
    INVALID_AT(nostart, "unknown function 0", 10);
    /* funcref segment into an externref table */
    static const uint8_t elemtype[] = {HDR, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
                                       0x03, 0x02, 0x01, 0x00, 0x04, 0x04, 0x01, 0x6f, 0x00, 0x01,
                                       0x09, 0x07, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x01, 0x00,
                                       0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b};
    INVALID_AT(elemtype, "type mismatch", 27); /* the segment */
    static const uint8_t notable[] = {HDR, 0x09, 0x06, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x00};
    INVALID_AT(notable, "unknown table 0", 11);
    static const uint8_t nomem[] = {HDR, 0x0b, 0x06, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x00};
    INVALID_AT(nomem, "unknown memory 0", 11);
    static const uint8_t reffunc[] = {HDR, 0x06, 0x06, 0x01, 0x70, 0x00, 0xd2, 0x00, 0x0b};
    INVALID_AT(reffunc, "unknown function 0", 13);
    static const uint8_t export_idx[] = {HDR, 0x07, 0x05, 0x01, 0x01, 'x', 0x03, 0x00};
    INVALID_AT(export_idx, "unknown global 0", 11); /* the export */
    /* an imported function's type index; an element segment's function index */
    static const uint8_t import_type[] = {HDR, 0x02, 0x05, 0x01, 0x00, 0x00, 0x00, 0x05};
    INVALID_AT(import_type, "unknown type 5", 14);
    static const uint8_t elem_func[] = {HDR, 0x04, 0x04, 0x01, 0x70, 0x00, 0x01,
                                        0x09, 0x07, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x01, 0x07};
    INVALID_AT(elem_func, "unknown function 7", 22);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(minimal_module),
        cmocka_unit_test(every_section_kind),
        cmocka_unit_test(interned_types),
        cmocka_unit_test(refcount),
        cmocka_unit_test(element_encodings),
        cmocka_unit_test(data_encodings),
        cmocka_unit_test(padded_lebs),
        cmocka_unit_test(vector_and_v128_consts),
        cmocka_unit_test(bad_name_section_ignored),
        cmocka_unit_test(bad_header),
        cmocka_unit_test(truncated),
        cmocka_unit_test(bad_lebs),
        cmocka_unit_test(section_order),
        cmocka_unit_test(section_size_mismatch),
        cmocka_unit_test(inconsistent_lengths),
        cmocka_unit_test(bad_utf8),
        cmocka_unit_test(too_many_locals),
        cmocka_unit_test(bad_kinds),
        cmocka_unit_test(invalid_module_level),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
