/* interp.c — the interpreter: runs the code compile.c produced; compile.c → [interp].
 *
 * Direct threading: every instruction holds its handler's address and each handler ends by
 * jumping to the next one's (computed goto, GCC and clang). Values live in frame slots (`fp`),
 * operands are slot indices, so a handler is a load or two, the operation, a store and a jump.
 * Calls between wasm functions do not recurse in C: frames go on the thread's frame array, so
 * deep guest recursion becomes the "call stack exhausted" trap, never a host stack overflow.
 * Handlers read all their operands before writing their result (compile.c relies on it when it
 * retargets results). */
#include "compile.h"
#include "guard.h"
#include "runtime.h"
#include "simd.h" /* v128 lane types and helpers of interp_simd.inc */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const wa_instr *ip; /* where to continue in the caller */
    wa_slot *fp;
    wa_instance *inst;
} wa_frame;

static const void *const *g_handlers;

static wa_status run(wa_exec *ex, wa_func *entry, wa_slot *fp, wa_error *err);

const void *const *wa_interp_handlers(void)
{
    if (!g_handlers) run(NULL, NULL, NULL, NULL);
    return g_handlers;
}

/* ---- numeric helpers with the spec's exact semantics ---- */

static inline uint32_t rotl32(uint32_t x, uint32_t n) { n &= 31; return (x << n) | (x >> ((32 - n) & 31)); }
static inline uint32_t rotr32(uint32_t x, uint32_t n) { n &= 31; return (x >> n) | (x << ((32 - n) & 31)); }
static inline uint64_t rotl64(uint64_t x, uint64_t n) { n &= 63; return (x << n) | (x >> ((64 - n) & 63)); }
static inline uint64_t rotr64(uint64_t x, uint64_t n) { n &= 63; return (x >> n) | (x << ((64 - n) & 63)); }

/* min/max: NaN if either is NaN (x + y propagates it), and -0 < +0. */
static inline float fmin32(float x, float y)
{
    if (isnan(x) || isnan(y)) return x + y;
    if (x == 0 && y == 0) return signbit(x) ? x : y;
    return x < y ? x : y;
}
static inline float fmax32(float x, float y)
{
    if (isnan(x) || isnan(y)) return x + y;
    if (x == 0 && y == 0) return signbit(x) ? y : x;
    return x > y ? x : y;
}
static inline double fmin64(double x, double y)
{
    if (isnan(x) || isnan(y)) return x + y;
    if (x == 0 && y == 0) return signbit(x) ? x : y;
    return x < y ? x : y;
}
static inline double fmax64(double x, double y)
{
    if (isnan(x) || isnan(y)) return x + y;
    if (x == 0 && y == 0) return signbit(x) ? y : x;
    return x > y ? x : y;
}

/* Saturating truncations (nontrapping float-to-int). */
#define SAT(name, FT, IT, lo_ok, hi_ok, MINV, MAXV)                                                \
    static inline IT name(FT x)                                                                    \
    {                                                                                              \
        if (isnan(x)) return 0;                                                                    \
        if (!(lo_ok)) return MINV;                                                                 \
        if (!(hi_ok)) return MAXV;                                                                 \
        return (IT)x;                                                                              \
    }
SAT(sat_i32_f32, float, int32_t, x >= -2147483648.0f, x < 2147483648.0f, INT32_MIN, INT32_MAX)
SAT(sat_u32_f32, float, uint32_t, x > -1.0f, x < 4294967296.0f, 0, UINT32_MAX)
SAT(sat_i32_f64, double, int32_t, x > -2147483649.0, x < 2147483648.0, INT32_MIN, INT32_MAX)
SAT(sat_u32_f64, double, uint32_t, x > -1.0, x < 4294967296.0, 0, UINT32_MAX)
SAT(sat_i64_f32, float, int64_t, x >= -9223372036854775808.0f, x < 9223372036854775808.0f,
    INT64_MIN, INT64_MAX)
SAT(sat_u64_f32, float, uint64_t, x > -1.0f, x < 18446744073709551616.0f, 0, UINT64_MAX)
SAT(sat_i64_f64, double, int64_t, x >= -9223372036854775808.0, x < 9223372036854775808.0,
    INT64_MIN, INT64_MAX)
SAT(sat_u64_f64, double, uint64_t, x > -1.0, x < 18446744073709551616.0, 0, UINT64_MAX)


static wa_status set_trap(wa_error *err, wa_trap kind)
{
    if (err) {
        err->status = WA_ETRAP;
        err->trap = kind;
        err->offset = UINT32_MAX;
        err->exit_code = 0;
        snprintf(err->msg, sizeof err->msg, "%s", wa_trap_text(kind));
    }
    return WA_ETRAP;
}

/* ---- out-of-line work ---- */

static __attribute__((cold)) bool table_init(wa_instance *inst, const wa_instr *ip, uint32_t d,
                                             uint32_t s, uint32_t n)
{
    wa_table *t = inst->tables[ip->d];
    uint32_t seg = ip[1].a;
    uint32_t count = inst->elem_count[seg];
    if ((uint64_t)s + n > count || (uint64_t)d + n > t->size) return false;
    if (n) memcpy(&t->elems[d], &inst->elem_refs[seg][s], (size_t)n * sizeof(void *));
    return true;
}

static __attribute__((cold)) bool table_copy(wa_instance *inst, const wa_instr *ip, uint32_t d,
                                             uint32_t s, uint32_t n)
{
    wa_table *td = inst->tables[ip->d], *ts = inst->tables[ip[1].a];
    if ((uint64_t)s + n > ts->size || (uint64_t)d + n > td->size) return false;
    if (n) memmove(&td->elems[d], &ts->elems[s], (size_t)n * sizeof(void *));
    return true;
}

