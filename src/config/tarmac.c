/* tarmac.c — tarmac.json (TARMAC.md §3) into ap_tarmac: keys matched case-insensitively, unknown
 * keys ignored, Tarmac's validation rules and defaults, plus apron's own checks (a route's
 * function must exist, names and method+path pairs are unique, paths start with '/'). Every
 * problem is reported with its JSON path; one problem rejects the file. */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    const char *file;
    ap_buf *problems;
    int count;
    bool nomem;
} checker;

__attribute__((format(printf, 3, 4))) static void bad(checker *c, const char *path,
                                                      const char *fmt, ...)
{
    c->count++;
    if (!c->problems) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!ap_buf_printf(c->problems, "%s: %s: %s\n", c->file, path, msg)) c->nomem = true;
}

static const char *kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "?";
}

/* Member of an object by case-insensitive key (the first match), or NULL. */
static json_t *member(json_t *obj, const char *key)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        if (strcasecmp(k, key) == 0) return v;
    }
    return NULL;
}

static char *dup_or_flag(checker *c, const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d) c->nomem = true;
    return d;
}

/* A string member: NULL when absent or null (then *present is false); a problem when present with
 * another type. Returns a pointer into the JSON (valid while it lives). */
static const char *get_string(checker *c, json_t *obj, const char *key, const char *path)
{
    json_t *v = member(obj, key);
    if (!v || json_is_null(v)) return NULL;
    if (!json_is_string(v)) {
        bad(c, path, "\"%s\" must be a string, not %s", key, kind(v));
        return NULL;
    }
    return json_string_value(v);
}

static int64_t get_int(checker *c, json_t *obj, const char *key, const char *path)
{
    json_t *v = member(obj, key);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_integer(v)) {
        bad(c, path, "\"%s\" must be an integer, not %s", key, kind(v));
        return 0;
    }
    return json_integer_value(v);
}

static char *resolve(checker *c, const char *dir, const char *file)
{
    if (file[0] == '/' || !dir || !*dir) return dup_or_flag(c, file);
    size_t n = strlen(dir) + strlen(file) + 2;
    char *p = malloc(n);
    if (!p) {
        c->nomem = true;
        return NULL;
    }
    snprintf(p, n, "%s/%s", dir, file);
    return p;
}

/* apron's own keys: limits that must be positive when given (0 or absent: the server's
 * default), and the isolation mode. */
static int64_t get_limit(checker *c, json_t *obj, const char *key, const char *path, int64_t max)
{
    int64_t n = get_int(c, obj, key, path);
    if (n < 0 || n > max) {
        bad(c, path, "\"%s\" must be between 1 and %lld (or 0 for the server's default)", key,
            (long long)max);
        return 0;
    }
    return n;
}

static void parse_limits(checker *c, ap_tarmac_function *f, json_t *v, const char *path)
{
    f->timeout_ms = get_limit(c, v, "timeout_ms", path, INT64_MAX / 1000000);
    f->max_memory_pages = get_limit(c, v, "max_memory_pages", path, 65536);
    f->max_call_depth = get_limit(c, v, "max_call_depth", path, 1000000);
    f->max_host_payload = get_limit(c, v, "max_host_payload", path, UINT32_MAX - 1);
    const char *iso = get_string(c, v, "isolation", path);
    if (!iso) return;
    if (strcmp(iso, "pool") == 0)
        f->isolation = AP_TARMAC_ISOLATION_POOL;
    else if (strcmp(iso, "request") == 0)
        f->isolation = AP_TARMAC_ISOLATION_REQUEST;
    else
        bad(c, path, "\"isolation\" must be \"pool\" or \"request\", not \"%s\"", iso);
}

/* "allowed_hosts": an array of host names ("api.example.com", "host:port", "*.example.com"). */
static void parse_allowed_hosts(checker *c, ap_tarmac_function *f, json_t *v, const char *path)
{
    json_t *a = member(v, "allowed_hosts");
    if (!a || json_is_null(a)) return;
    if (!json_is_array(a)) {
        bad(c, path, "\"allowed_hosts\" must be an array of strings, not %s", kind(a));
        return;
    }
    f->has_allowed_hosts = true;
    f->allowed_hosts.v = calloc(json_array_size(a) + 1, sizeof(char *));
    if (!f->allowed_hosts.v) {
        c->nomem = true;
        return;
    }
    size_t i;
    json_t *h;
    json_array_foreach(a, i, h)
    {
        if (!json_is_string(h) || !*json_string_value(h)) {
            bad(c, path, "\"allowed_hosts\" entries must be non-empty strings");
            return;
        }
        f->allowed_hosts.v[f->allowed_hosts.n++] = dup_or_flag(c, json_string_value(h));
    }
}

