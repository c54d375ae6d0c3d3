/* errors.c — the engine's error record (wa_error) and the texts of statuses and traps. Trap texts
 * are the spec tests' wording, which the spec runner compares against. */
#include "module.h"

#include <stdarg.h>
#include <stdio.h>

wa_status wa_err(wa_error *err, wa_status st, uint32_t offset, const char *fmt, ...)
{
    if (!err) return st;
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

const char *wa_status_text(wa_status st)
{
    switch (st) {
    case WA_OK: return "ok";
    case WA_EMALFORMED: return "malformed module";
    case WA_EINVALID: return "invalid module";
    case WA_EUNLINKABLE: return "unlinkable module";
    case WA_ETRAP: return "trap";
    case WA_ENOMEM: return "out of memory";
    case WA_ELIMIT: return "limit exceeded";
    case WA_ENOTFOUND: return "not found";
    }
    return "unknown status";
}

const char *wa_trap_text(wa_trap t)
{
    switch (t) {
    case WA_TRAP_NONE: return "no trap";
    case WA_TRAP_UNREACHABLE: return "unreachable";
    case WA_TRAP_MEMORY_OOB: return "out of bounds memory access";
    case WA_TRAP_DIV_ZERO: return "integer divide by zero";
    case WA_TRAP_INT_OVERFLOW: return "integer overflow";
    case WA_TRAP_INVALID_CONV: return "invalid conversion to integer";
    case WA_TRAP_TABLE_OOB: return "out of bounds table access";
    case WA_TRAP_UNDEFINED_ELEMENT: return "undefined element";
    case WA_TRAP_UNINIT_ELEMENT: return "uninitialized element";
    case WA_TRAP_INDIRECT_MISMATCH: return "indirect call type mismatch";
    case WA_TRAP_STACK_EXHAUSTED: return "call stack exhausted";
    case WA_TRAP_INTERRUPTED: return "interrupted";
    case WA_TRAP_HOST: return "host function failed";
    case WA_TRAP_EXIT: return "exit";
    }
    return "unknown trap";
}
