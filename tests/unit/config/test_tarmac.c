/* test_tarmac.c — unit tests of src/config/tarmac.c: the parser cases of TARMAC.md §8.2 (19–21),
 * relative filepaths, apron's per-function limits and isolation keys, and apron's reports naming
 * file and JSON path for every problem. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"

static ap_config_status parse(const char *text, ap_tarmac **out, ap_buf *problems)
{
    return ap_tarmac_parse(text, strlen(text), "t.json", "/srv/fn", out, problems);
}

static const char *full =
    "{\"services\": {\"test-service\": {\"name\": \"test-service\","
    " \"functions\": {\"default\": {\"filepath\": \"/testdata/default.wasm\", \"pool_size\": 10},"
    "                 \"other\": {\"filepath\": \"rel/other.wasm\"}},"
    " \"routes\": ["
    "  {\"type\": \"init\", \"function\": \"default\", \"retries\": 15, \"frequency\": 50},"
    "  {\"type\": \"init\", \"function\": \"other\"},"
    "  {\"type\": \"http\", \"path\": \"/example\", \"methods\": [\"GET\", \"POST\"],"
    "   \"function\": \"default\"},"
    "  {\"type\": \"scheduled_task\", \"function\": \"default\", \"frequency\": 15},"
    "  {\"Type\": \"function\", \"Function\": \"other\"},"
    "  {\"type\": \"kafka\", \"function\": \"other\", \"topic\": \"t\"}"
    " ]}}}";

static void parses_everything(void **state)
{
    ap_tarmac *t = NULL;
    ap_buf problems = {0};
    assert_int_equal(parse(full, &t, &problems), AP_CONFIG_OK);
    assert_int_equal(t->nservices, 1);
    ap_tarmac_service *s = &t->services[0];
    assert_string_equal(s->name, "test-service");
    assert_int_equal(s->nfunctions, 2);
    assert_string_equal(s->functions[0].name, "default");
    assert_string_equal(s->functions[0].filepath, "/testdata/default.wasm");
    assert_int_equal(s->functions[0].pool_size, 10);
    assert_string_equal(s->functions[1].filepath, "/srv/fn/rel/other.wasm");
    assert_int_equal(s->functions[1].pool_size, 100);
    assert_int_equal(s->nroutes, 6);
    assert_int_equal(s->routes[0].type, AP_ROUTE_INIT);
    assert_int_equal(s->routes[0].retries, 15);
    assert_int_equal(s->routes[0].frequency, 50);
    assert_int_equal(s->routes[1].frequency, 1);
    assert_int_equal(s->routes[2].type, AP_ROUTE_HTTP);
    assert_string_equal(s->routes[2].path, "/example");
    assert_int_equal(s->routes[2].nmethods, 2);
    assert_string_equal(s->routes[2].methods[1], "POST");
    assert_int_equal(s->routes[3].type, AP_ROUTE_SCHEDULED_TASK);
    assert_int_equal(s->routes[3].frequency, 15);
    assert_int_equal(s->routes[4].type, AP_ROUTE_FUNCTION);
    assert_string_equal(s->routes[4].function, "other");
    assert_int_equal(s->routes[5].type, AP_ROUTE_OTHER);
    ap_tarmac_free(t);
    ap_buf_free(&problems);
}

static void expect_problem(const char *text, const char *want)
{
    ap_tarmac *t = NULL;
    ap_buf problems = {0};
    assert_int_equal(parse(text, &t, &problems), AP_CONFIG_INVALID);
    assert_null(t);
    if (!problems.data || !strstr((const char *)problems.data, want)) {
        print_error("wanted \"%s\" in:\n%s\n", want, problems.data ? (char *)problems.data : "");
        fail();
    }
    ap_buf_free(&problems);
}

#define SVC(body) "{\"services\": {\"s\": {\"name\": \"s\", " body "}}}"
#define FN "\"functions\": {\"f\": {\"filepath\": \"f.wasm\"}}, "

static void rejects_tarmac_cases(void **state)
{
    expect_problem("", "not valid JSON");
    expect_problem("{invalid_json", "not valid JSON");
    expect_problem(SVC(FN "\"routes\": [{\"type\": \"scheduled_task\", \"function\": \"f\"}]"),
                   "t.json: services.s.routes[0]: a scheduled_task needs a \"frequency\"");
    expect_problem(SVC(FN "\"routes\": [{\"type\": \"scheduled_task\", \"frequency\": 5}]"),
                   "services.s.routes[0]: \"function\" is missing or empty");
    expect_problem(SVC(FN "\"routes\": [{\"type\": \"init\"}]"), "\"function\" is missing");
    expect_problem(SVC(FN "\"routes\": [{\"type\": \"function\"}]"), "\"function\" is missing");
    expect_problem("{\"services\": {\"s\": {" FN "\"routes\": []}}}",
                   "services.s: \"name\" is missing or empty");
    expect_problem(SVC("\"functions\": {\"f\": {\"pool_size\": 1}}"),
                   "services.s.functions.f: \"filepath\" is missing or empty");
    expect_problem(SVC(FN "\"routes\": [{\"function\": \"f\"}]"), "\"type\" is missing or empty");
    expect_problem(SVC(FN "\"routes\": [{\"type\": \"http\", \"function\": \"f\","
                          " \"methods\": [\"GET\"]}]"),
                   "an http route needs a \"path\"");
    expect_problem(SVC(FN "\"routes\": [{\"type\": \"http\", \"function\": \"f\","
                          " \"path\": \"/x\"}]"),
                   "an http route needs a non-empty \"methods\" array");
    expect_problem(SVC(FN "\"routes\": [{\"type\": \"http\", \"path\": \"/x\","
                          " \"methods\": [\"GET\"]}]"),
                   "\"function\" is missing");
}

static void rejects_apron_cases(void **state)
{
    expect_problem(SVC(FN "\"routes\": [{\"type\": \"http\", \"function\": \"g\","
                          " \"path\": \"/x\", \"methods\": [\"GET\"]}]"),
                   "function \"g\" is not defined in any service");
    expect_problem(SVC(FN "\"routes\": [{\"type\": \"http\", \"function\": \"f\","
                          " \"path\": \"x\", \"methods\": [\"GET\"]}]"),
                   "\"path\" must start with '/'");
    expect_problem(SVC(FN "\"routes\": [{\"type\": \"http\", \"function\": \"f\","
                          " \"path\": \"/x\", \"methods\": [\"GET\"]},"
                          " {\"type\": \"http\", \"function\": \"f\","
                          " \"path\": \"/x\", \"methods\": [\"POST\", \"GET\"]}]"),
                   "services.s.routes[1]: GET /x is already routed (services.s.routes[0])");
    expect_problem(SVC(FN "\"routes\": [{\"type\": \"function\", \"function\": \"f\"},"
                          " {\"type\": \"function\", \"function\": \"f\"}]"),
                   "function \"f\" is already callable");
    expect_problem(SVC(FN "\"routes\": [{\"type\": \"http\", \"function\": \"f\","
                          " \"path\": \"/health\", \"methods\": [\"GET\"]}]"),
                   "\"/health\" is served by apron itself");
    expect_problem(SVC("\"functions\": {\"f\": {\"filepath\": \"a\", \"pool_size\": \"10\"}}"),
                   "\"pool_size\" must be an integer, not a string");
    expect_problem("{\"services\": {\"a\": {\"name\": \"a\", " FN "\"routes\": []},"
                   " \"b\": {\"name\": \"b\", " FN "\"routes\": []}}}",
                   "services.b.functions.f: function \"f\" is already defined in service \"a\"");
    expect_problem("[]", "t.json: $: the file must hold a JSON object, not an array");
}

/* apron's limits and isolation (docs/isolation.md): kept where given, 0 and DEFAULT where not (the
 * server's settings decide later); keys match case-insensitively like Tarmac's, null is absent. */
