/* decode.c — the binary decoder: module bytes → wa_module (module.h); [decode] → validate →
 * compile. Parses every section of WebAssembly 2.0, locates function bodies without decoding
 * them (compile.c does), and computes the function references a body may take (C.refs).
 * Errors are WA_EMALFORMED with the spec tests' wording and the offset of the bad bytes. */
#include "leb.h"
#include "module.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    wa_module *m;
    wa_error *err;
    /* The module. As in the reference interpreter, a section's entries are read past its end if
     * they run on (the size is compared afterwards): the reader stops at the module's end only. */
    wa_reader r;
    const uint8_t *sec_end; /* end of the section being decoded */
    int64_t name_sec; /* index in m->customs of the first `name` section, -1 if none */
    bool code_seen;
} decoder;

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        wa_status try_st_ = (expr);                                                                \
        if (try_st_ != WA_OK)                                                                      \
            return try_st_;                                                                        \
    } while (0)

static uint32_t here(const decoder *d) { return wa_rd_offset(&d->r); }

static wa_status malformed(decoder *d, uint32_t offset, const char *msg)
{
    return wa_err(d->err, WA_EMALFORMED, offset, "%s", msg);
}

static wa_status no_memory(decoder *d)
{
    return wa_err(d->err, WA_ENOMEM, here(d), "out of memory");
}

/* Turns a reader failure into an error: at the end of the module, or at the integer's start. */
static wa_status read_failed(decoder *d, wa_rd_status st, uint32_t start)
{
    return malformed(d, st == WA_RD_EOF ? here(d) : start, wa_rd_error_text(st));
}

static wa_status read_u32(decoder *d, uint32_t *out)
{
    *out = 0;
    uint32_t start = here(d);
    wa_rd_status st = wa_rd_u32(&d->r, out);
    return st == WA_RD_OK ? WA_OK : read_failed(d, st, start);
}

static wa_status read_byte(decoder *d, uint8_t *out)
{
    *out = 0; /* defined on failure too: callers return before reading it, compilers can't tell */
    wa_rd_status st = wa_rd_byte(&d->r, out);
    return st == WA_RD_OK ? WA_OK : read_failed(d, st, here(d));
}

static size_t remaining(const decoder *d) { return (size_t)(d->r.end - d->r.p); }

/* n, a length or count read at `start`, needs at least n more bytes. The reference interpreter
 * (len32) refuses n beyond the bytes left counted from the length itself ("length out of bounds"),
 * and otherwise reads until the input runs out. Refusing here also bounds what callers allocate. */
static wa_status check_len(decoder *d, uint32_t start, uint32_t n)
{
    if (n > (size_t)(d->r.end - (d->r.base + start)))
        return malformed(d, start, "length out of bounds");
    if (n > remaining(d))
        return malformed(d, (uint32_t)(d->r.end - d->r.base),
                         "unexpected end of section or function");
    return WA_OK;
}

/* A vector's length: every item takes at least one byte. */
static wa_status read_count(decoder *d, uint32_t *n)
{
    uint32_t start = here(d);
    TRY(read_u32(d, n));
    return check_len(d, start, *n);
}

/* Strict UTF-8 (Unicode 3.9 D92): no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint8_t lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
        if (c >= 0xc2 && c <= 0xdf) {
            n = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 3;
            if (c == 0xe0)
                lo = 0xa0;
            if (c == 0xed)
                hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 4;
            if (c == 0xf0)
                lo = 0x90;
            if (c == 0xf4)
                hi = 0x8f;
        } else {
            return false;
        }
        if (len - i < n)
            return false;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k < n; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
        i += n;
    }
    return true;
}

/* A name: its bytes (valid UTF-8), copied NUL-terminated into *out (the caller owns it). */
static wa_status read_name(decoder *d, char **out, uint32_t *len_out)
{
    uint32_t len, len_at = here(d);
    TRY(read_u32(d, &len));
    TRY(check_len(d, len_at, len));
    uint32_t start = here(d);
    if (!utf8_valid(d->r.p, len))
        return malformed(d, start, "malformed UTF-8 encoding");
    char *s = malloc((size_t)len + 1);
    if (!s)
        return no_memory(d);
    memcpy(s, d->r.p, len);
    s[len] = '\0';
    d->r.p += len;
    *out = s;
    if (len_out)
        *len_out = len;
    return WA_OK;
}

