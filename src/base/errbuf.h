/* errbuf.h — the caller-owned error text every seam outside the engine fills (STYLE.md §2.6):
 * written once, where the failure is understood. */
#ifndef AP_ERRBUF_H
#define AP_ERRBUF_H

typedef struct {
    char msg[256];
} ap_errbuf;

/* Formats into e (NULL is allowed: nothing is written). */
void ap_errbuf_set(ap_errbuf *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