static void parses_limits_and_isolation(void **state)
{
    ap_tarmac *t = NULL;
    ap_buf problems = {0};
    assert_int_equal(
        parse(SVC("\"functions\": {"
                  "\"a\": {\"filepath\": \"a.wasm\", \"timeout_ms\": 250, \"max_memory_pages\": 40,"
                  " \"max_call_depth\": 2000, \"max_host_payload\": 4096, \"isolation\": \"request\"},"
                  "\"b\": {\"filepath\": \"b.wasm\", \"Isolation\": \"pool\", \"Timeout_MS\": 99},"
                  "\"c\": {\"filepath\": \"c.wasm\", \"isolation\": null}}"),
              &t, &problems),
        AP_CONFIG_OK);
    assert_int_equal(t->services[0].nfunctions, 3);
    const ap_tarmac_function *f = t->services[0].functions;
    assert_int_equal(f[0].timeout_ms, 250);
    assert_int_equal(f[0].max_memory_pages, 40);
    assert_int_equal(f[0].max_call_depth, 2000);
    assert_int_equal(f[0].max_host_payload, 4096);
    assert_int_equal(f[0].isolation, AP_TARMAC_ISOLATION_REQUEST);
    assert_int_equal(f[1].isolation, AP_TARMAC_ISOLATION_POOL);
    assert_int_equal(f[1].timeout_ms, 99);
    assert_int_equal(f[2].isolation, AP_TARMAC_ISOLATION_DEFAULT);
    assert_int_equal(f[2].timeout_ms, 0);
    assert_int_equal(f[2].max_memory_pages, 0);
    ap_tarmac_free(t);
    ap_buf_free(&problems);
}

#define FN_WITH(keys) "\"functions\": {\"f\": {\"filepath\": \"f.wasm\", " keys "}}"

