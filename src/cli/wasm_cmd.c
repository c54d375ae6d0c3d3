/* wasm_cmd.c — `apron wasm [--env NAME=VALUE]... FILE.wasm [ARG...]` runs a WASI command module
 * outside the server: WASI imports resolved (src/wasi/), argv = FILE then ARGs, `_start` called,
 * guest stdout/stderr passed through to ours. Exit status: the guest's proc_exit code, 0 when
 * `_start` returns (or is absent), 1 after a trap (message on stderr; wasmtime would die of a
 * signal-like 134, we keep a plain failure status), 2 for usage errors. An import nothing
 * provides is an error naming module.name.
 *
 * `apron wasm FILE.wasm --invoke NAME [ARG...]` loads and instantiates the module and calls one
 * export, printing its results one per line (as `wasmtime --invoke` does). WASI imports are
 * resolved here too (argv = FILE), so reactor modules work; any other function import becomes a
 * host function that traps when called, so modules that merely declare imports still run.
 *
 * Imports are filled by a chain of resolvers. */
#include "cli.h"

#include "apron/wasm.h"
#include "wasi/wasi.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *path;
    wa_module *module;
    wa_store *store;
    wa_extern *imports;  /* [import count], zeroed: a NULL entry is unresolved */
    char (*unknown)[96]; /* [import count] trap messages of unresolved function imports */
    ap_wasi *wasi;
    bool strict; /* an import nobody provides is an error (command mode) */
} wasm_run;

/* ---- Import resolution ---- */

/* A resolver fills the entries of r->imports it can provide and leaves the others alone; the
 * resolvers run in order, each seeing what earlier ones left. Only a failure of its own (OOM)
 * is an error: a missing import is wa_instance_new's to report. */
typedef wa_status (*import_resolver)(wasm_run *r, wa_error *err);

static wa_status oom(wa_error *err)
{
    if (err) {
        memset(err, 0, sizeof *err);
        err->status = WA_ENOMEM;
        err->offset = UINT32_MAX;
        snprintf(err->msg, sizeof err->msg, "out of memory");
    }
    return WA_ENOMEM;
}

static wa_status unlinkable(wa_error *err, const char *module, const char *name, const char *why)
{
    memset(err, 0, sizeof *err);
    err->status = WA_EUNLINKABLE;
    err->offset = UINT32_MAX;
    snprintf(err->msg, sizeof err->msg, "cannot link import %s.%s: %s", module, name, why);
    return WA_EUNLINKABLE;
}

/* WASI preview1 (and wasi_unstable): a WASI import that is no WASI function or has another type
 * is an error in every mode, not a trap-when-called stub. */
static wa_status resolve_wasi(wasm_run *r, wa_error *err)
{
    uint32_t n = wa_module_import_count(r->module);
    for (uint32_t i = 0; i < n; i++) {
        wa_extern_kind kind;
        const char *module, *name;
        wa_functype ft;
        wa_module_import_info(r->module, i, &module, &name, &kind);
        if (r->imports[i].of.func || !ap_wasi_is_wasi_module(module))
            continue;
        if (kind != WA_EXTERN_FUNC || !wa_module_import_functype(r->module, i, &ft))
            return unlinkable(err, module, name, "WASI provides functions only");
        wa_func *f = ap_wasi_resolve(r->wasi, r->store, module, name, &ft);
        if (!f)
            return unlinkable(err, module, name, "no such WASI preview1 function, or not its type");
        r->imports[i].kind = WA_EXTERN_FUNC;
        r->imports[i].of.func = f;
    }
    return WA_OK;
}

static wa_status trap_unknown(wa_instance *caller, void *user, wa_slot *slots)
{
    return wa_host_trap(WA_TRAP_HOST, user);
}

/* The last resort: in command mode every import still missing is an error; with --invoke every
 * function import still missing traps when called. */
static wa_status resolve_unknown(wasm_run *r, wa_error *err)
{
    uint32_t n = wa_module_import_count(r->module);
    for (uint32_t i = 0; i < n; i++) {
        wa_extern_kind kind;
        const char *module, *name;
        wa_functype ft;
        wa_module_import_info(r->module, i, &module, &name, &kind);
        if (r->imports[i].of.func)
            continue;
        if (r->strict)
            return unlinkable(err, module, name, "unknown import (apron wasm provides WASI only)");
        if (kind != WA_EXTERN_FUNC || !wa_module_import_functype(r->module, i, &ft))
            continue;
        snprintf(r->unknown[i], sizeof r->unknown[i], "unknown import %s.%s called", module, name);
        wa_func *f = wa_func_new_host(r->store, &ft, trap_unknown, r->unknown[i]);
        if (!f)
            return oom(err);
        r->imports[i].kind = WA_EXTERN_FUNC;
        r->imports[i].of.func = f;
    }
    return WA_OK;
}

static const import_resolver resolvers[] = {
    resolve_wasi,
    resolve_unknown,
};

