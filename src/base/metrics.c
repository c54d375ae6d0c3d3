/* metrics.c — the registry of metrics.h. A summary series keeps count and sum for ever and the
 * last RING observations with their times for the quantiles (those older than 10 minutes are left
 * out), which is what Tarmac's 10-minute sliding window reports, within the ring's size. */
#include "metrics.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RING 1024
#define WINDOW_NS (600LL * 1000000000LL)

typedef struct series {
    struct series *next;
    char *label, *label2;
    double value; /* gauge */
    unsigned long long count;
    double sum;
    double obs[RING];
    long long at[RING];
    unsigned head, n;
} series;

static const struct {
    const char *name, *help, *label, *label2;
    bool gauge;
} families[AP_METRIC__COUNT] = {
    {"http_server", "Summary of HTTP Server requests", "path", NULL, false},
    {"scheduled_tasks", "Summary of user defined scheduled task WASM function executions",
     "tasks", NULL, false},
    {"wasm_callbacks", "Summary of server callbacks from WASM function executions", "callback",
     NULL, false},
    {"wasm_functions", "Summary of wasm function executions", "route", NULL, false},
    {"service_routes", "Number of configured service routes", "service", "type", true},
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static series *heads[AP_METRIC__COUNT];
static unsigned counts[AP_METRIC__COUNT];

/* When an observation was made, for the 10-minute windows: a tick's precision is plenty, and the
 * coarse clock costs no clock read (two observations per request). */
static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Under lock: the series for the labels, created when new; NULL on OOM. */
static series *find(ap_metric m, const char *label, const char *label2)
{
    for (series *s = heads[m]; s; s = s->next)
        if (same(s->label, label) && same(s->label2, label2)) return s;
    if (counts[m] >= AP_METRICS_MAX_SERIES) {
        label = "_other";
        label2 = label2 ? "_other" : NULL;
        for (series *s = heads[m]; s; s = s->next)
            if (same(s->label, label) && same(s->label2, label2)) return s;
    }
    series *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->label = strdup(label ? label : "");
    s->label2 = label2 ? strdup(label2) : NULL;
    if (!s->label || (label2 && !s->label2)) {
        free(s->label);
        free(s->label2);
        free(s);
        return NULL;
    }
    s->next = heads[m];
    heads[m] = s;
    counts[m]++;
    return s;
}

void ap_metrics_observe(ap_metric m, const char *label, double ms)
{
    long long t = now_ns();
    pthread_mutex_lock(&lock);
    series *s = find(m, label, NULL);
    if (s) {
        s->count++;
        s->sum += ms;
        s->obs[s->head] = ms;
        s->at[s->head] = t;
        s->head = (s->head + 1) % RING;
        if (s->n < RING) s->n++;
    }
    pthread_mutex_unlock(&lock);
}

void ap_metrics_gauge_add(ap_metric m, const char *label, const char *label2, double delta)
{
    pthread_mutex_lock(&lock);
    series *s = find(m, label, label2);
    if (s) s->value += delta;
    pthread_mutex_unlock(&lock);
}

static bool put_label(ap_buf *out, const char *v)
{
    bool ok = true;
    for (; *v; v++) {
        if (*v == '\\')
            ok &= ap_buf_append_str(out, "\\\\");
        else if (*v == '"')
            ok &= ap_buf_append_str(out, "\\\"");
        else if (*v == '\n')
            ok &= ap_buf_append_str(out, "\\n");
        else
            ok &= ap_buf_append(out, v, 1);
    }
    return ok;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static const double quantiles[3] = {0.5, 0.9, 0.99};

/* The quantiles of s's observations in the window ending at now; NaN when there are none. */
static void window_quantiles(const series *s, long long now, double q[3])
{
    double win[RING];
    unsigned n = 0;
    for (unsigned i = 0; i < s->n; i++)
        if (now - s->at[i] <= WINDOW_NS) win[n++] = s->obs[i];
    qsort(win, n, sizeof win[0], cmp_double);
    for (size_t k = 0; k < 3; k++) {
        if (n == 0) {
            q[k] = NAN;
            continue;
        }
        unsigned idx = (unsigned)ceil(quantiles[k] * n) - 1;
        q[k] = win[idx >= n ? n - 1 : idx];
    }
}

static bool write_summary(ap_buf *out, const char *name, const char *lname, const series *s,
                          long long now)
{
    double q[3];
    window_quantiles(s, now, q);
    bool ok = true;
    for (size_t k = 0; k < 3; k++) {
        ok &= ap_buf_printf(out, "%s{%s=\"", name, lname);
        ok &= put_label(out, s->label);
        if (isnan(q[k]))
            ok &= ap_buf_printf(out, "\",quantile=\"%g\"} NaN\n", quantiles[k]);
        else
            ok &= ap_buf_printf(out, "\",quantile=\"%g\"} %.17g\n", quantiles[k], q[k]);
    }
    ok &= ap_buf_printf(out, "%s_sum{%s=\"", name, lname);
    ok &= put_label(out, s->label);
    ok &= ap_buf_printf(out, "\"} %.17g\n%s_count{%s=\"", s->sum, name, lname);
    ok &= put_label(out, s->label);
    ok &= ap_buf_printf(out, "\"} %llu\n", s->count);
    return ok;
}

/* process_* from /proc (Linux); absent values are left out. */
static bool write_process(ap_buf *out)
{
    bool ok = true;
    long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    FILE *f = fopen("/proc/self/stat", "r");
    if (f) {
        char buf[1024];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        char *p = strrchr(buf, ')');
        unsigned long utime, stime;
        unsigned long long start;
        unsigned long vsize;
        long rss;
        if (p && sscanf(p + 2,
                        "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d "
                        "%*d %llu %lu %ld",
                        &utime, &stime, &start, &vsize, &rss) == 5) {
            double boot = 0;
            FILE *st = fopen("/proc/stat", "r");
            if (st) {
                char line[256];
                while (fgets(line, sizeof line, st))
                    if (sscanf(line, "btime %lf", &boot) == 1) break;
                fclose(st);
            }
            ok &= ap_buf_printf(out,
                                "# HELP process_cpu_seconds_total Total user and system CPU time "
                                "spent in seconds.\n# TYPE process_cpu_seconds_total counter\n"
                                "process_cpu_seconds_total %.2f\n",
                                (double)(utime + stime) / (double)tick);
            ok &= ap_buf_printf(out,
                                "# HELP process_resident_memory_bytes Resident memory size in "
                                "bytes.\n# TYPE process_resident_memory_bytes gauge\n"
                                "process_resident_memory_bytes %ld\n",
                                rss * page);
            ok &= ap_buf_printf(out,
                                "# HELP process_virtual_memory_bytes Virtual memory size in "
                                "bytes.\n# TYPE process_virtual_memory_bytes gauge\n"
                                "process_virtual_memory_bytes %lu\n",
                                vsize);
            if (boot > 0)
                ok &= ap_buf_printf(out,
                                    "# HELP process_start_time_seconds Start time of the process "
                                    "since unix epoch in seconds.\n# TYPE "
                                    "process_start_time_seconds gauge\n"
                                    "process_start_time_seconds %.2f\n",
                                    boot + (double)start / (double)tick);
        }
    }
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        long fds = -1; /* the DIR's own descriptor */
        struct dirent *de;
        while ((de = readdir(d)))
            if (de->d_name[0] != '.') fds++;
        closedir(d);
        ok &= ap_buf_printf(out,
                            "# HELP process_open_fds Number of open file descriptors.\n"
                            "# TYPE process_open_fds gauge\nprocess_open_fds %ld\n",
                            fds);
    }
    return ok;
}

bool ap_metrics_summary_get(ap_metric m, const char *label, ap_metrics_summary *out)
{
    long long now = now_ns();
    bool found = false;
    pthread_mutex_lock(&lock);
    for (const series *s = heads[m]; s && !found; s = s->next) {
        if (families[m].gauge || !same(s->label, label)) continue;
        double q[3];
        window_quantiles(s, now, q);
        *out = (ap_metrics_summary){s->count, s->sum, q[0], q[1], q[2]};
        found = true;
    }
    pthread_mutex_unlock(&lock);
    return found;
}

static ap_metrics_writer extra_writer;

void ap_metrics_set_writer(ap_metrics_writer fn) { extra_writer = fn; }

bool ap_metrics_write(ap_buf *out)
{
    bool ok = true;
    long long now = now_ns();
    pthread_mutex_lock(&lock);
    for (int m = 0; m < AP_METRIC__COUNT; m++) {
        if (!heads[m]) continue; /* series appear after the first observation */
        ok &= ap_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", families[m].name,
                            families[m].help, families[m].name,
                            families[m].gauge ? "gauge" : "summary");
        for (const series *s = heads[m]; s; s = s->next) {
            if (!families[m].gauge) {
                ok &= write_summary(out, families[m].name, families[m].label, s, now);
                continue;
            }
            ok &= ap_buf_printf(out, "%s{%s=\"", families[m].name, families[m].label);
            ok &= put_label(out, s->label);
            ok &= ap_buf_printf(out, "\",%s=\"", families[m].label2);
            ok &= put_label(out, s->label2 ? s->label2 : "");
            ok &= ap_buf_printf(out, "\"} %.17g\n", s->value);
        }
    }
    pthread_mutex_unlock(&lock);
    if (extra_writer) ok &= extra_writer(out);
    ok &= write_process(out);
    return ok;
}

void ap_metrics_reset(void)
{
    pthread_mutex_lock(&lock);
    for (int m = 0; m < AP_METRIC__COUNT; m++) {
        while (heads[m]) {
            series *s = heads[m];
            heads[m] = s->next;
            free(s->label);
            free(s->label2);
            free(s);
        }
        counts[m] = 0;
    }
    pthread_mutex_unlock(&lock);
}