static void parse_function(checker *c, ap_tarmac_function *f, const char *name, json_t *v,
                           const char *path, const char *dir)
{
    f->name = dup_or_flag(c, name);
    f->pool_size = AP_TARMAC_DEFAULT_POOL_SIZE;
    if (!json_is_object(v)) {
        bad(c, path, "a function must be an object, not %s", kind(v));
        return;
    }
    if (!*name) bad(c, path, "function name is empty");
    const char *fp = get_string(c, v, "filepath", path);
    if (!fp || !*fp)
        bad(c, path, "\"filepath\" is missing or empty");
    else
        f->filepath = resolve(c, dir, fp);
    int64_t ps = get_int(c, v, "pool_size", path);
    if (ps > 0) f->pool_size = ps;
    parse_limits(c, f, v, path);
    parse_allowed_hosts(c, f, v, path);
}

static ap_route_type route_type(const char *t)
{
    if (strcmp(t, "http") == 0) return AP_ROUTE_HTTP;
    if (strcmp(t, "init") == 0) return AP_ROUTE_INIT;
    if (strcmp(t, "scheduled_task") == 0) return AP_ROUTE_SCHEDULED_TASK;
    if (strcmp(t, "function") == 0) return AP_ROUTE_FUNCTION;
    return AP_ROUTE_OTHER;
}

static void parse_route(checker *c, ap_tarmac_route *r, json_t *v, const char *path)
{
    if (!json_is_object(v)) {
        bad(c, path, "a route must be an object, not %s", kind(v));
        r->type = AP_ROUTE_OTHER;
        return;
    }
    const char *type = get_string(c, v, "type", path);
    const char *fn = get_string(c, v, "function", path);
    const char *rp = get_string(c, v, "path", path);
    const char *topic = get_string(c, v, "topic", path);
    r->type_name = dup_or_flag(c, type);
    r->function = dup_or_flag(c, fn);
    r->path = dup_or_flag(c, rp);
    r->topic = dup_or_flag(c, topic);
    r->frequency = get_int(c, v, "frequency", path);
    r->retries = get_int(c, v, "retries", path);
    r->type = type ? route_type(type) : AP_ROUTE_OTHER;
    if (!type || !*type) bad(c, path, "\"type\" is missing or empty");
    if (!fn || !*fn) bad(c, path, "\"function\" is missing or empty");

    json_t *methods = member(v, "methods");
    if (methods && !json_is_null(methods)) {
        if (!json_is_array(methods)) {
            bad(c, path, "\"methods\" must be an array of strings, not %s", kind(methods));
        } else if (json_array_size(methods) > 0) {
            r->methods = calloc(json_array_size(methods), sizeof *r->methods);
            if (!r->methods) c->nomem = true;
            size_t i;
            json_t *m;
            json_array_foreach(methods, i, m)
            {
                if (!json_is_string(m) || !*json_string_value(m)) {
                    bad(c, path, "\"methods\"[%zu] must be a non-empty string", i);
                    continue;
                }
                if (r->methods) r->methods[r->nmethods++] = dup_or_flag(c, json_string_value(m));
            }
        }
    }

    switch (r->type) {
    case AP_ROUTE_HTTP:
        if (!rp || !*rp)
            bad(c, path, "an http route needs a \"path\"");
        else if (rp[0] != '/')
            bad(c, path, "\"path\" must start with '/': \"%s\"", rp);
        if (!methods || json_is_null(methods) || json_array_size(methods) == 0)
            bad(c, path, "an http route needs a non-empty \"methods\" array");
        break;
    case AP_ROUTE_SCHEDULED_TASK:
        if (r->frequency == 0) bad(c, path, "a scheduled_task needs a \"frequency\" (seconds)");
        if (r->frequency < 0) bad(c, path, "\"frequency\" must be positive");
        break;
    case AP_ROUTE_INIT:
        if (r->frequency == 0) r->frequency = 1;
        if (r->frequency < 0) bad(c, path, "\"frequency\" must be positive");
        if (r->retries < 0) bad(c, path, "\"retries\" must not be negative");
        break;
    case AP_ROUTE_FUNCTION:
    case AP_ROUTE_OTHER: break;
    }
}

/* apron's cross-checks: route functions exist, function names and method+path pairs are
 * unique, a function is exported to other functions once, no route shadows a built-in. */
