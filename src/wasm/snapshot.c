/* snapshot.c — copy-on-write snapshots of an instance (wa_instance_snapshot/_reset): the state right
 * after start-up, restored before the next invocation in microseconds, without re-running it.
 *
 * Memory: the snapshot's bytes go into an anonymous in-memory file (memfd) that is mapped
 * MAP_PRIVATE|MAP_FIXED over [base, base + size) of the memory's reservation. Guest writes then
 * land on private copies of the touched pages. A reset restores those, one of two ways:
 *   - "written" (Linux ≥ 6.7, dirty.h): the range is write-protected through a userfaultfd in
 *     asynchronous mode, so the kernel marks each page the guest (or the host, or a system call)
 *     writes; one PAGEMAP_SCAN lists them, they are copied back from a read-only view of the
 *     file (or zeroed, where the snapshot's page was zero) and protected again, except hot pages
 *     (HOT_MAX below). Pages only read stay mapped, so the next invocation does not fault them
 *     in again.
 *   - "madvise", where userfaultfd or PAGEMAP_SCAN is refused (older kernel, seccomp,
 *     vm.unprivileged_userfaultfd) or APRON_SNAPSHOT_RESET=madvise: one madvise(MADV_DONTNEED)
 *     over the range drops the private copies (the kernel walks only the populated page tables),
 *     and every page touched next time, read or written, is faulted in again.
 * Pages grown since the snapshot belong to the anonymous part of the reservation: they are
 * dropped (zero on the next grow) and made PROT_NONE again, because with guard pages (guard.h)
 * the interpreter relies on the fault. Where memfd_create is refused, a heap copy is memcpy'd
 * back instead ("copy": correct, slower).
 *
 * bench/reset.c measures both methods side by side; the figures, and the HTTP throughput each
 * gives, are in the README (Performance → Isolation and limits).
 *
 * Globals and tables defined by the module are copied back, and element/data segments dropped
 * since the snapshot come back. State the instance shares with others (an imported memory, table
 * or mutable global) cannot be restored without touching the others, so such an instance cannot
 * be snapshotted. */
#define _GNU_SOURCE /* memfd_create */
#include "dirty.h"
#include "runtime.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define WA_PAGE ((uint64_t)65536)
#define OS_PAGE 4096u
/* "written" keeps pages that every invocation writes (the stack's top, the allocator's header)
 * unprotected: re-protecting costs a TLB flush per reset and the next write a fault, while
 * copying 4 KiB back costs ~0.1 µs. A page written at two resets in a row becomes such a hot page,
 * up to HOT_MAX of them; every DEMOTE_EVERY resets they are all protected again, so pages no
 * longer written stop being copied. Correctness does not depend on any of this: every page not
 * protected is reported by the scan and copied back. */
#define HOT_MAX 16
#define LAST_MAX 32
#define DEMOTE_EVERY 256

struct wa_snapshot {
    uint64_t mem_size;
    uint32_t mem_pages;
    wa_reset_method method;
    const uint8_t *src; /* WRITTEN: a read-only shared view of the snapshot file */
    uint64_t *zero;     /* WRITTEN: a bit per 4 KiB page, set where the snapshot's page is zero */
    uint8_t *mem_copy;  /* COPY: the bytes to copy back */
    size_t restored;    /* WRITTEN: 4 KiB pages the last reset copied back */
    uint64_t *hot;      /* WRITTEN: a bit per page left unprotected (see HOT_MAX) */
    uint32_t hot_list[HOT_MAX], nhot;
    uint32_t last[LAST_MAX], nlast; /* pages newly written at the previous reset */
    uint32_t resets;
    wa_slot (*globals)[2]; /* defined globals, from nglobal_imports */
    uint32_t *table_size;  /* defined tables, from ntable_imports */
    void ***table_elems;
    uint32_t *elem_count;  /* [nelems] */
    void ***elem_refs;     /* [nelems], copies of the segments not yet dropped */
    uint8_t *data_dropped; /* [ndatas] */
    uint32_t ntables, nelems;
};

