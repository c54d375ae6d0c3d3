/* buf.c — the growable byte buffer. */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(ap_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1) return false;
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *d = realloc(b->data, cap);
    if (!d) return false;
    b->data = d;
    b->cap = cap;
    return true;
}

bool ap_buf_append(ap_buf *b, const void *p, size_t n)
{
    if (!reserve(b, n)) return false;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return true;
}

bool ap_buf_append_str(ap_buf *b, const char *s) { return ap_buf_append(b, s, strlen(s)); }

bool ap_buf_printf(ap_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n)) return false;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return true;
}

void ap_buf_reset(ap_buf *b)
{
    b->len = 0;
    if (b->data) b->data[0] = 0;
}

void ap_buf_free(ap_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
