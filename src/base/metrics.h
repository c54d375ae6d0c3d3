/* metrics.h — the built-in Prometheus metrics of TARMAC.md §6 (summaries with 0.5/0.9/0.99
 * quantiles over a 10-minute window, the service_routes gauge) plus process_* metrics, written in
 * the text exposition format 0.0.4. One process-wide registry; every function is thread-safe.
 * A family keeps at most AP_METRICS_MAX_SERIES label values; later ones are counted under the
 * value "_other" (Tarmac's http_server path label is otherwise unbounded). */
#ifndef AP_METRICS_H
#define AP_METRICS_H

#include <stdbool.h>

#include "buf.h"

#define AP_METRICS_MAX_SERIES 1000

typedef enum {
    AP_METRIC_HTTP_SERVER,     /* summary, label path */
    AP_METRIC_SCHEDULED_TASKS, /* summary, label tasks */
    AP_METRIC_WASM_CALLBACKS,  /* summary, label callback */
    AP_METRIC_WASM_FUNCTIONS,  /* summary, label route */
    AP_METRIC_SERVICE_ROUTES,  /* gauge, labels service and type */
    AP_METRIC__COUNT
} ap_metric;

/* Records one duration in milliseconds in a summary. */
void ap_metrics_observe(ap_metric m, const char *label, double ms);
/* Adds delta to a gauge series (label2 is the second label's value). */
void ap_metrics_gauge_add(ap_metric m, const char *label, const char *label2, double delta);
/* One summary series as /debug/stats shows it: observations ever and their sum (ms), and the
 * 0.5/0.9/0.99 quantiles of those in the last 10 minutes (NaN when there are none). */
typedef struct {
    unsigned long long count;
    double sum, p50, p90, p99;
} ap_metrics_summary;
/* The series of summary m with that label value; false (out untouched) when it has none yet. */
bool ap_metrics_summary_get(ap_metric m, const char *label, ap_metrics_summary *out);
/* Appends the exposition text; false on OOM. */
bool ap_metrics_write(ap_buf *out);
/* A writer ap_metrics_write calls after the built-in families (the user metrics of
 * src/cap/metrics.c, TARMAC.md §4.7); NULL removes it. Set before serving. */
typedef bool (*ap_metrics_writer)(ap_buf *out);
void ap_metrics_set_writer(ap_metrics_writer fn);
/* Forgets every series (tests, reload). */
void ap_metrics_reset(void);

#endif
