/* runner.c — spectest-runner: runs one wast2json script (the JSON plus its .wasm files) through
 * the public engine API and prints `NAME.wast: N passed, N failed, N skipped`, then the first
 * failures in detail. tests/spec/run.sh runs it once per script, in its own process, so a crash
 * loses one script's report only.
 *
 * usage: spectest-runner [-v] [--lax-traps] [--lax-load-errors] [--count] SCRIPT.json
 *   -v              print each command as it runs (to stderr)
 *   --lax-traps     a trap of the right kind passes whatever its message says; by default an
 *                   assert_trap, assert_exhaustion or assert_uninstantiable also fails when the
 *                   trap's message differs from the script's text (--strict-traps, the default,
 *                   is still accepted)
 *   --lax-load-errors
 *                   an assert_malformed or assert_invalid passes on the right status alone; by
 *                   default it also fails when the engine's message does not begin with the
 *                   script's text (the reference interpreter's rule: the text is a prefix of the
 *                   message, here ending at a word boundary) or when the error carries no byte
 *                   offset inside the module (--strict-load-errors, the default, is accepted)
 *   --count         run nothing: print the summary line as if every runnable command had failed
 *                   (what run.sh reports for a script whose runner crashed)
 *
 * Exit status: 0 when nothing failed, 1 when something did, 2 on a usage or JSON error. */
#include "spectest.h"

#include <jansson.h>

#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_DETAILS = 10 };

typedef struct {
    char *name;
    wa_instance *in; /* NULL when the module under that name failed */
} named_instance;

typedef struct {
    const char *wast;       /* script name for messages, "address.wast" */
    const char *dir;        /* folder of the JSON: .wasm paths are relative to it */
    bool verbose, strict_traps, strict_load_errors;
    wa_store *store;
    st_registry *reg;
    wa_instance *current;   /* the last module defined; NULL if it failed */
    uint32_t current_line;  /* line of that module command, for messages */
    size_t last_len;        /* size of the module file load_module read last */
    named_instance *named;
    uint32_t nnamed, named_cap;
    wa_module **modules;    /* every module loaded, released after the store */
    uint32_t nmodules, modules_cap;
    unsigned passed, failed, skipped;
    char *details[MAX_DETAILS];
    unsigned ndetails;
} script;

/* ---- Crash reporting ---- */

static volatile sig_atomic_t crash_line;
static char crash_prefix[256];

