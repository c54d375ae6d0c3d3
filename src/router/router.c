/* router.c — the route table of router.h: a list of (method, pattern) entries matched segment by
 * segment. Route tables are small (tens of entries), so a scan beats a tree here. */
#include "router.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    char *method, *pattern, *function;
    ap_handler_kind kind;
    bool wild; /* has :param or *catchall */
} entry;

struct ap_router {
    entry *v;
    size_t n, cap;
};

ap_router *ap_router_new(void) { return calloc(1, sizeof(ap_router)); }

void ap_router_free(ap_router *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].method);
        free(r->v[i].pattern);
        free(r->v[i].function);
    }
    free(r->v);
    free(r);
}

bool ap_router_add(ap_router *r, const char *method, const char *pattern, ap_handler_kind kind,
                   const char *function, ap_errbuf *e)
{
    if (pattern[0] != '/') {
        ap_errbuf_set(e, "path must begin with '/' in path '%s'", pattern);
        return false;
    }
    const char *star = strchr(pattern, '*');
    if (star && strchr(star, '/')) {
        ap_errbuf_set(e, "catch-all routes are only allowed at the end of the path in path '%s'",
                      pattern);
        return false;
    }
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->v[i].method, method) == 0 && strcmp(r->v[i].pattern, pattern) == 0) {
            ap_errbuf_set(e, "a handle is already registered for %s %s", method, pattern);
            return false;
        }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        entry *v = realloc(r->v, cap * sizeof *v);
        if (!v) goto oom;
        r->v = v;
        r->cap = cap;
    }
    entry *en = &r->v[r->n];
    en->method = strdup(method);
    en->pattern = strdup(pattern);
    en->function = function ? strdup(function) : NULL;
    en->kind = kind;
    en->wild = strchr(pattern, ':') || star;
    if (!en->method || !en->pattern || (function && !en->function)) {
        free(en->method);
        free(en->pattern);
        free(en->function);
        goto oom;
    }
    r->n++;
    return true;
oom:
    ap_errbuf_set(e, "out of memory");
    return false;
}

/* httprouter matching: literal segments compare exactly, ":x" takes one non-empty segment,
 * "*x" takes the rest of the path (from its position, slashes included). */
static bool path_matches(const char *pat, const char *path)
{
    while (*pat) {
        if (*pat == '*') return true;
        if (*pat == ':') {
            while (*pat && *pat != '/')
                pat++;
            const char *seg = path;
            while (*path && *path != '/')
                path++;
            if (path == seg) return false;
            continue;
        }
        if (*pat != *path) return false;
        pat++;
        path++;
    }
    return *path == '\0';
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

ap_router_status ap_router_match_request(const ap_router *r, const char *method, const char *path,
                                         ap_router_match *out)
{
    const char *methods[64];
    size_t nm = 0;
    for (size_t i = 0; i < r->n; i++) {
        const entry *en = &r->v[i];
        if (!path_matches(en->pattern, path)) continue;
        if (strcmp(en->method, method) == 0) {
            out->kind = en->kind;
            /* Tarmac looks the function up by http:METHOD:path in a map of registered paths, so a
             * wildcard route reaches the function "default". */
            out->function = en->kind == AP_HANDLER_WASM ? (en->wild ? "default" : en->function)
                                                        : NULL;
            out->allow[0] = '\0';
            return AP_ROUTER_FOUND;
        }
        bool seen = false;
        for (size_t j = 0; j < nm && !seen; j++)
            seen = strcmp(methods[j], en->method) == 0;
        if (!seen && nm < 63) methods[nm++] = en->method;
    }
    if (nm == 0) return AP_ROUTER_NOT_FOUND;
    methods[nm++] = "OPTIONS";
    qsort(methods, nm, sizeof methods[0], cmp_str);
    size_t len = 0;
    out->allow[0] = '\0';
    for (size_t j = 0; j < nm; j++) {
        if (j > 0 && strcmp(methods[j], methods[j - 1]) == 0) continue;
        size_t ml = strlen(methods[j]);
        if (len + ml + 3 >= sizeof out->allow) break;
        if (len) {
            memcpy(out->allow + len, ", ", 2);
            len += 2;
        }
        memcpy(out->allow + len, methods[j], ml);
        len += ml;
        out->allow[len] = '\0';
    }
    return strcmp(method, "OPTIONS") == 0 ? AP_ROUTER_OPTIONS : AP_ROUTER_METHOD_NOT_ALLOWED;
}
