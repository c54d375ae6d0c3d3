/* guard.c — the SIGSEGV/SIGBUS handler that turns a guest's access to a guard page into a trap
 * (see guard.h). */
#include "guard.h"

#if WA_GUARD_PAGES

#include <pthread.h>
#include <signal.h>
#include <string.h>

__thread wa_guard_state wa_guard_tls __attribute__((tls_model("initial-exec")));

static struct sigaction prev_segv, prev_bus;
static bool installed;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    const wa_guard_state *g = &wa_guard_tls;
    const uint8_t *addr = si->si_addr;
    if (g->jb && g->mem && addr >= g->mem->base && addr < g->mem->base + g->mem->reserved)
        __builtin_longjmp(g->jb, 1); /* SA_NODEFER: no signal mask to restore */
    /* Not a guest access: behave as if we were not here. */
    const struct sigaction *prev = sig == SIGSEGV ? &prev_segv : &prev_bus;
    if (prev->sa_flags & SA_SIGINFO) {
        prev->sa_sigaction(sig, si, uc);
    } else if (prev->sa_handler == SIG_DFL) {
        /* Returning re-runs the faulting instruction, which now gets the default action. */
        signal(sig, SIG_DFL);
    } else if (prev->sa_handler != SIG_IGN) {
        prev->sa_handler(sig);
    }
}

static void install_once(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    /* SA_NODEFER: the jump out of the handler restores no signal mask (saving one at every call
     * would cost more than the call), so the signal must not be blocked while the handler runs.
     * The handler runs on the faulting thread's stack, above the frame it jumps back to. */
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    installed = sigaction(SIGSEGV, &sa, &prev_segv) == 0 && sigaction(SIGBUS, &sa, &prev_bus) == 0;
}

bool wa_guard_install(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install_once);
    return installed;
}

#endif
