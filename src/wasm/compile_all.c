/* compile_all.c — compiles every function body of a module, on several threads when the code is
 * large enough to pay for them (function bodies are independent: each writes only its own
 * wa_funcdef). The error reported is the one a sequential compile would report: that of the
 * lowest-numbered failing function. */
#include "compile.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#define PARALLEL_MIN_CODE_BYTES (256u * 1024)
#define MAX_THREADS 8

typedef struct {
    wa_module *m;
    uint32_t n;
    atomic_uint next;
    atomic_uint first_failed; /* lowest failing function, n if none */
} job;

static void *worker(void *arg)
{
    job *j = arg;
    for (;;) {
        uint32_t i = atomic_fetch_add(&j->next, 1);
        if (i >= j->n || i > atomic_load(&j->first_failed)) break;
        if (wa_compile_func(j->m, i, NULL) != WA_OK) {
            uint32_t cur = atomic_load(&j->first_failed);
            while (i < cur && !atomic_compare_exchange_weak(&j->first_failed, &cur, i)) {
            }
        }
    }
    return NULL;
}

static unsigned thread_count(const wa_module *m, uint32_t n)
{
    uint64_t code = 0;
    for (uint32_t i = 0; i < n; i++) code += m->funcs[i].body_len;
    if (code < PARALLEL_MIN_CODE_BYTES || n < 2) return 1;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 2) return 1;
    return cpus > MAX_THREADS ? MAX_THREADS : (unsigned)cpus;
}

wa_status wa_compile_all(wa_module *m, wa_error *err)
{
    uint32_t n = m->nfuncs - m->nfunc_imports;
    unsigned threads = thread_count(m, n);
    if (threads > 1) {
        wa_interp_handlers(); /* process-wide tables, built before the threads race for them */
        job j = {.m = m, .n = n};
        atomic_init(&j.next, 0);
        atomic_init(&j.first_failed, n);
        pthread_t tid[MAX_THREADS];
        unsigned started = 0;
        for (unsigned t = 1; t < threads; t++)
            if (pthread_create(&tid[started], NULL, worker, &j) == 0) started++;
        worker(&j);
        for (unsigned t = 0; t < started; t++) pthread_join(tid[t], NULL);
        uint32_t failed = atomic_load(&j.first_failed);
        /* again, alone, for the error text (and the malformed-outranks-invalid scan) */
        return failed < n ? wa_compile_func(m, failed, err) : WA_OK;
    }
    for (uint32_t i = 0; i < n; i++) {
        wa_status st = wa_compile_func(m, i, err);
        if (st != WA_OK) return st;
    }
    return WA_OK;
}
