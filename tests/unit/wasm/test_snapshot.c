/* test_snapshot.c — unit tests of snapshot.c (wa_instance_snapshot/_reset: memory, memory size,
 * globals, tables, dropped segments come back; nothing written after the snapshot survives), each
 * with both reset methods ("written" where the kernel allows it, and "madvise", forced with
 * APRON_SNAPSHOT_RESET), that "written" copies back only the written pages (and the hot ones) and
 * leaves the others mapped, and of deadlines (wa_store_expire traps "deadline exceeded", call.c). The guest is embedded as
 * bytes, built by wat2wasm from this text:
 *
 *   (module
 *     (memory (export "memory") 1 4)
 *     (global $g (export "g") (mut i32) (i32.const 7))
 *     (table $t (export "t") 2 10 funcref)
 *     (elem declare func $f)
 *     (data $passive "passive")
 *     (data (i32.const 16) "snapshot")
 *     (func $f (export "f") (result i32) (i32.const 42))
 *     (func (export "dirty")
 *       (i32.store (i32.const 100) (i32.const 0xdead))
 *       (i32.store (i32.const 16) (i32.const 0))
 *       (global.set $g (i32.const 99))
 *       (drop (memory.grow (i32.const 2)))
 *       (i32.store (i32.const 131072) (i32.const 5))
 *       (table.set $t (i32.const 0) (ref.func $f))
 *       (drop (table.grow $t (ref.null func) (i32.const 3)))
 *       (data.drop $passive))
 *     (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
 *     (func (export "init_passive") (memory.init $passive (i32.const 200) (i32.const 0) (i32.const 7)))
 *     (func (export "spin") (loop $l (br $l))))
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "runtime.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const uint8_t snap_wasm[] = {
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0d, 0x03, 0x60,
  0x00, 0x01, 0x7f, 0x60, 0x00, 0x00, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x03,
  0x06, 0x05, 0x00, 0x01, 0x02, 0x01, 0x01, 0x04, 0x05, 0x01, 0x70, 0x01,
  0x02, 0x0a, 0x05, 0x04, 0x01, 0x01, 0x01, 0x04, 0x06, 0x06, 0x01, 0x7f,
  0x01, 0x41, 0x07, 0x0b, 0x07, 0x3b, 0x08, 0x06, 0x6d, 0x65, 0x6d, 0x6f,
  0x72, 0x79, 0x02, 0x00, 0x01, 0x67, 0x03, 0x00, 0x01, 0x74, 0x01, 0x00,
  0x01, 0x66, 0x00, 0x00, 0x05, 0x64, 0x69, 0x72, 0x74, 0x79, 0x00, 0x01,
  0x04, 0x6c, 0x6f, 0x61, 0x64, 0x00, 0x02, 0x0c, 0x69, 0x6e, 0x69, 0x74,
  0x5f, 0x70, 0x61, 0x73, 0x73, 0x69, 0x76, 0x65, 0x00, 0x03, 0x04, 0x73,
  0x70, 0x69, 0x6e, 0x00, 0x04, 0x09, 0x05, 0x01, 0x03, 0x00, 0x01, 0x00,
  0x0c, 0x01, 0x02, 0x0a, 0x5c, 0x05, 0x04, 0x00, 0x41, 0x2a, 0x0b, 0x37,
  0x00, 0x41, 0xe4, 0x00, 0x41, 0xad, 0xbd, 0x03, 0x36, 0x02, 0x00, 0x41,
  0x10, 0x41, 0x00, 0x36, 0x02, 0x00, 0x41, 0xe3, 0x00, 0x24, 0x00, 0x41,
  0x02, 0x40, 0x00, 0x1a, 0x41, 0x80, 0x80, 0x08, 0x41, 0x05, 0x36, 0x02,
  0x00, 0x41, 0x00, 0xd2, 0x00, 0x26, 0x00, 0xd0, 0x70, 0x41, 0x03, 0xfc,
  0x0f, 0x00, 0x1a, 0xfc, 0x09, 0x00, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x28,
  0x02, 0x00, 0x0b, 0x0d, 0x00, 0x41, 0xc8, 0x01, 0x41, 0x00, 0x41, 0x07,
  0xfc, 0x08, 0x00, 0x00, 0x0b, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b,
  0x0b, 0x0b, 0x17, 0x02, 0x01, 0x07, 0x70, 0x61, 0x73, 0x73, 0x69, 0x76,
  0x65, 0x00, 0x41, 0x10, 0x0b, 0x08, 0x73, 0x6e, 0x61, 0x70, 0x73, 0x68,
  0x6f, 0x74
};

typedef struct {
    wa_store *store;
    wa_instance *in;
} fixture;

/* The methods each reset test runs with, in one cmocka test (cmocka puts its own SIGSEGV handler
 * back after each test, and guard.c installs its handler once per process, in the first test that
 * runs a guest: a trap on a guard page is then caught in that test only). NULL lets snapshot.c
 * choose; "madvise" forces the fallback. */