static __attribute__((cold)) bool memory_init(wa_instance *inst, uint32_t seg, uint32_t d,
                                              uint32_t s, uint32_t n)
{
    const wa_module *m = inst->module;
    uint32_t len = inst->data_dropped[seg] ? 0 : m->datas[seg].len;
    wa_memory *mem = inst->mem;
    if ((uint64_t)s + n > len || (uint64_t)d + n > mem->size) return false;
    if (n) memcpy(mem->base + d, m->bytes + m->datas[seg].data_off + s, n);
    return true;
}

static wa_frame *frames_get(wa_exec *ex)
{
    if (!ex->frames) ex->frames = malloc(((size_t)ex->max_depth + 1) * sizeof(wa_frame));
    return ex->frames;
}

/* ---- the loop ---- */

static wa_status run(wa_exec *ex, wa_func *entry, wa_slot *fp, wa_error *err)
{
    static const void *const handlers[IR_COUNT] = {
#define NUM(byte, name, kind, t1, tr) [IR_##name] = &&L_##name,
#define OP(name) [IR_##name] = &&L_##name,
#define IMM(name) [IR_##name##_I] = &&L_##name##_I,
#define BRCMP(name) [IR_BR_##name] = &&L_BR_##name, [IR_BR_##name##_I] = &&L_BR_##name##_I,
#define KIMM(name) [IR_##name##_K] = &&L_##name##_K,
#define MEMOP(name, load) [IR_##name##_M] = &&L_##name##_M, [IR_##name##_MW] = &&L_##name##_MW,
#include "irops.def"
#undef NUM
#undef OP
#undef IMM
#undef BRCMP
#undef KIMM
#undef MEMOP
    };
    if (!ex) {
        g_handlers = handlers;
        return WA_OK;
    }

    wa_frame *frames = frames_get(ex);
    if (!frames) return wa_err(err, WA_ENOMEM, UINT32_MAX, "out of memory");
    wa_instance *inst = entry->inst;
    const atomic_uint *interrupt = &inst->store->interrupt;
    const uint32_t max_depth = ex->max_depth;
    const wa_slot *stack_end = ex->stack_end;
    uint32_t depth = ex->depth;
    const uint32_t base_depth = depth + 1;
    const wa_instr *ip;
    uint8_t *mem;
    uint64_t msize;
    wa_trap trap;
    const wa_funcdef *callee;
    wa_func *fn;
    wa_slot *nfp;

#define S(x) fp[x]
#define DISPATCH() goto *ip->h
#define NEXT()                                                                                     \
    do {                                                                                           \
        ip++;                                                                                      \
        goto *ip->h;                                                                               \
    } while (0)
#define TRAP(kind)                                                                                 \
    do {                                                                                           \
        trap = kind;                                                                               \
        goto trapped;                                                                              \
    } while (0)
#if WA_GUARD_PAGES
#define GUARD_MEM(m) (wa_guard_tls.mem = (m))
#else
#define GUARD_MEM(m) ((void)0)
#endif
#define RELOAD_MEM()                                                                               \
    do {                                                                                           \
        wa_memory *m_ = inst->mem;                                                                 \
        mem = m_ ? m_->base : NULL;                                                                \
        msize = m_ ? m_->size : 0;                                                                 \
        GUARD_MEM(m_);                                                                             \
    } while (0)
#define CHECK_INTERRUPT()                                                                          \
    do {                                                                                           \
        if (__builtin_expect(atomic_load_explicit(interrupt, memory_order_relaxed), 0))            \
            TRAP(WA_TRAP_INTERRUPTED);                                                             \
    } while (0)

    RELOAD_MEM();
    callee = entry->def;
    nfp = fp;
    /* the entry function: a frame with no caller to return to */
    if (depth >= max_depth || nfp + callee->frame_slots > stack_end) {
        trap = WA_TRAP_STACK_EXHAUSTED;
        goto trapped;
    }
    depth++;
    goto enter;

    /* Enter `callee` with its frame at nfp; the caller's state is already saved. */
enter:
    if (callee->nlocal_slots > callee->param_slots)
        memset(nfp + callee->param_slots, 0,
               (size_t)(callee->nlocal_slots - callee->param_slots) * sizeof(wa_slot));
    fp = nfp;
    ip = callee->code;
    DISPATCH();

/* Calls: save the caller, check the limits, then enter. */
#define PUSH_FRAME(next_ip)                                                                        \
    do {                                                                                           \
        if (__builtin_expect(depth >= max_depth || nfp + callee->frame_slots > stack_end, 0))      \
            TRAP(WA_TRAP_STACK_EXHAUSTED);                                                         \
        frames[depth] = (wa_frame){(next_ip), fp, inst};                                           \
        depth++;                                                                                   \
    } while (0)

    /* ---- control ---- */
L_UNREACHABLE:
    TRAP(WA_TRAP_UNREACHABLE);
L_BR:
    ip += (int32_t)ip->b;
    DISPATCH();
L_BR_BACK:
    CHECK_INTERRUPT();
    ip += (int32_t)ip->b;
    DISPATCH();
L_BR_IF:
    if (S(ip->a).i32) {
        ip += (int32_t)ip->b;
        DISPATCH();
    }
    NEXT();
L_BR_IF_BACK:
    if (S(ip->a).i32) {
        CHECK_INTERRUPT();
        ip += (int32_t)ip->b;
        DISPATCH();
    }
    NEXT();
L_BR_UNLESS:
    if (!S(ip->a).i32) {
        ip += (int32_t)ip->b;
        DISPATCH();
    }
    NEXT();
L_BR_TABLE: {
    uint32_t i = S(ip->a).i32;
    if (i > ip->c) i = ip->c;
    ip += 1 + i;
    ip += (int32_t)ip->b;
    CHECK_INTERRUPT();
    DISPATCH();
}
L_BR_TABLE_ENTRY:
    abort(); /* data, never executed */
L_RETURN:
    if (depth == base_depth) {
        ex->depth = depth - 1;
        return WA_OK;
    }
    depth--;
    ip = frames[depth].ip;
    fp = frames[depth].fp;
    if (frames[depth].inst != inst) {
        inst = frames[depth].inst;
        RELOAD_MEM();
    }
    DISPATCH();
L_CALL:
    callee = (const wa_funcdef *)(uintptr_t)ip->k;
    nfp = fp + ip->a;
    CHECK_INTERRUPT();
    PUSH_FRAME(ip + 1);
    goto enter;
L_CALL_IMPORT:
    fn = inst->funcs[ip->b];
    nfp = fp + ip->a;
    goto call_func;
L_CALL_INDIRECT: {
    wa_table *t = inst->tables[ip->b];
    uint32_t i = S(ip->d).i32;
    if (i >= t->size) TRAP(WA_TRAP_UNDEFINED_ELEMENT);
    fn = t->elems[i];
    if (!fn) TRAP(WA_TRAP_UNINIT_ELEMENT);
    if (fn->sig != inst->module->types[ip->c]) TRAP(WA_TRAP_INDIRECT_MISMATCH);
    nfp = fp + ip->a;
    goto call_func;
}
call_func:
    CHECK_INTERRUPT();
    if (fn->host) {
        const wa_sig *sig = fn->sig;
        uint32_t need = sig->param_slots > sig->result_slots ? sig->param_slots : sig->result_slots;
        if (depth >= max_depth || nfp + need > stack_end) TRAP(WA_TRAP_STACK_EXHAUSTED);
        ex->top = nfp + need;
        ex->depth = depth;
#if WA_GUARD_PAGES
        void **jb = wa_guard_tls.jb;
        wa_guard_tls.jb = NULL; /* a fault in host code is not the guest's */
#endif
        wa_status st = fn->host(inst, fn->user, nfp);
#if WA_GUARD_PAGES
        wa_guard_tls.jb = jb;
#endif
        ex->depth = depth;
        if (st != WA_OK) {
            if (err) *err = ex->err;
            if (err && err->status == WA_OK) set_trap(err, WA_TRAP_HOST);
            ex->depth = base_depth - 1;
            return st == WA_ETRAP ? WA_ETRAP : st;
        }
        RELOAD_MEM();
        NEXT();
    }
    callee = fn->def;
    PUSH_FRAME(ip + 1);
    if (fn->inst != inst) {
        inst = fn->inst;
        RELOAD_MEM();
    }
    goto enter;

    /* ---- moves and constants ---- */
L_MOV:
    S(ip->c) = S(ip->a);
    NEXT();
L_MOV2:
    S(ip->c) = S(ip->a);
    S(ip->c + 1) = S(ip->a + 1);
    NEXT();
L_CONST32:
    S(ip->c).i64 = ip->a;
    NEXT();
L_CONST64:
    S(ip->a).i64 = ip->k;
    NEXT();
L_CONST128:
    memcpy(&S(ip->a), &ip[1].a, 16);
    ip += 2;
    DISPATCH();
L_SELECT: {
    wa_slot v = S(ip->d).i32 ? S(ip->a) : S(ip->b);
    S(ip->c) = v;
    NEXT();
}
L_SELECT2: {
    uint32_t from = S(ip->d).i32 ? ip->a : ip->b;
    wa_slot lo = S(from), hi = S(from + 1);
    S(ip->c) = lo;
    S(ip->c + 1) = hi;
    NEXT();
}
L_GLOBAL_GET:
    S(ip->c) = inst->globals[ip->a]->val[0];
    NEXT();
L_GLOBAL_SET:
    inst->globals[ip->a]->val[0] = S(ip->b);
    NEXT();
L_GLOBAL_GET2: {
    wa_global *g = inst->globals[ip->a];
    S(ip->c) = g->val[0];
    S(ip->c + 1) = g->val[1];
    NEXT();
}
L_GLOBAL_SET2: {
    wa_global *g = inst->globals[ip->a];
    g->val[0] = S(ip->b);
    g->val[1] = S(ip->b + 1);
    NEXT();
}

    /* ---- memory ---- */
/* The effective address is (a + d) mod 2^32 + b: d is a folded i32.add constant (compile.c).
 * With guard pages (guard.h) a bad access faults and becomes the trap; without, one bounds check:
 * the 64-bit end of the access against the memory size. */
#if WA_GUARD_PAGES
#define EA(size) uint64_t ea = (uint64_t)(uint32_t)(S(ip->a).i32 + ip->d) + ip->b
#else
#define EA(size)                                                                                   \
    uint64_t ea = (uint64_t)(uint32_t)(S(ip->a).i32 + ip->d) + ip->b;                              \
    if (__builtin_expect(ea + (size) > msize, 0)) TRAP(WA_TRAP_MEMORY_OOB)
#endif
#define LOAD(NAME, T, FIELD, CAST)                                                                 \
    L_##NAME : {                                                                                   \
        EA(sizeof(T));                                                                             \
        T v;                                                                                       \
        memcpy(&v, mem + ea, sizeof v);                                                            \
        S(ip->c).FIELD = CAST v;                                                                   \
        NEXT();                                                                                    \
    }