void wa__snapshot_free(wa_snapshot *s)
{
    if (!s)
        return;
    for (uint32_t i = 0; s->table_elems && i < s->ntables; i++)
        free(s->table_elems[i]);
    for (uint32_t i = 0; s->elem_refs && i < s->nelems; i++)
        free(s->elem_refs[i]);
    if (s->src)
        munmap((void *)s->src, (size_t)s->mem_size);
    free(s->zero);
    free(s->hot);
    free(s->mem_copy);
    free(s->globals);
    free(s->table_size);
    free(s->table_elems);
    free(s->elem_count);
    free(s->elem_refs);
    free(s->data_dropped);
    free(s);
}

static void **dup_refs(void *const *src, uint32_t n)
{
    void **p = malloc((n ? n : 1) * sizeof *p);
    if (p && n)
        memcpy(p, src, (size_t)n * sizeof *p);
    return p;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    const uint64_t *w = (const uint64_t *)p;
    for (size_t i = 0; i < n / 8; i++)
        if (w[i])
            return false;
    return true;
}

/* Writes the memory's non-zero 4 KiB pages into a memfd and maps it over the memory; then, if
 * track, starts write tracking (method WRITTEN), else or where that is refused method MADVISE.
 * False if memfd is unavailable or a mapping failed; the memory is unchanged then. */
static bool map_cow(wa_memory *m, wa_snapshot *s, bool track)
{
    size_t npages = (size_t)(m->size / OS_PAGE);
    uint64_t *zero = calloc((npages + 63) / 64, sizeof *zero);
    uint64_t *hot = track ? calloc((npages + 63) / 64, sizeof *hot) : NULL;
    int fd = zero && (hot || !track) ? memfd_create("apron-snapshot", MFD_CLOEXEC) : -1;
    if (fd < 0) {
        free(zero);
        free(hot);
        return false;
    }
    bool ok = ftruncate(fd, (off_t)m->size) == 0;
    /* The file starts as zeros: only pages with data are written, so an untouched heap costs
     * neither time nor page cache. */
    for (size_t pg = 0; pg < npages; pg++)
        if (all_zero(m->base + pg * OS_PAGE, OS_PAGE))
            zero[pg / 64] |= (uint64_t)1 << pg % 64;
    for (size_t pg = 0; ok && pg < npages; pg++) {
        if (zero[pg / 64] >> pg % 64 & 1)
            continue;
        size_t end = pg + 1;
        while (end < npages && !(zero[end / 64] >> end % 64 & 1))
            end++;
        for (uint64_t done = pg * OS_PAGE; ok && done < end * OS_PAGE;) {
            ssize_t n = pwrite(fd, m->base + done, (size_t)(end * OS_PAGE - done), (off_t)done);
            if (n < 0 && errno == EINTR)
                continue;
            ok = n > 0;
            if (ok)
                done += (uint64_t)n;
        }
        pg = end - 1;
    }
    void *src = MAP_FAILED;
    if (ok && track)
        src = mmap(NULL, (size_t)m->size, PROT_READ, MAP_SHARED, fd, 0);
    if (ok)
        ok = mmap(m->base, (size_t)m->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd,
                  0) != MAP_FAILED;
    close(fd); /* the mappings keep the file */
    if (ok && src != MAP_FAILED && wa_dirty_track(m->base, (size_t)m->size)) {
        s->method = WA_RESET_WRITTEN;
        s->src = src;
        s->zero = zero;
        s->hot = hot;
        return true;
    }
    if (src != MAP_FAILED)
        munmap(src, (size_t)m->size);
    free(zero);
    free(hot);
    s->method = WA_RESET_MADVISE;
    return ok;
}

static bool shares_state(const wa_module *m)
{
    if (m->ntable_imports || m->nmem_imports)
        return true;
    for (uint32_t i = 0; i < m->nglobal_imports; i++)
        if (m->globals[i].mut)
            return true;
    return false;
}

