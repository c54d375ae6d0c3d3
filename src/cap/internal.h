/* internal.h — shared by the files of src/cap: the ap_cap object, the per-callback handler
 * signature, and the response helpers every callback uses for Tarmac's status objects. */
#ifndef AP_CAP_INTERNAL_H
#define AP_CAP_INTERNAL_H

#include "cap/cap.h"
#include "cap/codec/codec.h"

struct ap_cap {
    const ap_settings *s;
    const ap_tarmac *tarmac;
    ap_kv *kv;
    ap_sql *sql;
    bool own_kv, own_sql;
    ap_pool_fn *const *fns;
    size_t nfns;
    int64_t http_max_body;
    struct cap_entry *entries; /* one per registered handler, freed with the cap */
};

/* A capability handler: fills response/error as the waPC handler contract says. */
typedef ap_wapc_host_status (*cap_fn)(ap_cap *c, const ap_wapc_call *call, ap_buf *response,
                                      ap_buf *error);

typedef struct {
    int code;
    char text[512];
} cap_status;

void cap_status_set(cap_status *st, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* {"code":N,"status":"…"} */
bool cap_json_status(ap_buf *b, const cap_status *st);
/* The return convention of TARMAC.md §4.0: 200 → OK, else the status text as the error. */
ap_wapc_host_status cap_finish(const cap_status *st, bool encoded, ap_buf *response,
                               ap_buf *error);

ap_wapc_host_status cap_kv_get(ap_cap *, const ap_wapc_call *, ap_buf *, ap_buf *);
ap_wapc_host_status cap_kv_set(ap_cap *, const ap_wapc_call *, ap_buf *, ap_buf *);
ap_wapc_host_status cap_kv_delete(ap_cap *, const ap_wapc_call *, ap_buf *, ap_buf *);
ap_wapc_host_status cap_kv_keys(ap_cap *, const ap_wapc_call *, ap_buf *, ap_buf *);
ap_wapc_host_status cap_sql_query(ap_cap *, const ap_wapc_call *, ap_buf *, ap_buf *);
ap_wapc_host_status cap_sql_exec(ap_cap *, const ap_wapc_call *, ap_buf *, ap_buf *);
ap_wapc_host_status cap_http_call(ap_cap *, const ap_wapc_call *, ap_buf *, ap_buf *);
ap_wapc_host_status cap_metrics_counter(ap_cap *, const ap_wapc_call *, ap_buf *, ap_buf *);
ap_wapc_host_status cap_metrics_gauge(ap_cap *, const ap_wapc_call *, ap_buf *, ap_buf *);
ap_wapc_host_status cap_metrics_histogram(ap_cap *, const ap_wapc_call *, ap_buf *, ap_buf *);
ap_wapc_host_status cap_log(ap_cap *, const ap_wapc_call *, ap_buf *, ap_buf *);
ap_wapc_host_status cap_function(ap_cap *, const ap_wapc_call *, ap_buf *, ap_buf *);

void cap_metrics_install(void); /* user metrics onto /metrics */
void cap_metrics_reset(void);   /* tests */

/* The tarmac.json allowed_hosts of the calling function; *restricted false when it has none. */
const ap_strlist *cap_allowed_hosts(ap_cap *c, const char *function, bool *restricted);

/* SQL rows → Tarmac's result JSON (sorted keys, zero rows → null). False with *unsupported
 * (NaN/Inf, e says so) or on OOM. */
bool cap_sql_rows_json(const ap_sql_rows *r, ap_buf *out, ap_errbuf *e);

#endif