static bool is_valtype(uint8_t t)
{
    return t == WA_I32 || t == WA_I64 || t == WA_F32 || t == WA_F64 || t == WA_V128 ||
           t == WA_FUNCREF || t == WA_EXTERNREF;
}

static wa_status read_valtype(decoder *d, uint8_t *out)
{
    uint32_t at = here(d);
    TRY(read_byte(d, out));
    if (!is_valtype(*out))
        return malformed(d, at, "malformed value type");
    return WA_OK;
}

static wa_status read_reftype(decoder *d, uint8_t *out)
{
    uint32_t at = here(d);
    TRY(read_byte(d, out));
    if (*out != WA_FUNCREF && *out != WA_EXTERNREF)
        return malformed(d, at, "malformed reference type");
    return WA_OK;
}

/* Limits of tables and memories. The flag is a 1-bit LEB128 (the reference interpreter's vu1):
 * 2 and 3 (shared memories) belong to the threads proposal, which is not WebAssembly 2.0, and are
 * "integer too large"; 0x80 0x00 is "integer representation too long". */
static wa_status read_limits(decoder *d, wa_lim *out)
{
    uint32_t at = here(d);
    uint64_t flags;
    wa_rd_status st = wa_rd_uleb(&d->r, 1, &flags);
    if (st != WA_RD_OK)
        return read_failed(d, st, at);
    TRY(read_u32(d, &out->min));
    out->has_max = flags == 1;
    out->max = 0;
    if (out->has_max)
        TRY(read_u32(d, &out->max));
    return WA_OK;
}

static wa_status read_tabletype(decoder *d, wa_tabletype *out)
{
    out->off = here(d);
    TRY(read_reftype(d, &out->elemtype));
    return read_limits(d, &out->lim);
}

static wa_status read_globaltype(decoder *d, wa_globaltype *out)
{
    TRY(read_valtype(d, &out->type));
    uint32_t at = here(d);
    TRY(read_byte(d, &out->mut));
    if (out->mut > 1)
        return malformed(d, at, "malformed mutability");
    return WA_OK;
}

/* ---- Constant expressions ---- */

/* A block type: empty (0x40), one value type, or a type index as a positive s33. */
static wa_status skip_blocktype(decoder *d)
{
    if (d->r.p < d->r.end && (*d->r.p == 0x40 || is_valtype(*d->r.p))) {
        d->r.p++;
        return WA_OK;
    }
    uint32_t start = here(d);
    int64_t idx;
    wa_rd_status st = wa_rd_sleb(&d->r, 33, &idx);
    if (st != WA_RD_OK)
        return read_failed(d, st, start);
    if (idx < 0)
        return malformed(d, start, "malformed value type");
    return WA_OK;
}

static wa_status skip_u32s(decoder *d, uint64_t n)
{
    uint32_t v;
    while (n-- > 0)
        TRY(read_u32(d, &v));
    return WA_OK;
}

static wa_status skip_bytes(decoder *d, size_t n)
{
    const uint8_t *p;
    wa_rd_status st = wa_rd_bytes(&d->r, n, &p);
    return st == WA_RD_OK ? WA_OK : read_failed(d, st, here(d));
}

/* SIMD instructions (0xFD prefix) other than v128.const: their immediates, to step over them. */
static wa_status skip_simd(decoder *d, uint32_t sub)
{
    if (sub <= 11 || sub == 92 || sub == 93)
        return skip_u32s(d, 2); /* memarg */
    if (sub == 13)
        return skip_bytes(d, 16); /* i8x16.shuffle lanes */
    if (sub >= 21 && sub <= 34)
        return skip_bytes(d, 1);  /* extract/replace lane */
    if (sub >= 84 && sub <= 91) { /* load/store lane */
        TRY(skip_u32s(d, 2));
        return skip_bytes(d, 1);
    }
    return WA_OK;
}