static void on_crash(int sig)
{
    char buf[384];
    int n = snprintf(buf, sizeof buf, "%s: crashed with signal %d (%s) at line %d\n",
                     crash_prefix, sig, sig == SIGSEGV ? "SIGSEGV" : sig == SIGABRT ? "SIGABRT"
                                                    : sig == SIGBUS  ? "SIGBUS"
                                                    : sig == SIGFPE  ? "SIGFPE"
                                                                     : "SIGILL",
                     (int)crash_line);
    if (n > 0) (void)!write(STDERR_FILENO, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Installed before the engine runs: an engine that handles SIGSEGV itself (guard pages) replaces
 * this handler, and passes us the faults that are not its own if it chains. */
static void install_crash_handlers(void)
{
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa = {.sa_handler = on_crash, .sa_flags = SA_RESETHAND | SA_NODEFER};
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
}

/* ---- Results ---- */

static void pass(script *sc) { sc->passed++; }

static void fail(script *sc, json_int_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(script *sc, json_int_t line, const char *fmt, ...)
{
    sc->failed++;
    if (sc->ndetails >= MAX_DETAILS) return;
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t len = strlen(msg) + 32;
    char *d = malloc(len);
    if (!d) return;
    snprintf(d, len, "  line %" JSON_INTEGER_FORMAT ": %s", line, msg);
    sc->details[sc->ndetails++] = d;
}

/* ---- JSON helpers ---- */

static const char *str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static const char *valtype_name(wa_valtype t)
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

static bool parse_valtype(const char *s, wa_valtype *out)
{
    static const wa_valtype all[] = {WA_I32, WA_I64, WA_F32, WA_F64, WA_V128, WA_FUNCREF,
                                     WA_EXTERNREF};
    for (size_t i = 0; s && i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(s, valtype_name(all[i])) == 0) {
            *out = all[i];
            return true;
        }
    }
    return false;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

/* Why a command is skipped without running, or NULL if it runs. */
static const char *skip_reason(const json_t *cmd)
{
    const char *mt = str(cmd, "module_type");
    if (mt && strcmp(mt, "text") == 0) return "text module";
    return NULL;
}

/* An action's export name. Loaded with JSON_ALLOW_NUL, jansson decodes "\u0000" to a NUL byte
 * and keeps the true length, so names holding U+0000 (names.wast) are looked up by their bytes
 * (wa_instance_export_n). False without a string "field". */
static bool field_bytes(const json_t *action, const char **name, size_t *len)
{
    const json_t *field = json_object_get(action, "field");
    if (!json_is_string(field)) return false;
    *name = json_string_value(field);
    *len = json_string_length(field);
    return true;
}

/* The export name for messages: control bytes (NUL included) as \xNN, "?" without one. The
 * runner is single-threaded; the text lives until the next call. */
static const char *field_text(const json_t *action)
{
    static char buf[256];
    const char *name;
    size_t len, o = 0;
    if (!field_bytes(action, &name, &len)) return "?";
    for (size_t i = 0; i < len && o + 5 < sizeof buf; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f) o += (size_t)snprintf(buf + o, sizeof buf - o, "\\x%02x", c);
        else buf[o++] = (char)c;
    }
    buf[o] = '\0';
    return buf;
}

/* Lane width in bytes of a v128's lane_type (i8 ... f64), 0 if unknown. */
static unsigned lane_bytes(const char *lt)
{
    static const struct { const char *name; unsigned bytes; } lanes[] = {
        {"i8", 1}, {"i16", 2}, {"i32", 4}, {"i64", 8}, {"f32", 4}, {"f64", 8},
    };
    for (size_t i = 0; lt && i < sizeof lanes / sizeof lanes[0]; i++)
        if (strcmp(lt, lanes[i].name) == 0) return lanes[i].bytes;
    return 0;
}

/* One lane's bits: wast2json writes them unsigned; a leading '-' is accepted too. */
static bool parse_lane(const char *s, unsigned bytes, uint64_t *out)
{
    uint64_t mask = bytes == 8 ? UINT64_MAX : ((uint64_t)1 << (8 * bytes)) - 1;
    if (s && s[0] == '-') {
        uint64_t mag;
        if (!parse_u64(s + 1, &mag)) return false;
        *out = (0 - mag) & mask;
        return true;
    }
    return parse_u64(s, out) && *out <= mask;
}

/* A v128 {"lane_type", "value": [lanes]} into 16 bytes (little-endian lanes). */
static bool parse_v128(const json_t *j, uint8_t out[16])
{
    unsigned bytes = lane_bytes(str(j, "lane_type"));
    const json_t *lanes = json_object_get(j, "value");
    if (!bytes || json_array_size(lanes) != 16 / bytes) return false;
    for (unsigned i = 0; i < 16 / bytes; i++) {
        uint64_t bits;
        if (!parse_lane(json_string_value(json_array_get(lanes, i)), bytes, &bits)) return false;
        for (unsigned k = 0; k < bytes; k++) out[i * bytes + k] = (uint8_t)(bits >> (8 * k));
    }
    return true;
}

/* Argument from the JSON. externref N is (void *)(N + 1), so that 0 stays null. */
static bool parse_arg(const json_t *j, wa_value *out)
{
    const char *val = str(j, "value");
    uint64_t bits;
    if (!parse_valtype(str(j, "type"), &out->type)) return false;
    switch (out->type) {
    case WA_I32:
    case WA_F32: /* floats travel as their bits: no conversion may touch a NaN's payload */
        if (!parse_u64(val, &bits) || bits > UINT32_MAX) return false;
        out->of.i32 = (uint32_t)bits;
        return true;
    case WA_I64:
    case WA_F64:
        if (!parse_u64(val, &bits)) return false;
        out->of.i64 = bits;
        return true;
    case WA_EXTERNREF:
        if (val && strcmp(val, "null") == 0) {
            out->of.ext = NULL;
            return true;
        }
        if (!parse_u64(val, &bits)) return false;
        out->of.ext = (void *)(uintptr_t)(bits + 1);
        return true;
    case WA_FUNCREF: /* the JSON can only name the null funcref */
        out->of.func = NULL;
        return val && strcmp(val, "null") == 0;
    case WA_V128:
        return parse_v128(j, out->of.v128);
    }
    return false;
}

static void format_value(char *buf, size_t size, wa_valtype t, const wa_value *v)
{
    switch (t) {
    case WA_I32:
        snprintf(buf, size, "i32:%" PRIu32 " (0x%08" PRIx32 ")", v->of.i32, v->of.i32);
        return;
    case WA_I64:
        snprintf(buf, size, "i64:%" PRIu64 " (0x%016" PRIx64 ")", v->of.i64, v->of.i64);
        return;
    case WA_F32:
        snprintf(buf, size, "f32:%" PRIu32 " (%.9g, 0x%08" PRIx32 ")", v->of.i32, v->of.f32,
                 v->of.i32);
        return;
    case WA_F64:
        snprintf(buf, size, "f64:%" PRIu64 " (%.17g, 0x%016" PRIx64 ")", v->of.i64, v->of.f64,
                 v->of.i64);
        return;
    case WA_FUNCREF:
        if (v->of.func) snprintf(buf, size, "funcref:%p", (void *)v->of.func);
        else snprintf(buf, size, "funcref:null");
        return;
    case WA_EXTERNREF:
        if (v->of.ext)
            snprintf(buf, size, "externref:%" PRIuPTR " (%p)", (uintptr_t)v->of.ext - 1, v->of.ext);
        else snprintf(buf, size, "externref:null");
        return;
    case WA_V128: {
        int n = snprintf(buf, size, "v128:");
        for (int i = 0; i < 16 && n > 0 && (size_t)n < size; i++)
            n += snprintf(buf + n, size - (size_t)n, "%s%02x", i ? " " : "", v->of.v128[i]);
        return;
    }
    }
    snprintf(buf, size, "type 0x%02x", (unsigned)t);
}

static void format_expected(char *buf, size_t size, const json_t *e)
{
    const char *t = str(e, "type"), *v = str(e, "value");
    const json_t *lanes = json_object_get(e, "value");
    if (json_is_array(lanes)) {
        const char *lt = str(e, "lane_type");
        int n = snprintf(buf, size, "%s:%s:", t ? t : "?", lt ? lt : "?");
        size_t i;
        const json_t *l;
        json_array_foreach(lanes, i, l) {
            if (n <= 0 || (size_t)n >= size) break;
            const char *ls = json_string_value(l);
            n += snprintf(buf + n, size - (size_t)n, "%s%s", i ? " " : "", ls ? ls : "?");
        }
        return;
    }
    snprintf(buf, size, "%s:%s", t ? t : "?", v ? v : "(any non-null)");
}

/* The spec's NaN classes: canonical = quiet bit only; arithmetic = quiet bit set (any payload). */
static bool nan_matches(const char *want, uint64_t bits, bool is_f32)
{
    uint64_t quiet = is_f32 ? 0x7fc00000u : 0x7ff8000000000000u;
    uint64_t magnitude = is_f32 ? 0x7fffffffu : 0x7fffffffffffffffu;
    if (strcmp(want, "nan:canonical") == 0) return (bits & magnitude) == quiet;
    return (bits & quiet) == quiet; /* nan:arithmetic */
}

/* Lane by lane; float lanes may expect nan:canonical or nan:arithmetic. */
static bool v128_matches(const json_t *e, const uint8_t got[16])
{
    const char *lt = str(e, "lane_type");
    unsigned bytes = lane_bytes(lt);
    const json_t *lanes = json_object_get(e, "value");
    if (!bytes || json_array_size(lanes) != 16 / bytes) return false;
    for (unsigned i = 0; i < 16 / bytes; i++) {
        const char *want = json_string_value(json_array_get(lanes, i));
        uint64_t bits = 0, w;
        for (unsigned k = 0; k < bytes; k++) bits |= (uint64_t)got[i * bytes + k] << (8 * k);
        if (want && strncmp(want, "nan:", 4) == 0) {
            if (lt[0] != 'f' || !nan_matches(want, bits, bytes == 4)) return false;
        } else if (!parse_lane(want, bytes, &w) || w != bits) {
            return false;
        }
    }
    return true;
}

static bool value_matches(const json_t *e, wa_valtype got_type, const wa_value *got)
{
    wa_valtype t;
    const char *val = str(e, "value");
    uint64_t bits;
    if (!parse_valtype(str(e, "type"), &t) || t != got_type) return false;
    switch (t) {
    case WA_I32:
        return parse_u64(val, &bits) && bits == got->of.i32;
    case WA_I64:
        return parse_u64(val, &bits) && bits == got->of.i64;
    case WA_F32:
        if (val && strncmp(val, "nan:", 4) == 0) return nan_matches(val, got->of.i32, true);
        return parse_u64(val, &bits) && bits == got->of.i32;
    case WA_F64:
        if (val && strncmp(val, "nan:", 4) == 0) return nan_matches(val, got->of.i64, false);
        return parse_u64(val, &bits) && bits == got->of.i64;
    case WA_FUNCREF:
        if (!val) return got->of.func != NULL;
        return strcmp(val, "null") == 0 && got->of.func == NULL;
    case WA_EXTERNREF:
        if (!val) return got->of.ext != NULL;
        if (strcmp(val, "null") == 0) return got->of.ext == NULL;
        return parse_u64(val, &bits) && got->of.ext == (void *)(uintptr_t)(bits + 1);
    case WA_V128:
        return v128_matches(e, got->of.v128);
    }
    return false;
}

static void format_error(char *buf, size_t size, wa_status st, const wa_error *err)
{
    const char *s = wa_status_text(st);
    if (st == WA_ETRAP) {
        const char *t = wa_trap_text(err->trap);
        snprintf(buf, size, "%s (%s%s%s)", s ? s : "trap", t ? t : "?", err->msg[0] ? ": " : "",
                 err->msg);
    } else {
        snprintf(buf, size, "%s%s%s", s ? s : "?", err->msg[0] ? ": " : "", err->msg);
    }
    if (err->offset != UINT32_MAX && st != WA_ETRAP && st != WA_OK) {
        size_t n = strlen(buf);
        snprintf(buf + n, size - n, " at offset 0x%" PRIx32, err->offset);
    }
}

/* ---- Modules ---- */

static int keep_module(script *sc, wa_module *m)
{
    if (sc->nmodules == sc->modules_cap) {
        uint32_t cap = sc->modules_cap ? sc->modules_cap * 2 : 64;
        wa_module **mods = realloc(sc->modules, cap * sizeof *mods);
        if (!mods) return -1;
        sc->modules = mods;
        sc->modules_cap = cap;
    }
    sc->modules[sc->nmodules++] = m;
    return 0;
}

static bool read_file(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *b = realloc(buf, cap);
            if (!b) {
                free(buf);
                fclose(f);
                return false;
            }
            buf = b;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    bool ok = !ferror(f);
    fclose(f);
    if (!ok) {
        free(buf);
        return false;
    }
    *out = buf;
    *len = n;
    return true;
}

/* Loads the command's module file. WA_OK with *out (kept by the script until the end), else the
 * engine's status; a missing file is reported as WA_ENOTFOUND with err->msg saying so. */
static wa_status load_module(script *sc, const json_t *cmd, wa_module **out, wa_error *err)
{
    memset(err, 0, sizeof *err);
    err->offset = UINT32_MAX;
    const char *file = str(cmd, "filename");
    char path[PATH_MAX];
    uint8_t *bytes;
    size_t len;
    snprintf(path, sizeof path, "%s/%s", sc->dir, file ? file : "");
    if (!file || !read_file(path, &bytes, &len)) {
        snprintf(err->msg, sizeof err->msg, "cannot read %s in %s", file ? file : "(no file)",
                 sc->dir);
        return WA_ENOTFOUND;
    }
    wa_module *m = NULL;
    sc->last_len = len;
    wa_status st = wa_module_load(bytes, len, &m, err);
    free(bytes);
    if (st != WA_OK) return st;
    if (keep_module(sc, m) != 0) {
        wa_module_unref(m);
        snprintf(err->msg, sizeof err->msg, "runner out of memory");
        return WA_ENOMEM;
    }
    *out = m;
    return WA_OK;
}

/* Resolves m's imports and instantiates it. */
static wa_status instantiate(script *sc, wa_module *m, wa_instance **out, wa_error *err)
{
    memset(err, 0, sizeof *err);
    err->offset = UINT32_MAX;
    uint32_t n = wa_module_import_count(m);
    wa_extern *imports = calloc(n ? n : 1, sizeof *imports);
    if (!imports) {
        snprintf(err->msg, sizeof err->msg, "runner out of memory");
        return WA_ENOMEM;
    }
    wa_status st = st_registry_resolve(sc->reg, m, imports, err);
    if (st == WA_OK) st = wa_instance_new(sc->store, m, imports, NULL, out, err);
    free(imports);
    return st;
}

static named_instance *find_named(script *sc, const char *name)
{
    for (uint32_t i = sc->nnamed; i-- > 0;) {
        if (strcmp(sc->named[i].name, name) == 0) return &sc->named[i];
    }
    return NULL;
}

static int set_named(script *sc, const char *name, wa_instance *in)
{
    named_instance *ni = find_named(sc, name);
    if (ni) {
        ni->in = in;
        return 0;
    }
    if (sc->nnamed == sc->named_cap) {
        uint32_t cap = sc->named_cap ? sc->named_cap * 2 : 8;
        named_instance *nn = realloc(sc->named, cap * sizeof *nn);
        if (!nn) return -1;
        sc->named = nn;
        sc->named_cap = cap;
    }
    char *copy = strdup(name);
    if (!copy) return -1;
    sc->named[sc->nnamed++] = (named_instance){copy, in};
    return 0;
}

/* The instance a command refers to: `name` if given, else the current module. NULL with `why`
 * filled if there is none. */
static wa_instance *target_instance(script *sc, const char *name, char *why, size_t why_size)
{
    if (name) {
        named_instance *ni = find_named(sc, name);
        if (!ni) snprintf(why, why_size, "no module named %s", name);
        else if (!ni->in) snprintf(why, why_size, "module %s failed to instantiate", name);
        return ni ? ni->in : NULL;
    }
    if (!sc->current) {
        if (sc->current_line) {
            snprintf(why, why_size, "no current module (the module at line %" PRIu32 " failed)",
                     sc->current_line);
        } else {
            snprintf(why, why_size, "no current module");
        }
    }
    return sc->current;
}

/* ---- Actions ---- */

typedef enum { ACT_RAN, ACT_SKIP, ACT_BROKEN } act_outcome;

typedef struct {
    wa_status st;          /* when ACT_RAN */
    wa_error err;
    uint32_t nresults;
    wa_value *results;     /* [nresults], malloc'd */
    wa_valtype *types;     /* [nresults]: the declared result types */
    char why[512];         /* when ACT_BROKEN: the runner could not run the action */
} act_result;

static void act_result_fini(act_result *r)
{
    free(r->results);
    free(r->types);
}

static act_outcome run_invoke(wa_instance *in, const json_t *action, act_result *r)
{
    const char *field;
    size_t len;
    wa_extern ext;
    if (!field_bytes(action, &field, &len) || !wa_instance_export_n(in, field, len, &ext) ||
        ext.kind != WA_EXTERN_FUNC) {
        snprintf(r->why, sizeof r->why, "no function export \"%s\"", field_text(action));
        return ACT_BROKEN;
    }
    wa_func *f = ext.of.func;
    wa_functype ft;
    wa_func_type(f, &ft);
    const json_t *args = json_object_get(action, "args");
    size_t nargs = json_array_size(args);
    if (nargs != ft.nparams) {
        snprintf(r->why, sizeof r->why, "\"%s\" takes %" PRIu32 " arguments, the script passes %zu",
                 field_text(action), ft.nparams, nargs);
        return ACT_BROKEN;
    }
    wa_value *argv = calloc(nargs ? nargs : 1, sizeof *argv);
    r->results = calloc(ft.nresults ? ft.nresults : 1, sizeof *r->results);
    r->types = calloc(ft.nresults ? ft.nresults : 1, sizeof *r->types);
    if (!argv || !r->results || !r->types) {
        free(argv);
        snprintf(r->why, sizeof r->why, "runner out of memory");
        return ACT_BROKEN;
    }
    for (size_t i = 0; i < nargs; i++) {
        if (!parse_arg(json_array_get(args, i), &argv[i]) || argv[i].type != ft.params[i]) {
            char *text = json_dumps(json_array_get(args, i), JSON_COMPACT);
            snprintf(r->why, sizeof r->why, "argument %zu (%s) does not fit parameter type %s", i,
                     text ? text : "?", valtype_name(ft.params[i]));
            free(text);
            free(argv);
            return ACT_BROKEN;
        }
    }
    r->nresults = ft.nresults;
    memcpy(r->types, ft.results, ft.nresults * sizeof *r->types);
    memset(&r->err, 0, sizeof r->err);
    r->st = wa_call(f, argv, (uint32_t)nargs, r->results, &r->err);
    free(argv);
    return ACT_RAN;
}

static act_outcome run_get(wa_instance *in, const json_t *action, act_result *r)
{
    const char *field;
    size_t len;
    wa_extern ext;
    if (!field_bytes(action, &field, &len) || !wa_instance_export_n(in, field, len, &ext) ||
        ext.kind != WA_EXTERN_GLOBAL) {
        snprintf(r->why, sizeof r->why, "no global export \"%s\"", field_text(action));
        return ACT_BROKEN;
    }
    r->results = calloc(1, sizeof *r->results);
    r->types = calloc(1, sizeof *r->types);
    if (!r->results || !r->types) {
        snprintf(r->why, sizeof r->why, "runner out of memory");
        return ACT_BROKEN;
    }
    r->results[0] = wa_global_get(ext.of.global);
    r->types[0] = r->results[0].type;
    r->nresults = 1;
    r->st = WA_OK;
    return ACT_RAN;
}

static act_outcome run_action(script *sc, const json_t *cmd, act_result *r)
{
    memset(r, 0, sizeof *r);
    const json_t *action = json_object_get(cmd, "action");
    const char *type = str(action, "type");
    wa_instance *in = target_instance(sc, str(action, "module"), r->why, sizeof r->why);
    if (!in) return ACT_BROKEN;
    if (type && strcmp(type, "invoke") == 0) return run_invoke(in, action, r);
    if (type && strcmp(type, "get") == 0) return run_get(in, action, r);
    snprintf(r->why, sizeof r->why, "unknown action type %s", type ? type : "(none)");
    return ACT_BROKEN;
}

static const char *action_field(const json_t *cmd)
{
    return field_text(json_object_get(cmd, "action"));
}

/* ---- Commands ---- */

static void cmd_module(script *sc, const json_t *cmd, json_int_t line)
{
    wa_module *m;
    wa_instance *in = NULL;
    wa_error err;
    char buf[512];
    const char *name = str(cmd, "name");
    wa_status st = load_module(sc, cmd, &m, &err);
    const char *stage = "load";
    if (st == WA_OK) {
        stage = "instantiation";
        st = instantiate(sc, m, &in, &err);
    }
    sc->current = st == WA_OK ? in : NULL;
    sc->current_line = (uint32_t)line;
    if (name && set_named(sc, name, sc->current) != 0) {
        fail(sc, line, "runner out of memory");
        return;
    }
    if (st == WA_OK) {
        pass(sc);
        return;
    }
    format_error(buf, sizeof buf, st, &err);
    fail(sc, line, "module %s: %s failed: %s", str(cmd, "filename"), stage, buf);
}

static void cmd_register(script *sc, const json_t *cmd, json_int_t line)
{
    char why[256];
    const char *as = str(cmd, "as");
    wa_instance *in = target_instance(sc, str(cmd, "name"), why, sizeof why);
    if (!as || !in) {
        fail(sc, line, "register %s: %s", as ? as : "?", as ? why : "no \"as\" name");
        return;
    }
    if (st_registry_add(sc->reg, as, in) != 0) {
        fail(sc, line, "register %s: runner out of memory", as);
        return;
    }
    pass(sc);
}

static void cmd_action(script *sc, const json_t *cmd, json_int_t line)
{
    act_result r;
    char buf[512];
    act_outcome o = run_action(sc, cmd, &r);
    if (o == ACT_BROKEN) fail(sc, line, "action %s: %s", action_field(cmd), r.why);
    else if (r.st != WA_OK) {
        format_error(buf, sizeof buf, r.st, &r.err);
        fail(sc, line, "action %s: %s", action_field(cmd), buf);
    } else pass(sc);
    act_result_fini(&r);
}

static void cmd_assert_return(script *sc, const json_t *cmd, json_int_t line)
{
    act_result r;
    char want[192], got[192], buf[512];
    const json_t *expected = json_object_get(cmd, "expected");
    act_outcome o = run_action(sc, cmd, &r);
    if (o == ACT_BROKEN) {
        fail(sc, line, "assert_return %s: %s", action_field(cmd), r.why);
    } else if (r.st != WA_OK) {
        format_error(buf, sizeof buf, r.st, &r.err);
        fail(sc, line, "assert_return %s: expected a result, got %s", action_field(cmd), buf);
    } else if (json_array_size(expected) != r.nresults) {
        fail(sc, line, "assert_return %s: expected %zu results, the function returns %" PRIu32,
             action_field(cmd), json_array_size(expected), r.nresults);
    } else {
        for (uint32_t i = 0; i < r.nresults; i++) {
            const json_t *e = json_array_get(expected, i);
            if (value_matches(e, r.types[i], &r.results[i])) continue;
            format_expected(want, sizeof want, e);
            format_value(got, sizeof got, r.types[i], &r.results[i]);
            fail(sc, line, "assert_return %s: result %" PRIu32 ": expected %s, got %s",
                 action_field(cmd), i, want, got);
            act_result_fini(&r);
            return;
        }
        pass(sc);
    }
    act_result_fini(&r);
}

/* Is `a` the words `b` begins with: equal, or followed in `b` by a space or a colon? */
static bool leading_words(const char *a, const char *b)
{
    size_t n = strlen(a);
    return strncmp(a, b, n) == 0 && (b[n] == '\0' || b[n] == ' ' || b[n] == ':');
}

/* Does the engine's trap message (what an embedder sees in wa_error.msg) agree with the
 * script's text? The suite's texts may carry detail after the spec wording ("uninitialized
 * element 2"), and a message may too, so whole leading words of either side are enough. */
static bool trap_text_matches(const char *want, const char *got)
{
    if (!want || !*want || !got || !*got) return false;
    return leading_words(got, want) || leading_words(want, got);
}

static void check_trap(script *sc, json_int_t line, const char *what, wa_status st,
                       const wa_error *err, const char *want, bool exhaustion)
{
    char buf[512];
    if (st != WA_ETRAP) {
        format_error(buf, sizeof buf, st, err);
        fail(sc, line, "%s: expected trap \"%s\", got %s", what, want ? want : "?",
             st == WA_OK ? "success" : buf);
    } else if (exhaustion && err->trap != WA_TRAP_STACK_EXHAUSTED) {
        format_error(buf, sizeof buf, st, err);
        fail(sc, line, "%s: expected call stack exhaustion, got %s", what, buf);
    } else if (sc->strict_traps && !trap_text_matches(want, err->msg)) {
        format_error(buf, sizeof buf, st, err);
        fail(sc, line, "%s: expected trap \"%s\", got %s", what, want ? want : "?", buf);
    } else {
        pass(sc);
    }
}

static void cmd_assert_trap(script *sc, const json_t *cmd, json_int_t line, bool exhaustion)
{
    char what[256];
    const char *want = str(cmd, "text");
    if (json_object_get(cmd, "filename")) {
        /* The module form: instantiation (a segment or the start function) must trap. */
        wa_module *m;
        wa_instance *in;
        wa_error err;
        wa_status st = load_module(sc, cmd, &m, &err);
        if (st == WA_OK) st = instantiate(sc, m, &in, &err);
        snprintf(what, sizeof what, "assert_trap module %s", str(cmd, "filename"));
        check_trap(sc, line, what, st, &err, want, false);
        return;
    }
    act_result r;
    snprintf(what, sizeof what, "%s %s", exhaustion ? "assert_exhaustion" : "assert_trap",
             action_field(cmd));
    if (run_action(sc, cmd, &r) == ACT_BROKEN) fail(sc, line, "%s: %s", what, r.why);
    else check_trap(sc, line, what, r.st, &r.err, want, exhaustion);
    act_result_fini(&r);
}

/* Commands whose text no binary module can produce: wast2json (wabt 1.0.32) writes
 * `(select (result) ...)`, "invalid result arity", as the untyped select 0x1b, so its module has
 * the same bytes as the line before's, which expects "type mismatch". Their status is checked. */
static bool text_unreachable(const script *sc, json_int_t line)
{
    static const struct { const char *wast; json_int_t line; } cmds[] = {
        {"select.wast", 324},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (cmds[i].line == line && strcmp(cmds[i].wast, sc->wast) == 0) return true;
    return false;
}

/* assert_invalid, assert_malformed: loading must fail with `want`; unless --lax-load-errors, with
 * a message that begins with the script's text (the reference interpreter's rule, run.ml: the
 * expected text is a prefix of the actual one) and an offset inside the module. */
static void cmd_assert_load_fails(script *sc, const json_t *cmd, json_int_t line, wa_status want)
{
    wa_module *m;
    wa_error err;
    char buf[512];
    const char *type = str(cmd, "type"), *text = str(cmd, "text");
    wa_status st = load_module(sc, cmd, &m, &err);
    if (st == want && !sc->strict_load_errors) {
        pass(sc);
        return;
    }
    if (st == want) {
        format_error(buf, sizeof buf, st, &err);
        if (!text_unreachable(sc, line) && (!text || !leading_words(text, err.msg)))
            fail(sc, line, "%s %s: expected \"%s\", got %s", type, str(cmd, "filename"),
                 text ? text : "", buf);
        else if (err.offset == UINT32_MAX || err.offset > sc->last_len)
            fail(sc, line, "%s %s: error without an offset in the module's %zu bytes: %s", type,
                 str(cmd, "filename"), sc->last_len, buf);
        else pass(sc);
        return;
    }
    if (st == WA_OK) snprintf(buf, sizeof buf, "the module loaded");
    else format_error(buf, sizeof buf, st, &err);
    fail(sc, line, "%s %s: expected %s (\"%s\"), got %s", type, str(cmd, "filename"),
         wa_status_text(want), text ? text : "", buf);
}

/* assert_unlinkable (want WA_EUNLINKABLE), assert_uninstantiable (want WA_ETRAP): the module
 * loads, instantiation fails. */
static void cmd_assert_inst_fails(script *sc, const json_t *cmd, json_int_t line, wa_status want)
{
    wa_module *m;
    wa_instance *in;
    wa_error err;
    char buf[512];
    const char *type = str(cmd, "type"), *text = str(cmd, "text");
    wa_status st = load_module(sc, cmd, &m, &err);
    if (st != WA_OK) {
        format_error(buf, sizeof buf, st, &err);
        fail(sc, line, "%s %s: the module should load, got %s", type, str(cmd, "filename"), buf);
        return;
    }
    st = instantiate(sc, m, &in, &err);
    if (st == want && want == WA_ETRAP) {
        char what[256];
        snprintf(what, sizeof what, "%s %s", type, str(cmd, "filename"));
        check_trap(sc, line, what, st, &err, text, false);
        return;
    }
    if (st == want) {
        pass(sc);
        return;
    }
    if (st == WA_OK) snprintf(buf, sizeof buf, "instantiation succeeded");
    else format_error(buf, sizeof buf, st, &err);
    fail(sc, line, "%s %s: expected %s (\"%s\"), got %s", type, str(cmd, "filename"),
         wa_status_text(want), text ? text : "", buf);
}

static void run_command(script *sc, const json_t *cmd)
{
    const char *type = str(cmd, "type");
    json_int_t line = json_integer_value(json_object_get(cmd, "line"));
    crash_line = (sig_atomic_t)line;
    if (sc->verbose) {
        fprintf(stderr, "%s:%" JSON_INTEGER_FORMAT ": %s %s\n", sc->wast, line, type ? type : "?",
                json_object_get(cmd, "action") ? action_field(cmd) : "");
        fflush(stderr);
    }
    if (!type) {
        fail(sc, line, "command without a type");
        return;
    }
    const char *why = skip_reason(cmd);
    if (why) {
        if (sc->verbose) fprintf(stderr, "  skipped: %s\n", why);
        sc->skipped++;
        return;
    }
    if (strcmp(type, "module") == 0) cmd_module(sc, cmd, line);
    else if (strcmp(type, "register") == 0) cmd_register(sc, cmd, line);
    else if (strcmp(type, "action") == 0) cmd_action(sc, cmd, line);
    else if (strcmp(type, "assert_return") == 0) cmd_assert_return(sc, cmd, line);
    else if (strcmp(type, "assert_trap") == 0) cmd_assert_trap(sc, cmd, line, false);
    else if (strcmp(type, "assert_exhaustion") == 0) cmd_assert_trap(sc, cmd, line, true);
    else if (strcmp(type, "assert_invalid") == 0) cmd_assert_load_fails(sc, cmd, line, WA_EINVALID);
    else if (strcmp(type, "assert_malformed") == 0)
        cmd_assert_load_fails(sc, cmd, line, WA_EMALFORMED);
    else if (strcmp(type, "assert_unlinkable") == 0)
        cmd_assert_inst_fails(sc, cmd, line, WA_EUNLINKABLE);
    else if (strcmp(type, "assert_uninstantiable") == 0)
        cmd_assert_inst_fails(sc, cmd, line, WA_ETRAP);
    else fail(sc, line, "unknown command type %s", type);
}

/* ---- main ---- */

static void script_fini(script *sc)
{
    st_registry_free(sc->reg);
    wa_store_free(sc->store);
    for (uint32_t i = 0; i < sc->nmodules; i++)
        wa_module_unref(sc->modules[i]);
    free(sc->modules);
    for (uint32_t i = 0; i < sc->nnamed; i++)
        free(sc->named[i].name);
    free(sc->named);
    for (unsigned i = 0; i < sc->ndetails; i++)
        free(sc->details[i]);
}

static void print_summary(const script *sc)
{
    printf("%s: %u passed, %u failed, %u skipped\n", sc->wast, sc->passed, sc->failed, sc->skipped);
    for (unsigned i = 0; i < sc->ndetails; i++)
        printf("%s\n", sc->details[i]);
    if (sc->failed > sc->ndetails) printf("  ... and %u more failures\n", sc->failed - sc->ndetails);
    fflush(stdout);
}

static int usage(void)
{
    fprintf(stderr, "usage: spectest-runner [-v] [--lax-traps] [--lax-load-errors] [--count] "
                    "SCRIPT.json\n");
    return 2;
}

int main(int argc, char **argv)
{
    script sc = {.strict_traps = true, .strict_load_errors = true};
    bool count_only = false;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0) sc.verbose = true;
        else if (strcmp(argv[i], "--strict-traps") == 0) sc.strict_traps = true;
        else if (strcmp(argv[i], "--lax-traps") == 0) sc.strict_traps = false;
        else if (strcmp(argv[i], "--strict-load-errors") == 0) sc.strict_load_errors = true;
        else if (strcmp(argv[i], "--lax-load-errors") == 0) sc.strict_load_errors = false;
        else if (strcmp(argv[i], "--count") == 0) count_only = true;
        else if (argv[i][0] == '-' || path) return usage();
        else path = argv[i];
    }
    if (!path) return usage();

    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_ALLOW_NUL, &jerr);
    const json_t *commands = json_object_get(root, "commands");
    if (!root || !json_is_array(commands)) {
        fprintf(stderr, "spectest-runner: %s: %s (line %d)\n", path,
                root ? "no \"commands\" array" : jerr.text, root ? 0 : jerr.line);
        json_decref(root);
        return 2;
    }
    char wast[256], pathcopy[PATH_MAX], pathcopy2[PATH_MAX];
    const char *source = str(root, "source_filename");
    snprintf(pathcopy, sizeof pathcopy, "%s", source ? source : path);
    snprintf(wast, sizeof wast, "%s", basename(pathcopy));
    snprintf(pathcopy2, sizeof pathcopy2, "%s", path);
    sc.wast = wast;
    sc.dir = dirname(pathcopy2);
    snprintf(crash_prefix, sizeof crash_prefix, "%s", wast);

    size_t i;
    const json_t *cmd;
    if (count_only) {
        json_array_foreach(commands, i, cmd) {
            if (skip_reason(cmd)) sc.skipped++;
            else sc.failed++;
        }
        printf("%s: %u passed, %u failed, %u skipped\n", wast, 0u, sc.failed, sc.skipped);
        json_decref(root);
        return 0;
    }

    install_crash_handlers();
    sc.store = wa_store_new(NULL);
    sc.reg = sc.store ? st_registry_new(sc.store) : NULL;
    if (!sc.reg) {
        json_array_foreach(commands, i, cmd) {
            if (skip_reason(cmd)) sc.skipped++;
            else sc.failed++;
        }
        fail(&sc, 0, "cannot create the store and the spectest module");
        sc.failed--; /* counted per command above */
    } else {
        json_array_foreach(commands, i, cmd) {
            run_command(&sc, cmd);
        }
    }
    print_summary(&sc);
    unsigned failed = sc.failed;
    script_fini(&sc);
    json_decref(root);
    return failed ? 1 : 0;
}