static const char *const methods[] = {NULL, "madvise"};

static void use_method(const char *want)
{
    if (want)
        setenv("APRON_SNAPSHOT_RESET", want, 1);
    else
        unsetenv("APRON_SNAPSHOT_RESET");
}

#define FOR_EACH_METHOD(body)                                                                      \
    static void body(void **state)                                                                 \
    {                                                                                              \
        (void)state;                                                                               \
        for (size_t i = 0; i < sizeof methods / sizeof *methods; i++) {                            \
            use_method(methods[i]);                                                                \
            body##_with(methods[i]);                                                               \
        }                                                                                          \
        unsetenv("APRON_SNAPSHOT_RESET");                                                          \
    }

static void make(fixture *fx)
{
    wa_module *m;
    wa_error e;
    assert_int_equal(wa_module_load(snap_wasm, sizeof snap_wasm, &m, &e), WA_OK);
    assert_non_null(fx->store = wa_store_new(NULL));
    assert_int_equal(wa_instance_new(fx->store, m, NULL, NULL, &fx->in, &e), WA_OK);
    wa_module_unref(m);
}

static wa_status call0(fixture *fx, const char *name, wa_error *e)
{
    wa_func *f = wa_instance_func(fx->in, name);
    assert_non_null(f);
    return wa_call(f, NULL, 0, NULL, e);
}

static wa_status load(fixture *fx, uint32_t addr, uint32_t *out)
{
    wa_value arg = {.type = WA_I32, .of.i32 = addr}, res;
    wa_error e;
    wa_status st = wa_call(wa_instance_func(fx->in, "load"), &arg, 1, &res, &e);
    *out = res.of.i32;
    return st;
}

static uint32_t global_g(fixture *fx)
{
    wa_extern x;
    assert_true(wa_instance_export(fx->in, "g", &x));
    return wa_global_get(x.of.global).of.i32;
}

static void reset_restores_everything_with(const char *method)
{
    (void)method;
    fixture fx;
    make(&fx);
    wa_error e;
    assert_int_equal(wa_instance_reset(fx.in), WA_ENOTFOUND);
    assert_int_equal(wa_instance_snapshot(fx.in, &e), WA_OK);
    wa_memory *mem = wa_instance_memory(fx.in);
    wa_extern t;
    assert_true(wa_instance_export(fx.in, "t", &t));
    for (int round = 0; round < 3; round++) {
        assert_int_equal(call0(&fx, "dirty", &e), WA_OK);
        uint32_t v;
        assert_int_equal(load(&fx, 100, &v), WA_OK);
        assert_int_equal(v, 0xdead);
        assert_int_equal(global_g(&fx), 99);
        assert_int_equal(wa_memory_size(mem), 3 * 65536);
        assert_int_equal(wa_table_size(t.of.table), 5);
        assert_int_equal(call0(&fx, "init_passive", &e), WA_ETRAP); /* dropped */

        assert_int_equal(wa_instance_reset(fx.in), WA_OK);
        assert_int_equal(load(&fx, 100, &v), WA_OK);
        assert_int_equal(v, 0);
        assert_memory_equal(wa_memory_data(mem) + 16, "snapshot", 8); /* the data segment */
        assert_int_equal(global_g(&fx), 7);
        assert_int_equal(wa_memory_size(mem), 65536);
        assert_int_equal(load(&fx, 131072, &v), WA_ETRAP); /* shrunk back */
        assert_int_equal(wa_table_size(t.of.table), 2);
        assert_null(t.of.table->elems[0]);
        assert_int_equal(call0(&fx, "init_passive", &e), WA_OK); /* segment back */
        assert_memory_equal(wa_memory_data(mem) + 200, "passive", 7);
        assert_int_equal(wa_instance_reset(fx.in), WA_OK);
        /* Grown pages come back zeroed on the next grow. */
        assert_int_equal(wa_memory_grow(mem, 2), 1);
        assert_int_equal(load(&fx, 131072, &v), WA_OK);
        assert_int_equal(v, 0);
        assert_int_equal(wa_instance_reset(fx.in), WA_OK);
    }
    wa_store_free(fx.store);
}

