/* metrics.c — tarmac:metrics:counter/gauge/histogram (TARMAC.md §4.7): user metrics without
 * labels or help, one namespace across types, living for the process. Tarmac's "histogram" is a
 * Summary with the 0.5/0.9/0.99 quantiles (kept here over the last RING observations within 10
 * minutes). Exposed on /metrics through ap_metrics_set_writer.
 *
 * Differences from Tarmac (docs/capabilities.md): names must match [a-zA-Z_:][a-zA-Z0-9_:]*
 * (§11.9); a name of a built-in metric (http_server, process_*, …) is "metric name in use"
 * instead of a panic that fails the invocation; at most MAX_METRICS names. */
#include "cap/internal.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/metrics.h"

#define RING 1024
#define MAX_METRICS 10000
#define WINDOW_NS (600LL * 1000000000LL)

typedef enum { M_COUNTER, M_GAUGE, M_SUMMARY } m_kind;

typedef struct umetric {
    struct umetric *next;
    m_kind kind;
    double value; /* counter, gauge */
    unsigned long long count;
    double sum;
    double obs[RING];
    long long at[RING];
    unsigned head, n;
    char name[];
} umetric;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static umetric *metrics;
static size_t nmetrics;

static const char bad_name[] = "invalid metric name: must match [a-zA-Z_:][a-zA-Z0-9_:]*";

static bool name_ok(ap_bytes n)
{
    if (n.len == 0 || n.len > 200)
        return false;
    for (size_t i = 0; i < n.len; i++) {
        uint8_t c = n.ptr[i];
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
            return false;
    }
    return true;
}