/* 0xFC instructions (saturating truncation, bulk memory and tables): steps over immediates. */
static wa_status skip_misc(decoder *d, uint32_t at)
{
    uint32_t sub;
    TRY(read_u32(d, &sub));
    if (sub <= 7) /* trunc_sat */
        return WA_OK;
    if (sub == 8) { /* memory.init: data index, memory byte */
        TRY(skip_u32s(d, 1));
        return skip_bytes(d, 1);
    }
    if (sub == 10) /* memory.copy: two memory bytes */
        return skip_bytes(d, 2);
    if (sub == 11) /* memory.fill */
        return skip_bytes(d, 1);
    if (sub == 12 || sub == 14) /* table.init, table.copy */
        return skip_u32s(d, 2);
    if (sub <= 17) /* data.drop, elem.drop, table.grow/size/fill */
        return skip_u32s(d, 1);
    return malformed(d, at, "illegal opcode");
}

/* An instruction that may not appear in a constant expression: steps over its immediates so the
 * expression's end can be found. Structured instructions adjust *depth. Bytes that are not an
 * instruction at all are malformed. (The constant ones, and 0xFD, are read by read_cexpr.) */
static wa_status skip_instr(decoder *d, uint8_t op, uint32_t at, uint32_t *depth)
{
    uint32_t n;
    uint8_t b;
    /* unreachable nop else return drop select ref.is_null, and all numeric instructions */
    if (op <= 0x01 || op == 0x05 || op == 0x0f || op == 0x1a || op == 0x1b || op == 0xd1 ||
        (op >= 0x45 && op <= 0xc4))
        return WA_OK;
    if (op >= 0x02 && op <= 0x04) { /* block loop if */
        (*depth)++;
        return skip_blocktype(d);
    }
    /* br br_if call, local and global access, table.get/set */
    if (op == 0x0c || op == 0x0d || op == 0x10 || (op >= 0x20 && op <= 0x26))
        return skip_u32s(d, 1);
    if (op == 0x11 || (op >= 0x28 && op <= 0x3e)) /* call_indirect; loads and stores (memarg) */
        return skip_u32s(d, 2);
    if (op == 0x3f || op == 0x40) /* memory.size/grow */
        return skip_bytes(d, 1);
    if (op == 0x0e) { /* br_table */
        TRY(read_count(d, &n));
        return skip_u32s(d, n + 1ull);
    }
    if (op == 0x1c) { /* select t* */
        TRY(read_count(d, &n));
        for (uint32_t i = 0; i < n; i++)
            TRY(read_valtype(d, &b));
        return WA_OK;
    }
    if (op == 0xfc)
        return skip_misc(d, at);
    return malformed(d, at, "illegal opcode");
}

/* A constant expression, up to and including its `end`. WebAssembly 2.0 allows one constant
 * instruction there; anything else that is well-formed is a validation error, not a decoding one,
 * so such an expression is stepped over and marked for validate.c (WA_CEXPR_NOT_CONST/BAD_ARITY).
 */
static wa_status read_cexpr(decoder *d, wa_cexpr *out)
{
    uint32_t ninstr = 0, depth = 0, start = here(d);
    bool constant = true;
    memset(out, 0, sizeof *out);
    for (;;) {
        uint32_t at = here(d);
        uint8_t op;
        TRY(read_byte(d, &op));
        if (op == 0x0b) {
            if (depth == 0)
                break;
            depth--;
            continue;
        }
        wa_cexpr one = {.op = WA_CEXPR_CONST};
        int64_t s;
        wa_rd_status st = WA_RD_OK;
        uint32_t sub;
        switch (op) {
        case 0x41:
            st = wa_rd_sleb(&d->r, 32, &s);
            one.type = WA_I32;
            one.v[0] = (uint32_t)s;
            break;
        case 0x42:
            st = wa_rd_sleb(&d->r, 64, &s);
            one.type = WA_I64;
            one.v[0] = (uint64_t)s;
            break;
        case 0x43: {
            uint32_t bits = 0;
            st = wa_rd_fixed32(&d->r, &bits);
            one.type = WA_F32;
            one.v[0] = bits;
            break;
        }
        case 0x44:
            st = wa_rd_fixed64(&d->r, &one.v[0]);
            one.type = WA_F64;
            break;
        case 0xd0:
            one.op = WA_CEXPR_REF_NULL;
            TRY(read_reftype(d, &one.type));
            break;
        case 0xd2:
            one.op = WA_CEXPR_REF_FUNC;
            one.type = WA_FUNCREF;
            TRY(read_u32(d, &one.idx));
            break;
        case 0x23:
            one.op = WA_CEXPR_GLOBAL_GET;
            TRY(read_u32(d, &one.idx));
            /* globals declared so far; validate.c rejects all but imported ones */
            one.type = one.idx < d->m->nglobals ? d->m->globals[one.idx].type : 0;
            break;
        case 0xfd:
            TRY(read_u32(d, &sub));
            if (sub == 12) {
                one.type = WA_V128;
                st = wa_rd_fixed64(&d->r, &one.v[0]);
                if (st == WA_RD_OK)
                    st = wa_rd_fixed64(&d->r, &one.v[1]);
            } else {
                TRY(skip_simd(d, sub));
                constant = false;
            }
            break;
        default:
            TRY(skip_instr(d, op, at, &depth));
            constant = false;
            break;
        }
        if (st != WA_RD_OK)
            return read_failed(d, st, at + 1);
        if (ninstr++ == 0)
            *out = one;
    }
    out->off = start;
    if (!constant)
        out->op = WA_CEXPR_NOT_CONST;
    else if (ninstr != 1)
        out->op = WA_CEXPR_BAD_ARITY;
    return WA_OK;
}

