/* log.c — the structured logger of log.h. */
#include "log.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

static atomic_int min_level = AP_LOG_INFO;
static bool text_format;
static FILE *stream;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void ap_log_setup(ap_log_level min, bool text, FILE *out)
{
    pthread_mutex_lock(&lock);
    text_format = text;
    stream = out;
    pthread_mutex_unlock(&lock);
    atomic_store(&min_level, min);
}

void ap_log_set_level(ap_log_level min) { atomic_store(&min_level, min); }

ap_log_level ap_log_level_from(bool debug, bool trace, bool disable)
{
    if (disable) return AP_LOG_OFF;
    if (trace) return AP_LOG_TRACE;
    if (debug) return AP_LOG_DEBUG;
    return AP_LOG_INFO;
}

bool ap_log_enabled(ap_log_level level)
{
    int min = atomic_load_explicit(&min_level, memory_order_relaxed);
    return min != AP_LOG_OFF && (int)level >= min;
}

static const char *level_name(ap_log_level l)
{
    switch (l) {
    case AP_LOG_TRACE: return "TRACE";
    case AP_LOG_DEBUG: return "DEBUG";
    case AP_LOG_INFO: return "INFO";
    case AP_LOG_WARN: return "WARN";
    case AP_LOG_ERROR: return "ERROR";
    case AP_LOG_OFF: break;
    }
    return "INFO";
}

/* A fixed line buffer: a record longer than it is cut, ending in "…" (never split in two). */
typedef struct {
    char b[8192];
    size_t n;
    bool cut;
} line;

static void put(line *l, const char *s, size_t n)
{
    size_t room = sizeof l->b - 8 - l->n; /* keep space for the cut mark, '}' and '\n' */
    if (n > room) {
        n = room;
        l->cut = true;
    }
    memcpy(l->b + l->n, s, n);
    l->n += n;
}

static void puts_(line *l, const char *s) { put(l, s, strlen(s)); }

static void put_json_string(line *l, const char *s, size_t n)
{
    put(l, "\"", 1);
    for (size_t i = 0; i < n && !l->cut; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(l, esc, 2);
        } else if (c == '\n') {
            put(l, "\\n", 2);
        } else if (c == '\r') {
            put(l, "\\r", 2);
        } else if (c == '\t') {
            put(l, "\\t", 2);
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(l, esc, 6);
        } else {
            put(l, (const char *)&s[i], 1);
        }
    }
    put(l, "\"", 1);
}

/* Text format: bare when the value has no space, quote, '=' or control byte; else quoted with
 * JSON escapes (so CR/LF become \r/\n). */
static void put_text_value(line *l, const char *s, size_t n)
{
    bool plain = n > 0;
    for (size_t i = 0; i < n && plain; i++) {
        unsigned char c = (unsigned char)s[i];
        plain = c > 0x20 && c != '"' && c != '=' && c != 0x7f;
    }
    if (plain)
        put(l, s, n);
    else
        put_json_string(l, s, n);
}

static void put_time(line *l)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char b[48];
    size_t n = strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
    if (text_format)
        snprintf(b + n, sizeof b - n, ".%03ldZ", ts.tv_nsec / 1000000);
    else
        snprintf(b + n, sizeof b - n, ".%09ldZ", ts.tv_nsec);
    puts_(l, b);
}

void ap_log_write(ap_log_level level, const char *msg, const ap_log_attr *attrs, size_t n)
{
    if (!ap_log_enabled(level)) return;
    line l;
    l.n = 0;
    l.cut = false;
    char num[64];
    if (text_format) {
        puts_(&l, "time=");
        put_time(&l);
        puts_(&l, " level=");
        puts_(&l, level_name(level));
        puts_(&l, " msg=");
        put_text_value(&l, msg, strlen(msg));
    } else {
        puts_(&l, "{\"time\":\"");
        put_time(&l);
        puts_(&l, "\",\"level\":\"");
        puts_(&l, level_name(level));
        puts_(&l, "\",\"msg\":");
        put_json_string(&l, msg, strlen(msg));
    }
    for (size_t i = 0; i < n && !l.cut; i++) {
        const ap_log_attr *a = &attrs[i];
        if (text_format) {
            puts_(&l, " ");
            puts_(&l, a->key);
            puts_(&l, "=");
        } else {
            puts_(&l, ",");
            put_json_string(&l, a->key, strlen(a->key));
            puts_(&l, ":");
        }
        switch (a->kind) {
        case AP_LATTR_STR: {
            const char *s = a->s ? a->s : "";
            size_t len = a->len ? a->len : strlen(s);
            if (text_format)
                put_text_value(&l, s, len);
            else
                put_json_string(&l, s, len);
            break;
        }
        case AP_LATTR_INT:
            snprintf(num, sizeof num, "%" PRId64, a->i);
            puts_(&l, num);
            break;
        case AP_LATTR_FLOAT:
            snprintf(num, sizeof num, "%.17g", a->f);
            puts_(&l, num);
            break;
        case AP_LATTR_BOOL: puts_(&l, a->i ? "true" : "false"); break;
        }
    }
    if (l.cut) {
        /* Close an open JSON string so the line still parses. */
        memcpy(l.b + l.n, text_format ? "..." : "...\"", text_format ? 3 : 4);
        l.n += text_format ? 3 : 4;
    }
    if (!text_format) l.b[l.n++] = '}';
    l.b[l.n++] = '\n';
    pthread_mutex_lock(&lock);
    FILE *out = stream ? stream : stdout;
    fwrite(l.b, 1, l.n, out);
    fflush(out);
    pthread_mutex_unlock(&lock);
}
