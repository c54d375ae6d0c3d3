/* test_pool.c — unit tests of src/pool/pool.c with fake instances: lazy creation up to the size,
 * reuse, waiting with a timeout, broken instances destroyed and replaced, creation failures; and
 * of src/pool/fn.c's start-up deadline (a guest whose start-up never ends fails to load with
 * "deadline exceeded" after timeout_ms, instead of hanging). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "pool/pool.h"

typedef struct {
    int created, destroyed;
    bool fail;
} fake;

static void *create(void *user, ap_errbuf *e)
{
    fake *f = user;
    if (f->fail) {
        ap_errbuf_set(e, "no");
        return NULL;
    }
    int *inst = malloc(sizeof *inst);
    *inst = ++f->created;
    return inst;
}

static void destroy(void *user, void *inst)
{
    ((fake *)user)->destroyed++;
    free(inst);
}

static const ap_pool_ops ops = {create, destroy};

static void lazy_and_reuse(void **state)
{
    fake f = {0};
    ap_pool *p = ap_pool_new(2, &ops, &f);
    ap_errbuf e;
    void *a, *b, *c;
    assert_int_equal(f.created, 0);
    assert_int_equal(ap_pool_acquire(p, 0, &a, &e), AP_POOL_OK);
    ap_pool_release(p, a, false);
    assert_int_equal(ap_pool_acquire(p, 0, &b, &e), AP_POOL_OK);
    assert_ptr_equal(a, b);
    assert_int_equal(f.created, 1);
    assert_int_equal(ap_pool_acquire(p, 0, &c, &e), AP_POOL_OK);
    assert_int_equal(f.created, 2);
    assert_int_equal(ap_pool_acquire(p, 50, &a, &e), AP_POOL_TIMEOUT);
    ap_pool_stats st;
    ap_pool_get_stats(p, &st);
    assert_int_equal(st.live, 2);
    assert_int_equal(st.timeouts, 1);
    ap_pool_release(p, b, false);
    ap_pool_release(p, c, false);
    ap_pool_free(p);
    assert_int_equal(f.destroyed, 2);
}

static void broken_replaced(void **state)
{
    fake f = {0};
    ap_pool *p = ap_pool_new(1, &ops, &f);
    ap_errbuf e;
    void *a, *b;
    assert_int_equal(ap_pool_acquire(p, 0, &a, &e), AP_POOL_OK);
    ap_pool_release(p, a, true);
    assert_int_equal(f.destroyed, 1);
    assert_int_equal(ap_pool_acquire(p, 0, &b, &e), AP_POOL_OK);
    assert_int_equal(*(int *)b, 2); /* a new one */
    ap_pool_release(p, b, false);
    ap_pool_stats st;
    ap_pool_get_stats(p, &st);
    assert_int_equal(st.discarded, 1);
    assert_int_equal(st.live, 1);
    ap_pool_free(p);
}

static void create_fails(void **state)
{
    fake f = {.fail = true};
    ap_pool *p = ap_pool_new(1, &ops, &f);
    ap_errbuf e;
    void *a;
    assert_int_equal(ap_pool_acquire(p, 0, &a, &e), AP_POOL_CREATE_FAILED);
    assert_string_equal(e.msg, "no");
    f.fail = false;
    assert_int_equal(ap_pool_acquire(p, 0, &a, &e), AP_POOL_OK); /* the slot came back */
    ap_pool_release(p, a, false);
    ap_pool_free(p);
}

typedef struct {
    ap_pool *p;
    void *inst;
} later;

static void *release_later(void *arg)
{
    later *l = arg;
    usleep(50 * 1000);
    ap_pool_release(l->p, l->inst, false);
    return NULL;
}

static void waiter_woken(void **state)
{
    fake f = {0};
    ap_pool *p = ap_pool_new(1, &ops, &f);
    ap_errbuf e;
    later l = {p, NULL};
    assert_int_equal(ap_pool_acquire(p, 0, &l.inst, &e), AP_POOL_OK);
    pthread_t t;
    pthread_create(&t, NULL, release_later, &l);
    void *b;
    assert_int_equal(ap_pool_acquire(p, 5000, &b, &e), AP_POOL_OK);
    assert_ptr_equal(b, l.inst);
    pthread_join(t, NULL);
    ap_pool_release(p, b, false);
    ap_pool_free(p);
}

/* (module (memory (export "memory") 1)
 *   (func (export "__guest_call") (param i32 i32) (result i32) (i32.const 1))
 *   (func (export "wapc_init") (loop $l (br $l)))) */
static const uint8_t init_loops[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x02, 0x60, 0x02, 0x7f, 0x7f,
    0x01, 0x7f, 0x60, 0x00, 0x00, 0x03, 0x03, 0x02, 0x00, 0x01, 0x05, 0x03, 0x01, 0x00, 0x01,
    0x07, 0x25, 0x03, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x0c, 0x5f, 0x5f,
    0x67, 0x75, 0x65, 0x73, 0x74, 0x5f, 0x63, 0x61, 0x6c, 0x6c, 0x00, 0x00, 0x09, 0x77, 0x61,
    0x70, 0x63, 0x5f, 0x69, 0x6e, 0x69, 0x74, 0x00, 0x01, 0x0a, 0x0e, 0x02, 0x04, 0x00, 0x41,
    0x01, 0x0b, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b};

/* The same with no wapc_init but a start section: (func $spin (loop $l (br $l))) (start $spin) */
static const uint8_t start_loops[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x02, 0x60, 0x00, 0x00, 0x60,
    0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x03, 0x03, 0x02, 0x00, 0x01, 0x05, 0x03, 0x01, 0x00, 0x01,
    0x07, 0x19, 0x02, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x0c, 0x5f, 0x5f,
    0x67, 0x75, 0x65, 0x73, 0x74, 0x5f, 0x63, 0x61, 0x6c, 0x6c, 0x00, 0x01, 0x08, 0x01, 0x00,
    0x0a, 0x0e, 0x02, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b, 0x04, 0x00, 0x41, 0x01,
    0x0b};

static int64_t ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void start_up_deadline(void **state)
{
    (void)state;
    const struct {
        const uint8_t *bytes;
        size_t len;
        const char *text;
    } guests[] = {
        {init_loops, sizeof init_loops, "init function wapc_init failed: deadline exceeded"},
        {start_loops, sizeof start_loops, "start function failed: deadline exceeded"},
    };
    for (size_t g = 0; g < sizeof guests / sizeof *guests; g++) {
        char path[] = "/tmp/apron-test-pool-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, guests[g].bytes, guests[g].len), (ssize_t)guests[g].len);
        close(fd);
        for (int iso = 0; iso < 2; iso++) {
            ap_pool_fn_opts o = {.pool_size = 2, .timeout_ms = 100,
                                 .isolation = iso ? AP_ISOLATION_REQUEST : AP_ISOLATION_POOL};
            ap_wapc_config cfg = {0};
            ap_pool_fn *fn = NULL;
            ap_errbuf e;
            struct timespec t0;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            assert_int_equal(ap_pool_fn_load_opts("loops", path, &o, &cfg, &fn, &e),
                             AP_POOL_CREATE_FAILED);
            int64_t ms = ms_since(&t0);
            assert_null(fn);
            assert_true(ms >= 90 && ms < 5000);
            if (!strstr(e.msg, guests[g].text))
                fail_msg("message: %s", e.msg);
        }
        unlink(path);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lazy_and_reuse),
        cmocka_unit_test(broken_replaced),
        cmocka_unit_test(create_fails),
        cmocka_unit_test(waiter_woken),
        cmocka_unit_test(start_up_deadline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