static void cross_check(checker *c, ap_tarmac *t)
{
    char path[512];
    for (size_t s = 0; s < t->nservices; s++) {
        ap_tarmac_service *sv = &t->services[s];
        for (size_t f = 0; f < sv->nfunctions; f++) {
            for (size_t s2 = 0; s2 <= s; s2++)
                for (size_t f2 = 0; f2 < (s2 == s ? f : t->services[s2].nfunctions); f2++)
                    if (sv->functions[f].name && t->services[s2].functions[f2].name &&
                        strcmp(sv->functions[f].name, t->services[s2].functions[f2].name) == 0) {
                        snprintf(path, sizeof path, "services.%s.functions.%s", sv->key,
                                 sv->functions[f].name);
                        bad(c, path, "function \"%s\" is already defined in service \"%s\"",
                            sv->functions[f].name, t->services[s2].key);
                    }
        }
        for (size_t r = 0; r < sv->nroutes; r++) {
            ap_tarmac_route *rt = &sv->routes[r];
            snprintf(path, sizeof path, "services.%s.routes[%zu]", sv->key, r);
            if (rt->type == AP_ROUTE_OTHER || !rt->function || !*rt->function) continue;
            bool found = false;
            for (size_t s2 = 0; s2 < t->nservices && !found; s2++)
                for (size_t f2 = 0; f2 < t->services[s2].nfunctions && !found; f2++)
                    found = t->services[s2].functions[f2].name &&
                            strcmp(t->services[s2].functions[f2].name, rt->function) == 0;
            if (!found) bad(c, path, "function \"%s\" is not defined in any service", rt->function);
            if (rt->type == AP_ROUTE_HTTP && rt->path) {
                static const char *const builtin[] = {"/health", "/ready", "/metrics"};
                for (size_t b = 0; b < 3; b++)
                    if (strcmp(rt->path, builtin[b]) == 0)
                        bad(c, path, "\"%s\" is served by apron itself", rt->path);
            }
            /* Earlier routes of every service up to this one. */
            for (size_t s2 = 0; s2 <= s; s2++) {
                ap_tarmac_service *o = &t->services[s2];
                for (size_t r2 = 0; r2 < (s2 == s ? r : o->nroutes); r2++) {
                    ap_tarmac_route *ot = &o->routes[r2];
                    if (ot->type != rt->type || !ot->function) continue;
                    if (rt->type == AP_ROUTE_FUNCTION && strcmp(ot->function, rt->function) == 0)
                        bad(c, path, "function \"%s\" is already callable (services.%s.routes[%zu])",
                            rt->function, o->key, r2);
                    if (rt->type != AP_ROUTE_HTTP || !rt->path || !ot->path ||
                        strcmp(rt->path, ot->path) != 0)
                        continue;
                    for (size_t m = 0; m < rt->nmethods; m++)
                        for (size_t m2 = 0; m2 < ot->nmethods; m2++)
                            if (strcmp(rt->methods[m], ot->methods[m2]) == 0)
                                bad(c, path, "%s %s is already routed (services.%s.routes[%zu])",
                                    rt->methods[m], rt->path, o->key, r2);
                }
            }
            for (size_t m = 0; m < rt->nmethods; m++)
                for (size_t m2 = 0; m2 < m; m2++)
                    if (strcmp(rt->methods[m], rt->methods[m2]) == 0)
                        bad(c, path, "method %s is listed twice", rt->methods[m]);
        }
    }
}

