/* pool.c — the generic instance pool of pool.h: a stack of idle instances, a count of live ones,
 * one mutex and a condition variable on the monotonic clock. Instances are created and destroyed
 * outside the lock. */
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct ap_pool {
    pthread_mutex_t lock;
    pthread_cond_t freed; /* an instance went idle, or a slot became free */
    const ap_pool_ops *ops;
    void *user;
    void **idle;          /* stack of size entries */
    ap_pool_stats st;
};

ap_pool *ap_pool_new(size_t size, const ap_pool_ops *ops, void *user)
{
    if (size == 0) size = 100;
    ap_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->idle = calloc(size, sizeof *p->idle);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (!p->idle || pthread_cond_init(&p->freed, &ca) != 0) {
        pthread_condattr_destroy(&ca);
        free(p->idle);
        free(p);
        return NULL;
    }
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&p->lock, NULL);
    p->ops = ops;
    p->user = user;
    p->st.size = size;
    return p;
}

ap_pool_status ap_pool_acquire(ap_pool *p, int64_t timeout_ms, void **out, ap_errbuf *e)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    if (timeout_ms < 0) timeout_ms = 0;
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->lock);
    for (;;) {
        if (p->st.idle > 0) {
            *out = p->idle[--p->st.idle];
            pthread_mutex_unlock(&p->lock);
            return AP_POOL_OK;
        }
        if (p->st.live < p->st.size) break;
        int rc = pthread_cond_timedwait(&p->freed, &p->lock, &deadline);
        if (rc == ETIMEDOUT && p->st.idle == 0 && p->st.live >= p->st.size) {
            p->st.timeouts++;
            pthread_mutex_unlock(&p->lock);
            ap_errbuf_set(e, "get from pool timed out: no instance free after %lld ms",
                          (long long)timeout_ms);
            return AP_POOL_TIMEOUT;
        }
    }
    p->st.live++; /* reserve the slot, create outside the lock */
    pthread_mutex_unlock(&p->lock);
    void *inst = p->ops->create(p->user, e);
    pthread_mutex_lock(&p->lock);
    if (!inst) {
        p->st.live--;
        pthread_cond_signal(&p->freed);
        pthread_mutex_unlock(&p->lock);
        return AP_POOL_CREATE_FAILED;
    }
    p->st.created++;
    pthread_mutex_unlock(&p->lock);
    *out = inst;
    return AP_POOL_OK;
}

bool ap_pool_try_acquire(ap_pool *p, void **out)
{
    pthread_mutex_lock(&p->lock);
    bool got = p->st.idle > 0;
    if (got) *out = p->idle[--p->st.idle];
    pthread_mutex_unlock(&p->lock);
    return got;
}

void ap_pool_release(ap_pool *p, void *inst, bool broken)
{
    if (broken) {
        p->ops->destroy(p->user, inst);
        pthread_mutex_lock(&p->lock);
        p->st.live--;
        p->st.discarded++;
    } else {
        pthread_mutex_lock(&p->lock);
        p->idle[p->st.idle++] = inst;
    }
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->lock);
}

void ap_pool_get_stats(ap_pool *p, ap_pool_stats *out)
{
    pthread_mutex_lock(&p->lock);
    *out = p->st;
    pthread_mutex_unlock(&p->lock);
}

void ap_pool_free(ap_pool *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->st.idle; i++)
        p->ops->destroy(p->user, p->idle[i]);
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->lock);
    free(p->idle);
    free(p);
}
