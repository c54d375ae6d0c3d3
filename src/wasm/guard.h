/* guard.h — guard-page bounds checking. Every linear memory reserves 8 GiB + a page of address
 * space (memory.c), so a 32-bit address plus a 32-bit offset always lands inside its reservation
 * and pages past the memory's size are PROT_NONE: the interpreter's loads and stores need no
 * bounds check, and a fault inside the current instance's reservation while guest code runs is
 * turned into the "out of bounds memory access" trap (a SIGSEGV/SIGBUS handler and siglongjmp).
 * Faults anywhere else go to the previous handler. Off under AddressSanitizer (which owns SIGSEGV),
 * ThreadSanitizer (whose signal handling does not survive a jump out of a handler: the process
 * dies) and where APRON_NO_GUARD_PAGES is defined: the interpreter then checks every access. */
#ifndef WA_GUARD_H
#define WA_GUARD_H

#include "runtime.h"

#include <setjmp.h>

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__)) &&                         \
    !defined(__SANITIZE_ADDRESS__) && !__has_feature(address_sanitizer) &&                         \
    !defined(__SANITIZE_THREAD__) && !__has_feature(thread_sanitizer) &&                           \
    !defined(APRON_NO_GUARD_PAGES)
#define WA_GUARD_PAGES 1
#else
#define WA_GUARD_PAGES 0
#endif

#if WA_GUARD_PAGES
/* The calling thread's guest state, read by the signal handler. */
typedef struct {
    void **jb;               /* __builtin_setjmp buffer a guest fault jumps to; NULL in host code */
    const wa_memory *mem;    /* the running instance's memory */
} wa_guard_state;

extern __thread wa_guard_state wa_guard_tls;

/* Installs the handlers once per process; false if sigaction failed. */
bool wa_guard_install(void);
#endif

#endif
