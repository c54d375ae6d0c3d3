/* sig.c — the process-wide intern table of function types. Equal types share one wa_sig, so a
 * call_indirect type check is a pointer comparison, across modules too. Entries are never freed:
 * a program uses few distinct signatures, and any module may still point at one. Each entry also
 * carries its types as wa_valtype, the view the public wa_functype needs. */
#include "module.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t sig_lock = PTHREAD_MUTEX_INITIALIZER;
static wa_sig **sig_buckets; /* [sig_nbuckets], a power of two */
static uint32_t sig_nbuckets, sig_count;

static uint32_t sig_hash(const uint8_t *params, uint32_t nparams, const uint8_t *results,
                         uint32_t nresults)
{
    /* FNV-1a over both vectors, with the parameter count mixed in so that (i32)->() and
     * ()->(i32) differ. */
    uint32_t h = 2166136261u;
    h = (h ^ nparams) * 16777619u;
    for (uint32_t i = 0; i < nparams; i++)
        h = (h ^ params[i]) * 16777619u;
    h = (h ^ nresults) * 16777619u;
    for (uint32_t i = 0; i < nresults; i++)
        h = (h ^ results[i]) * 16777619u;
    return h;
}

static bool sig_equal(const wa_sig *s, uint32_t hash, const uint8_t *params, uint32_t nparams,
                      const uint8_t *results, uint32_t nresults)
{
    return s->hash == hash && s->nparams == nparams && s->nresults == nresults &&
           (nparams == 0 || memcmp(s->types, params, nparams) == 0) &&
           (nresults == 0 || memcmp(s->types + nparams, results, nresults) == 0);
}

/* Where a sig's wa_valtype copy of its types starts, after the byte array, in the same block. */
static size_t valtypes_offset(uint32_t ntypes)
{
    size_t a = _Alignof(wa_valtype);
    return (sizeof(wa_sig) + ntypes + a - 1) / a * a;
}

const wa_valtype *wa_sig_valtypes(const wa_sig *s)
{
    return (const wa_valtype *)((const char *)s + valtypes_offset(s->nparams + s->nresults));
}

/* Doubles the bucket array; keeps the old one if allocation fails (chains just grow longer). */
static void sig_grow(void)
{
    uint32_t n = sig_nbuckets ? sig_nbuckets * 2 : 256;
    wa_sig **b = calloc(n, sizeof *b);
    if (!b)
        return;
    for (uint32_t i = 0; i < sig_nbuckets; i++) {
        wa_sig *s = sig_buckets[i];
        while (s) {
            wa_sig *next = s->next;
            s->next = b[s->hash & (n - 1)];
            b[s->hash & (n - 1)] = s;
            s = next;
        }
    }
    free(sig_buckets);
    sig_buckets = b;
    sig_nbuckets = n;
}

const wa_sig *wa_sig_intern(const uint8_t *params, uint32_t nparams, const uint8_t *results,
                            uint32_t nresults)
{
    uint32_t hash = sig_hash(params, nparams, results, nresults);
    wa_sig *found = NULL;
    pthread_mutex_lock(&sig_lock);
    if (sig_count >= sig_nbuckets)
        sig_grow();
    if (!sig_buckets)
        goto out;
    for (wa_sig *s = sig_buckets[hash & (sig_nbuckets - 1)]; s; s = s->next) {
        if (sig_equal(s, hash, params, nparams, results, nresults)) {
            found = s;
            goto out;
        }
    }
    uint32_t ntypes = nparams + nresults;
    found = malloc(valtypes_offset(ntypes) + ntypes * sizeof(wa_valtype));
    if (!found)
        goto out;
    wa_valtype *vt = (wa_valtype *)((char *)found + valtypes_offset(ntypes));
    for (uint32_t i = 0; i < nparams; i++)
        vt[i] = (wa_valtype)params[i];
    for (uint32_t i = 0; i < nresults; i++)
        vt[nparams + i] = (wa_valtype)results[i];
    found->nparams = nparams;
    found->nresults = nresults;
    found->param_slots = found->result_slots = 0;
    for (uint32_t i = 0; i < nparams; i++)
        found->param_slots += wa_type_slots(params[i]);
    for (uint32_t i = 0; i < nresults; i++)
        found->result_slots += wa_type_slots(results[i]);
    found->hash = hash;
    if (nparams)
        memcpy(found->types, params, nparams);
    if (nresults)
        memcpy(found->types + nparams, results, nresults);
    found->next = sig_buckets[hash & (sig_nbuckets - 1)];
    sig_buckets[hash & (sig_nbuckets - 1)] = found;
    sig_count++;
out:
    pthread_mutex_unlock(&sig_lock);
    return found;
}