ap_config_status ap_tarmac_parse(const char *text, size_t len, const char *name, const char *dir,
                                 ap_tarmac **out, ap_buf *problems)
{
    checker c = {.file = name, .problems = problems};
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        if (problems)
            ap_buf_printf(problems, "%s:%d:%d: not valid JSON: %s\n", name, jerr.line,
                          jerr.column, jerr.text);
        return AP_CONFIG_INVALID;
    }
    ap_tarmac *t = calloc(1, sizeof *t);
    if (!t) {
        json_decref(root);
        return AP_CONFIG_NOMEM;
    }
    char path[512];
    if (!json_is_object(root)) {
        bad(&c, "$", "the file must hold a JSON object, not %s", kind(root));
        goto done;
    }
    json_t *services = member(root, "services");
    if (!services || json_is_null(services)) goto done;
    if (!json_is_object(services)) {
        bad(&c, "services", "must be an object, not %s", kind(services));
        goto done;
    }
    t->services = calloc(json_object_size(services) + 1, sizeof *t->services);
    if (!t->services) {
        c.nomem = true;
        goto done;
    }
    const char *skey;
    json_t *sv;
    json_object_foreach(services, skey, sv)
    {
        ap_tarmac_service *s = &t->services[t->nservices++];
        s->key = dup_or_flag(&c, skey);
        snprintf(path, sizeof path, "services.%s", skey);
        if (!json_is_object(sv)) {
            bad(&c, path, "a service must be an object, not %s", kind(sv));
            continue;
        }
        const char *sname = get_string(&c, sv, "name", path);
        if (!sname || !*sname) bad(&c, path, "\"name\" is missing or empty");
        s->name = dup_or_flag(&c, sname);

        json_t *fns = member(sv, "functions");
        if (fns && !json_is_null(fns)) {
            snprintf(path, sizeof path, "services.%s.functions", skey);
            if (!json_is_object(fns)) {
                bad(&c, path, "must be an object, not %s", kind(fns));
            } else {
                s->functions = calloc(json_object_size(fns) + 1, sizeof *s->functions);
                if (!s->functions) c.nomem = true;
                const char *fname;
                json_t *fv;
                json_object_foreach(fns, fname, fv)
                {
                    if (!s->functions) break;
                    snprintf(path, sizeof path, "services.%s.functions.%s", skey, fname);
                    parse_function(&c, &s->functions[s->nfunctions++], fname, fv, path, dir);
                }
            }
        }
        json_t *routes = member(sv, "routes");
        if (routes && !json_is_null(routes)) {
            snprintf(path, sizeof path, "services.%s.routes", skey);
            if (!json_is_array(routes)) {
                bad(&c, path, "must be an array, not %s", kind(routes));
            } else {
                s->routes = calloc(json_array_size(routes) + 1, sizeof *s->routes);
                if (!s->routes) c.nomem = true;
                size_t i;
                json_t *rv;
                json_array_foreach(routes, i, rv)
                {
                    if (!s->routes) break;
                    snprintf(path, sizeof path, "services.%s.routes[%zu]", skey, i);
                    parse_route(&c, &s->routes[s->nroutes++], rv, path);
                }
            }
        }
    }
    if (!c.nomem) cross_check(&c, t);
done:
    json_decref(root);
    if (c.nomem || c.count) {
        ap_tarmac_free(t);
        return c.nomem ? AP_CONFIG_NOMEM : AP_CONFIG_INVALID;
    }
    t->path = strdup(name);
    if (!t->path) {
        ap_tarmac_free(t);
        return AP_CONFIG_NOMEM;
    }
    *out = t;
    return AP_CONFIG_OK;
}

ap_config_status ap_tarmac_load(const char *path, ap_tarmac **out, ap_buf *problems)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) return AP_CONFIG_NOTFOUND;
        if (problems) ap_buf_printf(problems, "%s: cannot read: %s\n", path, strerror(errno));
        return AP_CONFIG_IO;
    }
    ap_buf text = {0};
    char chunk[8192];
    size_t n;
    bool ok = true;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (!(ok = ap_buf_append(&text, chunk, n))) break;
    bool rerr = ferror(f);
    fclose(f);
    if (!ok) {
        ap_buf_free(&text);
        return AP_CONFIG_NOMEM;
    }
    if (rerr) {
        ap_buf_free(&text);
        if (problems) ap_buf_printf(problems, "%s: read error\n", path);
        return AP_CONFIG_IO;
    }
    char *dir = strdup(path);
    if (!dir) {
        ap_buf_free(&text);
        return AP_CONFIG_NOMEM;
    }
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        dir[0] = '\0';
    ap_config_status st;
    if (text.len == 0) {
        if (problems) ap_buf_printf(problems, "%s: the file is empty\n", path);
        st = AP_CONFIG_INVALID;
    } else {
        st = ap_tarmac_parse((const char *)text.data, text.len, path, dir, out, problems);
    }
    free(dir);
    ap_buf_free(&text);
    return st;
}

void ap_tarmac_free(ap_tarmac *t)
{
    if (!t) return;
    for (size_t s = 0; s < t->nservices; s++) {
        ap_tarmac_service *sv = &t->services[s];
        for (size_t f = 0; f < sv->nfunctions; f++) {
            free(sv->functions[f].name);
            free(sv->functions[f].filepath);
            for (size_t h = 0; h < sv->functions[f].allowed_hosts.n; h++)
                free(sv->functions[f].allowed_hosts.v[h]);
            free(sv->functions[f].allowed_hosts.v);
        }
        for (size_t r = 0; r < sv->nroutes; r++) {
            ap_tarmac_route *rt = &sv->routes[r];
            free(rt->type_name);
            free(rt->function);
            free(rt->path);
            free(rt->topic);
            for (size_t m = 0; m < rt->nmethods; m++)
                free(rt->methods[m]);
            free(rt->methods);
        }
        free(sv->functions);
        free(sv->routes);
        free(sv->key);
        free(sv->name);
    }
    free(t->services);
    free(t->path);
    free(t);
}
