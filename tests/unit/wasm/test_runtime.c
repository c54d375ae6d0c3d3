/* test_runtime.c — unit tests of the engine's runtime objects: memory.c (reservation, growth,
 * zeroed pages, spans), table.c, global.c, store.c (freeing many objects; run under ASan or
 * valgrind for leaks), exec.c (host traps) and instance.c (import matching, segment
 * initialisation, export lookup by name and by length). Modules are built by hand, so these tests need neither the decoder nor the
 * interpreter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "guard.h"
#include "runtime.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 65536u

/* ---- Memory ---- */

static void memory_create_and_grow(void **state)
{
    wa_memory *m = wa_memory_create(1, 3);
    assert_non_null(m);
    assert_int_equal(m->pages, 1);
    assert_int_equal(m->size, PAGE);
    assert_int_equal(m->max_pages, 3);
    assert_true(m->reserved >= 3 * (size_t)PAGE);
    for (uint32_t i = 0; i < PAGE; i++)
        assert_int_equal(m->base[i], 0);
    memset(m->base, 0xab, PAGE);
    uint8_t *base = m->base;

    assert_int_equal(wa_memory_grow_pages(m, 0), 1);
    assert_int_equal(wa_memory_grow_pages(m, 1), 1);
    assert_ptr_equal(m->base, base); /* never moves */
    assert_int_equal(m->size, 2 * PAGE);
    for (uint32_t i = PAGE; i < 2 * PAGE; i++)
        assert_int_equal(m->base[i], 0);
    assert_int_equal(m->base[PAGE - 1], 0xab);

    assert_int_equal(wa_memory_grow_pages(m, 2), -1); /* past max: unchanged */
    assert_int_equal(m->pages, 2);
    assert_int_equal(wa_memory_grow_pages(m, UINT32_MAX), -1);
    assert_int_equal(wa_memory_grow(m, 1), 2);
    assert_int_equal(wa_memory_size(m), 3 * PAGE);
    assert_ptr_equal(wa_memory_data(m), base);
    m->base[3 * PAGE - 1] = 1; /* the last committed byte is writable */
    wa_memory_destroy(m);
}

/* The default reservation covers any 32-bit address plus 32-bit offset. */
static void memory_guard_reservation(void **state)
{
    wa_memory *m = wa_memory_create(0, 65536);
    assert_non_null(m);
    assert_int_equal(m->size, 0);
    assert_non_null(m->base);
    /* Under a ulimit -v the fallback reserves less; the memory still works up to that. */
    assert_true(m->reserved >= ((uint64_t)8 << 30) + PAGE || getenv("APRON_TEST_ULIMIT"));
    assert_int_equal(wa_memory_grow_pages(m, 1), 0);
    wa_memory_destroy(m);

    assert_null(wa_memory_create(2, 1));
    m = wa_memory_create(0, 0);
    assert_non_null(m);
    assert_int_equal(wa_memory_grow_pages(m, 1), -1);
    assert_int_equal(wa_memory_grow_pages(m, 0), 0);
    wa_memory_destroy(m);
    wa_memory_destroy(NULL);
}

/* Under an address-space limit (ulimit -v) the 8 GiB reservation fails: without guard pages a
 * memory still gets the maximum, or as much of it as fits above the minimum; with them, creation
 * fails. Checked in a child with RLIMIT_AS set. */
