/* dump.c — prints a function's translated code (debugging the compiler: APRON_DUMP_IR=1). */
#include "compile.h"

#include <stdio.h>

static const char *const names[IR_COUNT] = {
#define NUM(byte, name, kind, t1, tr) [IR_##name] = #name,
#define OP(name) [IR_##name] = #name,
#define IMM(name) [IR_##name##_I] = #name "_I",
#define BRCMP(name) [IR_BR_##name] = "BR_" #name, [IR_BR_##name##_I] = "BR_" #name "_I",
#define KIMM(name) [IR_##name##_K] = #name "_K",
#define MEMOP(name, load) [IR_##name##_M] = #name "_M", [IR_##name##_MW] = #name "_MW",
#include "irops.def"
#undef NUM
#undef OP
#undef IMM
#undef BRCMP
#undef KIMM
#undef MEMOP
};

void wa_dump_code(FILE *out, const wa_funcdef *fd, uint32_t index)
{
    const void *const *h = wa_interp_handlers();
    fprintf(out, "func %u: %u locals slots, frame %u slots, %u instrs\n", index, fd->nlocal_slots,
            fd->frame_slots, fd->ncode);
    for (uint32_t i = 0; i < fd->ncode; i++) {
        const wa_instr *in = &fd->code[i];
        const char *name = "?";
        for (int op = 0; op < IR_COUNT; op++)
            if (h[op] == in->h) {
                name = names[op];
                break;
            }
        fprintf(out, "  %4u %-18s a=%u b=%d c=%u d=%u\n", i, name, in->a, (int32_t)in->b, in->c,
                in->d);
    }
}
