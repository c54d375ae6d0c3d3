/* wasi_impl.h — private to src/wasi/: the context's layout, WASI's numbers, checked access to
 * guest memory, and the host functions each file of the module provides to the table in wasi.c. */
#ifndef AP_WASI_IMPL_H
#define AP_WASI_IMPL_H

#include "wasi/wasi.h"

#include <stdatomic.h>
#include <string.h>

struct ap_wasi {
    uint32_t argc, envc;
    char *args;        /* argv strings back to back, each NUL-terminated; owned */
    uint32_t args_len; /* bytes in args */
    char *env;         /* the same for the environment; owned */
    uint32_t env_len;
    ap_wasi_write_fn write;
    void *write_user;
    atomic_llong exit; /* -1: no proc_exit yet; else the code as uint32 */
};

/* WASI errno values (preview1 `errno`; wasi_unstable uses the same numbers). */
enum {
    WASI_ESUCCESS = 0,
    WASI_EAGAIN = 6,
    WASI_EBADF = 8,
    WASI_EFAULT = 21,
    WASI_EINVAL = 28,
    WASI_EIO = 29,
    WASI_ENOSYS = 52,
    WASI_ENOTSUP = 58,
    WASI_ESPIPE = 70,
    WASI_ENOTCAPABLE = 76,
};

enum { WASI_FILETYPE_CHARACTER_DEVICE = 2 };

/* rights bits used for stdio */
#define WASI_RIGHT_FD_READ ((uint64_t)1 << 1)
#define WASI_RIGHT_FD_FDSTAT_SET_FLAGS ((uint64_t)1 << 3)
#define WASI_RIGHT_FD_WRITE ((uint64_t)1 << 6)
#define WASI_RIGHT_FD_FILESTAT_GET ((uint64_t)1 << 21)
#define WASI_RIGHT_POLL_FD_READWRITE ((uint64_t)1 << 27)

/* Guest memory [ptr, ptr+len) of the caller's memory 0, or NULL (no caller, no memory, out of
 * range, len beyond 4 GiB). Valid until the guest runs again: use it, never keep it. */
static inline uint8_t *wasi_span(wa_instance *caller, uint32_t ptr, uint64_t len)
{
    if (!caller || len > UINT32_MAX)
        return NULL;
    return wa_memory_span(caller, ptr, (uint32_t)len);
}

/* Little-endian loads and stores into guest memory, whatever the host's byte order. */
static inline void wasi_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void wasi_put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void wasi_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t wasi_get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t wasi_get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static inline uint64_t wasi_get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Every host function has the engine's signature; its errno result goes to slots[0].i32. The
 * `user` pointer is the ap_wasi. Grouped by file. */
#define WASI_FN(name) wa_status name(wa_instance *caller, void *user, wa_slot *slots)

/* wasi_fd.c: stdio and the file-descriptor, path and socket functions */
WASI_FN(ap_wasi__fd_write);
WASI_FN(ap_wasi__fd_read);
WASI_FN(ap_wasi__fd_close);
WASI_FN(ap_wasi__fd_seek);
WASI_FN(ap_wasi__fd_tell);
WASI_FN(ap_wasi__fd_fdstat_get);
WASI_FN(ap_wasi__fd_fdstat_set_flags);
WASI_FN(ap_wasi__fd_filestat_get);
WASI_FN(ap_wasi__fd_filestat_get_unstable);
WASI_FN(ap_wasi__fd_prestat_get);
WASI_FN(ap_wasi__fd_prestat_dir_name);
WASI_FN(ap_wasi__fd_other);     /* remaining fd_* on fd in slots[0]: EBADF or ENOSYS */
WASI_FN(ap_wasi__path_fd0);     /* path_* whose directory fd is slots[0] */
WASI_FN(ap_wasi__path_symlink); /* path_symlink: the directory fd is slots[2] */

/* wasi_time.c: clocks, randomness, scheduling, polling */
WASI_FN(ap_wasi__clock_res_get);
WASI_FN(ap_wasi__clock_time_get);
WASI_FN(ap_wasi__random_get);
WASI_FN(ap_wasi__sched_yield);
WASI_FN(ap_wasi__poll_oneoff);
WASI_FN(ap_wasi__poll_oneoff_unstable);

#endif
