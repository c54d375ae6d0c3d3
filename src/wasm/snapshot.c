/* snapshot.c — copy-on-write snapshots of an instance (wa_instance_snapshot/_reset): the state right
 * after start-up, restored before the next invocation in microseconds, without re-running it.
 *
 * Memory: the snapshot's bytes go into an anonymous in-memory file (memfd) that is mapped
 * MAP_PRIVATE|MAP_FIXED over [base, base + size) of the memory's reservation. Guest writes then
 * land on private copies of the touched pages; a reset is one madvise(MADV_DONTNEED) over that
 * range, which drops exactly those private copies (the kernel walks only the populated page
 * tables) so the next access reads the snapshot's page again. Pages grown since the snapshot
 * belong to the anonymous part of the reservation: they are dropped (zero on the next grow) and
 * made PROT_NONE again, because with guard pages (guard.h) the interpreter relies on the fault.
 * Where memfd_create is refused, a heap copy is memcpy'd back instead (correct, slower).
 *
 * Measured by bench/reset.c on 1 MiB with 4 dirty pages (a 2-vCPU nested VM where a syscall
 * costs ~190 ns): madvise 2.8 µs, a MAP_FIXED remap of the same range 4.2 µs (it rebuilds the
 * mapping too), a memcpy of the whole memory 23 µs; with no dirty page the reset is ~0.4 µs.
 *
 * Globals and tables defined by the module are copied back, and element/data segments dropped
 * since the snapshot come back. State the instance shares with others (an imported memory, table
 * or mutable global) cannot be restored without touching the others, so such an instance cannot
 * be snapshotted. */
#define _GNU_SOURCE /* memfd_create */
#include "runtime.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define WA_PAGE ((uint64_t)65536)

struct wa_snapshot {
    uint64_t mem_size;
    uint32_t mem_pages;
    bool mem_cow;       /* [base, base + mem_size) is a private mapping of the snapshot file */
    uint8_t *mem_copy;  /* without memfd: the bytes to copy back */
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

/* Writes the memory's non-zero 4 KiB pages into a memfd and maps it over the memory. False if
 * memfd is unavailable; the memory is unchanged then. */
static bool map_cow(wa_memory *m)
{
    int fd = memfd_create("apron-snapshot", MFD_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = ftruncate(fd, (off_t)m->size) == 0;
    /* The file starts as zeros: only pages with data are written, so an untouched heap costs
     * neither time nor page cache. */
    const size_t page = 4096;
    for (uint64_t off = 0; ok && off < m->size; off += page) {
        if (all_zero(m->base + off, page))
            continue;
        uint64_t end = off + page;
        while (end < m->size && !all_zero(m->base + end, page))
            end += page;
        for (uint64_t done = off; ok && done < end;) {
            ssize_t n = pwrite(fd, m->base + done, (size_t)(end - done), (off_t)done);
            if (n < 0 && errno == EINTR)
                continue;
            ok = n > 0;
            if (ok)
                done += (uint64_t)n;
        }
        off = end - page;
    }
    if (ok)
        ok = mmap(m->base, (size_t)m->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd,
                  0) != MAP_FAILED;
    close(fd); /* the mapping keeps the file */
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
        /* A second snapshot of an already mapped memory maps a new file over the old one. */
        s->mem_cow = mem->size == 0 || map_cow(mem);
        if (!s->mem_cow) {
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

static bool reset_memory(wa_memory *mem, const wa_snapshot *s)
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
    if (s->mem_copy) {
        memcpy(mem->base, s->mem_copy, (size_t)s->mem_size);
        return true;
    }
    return s->mem_size == 0 || madvise(mem->base, (size_t)s->mem_size, MADV_DONTNEED) == 0;
}

wa_status wa_instance_reset(wa_instance *in)
{
    const wa_snapshot *s = in->snap;
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
