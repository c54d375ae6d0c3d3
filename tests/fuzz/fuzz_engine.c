/* fuzz_engine.c — libFuzzer target for the engine: arbitrary bytes go through decode, validate,
 * compile and instantiate, then every exported function is called with zero arguments. Each
 * import is satisfied by a stub made from its declared type (wa_module_import_*type): a host
 * function returning zeros, a table or memory with the declared limits, a global of the declared
 * type and mutability holding zero; so any well-typed module instantiates unless a limit below
 * or its start function stops it. Infinite loops are cut by a deadline that interrupts the
 * store. */
#include "apron/wasm.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static wa_status stub(wa_instance *caller, void *user, wa_slot *slots)
{
    (void)caller;
    const wa_functype *t = user;
    uint32_t n = 0; /* result slots: v128 takes two */
    for (uint32_t i = 0; i < t->nresults; i++) n += t->results[i] == WA_V128 ? 2 : 1;
    memset(slots, 0, sizeof(wa_slot) * n);
    return WA_OK;
}

/* The watchdog: interrupts the store running past its deadline. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static wa_store *watched;
static struct timespec deadline;

static void *watchdog(void *arg)
{
    (void)arg;
    for (;;) {
        usleep(5000);
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        pthread_mutex_lock(&mu);
        if (watched && (now.tv_sec > deadline.tv_sec ||
                        (now.tv_sec == deadline.tv_sec && now.tv_nsec > deadline.tv_nsec)))
            wa_store_interrupt(watched);
        pthread_mutex_unlock(&mu);
    }
    return NULL;
}

static void watch(wa_store *s, long ms)
{
    pthread_mutex_lock(&mu);
    watched = s;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_nsec += ms * 1000000L;
    deadline.tv_sec += deadline.tv_nsec / 1000000000L;
    deadline.tv_nsec %= 1000000000L;
    pthread_mutex_unlock(&mu);
}

static wa_value zero_of(wa_valtype t)
{
    wa_value v;
    memset(&v, 0, sizeof v);
    v.type = t;
    return v;
}

/* An object of import i's declared type (its kind is set; the object is NULL if the store's
 * limits refuse it, and instantiation then fails). ft: storage for a function's type. */
static wa_extern stub_import(wa_store *s, const wa_module *m, uint32_t i, wa_functype *ft)
{
    wa_extern e;
    memset(&e, 0, sizeof e);
    wa_module_import_info(m, i, NULL, NULL, &e.kind);
    wa_valtype t;
    wa_lim lim;
    bool mut;
    if (wa_module_import_functype(m, i, ft))
        e.of.func = wa_func_new_host(s, ft, stub, ft);
    else if (wa_module_import_tabletype(m, i, &t, &lim))
        e.of.table = wa_table_new(s, t, lim);
    else if (wa_module_import_memtype(m, i, &lim))
        e.of.memory = wa_memory_new(s, lim);
    else if (wa_module_import_globaltype(m, i, &t, &mut))
        e.of.global = wa_global_new(s, zero_of(t), mut);
    return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool started;
    if (!started) {
        pthread_t tid;
        started = pthread_create(&tid, NULL, watchdog, NULL) == 0;
    }

    wa_module *m = NULL;
    if (wa_module_load(data, size, &m, NULL) != WA_OK) return 0;
    wa_limits lim = {.max_memory_pages = 64, .max_table_elems = 10000, .max_call_depth = 500};
    wa_store *s = wa_store_new(&lim);
    uint32_t n = wa_module_import_count(m);
    wa_extern *imps = calloc(n ? n : 1, sizeof *imps);
    wa_functype *types = calloc(n ? n : 1, sizeof *types);
    for (uint32_t i = 0; i < n; i++) imps[i] = stub_import(s, m, i, &types[i]);
    wa_instance *in = NULL;
    watch(s, 200);
    if (wa_instance_new(s, m, imps, NULL, &in, NULL) == WA_OK) {
        for (uint32_t i = 0; i < wa_module_export_count(m); i++) {
            const char *name;
            wa_extern_kind kind;
            wa_module_export_info(m, i, &name, &kind);
            wa_extern ex;
            if (kind != WA_EXTERN_FUNC || !wa_instance_export(in, name, &ex)) continue;
            wa_functype ft;
            wa_func_type(ex.of.func, &ft);
            wa_value args[16], res[16];
            if (ft.nparams > 16 || ft.nresults > 16) continue;
            for (uint32_t k = 0; k < ft.nparams; k++) args[k] = zero_of(ft.params[k]);
            watch(s, 200);
            wa_error err;
            wa_call(ex.of.func, args, ft.nparams, res, &err);
        }
    }
    pthread_mutex_lock(&mu);
    watched = NULL;
    pthread_mutex_unlock(&mu);
    wa_store_free(s);
    free(imps);
    free(types);
    wa_module_unref(m);
    return 0;
}