/* ---- Sections ---- */

static wa_status type_section(decoder *d)
{
    wa_module *m = d->m;
    uint32_t n;
    TRY(read_count(d, &n));
    m->types = calloc(n ? n : 1, sizeof *m->types);
    if (!m->types)
        return no_memory(d);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t at = here(d);
        uint8_t form;
        TRY(read_byte(d, &form));
        if (form != 0x60) {
            /* the reference decoder reads the form as a signed LEB128 */
            if (form & 0x80)
                return malformed(d, at, "integer representation too long");
            return malformed(d, at, "malformed functype");
        }
        uint32_t np, nr;
        TRY(read_count(d, &np));
        const uint8_t *params = d->r.p; /* value types are one byte each: use them in place */
        for (uint32_t k = 0; k < np; k++)
            TRY(read_valtype(d, &form));
        TRY(read_count(d, &nr));
        const uint8_t *results = d->r.p;
        for (uint32_t k = 0; k < nr; k++)
            TRY(read_valtype(d, &form));
        m->types[i] = wa_sig_intern(params, np, results, nr);
        if (!m->types[i])
            return no_memory(d);
        m->ntypes = i + 1;
    }
    return WA_OK;
}

/* Grows an index-space array from `have` to `want` elements of `size` bytes, zeroing the new
 * ones. */
static wa_status grow(decoder *d, void **arr, uint32_t have, uint32_t want, size_t size)
{
    void *p = realloc(*arr, (want ? want : 1) * size);
    if (!p)
        return no_memory(d);
    if (want > have)
        memset((char *)p + have * size, 0, (want - have) * size);
    *arr = p;
    return WA_OK;
}

static wa_status import_section(decoder *d)
{
    wa_module *m = d->m;
    uint32_t n;
    TRY(read_count(d, &n));
    m->imports = calloc(n ? n : 1, sizeof *m->imports);
    if (!m->imports)
        return no_memory(d);
    m->nimports = n;
    for (uint32_t i = 0; i < n; i++) {
        wa_import *im = &m->imports[i];
        TRY(read_name(d, &im->module, &im->module_len));
        TRY(read_name(d, &im->name, &im->name_len));
        uint32_t at = here(d);
        TRY(read_byte(d, &im->kind));
        im->off = here(d);
        switch (im->kind) {
        case WA_EXTERN_FUNC:
            TRY(read_u32(d, &im->u.type_idx));
            m->nfunc_imports++;
            break;
        case WA_EXTERN_TABLE:
            TRY(read_tabletype(d, &im->u.table));
            m->ntable_imports++;
            break;
        case WA_EXTERN_MEMORY:
            TRY(read_limits(d, &im->u.mem));
            m->nmem_imports++;
            break;
        case WA_EXTERN_GLOBAL:
            TRY(read_globaltype(d, &im->u.global));
            m->nglobal_imports++;
            break;
        default:
            return malformed(d, at, "malformed import kind");
        }
    }
    /* Imported entries open the index spaces. */
    TRY(grow(d, (void **)&m->func_type, 0, m->nfunc_imports, sizeof *m->func_type));
    TRY(grow(d, (void **)&m->tables, 0, m->ntable_imports, sizeof *m->tables));
    TRY(grow(d, (void **)&m->mems, 0, m->nmem_imports, sizeof *m->mems));
    TRY(grow(d, (void **)&m->mem_off, 0, m->nmem_imports, sizeof *m->mem_off));
    TRY(grow(d, (void **)&m->globals, 0, m->nglobal_imports, sizeof *m->globals));
    uint32_t f = 0, t = 0, me = 0, g = 0;
    for (uint32_t i = 0; i < n; i++) {
        const wa_import *im = &m->imports[i];
        switch (im->kind) {
        case WA_EXTERN_FUNC:
            m->func_type[f++] = im->u.type_idx;
            break;
        case WA_EXTERN_TABLE:
            m->tables[t++] = im->u.table;
            break;
        case WA_EXTERN_MEMORY:
            m->mem_off[me] = im->off;
            m->mems[me++] = im->u.mem;
            break;
        case WA_EXTERN_GLOBAL:
            m->globals[g++] = im->u.global;
            break;
        }
    }
    m->nfuncs = f;
    m->ntables = t;
    m->nmems = me;
    m->nglobals = g;
    return WA_OK;
}

