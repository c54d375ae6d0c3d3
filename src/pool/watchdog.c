/* watchdog.c — the deadline timer of watchdog.h: a list of armed watches under one mutex and one
 * thread sleeping until the earliest deadline. Arming costs a lock and, only when the new
 * deadline is the earliest, a signal; the thread scans the list when it wakes (there are at most
 * as many watches as invocations running, i.e. worker threads). The thread is never joined: it
 * sleeps in a condition wait while the process runs and ends with it. */
#include "watchdog.h"

#include <pthread.h>
#include <signal.h>
#include <time.h>

#define REFIRE_NS 10000000 /* 10 ms */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake;
static ap_watch *armed;          /* doubly linked, unordered */
static int64_t next_wake_ns = -1; /* the deadline the thread sleeps until; -1: none */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool started;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *watchdog_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    for (;;) {
        int64_t now = now_ns(), next = -1;
        for (ap_watch *w = armed; w; w = w->next) {
            if (w->deadline_ns <= now) {
                /* Under the lock: ap_watch_stop cannot return, so inst is still alive. And again
                 * every REFIRE_NS until it is stopped: the engine clears the flag when the next
                 * outermost call begins, so a deadline that passed between two guest calls
                 * (start-up runs up to three) would otherwise be lost. */
                w->fired = true;
                ap_wapc_expire(w->inst);
                w->deadline_ns = now + REFIRE_NS;
            }
            if (next < 0 || w->deadline_ns < next) {
                next = w->deadline_ns;
            }
        }
        next_wake_ns = next;
        if (next < 0) {
            pthread_cond_wait(&wake, &lock);
        } else {
            struct timespec ts = {(time_t)(next / 1000000000), (long)(next % 1000000000)};
            pthread_cond_timedwait(&wake, &lock, &ts);
        }
    }
    return NULL;
}

static void start_thread(void)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    bool ok = pthread_cond_init(&wake, &ca) == 0;
    pthread_condattr_destroy(&ca);
    pthread_t th;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&at, 64 * 1024);
    /* Signals go to the threads that wait for them, not here. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    started = ok && pthread_create(&th, &at, watchdog_main, NULL) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&at);
}

bool ap_watch_start(ap_watch *w, ap_wapc_instance *inst, int64_t timeout_ms)
{
    w->prev = w->next = NULL;
    w->inst = inst;
    w->fired = false;
    w->on = false;
    pthread_once(&once, start_thread);
    if (!started) return false;
    w->on = true;
    w->deadline_ns = now_ns() + timeout_ms * 1000000;
    pthread_mutex_lock(&lock);
    w->next = armed;
    if (armed) armed->prev = w;
    armed = w;
    if (next_wake_ns < 0 || w->deadline_ns < next_wake_ns) {
        next_wake_ns = w->deadline_ns;
        pthread_cond_signal(&wake);
    }
    pthread_mutex_unlock(&lock);
    return true;
}

bool ap_watch_stop(ap_watch *w)
{
    if (!w->on) return false;
    pthread_mutex_lock(&lock);
    if (w->prev)
        w->prev->next = w->next;
    else
        armed = w->next;
    if (w->next) w->next->prev = w->prev;
    bool fired = w->fired;
    pthread_mutex_unlock(&lock);
    w->on = false;
    return fired;
}
