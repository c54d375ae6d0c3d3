/* exec.c — the per-thread execution context: the value stack every wasm frame of a thread lives
 * on, and the error record host functions trap through (wa_host_trap, wa_host_exit). */
#include "runtime.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define WA_EXEC_STACK_SLOTS ((size_t)1 << 20) /* 8 MiB */
#define WA_EXEC_MAX_DEPTH 10000u

static _Thread_local wa_exec *tls_exec;
static pthread_key_t exec_key;
static pthread_once_t exec_once = PTHREAD_ONCE_INIT;
static bool exec_key_ok;

/* The stack is mapped with a PROT_NONE page after it, so an overrun faults instead of writing
 * into a neighbour. */
static size_t stack_map_bytes(size_t slots)
{
    return slots * sizeof(wa_slot) + (size_t)sysconf(_SC_PAGESIZE);
}

static bool map_stack(wa_exec *e, size_t slots)
{
    size_t bytes = stack_map_bytes(slots);
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED)
        return false;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    mprotect((uint8_t *)p + bytes - page, page, PROT_NONE);
    if (e->stack)
        munmap(e->stack, stack_map_bytes((size_t)(e->stack_end - e->stack)));
    e->stack = e->top = p;
    e->stack_end = e->stack + slots;
    return true;
}

static void exec_destroy(void *p)
{
    wa_exec *e = p;
    if (e->stack)
        munmap(e->stack, stack_map_bytes((size_t)(e->stack_end - e->stack)));
    free(e->frames);
    free(e);
    tls_exec = NULL;
}

static void make_key(void) { exec_key_ok = pthread_key_create(&exec_key, exec_destroy) == 0; }

wa_exec *wa_exec_get(void)
{
    if (tls_exec)
        return tls_exec;
    pthread_once(&exec_once, make_key);
    wa_exec *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    if (!map_stack(e, WA_EXEC_STACK_SLOTS)) {
        free(e);
        return NULL;
    }
    e->max_depth = WA_EXEC_MAX_DEPTH;
    e->err.offset = UINT32_MAX;
    /* Without the key the context lives until the process ends: a leak per thread, not a fault. */
    if (exec_key_ok)
        pthread_setspecific(exec_key, e);
    tls_exec = e;
    return e;
}

bool wa_exec_configure(wa_exec *e, uint32_t max_depth, uint32_t stack_slots)
{
    if (e->depth != 0 || e->top != e->stack)
        return true; /* nested: the outer call's limits hold */
    if (!max_depth)
        max_depth = WA_EXEC_MAX_DEPTH;
    if (!stack_slots)
        stack_slots = WA_EXEC_STACK_SLOTS;
    if (max_depth != e->max_depth) {
        free(e->frames);
        e->frames = NULL;
        e->max_depth = max_depth;
    }
    if ((size_t)(e->stack_end - e->stack) != stack_slots)
        return map_stack(e, stack_slots);
    return true;
}

wa_status wa_host_trap(wa_trap kind, const char *msg)
{
    wa_exec *e = wa_exec_get();
    if (!e)
        return WA_ETRAP;
    e->err.status = WA_ETRAP;
    e->err.trap = kind;
    e->err.offset = UINT32_MAX;
    e->err.exit_code = 0;
    snprintf(e->err.msg, sizeof e->err.msg, "%s", msg ? msg : wa_trap_text(kind));
    return WA_ETRAP;
}

wa_status wa_host_exit(int32_t code)
{
    wa_exec *e = wa_exec_get();
    if (!e)
        return WA_ETRAP;
    e->err.status = WA_ETRAP;
    e->err.trap = WA_TRAP_EXIT;
    e->err.offset = UINT32_MAX;
    e->err.exit_code = code;
    snprintf(e->err.msg, sizeof e->err.msg, "exit code %d", (int)code);
    return WA_ETRAP;
}