static wa_status function_section(decoder *d)
{
    wa_module *m = d->m;
    uint32_t n;
    TRY(read_count(d, &n));
    TRY(grow(d, (void **)&m->func_type, m->nfuncs, m->nfuncs + n, sizeof *m->func_type));
    m->funcs = calloc(n ? n : 1, sizeof *m->funcs);
    if (!m->funcs)
        return no_memory(d);
    for (uint32_t i = 0; i < n; i++) {
        m->funcs[i].type_off = here(d);
        TRY(read_u32(d, &m->funcs[i].type_idx));
        m->func_type[m->nfuncs++] = m->funcs[i].type_idx;
    }
    return WA_OK;
}

static wa_status table_section(decoder *d)
{
    wa_module *m = d->m;
    uint32_t n;
    TRY(read_count(d, &n));
    TRY(grow(d, (void **)&m->tables, m->ntables, m->ntables + n, sizeof *m->tables));
    for (uint32_t i = 0; i < n; i++)
        TRY(read_tabletype(d, &m->tables[m->ntables++]));
    return WA_OK;
}

static wa_status memory_section(decoder *d)
{
    wa_module *m = d->m;
    uint32_t n;
    TRY(read_count(d, &n));
    TRY(grow(d, (void **)&m->mems, m->nmems, m->nmems + n, sizeof *m->mems));
    TRY(grow(d, (void **)&m->mem_off, m->nmems, m->nmems + n, sizeof *m->mem_off));
    for (uint32_t i = 0; i < n; i++) {
        m->mem_off[m->nmems] = here(d);
        TRY(read_limits(d, &m->mems[m->nmems++]));
    }
    return WA_OK;
}

static wa_status global_section(decoder *d)
{
    wa_module *m = d->m;
    uint32_t n;
    TRY(read_count(d, &n));
    TRY(grow(d, (void **)&m->globals, m->nglobals, m->nglobals + n, sizeof *m->globals));
    m->global_init = calloc(n ? n : 1, sizeof *m->global_init);
    if (!m->global_init)
        return no_memory(d);
    for (uint32_t i = 0; i < n; i++) {
        TRY(read_globaltype(d, &m->globals[m->nglobals]));
        TRY(read_cexpr(d, &m->global_init[i]));
        m->nglobals++;
    }
    return WA_OK;
}

static wa_status export_section(decoder *d)
{
    wa_module *m = d->m;
    uint32_t n;
    TRY(read_count(d, &n));
    m->exports = calloc(n ? n : 1, sizeof *m->exports);
    if (!m->exports)
        return no_memory(d);
    m->nexports = n;
    for (uint32_t i = 0; i < n; i++) {
        wa_export *ex = &m->exports[i];
        ex->off = here(d);
        TRY(read_name(d, &ex->name, &ex->name_len));
        uint32_t at = here(d);
        TRY(read_byte(d, &ex->kind));
        if (ex->kind > WA_EXTERN_GLOBAL)
            return malformed(d, at, "malformed export kind");
        TRY(read_u32(d, &ex->idx));
    }
    return WA_OK;
}

