/* test_log.c — unit tests of src/base/log.c: JSON and text records, escaping of CR/LF, level
 * gating, "off", and one whole line per record from many threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/log.h"

static char *read_all(FILE *f)
{
    fflush(f);
    long n = ftell(f);
    char *s = calloc(1, (size_t)n + 1);
    rewind(f);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    rewind(f);
    return s;
}

static void json_record(void **state)
{
    FILE *f = tmpfile();
    ap_log_setup(AP_LOG_INFO, false, f);
    AP_LOG(AP_LOG_INFO, "Starting HTTP Listener", AP_LSTR("address", "1.2.3.4:5"),
           AP_LINT("n", -3), AP_LBOOL("tls", true), AP_LSTR("path", "/a\r\nb\"c"));
    AP_LOG(AP_LOG_DEBUG, "hidden");
    char *s = read_all(f);
    assert_int_equal(strchr(s, '\n') - s + 1, (ptrdiff_t)strlen(s)); /* one line */
    json_error_t je;
    json_t *j = json_loads(s, 0, &je);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "level")), "INFO");
    assert_string_equal(json_string_value(json_object_get(j, "msg")), "Starting HTTP Listener");
    assert_string_equal(json_string_value(json_object_get(j, "address")), "1.2.3.4:5");
    assert_int_equal(json_integer_value(json_object_get(j, "n")), -3);
    assert_true(json_is_true(json_object_get(j, "tls")));
    assert_string_equal(json_string_value(json_object_get(j, "path")), "/a\r\nb\"c");
    const char *t = json_string_value(json_object_get(j, "time"));
    assert_int_equal(strlen(t), strlen("2024-01-02T03:04:05.123456789Z"));
    json_decref(j);
    free(s);
    fclose(f);
}

static void text_record(void **state)
{
    FILE *f = tmpfile();
    ap_log_setup(AP_LOG_DEBUG, true, f);
    AP_LOG(AP_LOG_DEBUG, "HTTP Request complete", AP_LSTR("path", "/x y"), AP_LSTR("m", "GET"));
    AP_LOG(AP_LOG_TRACE, "hidden");
    char *s = read_all(f);
    assert_non_null(strstr(s, " level=DEBUG msg=\"HTTP Request complete\" path=\"/x y\" m=GET\n"));
    assert_null(strstr(s, "hidden"));
    assert_int_equal(strncmp(s, "time=", 5), 0);
    free(s);
    fclose(f);
}

static void levels(void **state)
{
    assert_int_equal(ap_log_level_from(false, false, false), AP_LOG_INFO);
    assert_int_equal(ap_log_level_from(true, false, false), AP_LOG_DEBUG);
    assert_int_equal(ap_log_level_from(true, true, false), AP_LOG_TRACE);
    assert_int_equal(ap_log_level_from(true, true, true), AP_LOG_OFF);
    ap_log_setup(AP_LOG_OFF, false, stderr);
    assert_false(ap_log_enabled(AP_LOG_ERROR));
    ap_log_set_level(AP_LOG_WARN);
    assert_true(ap_log_enabled(AP_LOG_ERROR));
    assert_false(ap_log_enabled(AP_LOG_INFO));
}

static void *spam(void *arg)
{
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    for (int i = 0; i < 200; i++)
        AP_LOG(AP_LOG_INFO, "spam", AP_LSTR("big", big), AP_LINT("i", i));
    return arg;
}

static void threads(void **state)
{
    FILE *f = tmpfile();
    ap_log_setup(AP_LOG_INFO, false, f);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, spam, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    char *s = read_all(f);
    int lines = 0;
    for (char *p = s, *nl; (nl = strchr(p, '\n')); p = nl + 1, lines++) {
        *nl = '\0';
        json_t *j = json_loads(p, 0, NULL);
        assert_non_null(j);
        json_decref(j);
    }
    assert_int_equal(lines, 800);
    free(s);
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_record),
        cmocka_unit_test(text_record),
        cmocka_unit_test(levels),
        cmocka_unit_test(threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
