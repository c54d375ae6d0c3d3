/* router.c — the route table of router.h: a list of (method, pattern) entries matched segment by
 * segment. Route tables are small (tens of entries), so a scan beats a tree here. */
#include "router.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    char *method, *pattern, *function;
    ap_handler_kind kind;
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
    size_t nparams = 0;
    for (const char *c = pattern; *c; c++)
        nparams += (*c == ':' || *c == '*') && c[-1] == '/';
    if (nparams > AP_ROUTER_MAX_PARAMS) {
        ap_errbuf_set(e, "more than %d parameters in path '%s'", AP_ROUTER_MAX_PARAMS, pattern);
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
 * "*x" takes the rest of the path (from its position, slashes included). Values go to m when it
 * is not NULL. */
static bool path_matches(const char *pat, const char *path, ap_router_match *m)
{
    const char *path0 = path;
    if (m) m->nparams = 0;
    while (*pat) {
        if (*pat == '*' || *pat == ':') {
            bool rest = *pat == '*';
            const char *name = ++pat;
            while (*pat && *pat != '/')
                pat++;
            const char *seg = path;
            if (rest) {
                /* httprouter: the catch-all's value includes the '/' before it. */
                if (seg > path0 && seg[-1] == '/') seg--;
                path += strlen(path);
            } else {
                while (*path && *path != '/')
                    path++;
                if (path == seg) return false;
            }
            if (m && m->nparams < AP_ROUTER_MAX_PARAMS)
                m->params[m->nparams++] = (ap_router_param){
                    name, seg, (size_t)(pat - name), (size_t)(path - seg)};
            if (rest) return true;
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
        if (!path_matches(en->pattern, path, NULL)) continue;
        if (strcmp(en->method, method) == 0) {
            out->kind = en->kind;
            out->function = en->kind == AP_HANDLER_WASM ? en->function : NULL;
            path_matches(en->pattern, path, out);
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