/* Anything but "pool" or "request" rejects the file, naming it, the function and the value; so
 * do limits out of range or of the wrong type. */
static void rejects_bad_isolation_and_limits(void **state)
{
    expect_problem(SVC(FN_WITH("\"isolation\": \"bogus\"")),
                   "t.json: services.s.functions.f: \"isolation\" must be \"pool\" or "
                   "\"request\", not \"bogus\"");
    expect_problem(SVC(FN_WITH("\"ISOLATION\": \"bogus\"")),
                   "services.s.functions.f: \"isolation\" must be \"pool\" or \"request\", not "
                   "\"bogus\"");
    expect_problem(SVC(FN_WITH("\"isolation\": \"Request\"")), "not \"Request\"");
    expect_problem(SVC(FN_WITH("\"isolation\": \"\"")), "not \"\"");
    expect_problem(SVC(FN_WITH("\"isolation\": 1")),
                   "services.s.functions.f: \"isolation\" must be a string, not an integer");
    expect_problem(SVC(FN_WITH("\"isolation\": [\"request\"]")),
                   "\"isolation\" must be a string, not an array");
    expect_problem(SVC(FN_WITH("\"timeout_ms\": -1")),
                   "services.s.functions.f: \"timeout_ms\" must be between 1 and");
    expect_problem(SVC(FN_WITH("\"timeout_ms\": \"500\"")),
                   "\"timeout_ms\" must be an integer, not a string");
    expect_problem(SVC(FN_WITH("\"max_memory_pages\": 65537")),
                   "\"max_memory_pages\" must be between 1 and 65536");
    /* the problem is the file's: a valid sibling does not rescue it, and it is reported once */
    ap_tarmac *t = NULL;
    ap_buf problems = {0};
    assert_int_equal(parse(SVC("\"functions\": {\"ok\": {\"filepath\": \"a.wasm\","
                               " \"isolation\": \"request\"},"
                               " \"f\": {\"filepath\": \"f.wasm\", \"isolation\": \"bogus\"}}"),
                           &t, &problems),
                     AP_CONFIG_INVALID);
    assert_null(t);
    assert_non_null(problems.data);
    assert_int_equal(problems.data[problems.len - 1], '\n');
    size_t lines = 0;
    for (size_t i = 0; i < problems.len; i++)
        lines += problems.data[i] == '\n';
    assert_int_equal(lines, 1);
    assert_null(strstr((const char *)problems.data, "functions.ok"));
    ap_buf_free(&problems);
}

static void reports_every_problem(void **state)
{
    ap_tarmac *t = NULL;
    ap_buf problems = {0};
    assert_int_equal(parse("{\"services\": {\"s\": {\"functions\": {\"f\": {}},"
                           " \"routes\": [{\"type\": \"http\"}, 7]}}}",
                           &t, &problems),
                     AP_CONFIG_INVALID);
    int lines = 0;
    for (size_t i = 0; i < problems.len; i++)
        lines += problems.data[i] == '\n';
    /* name, filepath, route 0: function, path, methods; route 1: not an object */
    assert_int_equal(lines, 6);
    ap_buf_free(&problems);
}

static void minimal_and_empty(void **state)
{
    ap_tarmac *t = NULL;
    assert_int_equal(parse(SVC(FN "\"routes\": [{\"type\": \"http\", \"function\": \"f\","
                                  " \"path\": \"/x\", \"methods\": [\"GET\"]}]"),
                           &t, NULL),
                     AP_CONFIG_OK);
    ap_tarmac_free(t);
    t = NULL;
    assert_int_equal(parse("{}", &t, NULL), AP_CONFIG_OK);
    assert_int_equal(t->nservices, 0);
    ap_tarmac_free(t);
}

static void load_file(void **state)
{
    char dir[] = "/tmp/apron-tarmac-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/tarmac.json", dir);
    FILE *f = fopen(path, "w");
    fputs(SVC("\"functions\": {\"f\": {\"filepath\": \"hello.wasm\"}}"), f);
    fclose(f);
    ap_tarmac *t = NULL;
    assert_int_equal(ap_tarmac_load(path, &t, NULL), AP_CONFIG_OK);
    char want[160];
    snprintf(want, sizeof want, "%s/hello.wasm", dir);
    assert_string_equal(t->services[0].functions[0].filepath, want);
    assert_string_equal(t->path, path);
    ap_tarmac_free(t);
    unlink(path);
    rmdir(dir);
    assert_int_equal(ap_tarmac_load(path, &t, NULL), AP_CONFIG_NOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_everything),    cmocka_unit_test(rejects_tarmac_cases),
        cmocka_unit_test(rejects_apron_cases),  cmocka_unit_test(reports_every_problem),
        cmocka_unit_test(minimal_and_empty),    cmocka_unit_test(load_file),
        cmocka_unit_test(parses_limits_and_isolation),
        cmocka_unit_test(rejects_bad_isolation_and_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