wa_status wa_instance_snapshot(wa_instance *in, wa_error *err)
{
    const wa_module *m = in->module;
    if (shares_state(m))
        return wa_err(err, WA_EINVALID, UINT32_MAX,
                      "cannot snapshot an instance that imports a memory, table or mutable global");
    wa_snapshot *s = calloc(1, sizeof *s);
    if (!s)
        goto nomem;
    uint32_t ng = m->nglobals - m->nglobal_imports, nt = m->ntables - m->ntable_imports;
    s->ntables = nt;
    s->nelems = m->nelems;
    if ((ng && !(s->globals = calloc(ng, sizeof *s->globals))) ||
        (nt && !(s->table_size = calloc(nt, sizeof *s->table_size))) ||
        (nt && !(s->table_elems = calloc(nt, sizeof *s->table_elems))) ||
        (m->nelems && !(s->elem_count = calloc(m->nelems, sizeof *s->elem_count))) ||
        (m->nelems && !(s->elem_refs = calloc(m->nelems, sizeof *s->elem_refs))) ||
        (m->ndatas && !(s->data_dropped = malloc(m->ndatas))))
        goto nomem;
    for (uint32_t i = 0; i < ng; i++)
        memcpy(s->globals[i], in->globals[m->nglobal_imports + i]->val, sizeof s->globals[i]);
    for (uint32_t i = 0; i < nt; i++) {
        const wa_table *t = in->tables[m->ntable_imports + i];
        s->table_size[i] = t->size;
        if (!(s->table_elems[i] = dup_refs(t->elems, t->size)))
            goto nomem;
    }
    for (uint32_t i = 0; i < m->nelems; i++) {
        s->elem_count[i] = in->elem_count[i];
        if (in->elem_count[i] && !(s->elem_refs[i] = dup_refs(in->elem_refs[i], in->elem_count[i])))
            goto nomem;
    }
    if (m->ndatas)
        memcpy(s->data_dropped, in->data_dropped, m->ndatas);

    wa_memory *mem = in->mem;
    if (mem) {
        s->mem_size = mem->size;
        s->mem_pages = mem->pages;
        const char *want = getenv("APRON_SNAPSHOT_RESET");
        bool track = !want || strcmp(want, "madvise") != 0;
        /* A second snapshot of an already mapped memory maps a new file over the old one (and
         * the old registration goes with the old mapping). */
        if (mem->size && !map_cow(mem, s, track)) {
            s->method = WA_RESET_COPY;
            if (!(s->mem_copy = malloc((size_t)mem->size)))
                goto nomem;
            memcpy(s->mem_copy, mem->base, (size_t)mem->size);
        }
    }
    wa__snapshot_free(in->snap);
    in->snap = s;
    return WA_OK;
nomem:
    wa__snapshot_free(s);
    return wa_err(err, WA_ENOMEM, UINT32_MAX, "out of memory");
}

#define BIT(map, pg) ((map)[(pg) / 64] >> (pg) % 64 & 1)

typedef struct {
    uint8_t *base;
    wa_snapshot *s;
    uint32_t fresh[LAST_MAX], nfresh; /* pages newly written now: next reset's `last` */
    size_t lo, hi;                    /* the span to protect again, byte offsets */
    size_t pages;
} restore_ctx;

static bool in_last(const wa_snapshot *s, uint32_t pg)
{
    for (uint32_t i = 0; i < s->nlast; i++)
        if (s->last[i] == pg)
            return true;
    return false;
}

static void restore_run(void *ctx, size_t off, size_t len)
{
    restore_ctx *c = ctx;
    wa_snapshot *s = c->s;
    for (size_t o = off; o < off + len; o += OS_PAGE) {
        uint32_t pg = (uint32_t)(o / OS_PAGE);
        if (BIT(s->zero, pg))
            memset(c->base + o, 0, OS_PAGE);
        else
            memcpy(c->base + o, s->src + o, OS_PAGE);
        c->pages++;
        if (BIT(s->hot, pg))
            continue;
        if (s->nhot < HOT_MAX && in_last(s, pg)) {
            s->hot[pg / 64] |= (uint64_t)1 << pg % 64;
            s->hot_list[s->nhot++] = pg;
            continue;
        }
        if (c->nfresh < LAST_MAX)
            c->fresh[c->nfresh++] = pg;
        if (o < c->lo)
            c->lo = o;
        if (o + OS_PAGE > c->hi)
            c->hi = o + OS_PAGE;
    }
}

/* Method WRITTEN: copies back every page not write-protected, then protects the newly written
 * ones (and, now and then, the hot ones: HOT_MAX). False if the kernel refused. */
