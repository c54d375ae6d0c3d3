/* wasi_fd.c — WASI file descriptors for a guest that has only stdio: fd 0 reads end of file,
 * fd 1 and 2 write to the context's sink, and no other descriptor exists (no preopens), so every
 * path_* call fails before any host file is named. The WASI spec's fd_close on stdio would close
 * it; here it succeeds and changes nothing: a context is shared by instances and the sink may be
 * the server's log. */
#include "wasi_impl.h"

#include <errno.h>
#include <unistd.h>

#define WASI_IOVEC_SIZE 8    /* { u32 buf, u32 buf_len } */
#define WASI_GATHER_MAX 4096 /* iovecs up to this total reach the sink in one call */

static bool is_stdio(uint32_t fd)
{
    return fd <= 2;
}

/* The default sink: the process's own fd 1 and 2, through short writes and signals. Output that
 * the process cannot write (a closed pipe) is dropped: the guest is not told, as with a log. */
static void write_stdio(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return;
        p += k;
        n -= (size_t)k;
    }
}

static void sink(const ap_wasi *w, int fd, const uint8_t *p, size_t n)
{
    if (w->write)
        w->write(w->write_user, fd, p, n);
    else
        write_stdio(fd, p, n);
}

/* fd_write(fd, iovs, iovs_len, nwritten) — every iovec is checked before anything is written, so
 * a bad one writes nothing. */
WASI_FN(ap_wasi__fd_write)
{
    const ap_wasi *w = user;
    uint32_t fd = slots[0].i32, iovs_ptr = slots[1].i32, iovs_len = slots[2].i32;
    uint32_t nwritten_ptr = slots[3].i32;
    if (fd != 1 && fd != 2) {
        slots[0].i32 = WASI_EBADF;
        return WA_OK;
    }
    const uint8_t *iovs = wasi_span(caller, iovs_ptr, (uint64_t)iovs_len * WASI_IOVEC_SIZE);
    uint8_t *nwritten = wasi_span(caller, nwritten_ptr, 4);
    if (!iovs || !nwritten) {
        slots[0].i32 = WASI_EFAULT;
        return WA_OK;
    }
    uint64_t total = 0;
    uint32_t nonempty = 0;
    for (uint32_t i = 0; i < iovs_len; i++) {
        const uint8_t *iov = iovs + (size_t)i * WASI_IOVEC_SIZE;
        uint32_t len = wasi_get_u32(iov + 4);
        if (!wasi_span(caller, wasi_get_u32(iov), len)) {
            slots[0].i32 = WASI_EFAULT;
            return WA_OK;
        }
        total += len;
        nonempty += len != 0;
    }
    /* The count goes back in a u32: refuse a total it cannot hold (writev's EINVAL). */
    if (total > UINT32_MAX) {
        slots[0].i32 = WASI_EINVAL;
        return WA_OK;
    }
    if (nonempty > 1 && total <= WASI_GATHER_MAX) {
        uint8_t buf[WASI_GATHER_MAX];
        size_t off = 0;
        for (uint32_t i = 0; i < iovs_len; i++) {
            const uint8_t *iov = iovs + (size_t)i * WASI_IOVEC_SIZE;
            uint32_t len = wasi_get_u32(iov + 4);
            memcpy(buf + off, wasi_span(caller, wasi_get_u32(iov), len), len);
            off += len;
        }
        sink(w, (int)fd, buf, off);
    } else {
        for (uint32_t i = 0; i < iovs_len; i++) {
            const uint8_t *iov = iovs + (size_t)i * WASI_IOVEC_SIZE;
            uint32_t len = wasi_get_u32(iov + 4);
            if (len)
                sink(w, (int)fd, wasi_span(caller, wasi_get_u32(iov), len), len);
        }
    }
    wasi_put_u32(nwritten, (uint32_t)total);
    slots[0].i32 = WASI_ESUCCESS;
    return WA_OK;
}

/* fd_read(fd, iovs, iovs_len, nread) — stdin is empty: end of file at once. */
WASI_FN(ap_wasi__fd_read)
{
    uint32_t fd = slots[0].i32, iovs_ptr = slots[1].i32, iovs_len = slots[2].i32;
    uint32_t nread_ptr = slots[3].i32;
    if (fd != 0) {
        slots[0].i32 = WASI_EBADF;
        return WA_OK;
    }
    uint8_t *nread = wasi_span(caller, nread_ptr, 4);
    const uint8_t *iovs = wasi_span(caller, iovs_ptr, (uint64_t)iovs_len * WASI_IOVEC_SIZE);
    if (!iovs || !nread) {
        slots[0].i32 = WASI_EFAULT;
        return WA_OK;
    }
    for (uint32_t i = 0; i < iovs_len; i++) {
        const uint8_t *iov = iovs + (size_t)i * WASI_IOVEC_SIZE;
        if (!wasi_span(caller, wasi_get_u32(iov), wasi_get_u32(iov + 4))) {
            slots[0].i32 = WASI_EFAULT;
            return WA_OK;
        }
    }
    wasi_put_u32(nread, 0);
    slots[0].i32 = WASI_ESUCCESS;
    return WA_OK;
}