static bool reserved(const char *n)
{
    static const char *const exact[] = {"http_server", "scheduled_tasks", "wasm_callbacks",
                                        "wasm_functions", "service_routes"};
    static const char *const prefix[] = {"process_", "go_", "promhttp_"};
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++) {
        size_t l = strlen(exact[i]);
        /* a summary also owns name_sum and name_count */
        if (strncmp(n, exact[i], l) == 0 &&
            (!n[l] || strcmp(n + l, "_sum") == 0 || strcmp(n + l, "_count") == 0))
            return true;
    }
    for (size_t i = 0; i < sizeof prefix / sizeof prefix[0]; i++)
        if (strncmp(n, prefix[i], strlen(prefix[i])) == 0)
            return true;
    return false;
}

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Applies one operation; NULL on success, else Tarmac's error text. */
static const char *apply(ap_bytes name, m_kind kind, double v)
{
    if (!name_ok(name))
        return bad_name;
    char n[256];
    memcpy(n, name.ptr, name.len);
    n[name.len] = 0;
    if (reserved(n))
        return "metric name in use";
    const char *err = NULL;
    pthread_mutex_lock(&lock);
    umetric *m = metrics;
    for (; m; m = m->next)
        if (strcmp(m->name, n) == 0)
            break;
    if (m && m->kind != kind) {
        err = "metric name in use";
    } else if (!m && nmetrics >= MAX_METRICS) {
        err = "too many metrics";
    } else if (!m && !(m = calloc(1, sizeof *m + name.len + 1))) {
        err = "out of memory";
    } else {
        if (!m->name[0]) {
            memcpy(m->name, n, name.len + 1);
            m->kind = kind;
            m->next = metrics;
            metrics = m;
            nmetrics++;
        }
        if (kind == M_SUMMARY) {
            m->count++;
            m->sum += v;
            m->obs[m->head] = v;
            m->at[m->head] = now_ns();
            m->head = (m->head + 1) % RING;
            if (m->n < RING)
                m->n++;
        } else {
            m->value += v;
        }
    }
    pthread_mutex_unlock(&lock);
    return err;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The shortest %g text that reads back as v (Go's strconv 'g' -1), e.g. 0.1 not 0.1000…01. */
static const char *num(char *b, size_t n, double v)
{
    if (isnan(v))
        return "NaN";
    if (isinf(v))
        return v > 0 ? "+Inf" : "-Inf";
    for (int p = 1; p <= 17; p++) {
        snprintf(b, n, "%.*g", p, v);
        if (strtod(b, NULL) == v)
            break;
    }
    return b;
}

static bool write_user(ap_buf *out)
{
    static const double qs[] = {0.5, 0.9, 0.99};
    static double win[RING];
    char nb[40];
    bool ok = true;
    long long now = now_ns();
    pthread_mutex_lock(&lock);
    for (const umetric *m = metrics; m; m = m->next) {
        const char *type = m->kind == M_COUNTER ? "counter" : m->kind == M_GAUGE ? "gauge" : "summary";
        ok &= ap_buf_printf(out, "# HELP %s \n# TYPE %s %s\n", m->name, m->name, type);
        if (m->kind != M_SUMMARY) {
            ok &= ap_buf_printf(out, "%s %s\n", m->name, num(nb, sizeof nb, m->value));
            continue;
        }
        unsigned n = 0;
        for (unsigned i = 0; i < m->n; i++)
            if (now - m->at[i] <= WINDOW_NS)
                win[n++] = m->obs[i];
        qsort(win, n, sizeof win[0], cmp_double);
        for (size_t q = 0; q < 3; q++) {
            if (n == 0) {
                ok &= ap_buf_printf(out, "%s{quantile=\"%g\"} NaN\n", m->name, qs[q]);
                continue;
            }
            unsigned idx = (unsigned)ceil(qs[q] * n) - 1;
            ok &= ap_buf_printf(out, "%s{quantile=\"%g\"} %s\n", m->name, qs[q],
                                num(nb, sizeof nb, win[idx < n ? idx : n - 1]));
        }
        ok &= ap_buf_printf(out, "%s_sum %s\n%s_count %llu\n", m->name,
                            num(nb, sizeof nb, m->sum), m->name, m->count);
    }
    pthread_mutex_unlock(&lock);
    return ok;
}

/* MetricsCounter {1 name}, MetricsGauge {1 name, 2 action}, MetricsHistogram {1 name,
 * 2 value double}. */
static const signed char counter_wt[] = {-1, AP_PB_LEN};
static const signed char gauge_wt[] = {-1, AP_PB_LEN, AP_PB_LEN};
static const signed char hist_wt[] = {-1, AP_PB_LEN, AP_PB_I64};

typedef struct {
    ap_bytes name, action;
    double value;
} m_req;

static bool m_field(void *ctx, int field, uint64_t v, ap_bytes b)
{
    m_req *r = ctx;
    if (field == 1)
        r->name = b;
    else if (b.ptr)
        r->action = b;
    else
        memcpy(&r->value, &v, sizeof v);
    return true;
}

static const char *evaluate(m_kind kind, ap_bytes name, ap_bytes action, double value)
{
    double delta = 1;
    if (kind == M_GAUGE) {
        bool inc = action.len == 3 && memcmp(action.ptr, "inc", 3) == 0;
        bool dec = action.len == 3 && memcmp(action.ptr, "dec", 3) == 0;
        if (!name_ok(name))
            return bad_name;
        if (!inc && !dec)
            return "invalid action"; /* checked before creation */
        delta = dec ? -1 : 1;
    }
    return apply(name, kind, kind == M_SUMMARY ? value : delta);
}

static ap_wapc_host_status run(const ap_wapc_call *call, m_kind kind, const signed char *wt,
                               int nwt, ap_buf *error)
{
    m_req r = {0};
    ap_errbuf e;
    ap_pb_schema schema = {wt, nwt};
    const char *err;
    if (ap_pb_walk(call->payload, &schema, m_field, &r, &e)) {
        err = evaluate(kind, r.name, r.action, r.value);
    } else {
        json_t *root = NULL;
        if (!ap_jin_parse(call->payload, &root, &e) || !ap_jin_str(root, "name", &r.name, &e) ||
            (kind == M_GAUGE && !ap_jin_str(root, "action", &r.action, &e)) ||
            (kind == M_SUMMARY && !ap_jin_number(root, "value", &r.value, &e))) {
            json_decref(root);
            ap_buf_printf(error, "unable to parse input JSON - %s", e.msg);
            return AP_WAPC_HOST_ERROR;
        }
        err = evaluate(kind, r.name, r.action, r.value); /* r's bytes live in root */
        json_decref(root);
    }
    if (err) {
        ap_buf_append_str(error, err);
        return AP_WAPC_HOST_ERROR;
    }
    return AP_WAPC_HOST_OK;
}

ap_wapc_host_status cap_metrics_counter(ap_cap *c, const ap_wapc_call *call, ap_buf *response,
                                        ap_buf *error)
{
    return run(call, M_COUNTER, counter_wt, 2, error);
}

ap_wapc_host_status cap_metrics_gauge(ap_cap *c, const ap_wapc_call *call, ap_buf *response,
                                      ap_buf *error)
{
    return run(call, M_GAUGE, gauge_wt, 3, error);
}

ap_wapc_host_status cap_metrics_histogram(ap_cap *c, const ap_wapc_call *call, ap_buf *response,
                                          ap_buf *error)
{
    return run(call, M_SUMMARY, hist_wt, 3, error);
}

void cap_metrics_install(void) { ap_metrics_set_writer(write_user); }

/* Tests: forget every user metric. */
void cap_metrics_reset(void)
{
    pthread_mutex_lock(&lock);
    while (metrics) {
        umetric *m = metrics;
        metrics = m->next;
        free(m);
    }
    nmetrics = 0;
    pthread_mutex_unlock(&lock);
}