#define STORE(NAME, T, FIELD)                                                                      \
    L_##NAME : {                                                                                   \
        EA(sizeof(T));                                                                             \
        T v = (T)S(ip->c).FIELD;                                                                   \
        memcpy(mem + ea, &v, sizeof v);                                                            \
        NEXT();                                                                                    \
    }
    LOAD(I32_LOAD, uint32_t, i64, (uint64_t))
    LOAD(I64_LOAD, uint64_t, i64, )
    LOAD(I32_LOAD8_S, int8_t, i64, (uint32_t)(int32_t))
    LOAD(I32_LOAD8_U, uint8_t, i64, (uint64_t))
    LOAD(I32_LOAD16_S, int16_t, i64, (uint32_t)(int32_t))
    LOAD(I32_LOAD16_U, uint16_t, i64, (uint64_t))
    LOAD(I64_LOAD8_S, int8_t, i64, (uint64_t)(int64_t))
    LOAD(I64_LOAD8_U, uint8_t, i64, (uint64_t))
    LOAD(I64_LOAD16_S, int16_t, i64, (uint64_t)(int64_t))
    LOAD(I64_LOAD16_U, uint16_t, i64, (uint64_t))
    LOAD(I64_LOAD32_S, int32_t, i64, (uint64_t)(int64_t))
    LOAD(I64_LOAD32_U, uint32_t, i64, (uint64_t))
    STORE(I32_STORE, uint32_t, i32)
    STORE(I64_STORE, uint64_t, i64)
    STORE(I32_STORE8, uint8_t, i32)
    STORE(I32_STORE16, uint16_t, i32)
    STORE(I64_STORE8, uint8_t, i64)
    STORE(I64_STORE16, uint16_t, i64)
    STORE(I64_STORE32, uint32_t, i64)
