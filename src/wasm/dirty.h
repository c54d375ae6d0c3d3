/* dirty.h — which pages of a mapping were written since the last look (private to snapshot.c).
 * Linux ≥ 6.7: the range is registered with a process-wide userfaultfd in asynchronous
 * write-protect mode (UFFD_FEATURE_WP_ASYNC), so a write to a protected page is resolved by the
 * kernel itself, with no thread to answer it, and merely clears the page's write-protect bit; one
 * PAGEMAP_SCAN ioctl on /proc/self/pagemap then lists the pages whose bit is clear. Nothing else
 * changes: pages that were only read stay mapped. Where the kernel, a seccomp filter or
 * vm.unprivileged_userfaultfd refuses any of it, wa_dirty_track says so and the caller keeps its
 * own method. */
#ifndef WA_DIRTY_H
#define WA_DIRTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Starts tracking writes to [p, p + n) (page aligned; one whole mapping of a memfd or anonymous
 * memory) and write-protects it, so the first write to each page from now on is recorded. False
 * if tracking is unavailable; the range is unchanged then. Any thread. */
bool wa_dirty_track(uint8_t *p, size_t n);

/* Receives a run of written pages, [off, off + len) of the range (page aligned). */
typedef void wa_dirty_fn(void *ctx, size_t off, size_t len);

/* For a tracked range: calls fn for every run of pages that are not write-protected, i.e.
 * written since wa_dirty_track or since wa_dirty_protect last covered them. One system call for
 * up to 32 runs. False if the kernel refused. */
bool wa_dirty_written(uint8_t *p, size_t n, wa_dirty_fn *fn, void *ctx);

/* Write-protects the written pages of [p, p + n), a part of a tracked range (page aligned), so
 * that their next write is seen again. This costs a TLB flush; pages left unprotected are simply
 * reported by every wa_dirty_written. False if the kernel refused. Not while another thread
 * writes to the range. */
bool wa_dirty_protect(uint8_t *p, size_t n);

#endif
