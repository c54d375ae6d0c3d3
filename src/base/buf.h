/* buf.h — a growable byte buffer (owned), and a borrowed byte view. */
#ifndef AP_BUF_H
#define AP_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A borrowed view: the receiver never frees it; its lifetime is stated where it is handed out. */
typedef struct {
    const uint8_t *ptr;
    size_t len;
} ap_bytes;

/* An owned, growable buffer; zero-initialised is empty. `data` is always NUL-terminated past
 * `len` once anything was appended, so text can be used as a C string. */
typedef struct {
    uint8_t *data;
    size_t len, cap;
} ap_buf;

bool ap_buf_append(ap_buf *b, const void *p, size_t n); /* false on OOM (b unchanged) */
bool ap_buf_append_str(ap_buf *b, const char *s);
bool ap_buf_printf(ap_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ap_buf_reset(ap_buf *b); /* len = 0, keeps the memory */
void ap_buf_free(ap_buf *b);  /* back to empty */

#endif