static bool restore_written(wa_memory *mem, wa_snapshot *s)
{
    restore_ctx c = {.base = mem->base, .s = s, .lo = SIZE_MAX, .hi = 0};
    if (!wa_dirty_written(mem->base, (size_t)s->mem_size, restore_run, &c))
        return false;
    s->restored = c.pages;
    memcpy(s->last, c.fresh, c.nfresh * sizeof *c.fresh);
    s->nlast = c.nfresh;
    bool demote = ++s->resets % DEMOTE_EVERY == 0;
    for (uint32_t i = 0; demote && i < s->nhot; i++) {
        size_t o = (size_t)s->hot_list[i] * OS_PAGE;
        if (o < c.lo)
            c.lo = o;
        if (o + OS_PAGE > c.hi)
            c.hi = o + OS_PAGE;
    }
    if (c.lo >= c.hi)
        return true;
    if (!wa_dirty_protect(mem->base + c.lo, c.hi - c.lo))
        return false;
    /* Hot pages inside the span were protected too: they are tracked again. */
    for (uint32_t i = 0; i < s->nhot;) {
        size_t o = (size_t)s->hot_list[i] * OS_PAGE;
        if (o >= c.lo && o < c.hi) {
            s->hot[s->hot_list[i] / 64] &= ~((uint64_t)1 << s->hot_list[i] % 64);
            s->hot_list[i] = s->hot_list[--s->nhot];
        } else {
            i++;
        }
    }
    return true;
}

static bool reset_memory(wa_memory *mem, wa_snapshot *s)
{
    if (mem->size > s->mem_size) {
        /* Grown since: give the pages back and make them inaccessible again. */
        uint8_t *p = mem->base + s->mem_size;
        size_t n = (size_t)(mem->size - s->mem_size);
        if (madvise(p, n, MADV_DONTNEED) != 0 || mprotect(p, n, PROT_NONE) != 0)
            return false;
        mem->size = s->mem_size;
        mem->pages = s->mem_pages;
    }
    switch (s->method) {
    case WA_RESET_NONE:
        return true;
    case WA_RESET_COPY:
        memcpy(mem->base, s->mem_copy, (size_t)s->mem_size);
        return true;
    case WA_RESET_WRITTEN:
        if (restore_written(mem, s))
            return true;
        /* The kernel refused after all: drop every private page from now on. */
        s->method = WA_RESET_MADVISE;
        s->restored = 0;
        /* fall through */
    case WA_RESET_MADVISE:
        return madvise(mem->base, (size_t)s->mem_size, MADV_DONTNEED) == 0;
    }
    return false;
}

wa_status wa_instance_reset(wa_instance *in)
{
    wa_snapshot *s = in->snap;
    if (!s)
        return WA_ENOTFOUND;
    const wa_module *m = in->module;
    if (in->mem && !reset_memory(in->mem, s))
        return WA_ENOMEM;
    for (uint32_t i = 0, n = m->nglobals - m->nglobal_imports; i < n; i++)
        memcpy(in->globals[m->nglobal_imports + i]->val, s->globals[i], sizeof s->globals[i]);
    for (uint32_t i = 0, n = m->ntables - m->ntable_imports; i < n; i++) {
        wa_table *t = in->tables[m->ntable_imports + i];
        /* Tables only grow, so the array still holds the snapshot's size. */
        t->size = s->table_size[i];
        if (t->size)
            memcpy(t->elems, s->table_elems[i], (size_t)t->size * sizeof *t->elems);
    }
    for (uint32_t i = 0; i < m->nelems; i++) {
        if (in->elem_count[i] == s->elem_count[i])
            continue; /* segments are immutable: same count, same references */
        free(in->elem_refs[i]);
        in->elem_refs[i] = NULL;
        in->elem_count[i] = 0;
        if (s->elem_count[i]) {
            if (!(in->elem_refs[i] = dup_refs(s->elem_refs[i], s->elem_count[i])))
                return WA_ENOMEM;
            in->elem_count[i] = s->elem_count[i];
        }
    }
    if (m->ndatas)
        memcpy(in->data_dropped, s->data_dropped, m->ndatas);
    return WA_OK;
}

const char *wa_instance_reset_method(const wa_instance *in)
{
    static const char *const names[] = {
        [WA_RESET_NONE] = "none",
        [WA_RESET_WRITTEN] = "written",
        [WA_RESET_MADVISE] = "madvise",
        [WA_RESET_COPY] = "copy",
    };
    return in && in->snap ? names[in->snap->method] : NULL;
}

size_t wa__snapshot_restored(const wa_instance *in) { return in->snap ? in->snap->restored : 0; }