L_V128_LOAD: {
    EA(16);
    memcpy(&S(ip->c), mem + ea, 16);
    NEXT();
}
L_V128_STORE: {
    EA(16);
    memcpy(mem + ea, &S(ip->c), 16);
    NEXT();
}
L_MEMORY_SIZE:
    S(ip->c).i64 = inst->mem->pages;
    NEXT();
L_MEMORY_GROW: {
    int64_t old = wa_memory_grow_pages(inst->mem, S(ip->a).i32);
    S(ip->c).i64 = (uint32_t)old;
    RELOAD_MEM();
    NEXT();
}
L_MEMORY_INIT:
    if (!memory_init(inst, ip->d, S(ip->a).i32, S(ip->b).i32, S(ip->c).i32))
        TRAP(WA_TRAP_MEMORY_OOB);
    NEXT();
L_DATA_DROP:
    inst->data_dropped[ip->a] = 1;
    NEXT();
L_MEMORY_COPY: {
    uint32_t d = S(ip->a).i32, s = S(ip->b).i32, n = S(ip->c).i32;
    if ((uint64_t)s + n > msize || (uint64_t)d + n > msize) TRAP(WA_TRAP_MEMORY_OOB);
    memmove(mem + d, mem + s, n);
    NEXT();
}
L_MEMORY_FILL: {
    uint32_t d = S(ip->a).i32, n = S(ip->c).i32;
    if ((uint64_t)d + n > msize) TRAP(WA_TRAP_MEMORY_OOB);
    memset(mem + d, (int)(uint8_t)S(ip->b).i32, n);
    NEXT();
}

    /* ---- references and tables ---- */
L_REF_NULL:
    S(ip->c).ref = NULL;
    NEXT();
L_REF_IS_NULL:
    S(ip->c).i64 = S(ip->a).ref == NULL;
    NEXT();
L_REF_FUNC:
    S(ip->c).ref = inst->funcs[ip->a];
    NEXT();
L_TABLE_GET: {
    wa_table *t = inst->tables[ip->d];
    uint32_t i = S(ip->a).i32;
    if (i >= t->size) TRAP(WA_TRAP_TABLE_OOB);
    S(ip->c).ref = t->elems[i];
    NEXT();
}
L_TABLE_SET: {
    wa_table *t = inst->tables[ip->d];
    uint32_t i = S(ip->a).i32;
    if (i >= t->size) TRAP(WA_TRAP_TABLE_OOB);
    t->elems[i] = S(ip->b).ref;
    NEXT();
}
L_TABLE_SIZE:
    S(ip->c).i64 = inst->tables[ip->d]->size;
    NEXT();
L_TABLE_GROW: {
    void *init = S(ip->a).ref;
    uint32_t delta = S(ip->b).i32;
    S(ip->c).i64 = (uint32_t)wa_table_grow_elems(inst->tables[ip->d], delta, init);
    NEXT();
}
L_TABLE_FILL: {
    wa_table *t = inst->tables[ip->d];
    uint32_t i = S(ip->a).i32, n = S(ip->c).i32;
    void *v = S(ip->b).ref;
    if ((uint64_t)i + n > t->size) TRAP(WA_TRAP_TABLE_OOB);
    for (uint32_t k = 0; k < n; k++) t->elems[i + k] = v;
    NEXT();
}
L_TABLE_COPY:
    if (!table_copy(inst, ip, S(ip->a).i32, S(ip->b).i32, S(ip->c).i32))
        TRAP(WA_TRAP_TABLE_OOB);
    ip += 2;
    DISPATCH();
L_TABLE_INIT:
    if (!table_init(inst, ip, S(ip->a).i32, S(ip->b).i32, S(ip->c).i32))
        TRAP(WA_TRAP_TABLE_OOB);
    ip += 2;
    DISPATCH();
L_ELEM_DROP:
    inst->elem_count[ip->a] = 0;
    NEXT();

    /* ---- numeric ---- */
#define BIN(NAME, T, F, RF, EXPR)                                                                  \
    L_##NAME : {                                                                                   \
        T x = (T)S(ip->a).F, y = (T)S(ip->b).F;                                                    \
        S(ip->c).RF = (EXPR);                                                                      \
        NEXT();                                                                                    \
    }
#define UN(NAME, T, F, RF, EXPR)                                                                   \
    L_##NAME : {                                                                                   \
        T x = (T)S(ip->a).F;                                                                       \
        S(ip->c).RF = (EXPR);                                                                      \
        NEXT();                                                                                    \
    }
    /* comparisons write a whole slot so that a later i64 read of an i32 result is still exact */
    UN(I32_EQZ, uint32_t, i32, i64, x == 0)
    UN(I64_EQZ, uint64_t, i64, i64, x == 0)
    BIN(F32_EQ, float, f32, i64, x == y)
    BIN(F32_NE, float, f32, i64, x != y)
    BIN(F32_LT, float, f32, i64, x < y)
    BIN(F32_GT, float, f32, i64, x > y)
    BIN(F32_LE, float, f32, i64, x <= y)
    BIN(F32_GE, float, f32, i64, x >= y)
    BIN(F64_EQ, double, f64, i64, x == y)
    BIN(F64_NE, double, f64, i64, x != y)
    BIN(F64_LT, double, f64, i64, x < y)
    BIN(F64_GT, double, f64, i64, x > y)
    BIN(F64_LE, double, f64, i64, x <= y)
    BIN(F64_GE, double, f64, i64, x >= y)

    UN(I32_CLZ, uint32_t, i32, i64, x ? (uint32_t)__builtin_clz(x) : 32)
    UN(I32_CTZ, uint32_t, i32, i64, x ? (uint32_t)__builtin_ctz(x) : 32)
    UN(I32_POPCNT, uint32_t, i32, i64, (uint32_t)__builtin_popcount(x))
