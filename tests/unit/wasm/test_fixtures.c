/* test_fixtures.c — every real third-party guest in ../shared/fixtures/wapc-guests decodes,
 * validates, compiles and instantiates with stub imports (running them is the waPC tests' job).
 * Skipped when the shared folder is absent ($APRON_SHARED overrides its location). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "apron/wasm.h"

#include <dirent.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static wa_status stub(wa_instance *caller, void *user, wa_slot *slots)
{
    (void)caller;
    const wa_functype *t = user;
    for (uint32_t i = 0; i < t->nresults; i++) slots[i].i64 = 0;
    return WA_OK;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc(n > 0 ? (size_t)n : 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return p;
}

static void fixtures_dir(char *out, size_t size)
{
    const char *shared = getenv("APRON_SHARED");
    if (shared) {
        snprintf(out, size, "%s/fixtures/wapc-guests", shared);
        return;
    }
    char here[PATH_MAX];
    snprintf(here, sizeof here, "%s", __FILE__); /* tests/unit/wasm/ in the repository */
    char *root = dirname(dirname(dirname(dirname(here))));
    snprintf(out, size, "%s/../shared/fixtures/wapc-guests", root);
}

static void load_one(const char *path)
{
    size_t len = 0;
    char *bytes = read_file(path, &len);
    assert_non_null(bytes);
    wa_module *m = NULL;
    wa_error err = {0};
    wa_status st = wa_module_load((const uint8_t *)bytes, len, &m, &err);
    if (st != WA_OK) fail_msg("%s: %s", path, err.msg);
    free(bytes);

    wa_store *s = wa_store_new(NULL);
    uint32_t n = wa_module_import_count(m);
    wa_extern *imps = calloc(n + 1, sizeof *imps);
    wa_functype *types = calloc(n + 1, sizeof *types);
    for (uint32_t i = 0; i < n; i++) {
        const char *mod, *name;
        wa_extern_kind kind;
        wa_module_import_info(m, i, &mod, &name, &kind);
        imps[i].kind = kind;
        if (kind == WA_EXTERN_FUNC) {
            assert_true(wa_module_import_functype(m, i, &types[i]));
            imps[i].of.func = wa_func_new_host(s, &types[i], stub, &types[i]);
        } else if (kind == WA_EXTERN_MEMORY) {
            imps[i].of.memory = wa_memory_new(s, (wa_lim){17, 0, false});
        } else {
            fail_msg("%s: unexpected import kind %d (%s.%s)", path, kind, mod, name);
        }
    }
    wa_instance *in = NULL;
    st = wa_instance_new(s, m, imps, NULL, &in, &err);
    if (st != WA_OK) fail_msg("%s: instantiate: %s", path, err.msg);
    assert_non_null(wa_instance_func(in, "__guest_call"));
    wa_store_free(s);
    free(imps);
    free(types);
    wa_module_unref(m);
}

static void test_every_fixture_instantiates(void **state)
{
    (void)state;
    char dir[PATH_MAX];
    fixtures_dir(dir, sizeof dir);
    DIR *top = opendir(dir);
    if (!top) {
        print_message("fixtures not found at %s: skipped\n", dir);
        skip();
    }
    int count = 0;
    struct dirent *d;
    while ((d = readdir(top))) {
        if (d->d_name[0] == '.') continue;
        char sub[PATH_MAX + 256];
        snprintf(sub, sizeof sub, "%s/%s", dir, d->d_name);
        DIR *sd = opendir(sub);
        if (!sd) continue;
        struct dirent *f;
        while ((f = readdir(sd))) {
            size_t l = strlen(f->d_name);
            if (l < 5 || strcmp(f->d_name + l - 5, ".wasm") != 0) continue;
            char path[2 * PATH_MAX];
            snprintf(path, sizeof path, "%s/%s", sub, f->d_name);
            load_one(path);
            count++;
        }
        closedir(sd);
    }
    closedir(top);
    assert_int_equal(count, 30); /* MANIFEST.md lists 30 guests */
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_every_fixture_instantiates)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
