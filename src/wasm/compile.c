/* compile.c — placeholder until the function-body validator/translator lands. */
#include "module.h"
wa_status wa_compile_func(const wa_module *m, uint32_t def_idx, wa_error *err)
{
    (void)m; (void)def_idx; (void)err;
    return WA_OK;
}