L_I32_DIV_S: {
    int32_t x = (int32_t)S(ip->a).i32, y = (int32_t)S(ip->b).i32;
    if (y == 0) TRAP(WA_TRAP_DIV_ZERO);
    if (x == INT32_MIN && y == -1) TRAP(WA_TRAP_INT_OVERFLOW);
    S(ip->c).i64 = (uint32_t)(x / y);
    NEXT();
}
L_I32_DIV_U: {
    uint32_t x = S(ip->a).i32, y = S(ip->b).i32;
    if (y == 0) TRAP(WA_TRAP_DIV_ZERO);
    S(ip->c).i64 = x / y;
    NEXT();
}
L_I32_REM_S: {
    int32_t x = (int32_t)S(ip->a).i32, y = (int32_t)S(ip->b).i32;
    if (y == 0) TRAP(WA_TRAP_DIV_ZERO);
    S(ip->c).i64 = y == -1 ? 0 : (uint32_t)(x % y);
    NEXT();
}
L_I32_REM_U: {
    uint32_t x = S(ip->a).i32, y = S(ip->b).i32;
    if (y == 0) TRAP(WA_TRAP_DIV_ZERO);
    S(ip->c).i64 = x % y;
    NEXT();
}

    UN(I64_CLZ, uint64_t, i64, i64, x ? (uint64_t)__builtin_clzll(x) : 64)
    UN(I64_CTZ, uint64_t, i64, i64, x ? (uint64_t)__builtin_ctzll(x) : 64)
    UN(I64_POPCNT, uint64_t, i64, i64, (uint64_t)__builtin_popcountll(x))
L_I64_DIV_S: {
    int64_t x = (int64_t)S(ip->a).i64, y = (int64_t)S(ip->b).i64;
    if (y == 0) TRAP(WA_TRAP_DIV_ZERO);
    if (x == INT64_MIN && y == -1) TRAP(WA_TRAP_INT_OVERFLOW);
    S(ip->c).i64 = (uint64_t)(x / y);
    NEXT();
}
L_I64_DIV_U: {
    uint64_t x = S(ip->a).i64, y = S(ip->b).i64;
    if (y == 0) TRAP(WA_TRAP_DIV_ZERO);
    S(ip->c).i64 = x / y;
    NEXT();
}
L_I64_REM_S: {
    int64_t x = (int64_t)S(ip->a).i64, y = (int64_t)S(ip->b).i64;
    if (y == 0) TRAP(WA_TRAP_DIV_ZERO);
    S(ip->c).i64 = y == -1 ? 0 : (uint64_t)(x % y);
    NEXT();
}
L_I64_REM_U: {
    uint64_t x = S(ip->a).i64, y = S(ip->b).i64;
    if (y == 0) TRAP(WA_TRAP_DIV_ZERO);
    S(ip->c).i64 = x % y;
    NEXT();
}

    /* Sign and magnitude operations work on the bits: they must not touch NaN payloads. */
    UN(F32_ABS, uint32_t, i32, i64, x & 0x7fffffffu)
    UN(F32_NEG, uint32_t, i32, i64, x ^ 0x80000000u)
    BIN(F32_COPYSIGN, uint32_t, i32, i64, (x & 0x7fffffffu) | (y & 0x80000000u))
    UN(F32_CEIL, float, f32, f32, isnan(x) ? x + x : ceilf(x))
    UN(F32_FLOOR, float, f32, f32, isnan(x) ? x + x : floorf(x))
    UN(F32_TRUNC, float, f32, f32, isnan(x) ? x + x : truncf(x))
    UN(F32_NEAREST, float, f32, f32, isnan(x) ? x + x : nearbyintf(x))
    UN(F32_SQRT, float, f32, f32, sqrtf(x))
    BIN(F32_ADD, float, f32, f32, x + y)
    BIN(F32_SUB, float, f32, f32, x - y)
    BIN(F32_MUL, float, f32, f32, x * y)
    BIN(F32_DIV, float, f32, f32, x / y)
    BIN(F32_MIN, float, f32, f32, fmin32(x, y))
    BIN(F32_MAX, float, f32, f32, fmax32(x, y))
    UN(F64_ABS, uint64_t, i64, i64, x & 0x7fffffffffffffffull)
    UN(F64_NEG, uint64_t, i64, i64, x ^ 0x8000000000000000ull)
    BIN(F64_COPYSIGN, uint64_t, i64, i64,
        (x & 0x7fffffffffffffffull) | (y & 0x8000000000000000ull))
    UN(F64_CEIL, double, f64, f64, isnan(x) ? x + x : ceil(x))
    UN(F64_FLOOR, double, f64, f64, isnan(x) ? x + x : floor(x))
    UN(F64_TRUNC, double, f64, f64, isnan(x) ? x + x : trunc(x))
    UN(F64_NEAREST, double, f64, f64, isnan(x) ? x + x : nearbyint(x))
    UN(F64_SQRT, double, f64, f64, sqrt(x))
    BIN(F64_ADD, double, f64, f64, x + y)
    BIN(F64_SUB, double, f64, f64, x - y)
    BIN(F64_MUL, double, f64, f64, x * y)
    BIN(F64_DIV, double, f64, f64, x / y)
    BIN(F64_MIN, double, f64, f64, fmin64(x, y))
    BIN(F64_MAX, double, f64, f64, fmax64(x, y))