WASI_FN(ap_wasi__fd_close)
{
    slots[0].i32 = is_stdio(slots[0].i32) ? WASI_ESUCCESS : WASI_EBADF;
    return WA_OK;
}

/* fd_seek(fd, offset, whence, newoffset): stdio is a stream. */
WASI_FN(ap_wasi__fd_seek)
{
    slots[0].i32 = is_stdio(slots[0].i32) ? WASI_ESPIPE : WASI_EBADF;
    return WA_OK;
}

WASI_FN(ap_wasi__fd_tell)
{
    slots[0].i32 = is_stdio(slots[0].i32) ? WASI_ESPIPE : WASI_EBADF;
    return WA_OK;
}

/* fd_fdstat_get(fd, fdstat) — stdio is a character device without seek/tell rights, which is
 * what wasi-libc's isatty() looks for (stdout is then line-buffered, as on a terminal). */
WASI_FN(ap_wasi__fd_fdstat_get)
{
    uint32_t fd = slots[0].i32;
    if (!is_stdio(fd)) {
        slots[0].i32 = WASI_EBADF;
        return WA_OK;
    }
    uint8_t *st = wasi_span(caller, slots[1].i32, 24);
    if (!st) {
        slots[0].i32 = WASI_EFAULT;
        return WA_OK;
    }
    uint64_t rights = WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_FILESTAT_GET |
                      WASI_RIGHT_POLL_FD_READWRITE |
                      (fd == 0 ? WASI_RIGHT_FD_READ : WASI_RIGHT_FD_WRITE);
    memset(st, 0, 24);
    st[0] = WASI_FILETYPE_CHARACTER_DEVICE; /* fs_filetype */
    wasi_put_u16(st + 2, 0);                /* fs_flags */
    wasi_put_u64(st + 8, rights);           /* fs_rights_base */
    wasi_put_u64(st + 16, 0);               /* fs_rights_inheriting */
    slots[0].i32 = WASI_ESUCCESS;
    return WA_OK;
}

/* fd_fdstat_set_flags(fd, flags): stdio keeps its flags; clearing them all is a no-op. */
WASI_FN(ap_wasi__fd_fdstat_set_flags)
{
    if (!is_stdio(slots[0].i32))
        slots[0].i32 = WASI_EBADF;
    else
        slots[0].i32 = (slots[1].i32 & 0xffff) == 0 ? WASI_ESUCCESS : WASI_ENOTSUP;
    return WA_OK;
}

/* fd_filestat_get(fd, filestat): a character device, every other field zero. The preview1
 * filestat is 64 bytes (nlink u64 at 24); snapshot 0's is 56 (nlink u32 at 20). */
static uint32_t filestat(wa_instance *caller, uint32_t fd, uint32_t ptr, uint32_t size)
{
    if (!is_stdio(fd))
        return WASI_EBADF;
    uint8_t *st = wasi_span(caller, ptr, size);
    if (!st)
        return WASI_EFAULT;
    memset(st, 0, size);
    st[16] = WASI_FILETYPE_CHARACTER_DEVICE;
    return WASI_ESUCCESS;
}

WASI_FN(ap_wasi__fd_filestat_get)
{
    slots[0].i32 = filestat(caller, slots[0].i32, slots[1].i32, 64);
    return WA_OK;
}

WASI_FN(ap_wasi__fd_filestat_get_unstable)
{
    slots[0].i32 = filestat(caller, slots[0].i32, slots[1].i32, 56);
    return WA_OK;
}

/* No preopened directories: wasi-libc's start-up scan from fd 3 stops at the first EBADF. */
WASI_FN(ap_wasi__fd_prestat_get)
{
    slots[0].i32 = WASI_EBADF;
    return WA_OK;
}

WASI_FN(ap_wasi__fd_prestat_dir_name)
{
    slots[0].i32 = WASI_EBADF;
    return WA_OK;
}

WASI_FN(ap_wasi__fd_other)
{
    slots[0].i32 = is_stdio(slots[0].i32) ? WASI_ENOSYS : WASI_EBADF;
    return WA_OK;
}

/* A path is resolved against a directory fd; stdio is none the guest may use, others do not
 * exist. */
static uint32_t path_answer(uint32_t dirfd)
{
    return is_stdio(dirfd) ? WASI_ENOTCAPABLE : WASI_EBADF;
}

WASI_FN(ap_wasi__path_fd0)
{
    slots[0].i32 = path_answer(slots[0].i32);
    return WA_OK;
}

/* path_symlink(old_path, old_path_len, fd, new_path, new_path_len) */
WASI_FN(ap_wasi__path_symlink)
{
    slots[0].i32 = path_answer(slots[2].i32);
    return WA_OK;
}