static wa_status resolve_imports(wasm_run *r, wa_error *err)
{
    uint32_t n = wa_module_import_count(r->module);
    r->imports = calloc(n ? n : 1, sizeof *r->imports);
    r->unknown = calloc(n ? n : 1, sizeof *r->unknown);
    if (!r->imports || !r->unknown)
        return oom(err);
    for (size_t i = 0; i < sizeof resolvers / sizeof resolvers[0]; i++) {
        wa_status st = resolvers[i](r, err);
        if (st != WA_OK)
            return st;
    }
    return WA_OK;
}

/* ---- Values ---- */

static bool parse_int(const char *s, bool wide, uint64_t *out)
{
    const char *p = s;
    bool neg = *p == '-';
    if (neg || *p == '+')
        p++;
    int base = 10;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    if (!*p || *p == '-' || *p == '+')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(p, &end, base);
    if (*end || errno)
        return false;
    uint64_t lim_pos = wide ? UINT64_MAX : UINT32_MAX;
    uint64_t lim_neg = wide ? (uint64_t)1 << 63 : (uint64_t)1 << 31;
    if (v > (neg ? lim_neg : lim_pos))
        return false;
    *out = neg ? (uint64_t)0 - v : v;
    if (!wide)
        *out &= UINT32_MAX;
    return true;
}

static bool parse_arg(const char *s, wa_valtype t, wa_value *v)
{
    char *end;
    uint64_t u;
    memset(v, 0, sizeof *v);
    v->type = t;
    switch (t) {
    case WA_I32:
        if (!parse_int(s, false, &u))
            return false;
        v->of.i32 = (uint32_t)u;
        return true;
    case WA_I64: return parse_int(s, true, &v->of.i64);
    case WA_F32: v->of.f32 = strtof(s, &end); return *s && !*end;
    case WA_F64: v->of.f64 = strtod(s, &end); return *s && !*end;
    default: return false;
    }
}

static const char *type_name(wa_valtype t)
{
    switch (t) {
    case WA_I32: return "i32";
    case WA_I64: return "i64";
    case WA_F32: return "f32";
    case WA_F64: return "f64";
    case WA_V128: return "v128";
    case WA_FUNCREF: return "funcref";
    case WA_EXTERNREF: return "externref";
    }
    return "?";
}

/* Floats print in the fewest significant digits that read back to the same value. */
static void print_float(double v, bool single)
{
    if (isnan(v)) {
        printf("%snan\n", signbit(v) ? "-" : "");
        return;
    }
    if (isinf(v)) {
        printf("%sinf\n", v < 0 ? "-" : "");
        return;
    }
    char buf[64];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (single ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v)
            break;
    }
    printf("%s\n", buf);
}

static void print_value(const wa_value *v)
{
    switch (v->type) {
    case WA_I32: printf("%" PRId32 "\n", (int32_t)v->of.i32); break;
    case WA_I64: printf("%" PRId64 "\n", (int64_t)v->of.i64); break;
    case WA_F32: print_float(v->of.f32, true); break;
    case WA_F64: print_float(v->of.f64, false); break;
    case WA_V128:
        printf("0x");
        for (int i = 15; i >= 0; i--)
            printf("%02x", v->of.v128[i]);
        printf("\n");
        break;
    case WA_FUNCREF: printf("%s\n", v->of.func ? "funcref" : "null"); break;
    case WA_EXTERNREF: printf("%s\n", v->of.ext ? "externref" : "null"); break;
    }
}

/* ---- The command ---- */

