/* interp.c — placeholder until the interpreter lands. */
#include "runtime.h"
#include <stdio.h>
wa_status wa_invoke(wa_func *f, wa_slot *args, wa_error *err)
{
    (void)f; (void)args;
    if (err) { err->status = WA_ETRAP; err->trap = WA_TRAP_HOST; snprintf(err->msg, sizeof err->msg, "interpreter not built"); }
    return WA_ETRAP;
}
