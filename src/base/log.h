/* log.h — structured logs (TARMAC.md §5.6): one line per record, JSON by default
 * ({"time":"<RFC3339Nano>","level":"INFO","msg":"…",<attrs>}) or text (time=… level=… msg=…
 * key=value), levels TRACE < DEBUG < INFO < WARN < ERROR, and "off". Thread-safe: a record is
 * formatted on the caller's stack and written with one write under a lock.
 *
 *     AP_LOG(AP_LOG_INFO, "Starting HTTP Listener", AP_LSTR("address", addr));
 *
 * Text values are escaped (JSON) or quoted when needed (text); CR and LF never reach the output
 * unescaped, so user input cannot forge a line. */
#ifndef AP_LOG_H
#define AP_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
    AP_LOG_TRACE = -8,
    AP_LOG_DEBUG = -4,
    AP_LOG_INFO = 0,
    AP_LOG_WARN = 4,
    AP_LOG_ERROR = 8,
    AP_LOG_OFF = 100, /* as a minimum level: nothing is written */
} ap_log_level;

typedef enum { AP_LATTR_STR, AP_LATTR_INT, AP_LATTR_FLOAT, AP_LATTR_BOOL } ap_log_attr_kind;

typedef struct {
    const char *key;
    ap_log_attr_kind kind;
    const char *s; /* AP_LATTR_STR: NUL-terminated unless len is set */
    size_t len;    /* 0 with s: strlen(s) */
    int64_t i;
    double f;
} ap_log_attr;

#define AP_LSTR(k, v) ((ap_log_attr){.key = (k), .kind = AP_LATTR_STR, .s = (v)})
#define AP_LMEM(k, p, n) ((ap_log_attr){.key = (k), .kind = AP_LATTR_STR, .s = (p), .len = (n)})
#define AP_LINT(k, v) ((ap_log_attr){.key = (k), .kind = AP_LATTR_INT, .i = (int64_t)(v)})
#define AP_LFLOAT(k, v) ((ap_log_attr){.key = (k), .kind = AP_LATTR_FLOAT, .f = (double)(v)})
#define AP_LBOOL(k, v) ((ap_log_attr){.key = (k), .kind = AP_LATTR_BOOL, .i = !!(v)})

/* Sets the minimum level, the format and the stream (NULL: stdout). Call before other threads
 * log; the level may change at any time (an atomic store). The default is INFO, JSON, stdout. */
void ap_log_setup(ap_log_level min, bool text, FILE *out);
void ap_log_set_level(ap_log_level min);
/* The level from Tarmac's booleans: trace wins over debug, disable_logging over both. */
ap_log_level ap_log_level_from(bool debug, bool trace, bool disable);
/* True when a record at `level` would be written (check before building costly attributes). */
bool ap_log_enabled(ap_log_level level);

/* Writes one record; attrs may be NULL when n is 0. */
void ap_log_write(ap_log_level level, const char *msg, const ap_log_attr *attrs, size_t n);

#define AP_LOG(level, msg, ...)                                                                    \
    do {                                                                                           \
        if (ap_log_enabled(level)) {                                                               \
            const ap_log_attr ap_log_attrs_[] = {{0}, ##__VA_ARGS__};                              \
            ap_log_write((level), (msg), ap_log_attrs_ + 1,                                        \
                         sizeof ap_log_attrs_ / sizeof ap_log_attrs_[0] - 1);                      \
        }                                                                                          \
    } while (0)

#endif
