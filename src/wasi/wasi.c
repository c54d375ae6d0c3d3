/* wasi.c — the WASI context and the import resolver: the preview1 function list with each exact
 * type, plus args_*, environ_*, proc_exit and the ENOSYS answer. [wasi] sits beside wapc, under the
 * CLI and the pool; stdio and polling live in wasi_fd.c and wasi_time.c. */
#include "wasi_impl.h"

#include <stdlib.h>

/* ---- The context ---- */

/* Packs n strings back to back, each NUL-terminated, into a new buffer. */
static ap_wasi_status pack(uint32_t n, const char *const *v, char **out, uint32_t *out_len)
{
    uint64_t len = 0;
    for (uint32_t i = 0; i < n; i++)
        len += strlen(v[i]) + 1;
    /* The guest's buffer and its pointer array must both fit in its 4 GiB. */
    if (len > UINT32_MAX || (uint64_t)n * 4 > UINT32_MAX - len)
        return AP_WASI_EINVAL;
    char *buf = malloc(len ? len : 1);
    if (!buf)
        return AP_WASI_ENOMEM;
    char *p = buf;
    for (uint32_t i = 0; i < n; i++) {
        size_t l = strlen(v[i]) + 1;
        memcpy(p, v[i], l);
        p += l;
    }
    *out = buf;
    *out_len = (uint32_t)len;
    return AP_WASI_OK;
}

ap_wasi_status ap_wasi_new(const ap_wasi_config *c, ap_wasi **out)
{
    static const ap_wasi_config none = {0};
    if (!c)
        c = &none;
    ap_wasi *w = calloc(1, sizeof *w);
    if (!w)
        return AP_WASI_ENOMEM;
    ap_wasi_status st = pack(c->argc, c->argv, &w->args, &w->args_len);
    if (st == AP_WASI_OK)
        st = pack(c->envc, c->envp, &w->env, &w->env_len);
    if (st != AP_WASI_OK) {
        ap_wasi_free(w);
        return st;
    }
    w->argc = c->argc;
    w->envc = c->envc;
    w->write = c->write;
    w->write_user = c->write_user;
    atomic_init(&w->exit, -1);
    *out = w;
    return AP_WASI_OK;
}

void ap_wasi_free(ap_wasi *w)
{
    if (!w)
        return;
    free(w->args);
    free(w->env);
    free(w);
}

bool ap_wasi_exit_code(const ap_wasi *w, int32_t *code)
{
    long long v = atomic_load(&((ap_wasi *)w)->exit);
    if (v < 0)
        return false;
    *code = (int32_t)(uint32_t)v;
    return true;
}

/* ---- args, environ ---- */

/* The sizes: count to *count_ptr, buffer bytes to *size_ptr. */
static uint32_t strings_sizes(wa_instance *caller, uint32_t count, uint32_t len, uint32_t count_ptr,
                              uint32_t size_ptr)
{
    uint8_t *pc = wasi_span(caller, count_ptr, 4);
    uint8_t *ps = wasi_span(caller, size_ptr, 4);
    if (!pc || !ps)
        return WASI_EFAULT;
    wasi_put_u32(pc, count);
    wasi_put_u32(ps, len);
    return WASI_ESUCCESS;
}

/* The strings into the guest's buffer at buf_ptr, their addresses into the array at vec_ptr. */
static uint32_t strings_get(wa_instance *caller, uint32_t count, const char *strs, uint32_t len,
                            uint32_t vec_ptr, uint32_t buf_ptr)
{
    uint8_t *vec = wasi_span(caller, vec_ptr, (uint64_t)count * 4);
    uint8_t *buf = wasi_span(caller, buf_ptr, len);
    if (!vec || !buf)
        return WASI_EFAULT;
    /* The guest may pass overlapping ranges: pointers are computed from the host copy. */
    uint32_t off = 0;
    for (uint32_t i = 0; i < count; i++) {
        wasi_put_u32(vec + 4 * (size_t)i, buf_ptr + off);
        off += (uint32_t)strlen(strs + off) + 1;
    }
    memmove(buf, strs, len);
    return WASI_ESUCCESS;
}

static WASI_FN(args_sizes_get)
{
    ap_wasi *w = user;
    slots[0].i32 = strings_sizes(caller, w->argc, w->args_len, slots[0].i32, slots[1].i32);
    return WA_OK;
}

static WASI_FN(args_get)
{
    ap_wasi *w = user;
    slots[0].i32 = strings_get(caller, w->argc, w->args, w->args_len, slots[0].i32, slots[1].i32);
    return WA_OK;
}

static WASI_FN(environ_sizes_get)
{
    ap_wasi *w = user;
    slots[0].i32 = strings_sizes(caller, w->envc, w->env_len, slots[0].i32, slots[1].i32);
    return WA_OK;
}

static WASI_FN(environ_get)
{
    ap_wasi *w = user;
    slots[0].i32 = strings_get(caller, w->envc, w->env, w->env_len, slots[0].i32, slots[1].i32);
    return WA_OK;
}

/* ---- proc_*, and what is not implemented ---- */

static WASI_FN(proc_exit)
{
    ap_wasi *w = user;
    atomic_store(&w->exit, (long long)slots[0].i32);
    return wa_host_exit((int32_t)slots[0].i32);
}

static WASI_FN(nosys)
{
    slots[0].i32 = WASI_ENOSYS;
    return WA_OK;
}

/* ---- The function list ---- */

/* Each preview1 function with its exact type: 'i' i32, 'I' i64. All return one i32 errno except
 * proc_exit. `unstable` is the snapshot-0 variant where its layout differs; `preview1_only` ones
 * are absent from wasi_unstable. */
