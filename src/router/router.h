/* router.h — method + path → handler, with httprouter's semantics as Tarmac uses them
 * (TARMAC.md §2.2, §2.5): exact, case-sensitive match on the decoded path; `:name` matches one
 * segment and `*name` the rest; a path known for other methods → 405 with an Allow header (those
 * methods plus OPTIONS, sorted, ", "-joined); OPTIONS on a known path → 200 with Allow; unknown
 * path → 404. No redirects (TARMAC.md §11.14: unknown paths are 404). HEAD is not GET.
 * A deliberate difference: a route with `:name` or `*name` segments reaches its own function, and
 * the segments' values are returned (issue 9); Tarmac looks such routes up by the literal path,
 * misses, and runs the function "default".
 * Built once at start-up, then read-only: any thread may match. */
#ifndef AP_ROUTER_H
#define AP_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "base/errbuf.h"

typedef enum {
    AP_HANDLER_HEALTH,
    AP_HANDLER_READY,
    AP_HANDLER_METRICS,
    AP_HANDLER_WASM,
} ap_handler_kind;

typedef enum {
    AP_ROUTER_FOUND = 0,
    AP_ROUTER_NOT_FOUND,          /* 404 */
    AP_ROUTER_METHOD_NOT_ALLOWED, /* 405, allow set */
    AP_ROUTER_OPTIONS,            /* 200, allow set */
} ap_router_status;

#define AP_ROUTER_MAX_PARAMS 16

/* A `:name` or `*name` segment's value: name points into the router's pattern (valid while the
 * router lives), value into the path given to ap_router_match_request (valid while it is). Not
 * NUL-terminated. A catch-all's value starts with its '/' as in httprouter. */
typedef struct {
    const char *name, *value;
    size_t name_len, value_len;
} ap_router_param;

typedef struct {
    ap_handler_kind kind;
    const char *function; /* WASM: the function to run; valid while the router lives */
    char allow[256];      /* METHOD_NOT_ALLOWED, OPTIONS */
    size_t nparams;       /* FOUND: the pattern's parameters, in pattern order */
    ap_router_param params[AP_ROUTER_MAX_PARAMS];
} ap_router_match;

typedef struct ap_router ap_router;

ap_router *ap_router_new(void); /* NULL on OOM */
void ap_router_free(ap_router *r); /* NULL is a no-op */

/* Registers method + pattern. A pattern not starting with '/', a duplicate method + pattern, a
 * `*` not in the last segment, or more than AP_ROUTER_MAX_PARAMS parameters → false with e set (Tarmac aborts start-up there too). `function`
 * is copied (NULL for built-in handlers). */
bool ap_router_add(ap_router *r, const char *method, const char *pattern, ap_handler_kind kind,
                   const char *function, ap_errbuf *e);

ap_router_status ap_router_match_request(const ap_router *r, const char *method, const char *path,
                                         ap_router_match *out);

#endif
