/* base64.c — standard base64 with padding; decoding as Go's StdEncoding.DecodeString, error
 * offsets included (TARMAC.md §4.0: CR/LF accepted anywhere). */
#include "cap/codec/codec.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

bool ap_b64_encode(ap_buf *b, const void *p, size_t len)
{
    const uint8_t *s = p;
    char q[4];
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        q[0] = alphabet[v >> 18];
        q[1] = alphabet[(v >> 12) & 63];
        q[2] = alphabet[(v >> 6) & 63];
        q[3] = alphabet[v & 63];
        if (!ap_buf_append(b, q, 4))
            return false;
    }
    if (i < len) {
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < len ? (uint32_t)s[i + 1] << 8 : 0);
        q[0] = alphabet[v >> 18];
        q[1] = alphabet[(v >> 12) & 63];
        q[2] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
        q[3] = '=';
        if (!ap_buf_append(b, q, 4))
            return false;
    }
    return len > 0 || ap_buf_append(b, "", 0);
}

static int value_of(uint8_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Go returns the bytes of the quanta decoded before the error along with it; so do we. */
static bool corrupt(ap_buf *b, ap_buf *out, ap_errbuf *e, size_t at)
{
    ap_errbuf_set(e, "illegal base64 data at input byte %zu", at);
    ap_buf_append(b, out->data, out->len);
    ap_buf_free(out);
    return false;
}

bool ap_b64_decode(ap_buf *b, const void *src, size_t len, ap_errbuf *e)
{
    const uint8_t *s = src;
    ap_buf out = {0};
    size_t si = 0, garbage = 0;
    bool done = false;
    while (!done && si < len) {
        int q[4] = {0};
        int j, n = 4;
        for (j = 0; j < 4; j++) {
            if (si == len) {
                if (j == 0) {
                    n = 0;
                    break;
                }
                return corrupt(b, &out, e, si - (size_t)j);
            }
            uint8_t c = s[si++];
            int v = value_of(c);
            if (v >= 0) {
                q[j] = v;
                continue;
            }
            if (c == '\n' || c == '\r') {
                j--;
                continue;
            }
            if (c != '=' || j < 2) {
                return corrupt(b, &out, e, si - 1);
            }
            if (j == 2) { /* "==" expected, the first '=' already read */
                while (si < len && (s[si] == '\n' || s[si] == '\r'))
                    si++;
                if (si == len) {
                    return corrupt(b, &out, e, len);
                }
                if (s[si] != '=') {
                    return corrupt(b, &out, e, si - 1);
                }
                si++;
            }
            while (si < len && (s[si] == '\n' || s[si] == '\r'))
                si++;
            if (si < len)
                garbage = si; /* trailing garbage: Go still returns this quantum */
            n = j;
            done = true;
            break;
        }
        if (n == 0)
            break;
        uint32_t v = (uint32_t)q[0] << 18 | (uint32_t)q[1] << 12 | (uint32_t)q[2] << 6 | q[3];
        uint8_t o[3] = {(uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
        if (!ap_buf_append(&out, o, (size_t)n - 1)) {
            ap_buf_free(&out);
            ap_errbuf_set(e, "out of memory");
            return false;
        }
        if (garbage)
            return corrupt(b, &out, e, garbage);
    }
    bool ok = ap_buf_append(b, out.data, out.len);
    ap_buf_free(&out);
    if (!ok)
        ap_errbuf_set(e, "out of memory");
    return ok;
}
