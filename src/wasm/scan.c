/* scan.c — syntax-only decoding of function bodies. A module that is both malformed and invalid
 * must be reported malformed (the spec decodes everything before validating); compile.c checks
 * both in one pass, so when it finds a body invalid it asks this file whether that body or a later
 * one is malformed. */
#include "leb.h"
#include "module.h"

#include <stdlib.h>

/* Immediates of the 0xFD (SIMD) instructions by sub-opcode, from irops_simd.def's shapes. */
enum {
    FD_NONE, FD_MEMARG, FD_MEMARG_LANE, FD_BYTES16, FD_LANE, FD_PLAIN,
    FD_LOAD = FD_MEMARG, FD_STORE = FD_MEMARG, FD_LDLANE = FD_MEMARG_LANE,
    FD_STLANE = FD_MEMARG_LANE, FD_CONST = FD_BYTES16, FD_SHUF = FD_BYTES16, FD_EXTRACT = FD_LANE,
    FD_REPLACE = FD_LANE, FD_UN = FD_PLAIN, FD_BIN = FD_PLAIN, FD_TERN = FD_PLAIN,
    FD_TEST = FD_PLAIN, FD_SHIFT = FD_PLAIN, FD_SPLAT = FD_PLAIN,
};
static const uint8_t fd_imm[256] = {
#define SIMD(sub, name, kind, x, t) [sub] = FD_##kind,
#define SIMDX SIMD
#include "irops_simd.def"
#undef SIMD
#undef SIMDX
};

/* Reads that fail with the reader's own wording (leb.h) end the scan. */
#define RD(expr)                                                                                   \
    do {                                                                                           \
        wa_rd_status rd_ = (expr);                                                                 \
        if (rd_ != WA_RD_OK) {                                                                     \
            *why = wa_rd_error_text(rd_);                                                          \
            goto bad_free;                                                                         \
        }                                                                                          \
    } while (0)
#define SKIP_U32() RD(wa_rd_u32(&r, &n))

/* The body at [off, off+len): false if malformed, with the offset in *at and the reason in *why.
 * Reading stops at `limit`: the body's end, or the module's to decode as the reference
 * interpreter does, which reads a body past its declared size and then compares sizes. */
