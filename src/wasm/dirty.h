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

/* Restores a run of written pages, [off, off + len) of the range (page aligned). */
typedef void wa_dirty_fn(void *ctx, size_t off, size_t len);

/* For a tracked range: calls restore for every run of pages written since the last call (or
 * wa_dirty_track), then write-protects those pages again. *pages gets the number of 4 KiB pages
 * restored. False if the kernel refused (the range may be partly restored: the caller must
 * restore it another way). Not while another thread writes to the range. */
bool wa_dirty_restore(uint8_t *p, size_t n, wa_dirty_fn *restore, void *ctx, size_t *pages);

#endif