static wa_status start_section(decoder *d)
{
    uint32_t f;
    d->m->start_off = here(d);
    TRY(read_u32(d, &f));
    d->m->start = f;
    return WA_OK;
}

/* One element segment, in any of the eight encodings. Flag bit 0: passive or declarative (else
 * active); bit 1: with bit 0 declarative, else an explicit table index; bit 2: items are
 * expressions (else function indices). */
static wa_status elem_segment(decoder *d, wa_elemseg *s)
{
    uint32_t at = here(d), flags;
    s->off = at;
    TRY(read_u32(d, &flags));
    if (flags > 7)
        return malformed(d, at, "malformed elements segment kind");
    s->mode = !(flags & 1) ? WA_SEG_ACTIVE : (flags & 2) ? WA_SEG_DECLARATIVE : WA_SEG_PASSIVE;
    s->elemtype = WA_FUNCREF;
    s->table = 0;
    if (s->mode == WA_SEG_ACTIVE) {
        if (flags & 2)
            TRY(read_u32(d, &s->table));
        TRY(read_cexpr(d, &s->offset));
    }
    bool exprs = flags & 4;
    if (flags & 3) {
        if (exprs) {
            TRY(read_reftype(d, &s->elemtype));
        } else {
            uint8_t kind;
            at = here(d);
            TRY(read_byte(d, &kind));
            if (kind != 0x00)
                return malformed(d, at, "malformed element kind");
        }
    }
    uint32_t n;
    TRY(read_count(d, &n));
    s->items = calloc(n ? n : 1, sizeof *s->items);
    if (!s->items)
        return no_memory(d);
    for (uint32_t i = 0; i < n; i++) {
        if (exprs) {
            TRY(read_cexpr(d, &s->items[i]));
        } else {
            s->items[i].op = WA_CEXPR_REF_FUNC;
            s->items[i].type = WA_FUNCREF;
            s->items[i].off = here(d);
            TRY(read_u32(d, &s->items[i].idx));
        }
        s->count = i + 1;
    }
    return WA_OK;
}

static wa_status element_section(decoder *d)
{
    wa_module *m = d->m;
    uint32_t n;
    TRY(read_count(d, &n));
    m->elems = calloc(n ? n : 1, sizeof *m->elems);
    if (!m->elems)
        return no_memory(d);
    m->nelems = n;
    for (uint32_t i = 0; i < n; i++)
        TRY(elem_segment(d, &m->elems[i]));
    return WA_OK;
}

static wa_status datacount_section(decoder *d)
{
    TRY(read_u32(d, &d->m->datacount));
    d->m->has_datacount = true;
    return WA_OK;
}

/* Function bodies are located here and decoded by compile.c. Two checks are cheap here and give
 * a clear error before any code is translated: the declared locals fit in a u32, and the body's
 * last byte is the `end` its expression must finish with. */
static wa_status code_entry(decoder *d, wa_funcdef *f)
{
    uint32_t size, size_at = here(d);
    TRY(read_u32(d, &size));
    TRY(check_len(d, size_at, size));
    uint32_t start = here(d);
    f->body_off = start;
    f->body_len = size;
    wa_reader outer = d->r;
    d->r.end = d->r.p + size;
    uint32_t ngroups;
    TRY(read_count(d, &ngroups));
    uint64_t nlocals = 0;
    for (uint32_t i = 0; i < ngroups; i++) {
        uint32_t count;
        uint8_t t;
        uint32_t at = here(d);
        TRY(read_u32(d, &count));
        TRY(read_valtype(d, &t));
        nlocals += count;
        if (nlocals > UINT32_MAX)
            return malformed(d, at, "too many locals");
    }
    /* Without its final `end` the reference interpreter reads on past the body: what it then
     * finds (the module's end, or a later `end` that makes the body too long) is the error. */
    if ((size == 0 || d->r.end[-1] != 0x0b) && wa_scan_body_beyond(d->m, start, size, d->err))
        return d->err ? d->err->status : WA_EMALFORMED;
    if (size == 0 || d->r.end[-1] != 0x0b)
        return malformed(d, start + size, "END opcode expected");
    d->r = outer;
    d->r.p += size;
    return WA_OK;
}

