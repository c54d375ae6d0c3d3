/* errors.c — the engine's error record (wa_error) and the texts of statuses and traps. Trap texts
 * are the spec tests' wording, which the spec runner compares against. */
#include "module.h"

#include <stdarg.h>
#include <stdio.h>

wa_status wa_err(wa_error *err, wa_status st, uint32_t offset, const char *fmt, ...)
{
    if (!err)
        return st;
    err->status = st;
    err->trap = WA_TRAP_NONE;
    err->offset = offset;
    err->exit_code = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return st;
}

static const char *const status_texts[] = {
    [WA_OK] = "ok",
    [WA_EMALFORMED] = "malformed module",
    [WA_EINVALID] = "invalid module",
    [WA_EUNLINKABLE] = "unlinkable module",
    [WA_ETRAP] = "trap",
    [WA_ENOMEM] = "out of memory",
    [WA_ELIMIT] = "limit exceeded",
    [WA_ENOTFOUND] = "not found",
};

static const char *const trap_texts[] = {
    [WA_TRAP_NONE] = "no trap",
    [WA_TRAP_UNREACHABLE] = "unreachable",
    [WA_TRAP_MEMORY_OOB] = "out of bounds memory access",
    [WA_TRAP_DIV_ZERO] = "integer divide by zero",
    [WA_TRAP_INT_OVERFLOW] = "integer overflow",
    [WA_TRAP_INVALID_CONV] = "invalid conversion to integer",
    [WA_TRAP_TABLE_OOB] = "out of bounds table access",
    [WA_TRAP_UNDEFINED_ELEMENT] = "undefined element",
    [WA_TRAP_UNINIT_ELEMENT] = "uninitialized element",
    [WA_TRAP_INDIRECT_MISMATCH] = "indirect call type mismatch",
    [WA_TRAP_STACK_EXHAUSTED] = "call stack exhausted",
    [WA_TRAP_INTERRUPTED] = "interrupted",
    [WA_TRAP_HOST] = "host function failed",
    [WA_TRAP_EXIT] = "exit",
    [WA_TRAP_DEADLINE] = "deadline exceeded",
};

const char *wa_status_text(wa_status st)
{
    if ((unsigned)st >= sizeof status_texts / sizeof *status_texts || !status_texts[st])
        return "unknown status";
    return status_texts[st];
}

const char *wa_trap_text(wa_trap t)
{
    if ((unsigned)t >= sizeof trap_texts / sizeof *trap_texts || !trap_texts[t])
        return "unknown trap";
    return trap_texts[t];
}
