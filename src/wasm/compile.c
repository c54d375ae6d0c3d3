/* compile.c — validates one function body and translates it into the interpreter's code, in a
 * single pass; module.c → [compile] → interp.c.
 *
 * The translation is register-style: every value lives in a frame slot. Locals take the first
 * slots (parameters first), the operand stack the ones above, each stack position having a fixed
 * "home" slot. Instructions name their operand and result slots, so `local.get` emits nothing:
 * it pushes a lazy entry that points at the local's slot, and the consumer reads the local
 * directly. A lazy entry is copied to its home ("materialised") only when its local is about to
 * change, at block boundaries and where values must sit at fixed positions (branches, calls).
 * A `local.set` right after the instruction that produced its value retargets that instruction's
 * result slot instead of emitting a copy.
 *
 * Validation follows the algorithm of the spec's appendix (operand and control stacks with an
 * unreachable flag); code emitted in unreachable code goes to a scratch instruction. */
#include "compile.h"
#include "leb.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ANY 0 /* the unknown type of values popped from a polymorphic stack */
#define MAX_LOCALS 50000u
#define MAX_BODY_SLOTS 1000000u

enum { K_FUNC, K_BLOCK, K_LOOP, K_IF, K_ELSE };

/* An operand-stack entry. A constant that no instruction has written yet has slot CONST_SLOT and
 * its bits in k: consumers with an immediate form take it as an immediate. */
#define CONST_SLOT UINT32_MAX
typedef struct {
    uint8_t type;
    uint32_t slot; /* where the value is now */
    uint32_t home; /* its position's slot */
    uint64_t k;    /* a constant's bits (slot == CONST_SLOT) */
} sv;

typedef struct {
    uint8_t kind;
    bool unreachable; /* the spec's flag: the stack is polymorphic */
    bool dead;        /* inside unreachable code: validate, but emit nothing */
    uint32_t nparams, nresults;
    const uint8_t *params, *results;
    uint32_t height;  /* stack entries below the block's params */
    uint32_t hslots;  /* slot height there */
    uint32_t start;   /* loop: index of the first instruction */
    int32_t patch;    /* forward branches to the end, linked through their b fields */
    int32_t else_br;  /* if: the BR_UNLESS to patch to the else part */
} ctl;

typedef struct {
    const wa_module *m;
    wa_reader r;
    wa_error *err;
    const void *const *h;

    uint32_t nlocals;
    uint8_t *ltype;
    uint32_t *lslot;
    uint32_t nlocal_slots;

    sv *stk;
    uint32_t nstk, capstk;
    uint32_t hslots, max_hslots;

    ctl *ctl;
    uint32_t nctl, capctl;

    wa_instr *code;
    uint32_t ncode, capcode;
    wa_instr scratch[3];

    int32_t last_dest;     /* instruction whose result slot may be retargeted, or -1 */
    bool last_imm;         /* it was an immediate form */
    bool last_dest_in_a;   /* its result field is a (else c) */
    wa_irop last_dest_op;
    uint32_t barrier;      /* code index of the latest label: fusions look no further back */
    wa_status st;          /* first error */
} cc;

/* ---- errors ---- */

static bool fail(cc *c, wa_status st, const char *msg)
{
    if (c->st == WA_OK) c->st = wa_err(c->err, st, wa_rd_offset(&c->r), "%s", msg);
    return false;
}
#define INVALID(msg) return fail(c, WA_EINVALID, msg)

/* "unknown <what> N": the reference interpreter names the index (valid.ml, lookup). */
static bool unknown(cc *c, const char *what, uint64_t idx)
{
    char msg[64];
    snprintf(msg, sizeof msg, "unknown %s %llu", what, (unsigned long long)idx);
    return fail(c, WA_EINVALID, msg);
}
#define MALFORMED(msg) return fail(c, WA_EMALFORMED, msg)

static bool rd_fail(cc *c, wa_rd_status s) { MALFORMED(wa_rd_error_text(s)); }

static bool rd_u32(cc *c, uint32_t *v)
{
    wa_rd_status s = wa_rd_u32(&c->r, v);
    return s == WA_RD_OK ? true : rd_fail(c, s);
}

static bool rd_byte(cc *c, uint8_t *v)
{
    wa_rd_status s = wa_rd_byte(&c->r, v);
    return s == WA_RD_OK ? true : rd_fail(c, s);
}

/* ---- emission ---- */

static bool reachable(const cc *c)
{
    const ctl *f = &c->ctl[c->nctl - 1];
    return !f->unreachable && !f->dead;
}

static inline __attribute__((always_inline)) wa_instr *emit(cc *c, wa_irop op)
{
    c->last_dest = -1;
    if (!reachable(c)) {
        memset(c->scratch, 0, sizeof c->scratch);
        return &c->scratch[0];
    }
    if (c->ncode == c->capcode) {
        uint32_t cap = c->capcode ? c->capcode * 2 : 64;
        wa_instr *n = realloc(c->code, cap * sizeof *n);
        if (!n) {
            fail(c, WA_ENOMEM, "out of memory");
            memset(c->scratch, 0, sizeof c->scratch);
            return &c->scratch[0];
        }
        c->code = n;
        c->capcode = cap;
    }
    wa_instr *in = &c->code[c->ncode++];
    memset(in, 0, sizeof *in);
    in->h = c->h[op];
    return in;
}

/* An instruction whose result (field c) goes to `slot`, a fresh temporary on top of the stack. */
static wa_instr *emit_producer(cc *c, wa_irop op, bool dest_in_a)
{
    wa_instr *in = emit(c, op);
    if (reachable(c) && c->st == WA_OK) {
        c->last_dest = (int32_t)(c->ncode - 1);
        c->last_dest_in_a = dest_in_a;
        c->last_dest_op = op;
    }
    return in;
}

static void emit_const(cc *c, uint8_t type, uint32_t dst, uint64_t k)
{
    if (type == WA_I64 || type == WA_F64) {
        wa_instr *in = emit_producer(c, IR_CONST64, true);
        in->a = dst;
        in->k = k;
    } else {
        wa_instr *in = emit_producer(c, IR_CONST32, false);
        in->a = (uint32_t)k;
        in->c = dst;
    }
}

static void emit_mov(cc *c, uint8_t type, uint32_t dst, uint32_t src)
{
    if (dst == src) return;
    wa_instr *in = emit(c, type == WA_V128 ? IR_MOV2 : IR_MOV);
    in->a = src;
    in->c = dst;
}

/* Branch instructions keep unresolved targets in a list linked through b. */
static void link_branch(cc *c, wa_instr *in, ctl *target)
{
    if (!reachable(c) || c->st != WA_OK) return;
    uint32_t idx = (uint32_t)(in - c->code);
    if (target->kind == K_LOOP) {
        in->b = (uint32_t)((int32_t)target->start - (int32_t)idx);
    } else {
        in->b = (uint32_t)target->patch;
        target->patch = (int32_t)idx;
    }
}

static void patch_list(cc *c, int32_t head, uint32_t to)
{
    while (head >= 0) {
        wa_instr *in = &c->code[head];
        int32_t next = (int32_t)in->b;
        in->b = (uint32_t)((int32_t)to - head);
        head = next;
    }
}

/* ---- operand stack ---- */

static uint32_t tslots(uint8_t t) { return t == WA_V128 ? 2 : 1; }

static inline __attribute__((always_inline)) bool push(cc *c, uint8_t type)
{
    if (c->nstk == c->capstk) {
        uint32_t cap = c->capstk ? c->capstk * 2 : 64;
        sv *n = realloc(c->stk, cap * sizeof *n);
        if (!n) return fail(c, WA_ENOMEM, "out of memory");
        c->stk = n;
        c->capstk = cap;
    }
    uint32_t home = c->nlocal_slots + c->hslots;
    c->stk[c->nstk++] = (sv){type, home, home, 0};
    c->hslots += tslots(type);
    if (c->hslots > c->max_hslots) c->max_hslots = c->hslots;
    if (c->max_hslots > MAX_BODY_SLOTS) INVALID("function too complex");
    return true;
}

/* Pushes a value that lives in slot `slot` (a local). */
static bool push_lazy(cc *c, uint8_t type, uint32_t slot)
{
    if (!push(c, type)) return false;
    c->stk[c->nstk - 1].slot = slot;
    return true;
}