/* A host-written secret (as a waPC payload would be) is gone after reset, on every page. */
static void reset_forgets_host_writes_with(const char *method)
{
    (void)method;
    fixture fx;
    make(&fx);
    wa_error e;
    assert_int_equal(wa_instance_snapshot(fx.in, &e), WA_OK);
    wa_memory *mem = wa_instance_memory(fx.in);
    for (uint32_t off = 0; off < 65536; off += 4096)
        memcpy(wa_memory_data(mem) + off + 1000, "secret", 6);
    assert_int_equal(wa_instance_reset(fx.in), WA_OK);
    for (uint32_t off = 0; off < 65536; off += 4096)
        assert_true(memcmp(wa_memory_data(mem) + off + 1000, "secret", 6) != 0);
    wa_store_free(fx.store);
}

/* Whether the page at p is mapped in this process (/proc/self/pagemap, bit 63). */
static bool page_present(const void *p)
{
    int fd = open("/proc/self/pagemap", O_RDONLY);
    assert_true(fd >= 0);
    uint64_t entry = 0;
    off_t at = (off_t)((uintptr_t)p / 4096 * sizeof entry);
    assert_int_equal(pread(fd, &entry, sizeof entry, at), (ssize_t)sizeof entry);
    close(fd);
    return entry >> 63 & 1;
}

/* "written": exactly the pages written since are copied back (the host's and the guest's writes,
 * a page zero in the snapshot and one with data), and pages that were only read stay mapped, as
 * do the restored ones; "madvise" drops them all. A second snapshot tracks its own mapping. */
