/* codec.h — the wire formats of the Tarmac capabilities (TARMAC.md §4.0–4.2): Go-compatible JSON
 * output, Go's standard base64, a strict protobuf reader whose accept/reject decisions match
 * protobuf-go-lite (they choose the JSON or protobuf path), a protobuf writer, and JSON input
 * helpers over jansson with Go's encoding/json decoding rules. No state; every function is
 * thread-safe. Output functions append to an ap_buf and return false only on OOM. */
#ifndef AP_CAP_CODEC_H
#define AP_CAP_CODEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/errbuf.h"

/* ---- JSON output (Go encoding/json) ---- */

/* A quoted JSON string: `"` `\\` escaped; \n \r \t \b \f; other controls \u00xx; < > & as
 * \u003c \u003e \u0026; U+2028/2029 escaped; each invalid UTF-8 byte → \ufffd. */
bool ap_json_put_str(ap_buf *b, const void *s, size_t len);
/* A quoted standard base64 string (with padding). */
bool ap_json_put_b64(ap_buf *b, const void *p, size_t len);
/* A number as Go writes a float64: shortest round-trip digits, exponent form below 1e-6 and from
 * 1e21. NaN/Inf: false with *unsupported set (Go's "json: unsupported value"); OOM: false. */
bool ap_json_put_float(ap_buf *b, double f, bool *unsupported);

/* ---- base64 (standard alphabet, padding) ---- */

bool ap_b64_encode(ap_buf *b, const void *p, size_t len);
/* Go's StdEncoding.DecodeString: CR and LF are skipped anywhere, padding is required, trailing
 * bits need not be zero. On error: false, e = "illegal base64 data at input byte N" (Go's text
 * and offset), and b gets the bytes Go returns with the error (the quanta before it). */
bool ap_b64_decode(ap_buf *b, const void *s, size_t len, ap_errbuf *e);

/* ---- protobuf reading (TARMAC.md §4.0, strict) ---- */

typedef enum { AP_PB_VARINT = 0, AP_PB_I64 = 1, AP_PB_LEN = 2, AP_PB_I32 = 5 } ap_pb_wire;

/* Known fields of a message: wt[n] is the wire type of field n (1 ≤ n < count), or -1 when
 * field n is unknown (skipped by the strict skipper). */
typedef struct {
    const signed char *wt;
    int count;
} ap_pb_schema;

/* Called for each known field in wire order: v is the varint or fixed64 value, b the LEN
 * payload. Return false to reject the message (e.g. a nested message failed). */
typedef bool (*ap_pb_field_fn)(void *ctx, int field, uint64_t v, ap_bytes b);

/* Walks msg with protobuf-go-lite's rules; false (e says why) if it would fail to unmarshal.
 * An empty message is valid. */
bool ap_pb_walk(ap_bytes msg, const ap_pb_schema *schema, ap_pb_field_fn fn, void *ctx,
                ap_errbuf *e);

/* ---- protobuf writing (ascending fields, proto3 defaults omitted by the callers) ---- */

bool ap_pb_put_varint(ap_buf *b, int field, uint64_t v);
bool ap_pb_put_len(ap_buf *b, int field, const void *p, size_t len); /* bytes, string, message */
bool ap_pb_put_double(ap_buf *b, int field, double f);
/* tarmac.Status{code, status} as field `field` (always present, even when empty). */
bool ap_pb_put_status(ap_buf *b, int field, int code, const char *text);

/* ---- JSON input (Go encoding/json into a struct) ---- */

/* Parses a request: an object or the literal null (→ *root NULL) with only white space after it.
 * Anything else: false with Go-like text in e. The caller json_decref()s *root. */
bool ap_jin_parse(ap_bytes text, json_t **root, ap_errbuf *e);
/* The member whose key equals `name` ignoring ASCII case (the last one wins), or NULL when
 * absent or JSON null. root may be NULL. */
json_t *ap_jin_get(json_t *root, const char *name);
/* A string field: absent/null → empty (ok). Other types: false, e says which field. The bytes
 * belong to root. */
bool ap_jin_str(json_t *root, const char *name, ap_bytes *out, ap_errbuf *e);
bool ap_jin_bool(json_t *root, const char *name, bool *out, ap_errbuf *e);
bool ap_jin_number(json_t *root, const char *name, double *out, ap_errbuf *e);

#endif