static void materialize(cc *c, sv *v);

/* Pops a value that may still be an unwritten constant (CONST_SLOT). */
static inline __attribute__((always_inline)) bool pop_raw(cc *c, uint8_t expect, sv *out)
{
    ctl *f = &c->ctl[c->nctl - 1];
    if (c->nstk == f->height) {
        if (!f->unreachable) INVALID("type mismatch");
        *out = (sv){ANY, c->nlocal_slots + c->hslots, c->nlocal_slots + c->hslots, 0};
        return true;
    }
    sv v = c->stk[--c->nstk];
    c->hslots = v.home - c->nlocal_slots;
    if (expect != ANY && v.type != ANY && v.type != expect) INVALID("type mismatch");
    *out = v;
    return true;
}

/* Pops a value that lives in a slot. */
static bool pop(cc *c, uint8_t expect, sv *out)
{
    if (!pop_raw(c, expect, out)) return false;
    if (out->slot == CONST_SLOT) materialize(c, out);
    return true;
}

static bool push_const(cc *c, uint8_t type, uint64_t k)
{
    if (!push(c, type)) return false;
    c->stk[c->nstk - 1].slot = CONST_SLOT;
    c->stk[c->nstk - 1].k = k;
    return true;
}

static void materialize(cc *c, sv *v)
{
    if (v->slot == CONST_SLOT) {
        emit_const(c, v->type, v->home, v->k);
        v->slot = v->home;
    } else if (v->slot != v->home) {
        emit_mov(c, v->type, v->home, v->slot);
        v->slot = v->home;
    }
}

static void materialize_all(cc *c)
{
    for (uint32_t i = 0; i < c->nstk; i++) materialize(c, &c->stk[i]);
}

/* Before local `slot` changes: lazy copies of it must take their own value. */
static void materialize_local(cc *c, uint32_t slot)
{
    for (uint32_t i = 0; i < c->nstk; i++)
        if (c->stk[i].slot == slot && c->stk[i].home != slot) materialize(c, &c->stk[i]);
}

static bool is_num(uint8_t t)
{
    return t == WA_I32 || t == WA_I64 || t == WA_F32 || t == WA_F64 || t == WA_V128;
}
static bool is_ref(uint8_t t) { return t == WA_FUNCREF || t == WA_EXTERNREF; }

/* ---- control stack ---- */

