/* dirty.c — write tracking for dirty.h: one userfaultfd in asynchronous write-protect mode and one
 * descriptor of /proc/self/pagemap for the whole process, opened on first use and kept open (a
 * registration lives as long as both the range and the userfaultfd; an unmapped range drops its
 * own). The constants of Linux 6.7's PAGEMAP_SCAN and UFFD_FEATURE_WP_ASYNC are spelled out below
 * where the C library's headers predate them: they are kernel ABI and do not change.
 *
 * Restoring takes two PAGEMAP_SCANs: wa_dirty_written lists the written runs (a written page is
 * present and has lost its write-protect bit) for the caller to copy back, then wa_dirty_protect
 * (PM_SCAN_WP_MATCHING) protects them again. One scan with PM_SCAN_WP_MATCHING would protect
 * before the copy, and the copy, a write, would then fault on every page and mark it written
 * again. UFFDIO_WRITEPROTECT instead of the second scan is correct too but measured 2-8x slower
 * here (it changes every entry of the range, written or not).
 */
#define _GNU_SOURCE /* syscall */
#include "dirty.h"

#if defined(__linux__)
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

#ifndef PAGEMAP_SCAN
#define PAGE_IS_WRITTEN (1 << 1)
#define PM_SCAN_WP_MATCHING (1 << 0)
#define PM_SCAN_CHECK_WPASYNC (1 << 1)
struct page_region {
    uint64_t start, end, categories;
};
struct pm_scan_arg {
    uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
    uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#endif

#define PAGE 4096u

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int uffd = -1, pagemap = -1;

static void open_fds(void)
{
#ifdef SYS_userfaultfd
    /* User-mode-only is all an unprivileged process may ask for under
     * vm.unprivileged_userfaultfd=0, and all asynchronous write-protection needs: its faults are
     * resolved in the kernel whoever caused them. */
    int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
    if (fd < 0)
        fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return;
    struct uffdio_api api = {.api = UFFD_API,
                             .features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED};
    if (ioctl(fd, UFFDIO_API, &api) != 0 || !(api.features & UFFD_FEATURE_WP_ASYNC)) {
        close(fd);
        return;
    }
    int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (pm < 0) {
        close(fd);
        return;
    }
    uffd = fd;
    pagemap = pm;
#endif
}

static bool protect(uint8_t *p, size_t n)
{
    struct uffdio_writeprotect wp = {
        .range = {.start = (uintptr_t)p, .len = n},
        .mode = UFFDIO_WRITEPROTECT_MODE_WP,
    };
    while (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) != 0)
        if (errno != EINTR)
            return false;
    return true;
}

/* One PAGEMAP_SCAN over [start, end): up to cap written runs into r, write-protected if wp;
 * *walk_end is where it stopped. -1 on failure. */
static int scan(uint64_t start, uint64_t end, bool wp, struct page_region *r, int cap,
                uint64_t *walk_end)
{
    struct pm_scan_arg a = {
        .size = sizeof a,
        .flags = PM_SCAN_CHECK_WPASYNC | (wp ? PM_SCAN_WP_MATCHING : 0),
        .start = start,
        .end = end,
        .vec = (uintptr_t)r,
        .vec_len = (uint64_t)cap,
        .category_mask = PAGE_IS_WRITTEN,
        .return_mask = PAGE_IS_WRITTEN,
    };
    int got;
    while ((got = ioctl(pagemap, PAGEMAP_SCAN, &a)) < 0)
        if (errno != EINTR)
            return -1;
    *walk_end = a.walk_end;
    return got;
}

bool wa_dirty_track(uint8_t *p, size_t n)
{
    pthread_once(&once, open_fds);
    if (uffd < 0 || n == 0)
        return false;
    struct uffdio_register reg = {
        .range = {.start = (uintptr_t)p, .len = n},
        .mode = UFFDIO_REGISTER_MODE_WP,
    };
    if (ioctl(uffd, UFFDIO_REGISTER, &reg) != 0)
        return false;
    /* Protect everything, and check once that the scan works here (ENOTTY before 6.7). */
    uint64_t walk_end;
    struct page_region r[1];
    if (!protect(p, n) || scan((uintptr_t)p, (uintptr_t)p + n, false, r, 1, &walk_end) < 0) {
        struct uffdio_range range = {.start = (uintptr_t)p, .len = n};
        ioctl(uffd, UFFDIO_UNREGISTER, &range);
        return false;
    }
    return true;
}

bool wa_dirty_written(uint8_t *p, size_t n, wa_dirty_fn *fn, void *ctx)
{
    enum { CAP = 32 };
    struct page_region r[CAP];
    uint64_t start = (uintptr_t)p, end = start + n;
    /* A full vector may have stopped the walk short: go on from where it stopped. */
    for (int got = CAP; got == CAP && start < end;) {
        uint64_t walk_end;
        if ((got = scan(start, end, false, r, CAP, &walk_end)) < 0)
            return false;
        for (int i = 0; i < got; i++)
            fn(ctx, (size_t)(r[i].start - (uintptr_t)p), (size_t)(r[i].end - r[i].start));
        start = walk_end > start ? walk_end : end;
    }
    return true;
}

bool wa_dirty_protect(uint8_t *p, size_t n)
{
    enum { CAP = 32 };
    struct page_region r[CAP];
    uint64_t start = (uintptr_t)p, end = start + n;
    for (int got = CAP; got == CAP && start < end;) {
        uint64_t walk_end;
        if ((got = scan(start, end, true, r, CAP, &walk_end)) < 0)
            return false;
        start = walk_end > start ? walk_end : end;
    }
    return true;
}

#else

bool wa_dirty_track(uint8_t *p, size_t n)
{
    (void)p;
    (void)n;
    return false;
}

bool wa_dirty_written(uint8_t *p, size_t n, wa_dirty_fn *fn, void *ctx)
{
    (void)p;
    (void)n;
    (void)fn;
    (void)ctx;
    return false;
}

bool wa_dirty_protect(uint8_t *p, size_t n)
{
    (void)p;
    (void)n;
    return false;
}

#endif
