/* test_guest.c — the wasi_smoke guest (tests/guests/c/wasi_smoke.c) run in process through
 * src/wasi/: arguments and environment from the context, stdout and stderr through the sink,
 * proc_exit as a WA_TRAP_EXIT trap, a guest trap as a trap. tests/guests/guests.cmake defines
 * APRON_GUESTS_DIR; the tests skip when the guest was not built (no wasm32-wasi clang). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "wasi/wasi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef APRON_GUESTS_DIR
#define APRON_GUESTS_DIR ""
#endif

typedef struct {
    char out[2][4096];
    size_t len[2];
} capture;

static void capture_write(void *user, int fd, const uint8_t *p, size_t n)
{
    capture *c = user;
    size_t room = sizeof c->out[0] - 1 - c->len[fd - 1];
    size_t k = n < room ? n : room;
    memcpy(c->out[fd - 1] + c->len[fd - 1], p, k);
    c->len[fd - 1] += k;
    c->out[fd - 1][c->len[fd - 1]] = 0;
}

static wa_module *load_guest(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/wasi_smoke.wasm", APRON_GUESTS_DIR);
    FILE *f = APRON_GUESTS_DIR[0] ? fopen(path, "rb") : NULL;
    if (!f)
        return NULL;
    static uint8_t buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    wa_module *m = NULL;
    wa_error err;
    assert_int_equal(wa_module_load(buf, n, &m, &err), WA_OK);
    return m;
}

/* Instantiates the guest with WASI from argv/envp and runs _start; returns its status. */
static wa_status run(wa_module *m, uint32_t argc, const char **argv, uint32_t envc,
                     const char **envp, capture *cap, wa_error *err)
{
    ap_wasi_config cfg = {.argc = argc,
                          .argv = argv,
                          .envc = envc,
                          .envp = envp,
                          .write = capture_write,
                          .write_user = cap};
    ap_wasi *w;
    assert_int_equal(ap_wasi_new(&cfg, &w), AP_WASI_OK);
    wa_store *s = wa_store_new(NULL);
    assert_non_null(s);
    uint32_t n = wa_module_import_count(m);
    wa_extern *imports = calloc(n, sizeof *imports);
    assert_non_null(imports);
    for (uint32_t i = 0; i < n; i++) {
        const char *module, *name;
        wa_extern_kind kind;
        wa_functype ft;
        wa_module_import_info(m, i, &module, &name, &kind);
        assert_int_equal(kind, WA_EXTERN_FUNC);
        assert_true(wa_module_import_functype(m, i, &ft));
        imports[i].kind = WA_EXTERN_FUNC;
        imports[i].of.func = ap_wasi_resolve(w, s, module, name, &ft);
        assert_non_null(imports[i].of.func);
    }
    wa_instance *in;
    assert_int_equal(wa_instance_new(s, m, imports, NULL, &in, err), WA_OK);
    wa_func *start = wa_instance_func(in, "_start");
    assert_non_null(start);
    wa_status st = wa_call(start, NULL, 0, NULL, err);
    int32_t code;
    if (st == WA_ETRAP && err->trap == WA_TRAP_EXIT) {
        assert_true(ap_wasi_exit_code(w, &code));
        assert_int_equal(code, err->exit_code);
    }
    free(imports);
    wa_store_free(s);
    ap_wasi_free(w);
    return st;
}

static void test_exit_code_args_env(void **state)
{
    wa_module *m = load_guest();
    if (!m)
        skip();
    const char *argv[] = {"smoke", "5", "x y"};
    const char *envp[] = {"K=v"};
    capture cap = {0};
    wa_error err;
    assert_int_equal(run(m, 3, argv, 1, envp, &cap, &err), WA_ETRAP);
    assert_int_equal(err.trap, WA_TRAP_EXIT);
    assert_int_equal(err.exit_code, 5);
    assert_string_equal(cap.out[0], "argc=3\nargv[1]=5\nargv[2]=x y\nenv K=v\nenvc=1\n"
                                    "clock ok\nrandom ok\nsleep ok\nstdin eof\nopen denied\n"
                                    "create denied\nexit 5\n");
    assert_string_equal(cap.out[1], "to stderr\n");
    wa_module_unref(m);
}

static void test_returns_normally(void **state)
{
    wa_module *m = load_guest();
    if (!m)
        skip();
    const char *argv[] = {"smoke"};
    capture cap = {0};
    wa_error err;
    assert_int_equal(run(m, 1, argv, 0, NULL, &cap, &err), WA_OK);
    assert_non_null(strstr(cap.out[0], "argc=1\nenvc=0\n"));
    assert_non_null(strstr(cap.out[0], "exit 0\n"));
    wa_module_unref(m);
}

static void test_trap(void **state)
{
    wa_module *m = load_guest();
    if (!m)
        skip();
    const char *argv[] = {"smoke", "trap"};
    capture cap = {0};
    wa_error err;
    assert_int_equal(run(m, 2, argv, 0, NULL, &cap, &err), WA_ETRAP);
    assert_int_equal(err.trap, WA_TRAP_UNREACHABLE);
    assert_string_equal(cap.out[0], "trapping\n");
    wa_module_unref(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_code_args_env),
        cmocka_unit_test(test_returns_normally),
        cmocka_unit_test(test_trap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
