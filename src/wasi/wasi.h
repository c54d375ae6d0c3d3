/* wasi.h — WASI preview1 for guests, on the engine's public API: a context (arguments,
 * environment, where stdout/stderr go) and the resolver that turns `wasi_snapshot_preview1.*` and
 * `wasi_unstable.*` imports into host functions.
 *
 * What a guest gets: its arguments and environment; clocks (realtime, monotonic, process and
 * thread CPU time); random bytes; stdout and stderr through a sink; stdin at end of file;
 * proc_exit; sched_yield; poll_oneoff sleeping on clocks (fd subscriptions answer at once).
 * No preopened directories: every path_* call answers ENOTCAPABLE (on a stdio fd) or EBADF, so a
 * guest can never reach host files. Every other preview1 function links with its exact type and
 * answers ENOSYS. Guest pointers are checked against the calling instance's memory 0 on each call
 * (64-bit arithmetic); a bad one answers EFAULT, never a host access.
 *
 * wasi_unstable (snapshot 0, old TinyGo) resolves to the same functions; where its layouts differ
 * from preview1 (poll_oneoff's subscription, fd_filestat_get's filestat) the snapshot-0 layout is
 * used. Its errno numbers are preview1's.
 */
#ifndef AP_WASI_H
#define AP_WASI_H

#include "apron/wasm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ap_wasi ap_wasi;

typedef enum {
    AP_WASI_OK = 0,
    AP_WASI_ENOMEM, /* an allocation failed */
    AP_WASI_EINVAL, /* arguments or environment larger than a guest can address (4 GiB) */
} ap_wasi_status;

/* Where guest output goes: fd is 1 or 2, [p, p+n) is the guest's bytes, borrowed for the call
 * (pointing into guest memory: do not keep it, do not call the guest from here). Called once per
 * fd_write with the iovecs gathered when they total at most 4 KiB, else once per non-empty iovec.
 * Output is never split inside one iovec, but lines may arrive in pieces across calls. */
typedef void (*ap_wasi_write_fn)(void *user, int fd, const uint8_t *p, size_t n);

typedef struct {
    uint32_t argc;           /* argv[0] is the program name the guest sees */
    const char *const *argv; /* copied by ap_wasi_new */
    uint32_t envc;           /* 0: an empty environment */
    const char *const *envp; /* "NAME=value" strings, copied */
    ap_wasi_write_fn write;  /* NULL: write(2) to the process's own fd 1 and 2 */
    void *write_user;
} ap_wasi_config;

/* A new context from c (NULL: no arguments, no environment, default sink). *out only on
 * AP_WASI_OK. The context may serve any number of instances and stores, on any threads at once:
 * nothing in it changes after creation except the last exit code (below). */
ap_wasi_status ap_wasi_new(const ap_wasi_config *c, ap_wasi **out);
void ap_wasi_free(ap_wasi *w); /* NULL is a no-op; functions resolved from w must be unused */

/* The host function for import module.name, created in store s (it lives as long as s), or NULL
 * when module is not "wasi_snapshot_preview1"/"wasi_unstable", when name is no preview1
 * function, when want's type differs from that function's (so instantiation fails cleanly as
 * unlinkable), or on OOM. `want` may be NULL to take the WASI type as it is. w must outlive s's
 * use of the function. */
wa_func *ap_wasi_resolve(ap_wasi *w, wa_store *s, const char *module, const char *name,
                         const wa_functype *want);

/* True if module is one of the WASI module names this resolver answers for. */
bool ap_wasi_is_wasi_module(const char *module);

/* proc_exit's code, most recent call on any instance using w: true and *code when a guest has
 * called it since ap_wasi_new. The trap (WA_TRAP_EXIT, wa_error.exit_code) is the per-call truth;
 * this is for embedders that lose the error. */
bool ap_wasi_exit_code(const ap_wasi *w, int32_t *code);

#endif
