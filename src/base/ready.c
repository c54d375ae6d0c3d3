/* ready.c — the readiness probe of ready.h. */
#include "ready.h"

#include <pthread.h>

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static ap_ready_probe probe;
static void *probe_user;

void ap_ready_set_probe(ap_ready_probe fn, void *user)
{
    pthread_rwlock_wrlock(&lock);
    probe = fn;
    probe_user = user;
    pthread_rwlock_unlock(&lock);
}

bool ap_ready_check(ap_errbuf *e)
{
    pthread_rwlock_rdlock(&lock);
    bool ok = !probe || probe(probe_user, e);
    pthread_rwlock_unlock(&lock);
    return ok;
}