/* Constant right operand (irops.def KIMM): result a, operand b, constant k. */
#define FK(NAME, T, F, RF, EXPR)                                                                   \
    L_##NAME##_K : {                                                                               \
        T x = S(ip->b).F, y;                                                                       \
        memcpy(&y, &ip->k, sizeof y);                                                              \
        S(ip->a).RF = (EXPR);                                                                      \
        NEXT();                                                                                    \
    }
    FK(F32_ADD, float, f32, f32, x + y)
    FK(F32_SUB, float, f32, f32, x - y)
    FK(F32_MUL, float, f32, f32, x * y)
    FK(F32_DIV, float, f32, f32, x / y)
    FK(F32_MIN, float, f32, f32, fmin32(x, y))
    FK(F32_MAX, float, f32, f32, fmax32(x, y))
    FK(F32_EQ, float, f32, i64, x == y)
    FK(F32_NE, float, f32, i64, x != y)
    FK(F32_LT, float, f32, i64, x < y)
    FK(F32_GT, float, f32, i64, x > y)
    FK(F32_LE, float, f32, i64, x <= y)
    FK(F32_GE, float, f32, i64, x >= y)
    FK(F64_ADD, double, f64, f64, x + y)
    FK(F64_SUB, double, f64, f64, x - y)
    FK(F64_MUL, double, f64, f64, x * y)
    FK(F64_DIV, double, f64, f64, x / y)
    FK(F64_MIN, double, f64, f64, fmin64(x, y))
    FK(F64_MAX, double, f64, f64, fmax64(x, y))
    FK(F64_EQ, double, f64, i64, x == y)
    FK(F64_NE, double, f64, i64, x != y)
    FK(F64_LT, double, f64, i64, x < y)
    FK(F64_GT, double, f64, i64, x > y)
    FK(F64_LE, double, f64, i64, x <= y)
    FK(F64_GE, double, f64, i64, x >= y)

/* Right operand loaded from memory (irops.def MEMOP): a operand, b address, c result; d the
 * offset (_M) or a folded i32.add constant (_MW, wrapping like the add it replaces). */
#if WA_GUARD_PAGES
#define MEM_CHECK(size) ((void)0)
#else
#define MEM_CHECK(size)                                                                            \
    if (__builtin_expect(ea + (size) > msize, 0)) TRAP(WA_TRAP_MEMORY_OOB)
#endif
#define MOP_FORM(LABEL, EA_EXPR, T, F, EXPR)                                                     \
    LABEL : {                                                                                      \
        uint64_t ea = (EA_EXPR);                                                                   \
        MEM_CHECK(sizeof(T));                                                                      \
        T x = (T)S(ip->a).F, y;                                                                    \
        memcpy(&y, mem + ea, sizeof y);                                                            \
        S(ip->c).F = (EXPR);                                                                       \
        NEXT();                                                                                    \
    }
#define MOP(NAME, T, F, EXPR)                                                                      \
    MOP_FORM(L_##NAME##_M, (uint64_t)S(ip->b).i32 + ip->d, T, F, EXPR)                             \
    MOP_FORM(L_##NAME##_MW, (uint32_t)(S(ip->b).i32 + ip->d), T, F, EXPR)
    MOP(I32_ADD, uint32_t, i64, (uint32_t)(x + y))
    MOP(I32_SUB, uint32_t, i64, (uint32_t)(x - y))
    MOP(I32_MUL, uint32_t, i64, (uint32_t)(x * y))
    MOP(I32_AND, uint32_t, i64, x & y)
    MOP(I32_OR, uint32_t, i64, x | y)
    MOP(I32_XOR, uint32_t, i64, x ^ y)
    MOP(I64_ADD, uint64_t, i64, x + y)
    MOP(I64_SUB, uint64_t, i64, x - y)
    MOP(F32_ADD, float, f32, x + y)
    MOP(F32_SUB, float, f32, x - y)
    MOP(F32_MUL, float, f32, x * y)
    MOP(F32_DIV, float, f32, x / y)
    MOP(F64_ADD, double, f64, x + y)
    MOP(F64_SUB, double, f64, x - y)
    MOP(F64_MUL, double, f64, x * y)
    MOP(F64_DIV, double, f64, x / y)

/* Constant left operand: result a, operand b, constant k. */
#define FKL(NAME, T, F, EXPR)                                                                      \
    L_##NAME##_KL : {                                                                              \
        T x, y = S(ip->b).F;                                                                       \
        memcpy(&x, &ip->k, sizeof x);                                                              \
        S(ip->a).F = (EXPR);                                                                       \
        NEXT();                                                                                    \
    }
    FKL(F32_SUB, float, f32, x - y)
    FKL(F32_DIV, float, f32, x / y)
    FKL(F64_SUB, double, f64, x - y)
    FKL(F64_DIV, double, f64, x / y)

/* c = a +/- b*d: the product is rounded before the add (interp.c is built with
 * -ffp-contract=off, so no FMA is formed). */
#define MULACC(NAME, T, F, OPR)                                                                    \
    L_##NAME : {                                                                                   \
        T p = S(ip->b).F * S(ip->d).F;                                                             \
        S(ip->c).F = S(ip->a).F OPR p;                                                             \
        NEXT();                                                                                    \
    }
    MULACC(F32_MULADD, float, f32, +)
    MULACC(F32_MULSUB, float, f32, -)
    MULACC(F64_MULADD, double, f64, +)
    MULACC(F64_MULSUB, double, f64, -)

/* mem[a + c] = mem[a + c] +/- b*d. */
#define MULACC_MS(NAME, T, F, OPR)                                                                 \
    L_##NAME##_MS : {                                                                              \
        uint64_t ea = (uint64_t)S(ip->a).i32 + ip->c;                                              \
        MEM_CHECK(sizeof(T));                                                                      \
        T m, p = S(ip->b).F * S(ip->d).F;                                                          \
        memcpy(&m, mem + ea, sizeof m);                                                            \
        m = m OPR p;                                                                               \
        memcpy(mem + ea, &m, sizeof m);                                                            \
        NEXT();                                                                                    \
    }
    MULACC_MS(F32_MULADD, float, f32, +)
    MULACC_MS(F32_MULSUB, float, f32, -)
    MULACC_MS(F64_MULADD, double, f64, +)
    MULACC_MS(F64_MULSUB, double, f64, -)

