/* leb.h — bounds-checked readers for the binary format's integers (LEB128, any legal padding)
 * and fixed-width values. Shared by decode.c and compile.c. */
#ifndef WA_LEB_H
#define WA_LEB_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    const uint8_t *base; /* start of the module: offsets in errors are relative to it */
    const uint8_t *p, *end;
} wa_reader;

typedef enum {
    WA_RD_OK = 0,
    WA_RD_EOF,      /* "unexpected end of section or function" */
    WA_RD_TOOLONG,  /* "integer representation too long": more bytes than the type allows */
    WA_RD_TOOLARGE, /* "integer too large": the last byte's unused bits not a zero/sign extension */
} wa_rd_status;

/* The spec's wording of a reader failure (the reference interpreter's decode.ml). */
static inline const char *wa_rd_error_text(wa_rd_status s)
{
    return s == WA_RD_EOF       ? "unexpected end of section or function"
           : s == WA_RD_TOOLONG ? "integer representation too long"
                                : "integer too large";
}

static inline uint32_t wa_rd_offset(const wa_reader *r) { return (uint32_t)(r->p - r->base); }

/* Unsigned LEB128 of at most `bits` bits: at most ceil(bits/7) bytes; the unused bits of the last
 * byte must be zero. As the reference interpreter, the last allowed byte's value bits are checked
 * before its continuation bit: 0xf0 there is "too large", 0x80 "too long". */
static inline wa_rd_status wa_rd_uleb(wa_reader *r, unsigned bits, uint64_t *out)
{
    uint64_t v = 0;
    unsigned shift = 0;
    for (;;) {
        if (r->p >= r->end) return WA_RD_EOF;
        uint8_t b = *r->p++;
        if (shift + 7 >= bits && shift < 64) {
            /* last allowed byte: no continuation, and the unused high bits are zero */
            unsigned used = bits - shift;
            if (used < 7 && ((b & 0x7f) >> used) != 0) return WA_RD_TOOLARGE;
            if (b & 0x80) return WA_RD_TOOLONG;
            v |= (uint64_t)b << shift;
            *out = v;
            return WA_RD_OK;
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80)) {
            *out = v;
            return WA_RD_OK;
        }
    }
}

/* Signed LEB128 of at most `bits` bits; in the last byte the unused bits must all equal the sign
 * bit. */
static inline wa_rd_status wa_rd_sleb(wa_reader *r, unsigned bits, int64_t *out)
{
    uint64_t v = 0;
    unsigned shift = 0;
    for (;;) {
        if (r->p >= r->end) return WA_RD_EOF;
        uint8_t b = *r->p++;
        if (shift + 7 >= bits) {
            unsigned used = bits - shift; /* 1..7 value bits in this byte */
            /* bits from `used-1` (the sign bit) up to bit 6 must be all 0 or all 1 */
            uint8_t rest = (uint8_t)((b & 0x7f) >> (used - 1));
            uint8_t all = (uint8_t)(0x7f >> (used - 1));
            if (rest != 0 && rest != all) return WA_RD_TOOLARGE;
            if (b & 0x80) return WA_RD_TOOLONG;
            v |= (uint64_t)(b & 0x7f) << shift;
            if (shift + 7 < 64 && (b & 0x40)) v |= ~(uint64_t)0 << (shift + 7);
            *out = (int64_t)v;
            return WA_RD_OK;
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80)) {
            if (shift < 64 && (b & 0x40)) v |= ~(uint64_t)0 << shift;
            *out = (int64_t)v;
            return WA_RD_OK;
        }
    }
}

static inline wa_rd_status wa_rd_u32(wa_reader *r, uint32_t *out)
{
    uint64_t v;
    wa_rd_status s = wa_rd_uleb(r, 32, &v);
    if (s == WA_RD_OK) *out = (uint32_t)v;
    return s;
}

static inline wa_rd_status wa_rd_byte(wa_reader *r, uint8_t *out)
{
    if (r->p >= r->end) return WA_RD_EOF;
    *out = *r->p++;
    return WA_RD_OK;
}

static inline wa_rd_status wa_rd_bytes(wa_reader *r, size_t n, const uint8_t **out)
{
    if ((size_t)(r->end - r->p) < n) return WA_RD_EOF;
    *out = r->p;
    r->p += n;
    return WA_RD_OK;
}

static inline wa_rd_status wa_rd_fixed32(wa_reader *r, uint32_t *out)
{
    if (r->end - r->p < 4) return WA_RD_EOF;
    memcpy(out, r->p, 4); /* little-endian host assumed (x86-64, aarch64) */
    r->p += 4;
    return WA_RD_OK;
}

static inline wa_rd_status wa_rd_fixed64(wa_reader *r, uint64_t *out)
{
    if (r->end - r->p < 8) return WA_RD_EOF;
    memcpy(out, r->p, 8);
    r->p += 8;
    return WA_RD_OK;
}

#endif
