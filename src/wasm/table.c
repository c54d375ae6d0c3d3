/* table.c — tables of references: creation, growth, and the host's table API. Tables defined by a
 * module are created by instance.c; table.grow in the interpreter comes through
 * wa_table_grow_elems. */
#include "runtime.h"

#include <stdlib.h>

wa_table *wa_table_create(uint8_t elemtype, uint32_t min, uint32_t max)
{
    if (min > max)
        return NULL;
    wa_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->elemtype = elemtype;
    t->max = max;
    t->has_max = true;
    t->decl_max = max;
    if (min && !(t->elems = calloc(min, sizeof *t->elems))) {
        free(t);
        return NULL;
    }
    t->size = t->cap = min;
    return t;
}

void wa_table_destroy(wa_table *t)
{
    if (!t)
        return;
    free(t->elems);
    free(t);
}

int64_t wa_table_grow_elems(wa_table *t, uint32_t delta, void *init)
{
    uint32_t old = t->size;
    uint64_t want = (uint64_t)old + delta;
    if (want > t->max)
        return -1;
    if (want > t->cap) {
        /* Doubling keeps repeated table.grow 1 linear overall; the clamp keeps it under max. */
        uint64_t cap = (uint64_t)t->cap * 2;
        if (cap < want)
            cap = want;
        if (cap > t->max)
            cap = t->max;
        void **e = realloc(t->elems, (size_t)cap * sizeof *e);
        if (!e)
            return -1;
        t->elems = e;
        t->cap = (uint32_t)cap;
    }
    for (uint64_t i = old; i < want; i++)
        t->elems[i] = init;
    t->size = (uint32_t)want;
    return old;
}

static void free_table(void *p) { wa_table_destroy(p); }

wa_table *wa_table_new(wa_store *s, wa_valtype elemtype, wa_lim lim)
{
    if (!s || (elemtype != WA_FUNCREF && elemtype != WA_EXTERNREF) ||
        (lim.has_max && lim.max < lim.min))
        return NULL;
    uint32_t cap = s->lim.max_table_elems;
    uint32_t max = lim.has_max && lim.max < cap ? lim.max : cap;
    wa_table *t = wa_table_create((uint8_t)elemtype, lim.min, max);
    if (!t)
        return NULL;
    t->has_max = lim.has_max;
    t->decl_max = lim.has_max ? lim.max : 0;
    if (!wa_store_track(s, free_table, t))
        return NULL;
    return t;
}

uint32_t wa_table_size(const wa_table *t) { return t->size; }