static bool push_ctl(cc *c, uint8_t kind, uint32_t np, const uint8_t *p, uint32_t nr,
                     const uint8_t *r)
{
    if (c->nctl == c->capctl) {
        uint32_t cap = c->capctl ? c->capctl * 2 : 16;
        ctl *n = realloc(c->ctl, cap * sizeof *n);
        if (!n) return fail(c, WA_ENOMEM, "out of memory");
        c->ctl = n;
        c->capctl = cap;
    }
    bool dead = c->nctl ? !reachable(c) : false;
    ctl *f = &c->ctl[c->nctl++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    f->dead = dead;
    f->nparams = np;
    f->params = p;
    f->nresults = nr;
    f->results = r;
    f->height = c->nstk;
    f->hslots = c->hslots;
    f->patch = -1;
    f->else_br = -1;
    f->start = c->ncode;
    return true;
}

/* Code after this point is unreachable until the end of the block. */
static void set_unreachable(cc *c)
{
    ctl *f = &c->ctl[c->nctl - 1];
    c->nstk = f->height;
    c->hslots = f->hslots;
    f->unreachable = true;
}

static void label_types(const ctl *f, uint32_t *n, const uint8_t **t)
{
    if (f->kind == K_LOOP) {
        *n = f->nparams;
        *t = f->params;
    } else {
        *n = f->nresults;
        *t = f->results;
    }
}

/* Checks that the top of the stack has types t[0..n), then pushes them back: as the types t, or
 * (br_table, where label types may differ in unreachable code) as the types found. */
static bool check_top_as(cc *c, uint32_t n, const uint8_t *t, bool keep_found)
{
    sv tmp[n ? n : 1];
    for (uint32_t i = n; i-- > 0;)
        if (!pop(c, t[i], &tmp[i])) return false;
    for (uint32_t i = 0; i < n; i++) {
        if (!push(c, keep_found ? tmp[i].type : t[i])) return false;
        c->stk[c->nstk - 1].slot = tmp[i].slot;
        c->stk[c->nstk - 1].k = tmp[i].k;
    }
    return true;
}

static bool check_top(cc *c, uint32_t n, const uint8_t *t) { return check_top_as(c, n, t, false); }

/* Copies the top n values to the positions a branch to `target` expects them in. */
static void emit_branch_moves(cc *c, const ctl *target, uint32_t n, bool to_return)
{
    if (!reachable(c)) return;
    uint32_t first = c->nstk - n;
    if (to_return) {
        /* Results go to slots 0.., over the locals: with several results, copy lazy values out
         * of the slots the copies overwrite first. */
        uint32_t nres_slots = 0;
        for (uint32_t i = first; i < c->nstk; i++) nres_slots += tslots(c->stk[i].type);
        for (uint32_t i = first; i < c->nstk; i++)
            if (n > 1 && c->stk[i].slot < nres_slots) materialize(c, &c->stk[i]);
        uint32_t dst = 0;
        for (uint32_t i = first; i < c->nstk; i++) {
            if (c->stk[i].slot == CONST_SLOT) emit_const(c, c->stk[i].type, dst, c->stk[i].k);
            else emit_mov(c, c->stk[i].type, dst, c->stk[i].slot);
            dst += tslots(c->stk[i].type);
        }
        return;
    }
    uint32_t dst = c->nlocal_slots + target->hslots;
    for (uint32_t i = first; i < c->nstk; i++) {
        if (c->stk[i].slot == CONST_SLOT) emit_const(c, c->stk[i].type, dst, c->stk[i].k);
        else emit_mov(c, c->stk[i].type, dst, c->stk[i].slot);
        dst += tslots(c->stk[i].type);
    }
}

static bool needs_moves(const cc *c, const ctl *target, uint32_t n)
{
    uint32_t dst = c->nlocal_slots + target->hslots;
    for (uint32_t i = c->nstk - n; i < c->nstk; i++) {
        if (c->stk[i].slot != dst) return true;
        dst += tslots(c->stk[i].type);
    }
    return false;
}

static void emit_return(cc *c)
{
    const ctl *f = &c->ctl[0];
    /* A single result just computed into a temporary: write it to slot 0 directly. */
    if (f->nresults == 1 && c->last_dest >= 0 && c->nstk >= 1 &&
        c->stk[c->nstk - 1].slot == c->stk[c->nstk - 1].home &&
        c->last_dest == (int32_t)c->ncode - 1) {
        wa_instr *p = &c->code[c->last_dest];
        uint32_t *dst = c->last_dest_in_a ? &p->a : &p->c;
        if (*dst == c->stk[c->nstk - 1].slot) {
            *dst = 0;
            emit(c, IR_RETURN);
            return;
        }
    }
    emit_branch_moves(c, f, f->nresults, true);
    emit(c, IR_RETURN);
}

/* ---- block types ---- */

static bool read_blocktype(cc *c, uint32_t *np, const uint8_t **p, uint32_t *nr, const uint8_t **r)
{
    static const uint8_t single[256] = {
        [WA_I32] = WA_I32, [WA_I64] = WA_I64, [WA_F32] = WA_F32, [WA_F64] = WA_F64,
        [WA_V128] = WA_V128, [WA_FUNCREF] = WA_FUNCREF, [WA_EXTERNREF] = WA_EXTERNREF,
    };
    if (c->r.p >= c->r.end) MALFORMED(wa_rd_error_text(WA_RD_EOF));
    uint8_t b = *c->r.p;
    *np = 0;
    *p = NULL;
    if (b == 0x40) {
        c->r.p++;
        *nr = 0;
        *r = NULL;
        return true;
    }
    if (single[b]) {
        c->r.p++;
        *nr = 1;
        *r = &single[b];
        return true;
    }
    int64_t idx;
    wa_rd_status s = wa_rd_sleb(&c->r, 33, &idx);
    if (s != WA_RD_OK) return rd_fail(c, s);
    if (idx < 0) MALFORMED("malformed value type");
    if ((uint64_t)idx >= c->m->ntypes) return unknown(c, "type", (uint64_t)idx);
    const wa_sig *sig = c->m->types[idx];
    *np = sig->nparams;
    *p = wa_sig_params(sig);
    *nr = sig->nresults;
    *r = wa_sig_results(sig);
    return true;
}

/* ---- instruction groups ---- */

typedef struct {
    uint16_t ir;
    uint8_t bin, t1, tr;
} numinfo;

static numinfo num_table[0x108];

static void init_tables(void);
static void fill_num_table(void)
{
    init_tables();
#define UN 0
#define BIN 1
#define I32 WA_I32
#define I64 WA_I64
#define F32 WA_F32
#define F64 WA_F64
#define NUM(byte, name, kind, t1_, tr_) num_table[byte] = (numinfo){IR_##name, kind, t1_, tr_};
#define OP(name)
#define IMM(name)
#define BRCMP(name)
#define KIMM(name)
#define MEMOP(name, load)
#include "irops.def"
#undef NUM
#undef OP
#undef IMM
#undef BRCMP
#undef KIMM
#undef MEMOP
#undef UN
#undef BIN
#undef I32
#undef I64
#undef F32
#undef F64
}

static uint16_t imm_of[IR_COUNT];   /* immediate form of an integer binop, 0 if none */
static uint16_t brcmp_of[IR_COUNT]; /* compare-and-branch form of a comparison, 0 if none */
static uint16_t negated[IR_COUNT];  /* the comparison with the opposite outcome */
static uint16_t kimm_of[IR_COUNT];  /* float operation with a constant right operand (k) */
static uint16_t memop_of[IR_COUNT]; /* the form with its right operand loaded from memory */
static uint16_t memop_load[IR_COUNT]; /* the load that form folds in */
static uint16_t operands_swapped[IR_COUNT]; /* the float op computing the same with x, y swapped */

static void init_tables(void)
{
#define IMM(name) imm_of[IR_##name] = IR_##name##_I;
#define BRCMP(name) brcmp_of[IR_##name] = IR_BR_##name;
#define KIMM(name) kimm_of[IR_##name] = IR_##name##_K;
#define MEMOP(name, load) memop_of[IR_##name] = IR_##name##_M, memop_load[IR_##name] = IR_##load;
#define NUM(byte, name, kind, t1, tr)
#define OP(name)
#include "irops.def"
#undef IMM
#undef BRCMP
#undef KIMM
#undef MEMOP
#undef NUM
#undef OP
    static const uint16_t swapped[][2] = { /* x op y == y op' x */
        {IR_F32_LT, IR_F32_GT}, {IR_F32_LE, IR_F32_GE}, {IR_F64_LT, IR_F64_GT},
        {IR_F64_LE, IR_F64_GE}, {IR_F32_EQ, IR_F32_EQ}, {IR_F32_NE, IR_F32_NE},
        {IR_F64_EQ, IR_F64_EQ}, {IR_F64_NE, IR_F64_NE}, {IR_F32_ADD, IR_F32_ADD},
        {IR_F32_MUL, IR_F32_MUL}, {IR_F64_ADD, IR_F64_ADD}, {IR_F64_MUL, IR_F64_MUL},
    };
    for (size_t i = 0; i < sizeof swapped / sizeof swapped[0]; i++) {
        operands_swapped[swapped[i][0]] = swapped[i][1];
        operands_swapped[swapped[i][1]] = swapped[i][0];
    }
    static const uint16_t pairs[][2] = {
        {IR_I32_EQ, IR_I32_NE},     {IR_I32_LT_S, IR_I32_GE_S}, {IR_I32_LT_U, IR_I32_GE_U},
        {IR_I32_GT_S, IR_I32_LE_S}, {IR_I32_GT_U, IR_I32_LE_U}, {IR_I64_EQ, IR_I64_NE},
        {IR_I64_LT_S, IR_I64_GE_S}, {IR_I64_LT_U, IR_I64_GE_U}, {IR_I64_GT_S, IR_I64_LE_S},
        {IR_I64_GT_U, IR_I64_LE_U},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        negated[pairs[i][0]] = pairs[i][1];
        negated[pairs[i][1]] = pairs[i][0];
    }
}

static bool commutative(uint16_t ir)
{
    switch (ir) {
    case IR_I32_ADD: case IR_I32_MUL: case IR_I32_AND: case IR_I32_OR: case IR_I32_XOR:
    case IR_I32_EQ: case IR_I32_NE: case IR_I64_ADD: case IR_I64_MUL: case IR_I64_AND:
    case IR_I64_OR: case IR_I64_XOR: case IR_I64_EQ: case IR_I64_NE:
        return true;
    }
    return false;
}

/* A constant usable as the 32-bit immediate of an operation on type t. */
static bool fits_imm(uint8_t t, uint64_t k)
{
    return t == WA_I32 || (int64_t)k == (int64_t)(int32_t)k;
}

/* The float operation computing k op x for a constant k on the left, or 0. */
static wa_irop kleft_of(uint16_t ir)
{
    switch (ir) {
    case IR_F32_SUB: return IR_F32_SUB_KL;
    case IR_F32_DIV: return IR_F32_DIV_KL;
    case IR_F64_SUB: return IR_F64_SUB_KL;
    case IR_F64_DIV: return IR_F64_DIV_KL;
    }
    return 0;
}

/* a + x*y, x*y + a or a - x*y, where the product was computed by the instruction just before into
 * the temporary consumed here: that multiply becomes a MULADD/MULSUB (c = a +/- b*d). */
static bool fuse_muladd(cc *c, uint16_t ir, const sv *a, const sv *b, uint8_t tr)
{
    bool add = ir == IR_F32_ADD || ir == IR_F64_ADD;
    if (!add && ir != IR_F32_SUB && ir != IR_F64_SUB) return false;
    bool f64 = ir == IR_F64_ADD || ir == IR_F64_SUB;
    if (!reachable(c) || c->last_dest < 0 || c->last_dest != (int32_t)c->ncode - 1 ||
        c->last_dest_in_a || c->last_dest_op != (f64 ? IR_F64_MUL : IR_F32_MUL))
        return false;
    wa_instr *p = &c->code[c->last_dest];
    const sv *other;
    if (b->slot == b->home && p->c == b->slot && a->slot != CONST_SLOT) other = a;
    else if (add && a->slot == a->home && p->c == a->slot && b->slot != CONST_SLOT) other = b;
    else return false;
    if (!push(c, tr)) return false;
    wa_irop op = f64 ? (add ? IR_F64_MULADD : IR_F64_MULSUB) : (add ? IR_F32_MULADD : IR_F32_MULSUB);
    uint32_t x = p->a, y = p->b;
    p->h = c->h[op];
    p->a = other->slot;
    p->b = x;
    p->d = y;
    p->c = c->stk[c->nstk - 1].home;
    c->last_dest_op = op;
    c->last_imm = false;
    return true;
}

static bool do_numeric(cc *c, uint32_t code)
{
    const numinfo *ni = &num_table[code];
    sv a, b = {0};
    uint16_t ir = ni->ir;
    bool imm = false;
    if (ni->bin) {
        if (!pop_raw(c, ni->t1, &b) || !pop_raw(c, ni->t1, &a)) return false;
        if (imm_of[ir] && a.slot != CONST_SLOT && b.slot == CONST_SLOT && fits_imm(ni->t1, b.k)) {
            imm = true;
        } else if (imm_of[ir] && commutative(ir) && a.slot == CONST_SLOT &&
                   b.slot != CONST_SLOT && fits_imm(ni->t1, a.k)) {
            sv t = a;
            a = b;
            b = t;
            imm = true;
        }
        /* The right operand just loaded from memory (by the instruction before): fold the load
         * in, with its offset or its folded address add (not both). Commutative ops also take a
         * loaded left operand when the right one is a local, which emitted nothing after. */
        if (memop_of[ir] && reachable(c) && c->last_dest >= 0 &&
            c->last_dest == (int32_t)c->ncode - 1 && !c->last_dest_in_a &&
            c->last_dest_op == memop_load[ir] &&
            (c->code[c->last_dest].d == 0 || c->code[c->last_dest].b == 0)) {
            wa_instr *p = &c->code[c->last_dest];
            sv *loaded = NULL, *other = NULL;
            if (b.slot == b.home && p->c == b.slot && a.slot != CONST_SLOT) {
                loaded = &b, other = &a;
            } else if (commutative(ir) && a.slot == a.home && p->c == a.slot &&
                       b.slot != CONST_SLOT && b.slot != b.home) {
                loaded = &a, other = &b;
            }
            if (loaded) {
                uint32_t addr = p->a, off = p->b, add = p->d;
                if (!push(c, ni->tr)) return false;
                p->h = c->h[memop_of[ir] + (add ? 1 : 0)]; /* _M, or _MW right after it */
                p->a = other->slot;
                p->b = addr;
                p->d = add ? add : off;
                p->c = c->stk[c->nstk - 1].home;
                c->last_dest_op = (wa_irop)memop_of[ir];
                c->last_imm = false;
                return true;
            }
        }
        if (fuse_muladd(c, ir, &a, &b, ni->tr)) return true;
        /* A float constant: operand order first (only where swapping is exact: not min/max,
         * whose -0 and NaN results depend on the order), then the constant form. */
        if (!imm && a.slot == CONST_SLOT && b.slot != CONST_SLOT && operands_swapped[ir] &&
            kimm_of[operands_swapped[ir]]) {
            sv t = a;
            a = b;
            b = t;
            ir = operands_swapped[ir];
        }
        if (!imm && a.slot == CONST_SLOT && b.slot != CONST_SLOT && kleft_of(ir)) {
            if (!push(c, ni->tr)) return false;
            wa_instr *in = emit_producer(c, kleft_of(ir), true);
            in->a = c->stk[c->nstk - 1].home;
            in->b = b.slot;
            in->k = ni->t1 == WA_F32 ? (uint32_t)a.k : a.k;
            c->last_imm = false;
            return true;
        }
        if (!imm && kimm_of[ir] && a.slot != CONST_SLOT && b.slot == CONST_SLOT) {
            if (!push(c, ni->tr)) return false;
            wa_instr *in = emit_producer(c, (wa_irop)kimm_of[ir], true);
            in->a = c->stk[c->nstk - 1].home;
            in->b = a.slot;
            in->k = ni->t1 == WA_F32 ? (uint32_t)b.k : b.k;
            c->last_imm = false;
            return true;
        }
        if (a.slot == CONST_SLOT) materialize(c, &a);
        if (!imm && b.slot == CONST_SLOT) materialize(c, &b);
    } else if (!pop(c, ni->t1, &a)) {
        return false;
    }
    if (!push(c, ni->tr)) return false;
    wa_instr *in = emit_producer(c, (wa_irop)(imm ? imm_of[ir] : ir), false);
    in->a = a.slot;
    in->b = imm ? (uint32_t)b.k : b.slot;
    in->c = c->stk[c->nstk - 1].home;
    if (imm) c->last_dest_op = (wa_irop)ir; /* fusion looks at the comparison, see fuse_cmp */
    c->last_imm = imm;
    return true;
}

/* If the branch condition `cond` was just computed by an integer comparison, turns that
 * comparison into a compare-and-branch (negated: branch when false) and returns it. */
static wa_instr *fuse_cmp(cc *c, const sv *cond, bool negate)
{
    if (!reachable(c) || c->last_dest < 0 || c->last_dest != (int32_t)c->ncode - 1) return NULL;
    if (cond->slot != cond->home || c->last_dest_in_a) return NULL;
    wa_instr *p = &c->code[c->last_dest];
    if (p->c != cond->slot) return NULL;
    uint16_t op = c->last_dest_op;
    bool imm = c->last_imm;
    if (op == IR_I32_EQZ || op == IR_I64_EQZ) { /* x == 0 */
        op = op == IR_I32_EQZ ? IR_I32_EQ : IR_I64_EQ;
        imm = true;
        p->b = 0;
    }
    if (negate) op = negated[op];
    if (!op || !brcmp_of[op]) return NULL;
    uint32_t y = p->b;
    p->h = c->h[brcmp_of[op] + (imm ? 1 : 0)];
    p->c = y;
    p->b = 0;
    c->last_dest = -1;
    return p;
}

static bool need_memory(cc *c)
{
    if (c->m->nmems == 0) INVALID("unknown memory 0");
    return true;
}

static bool read_memarg(cc *c, uint32_t natural_log2, uint32_t *offset)
{
    uint32_t align;
    if (!rd_u32(c, &align) || !rd_u32(c, offset)) return false;
    if (!need_memory(c)) return false;
    if (align > natural_log2) INVALID("alignment must not be larger than natural");
    return true;
}

/* Memory instructions compute their address as (base + d) mod 2^32 + offset, d being the
 * constant of an `i32.add` that computed the address just before: the add is folded into the
 * access (it cannot become part of the offset, which does not wrap). Returns the instruction to
 * reuse, or NULL. */
static wa_instr *fold_address_add(cc *c, const sv *addr)
{
    if (!reachable(c) || c->last_dest < 0 || c->last_dest != (int32_t)c->ncode - 1) return NULL;
    if (c->last_dest_op != IR_I32_ADD || !c->last_imm || c->last_dest_in_a) return NULL;
    wa_instr *p = &c->code[c->last_dest];
    if (addr->slot != addr->home || p->c != addr->slot) return NULL;
    p->d = p->b;
    c->last_dest = -1;
    return p;
}

static bool do_load(cc *c, wa_irop op, uint32_t nat, uint8_t t)
{
    uint32_t off;
    sv addr;
    if (!read_memarg(c, nat, &off) || !pop(c, WA_I32, &addr) || !push(c, t)) return false;
    wa_instr *in = fold_address_add(c, &addr);
    if (in) {
        in->h = c->h[op];
        c->last_dest = (int32_t)(in - c->code);
        c->last_dest_in_a = false;
        c->last_dest_op = op;
        c->last_imm = false;
    } else {
        in = emit_producer(c, op, false);
        in->a = addr.slot;
    }
    in->b = off;
    in->c = c->stk[c->nstk - 1].home;
    return true;
}

/* A float store of m +/- x*y back to the address m was loaded from (y[i] += a * x[i]): the last two
 * instructions are either MUL x,y -> p; ADD_M p,[addr+off] or LOAD [addr+off] -> m; MULADD/MULSUB
 * m,x,y. Both become one read-modify-write (irops.def _MS). The temporaries in between are dead
 * once stored, and no label lies between the two. */
static bool fuse_store_back(cc *c, wa_irop store, const sv *addr, const sv *val, uint32_t off)
{
    uint32_t n = c->ncode;
    if (store != IR_I64_STORE && store != IR_I32_STORE) return false;
    if (!reachable(c) || n < 2 || n - 2 < c->barrier || c->last_dest != (int32_t)n - 1 ||
        c->last_dest_in_a || val->slot != val->home || addr->slot == CONST_SLOT)
        return false;
    bool f64 = store == IR_I64_STORE;
    wa_instr *last = &c->code[n - 1], *prev = &c->code[n - 2];
    if (last->c != val->slot || last->a < c->nlocal_slots) return false;
    wa_irop op;
    uint32_t x, y;
    if (c->last_dest_op == (f64 ? IR_F64_ADD_M : IR_F32_ADD_M)) {
        if (prev->h != c->h[f64 ? IR_F64_MUL : IR_F32_MUL] || prev->c != last->a ||
            last->b != addr->slot || last->d != off)
            return false;
        op = f64 ? IR_F64_MULADD_MS : IR_F32_MULADD_MS;
        x = prev->a, y = prev->b;
    } else if (c->last_dest_op == (f64 ? IR_F64_MULADD : IR_F32_MULADD) ||
               c->last_dest_op == (f64 ? IR_F64_MULSUB : IR_F32_MULSUB)) {
        if (prev->h != c->h[f64 ? IR_I64_LOAD : IR_I32_LOAD] || prev->c != last->a ||
            prev->d != 0 || prev->a != addr->slot || prev->b != off)
            return false;
        bool add = c->last_dest_op == IR_F64_MULADD || c->last_dest_op == IR_F32_MULADD;
        op = f64 ? (add ? IR_F64_MULADD_MS : IR_F64_MULSUB_MS)
                 : (add ? IR_F32_MULADD_MS : IR_F32_MULSUB_MS);
        x = last->b, y = last->d;
    } else {
        return false;
    }
    memset(prev, 0, sizeof *prev);
    prev->h = c->h[op];
    prev->a = addr->slot;
    prev->b = x;
    prev->c = off;
    prev->d = y;
    c->ncode = n - 1;
    c->last_dest = -1;
    return true;
}

static bool do_store(cc *c, wa_irop op, uint32_t nat, uint8_t t)
{
    uint32_t off;
    sv addr, val;
    if (!read_memarg(c, nat, &off) || !pop(c, t, &val) || !pop(c, WA_I32, &addr)) return false;
    if ((t == WA_F32 || t == WA_F64) && fuse_store_back(c, op, &addr, &val, off)) return true;
    wa_instr *in = fold_address_add(c, &addr);
    if (in) in->h = c->h[op];
    else (in = emit(c, op))->a = addr.slot;
    in->b = off;
    in->c = val.slot;
    return true;
}

static bool do_call(cc *c, const wa_sig *sig, wa_irop op, uint32_t x, uint32_t tbl, uint32_t type,
                    uint32_t idx_slot)
{
    const uint8_t *pt = wa_sig_params(sig);
    sv v;
    for (uint32_t i = sig->nparams; i-- > 0;)
        if (!pop(c, pt[i], &v)) return false;
    uint32_t base = c->nlocal_slots + c->hslots;
    /* The arguments must sit at consecutive homes from `base`. */
    if (reachable(c)) /* (in unreachable code the popped entries may not exist) */
        for (uint32_t i = 0; i < sig->nparams; i++) materialize(c, &c->stk[c->nstk + i]);
    wa_instr *in = emit(c, op);
    in->a = base;
    if (op == IR_CALL) {
        in->k = (uint64_t)(uintptr_t)&c->m->funcs[x - c->m->nfunc_imports];
    } else if (op == IR_CALL_IMPORT) {
        in->b = x;
    } else {
        in->b = tbl;
        in->c = type;
        in->d = idx_slot;
    }
    const uint8_t *rt = wa_sig_results(sig);
    for (uint32_t i = 0; i < sig->nresults; i++)
        if (!push(c, rt[i])) return false;
    /* the callee's frame needs room for its results at base even if it has none here */
    uint32_t need = base - c->nlocal_slots + (sig->param_slots > sig->result_slots
                                                   ? sig->param_slots : sig->result_slots);
    if (need > c->max_hslots) c->max_hslots = need;
    return true;
}

static bool check_table(cc *c, uint32_t t)
{
    if (t >= c->m->ntables) return unknown(c, "table", t);
    return true;
}

static bool do_prefix_fc(cc *c)
{
    uint32_t sub;
    if (!rd_u32(c, &sub)) return false;
    const wa_module *m = c->m;
    sv a, b, n;
    wa_instr *in;
    if (sub <= 7) return do_numeric(c, 0x100 + sub);
    switch (sub) {
    case 8: { /* memory.init */
        uint32_t seg;
        uint8_t zero;
        if (!rd_u32(c, &seg) || !rd_byte(c, &zero)) return false;
        if (zero != 0) MALFORMED("zero byte expected");
        if (!need_memory(c)) return false;
        /* without a data count section, a data section makes the use malformed; none: count 0 */
        if (!m->has_datacount && m->ndatas) MALFORMED("data count section required");
        if (seg >= (m->has_datacount ? m->datacount : 0)) return unknown(c, "data segment", seg);
        if (!pop(c, WA_I32, &n) || !pop(c, WA_I32, &b) || !pop(c, WA_I32, &a)) return false;
        in = emit(c, IR_MEMORY_INIT);
        in->a = a.slot, in->b = b.slot, in->c = n.slot, in->d = seg;
        return true;
    }
    case 9: { /* data.drop */
        uint32_t seg;
        if (!rd_u32(c, &seg)) return false;
        /* without a data count section, a data section makes the use malformed; none: count 0 */
        if (!m->has_datacount && m->ndatas) MALFORMED("data count section required");
        if (seg >= (m->has_datacount ? m->datacount : 0)) return unknown(c, "data segment", seg);
        emit(c, IR_DATA_DROP)->a = seg;
        return true;
    }
    case 10: /* memory.copy */
    case 11: { /* memory.fill */
        uint8_t z1, z2 = 0;
        if (!rd_byte(c, &z1)) return false;
        if (sub == 10 && !rd_byte(c, &z2)) return false;
        if (z1 || z2) MALFORMED("zero byte expected");
        if (!need_memory(c)) return false;
        if (!pop(c, WA_I32, &n) || !pop(c, WA_I32, &b) || !pop(c, WA_I32, &a)) return false;
        in = emit(c, sub == 10 ? IR_MEMORY_COPY : IR_MEMORY_FILL);
        in->a = a.slot, in->b = b.slot, in->c = n.slot;
        return true;
    }
    case 12: { /* table.init */
        uint32_t seg, t;
        if (!rd_u32(c, &seg) || !rd_u32(c, &t)) return false;
        if (!check_table(c, t)) return false;
        if (seg >= m->nelems) return unknown(c, "elem segment", seg);
        if (m->elems[seg].elemtype != m->tables[t].elemtype) INVALID("type mismatch");
        if (!pop(c, WA_I32, &n) || !pop(c, WA_I32, &b) || !pop(c, WA_I32, &a)) return false;
        in = emit(c, IR_TABLE_INIT);
        in->a = a.slot, in->b = b.slot, in->c = n.slot, in->d = t;
        emit(c, IR_TABLE_INIT)->a = seg; /* data word, skipped by the handler */
        return true;
    }
    case 13: { /* elem.drop */
        uint32_t seg;
        if (!rd_u32(c, &seg)) return false;
        if (seg >= m->nelems) return unknown(c, "elem segment", seg);
        emit(c, IR_ELEM_DROP)->a = seg;
        return true;
    }
    case 14: { /* table.copy */
        uint32_t td, ts;
        if (!rd_u32(c, &td) || !rd_u32(c, &ts)) return false;
        if (!check_table(c, td) || !check_table(c, ts)) return false;
        if (m->tables[td].elemtype != m->tables[ts].elemtype) INVALID("type mismatch");
        if (!pop(c, WA_I32, &n) || !pop(c, WA_I32, &b) || !pop(c, WA_I32, &a)) return false;
        in = emit(c, IR_TABLE_COPY);
        in->a = a.slot, in->b = b.slot, in->c = n.slot, in->d = td;
        emit(c, IR_TABLE_COPY)->a = ts;
        return true;
    }
    case 15: { /* table.grow */
        uint32_t t;
        if (!rd_u32(c, &t) || !check_table(c, t)) return false;
        if (!pop(c, WA_I32, &n) || !pop(c, m->tables[t].elemtype, &a) || !push(c, WA_I32))
            return false;
        in = emit_producer(c, IR_TABLE_GROW, false);
        in->a = a.slot, in->b = n.slot, in->c = c->stk[c->nstk - 1].home, in->d = t;
        return true;
    }
    case 16: { /* table.size */
        uint32_t t;
        if (!rd_u32(c, &t) || !check_table(c, t) || !push(c, WA_I32)) return false;
        in = emit_producer(c, IR_TABLE_SIZE, false);
        in->c = c->stk[c->nstk - 1].home, in->d = t;
        return true;
    }
    case 17: { /* table.fill */
        uint32_t t;
        if (!rd_u32(c, &t) || !check_table(c, t)) return false;
        if (!pop(c, WA_I32, &n) || !pop(c, m->tables[t].elemtype, &b) || !pop(c, WA_I32, &a))
            return false;
        in = emit(c, IR_TABLE_FILL);
        in->a = a.slot, in->b = b.slot, in->c = n.slot, in->d = t;
        return true;
    }
    }
    MALFORMED("illegal opcode");
}

/* ---- the main loop ---- */

static bool do_end(cc *c)
{
    ctl *f = &c->ctl[c->nctl - 1];
    if (f->kind == K_IF) {
        /* no else: the missing else passes the params through as results */
        if (f->nparams != f->nresults ||
            (f->nparams && memcmp(f->params, f->results, f->nparams) != 0))
            INVALID("type mismatch");
    }
    if (!check_top(c, f->nresults, f->results)) return false;
    if (c->nstk != f->height + f->nresults) INVALID("type mismatch");
    if (f->kind == K_FUNC) {
        if (reachable(c)) emit_return(c); /* branches to the function's end return directly */
        c->nctl--;
        return true;
    }
    if (reachable(c))
        for (uint32_t i = f->height; i < c->nstk; i++) materialize(c, &c->stk[i]);
    if (f->else_br >= 0) {
        wa_instr *in = &c->code[f->else_br];
        in->b = c->ncode - (uint32_t)f->else_br;
    }
    patch_list(c, f->patch, c->ncode);
    uint32_t nr = f->nresults;
    const uint8_t *rt = f->results;
    c->nstk = f->height;
    c->hslots = f->hslots;
    c->nctl--;
    for (uint32_t i = 0; i < nr; i++)
        if (!push(c, rt[i])) return false;
    c->last_dest = -1;
    c->barrier = c->ncode;
    return true;
}

static bool do_br(cc *c, uint32_t depth, bool conditional)
{
    if (depth >= c->nctl) return unknown(c, "label", depth);
    ctl *target = &c->ctl[c->nctl - 1 - depth];
    uint32_t n;
    const uint8_t *t;
    label_types(target, &n, &t);
    sv cond = {0};
    if (conditional && !pop(c, WA_I32, &cond)) return false;
    if (!check_top(c, n, t)) return false;
    bool back = target->kind == K_LOOP;
    bool is_return = target->kind == K_FUNC;
    if (!conditional) {
        if (is_return) {
            emit_return(c);
        } else {
            emit_branch_moves(c, target, n, false);
            link_branch(c, emit(c, back ? IR_BR_BACK : IR_BR), target);
        }
        set_unreachable(c);
        return true;
    }
    if (!reachable(c)) return true;
    if (is_return || needs_moves(c, target, n)) {
        wa_instr *skip = emit(c, IR_BR_UNLESS);
        skip->a = cond.slot;
        uint32_t skip_idx = c->ncode - 1;
        if (is_return) {
            emit_return(c);
        } else {
            emit_branch_moves(c, target, n, false);
            link_branch(c, emit(c, back ? IR_BR_BACK : IR_BR), target);
        }
        c->code[skip_idx].b = c->ncode - skip_idx;
    } else {
        wa_instr *in = fuse_cmp(c, &cond, false);
        if (!in) {
            in = emit(c, back ? IR_BR_IF_BACK : IR_BR_IF);
            in->a = cond.slot;
        }
        link_branch(c, in, target);
    }
    c->last_dest = -1;
    return true;
}

static bool do_br_table(cc *c)
{
    uint32_t count;
    if (!rd_u32(c, &count)) return false;
    if (count > (uint32_t)(c->r.end - c->r.p)) MALFORMED(wa_rd_error_text(WA_RD_EOF));
    uint32_t *labels = malloc(((size_t)count + 1) * sizeof *labels);
    if (!labels) return fail(c, WA_ENOMEM, "out of memory");
    bool ok = true;
    for (uint32_t i = 0; i <= count && ok; i++) ok = rd_u32(c, &labels[i]);
    sv idx;
    if (ok) ok = pop(c, WA_I32, &idx);
    uint32_t arity = 0;
    for (uint32_t i = 0; i <= count && ok; i++) {
        if (labels[i] >= c->nctl) {
            ok = fail(c, WA_EINVALID, "unknown label");
            break;
        }
        uint32_t n;
        const uint8_t *t;
        label_types(&c->ctl[c->nctl - 1 - labels[i]], &n, &t);
        if (i == 0) arity = n;
        else if (n != arity) ok = fail(c, WA_EINVALID, "type mismatch");
        if (ok) ok = check_top_as(c, n, t, true);
    }
    if (ok && reachable(c)) {
        wa_instr *in = emit(c, IR_BR_TABLE);
        in->a = idx.slot;
        in->c = count;
        uint32_t first = c->ncode;
        for (uint32_t i = 0; i <= count; i++) emit(c, IR_BR_TABLE_ENTRY);
        /* the default is written last in the binary but is looked up as entry `count` */
        for (uint32_t i = 0; i <= count && c->st == WA_OK; i++) {
            uint32_t depth = i == count ? labels[count] : labels[i];
            ctl *target = &c->ctl[c->nctl - 1 - depth];
            uint32_t entry = first + i;
            if (target->kind != K_FUNC && !needs_moves(c, target, arity)) {
                link_branch(c, &c->code[entry], target);
                continue;
            }
            /* a trampoline after the table: moves, then the jump */
            c->code[entry].b = c->ncode - entry;
            if (target->kind == K_FUNC) {
                emit_return(c);
            } else {
                emit_branch_moves(c, target, arity, false);
                link_branch(c, emit(c, target->kind == K_LOOP ? IR_BR_BACK : IR_BR), target);
            }
        }
    }
    free(labels);
    if (ok) set_unreachable(c);
    return ok && c->st == WA_OK;
}

static bool do_select(cc *c, bool typed)
{
    uint8_t t = ANY;
    if (typed) {
        uint32_t n;
        if (!rd_u32(c, &n)) return false;
        if (n != 1) INVALID("invalid result arity");
        if (!rd_byte(c, &t)) return false;
        if (!is_num(t) && !is_ref(t)) MALFORMED("malformed value type");
    }
    sv cond, a, b;
    if (!pop(c, WA_I32, &cond) || !pop(c, t, &b) || !pop(c, t, &a)) return false;
    if (!typed) {
        if (a.type != ANY && b.type != ANY && a.type != b.type) INVALID("type mismatch");
        t = a.type != ANY ? a.type : b.type;
        if (t != ANY && !is_num(t)) INVALID("type mismatch");
    }
    if (!push(c, t == ANY ? WA_I32 : t)) return false;
    if (t == ANY) c->stk[c->nstk - 1].type = ANY;
    wa_instr *in = emit_producer(c, t == WA_V128 ? IR_SELECT2 : IR_SELECT, false);
    in->a = a.slot;
    in->b = b.slot;
    in->c = c->stk[c->nstk - 1].home;
    in->d = cond.slot;
    return true;
}

static bool do_local(cc *c, uint8_t op)
{
    uint32_t x;
    if (!rd_u32(c, &x)) return false;
    if (x >= c->nlocals) return unknown(c, "local", x);
    uint8_t t = c->ltype[x];
    uint32_t slot = c->lslot[x];
    if (op == 0x20) return push_lazy(c, t, slot);
    sv v;
    if (!pop(c, t, &v)) return false;
    if (reachable(c)) {
        materialize_local(c, slot);
        bool done = false;
        /* retarget the producer of a fresh temporary */
        if (v.slot == v.home && c->last_dest >= 0 && c->last_dest == (int32_t)c->ncode - 1) {
            wa_instr *p = &c->code[c->last_dest];
            uint32_t *dst = c->last_dest_in_a ? &p->a : &p->c;
            if (*dst == v.slot) {
                *dst = slot;
                done = true;
            }
        }
        if (!done) emit_mov(c, t, slot, v.slot);
    }
    c->last_dest = -1;
    if (op == 0x22) return push_lazy(c, t, slot);
    return true;
}

static bool do_global(cc *c, uint8_t op)
{
    uint32_t x;
    if (!rd_u32(c, &x)) return false;
    if (x >= c->m->nglobals) return unknown(c, "global", x);
    const wa_globaltype *g = &c->m->globals[x];
    bool wide = g->type == WA_V128;
    if (op == 0x23) {
        if (!push(c, g->type)) return false;
        wa_instr *in = emit_producer(c, wide ? IR_GLOBAL_GET2 : IR_GLOBAL_GET, false);
        in->a = x;
        in->c = c->stk[c->nstk - 1].home;
        return true;
    }
    if (!g->mut) INVALID("global is immutable");
    sv v;
    if (!pop(c, g->type, &v)) return false;
    wa_instr *in = emit(c, wide ? IR_GLOBAL_SET2 : IR_GLOBAL_SET);
    in->a = x;
    in->b = v.slot;
    return true;
}

static bool do_const(cc *c, uint8_t op)
{
    wa_rd_status s;
    if (op == 0x41) {
        int64_t v;
        if ((s = wa_rd_sleb(&c->r, 32, &v)) != WA_RD_OK) return rd_fail(c, s);
        return push_const(c, WA_I32, (uint32_t)v);
    } else if (op == 0x42) {
        int64_t v;
        if ((s = wa_rd_sleb(&c->r, 64, &v)) != WA_RD_OK) return rd_fail(c, s);
        return push_const(c, WA_I64, (uint64_t)v);
    } else if (op == 0x43) {
        uint32_t v;
        if ((s = wa_rd_fixed32(&c->r, &v)) != WA_RD_OK) return rd_fail(c, s);
        return push_const(c, WA_F32, v);
    } else {
        uint64_t v;
        if ((s = wa_rd_fixed64(&c->r, &v)) != WA_RD_OK) return rd_fail(c, s);
        return push_const(c, WA_F64, v);
    }
}

static bool do_block(cc *c, uint8_t op)
{
    uint32_t np, nr;
    const uint8_t *p, *r;
    sv cond = {0};
    if (!read_blocktype(c, &np, &p, &nr, &r)) return false;
    if (op == 0x04 && !pop(c, WA_I32, &cond)) return false;
    if (!check_top(c, np, p)) return false;
    if (reachable(c)) materialize_all(c);
    int32_t else_br = -1;
    if (op == 0x04 && reachable(c)) {
        wa_instr *in = fuse_cmp(c, &cond, true);
        if (!in) {
            in = emit(c, IR_BR_UNLESS);
            in->a = cond.slot;
        }
        else_br = (int32_t)(in - c->code);
    }
    c->nstk -= np;
    c->hslots = np ? c->stk[c->nstk].home - c->nlocal_slots : c->hslots;
    if (!push_ctl(c, op == 0x02 ? K_BLOCK : op == 0x03 ? K_LOOP : K_IF, np, p, nr, r)) return false;
    c->ctl[c->nctl - 1].else_br = else_br;
    for (uint32_t i = 0; i < np; i++)
        if (!push(c, p[i])) return false;
    c->last_dest = -1;
    c->barrier = c->ncode;
    return true;
}

static bool do_else(cc *c)
{
    ctl *f = &c->ctl[c->nctl - 1];
    if (f->kind != K_IF) MALFORMED("END opcode expected");
    if (!check_top(c, f->nresults, f->results)) return false;
    if (c->nstk != f->height + f->nresults) INVALID("type mismatch");
    if (reachable(c)) {
        for (uint32_t i = f->height; i < c->nstk; i++) materialize(c, &c->stk[i]);
        link_branch(c, emit(c, IR_BR), f);
    }
    if (f->else_br >= 0) c->code[f->else_br].b = c->ncode - (uint32_t)f->else_br;
    f->else_br = -1;
    f->kind = K_ELSE;
    c->nstk = f->height;
    c->hslots = f->hslots;
    f->unreachable = false;
    for (uint32_t i = 0; i < f->nparams; i++)
        if (!push(c, f->params[i])) return false;
    c->last_dest = -1;
    c->barrier = c->ncode;
    return true;
}

#include "compile_simd.inc"

static bool compile_body(cc *c, const wa_sig *sig)
{
    push_ctl(c, K_FUNC, 0, NULL, sig->nresults, wa_sig_results(sig));
    while (c->st == WA_OK) {
        if (c->nctl == 0) break;
        uint8_t op;
        if (!rd_byte(c, &op)) return false;
        sv a, b;
        switch (op) {
        case 0x00: /* unreachable */
            emit(c, IR_UNREACHABLE);
            set_unreachable(c);
            break;
        case 0x01: /* nop */
            break;
        case 0x02:
        case 0x03:
        case 0x04:
            if (!do_block(c, op)) return false;
            break;
        case 0x05:
            if (!do_else(c)) return false;
            break;
        case 0x0b:
            if (!do_end(c)) return false;
            break;
        case 0x0c:
        case 0x0d: {
            uint32_t depth;
            if (!rd_u32(c, &depth) || !do_br(c, depth, op == 0x0d)) return false;
            break;
        }
        case 0x0e:
            if (!do_br_table(c)) return false;
            break;
        case 0x0f:
            if (!check_top(c, c->ctl[0].nresults, c->ctl[0].results)) return false;
            emit_return(c);
            set_unreachable(c);
            break;
        case 0x10: { /* call */
            uint32_t x;
            if (!rd_u32(c, &x)) return false;
            if (x >= c->m->nfuncs) return unknown(c, "function", x);
            if (c->m->func_type[x] >= c->m->ntypes) return unknown(c, "type", c->m->func_type[x]);
            const wa_sig *s = c->m->types[c->m->func_type[x]];
            if (!do_call(c, s, x < c->m->nfunc_imports ? IR_CALL_IMPORT : IR_CALL, x, 0, 0, 0))
                return false;
            break;
        }
        case 0x11: { /* call_indirect */
            uint32_t type, tbl;
            if (!rd_u32(c, &type) || !rd_u32(c, &tbl)) return false;
            if (tbl >= c->m->ntables) return unknown(c, "table", tbl);
            if (type >= c->m->ntypes) return unknown(c, "type", type);
            if (c->m->tables[tbl].elemtype != WA_FUNCREF) INVALID("type mismatch");
            sv idx;
            if (!pop(c, WA_I32, &idx)) return false;
            if (!do_call(c, c->m->types[type], IR_CALL_INDIRECT, 0, tbl, type, idx.slot))
                return false;
            break;
        }
        case 0x1a: /* drop */
            if (!pop(c, ANY, &a)) return false;
            break;
        case 0x1b:
        case 0x1c:
            if (!do_select(c, op == 0x1c)) return false;
            break;
        case 0x20:
        case 0x21:
        case 0x22:
            if (!do_local(c, op)) return false;
            break;
        case 0x23:
        case 0x24:
            if (!do_global(c, op)) return false;
            break;
        case 0x25: { /* table.get */
            uint32_t t;
            if (!rd_u32(c, &t) || !check_table(c, t)) return false;
            if (!pop(c, WA_I32, &a) || !push(c, c->m->tables[t].elemtype)) return false;
            wa_instr *in = emit_producer(c, IR_TABLE_GET, false);
            in->a = a.slot, in->c = c->stk[c->nstk - 1].home, in->d = t;
            break;
        }
        case 0x26: { /* table.set */
            uint32_t t;
            if (!rd_u32(c, &t) || !check_table(c, t)) return false;
            if (!pop(c, c->m->tables[t].elemtype, &b) || !pop(c, WA_I32, &a)) return false;
            wa_instr *in = emit(c, IR_TABLE_SET);
            in->a = a.slot, in->b = b.slot, in->d = t;
            break;
        }
        case 0x28: if (!do_load(c, IR_I32_LOAD, 2, WA_I32)) return false; break;
        case 0x29: if (!do_load(c, IR_I64_LOAD, 3, WA_I64)) return false; break;
        case 0x2a: if (!do_load(c, IR_I32_LOAD, 2, WA_F32)) return false; break;
        case 0x2b: if (!do_load(c, IR_I64_LOAD, 3, WA_F64)) return false; break;
        case 0x2c: if (!do_load(c, IR_I32_LOAD8_S, 0, WA_I32)) return false; break;
        case 0x2d: if (!do_load(c, IR_I32_LOAD8_U, 0, WA_I32)) return false; break;
        case 0x2e: if (!do_load(c, IR_I32_LOAD16_S, 1, WA_I32)) return false; break;
        case 0x2f: if (!do_load(c, IR_I32_LOAD16_U, 1, WA_I32)) return false; break;
        case 0x30: if (!do_load(c, IR_I64_LOAD8_S, 0, WA_I64)) return false; break;
        case 0x31: if (!do_load(c, IR_I64_LOAD8_U, 0, WA_I64)) return false; break;
        case 0x32: if (!do_load(c, IR_I64_LOAD16_S, 1, WA_I64)) return false; break;
        case 0x33: if (!do_load(c, IR_I64_LOAD16_U, 1, WA_I64)) return false; break;
        case 0x34: if (!do_load(c, IR_I64_LOAD32_S, 2, WA_I64)) return false; break;
        case 0x35: if (!do_load(c, IR_I64_LOAD32_U, 2, WA_I64)) return false; break;
        case 0x36: if (!do_store(c, IR_I32_STORE, 2, WA_I32)) return false; break;
        case 0x37: if (!do_store(c, IR_I64_STORE, 3, WA_I64)) return false; break;
        case 0x38: if (!do_store(c, IR_I32_STORE, 2, WA_F32)) return false; break;
        case 0x39: if (!do_store(c, IR_I64_STORE, 3, WA_F64)) return false; break;
        case 0x3a: if (!do_store(c, IR_I32_STORE8, 0, WA_I32)) return false; break;
        case 0x3b: if (!do_store(c, IR_I32_STORE16, 1, WA_I32)) return false; break;
        case 0x3c: if (!do_store(c, IR_I64_STORE8, 0, WA_I64)) return false; break;
        case 0x3d: if (!do_store(c, IR_I64_STORE16, 1, WA_I64)) return false; break;
        case 0x3e: if (!do_store(c, IR_I64_STORE32, 2, WA_I64)) return false; break;
        case 0x3f:
        case 0x40: {
            uint8_t zero;
            if (!rd_byte(c, &zero)) return false;
            if (zero != 0) MALFORMED("zero byte expected");
            if (!need_memory(c)) return false;
            if (op == 0x40 && !pop(c, WA_I32, &a)) return false;
            if (!push(c, WA_I32)) return false;
            wa_instr *in = emit_producer(c, op == 0x3f ? IR_MEMORY_SIZE : IR_MEMORY_GROW, false);
            in->a = op == 0x40 ? a.slot : 0;
            in->c = c->stk[c->nstk - 1].home;
            break;
        }
        case 0x41:
        case 0x42:
        case 0x43:
        case 0x44:
            if (!do_const(c, op)) return false;
            break;
        case 0xa7: /* i32.wrap_i64: the low half of the slot is the result */
        case 0xbc: /* reinterpretations keep the bits */
        case 0xbd:
        case 0xbe:
        case 0xbf: {
            static const uint8_t from[] = {[0xa7 - 0xa7] = WA_I64, [0xbc - 0xa7] = WA_F32,
                                           [0xbd - 0xa7] = WA_F64, [0xbe - 0xa7] = WA_I32,
                                           [0xbf - 0xa7] = WA_I64};
            static const uint8_t to[] = {[0xa7 - 0xa7] = WA_I32, [0xbc - 0xa7] = WA_I32,
                                         [0xbd - 0xa7] = WA_I64, [0xbe - 0xa7] = WA_F32,
                                         [0xbf - 0xa7] = WA_F64};
            if (!pop(c, from[op - 0xa7], &a) || !push(c, to[op - 0xa7])) return false;
            c->stk[c->nstk - 1].slot = a.slot;
            /* the producer of a may still be retargeted: its slot is unchanged */
            break;
        }
        case 0xd0: { /* ref.null */
            uint8_t t;
            if (!rd_byte(c, &t)) return false;
            if (!is_ref(t)) MALFORMED("malformed reference type");
            if (!push(c, t)) return false;
            emit_producer(c, IR_REF_NULL, false)->c = c->stk[c->nstk - 1].home;
            break;
        }
        case 0xd1: { /* ref.is_null */
            if (!pop(c, ANY, &a)) return false;
            if (a.type != ANY && !is_ref(a.type)) INVALID("type mismatch");
            if (!push(c, WA_I32)) return false;
            wa_instr *in = emit_producer(c, IR_REF_IS_NULL, false);
            in->a = a.slot;
            in->c = c->stk[c->nstk - 1].home;
            break;
        }
        case 0xd2: { /* ref.func */
            uint32_t x;
            if (!rd_u32(c, &x)) return false;
            if (x >= c->m->nfuncs) return unknown(c, "function", x);
            if (!wa_module_func_declared(c->m, x)) INVALID("undeclared function reference");
            if (!push(c, WA_FUNCREF)) return false;
            wa_instr *in = emit_producer(c, IR_REF_FUNC, false);
            in->a = x;
            in->c = c->stk[c->nstk - 1].home;
            break;
        }
        case 0xfc:
            if (!do_prefix_fc(c)) return false;
            break;
        case 0xfd:
            if (!do_prefix_fd(c)) return false;
            break;
        default:
            if (op >= 0x45 && op <= 0xc4 && num_table[op].tr) {
                if (!do_numeric(c, op)) return false;
                break;
            }
            MALFORMED("illegal opcode");
        }
    }
    if (c->st != WA_OK) return false;
    if (c->r.p != c->r.end) MALFORMED("section size mismatch");
    return true;
}

static bool read_locals(cc *c, const wa_sig *sig)
{
    uint32_t ngroups;
    if (!rd_u32(c, &ngroups)) return false;
    const uint8_t *groups = c->r.p;
    uint64_t total = sig->nparams;
    for (uint32_t i = 0; i < ngroups; i++) {
        uint32_t n;
        uint8_t t;
        if (!rd_u32(c, &n) || !rd_byte(c, &t)) return false;
        total += n;
        if (total > UINT32_MAX) MALFORMED("too many locals");
        if (!is_num(t) && !is_ref(t)) MALFORMED("malformed value type");
    }
    if (total > MAX_LOCALS) MALFORMED("too many locals");
    c->nlocals = (uint32_t)total;
    c->ltype = malloc(total ? total : 1);
    c->lslot = malloc((total ? total : 1) * sizeof *c->lslot);
    if (!c->ltype || !c->lslot) return fail(c, WA_ENOMEM, "out of memory");
    uint32_t li = 0, slot = 0;
    for (uint32_t i = 0; i < sig->nparams; i++, li++) {
        c->ltype[li] = wa_sig_params(sig)[i];
        c->lslot[li] = slot;
        slot += tslots(c->ltype[li]);
    }
    wa_reader g = {c->r.base, groups, c->r.end};
    for (uint32_t i = 0; i < ngroups; i++) {
        uint32_t n = 0;
        uint8_t t = 0;
        wa_rd_u32(&g, &n);
        wa_rd_byte(&g, &t);
        for (uint32_t j = 0; j < n; j++, li++) {
            c->ltype[li] = t;
            c->lslot[li] = slot;
            slot += tslots(t);
        }
    }
    c->nlocal_slots = slot;
    return true;
}

wa_status wa_compile_func(const wa_module *m, uint32_t def_idx, wa_error *err)
{
    static pthread_once_t tables_once = PTHREAD_ONCE_INIT;
    pthread_once(&tables_once, fill_num_table); /* functions compile on several threads */
    wa_funcdef *fd = (wa_funcdef *)&m->funcs[def_idx];
    const wa_sig *sig = m->types[fd->type_idx];
    cc c;
    memset(&c, 0, sizeof c);
    c.m = m;
    c.err = err;
    c.h = wa_interp_handlers();
    c.last_dest = -1;
    c.r = (wa_reader){m->bytes, m->bytes + fd->body_off, m->bytes + fd->body_off + fd->body_len};
    bool ok = read_locals(&c, sig) && compile_body(&c, sig);
    if (ok && c.nctl != 0) ok = fail(&c, WA_EMALFORMED, wa_rd_error_text(WA_RD_EOF));
    if (ok) {
        fd->param_slots = sig->param_slots;
        fd->nlocal_slots = c.nlocal_slots;
        uint32_t frame = c.nlocal_slots + c.max_hslots;
        if (frame < sig->result_slots) frame = sig->result_slots;
        fd->frame_slots = frame;
        fd->code = c.code;
        fd->ncode = c.ncode;
        c.code = NULL;
        static int dump = -1;
        if (dump < 0) dump = getenv("APRON_DUMP_IR") != NULL;
        if (dump) wa_dump_code(stderr, fd, m->nfunc_imports + def_idx);
    }
    free(c.code);
    free(c.stk);
    free(c.ctl);
    free(c.ltype);
    free(c.lslot);
    if (!ok && c.st == WA_EINVALID) wa_scan_bodies_malformed(m, def_idx, err) && (c.st = WA_EMALFORMED);
    return ok ? WA_OK : c.st;
}