static wa_status code_section(decoder *d)
{
    wa_module *m = d->m;
    uint32_t ndefined = m->nfuncs - m->nfunc_imports;
    uint32_t at = here(d), n;
    TRY(read_u32(d, &n));
    if (n != ndefined)
        return malformed(d, at, "function and code section have inconsistent lengths");
    for (uint32_t i = 0; i < n; i++)
        TRY(code_entry(d, &m->funcs[i]));
    d->code_seen = true;
    return WA_OK;
}

static wa_status data_section(decoder *d)
{
    wa_module *m = d->m;
    uint32_t at = here(d), n;
    TRY(read_count(d, &n));
    if (m->has_datacount && n != m->datacount)
        return malformed(d, at, "data count and data section have inconsistent lengths");
    m->datas = calloc(n ? n : 1, sizeof *m->datas);
    if (!m->datas)
        return no_memory(d);
    m->ndatas = n;
    for (uint32_t i = 0; i < n; i++) {
        wa_dataseg *s = &m->datas[i];
        uint32_t flags;
        at = here(d);
        s->off = at;
        TRY(read_u32(d, &flags));
        if (flags > 2)
            return malformed(d, at, "malformed data segment kind");
        s->mode = flags == 1 ? WA_SEG_PASSIVE : WA_SEG_ACTIVE;
        s->mem = 0;
        if (flags == 2)
            TRY(read_u32(d, &s->mem));
        if (flags != 1)
            TRY(read_cexpr(d, &s->offset));
        uint32_t len_at = here(d);
        TRY(read_u32(d, &s->len));
        TRY(check_len(d, len_at, s->len));
        s->data_off = here(d);
        d->r.p += s->len;
    }
    return WA_OK;
}

static wa_status custom_section(decoder *d)
{
    wa_module *m = d->m;
    char *name;
    uint32_t len;
    TRY(read_name(d, &name, &len));
    if (d->r.p > d->sec_end) { /* the name runs past the section */
        free(name);
        return malformed(d, here(d), "unexpected end of section or function");
    }
    wa_custom *c = realloc(m->customs, (m->ncustoms + 1) * sizeof *c);
    if (!c) {
        free(name);
        return no_memory(d);
    }
    m->customs = c;
    if (d->name_sec < 0 && len == 4 && memcmp(name, "name", 4) == 0)
        d->name_sec = m->ncustoms;
    c[m->ncustoms++] =
        (wa_custom){.name = name, .off = here(d), .len = (uint32_t)(d->sec_end - d->r.p)};
    d->r.p = d->sec_end;
    return WA_OK;
}

/* ---- The name section ---- */

static void free_func_names(wa_module *m)
{
    if (!m->func_names)
        return;
    for (uint32_t i = 0; i < m->nfuncs; i++)
        free(m->func_names[i]);
    free(m->func_names);
    m->func_names = NULL;
}

/* The function-names subsection: a name map, indices strictly increasing. */
static bool func_names(decoder *d)
{
    wa_module *m = d->m;
    uint32_t n;
    if (read_count(d, &n) != WA_OK)
        return false;
    m->func_names = calloc(m->nfuncs ? m->nfuncs : 1, sizeof *m->func_names);
    if (!m->func_names)
        return false;
    int64_t last = -1;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t idx;
        char *name;
        if (read_u32(d, &idx) != WA_OK)
            return false;
        if ((int64_t)idx <= last || idx >= m->nfuncs)
            return false;
        if (read_name(d, &name, NULL) != WA_OK)
            return false;
        m->func_names[idx] = name;
        last = idx;
    }
    return true;
}

/* The `name` custom section (appendix 7.4) is debugging information: a malformed one is ignored,
 * never an error, so errors are decoded into a scratch record and dropped. Only function names
 * are kept. */
static void name_section(wa_module *m, const wa_custom *c)
{
    wa_error scratch;
    decoder d = {.m = m, .err = &scratch, .name_sec = -1};
    d.r = (wa_reader){.base = m->bytes, .p = m->bytes + c->off, .end = m->bytes + c->off + c->len};
    int last_id = -1;
    bool ok = true;
    while (ok && d.r.p < d.r.end) {
        uint8_t id;
        uint32_t size;
        ok = read_byte(&d, &id) == WA_OK && read_u32(&d, &size) == WA_OK && (int)id > last_id &&
             size <= remaining(&d);
        if (!ok)
            break;
        last_id = id;
        const uint8_t *end = d.r.end;
        d.r.end = d.r.p + size;
        if (id == 1)
            ok = func_names(&d) && d.r.p == d.r.end;
        d.r.p = d.r.end;
        d.r.end = end;
    }
    if (!ok)
        free_func_names(m);
}

