/* store.c — stores: the owner of instances and host-created objects, freed all at once by
 * wa_store_free. Instances link themselves onto `instances` (instance.c); everything else a store
 * owns is on the `objs` list with its free function. */
#include "runtime.h"

#include <stdlib.h>

#define WA_DEFAULT_MEMORY_PAGES 65536u
#define WA_DEFAULT_TABLE_ELEMS 10000000u
#define WA_DEFAULT_CALL_DEPTH 10000u
#define WA_DEFAULT_STACK_SLOTS (1u << 20)

wa_store *wa_store_new(const wa_limits *lim)
{
    wa_store *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (lim)
        s->lim = *lim;
    if (!s->lim.max_memory_pages || s->lim.max_memory_pages > WA_DEFAULT_MEMORY_PAGES)
        s->lim.max_memory_pages = WA_DEFAULT_MEMORY_PAGES;
    if (!s->lim.max_table_elems)
        s->lim.max_table_elems = WA_DEFAULT_TABLE_ELEMS;
    if (!s->lim.max_call_depth)
        s->lim.max_call_depth = WA_DEFAULT_CALL_DEPTH;
    if (!s->lim.max_stack_slots)
        s->lim.max_stack_slots = WA_DEFAULT_STACK_SLOTS;
    atomic_init(&s->interrupt, 0);
    return s;
}

/* Nothing runs while a store is freed, so objects shared between instances (an exported memory
 * imported elsewhere) may go in any order. */
void wa_store_free(wa_store *s)
{
    if (!s)
        return;
    for (wa_instance *in = s->instances, *next; in; in = next) {
        next = in->next_in_store;
        wa_instance_free(in);
    }
    for (wa_store_obj *o = s->objs, *next; o; o = next) {
        next = o->next;
        o->free(o->ptr);
        free(o);
    }
    free(s);
}

bool wa_store_track(wa_store *s, void (*free_fn)(void *), void *ptr)
{
    wa_store_obj *o = malloc(sizeof *o);
    if (!o) {
        free_fn(ptr);
        return false;
    }
    o->free = free_fn;
    o->ptr = ptr;
    o->next = s->objs;
    s->objs = o;
    return true;
}

void wa_store_interrupt(wa_store *s) { atomic_store(&s->interrupt, WA_INTERRUPT_HOST); }

void wa_store_expire(wa_store *s) { atomic_store(&s->interrupt, WA_INTERRUPT_DEADLINE); }

bool wa_store_interrupted(const wa_store *s) { return atomic_load(&s->interrupt) != 0; }
