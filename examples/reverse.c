/* reverse.c — reverses the payload (by UTF-8 characters) and caches the answer in the key-value
 * store, like the example in Tarmac's README: look the payload up first; on a miss compute the
 * answer and store it. Counts hits and misses as metrics; logs at debug level. A failing cache
 * only costs the cache: the answer is still computed. */
#include <string.h>

#include "apron.h"

/* Payloads longer than this are reversed without the cache (keys stay small). */
#define MAX_CACHED 1024

/* Appends `s` reversed character by character (a byte that does not start a valid sequence counts
 * as one character). */
static apron_status reverse_utf8(const uint8_t *s, size_t n, apron_buf *out)
{
    size_t end = n;
    while (end > 0) {
        size_t start = end - 1;
        /* step back over continuation bytes, at most three */
        while (start > 0 && end - start < 4 && (s[start] & 0xc0) == 0x80)
            start--;
        if ((s[start] & 0xc0) == 0x80) start = end - 1; /* stray continuation byte */
        if (apron_buf_append(out, s + start, end - start) != APRON_OK) return APRON_ERR_NOMEM;
        end = start;
    }
    return APRON_OK;
}

static apron_status reverse(const uint8_t *payload, size_t len, apron_buf *out)
{
    apron_buf key = APRON_BUF_INIT, cached = APRON_BUF_INIT;
    apron_error err;
    apron_status st;

    apron_logf(APRON_LOG_DEBUG, "reverse: %zu bytes", len);
    if (len == 0) return APRON_OK;
    if (len > MAX_CACHED) return reverse_utf8(payload, len, out);

    /* The key: a prefix and the payload in base64, so any bytes make a valid key. */
    if (apron_buf_puts(&key, "reverse:") != APRON_OK ||
        apron_base64_encode(&key, payload, len) != APRON_OK) {
        apron_buf_free(&key);
        return apron_fail(out, "out of memory");
    }
    st = apron_kv_get(apron_buf_cstr(&key), &cached, &err);
    if (st == APRON_OK) {
        apron_metrics_counter_inc("reverse_cache_hits", NULL);
        st = apron_buf_append(out, cached.ptr, cached.len);
    } else {
        apron_metrics_counter_inc("reverse_cache_misses", NULL);
        if (err.code != 404) apron_logf(APRON_LOG_WARN, "reverse: cache lookup: %s", err.msg);
        st = reverse_utf8(payload, len, out);
        if (st == APRON_OK && apron_kv_set(apron_buf_cstr(&key), out->ptr, out->len, &err) != APRON_OK)
            apron_logf(APRON_LOG_WARN, "reverse: cache store: %s", err.msg);
    }
    apron_buf_free(&cached);
    apron_buf_free(&key);
    return st == APRON_OK ? APRON_OK : apron_fail(out, "out of memory");
}

void apron_init(void)
{
    apron_register("handler", reverse);
    apron_register("reverse", reverse);
}
