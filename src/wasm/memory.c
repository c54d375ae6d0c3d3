/* memory.c — linear memories: address-space reservation, growth, and the host's views of guest
 * memory. Created by instance.c (defined memories) and wa_memory_new (host memories); the
 * interpreter reads base/size directly.
 *
 * The reservation is fixed at creation so `base` never moves: pages past `size` stay PROT_NONE and
 * growth only changes protection, so new pages arrive zeroed from the kernel. Normally 8 GiB plus a
 * page are reserved, whatever the maximum: a 32-bit address plus a 32-bit offset plus an access of
 * up to 16 bytes then always lands inside the reservation, which lets a later interpreter rely on
 * the fault instead of a bounds check. Where that much address space is refused (ulimit -v), only
 * the maximum (or less, see wa_memory_create) is reserved and every access must be bounds checked
 * (the interpreter does so anyway). */
#include "guard.h"
#include "runtime.h"

#include <stdlib.h>
#include <sys/mman.h>

#define WA_PAGE ((uint64_t)65536)
#define WA_MAX_PAGES 65536u

/* Address + offset (both < 4 GiB) + the widest access. */
#define WA_GUARDED_RESERVE ((uint64_t)8 << 30 | WA_PAGE)

static void *reserve(uint64_t bytes)
{
    if (bytes > SIZE_MAX)
        return NULL;
    void *p =
        mmap(NULL, (size_t)bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

wa_memory *wa_memory_create(uint32_t min_pages, uint32_t max_pages)
{
    if (max_pages > WA_MAX_PAGES)
        max_pages = WA_MAX_PAGES;
    if (min_pages > max_pages)
        return NULL;
    wa_memory *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    uint64_t want = WA_GUARDED_RESERVE;
    m->base = reserve(want);
    /* With guard pages the interpreter does not check bounds: only the full reservation will do
     * (guard.h). */
    if (!m->base && !WA_GUARD_PAGES) {
        /* Then the maximum, then halves of it down to the minimum: memory.grow may fail short of
         * the maximum (the spec allows it), while instantiation needs only the minimum. At least
         * one page is reserved, so that even a zero-page memory has a distinct non-NULL base. */
        uint64_t floor = min_pages ? min_pages * WA_PAGE : WA_PAGE;
        want = max_pages ? max_pages * WA_PAGE : WA_PAGE;
        while (!(m->base = reserve(want)) && want > floor) {
            want = want / 2 & ~(WA_PAGE - 1);
            if (want < floor)
                want = floor;
        }
    }
    if (!m->base) {
        free(m);
        return NULL;
    }
    m->reserved = (size_t)want;
    m->max_pages = max_pages;
    m->has_max = true;
    m->decl_max = max_pages;
    if (wa_memory_grow_pages(m, min_pages) < 0) {
        wa_memory_destroy(m);
        return NULL;
    }
    return m;
}

void wa_memory_destroy(wa_memory *m)
{
    if (!m)
        return;
    if (m->base)
        munmap(m->base, m->reserved);
    free(m);
}

int64_t wa_memory_grow_pages(wa_memory *m, uint32_t delta)
{
    uint32_t old = m->pages;
    uint64_t pages = (uint64_t)old + delta;
    if (pages > m->max_pages)
        return -1;
    if (delta == 0)
        return old;
    uint64_t bytes = pages * WA_PAGE;
    if (bytes > m->reserved)
        return -1;
    /* Commit only the new range: an mprotect over the old pages would be harmless but slower. */
    if (mprotect(m->base + m->size, (size_t)(bytes - m->size), PROT_READ | PROT_WRITE) != 0)
        return -1;
    m->pages = (uint32_t)pages;
    m->size = bytes;
    return old;
}

/* ---- Public API ---- */

static void free_memory(void *p) { wa_memory_destroy(p); }

wa_memory *wa_memory_new(wa_store *s, wa_lim lim)
{
    if (!s || lim.min > WA_MAX_PAGES ||
        (lim.has_max && (lim.max < lim.min || lim.max > WA_MAX_PAGES)))
        return NULL;
    uint32_t cap = s->lim.max_memory_pages;
    uint32_t max = lim.has_max && lim.max < cap ? lim.max : cap;
    wa_memory *m = wa_memory_create(lim.min, max);
    if (!m)
        return NULL;
    m->has_max = lim.has_max;
    m->decl_max = lim.has_max ? lim.max : 0;
    if (!wa_store_track(s, free_memory, m))
        return NULL;
    return m;
}

wa_memory *wa_instance_memory(const wa_instance *in) { return in ? in->mem : NULL; }

uint8_t *wa_memory_data(const wa_memory *mem) { return mem->base; }

uint64_t wa_memory_size(const wa_memory *mem) { return mem->size; }

int64_t wa_memory_grow(wa_memory *mem, uint32_t delta) { return wa_memory_grow_pages(mem, delta); }

uint8_t *wa_memory_span(wa_instance *in, uint32_t ptr, uint32_t len)
{
    const wa_memory *m = in ? in->mem : NULL;
    if (!m || (uint64_t)ptr + len > m->size)
        return NULL;
    return m->base + ptr;
}
