/* compile.h — the interpreter's code: what compile.c emits and interp.c runs. Internal. */
#ifndef WA_COMPILE_H
#define WA_COMPILE_H

#include "module.h"

/* Every IR operation, numbered once from irops.def. */
typedef enum {
#define NUM(byte, name, kind, t1, tr) IR_##name,
#define OP(name) IR_##name,
#define IMM(name) IR_##name##_I,
#define BRCMP(name) IR_BR_##name, IR_BR_##name##_I,
#define KIMM(name) IR_##name##_K,
#define MEMOP(name, load) IR_##name##_M, IR_##name##_MW,
#include "irops.def"
#undef NUM
#undef OP
#undef IMM
#undef BRCMP
#undef KIMM
#undef MEMOP
    IR_COUNT
} wa_irop;

/* One instruction: the handler's address, then operands (frame-slot indices, immediates, or a
 * branch offset in b counted in instructions from this one). 24 bytes, fixed size, so branch
 * targets are plain indices while compiling. */
typedef struct wa_instr {
    const void *h;
    uint32_t a, b;
    union {
        struct {
            uint32_t c, d;
        };
        uint64_t k;
    };
} wa_instr;

/* interp.c: the handler address of each IR operation (labels of the threaded loop). */
const void *const *wa_interp_handlers(void);

#include <stdio.h>
/* dump.c: prints fd's code (APRON_DUMP_IR=1 makes compile.c call it). */
void wa_dump_code(FILE *out, const wa_funcdef *fd, uint32_t index);

#endif