/* Trapping truncation: NaN is an invalid conversion, out of range an overflow. */
#define TRUNC(NAME, FT, F, IT, lo_ok, hi_ok)                                                       \
    L_##NAME : {                                                                                   \
        FT x = S(ip->a).F;                                                                         \
        if (isnan(x)) TRAP(WA_TRAP_INVALID_CONV);                                                  \
        if (!((lo_ok) && (hi_ok))) TRAP(WA_TRAP_INT_OVERFLOW);                                     \
        S(ip->c).i64 = (uint64_t)(IT)x;                                                            \
        NEXT();                                                                                    \
    }
    TRUNC(I32_TRUNC_F32_S, float, f32, int32_t, x >= -2147483648.0f, x < 2147483648.0f)
    TRUNC(I32_TRUNC_F32_U, float, f32, uint32_t, x > -1.0f, x < 4294967296.0f)
    TRUNC(I32_TRUNC_F64_S, double, f64, int32_t, x > -2147483649.0, x < 2147483648.0)
    TRUNC(I32_TRUNC_F64_U, double, f64, uint32_t, x > -1.0, x < 4294967296.0)
    TRUNC(I64_TRUNC_F32_S, float, f32, int64_t,
          x >= -9223372036854775808.0f, x < 9223372036854775808.0f)
    TRUNC(I64_TRUNC_F32_U, float, f32, uint64_t, x > -1.0f, x < 18446744073709551616.0f)
    TRUNC(I64_TRUNC_F64_S, double, f64, int64_t,
          x >= -9223372036854775808.0, x < 9223372036854775808.0)
    TRUNC(I64_TRUNC_F64_U, double, f64, uint64_t, x > -1.0, x < 18446744073709551616.0)
    UN(I32_TRUNC_SAT_F32_S, float, f32, i64, (uint32_t)sat_i32_f32(x))
    UN(I32_TRUNC_SAT_F32_U, float, f32, i64, sat_u32_f32(x))
    UN(I32_TRUNC_SAT_F64_S, double, f64, i64, (uint32_t)sat_i32_f64(x))
    UN(I32_TRUNC_SAT_F64_U, double, f64, i64, sat_u32_f64(x))
    UN(I64_TRUNC_SAT_F32_S, float, f32, i64, (uint64_t)sat_i64_f32(x))
    UN(I64_TRUNC_SAT_F32_U, float, f32, i64, sat_u64_f32(x))
    UN(I64_TRUNC_SAT_F64_S, double, f64, i64, (uint64_t)sat_i64_f64(x))
    UN(I64_TRUNC_SAT_F64_U, double, f64, i64, sat_u64_f64(x))
    UN(I64_EXTEND_I32_S, int32_t, i32, i64, (uint64_t)(int64_t)x)
    UN(I64_EXTEND_I32_U, uint32_t, i32, i64, (uint64_t)x)
    UN(F32_CONVERT_I32_S, int32_t, i32, f32, (float)x)
    UN(F32_CONVERT_I32_U, uint32_t, i32, f32, (float)x)
    UN(F32_CONVERT_I64_S, int64_t, i64, f32, (float)x)
    UN(F32_CONVERT_I64_U, uint64_t, i64, f32, (float)x)
    UN(F32_DEMOTE_F64, double, f64, f32, (float)x)
    UN(F64_CONVERT_I32_S, int32_t, i32, f64, (double)x)
    UN(F64_CONVERT_I32_U, uint32_t, i32, f64, (double)x)
    UN(F64_CONVERT_I64_S, int64_t, i64, f64, (double)x)
    UN(F64_CONVERT_I64_U, uint64_t, i64, f64, (double)x)
    UN(F64_PROMOTE_F32, float, f32, f64, (double)x)
    UN(I32_EXTEND8_S, uint32_t, i32, i64, (uint32_t)(int32_t)(int8_t)x)
    UN(I32_EXTEND16_S, uint32_t, i32, i64, (uint32_t)(int32_t)(int16_t)x)
    UN(I64_EXTEND8_S, uint64_t, i64, i64, (uint64_t)(int64_t)(int8_t)x)
    UN(I64_EXTEND16_S, uint64_t, i64, i64, (uint64_t)(int64_t)(int16_t)x)
    UN(I64_EXTEND32_S, uint64_t, i64, i64, (uint64_t)(int64_t)(int32_t)x)

/* Integer binary operations that also have an immediate form (irops.def IMM) and comparisons
 * that also fuse with a branch (BRCMP): listed once, expanded into every form. */
#define INT_ARITH(X)                                                                               \
    X(I32_ADD, uint32_t, i32, (uint32_t)(x + y))                                                   \
    X(I32_SUB, uint32_t, i32, (uint32_t)(x - y))                                                   \
    X(I32_MUL, uint32_t, i32, (uint32_t)(x * y))                                                   \
    X(I32_AND, uint32_t, i32, x & y)                                                               \
    X(I32_OR, uint32_t, i32, x | y)                                                                \
    X(I32_XOR, uint32_t, i32, x ^ y)                                                               \
    X(I32_SHL, uint32_t, i32, (uint32_t)(x << (y & 31)))                                           \
    X(I32_SHR_S, int32_t, i32, (uint32_t)(x >> (y & 31)))                                          \
    X(I32_SHR_U, uint32_t, i32, x >> (y & 31))                                                     \
    X(I32_ROTL, uint32_t, i32, rotl32(x, y))                                                       \
    X(I32_ROTR, uint32_t, i32, rotr32(x, y))                                                       \
    X(I64_ADD, uint64_t, i64, x + y)                                                               \
    X(I64_SUB, uint64_t, i64, x - y)                                                               \
    X(I64_MUL, uint64_t, i64, x * y)                                                               \
    X(I64_AND, uint64_t, i64, x & y)                                                               \
    X(I64_OR, uint64_t, i64, x | y)                                                                \
    X(I64_XOR, uint64_t, i64, x ^ y)                                                               \
    X(I64_SHL, uint64_t, i64, x << (y & 63))                                                       \
    X(I64_SHR_S, int64_t, i64, (uint64_t)(x >> (y & 63)))                                          \
    X(I64_SHR_U, uint64_t, i64, x >> (y & 63))                                                     \
    X(I64_ROTL, uint64_t, i64, rotl64(x, y))                                                       \
    X(I64_ROTR, uint64_t, i64, rotr64(x, y))