static void reset_copies_only_written_pages_with(const char *forced)
{
    fixture fx;
    make(&fx);
    wa_error e;
    assert_int_equal(wa_instance_snapshot(fx.in, &e), WA_OK);
    const char *method = wa_instance_reset_method(fx.in);
    bool written = strcmp(method, "written") == 0;
    if (forced)
        assert_string_equal(method, forced);
    else if (!written)
        print_message("      (userfaultfd/PAGEMAP_SCAN refused here: method %s)\n", method);
    wa_memory *mem = wa_instance_memory(fx.in);
    uint8_t *base = wa_memory_data(mem);
    for (int snap = 0; snap < 2; snap++) {
        for (int round = 0; round < 4; round++) {
            volatile uint8_t sink = base[5 * 4096]; /* read only */
            (void)sink;
            memcpy(base + 2 * 4096 + 7, "host", 4); /* a zero page */
            uint32_t v;
            assert_int_equal(load(&fx, 9 * 4096, &v), WA_OK);
            assert_int_equal(call0(&fx, "dirty", &e), WA_OK); /* writes page 0: 16 and 100 */
            assert_int_equal(wa_instance_reset(fx.in), WA_OK);
            /* Presence first: reading a page maps it again. */
            if (written) {
                assert_int_equal(wa__snapshot_restored(fx.in), 2);
                assert_true(page_present(base + 5 * 4096));
                assert_true(page_present(base + 9 * 4096));
                assert_true(page_present(base + 2 * 4096));
            } else if (strcmp(method, "madvise") == 0) {
                assert_int_equal(wa__snapshot_restored(fx.in), 0);
                assert_false(page_present(base + 2 * 4096));
            }
            assert_memory_equal(base + 16, snap ? "SNAPSHOT" : "snapshot", 8);
            assert_int_equal(base[100], 0);
            assert_memory_equal(base + 2 * 4096 + 7, "\0\0\0\0", 4);
            /* Nothing written: nothing to restore but the hot pages (written at two resets in a
             * row, left unprotected and copied back every time: snapshot.c, HOT_MAX). */
            assert_int_equal(wa_instance_reset(fx.in), WA_OK);
            assert_true(wa__snapshot_restored(fx.in) <= (round ? 2u : 0u));
            assert_memory_equal(base + 16, snap ? "SNAPSHOT" : "snapshot", 8);
        }
        /* Hot pages no longer written are protected again within DEMOTE_EVERY (256) resets. */
        size_t left = 1;
        for (int i = 0; i < 300 && left; i++) {
            assert_int_equal(wa_instance_reset(fx.in), WA_OK);
            left = wa__snapshot_restored(fx.in);
        }
        assert_int_equal(left, 0);
        /* A new snapshot with other bytes at 16. */
        memcpy(base + 16, "SNAPSHOT", 8);
        assert_int_equal(wa_instance_snapshot(fx.in, &e), WA_OK);
        assert_string_equal(wa_instance_reset_method(fx.in), method);
    }
    wa_store_free(fx.store);
}

FOR_EACH_METHOD(reset_restores_everything)
FOR_EACH_METHOD(reset_forgets_host_writes)
FOR_EACH_METHOD(reset_copies_only_written_pages)

static void snapshot_refuses_shared_state(void **state)
{
    /* (module (import "m" "mem" (memory 1))) */
    static const uint8_t imp[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x02, 0x0a,
                                  0x01, 0x01, 0x6d, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x01};
    wa_module *m;
    wa_error e;
    assert_int_equal(wa_module_load(imp, sizeof imp, &m, &e), WA_OK);
    wa_store *s = wa_store_new(NULL);
    wa_extern x = {.kind = WA_EXTERN_MEMORY};
    x.of.memory = wa_memory_new(s, (wa_lim){1, 0, false});
    wa_instance *in;
    assert_int_equal(wa_instance_new(s, m, &x, NULL, &in, &e), WA_OK);
    assert_int_equal(wa_instance_snapshot(in, &e), WA_EINVALID);
    wa_module_unref(m);
    wa_store_free(s);
}

typedef struct {
    wa_store *store;
    bool deadline;
} stopper;

static void *stop_later(void *arg)
{
    stopper *st = arg;
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    if (st->deadline)
        wa_store_expire(st->store);
    else
        wa_store_interrupt(st->store);
    return NULL;
}

static void deadline_trap_text(void **state)
{
    for (int deadline = 0; deadline < 2; deadline++) {
        fixture fx;
        make(&fx);
        stopper st = {fx.store, deadline};
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, stop_later, &st), 0);
        wa_error e;
        assert_int_equal(call0(&fx, "spin", &e), WA_ETRAP);
        pthread_join(th, NULL);
        assert_int_equal(e.trap, deadline ? WA_TRAP_DEADLINE : WA_TRAP_INTERRUPTED);
        assert_string_equal(e.msg, deadline ? "deadline exceeded" : "interrupted");
        /* The next call starts clean. */
        uint32_t v;
        assert_int_equal(load(&fx, 0, &v), WA_OK);
        wa_store_free(fx.store);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reset_restores_everything),
        cmocka_unit_test(reset_forgets_host_writes),
        cmocka_unit_test(reset_copies_only_written_pages),
        cmocka_unit_test(snapshot_refuses_shared_state),
        cmocka_unit_test(deadline_trap_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