static bool scan_body(const wa_module *m, uint32_t off, uint32_t len, const uint8_t *limit,
                      uint32_t *at, const char **why)
{
    wa_reader r = {m->bytes, m->bytes + off, limit};
    const uint8_t *body_end = m->bytes + off + len;
    uint32_t ngroups = 0, n;
    uint8_t b;
    uint8_t *kinds = NULL;
    RD(wa_rd_u32(&r, &ngroups));
    for (uint32_t i = 0; i < ngroups; i++) {
        SKIP_U32();
        RD(wa_rd_byte(&r, &b));
    }
    /* kinds of open blocks: 1 = if (else allowed), 0 = other */
    uint32_t depth = 1, cap = 64;
    kinds = malloc(cap);
    if (!kinds) return true; /* cannot tell: let the validation error stand */
    kinds[0] = 0;
    while (depth > 0) {
        uint8_t op;
        RD(wa_rd_byte(&r, &op));
        switch (op) {
        case 0x02: case 0x03: case 0x04:
            if (r.p >= r.end) RD(WA_RD_EOF);
            b = *r.p;
            if (b == 0x40 || b == 0x7f || b == 0x7e || b == 0x7d || b == 0x7c || b == 0x7b ||
                b == 0x70 || b == 0x6f) {
                r.p++;
            } else {
                int64_t v;
                RD(wa_rd_sleb(&r, 33, &v));
                if (v < 0) { *why = "malformed value type"; goto bad_free; }
            }
            if (depth == cap) {
                uint8_t *k = realloc(kinds, cap *= 2);
                if (!k) { free(kinds); return true; }
                kinds = k;
            }
            kinds[depth++] = op == 0x04;
            break;
        case 0x05:
            /* the reference ends the block at `else` and then wants its `end` */
            if (!kinds[depth - 1]) {
                r.p--; /* the error is at the `else` */
                *why = "END opcode expected";
                goto bad_free;
            }
            kinds[depth - 1] = 0;
            break;
        case 0x0b: depth--; break;
        case 0x0c: case 0x0d: case 0x10: case 0x20: case 0x21: case 0x22: case 0x23: case 0x24:
        case 0x25: case 0x26: case 0xd2:
            SKIP_U32();
            break;
        case 0x0e: {
            uint32_t count;
            RD(wa_rd_u32(&r, &count));
            for (uint64_t i = 0; i <= count; i++)
                SKIP_U32();
            break;
        }
        case 0x11:
            SKIP_U32();
            SKIP_U32();
            break;
        case 0x1c: {
            uint32_t count;
            RD(wa_rd_u32(&r, &count));
            for (uint64_t i = 0; i < count; i++)
                RD(wa_rd_byte(&r, &b));
            break;
        }
        case 0x3f: case 0x40:
            RD(wa_rd_byte(&r, &b));
            if (b != 0) { *why = "zero byte expected"; goto bad_free; }
            break;
        case 0x41: { int64_t v; RD(wa_rd_sleb(&r, 32, &v)); break; }
        case 0x42: { int64_t v; RD(wa_rd_sleb(&r, 64, &v)); break; }
        case 0x43: { uint32_t v; RD(wa_rd_fixed32(&r, &v)); break; }
        case 0x44: { uint64_t v; RD(wa_rd_fixed64(&r, &v)); break; }
        case 0xd0:
            RD(wa_rd_byte(&r, &b));
            break;
        case 0xfc: {
            uint32_t sub;
            RD(wa_rd_u32(&r, &sub));
            int u32s = 0, zeros = 0;
            switch (sub) {
            case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7: break;
            case 8: u32s = 1; zeros = 1; break;
            case 9: case 13: case 15: case 16: case 17: u32s = 1; break;
            case 10: zeros = 2; break;
            case 11: zeros = 1; break;
            case 12: case 14: u32s = 2; break;
            default: *why = "illegal opcode"; goto bad_free;
            }
            for (int i = 0; i < u32s; i++)
                SKIP_U32();
            for (int i = 0; i < zeros; i++) {
                RD(wa_rd_byte(&r, &b));
                if (b != 0) { *why = "zero byte expected"; goto bad_free; }
            }
            break;
        }
        case 0xfd: {
            uint32_t sub;
            RD(wa_rd_u32(&r, &sub));
            uint8_t imm = sub <= 0xff ? fd_imm[sub] : FD_NONE;
            if (imm == FD_NONE) { *why = "illegal opcode"; goto bad_free; }
            if (imm == FD_MEMARG || imm == FD_MEMARG_LANE) {
                SKIP_U32();
                SKIP_U32();
            }
            if (imm == FD_MEMARG_LANE || imm == FD_LANE) RD(wa_rd_byte(&r, &b));
            if (imm == FD_BYTES16) {
                const uint8_t *bytes;
                RD(wa_rd_bytes(&r, 16, &bytes));
            }
            break;
        }
        default:
            if ((op >= 0x28 && op <= 0x3e)) {
                SKIP_U32();
                SKIP_U32();
            } else if (!(op <= 0x01 || op == 0x0f || op == 0x1a || op == 0x1b ||
                         (op >= 0x45 && op <= 0xc4) || op == 0xd1)) {
                *why = "illegal opcode";
                goto bad_free;
            }
        }
    }
    free(kinds);
    if (r.p != body_end) {
        *why = "section size mismatch";
        *at = wa_rd_offset(&r);
        return false;
    }
    return true;
bad_free:
    free(kinds);
    *at = wa_rd_offset(&r);
    return false;
}

bool wa_scan_body_beyond(const wa_module *m, uint32_t off, uint32_t len, wa_error *err)
{
    uint32_t at;
    const char *why;
    if (scan_body(m, off, len, m->bytes + m->len, &at, &why)) return false;
    wa_err(err, WA_EMALFORMED, at, "%s", why);
    return true;
}

/* Whether defined function def_idx or a later one is malformed; if so fills err. */
bool wa_scan_bodies_malformed(const wa_module *m, uint32_t def_idx, wa_error *err)
{
    for (uint32_t i = def_idx; i < m->nfuncs - m->nfunc_imports; i++) {
        uint32_t at;
        const char *why;
        const wa_funcdef *fd = &m->funcs[i];
        if (!scan_body(m, fd->body_off, fd->body_len, m->bytes + fd->body_off + fd->body_len,
                       &at, &why)) {
            wa_err(err, WA_EMALFORMED, at, "%s", why);
            return true;
        }
    }
    return false;
}
