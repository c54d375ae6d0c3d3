/* test_pool.c — unit tests of src/pool/pool.c with fake instances: lazy creation up to the size,
 * reuse, waiting with a timeout, broken instances destroyed and replaced, creation failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <pthread.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lazy_and_reuse),
        cmocka_unit_test(broken_replaced),
        cmocka_unit_test(create_fails),
        cmocka_unit_test(waiter_woken),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