/* ---- C.refs ---- */

static void declare(wa_module *m, const wa_cexpr *e)
{
    if (e->op == WA_CEXPR_REF_FUNC && e->idx < m->nfuncs)
        m->func_declared[e->idx >> 3] |= (uint8_t)(1u << (e->idx & 7));
}

static wa_status compute_declared(decoder *d)
{
    wa_module *m = d->m;
    m->func_declared = calloc(((size_t)m->nfuncs + 7) / 8 + 1, 1);
    if (!m->func_declared)
        return no_memory(d);
    for (uint32_t i = 0; i < m->nglobals - m->nglobal_imports; i++)
        declare(m, &m->global_init[i]);
    for (uint32_t i = 0; i < m->nelems; i++) {
        declare(m, &m->elems[i].offset);
        for (uint32_t k = 0; k < m->elems[i].count; k++)
            declare(m, &m->elems[i].items[k]);
    }
    for (uint32_t i = 0; i < m->nexports; i++) {
        const wa_export *ex = &m->exports[i];
        if (ex->kind == WA_EXTERN_FUNC && ex->idx < m->nfuncs)
            m->func_declared[ex->idx >> 3] |= (uint8_t)(1u << (ex->idx & 7));
    }
    return WA_OK;
}

/* ---- The module ---- */

/* Position of each known section id in the required order; custom sections (0) go anywhere. */
static int section_rank(uint8_t id)
{
    static const int8_t rank[13] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10};
    return id <= 12 ? rank[id] : -1;
}

static wa_status (*const section_decoders[13])(decoder *) = {
    custom_section, type_section,   import_section,    function_section, table_section,
    memory_section, global_section, export_section,    start_section,    element_section,
    code_section,   data_section,   datacount_section,
};

wa_status wa_decode(wa_module *m, wa_error *err)
{
    decoder d = {.m = m, .err = err, .name_sec = -1};
    d.r = (wa_reader){.base = m->bytes, .p = m->bytes, .end = m->bytes + m->len};
    m->start = -1;

    static const uint8_t magic[4] = {0x00, 0x61, 0x73, 0x6d}, version[4] = {1, 0, 0, 0};
    if (m->len < 4)
        return malformed(&d, (uint32_t)m->len, "unexpected end of section or function");
    if (memcmp(m->bytes, magic, 4) != 0)
        return malformed(&d, 0, "magic header not detected");
    if (m->len < 8)
        return malformed(&d, (uint32_t)m->len, "unexpected end of section or function");
    if (memcmp(m->bytes + 4, version, 4) != 0)
        return malformed(&d, 4, "unknown binary version");
    d.r.p += 8;

    int last_rank = 0;
    while (d.r.p < d.r.end) {
        uint32_t at = here(&d);
        uint8_t id;
        uint32_t size;
        TRY(read_byte(&d, &id));
        int rank = section_rank(id);
        if (rank < 0)
            return malformed(&d, at, "malformed section id");
        if (rank != 0) {
            if (rank <= last_rank)
                return malformed(&d, at, "unexpected content after last section");
            last_rank = rank;
        }
        uint32_t size_at = here(&d);
        TRY(read_u32(&d, &size));
        TRY(check_len(&d, size_at, size));
        d.sec_end = d.r.p + size;
        TRY(section_decoders[id](&d));
        if (d.r.p != d.sec_end)
            return malformed(&d, here(&d), "section size mismatch");
    }

    if (!d.code_seen && m->nfuncs != m->nfunc_imports)
        return malformed(&d, here(&d), "function and code section have inconsistent lengths");
    if (m->has_datacount && m->datas == NULL && m->datacount != 0)
        return malformed(&d, here(&d), "data count and data section have inconsistent lengths");
    TRY(compute_declared(&d));
    if (d.name_sec >= 0)
        name_section(m, &m->customs[d.name_sec]);
    return WA_OK;
}