typedef struct {
    const char *name;
    const char *params;
    bool no_result;
    bool preview1_only;
    wa_host_fn fn;
    wa_host_fn unstable;
} wasi_def;

static const wasi_def defs[] = {
    {"args_get", "ii", .fn = args_get},
    {"args_sizes_get", "ii", .fn = args_sizes_get},
    {"environ_get", "ii", .fn = environ_get},
    {"environ_sizes_get", "ii", .fn = environ_sizes_get},
    {"clock_res_get", "ii", .fn = ap_wasi__clock_res_get},
    {"clock_time_get", "iIi", .fn = ap_wasi__clock_time_get},
    {"fd_advise", "iIIi", .fn = ap_wasi__fd_other},
    {"fd_allocate", "iII", .fn = ap_wasi__fd_other},
    {"fd_close", "i", .fn = ap_wasi__fd_close},
    {"fd_datasync", "i", .fn = ap_wasi__fd_other},
    {"fd_fdstat_get", "ii", .fn = ap_wasi__fd_fdstat_get},
    {"fd_fdstat_set_flags", "ii", .fn = ap_wasi__fd_fdstat_set_flags},
    {"fd_fdstat_set_rights", "iII", .fn = ap_wasi__fd_other},
    {"fd_filestat_get", "ii", .fn = ap_wasi__fd_filestat_get,
     .unstable = ap_wasi__fd_filestat_get_unstable},
    {"fd_filestat_set_size", "iI", .fn = ap_wasi__fd_other},
    {"fd_filestat_set_times", "iIIi", .fn = ap_wasi__fd_other},
    {"fd_pread", "iiiIi", .fn = ap_wasi__fd_other},
    {"fd_prestat_get", "ii", .fn = ap_wasi__fd_prestat_get},
    {"fd_prestat_dir_name", "iii", .fn = ap_wasi__fd_prestat_dir_name},
    {"fd_pwrite", "iiiIi", .fn = ap_wasi__fd_other},
    {"fd_read", "iiii", .fn = ap_wasi__fd_read},
    {"fd_readdir", "iiiIi", .fn = ap_wasi__fd_other},
    {"fd_renumber", "ii", .fn = ap_wasi__fd_other},
    {"fd_seek", "iIii", .fn = ap_wasi__fd_seek},
    {"fd_sync", "i", .fn = ap_wasi__fd_other},
    {"fd_tell", "ii", .fn = ap_wasi__fd_tell},
    {"fd_write", "iiii", .fn = ap_wasi__fd_write},
    {"path_create_directory", "iii", .fn = ap_wasi__path_fd0},
    {"path_filestat_get", "iiiii", .fn = ap_wasi__path_fd0},
    {"path_filestat_set_times", "iiiiIIi", .fn = ap_wasi__path_fd0},
    {"path_link", "iiiiiii", .fn = ap_wasi__path_fd0},
    {"path_open", "iiiiiIIii", .fn = ap_wasi__path_fd0},
    {"path_readlink", "iiiiii", .fn = ap_wasi__path_fd0},
    {"path_remove_directory", "iii", .fn = ap_wasi__path_fd0},
    {"path_rename", "iiiiii", .fn = ap_wasi__path_fd0},
    {"path_symlink", "iiiii", .fn = ap_wasi__path_symlink},
    {"path_unlink_file", "iii", .fn = ap_wasi__path_fd0},
    {"poll_oneoff", "iiii", .fn = ap_wasi__poll_oneoff, .unstable = ap_wasi__poll_oneoff_unstable},
    {"proc_exit", "i", .no_result = true, .fn = proc_exit},
    {"proc_raise", "i", .fn = nosys},
    {"random_get", "ii", .fn = ap_wasi__random_get},
    {"sched_yield", "", .fn = ap_wasi__sched_yield},
    {"sock_accept", "iii", .preview1_only = true, .fn = nosys},
    {"sock_recv", "iiiiii", .fn = nosys},
    {"sock_send", "iiiii", .fn = nosys},
    {"sock_shutdown", "ii", .fn = nosys},
};

#define WASI_MAX_PARAMS 9

bool ap_wasi_is_wasi_module(const char *module)
{
    return strcmp(module, "wasi_snapshot_preview1") == 0 || strcmp(module, "wasi_unstable") == 0;
}

wa_func *ap_wasi_resolve(ap_wasi *w, wa_store *s, const char *module, const char *name,
                         const wa_functype *want)
{
    if (!w || !s || !module || !name || !ap_wasi_is_wasi_module(module))
        return NULL;
    bool unstable = module[5] == 'u';
    const wasi_def *d = NULL;
    for (size_t i = 0; i < sizeof defs / sizeof defs[0] && !d; i++)
        if (strcmp(defs[i].name, name) == 0)
            d = &defs[i];
    if (!d || (unstable && d->preview1_only))
        return NULL;

    wa_valtype params[WASI_MAX_PARAMS];
    static const wa_valtype i32_result[1] = {WA_I32};
    wa_functype ft = {.nparams = (uint32_t)strlen(d->params),
                      .nresults = d->no_result ? 0 : 1,
                      .params = params,
                      .results = i32_result};
    for (uint32_t i = 0; i < ft.nparams; i++)
        params[i] = d->params[i] == 'I' ? WA_I64 : WA_I32;
    if (want) {
        if (want->nparams != ft.nparams || want->nresults != ft.nresults)
            return NULL;
        for (uint32_t i = 0; i < ft.nparams; i++)
            if (want->params[i] != params[i])
                return NULL;
        if (ft.nresults && want->results[0] != WA_I32)
            return NULL;
    }
    return wa_func_new_host(s, &ft, unstable && d->unstable ? d->unstable : d->fn, w);
}