#define INT_CMP(X)                                                                                 \
    X(I32_EQ, uint32_t, i32, x == y)                                                               \
    X(I32_NE, uint32_t, i32, x != y)                                                               \
    X(I32_LT_S, int32_t, i32, x < y)                                                               \
    X(I32_LT_U, uint32_t, i32, x < y)                                                              \
    X(I32_GT_S, int32_t, i32, x > y)                                                               \
    X(I32_GT_U, uint32_t, i32, x > y)                                                              \
    X(I32_LE_S, int32_t, i32, x <= y)                                                              \
    X(I32_LE_U, uint32_t, i32, x <= y)                                                             \
    X(I32_GE_S, int32_t, i32, x >= y)                                                              \
    X(I32_GE_U, uint32_t, i32, x >= y)                                                             \
    X(I64_EQ, uint64_t, i64, x == y)                                                               \
    X(I64_NE, uint64_t, i64, x != y)                                                               \
    X(I64_LT_S, int64_t, i64, x < y)                                                               \
    X(I64_LT_U, uint64_t, i64, x < y)                                                              \
    X(I64_GT_S, int64_t, i64, x > y)                                                               \
    X(I64_GT_U, uint64_t, i64, x > y)                                                              \
    X(I64_LE_S, int64_t, i64, x <= y)                                                              \
    X(I64_LE_U, uint64_t, i64, x <= y)                                                             \
    X(I64_GE_S, int64_t, i64, x >= y)                                                              \
    X(I64_GE_U, uint64_t, i64, x >= y)
/* slot operands; immediate right operand (sign-extended from 32 bits) */
#define INT_REG(NAME, T, F, EXPR)                                                                  \
    L_##NAME : {                                                                                   \
        T x = (T)S(ip->a).F, y = (T)S(ip->b).F;                                                    \
        S(ip->c).i64 = (EXPR);                                                                     \
        NEXT();                                                                                    \
    }
#define INT_IMM(NAME, T, F, EXPR)                                                                  \
    L_##NAME##_I : {                                                                               \
        T x = (T)S(ip->a).F, y = (T)(int32_t)ip->b;                                                \
        S(ip->c).i64 = (EXPR);                                                                     \
        NEXT();                                                                                    \
    }
/* compare and branch by b: right operand in slot c, or the constant c */
#define BR_CMP(NAME, T, F, EXPR)                                                                   \
    L_BR_##NAME : {                                                                                \
        T x = (T)S(ip->a).F, y = (T)S(ip->c).F;                                                    \
        if (EXPR) goto take_branch;                                                                \
        NEXT();                                                                                    \
    }                                                                                              \
    L_BR_##NAME##_I : {                                                                            \
        T x = (T)S(ip->a).F, y = (T)(int32_t)ip->c;                                                \
        if (EXPR) goto take_branch;                                                                \
        NEXT();                                                                                    \
    }
    INT_ARITH(INT_REG)
    INT_ARITH(INT_IMM)
    INT_CMP(INT_REG)
    INT_CMP(INT_IMM)
    INT_CMP(BR_CMP)
take_branch: {
    int32_t off = (int32_t)ip->b;
    if (off < 0) CHECK_INTERRUPT();
    ip += off;
    DISPATCH();
}

#include "interp_simd.inc"

trapped:
    ex->depth = base_depth - 1;
    return set_trap(err, trap);
}

/* run() with guest memory faults turned into traps (guard.h). The jump lands here, above run's
 * frame, so none of run's state needs to survive it. */
static wa_status run_guarded(wa_exec *ex, wa_func *f, wa_slot *fp, wa_error *err)
{
#if WA_GUARD_PAGES
    static bool ready;
    if (__builtin_expect(!ready, 0) && !(ready = wa_guard_install()))
        return wa_err(err, WA_ENOMEM, UINT32_MAX, "cannot install guard-page handler");
    void *jb[5];
    wa_guard_state saved = wa_guard_tls;
    const uint32_t depth = ex->depth;
    if (__builtin_setjmp(jb)) {
        wa_guard_tls = saved;
        ex->depth = depth;
        return set_trap(err, WA_TRAP_MEMORY_OOB);
    }
    wa_guard_tls.jb = jb;
    wa_status st = run(ex, f, fp, err);
    wa_guard_tls = saved;
    return st;
#else
    return run(ex, f, fp, err);
#endif
}

wa_status wa_invoke(wa_exec *ex, wa_func *f, wa_slot *args, wa_error *err)
{
    const wa_sig *sig = f->sig;
    if (f->host) {
        ex->err.status = WA_OK;
        wa_status st = f->host(NULL, f->user, args);
        if (st != WA_OK) {
            if (err) *err = ex->err;
            if (err && err->status == WA_OK) set_trap(err, WA_TRAP_HOST);
        }
        return st;
    }
    wa_slot *saved_top = ex->top;
    wa_slot *fp = ex->top;
    if (fp + sig->param_slots > ex->stack_end) return set_trap(err, WA_TRAP_STACK_EXHAUSTED);
    for (uint32_t i = 0; i < sig->param_slots; i++) fp[i] = args[i];
    ex->err.status = WA_OK;
    wa_status st = run_guarded(ex, f, fp, err);
    if (st == WA_OK)
        for (uint32_t i = 0; i < sig->result_slots; i++) args[i] = fp[i];
    ex->top = saved_top;
    return st;
}