static int fail(const wasm_run *r, const wa_error *err)
{
    const char *what = err->status == WA_ETRAP ? "wasm trap: " : "";
    if (err->offset != UINT32_MAX)
        fprintf(stderr, "apron: %s: %s%s (at byte %" PRIu32 ")\n", r->path, what, err->msg,
                err->offset);
    else
        fprintf(stderr, "apron: %s: %s%s\n", r->path, what, err->msg);
    return 1;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        uint8_t *bigger = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* Calls `name` with argv-style arguments and prints the results. */
static int invoke(wasm_run *r, wa_instance *in, const char *name, int argc, char **argv,
                  wa_error *err)
{
    wa_func *f = wa_instance_func(in, name);
    if (!f) {
        fprintf(stderr, "apron: %s: no exported function '%s'\n", r->path, name);
        return 1;
    }
    wa_functype ft;
    wa_func_type(f, &ft);
    if ((uint32_t)argc != ft.nparams) {
        fprintf(stderr, "apron: %s: '%s' takes %" PRIu32 " arguments, %d given\n", r->path, name,
                ft.nparams, argc);
        return 1;
    }
    wa_value *args = calloc(ft.nparams + 1, sizeof *args);
    wa_value *res = calloc(ft.nresults + 1, sizeof *res);
    int rc = 1;
    if (!args || !res) {
        fprintf(stderr, "apron: %s: out of memory\n", r->path);
        goto out;
    }
    for (uint32_t i = 0; i < ft.nparams; i++) {
        if (!parse_arg(argv[i], ft.params[i], &args[i])) {
            fprintf(stderr, "apron: %s: argument %" PRIu32 " ('%s') is not a valid %s\n", r->path,
                    i + 1, argv[i], type_name(ft.params[i]));
            goto out;
        }
    }
    wa_status st = wa_call(f, args, ft.nparams, res, err);
    if (st == WA_ETRAP && err->trap == WA_TRAP_EXIT) {
        rc = err->exit_code;
        goto out;
    }
    if (st != WA_OK) {
        rc = fail(r, err);
        goto out;
    }
    for (uint32_t i = 0; i < ft.nresults; i++)
        print_value(&res[i]);
    rc = 0;
out:
    free(args);
    free(res);
    return rc;
}

static int usage(void)
{
    fprintf(stderr, "usage: apron wasm [--env NAME=VALUE]... FILE.wasm [ARG...]\n"
                    "       apron wasm [--env NAME=VALUE]... FILE.wasm --invoke NAME [ARG...]\n");
    return 2;
}

int ap_cli_wasm(int argc, char **argv)
{
    const char *invoke_name = NULL;
    wasm_run r = {0};
    /* --env strings, borrowed from argv */
    const char **envp = calloc((size_t)argc, sizeof *envp);
    uint32_t envc = 0;
    if (!envp) {
        fprintf(stderr, "apron: out of memory\n");
        return 1;
    }
    int i = 1;
    for (; i < argc && !r.path; i++) {
        if (strcmp(argv[i], "--invoke") == 0) {
            if (++i == argc)
                break;
            invoke_name = argv[i];
        } else if (strcmp(argv[i], "--env") == 0) {
            if (++i == argc || !strchr(argv[i], '=') || argv[i][0] == '=') {
                fprintf(stderr, "apron wasm: --env takes NAME=VALUE\n");
                free(envp);
                return 2;
            }
            envp[envc++] = argv[i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "apron wasm: unknown option '%s'\n", argv[i]);
            free(envp);
            return 2;
        } else {
            r.path = argv[i];
        }
    }
    /* After the file: `--invoke NAME` if not given before it, then the arguments (of the export,
     * or of the WASI program). */
    if (r.path && !invoke_name && i < argc && strcmp(argv[i], "--invoke") == 0) {
        if (i + 1 == argc) { /* `--invoke` without a name is a mistake, not a program argument */
            free(envp);
            return usage();
        }
        invoke_name = argv[i + 1];
        i += 2;
    }
    if (!r.path) {
        free(envp);
        return usage();
    }
    r.strict = !invoke_name;

    /* The guest's argv: the file as given, then (command mode) the program's arguments. */
    const char **gargv = calloc((size_t)argc + 1, sizeof *gargv);
    uint32_t gargc = 0;
    if (gargv) {
        gargv[gargc++] = r.path;
        for (int k = i; !invoke_name && k < argc; k++)
            gargv[gargc++] = argv[k];
    }
    ap_wasi_config wcfg = {.argc = gargc, .argv = gargv, .envc = envc, .envp = envp};
    ap_wasi_status wst = gargv ? ap_wasi_new(&wcfg, &r.wasi) : AP_WASI_ENOMEM;
    free(gargv);
    free(envp);
    if (wst != AP_WASI_OK) {
        fprintf(stderr, "apron: %s: %s\n", r.path,
                wst == AP_WASI_EINVAL ? "arguments too large" : "out of memory");
        return 1;
    }

    wa_error err = {.offset = UINT32_MAX};
    int rc = 1;
    size_t len;
    errno = 0;
    uint8_t *bytes = read_file(r.path, &len);
    if (!bytes) {
        fprintf(stderr, "apron: %s: %s\n", r.path, strerror(errno ? errno : ENOMEM));
        ap_wasi_free(r.wasi);
        return 1;
    }
    wa_status st = wa_module_load(bytes, len, &r.module, &err);
    free(bytes);
    if (st != WA_OK) {
        ap_wasi_free(r.wasi);
        return fail(&r, &err);
    }
    wa_instance *in = NULL;
    if (!(r.store = wa_store_new(NULL))) {
        snprintf(err.msg, sizeof err.msg, "out of memory");
        rc = fail(&r, &err);
    } else if (resolve_imports(&r, &err) != WA_OK) {
        rc = fail(&r, &err);
    } else if ((st = wa_instance_new(r.store, r.module, r.imports, NULL, &in, &err)) != WA_OK) {
        rc = st == WA_ETRAP && err.trap == WA_TRAP_EXIT ? err.exit_code : fail(&r, &err);
    } else if (invoke_name) {
        rc = invoke(&r, in, invoke_name, argc - i, argv + i, &err);
    } else if (wa_instance_func(in, "_start")) {
        rc = invoke(&r, in, "_start", 0, NULL, &err);
    } else {
        rc = 0;
    }
    wa_store_free(r.store);
    wa_module_unref(r.module);
    ap_wasi_free(r.wasi);
    free(r.imports);
    free(r.unknown);
    return rc;
}
