/* pb.c — protobuf wire reading with the strict rules of TARMAC.md §4.0 (protobuf-go-lite), and
 * writing. Whether a payload walks cleanly decides the protobuf or JSON path, so every reject
 * below is part of the contract: an over-long varint, a truncated value, wire type 4 at the top,
 * a field number ≤ 0 (as int32), a known field with the wrong wire type, a length past the end,
 * and for unknown fields the group-aware skipper. */
#include "cap/codec/codec.h"

#include <string.h>

static bool varint(const uint8_t *p, size_t len, size_t *i, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*i >= len)
            return false; /* truncated */
        uint8_t c = p[(*i)++];
        v |= (uint64_t)(c & 0x7F) << shift;
        if (!(c & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false; /* more than 10 bytes */
}

/* Bytes taken by the field starting at p[0] (tag included), groups nested; 0 on error. */
static size_t skip(const uint8_t *p, size_t len)
{
    size_t i = 0;
    unsigned depth = 0;
    for (;;) {
        uint64_t tag, v;
        if (!varint(p, len, &i, &tag))
            return 0;
        switch (tag & 7) {
        case 0:
            if (!varint(p, len, &i, &v))
                return 0;
            break;
        case 1:
            if (len - i < 8)
                return 0;
            i += 8;
            break;
        case 2:
            if (!varint(p, len, &i, &v) || v > len - i)
                return 0;
            i += (size_t)v;
            break;
        case 3:
            depth++;
            break;
        case 4:
            if (depth == 0)
                return 0;
            depth--;
            break;
        case 5:
            if (len - i < 4)
                return 0;
            i += 4;
            break;
        default:
            return 0;
        }
        if (depth == 0)
            return i;
    }
}

bool ap_pb_walk(ap_bytes msg, const ap_pb_schema *schema, ap_pb_field_fn fn, void *ctx,
                ap_errbuf *e)
{
    const uint8_t *p = msg.ptr;
    size_t len = msg.len, i = 0;
    while (i < len) {
        size_t start = i;
        uint64_t tag, v = 0;
        if (!varint(p, len, &i, &tag)) {
            ap_errbuf_set(e, "proto: invalid varint at byte %zu", start);
            return false;
        }
        int32_t field = (int32_t)(uint32_t)(tag >> 3);
        int wt = (int)(tag & 7);
        if (wt == 4 || field <= 0) {
            ap_errbuf_set(e, "proto: invalid field number or wire type at byte %zu", start);
            return false;
        }
        int want = field < schema->count ? schema->wt[field] : -1;
        if (want < 0) {
            size_t n = skip(p + start, len - start);
            if (n == 0) {
                ap_errbuf_set(e, "proto: cannot skip unknown field %d at byte %zu", field, start);
                return false;
            }
            i = start + n;
            continue;
        }
        if (wt != want) {
            ap_errbuf_set(e, "proto: wrong wire type %d for field %d", wt, field);
            return false;
        }
        ap_bytes b = {0};
        bool ok = true;
        switch (wt) {
        case AP_PB_VARINT:
            ok = varint(p, len, &i, &v);
            break;
        case AP_PB_I64:
            ok = len - i >= 8;
            if (ok) {
                for (int k = 7; k >= 0; k--)
                    v = v << 8 | p[i + (size_t)k];
                i += 8;
            }
            break;
        case AP_PB_LEN:
            ok = varint(p, len, &i, &v) && v <= len - i;
            if (ok) {
                b = (ap_bytes){p + i, (size_t)v};
                i += (size_t)v;
            }
            break;
        default:
            ok = false;
        }
        if (!ok) {
            ap_errbuf_set(e, "proto: truncated field %d", field);
            return false;
        }
        if (!fn(ctx, field, v, b)) {
            ap_errbuf_set(e, "proto: invalid value of field %d", field);
            return false;
        }
    }
    return true;
}

static bool put_raw_varint(ap_buf *b, uint64_t v)
{
    uint8_t t[10];
    size_t n = 0;
    do {
        t[n] = (uint8_t)(v & 0x7F);
        v >>= 7;
        if (v)
            t[n] |= 0x80;
        n++;
    } while (v);
    return ap_buf_append(b, t, n);
}

bool ap_pb_put_varint(ap_buf *b, int field, uint64_t v)
{
    return put_raw_varint(b, (uint64_t)field << 3 | AP_PB_VARINT) && put_raw_varint(b, v);
}

bool ap_pb_put_len(ap_buf *b, int field, const void *p, size_t len)
{
    return put_raw_varint(b, (uint64_t)field << 3 | AP_PB_LEN) && put_raw_varint(b, len) &&
           ap_buf_append(b, p, len);
}

bool ap_pb_put_double(ap_buf *b, int field, double f)
{
    uint64_t v;
    memcpy(&v, &f, sizeof v);
    uint8_t t[8];
    for (int k = 0; k < 8; k++)
        t[k] = (uint8_t)(v >> (8 * k));
    return put_raw_varint(b, (uint64_t)field << 3 | AP_PB_I64) && ap_buf_append(b, t, 8);
}

bool ap_pb_put_status(ap_buf *b, int field, int code, const char *text)
{
    ap_buf in = {0};
    bool ok = (code == 0 || ap_pb_put_varint(&in, 1, (uint64_t)(int64_t)code)) &&
              (!*text || ap_pb_put_len(&in, 2, text, strlen(text))) &&
              ap_pb_put_len(b, field, in.data, in.len);
    ap_buf_free(&in);
    return ok;
}