static void memory_reservation_fallback(void **state)
{
#if defined(__SANITIZE_ADDRESS__)
    skip(); /* ASan's shadow memory needs more address space than the limit leaves */
#endif
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = {(rlim_t)2 << 30, (rlim_t)2 << 30};
        if (setrlimit(RLIMIT_AS, &rl) != 0)
            _exit(10);
#if WA_GUARD_PAGES
        /* Guard pages replace bounds checks, so only the full reservation will do: a memory
         * that cannot have it is refused cleanly. */
        _exit(wa_memory_create(1, 2) == NULL ? 0 : 15);
#endif
        wa_memory *m = wa_memory_create(1, 2);
        if (!m || m->reserved != 2 * (size_t)PAGE)
            _exit(11);
        if (wa_memory_grow_pages(m, 1) != 1 || wa_memory_grow_pages(m, 1) != -1)
            _exit(12);
        m->base[2 * PAGE - 1] = 1;
        wa_memory_destroy(m);
        m = wa_memory_create(1, 65536); /* 4 GiB cannot fit: less is reserved */
        if (!m || m->reserved >= ((size_t)4 << 30) || m->reserved < PAGE)
            _exit(13);
        if (wa_memory_grow_pages(m, 1) != 1 || wa_memory_grow_pages(m, 65534) != -1)
            _exit(14);
        wa_memory_destroy(m);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void memory_new_limits(void **state)
{
    wa_limits lim = {.max_memory_pages = 4};
    wa_store *s = wa_store_new(&lim);
    assert_non_null(s);

    wa_memory *m = wa_memory_new(s, (wa_lim){.min = 1});
    assert_non_null(m);
    assert_false(m->has_max);
    assert_int_equal(m->max_pages, 4); /* unbounded: the store's limit */
    assert_int_equal(wa_memory_grow(m, 3), 1);
    assert_int_equal(wa_memory_grow(m, 1), -1);

    m = wa_memory_new(s, (wa_lim){.min = 1, .max = 2, .has_max = true});
    assert_non_null(m);
    assert_true(m->has_max);
    assert_int_equal(m->decl_max, 2);
    assert_int_equal(wa_memory_grow(m, 2), -1);

    m = wa_memory_new(s, (wa_lim){.min = 1, .max = 100, .has_max = true});
    assert_non_null(m);
    assert_int_equal(m->max_pages, 4); /* clamped, while the declared max stays for matching */
    assert_int_equal(m->decl_max, 100);

    assert_null(wa_memory_new(s, (wa_lim){.min = 5}));                            /* min > limit */
    assert_null(wa_memory_new(s, (wa_lim){.min = 2, .max = 1, .has_max = true})); /* max < min */
    assert_null(wa_memory_new(s, (wa_lim){.min = 65537}));
    wa_store_free(s);
}

static void memory_span_bounds(void **state)
{
    wa_instance in = {0};
    assert_null(wa_memory_span(&in, 0, 0)); /* no memory */
    in.mem = wa_memory_create(1, 1);
    assert_non_null(in.mem);
    uint8_t *base = in.mem->base;
    assert_ptr_equal(wa_memory_span(&in, 0, PAGE), base);
    assert_ptr_equal(wa_memory_span(&in, PAGE, 0), base + PAGE);
    assert_ptr_equal(wa_memory_span(&in, 10, 20), base + 10);
    assert_null(wa_memory_span(&in, PAGE, 1));
    assert_null(wa_memory_span(&in, 1, PAGE));
    assert_null(wa_memory_span(&in, PAGE + 1, 0));
    /* ptr + len wraps in 32 bits: must not pass as small. */
    assert_null(wa_memory_span(&in, UINT32_MAX, 2));
    assert_null(wa_memory_span(&in, 2, UINT32_MAX));
    assert_null(wa_memory_span(&in, UINT32_MAX, UINT32_MAX));
    assert_null(wa_memory_span(NULL, 0, 0));
    assert_ptr_equal(wa_instance_memory(&in), in.mem);
    wa_memory_destroy(in.mem);
}

/* ---- Tables ---- */

static void table_grow(void **state)
{
    int marker;
    wa_table *t = wa_table_create(WA_FUNCREF, 2, 5);
    assert_non_null(t);
    assert_int_equal(wa_table_size(t), 2);
    assert_null(t->elems[0]);
    assert_null(t->elems[1]);
    assert_int_equal(wa_table_grow_elems(t, 2, &marker), 2);
    assert_int_equal(t->size, 4);
    assert_null(t->elems[1]);
    assert_ptr_equal(t->elems[2], &marker);
    assert_ptr_equal(t->elems[3], &marker);
    assert_int_equal(wa_table_grow_elems(t, 2, NULL), -1);
    assert_int_equal(wa_table_grow_elems(t, UINT32_MAX, NULL), -1);
    assert_int_equal(t->size, 4);
    assert_int_equal(wa_table_grow_elems(t, 0, NULL), 4);
    assert_int_equal(wa_table_grow_elems(t, 1, NULL), 4);
    assert_null(t->elems[4]);
    wa_table_destroy(t);

    t = wa_table_create(WA_EXTERNREF, 0, 1000);
    assert_non_null(t);
    for (uint32_t i = 0; i < 1000; i++)
        assert_int_equal(wa_table_grow_elems(t, 1, &marker), i);
    assert_int_equal(wa_table_grow_elems(t, 1, NULL), -1);
    wa_table_destroy(t);
    assert_null(wa_table_create(WA_FUNCREF, 3, 2));
}

static void table_new_limits(void **state)
{
    wa_limits lim = {.max_table_elems = 10};
    wa_store *s = wa_store_new(&lim);
    wa_table *t = wa_table_new(s, WA_FUNCREF, (wa_lim){.min = 1});
    assert_non_null(t);
    assert_false(t->has_max);
    assert_int_equal(wa_table_grow_elems(t, 9, NULL), 1);
    assert_int_equal(wa_table_grow_elems(t, 1, NULL), -1);
    t = wa_table_new(s, WA_EXTERNREF, (wa_lim){.min = 0, .max = 3, .has_max = true});
    assert_non_null(t);
    assert_int_equal(t->decl_max, 3);
    assert_int_equal(wa_table_grow_elems(t, 4, NULL), -1);
    assert_null(wa_table_new(s, WA_FUNCREF, (wa_lim){.min = 11}));
    assert_null(wa_table_new(s, WA_I32, (wa_lim){.min = 0}));
    wa_store_free(s);
}

/* ---- Globals ---- */

static void globals_get_set(void **state)
{
    wa_store *s = wa_store_new(NULL);
    wa_global *g = wa_global_new(s, (wa_value){.type = WA_I32, .of.i32 = 7}, true);
    assert_non_null(g);
    assert_int_equal(wa_global_get(g).type, WA_I32);
    assert_int_equal(wa_global_get(g).of.i32, 7);
    assert_int_equal(wa_global_set(g, (wa_value){.type = WA_I32, .of.i32 = 0xffffffffu}), WA_OK);
    assert_int_equal(wa_global_get(g).of.i32, 0xffffffffu);
    /* wrong type: refused, unchanged (globals_set_errors has the other cases) */
    assert_int_equal(wa_global_set(g, (wa_value){.type = WA_I64, .of.i64 = 1}), WA_EINVALID);
    assert_int_equal(wa_global_get(g).of.i32, 0xffffffffu);

    wa_global *c = wa_global_new(s, (wa_value){.type = WA_F64, .of.f64 = 2.5}, false);
    assert_non_null(c);
    /* immutable: refused, unchanged */
    assert_int_equal(wa_global_set(c, (wa_value){.type = WA_F64, .of.f64 = 1.0}), WA_EINVALID);
    assert_true(wa_global_get(c).of.f64 == 2.5);

    wa_value v = {.type = WA_V128};
    for (int i = 0; i < 16; i++)
        v.of.v128[i] = (uint8_t)(i * 17);
    wa_global *x = wa_global_new(s, v, true);
    assert_memory_equal(wa_global_get(x).of.v128, v.of.v128, 16);

    int obj;
    wa_global *r = wa_global_new(s, (wa_value){.type = WA_EXTERNREF, .of.ext = &obj}, true);
    assert_ptr_equal(wa_global_get(r).of.ext, &obj);
    assert_int_equal(wa_global_set(r, (wa_value){.type = WA_EXTERNREF, .of.ext = NULL}), WA_OK);
    assert_null(wa_global_get(r).of.ext);
    assert_null(wa_global_new(s, (wa_value){.type = (wa_valtype)0x40}, true));
    wa_store_free(s);
}

/* wa_global_set refuses what the spec's global_write refuses, and changes nothing then. */
static void globals_set_errors(void **state)
{
    wa_store *s = wa_store_new(NULL);
    wa_global *g = wa_global_new(s, (wa_value){.type = WA_I32, .of.i32 = 5}, true);
    assert_non_null(g);
    /* wrong type: of another size, of the same size (f32 bits are not an i32), not a type */
    assert_int_equal(wa_global_set(g, (wa_value){.type = WA_I64, .of.i64 = 1}), WA_EINVALID);
    assert_int_equal(wa_global_set(g, (wa_value){.type = WA_F32, .of.f32 = 1.0f}), WA_EINVALID);
    assert_int_equal(wa_global_set(g, (wa_value){.type = (wa_valtype)0x40}), WA_EINVALID);
    assert_int_equal(wa_global_get(g).type, WA_I32);
    assert_int_equal(wa_global_get(g).of.i32, 5);
    assert_int_equal(wa_global_set(g, (wa_value){.type = WA_I32, .of.i32 = 6}), WA_OK);
    assert_int_equal(wa_global_get(g).of.i32, 6);

    /* immutable: any value is refused */
    wa_global *c = wa_global_new(s, (wa_value){.type = WA_I64, .of.i64 = 9}, false);
    assert_non_null(c);
    assert_int_equal(wa_global_set(c, (wa_value){.type = WA_I64, .of.i64 = 1}), WA_EINVALID);
    assert_int_equal(wa_global_set(c, (wa_value){.type = WA_I32, .of.i32 = 1}), WA_EINVALID);
    assert_int_equal(wa_global_get(c).of.i64, 9);

    /* references: a funcref global takes no externref, nor the reverse */
    int obj;
    wa_global *fr = wa_global_new(s, (wa_value){.type = WA_FUNCREF, .of.func = NULL}, true);
    wa_global *er = wa_global_new(s, (wa_value){.type = WA_EXTERNREF, .of.ext = NULL}, true);
    assert_non_null(fr);
    assert_non_null(er);
    assert_int_equal(wa_global_set(fr, (wa_value){.type = WA_EXTERNREF, .of.ext = &obj}),
                     WA_EINVALID);
    assert_null(wa_global_get(fr).of.func);
    assert_int_equal(wa_global_set(er, (wa_value){.type = WA_FUNCREF, .of.func = NULL}),
                     WA_EINVALID);
    assert_int_equal(wa_global_set(er, (wa_value){.type = WA_EXTERNREF, .of.ext = &obj}), WA_OK);
    assert_ptr_equal(wa_global_get(er).of.ext, &obj);

    /* v128: all 16 bytes, or nothing */
    wa_value v = {.type = WA_V128};
    memset(v.of.v128, 0xab, 16);
    wa_global *x = wa_global_new(s, v, true);
    assert_non_null(x);
    assert_int_equal(wa_global_set(x, (wa_value){.type = WA_I64, .of.i64 = 0}), WA_EINVALID);
    assert_memory_equal(wa_global_get(x).of.v128, v.of.v128, 16);
    for (int i = 0; i < 16; i++)
        v.of.v128[i] = (uint8_t)i;
    assert_int_equal(wa_global_set(x, v), WA_OK);
    assert_memory_equal(wa_global_get(x).of.v128, v.of.v128, 16);

    assert_int_equal(wa_global_set(NULL, (wa_value){.type = WA_I32}), WA_EINVALID);
    wa_store_free(s);
}

/* ---- Stores and host functions ---- */

static wa_status host_noop(wa_instance *caller, void *user, wa_slot *slots) { return WA_OK; }

static void store_many_objects(void **state)
{
    wa_store *s = wa_store_new(NULL);
    assert_non_null(s);
    assert_int_equal(s->lim.max_memory_pages, 65536);
    assert_int_equal(s->lim.max_table_elems, 10000000);
    assert_int_equal(s->lim.max_call_depth, 10000);
    wa_valtype p[] = {WA_I32};
    wa_functype ft = {1, 0, p, NULL};
    for (int i = 0; i < 2000; i++) {
        assert_non_null(wa_func_new_host(s, &ft, host_noop, NULL));
        assert_non_null(wa_table_new(s, WA_FUNCREF, (wa_lim){.min = (uint32_t)i % 7}));
        assert_non_null(wa_global_new(s, (wa_value){.type = WA_I64, .of.i64 = (uint64_t)i}, 1));
        if (i % 100 == 0)
            assert_non_null(wa_memory_new(s, (wa_lim){.min = 1, .max = 2, .has_max = true}));
    }
    wa_store_interrupt(s);
    assert_int_equal(atomic_load(&s->interrupt), 1);
    wa_store_free(s);
    wa_store_free(NULL);
}

static void host_function_type(void **state)
{
    wa_store *s = wa_store_new(NULL);
    wa_valtype p[] = {WA_I32, WA_I64, WA_V128}, r[] = {WA_F32};
    wa_functype ft = {3, 1, p, r};
    int user;
    wa_func *f = wa_func_new_host(s, &ft, host_noop, &user);
    wa_func *g = wa_func_new_host(s, &ft, host_noop, NULL);
    assert_non_null(f);
    assert_non_null(g);
    assert_ptr_equal(f->sig, g->sig); /* interned */
    assert_ptr_equal(f->user, &user);
    assert_null(f->inst);
    assert_int_equal(f->sig->param_slots, 4);
    wa_functype got;
    wa_func_type(f, &got);
    assert_int_equal(got.nparams, 3);
    assert_int_equal(got.nresults, 1);
    assert_memory_equal(got.params, p, sizeof p);
    assert_int_equal(got.results[0], WA_F32);

    wa_functype none = {0, 0, NULL, NULL};
    wa_func *h = wa_func_new_host(s, &none, host_noop, NULL);
    wa_func_type(h, &got);
    assert_int_equal(got.nparams + got.nresults, 0);

    /* wa_call checks arguments before running anything. */
    wa_error err;
    wa_value args[3] = {{.type = WA_I32}, {.type = WA_I32}, {.type = WA_V128}};
    assert_int_equal(wa_call(f, args, 3, NULL, &err), WA_EINVALID);
    assert_string_equal(err.msg, "type mismatch");
    assert_int_equal(wa_call(f, args, 2, NULL, &err), WA_EINVALID);
    wa_store_free(s);
}

static wa_status host_sub(wa_instance *caller, void *user, wa_slot *slots)
{
    if (slots[1].i64 == 0)
        return wa_host_trap(WA_TRAP_HOST, "zero");
    slots[0].f64 = (double)slots[0].i32 - (double)slots[1].i64;
    slots[1].i32 = *(uint32_t *)user;
    return WA_OK;
}

/* wa_call's typed values travel through slots to a host function and back. */
static void call_host_function(void **state)
{
    wa_store *s = wa_store_new(NULL);
    wa_valtype p[] = {WA_I32, WA_I64}, r[] = {WA_F64, WA_I32};
    wa_functype ft = {2, 2, p, r};
    uint32_t tag = 77;
    wa_func *f = wa_func_new_host(s, &ft, host_sub, &tag);
    wa_value args[2] = {{.type = WA_I32, .of.i32 = 10}, {.type = WA_I64, .of.i64 = 4}};
    wa_value res[2];
    wa_error err;
    assert_int_equal(wa_call(f, args, 2, res, &err), WA_OK);
    assert_int_equal(res[0].type, WA_F64);
    assert_true(res[0].of.f64 == 6.0);
    assert_int_equal(res[1].type, WA_I32);
    assert_int_equal(res[1].of.i32, 77);
    args[1].of.i64 = 0;
    assert_int_equal(wa_call(f, args, 2, res, &err), WA_ETRAP);
    assert_int_equal(err.trap, WA_TRAP_HOST);
    assert_string_equal(err.msg, "zero");
    wa_store_free(s);
}

static void host_trap_and_exit(void **state)
{
    wa_exec *e = wa_exec_get();
    assert_non_null(e);
    assert_ptr_equal(wa_exec_get(), e);
    assert_non_null(e->stack);
    assert_true(e->stack_end - e->stack >= (1 << 20));
    assert_int_equal(e->max_depth, 10000);
    assert_int_equal(wa_host_trap(WA_TRAP_HOST, "bad pointer"), WA_ETRAP);
    assert_int_equal(e->err.status, WA_ETRAP);
    assert_int_equal(e->err.trap, WA_TRAP_HOST);
    assert_string_equal(e->err.msg, "bad pointer");
    assert_int_equal(wa_host_trap(WA_TRAP_UNREACHABLE, NULL), WA_ETRAP);
    assert_string_equal(e->err.msg, "unreachable");
    assert_int_equal(wa_host_exit(-3), WA_ETRAP);
    assert_int_equal(e->err.trap, WA_TRAP_EXIT);
    assert_int_equal(e->err.exit_code, -3);
    assert_string_equal(e->err.msg, "exit code -3");
}

static void exec_configure(void **state)
{
    wa_exec *e = wa_exec_get();
    assert_non_null(e);
    assert_true(wa_exec_configure(e, 50, 1000));
    assert_int_equal(e->max_depth, 50);
    assert_int_equal(e->stack_end - e->stack, 1000);
    assert_ptr_equal(e->top, e->stack);
    assert_null(e->frames);
    e->stack[999].i64 = 1; /* mapped and writable to the end */
    e->depth = 1;          /* inside a call: left alone */
    assert_true(wa_exec_configure(e, 70, 2000));
    assert_int_equal(e->max_depth, 50);
    e->depth = 0;
    assert_true(wa_exec_configure(e, 0, 0));
    assert_int_equal(e->max_depth, 10000);
    assert_int_equal(e->stack_end - e->stack, 1 << 20);
}

/* ---- Instantiation, on hand-built modules ---- */

/* A module with no definitions. One extra reference is held, so the instances' unref never
 * frees the hand-made parts; mod_free releases the struct. */
static wa_module *mod_new(void)
{
    wa_module *m = calloc(1, sizeof *m);
    atomic_init(&m->refs, 2);
    m->start = -1;
    return m;
}

static wa_cexpr i32_const(uint32_t v)
{
    return (wa_cexpr){.op = WA_CEXPR_CONST, .type = WA_I32, .v = {v}};
}

static void instance_data_segments(void **state)
{
    static uint8_t bytes[] = "..hello";
    wa_module *m = mod_new();
    wa_lim mems[] = {{.min = 1, .max = 2, .has_max = true}};
    wa_dataseg datas[] = {
        {.mode = WA_SEG_ACTIVE, .offset = i32_const(8), .data_off = 2, .len = 5},
        {.mode = WA_SEG_PASSIVE, .data_off = 0, .len = 2},
        {.mode = WA_SEG_ACTIVE, .offset = i32_const(PAGE), .data_off = 0, .len = 0},
    };
    wa_export exports[] = {{.name = "mem", .name_len = 3, .kind = WA_EXTERN_MEMORY}};
    m->bytes = bytes;
    m->len = sizeof bytes - 1;
    m->nmems = 1;
    m->mems = mems;
    m->ndatas = 3;
    m->datas = datas;
    m->nexports = 1;
    m->exports = exports;

    wa_store *s = wa_store_new(NULL);
    wa_instance *in = NULL;
    wa_error err;
    assert_int_equal(wa_instance_new(s, m, NULL, &err, &in, &err), WA_OK);
    assert_non_null(in);
    assert_ptr_equal(wa_instance_user(in), &err);
    assert_ptr_equal(wa_instance_module(in), m);
    assert_ptr_equal(wa_instance_store(in), s);
    assert_memory_equal(wa_memory_span(in, 8, 5), "hello", 5);
    assert_int_equal(in->data_dropped[0], 1);
    assert_int_equal(in->data_dropped[1], 0);
    wa_extern x;
    assert_true(wa_instance_export(in, "mem", &x));
    assert_int_equal(x.kind, WA_EXTERN_MEMORY);
    assert_ptr_equal(x.of.memory, in->mem);
    assert_false(wa_instance_export(in, "me", &x));
    assert_null(wa_instance_func(in, "mem"));

    /* Out of range: the earlier segment's write stays, then the trap. */
    datas[0].offset = i32_const(0);
    datas[2] =
        (wa_dataseg){.mode = WA_SEG_ACTIVE, .offset = i32_const(PAGE - 1), .data_off = 2, .len = 2};
    wa_instance *in2 = NULL;
    assert_int_equal(wa_instance_new(s, m, NULL, NULL, &in2, &err), WA_ETRAP);
    assert_null(in2);
    assert_int_equal(err.trap, WA_TRAP_MEMORY_OOB);
    assert_string_equal(err.msg, "out of bounds memory access");

    /* A zero-length segment past the end still traps. */
    datas[2] = (wa_dataseg){.mode = WA_SEG_ACTIVE, .offset = i32_const(PAGE + 1)};
    assert_int_equal(wa_instance_new(s, m, NULL, NULL, &in2, &err), WA_ETRAP);
    wa_store_free(s);
    free(m);
}

static void instance_import_matching(void **state)
{
    static wa_valtype i32[] = {WA_I32};
    static uint8_t i32b[] = {WA_I32};
    wa_module *m = mod_new();
    const wa_sig *types[] = {wa_sig_intern(i32b, 1, NULL, 0)};
    uint32_t func_type[] = {0};
    wa_tabletype tables[] = {
        {.elemtype = WA_FUNCREF, .lim = {.min = 2, .max = 4, .has_max = true}}};
    wa_lim mems[] = {{.min = 2, .max = 3, .has_max = true}};
    wa_globaltype globals[] = {{WA_I64, 1}};
    wa_import imports[] = {
        {.module = "env", .name = "f", .kind = WA_EXTERN_FUNC, .u.type_idx = 0},
        {.module = "env", .name = "t", .kind = WA_EXTERN_TABLE, .u.table = tables[0]},
        {.module = "env", .name = "m", .kind = WA_EXTERN_MEMORY, .u.mem = mems[0]},
        {.module = "env", .name = "g", .kind = WA_EXTERN_GLOBAL, .u.global = globals[0]},
    };
    m->ntypes = 1;
    m->types = types;
    m->nimports = 4;
    m->imports = imports;
    m->nfuncs = m->nfunc_imports = 1;
    m->func_type = func_type;
    m->ntables = m->ntable_imports = 1;
    m->tables = tables;
    m->nmems = m->nmem_imports = 1;
    m->mems = mems;
    m->nglobals = m->nglobal_imports = 1;
    m->globals = globals;

    wa_store *s = wa_store_new(NULL);
    wa_functype ft = {1, 0, i32, NULL}, ft2 = {0, 1, NULL, i32};
    wa_extern ok[4] = {
        {WA_EXTERN_FUNC, .of.func = wa_func_new_host(s, &ft, host_noop, NULL)},
        {WA_EXTERN_TABLE, .of.table = wa_table_new(s, WA_FUNCREF, (wa_lim){3, 4, true})},
        {WA_EXTERN_MEMORY, .of.memory = wa_memory_new(s, (wa_lim){2, 2, true})},
        {WA_EXTERN_GLOBAL, .of.global = wa_global_new(s, (wa_value){.type = WA_I64}, true)},
    };
    wa_instance *in = NULL;
    wa_error err;
    assert_int_equal(wa_instance_new(s, m, ok, NULL, &in, &err), WA_OK);
    assert_ptr_equal(in->funcs[0], ok[0].of.func);
    assert_ptr_equal(in->tables[0], ok[1].of.table);
    assert_ptr_equal(in->mem, ok[2].of.memory);
    assert_ptr_equal(in->globals[0], ok[3].of.global);

    wa_extern bad[4];
#define EXPECT_UNLINKABLE(i, k, field, val, text)                                                  \
    do {                                                                                           \
        memcpy(bad, ok, sizeof ok);                                                                \
        bad[i].kind = k;                                                                           \
        bad[i].of.field = val;                                                                     \
        wa_instance *out_ = NULL;                                                                  \
        assert_int_equal(wa_instance_new(s, m, bad, NULL, &out_, &err), WA_EUNLINKABLE);           \
        assert_null(out_);                                                                         \
        assert_true(strncmp(err.msg, text, strlen(text)) == 0);                                    \
    } while (0)
    EXPECT_UNLINKABLE(0, WA_EXTERN_FUNC, func, NULL, "unknown import");
    EXPECT_UNLINKABLE(0, WA_EXTERN_FUNC, func, wa_func_new_host(s, &ft2, host_noop, NULL),
                      "incompatible import type");
    EXPECT_UNLINKABLE(0, WA_EXTERN_GLOBAL, global, ok[3].of.global, "incompatible import type");
    /* Tables: min too small, no max, max too big, other element type. */
    EXPECT_UNLINKABLE(1, WA_EXTERN_TABLE, table, wa_table_new(s, WA_FUNCREF, (wa_lim){1, 4, true}),
                      "incompatible import type");
    EXPECT_UNLINKABLE(1, WA_EXTERN_TABLE, table, wa_table_new(s, WA_FUNCREF, (wa_lim){2, 0, false}),
                      "incompatible import type");
    EXPECT_UNLINKABLE(1, WA_EXTERN_TABLE, table, wa_table_new(s, WA_FUNCREF, (wa_lim){2, 5, true}),
                      "incompatible import type");
    EXPECT_UNLINKABLE(1, WA_EXTERN_TABLE, table,
                      wa_table_new(s, WA_EXTERNREF, (wa_lim){2, 4, true}),
                      "incompatible import type");
    /* Memories: the current size counts as min. */
    wa_memory *small = wa_memory_new(s, (wa_lim){1, 3, true});
    EXPECT_UNLINKABLE(2, WA_EXTERN_MEMORY, memory, small, "incompatible import type");
    assert_int_equal(wa_memory_grow(small, 1), 1);
    memcpy(bad, ok, sizeof ok);
    bad[2].of.memory = small;
    assert_int_equal(wa_instance_new(s, m, bad, NULL, &in, &err), WA_OK);
    EXPECT_UNLINKABLE(2, WA_EXTERN_MEMORY, memory, wa_memory_new(s, (wa_lim){2, 0, false}),
                      "incompatible import type");
    EXPECT_UNLINKABLE(2, WA_EXTERN_MEMORY, memory, wa_memory_new(s, (wa_lim){2, 4, true}),
                      "incompatible import type");
    /* Globals: type and mutability both. */
    EXPECT_UNLINKABLE(3, WA_EXTERN_GLOBAL, global,
                      wa_global_new(s, (wa_value){.type = WA_I64}, false),
                      "incompatible import type");
    EXPECT_UNLINKABLE(3, WA_EXTERN_GLOBAL, global,
                      wa_global_new(s, (wa_value){.type = WA_I32}, true),
                      "incompatible import type");
    EXPECT_UNLINKABLE(3, WA_EXTERN_GLOBAL, global, NULL, "unknown import");
    assert_int_equal(wa_instance_new(s, m, NULL, NULL, &in, &err), WA_EUNLINKABLE);
#undef EXPECT_UNLINKABLE
    wa_store_free(s);
    free(m);
}

/* wa_instance_export_n: names are compared by their bytes, NUL bytes included; the C-string
 * form stops at the first NUL. */
static void instance_export_by_length(void **state)
{
    wa_module *m = mod_new();
    wa_lim mems[] = {{.min = 1}};
    wa_tabletype tables[] = {{.elemtype = WA_FUNCREF, .lim = {.min = 1}}};
    wa_export exports[] = {{.name = "a\0b", .name_len = 3, .kind = WA_EXTERN_MEMORY},
                           {.name = "a", .name_len = 1, .kind = WA_EXTERN_TABLE},
                           {.name = "", .name_len = 0, .kind = WA_EXTERN_MEMORY}};
    m->nmems = 1;
    m->mems = mems;
    m->ntables = 1;
    m->tables = tables;
    m->nexports = 3;
    m->exports = exports;

    wa_store *s = wa_store_new(NULL);
    wa_instance *in = NULL;
    wa_error err;
    assert_int_equal(wa_instance_new(s, m, NULL, NULL, &in, &err), WA_OK);
    wa_extern x = {0};
    assert_true(wa_instance_export_n(in, "a\0b", 3, &x));
    assert_int_equal(x.kind, WA_EXTERN_MEMORY);
    assert_ptr_equal(x.of.memory, in->mem);
    assert_true(wa_instance_export_n(in, "a\0b", 1, &x)); /* "a" */
    assert_int_equal(x.kind, WA_EXTERN_TABLE);
    assert_ptr_equal(x.of.table, in->tables[0]);
    assert_true(wa_instance_export(in, "a\0b", &x)); /* also "a" */
    assert_int_equal(x.kind, WA_EXTERN_TABLE);
    assert_true(wa_instance_export_n(in, "", 0, &x));
    assert_int_equal(x.kind, WA_EXTERN_MEMORY);
    assert_true(wa_instance_export_n(in, NULL, 0, &x));
    assert_false(wa_instance_export_n(in, "a\0", 2, &x));
    assert_false(wa_instance_export_n(in, "a\0c", 3, &x));
    assert_false(wa_instance_export_n(in, "a\0b\0", 4, &x));
    assert_null(wa_instance_func(in, "a"));
    wa_store_free(s);
    free(m);
}

static void instance_elems_and_globals(void **state)
{
    static uint8_t i32b[] = {WA_I32};
    static wa_valtype i32[] = {WA_I32};
    wa_module *m = mod_new();
    const wa_sig *types[] = {wa_sig_intern(NULL, 0, i32b, 1)};
    uint32_t func_type[] = {0, 0};
    wa_funcdef defs[1] = {{.type_idx = 0}};
    wa_tabletype tables[] = {{.elemtype = WA_FUNCREF, .lim = {.min = 2}},
                             {.elemtype = WA_FUNCREF, .lim = {.min = 4}}};
    wa_globaltype globals[] = {{WA_I32, 0}, {WA_I32, 0}, {WA_FUNCREF, 0}};
    wa_cexpr global_init[] = {
        {.op = WA_CEXPR_GLOBAL_GET, .type = WA_I32, .idx = 0},
        {.op = WA_CEXPR_REF_FUNC, .type = WA_FUNCREF, .idx = 1},
    };
    wa_import imports[] = {
        {.module = "env", .name = "f", .kind = WA_EXTERN_FUNC, .u.type_idx = 0},
        {.module = "env", .name = "t", .kind = WA_EXTERN_TABLE, .u.table = tables[0]},
        {.module = "env", .name = "base", .kind = WA_EXTERN_GLOBAL, .u.global = globals[0]},
    };
    wa_cexpr items_a[] = {{.op = WA_CEXPR_REF_FUNC, .idx = 0},
                          {.op = WA_CEXPR_REF_NULL},
                          {.op = WA_CEXPR_REF_FUNC, .idx = 1}};
    wa_cexpr items_b[] = {{.op = WA_CEXPR_GLOBAL_GET, .idx = 2}};
    wa_elemseg elems[] = {
        {.mode = WA_SEG_ACTIVE,
         .elemtype = WA_FUNCREF,
         .table = 1,
         .offset = {.op = WA_CEXPR_GLOBAL_GET, .idx = 0},
         .count = 3,
         .items = items_a},
        {.mode = WA_SEG_PASSIVE, .elemtype = WA_FUNCREF, .count = 1, .items = items_b},
        {.mode = WA_SEG_DECLARATIVE, .elemtype = WA_FUNCREF, .count = 1, .items = items_b},
        {.mode = WA_SEG_ACTIVE,
         .elemtype = WA_FUNCREF,
         .table = 0,
         .offset = i32_const(1),
         .count = 1,
         .items = items_b},
    };
    wa_export exports[] = {{.name = "g", .name_len = 1, .kind = WA_EXTERN_FUNC, .idx = 1},
                           {.name = "h", .name_len = 1, .kind = WA_EXTERN_GLOBAL, .idx = 1}};
    m->ntypes = 1;
    m->types = types;
    m->nimports = 3;
    m->imports = imports;
    m->nfuncs = 2;
    m->nfunc_imports = 1;
    m->func_type = func_type;
    m->funcs = defs;
    m->ntables = 2;
    m->ntable_imports = 1;
    m->tables = tables;
    m->nglobals = 3;
    m->nglobal_imports = 1;
    m->globals = globals;
    m->global_init = global_init;
    m->nelems = 4;
    m->elems = elems;
    m->nexports = 2;
    m->exports = exports;

    wa_store *s = wa_store_new(NULL);
    wa_functype ft = {0, 1, NULL, i32};
    wa_table *shared = wa_table_new(s, WA_FUNCREF, (wa_lim){.min = 2});
    wa_extern imp[3] = {
        {WA_EXTERN_FUNC, .of.func = wa_func_new_host(s, &ft, host_noop, NULL)},
        {WA_EXTERN_TABLE, .of.table = shared},
        {WA_EXTERN_GLOBAL,
         .of.global = wa_global_new(s, (wa_value){.type = WA_I32, .of.i32 = 1}, false)},
    };
    wa_instance *in = NULL;
    wa_error err;
    assert_int_equal(wa_instance_new(s, m, imp, NULL, &in, &err), WA_OK);
    wa_func *own = wa_instance_func(in, "g");
    assert_non_null(own);
    assert_ptr_equal(own->inst, in);
    assert_ptr_equal(own->def, &defs[0]);
    assert_ptr_equal(own->sig, types[0]);
    assert_int_equal(own->index, 1);
    assert_int_equal(in->globals[1]->val[0].i32, 1);
    assert_ptr_equal(in->globals[2]->val[0].ref, own);
    wa_extern x;
    assert_true(wa_instance_export(in, "h", &x));
    assert_ptr_equal(x.of.global, in->globals[1]);
    /* Segment 0 at offset global 0 (= 1) of the own table. */
    wa_table *t = in->tables[1];
    assert_null(t->elems[0]);
    assert_ptr_equal(t->elems[1], imp[0].of.func);
    assert_null(t->elems[2]);
    assert_ptr_equal(t->elems[3], own);
    assert_ptr_equal(shared->elems[1], own);
    /* Active and declarative segments are dropped; the passive one holds its references. */
    assert_int_equal(in->elem_count[0], 0);
    assert_int_equal(in->elem_count[1], 1);
    assert_ptr_equal(in->elem_refs[1][0], own);
    assert_int_equal(in->elem_count[2], 0);
    assert_int_equal(in->elem_count[3], 0);

    /* Segment 3 out of range of the imported table: segment 0's writes stay (spec 2.0), and the
     * failed instance's function they stored stays alive in the store. */
    elems[0].table = 0;
    elems[0].offset = i32_const(0);
    elems[0].count = 2;
    elems[0].items = items_a + 1;
    elems[3].offset = i32_const(2);
    shared->elems[0] = shared->elems[1] = NULL;
    wa_instance *in2 = NULL;
    assert_int_equal(wa_instance_new(s, m, imp, NULL, &in2, &err), WA_ETRAP);
    assert_null(in2);
    assert_int_equal(err.trap, WA_TRAP_TABLE_OOB);
    assert_string_equal(err.msg, "out of bounds table access");
    assert_null(shared->elems[0]);
    wa_func *kept = shared->elems[1];
    assert_non_null(kept);
    assert_ptr_equal(kept->inst, s->instances);
    assert_ptr_not_equal(kept->inst, in);

    /* A table minimum over the store's limit. */
    wa_store_free(s);
    wa_limits lim = {.max_table_elems = 3};
    s = wa_store_new(&lim);
    imp[0].of.func = wa_func_new_host(s, &ft, host_noop, NULL);
    imp[1].of.table = wa_table_new(s, WA_FUNCREF, (wa_lim){.min = 2});
    imp[2].of.global = wa_global_new(s, (wa_value){.type = WA_I32}, false);
    assert_int_equal(wa_instance_new(s, m, imp, NULL, &in2, &err), WA_ELIMIT);
    wa_store_free(s);
    free(m);
}

/* A module importing a function, an externref table {3, 7}, a memory {2}, a mutable i64 global
 * and an immutable f32 global. */
static const uint8_t typed_imports[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00, /* type 0: [] -> [] */
    0x02, 0x27, 0x05,                   /* import section, 5 entries */
    0x01, 'm', 0x01, 'f', 0x00, 0x00,                  /* func, type 0 */
    0x01, 'm', 0x01, 't', 0x01, 0x6f, 0x01, 0x03, 0x07, /* table externref {3, 7} */
    0x01, 'm', 0x03, 'm', 'e', 'm', 0x02, 0x00, 0x02,   /* memory {2} */
    0x01, 'm', 0x01, 'g', 0x03, 0x7e, 0x01,             /* global (mut i64) */
    0x01, 'm', 0x01, 'h', 0x03, 0x7d, 0x00,             /* global f32 */
};

/* wa_module_import_{table,mem,global}type: the declared types, from which the host can make
 * objects that satisfy the imports (what tests/fuzz/fuzz_engine.c does). */
static void module_import_types(void **state)
{
    wa_module *m = NULL;
    assert_int_equal(wa_module_load(typed_imports, sizeof typed_imports, &m, NULL), WA_OK);
    assert_int_equal(wa_module_import_count(m), 5);
    wa_valtype t = WA_I32;
    wa_lim lim = {0};
    bool mut = false;
    assert_false(wa_module_import_tabletype(m, 0, &t, &lim));
    assert_false(wa_module_import_memtype(m, 1, &lim));
    assert_false(wa_module_import_globaltype(m, 2, &t, &mut));
    assert_int_equal(t, WA_I32); /* untouched */
    assert_true(wa_module_import_tabletype(m, 1, &t, &lim));
    assert_int_equal(t, WA_EXTERNREF);
    assert_int_equal(lim.min, 3);
    assert_int_equal(lim.max, 7);
    assert_true(lim.has_max);
    assert_true(wa_module_import_memtype(m, 2, &lim));
    assert_int_equal(lim.min, 2);
    assert_false(lim.has_max);
    assert_true(wa_module_import_globaltype(m, 3, &t, &mut));
    assert_int_equal(t, WA_I64);
    assert_true(mut);
    assert_true(wa_module_import_globaltype(m, 4, &t, &mut));
    assert_int_equal(t, WA_F32);
    assert_false(mut);
    assert_true(wa_module_import_globaltype(m, 4, NULL, NULL));
    assert_true(wa_module_import_tabletype(m, 1, NULL, NULL));
    assert_true(wa_module_import_memtype(m, 2, NULL));

    wa_store *s = wa_store_new(NULL);
    wa_extern imps[5];
    wa_functype ft;
    for (uint32_t i = 0; i < 5; i++) {
        wa_extern_kind kind;
        wa_module_import_info(m, i, NULL, NULL, &kind);
        imps[i].kind = kind;
        if (wa_module_import_functype(m, i, &ft)) {
            imps[i].of.func = wa_func_new_host(s, &ft, host_noop, NULL);
        } else if (wa_module_import_tabletype(m, i, &t, &lim)) {
            imps[i].of.table = wa_table_new(s, t, lim);
        } else if (wa_module_import_memtype(m, i, &lim)) {
            imps[i].of.memory = wa_memory_new(s, lim);
        } else {
            assert_true(wa_module_import_globaltype(m, i, &t, &mut));
            wa_value zero;
            memset(&zero, 0, sizeof zero);
            zero.type = t;
            imps[i].of.global = wa_global_new(s, zero, mut);
        }
        assert_non_null(imps[i].of.func);
    }
    wa_instance *in = NULL;
    assert_int_equal(wa_instance_new(s, m, imps, NULL, &in, NULL), WA_OK);
    /* a funcref table or an immutable i64 global does not */
    wa_extern good = imps[1];
    imps[1].of.table = wa_table_new(s, WA_FUNCREF, (wa_lim){.min = 3, .max = 7, .has_max = true});
    wa_error err;
    assert_int_equal(wa_instance_new(s, m, imps, NULL, &in, &err), WA_EUNLINKABLE);
    imps[1] = good;
    imps[3].of.global = wa_global_new(s, (wa_value){.type = WA_I64}, false);
    assert_int_equal(wa_instance_new(s, m, imps, NULL, &in, &err), WA_EUNLINKABLE);
    wa_store_free(s);
    wa_module_unref(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(memory_create_and_grow),
        cmocka_unit_test(memory_guard_reservation),
        cmocka_unit_test(memory_reservation_fallback),
        cmocka_unit_test(memory_new_limits),
        cmocka_unit_test(memory_span_bounds),
        cmocka_unit_test(table_grow),
        cmocka_unit_test(table_new_limits),
        cmocka_unit_test(globals_get_set),
        cmocka_unit_test(globals_set_errors),
        cmocka_unit_test(store_many_objects),
        cmocka_unit_test(host_function_type),
        cmocka_unit_test(call_host_function),
        cmocka_unit_test(host_trap_and_exit),
        cmocka_unit_test(exec_configure),
        cmocka_unit_test(instance_data_segments),
        cmocka_unit_test(instance_import_matching),
        cmocka_unit_test(instance_elems_and_globals),
        cmocka_unit_test(instance_export_by_length),
        cmocka_unit_test(module_import_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
