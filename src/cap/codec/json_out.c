/* json_out.c — JSON text as Go's encoding/json writes it (TARMAC.md §4.0): string escaping with
 * HTML-safe escapes, invalid UTF-8 replaced byte by byte, and float64 formatting. */
#include "cap/codec/codec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at p (1–4), or 0 if invalid (utf8.DecodeRune's rules:
 * no overlongs, no surrogates, nothing above U+10FFFF). */
static size_t utf8_len(const uint8_t *p, size_t n, uint32_t *cp)
{
    uint8_t c = p[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    uint32_t v, lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        v = c & 0x0F;
        if (c == 0xE0)
            lo = 0xA0;
        if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        v = c & 0x07;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        uint8_t x = p[i];
        if (x < (i == 1 ? lo : 0x80) || x > (i == 1 ? hi : 0xBF))
            return 0;
        v = v << 6 | (x & 0x3F);
    }
    *cp = v;
    return len;
}

bool ap_json_put_str(ap_buf *b, const void *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *p = s;
    if (!ap_buf_append(b, "\"", 1))
        return false;
    size_t start = 0, i = 0;
    while (i < len) {
        uint8_t c = p[i];
        const char *esc = NULL;
        char u[7];
        size_t step = 1;
        if (c < 0x80) {
            if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&') {
                i++;
                continue;
            }
            switch (c) {
            case '"':
                esc = "\\\"";
                break;
            case '\\':
                esc = "\\\\";
                break;
            case '\n':
                esc = "\\n";
                break;
            case '\r':
                esc = "\\r";
                break;
            case '\t':
                esc = "\\t";
                break;
            case '\b':
                esc = "\\b";
                break;
            case '\f':
                esc = "\\f";
                break;
            default:
                snprintf(u, sizeof u, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
                esc = u;
            }
        } else {
            uint32_t cp;
            step = utf8_len(p + i, len - i, &cp);
            if (step == 0) {
                esc = "\\ufffd";
                step = 1;
            } else if (cp == 0x2028 || cp == 0x2029) {
                esc = cp == 0x2028 ? "\\u2028" : "\\u2029";
            } else {
                i += step;
                continue;
            }
        }
        if (!ap_buf_append(b, p + start, i - start) || !ap_buf_append_str(b, esc))
            return false;
        i += step;
        start = i;
    }
    return ap_buf_append(b, p + start, len - start) && ap_buf_append(b, "\"", 1);
}

bool ap_json_put_b64(ap_buf *b, const void *p, size_t len)
{
    return ap_buf_append(b, "\"", 1) && ap_b64_encode(b, p, len) && ap_buf_append(b, "\"", 1);
}

bool ap_json_put_float(ap_buf *b, double f, bool *unsupported)
{
    *unsupported = false;
    if (isnan(f) || isinf(f)) {
        *unsupported = true;
        return false;
    }
    if (f == 0)
        return ap_buf_append_str(b, signbit(f) ? "-0" : "0");
    /* shortest digits that read back as f */
    char e[40];
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec - 1, f);
        if (strtod(e, NULL) == f)
            break;
    }
    /* e is "-d.ddde±XX": split into sign, digits and exponent */
    char digits[24] = {0};
    size_t nd = 0;
    const char *q = e;
    bool neg = *q == '-';
    if (neg)
        q++;
    for (; *q && *q != 'e'; q++)
        if (*q != '.')
            digits[nd++] = *q;
    int exp10 = atoi(q + 1); /* value = 0.d1d2… × 10^(exp10+1) */
    double a = fabs(f);
    char out[64];
    size_t o = 0;
    if (neg)
        out[o++] = '-';
    if (a < 1e-6 || a >= 1e21) {
        out[o++] = digits[0];
        if (nd > 1) {
            out[o++] = '.';
            memcpy(out + o, digits + 1, nd - 1);
            o += nd - 1;
        }
        /* Go: e-07 → e-7, e+21 stays two digits or more */
        o += (size_t)snprintf(out + o, sizeof out - o, "e%c%0*d", exp10 < 0 ? '-' : '+',
                              exp10 < 0 ? 1 : 2, abs(exp10));
    } else if (exp10 < 0) {
        out[o++] = '0';
        out[o++] = '.';
        for (int z = -1; z > exp10; z--)
            out[o++] = '0';
        memcpy(out + o, digits, nd);
        o += nd;
    } else {
        for (int k = 0; k <= exp10 || k < (int)nd; k++) {
            if (k == exp10 + 1)
                out[o++] = '.';
            out[o++] = k < (int)nd ? digits[k] : '0';
        }
    }
    return ap_buf_append(b, out, o);
}
