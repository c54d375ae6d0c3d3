/* test_settings.c — unit tests of src/config/settings.c: defaults of TARMAC.md §8.2 case 1,
 * environment typing, the config file, and the errors naming the key. */
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

static void defaults(void **state)
{
    ap_settings s;
    assert_int_equal(ap_settings_defaults(&s), AP_CONFIG_OK);
    assert_true(s.enable_tls);
    assert_string_equal(s.listen_addr, "0.0.0.0:8443");
    assert_string_equal(s.cert_file, "/certs/cert.crt");
    assert_string_equal(s.key_file, "/certs/key.key");
    assert_int_equal(s.config_watch_interval, 15);
    assert_string_equal(s.wasm_function, "/functions/tarmac.wasm");
    assert_string_equal(s.wasm_function_config, "/functions/tarmac.json");
    assert_string_equal(s.kvstore_type, "internal");
    assert_string_equal(s.boltdb_filename, "/data/tarmac/tarmac.db");
    assert_string_equal(s.boltdb_bucket, "tarmac");
    assert_int_equal(s.boltdb_permissions, 0600);
    assert_int_equal(s.boltdb_timeout, 5);
    assert_string_equal(s.nats_url, "nats://localhost:4222");
    assert_string_equal(s.nats_bucket, "tarmac");
    assert_string_equal(s.grpc_socket_path, "/grpc.sock");
    assert_string_equal(s.run_mode, "daemon");
    assert_false(s.text_log_format);
    assert_int_equal(s.http_client_max_response_body_size, 10485760);
    assert_int_equal(s.max_request_body_size, 10485760);
    assert_int_equal(s.redis_sentinel_servers.n, 0);
    ap_settings_free(&s);
}

static void environment(void **state)
{
    ap_settings s;
    ap_buf problems = {0};
    assert_int_equal(ap_settings_defaults(&s), AP_CONFIG_OK);
    char *env[] = {"HOME=/root",
                   "APP_ENABLE_TLS=F",
                   "APP_LISTEN_ADDR=127.0.0.1:9000",
                   "APP_WASM_POOL_SIZE=0x10",
                   "APP_BOLTDB_PERMISSIONS=0644",
                   "APP_CERT_FILE=",
                   "APP_REDIS_SENTINEL_SERVERS= a:1  b:2 ",
                   "APP_DEBUG=1",
                   NULL};
    assert_int_equal(ap_settings_load_env(&s, env, &problems), AP_CONFIG_OK);
    assert_int_equal(problems.len, 0);
    assert_false(s.enable_tls);
    assert_true(s.debug);
    assert_string_equal(s.listen_addr, "127.0.0.1:9000");
    assert_int_equal(s.wasm_pool_size, 16);
    assert_int_equal(s.boltdb_permissions, 0644);
    assert_string_equal(s.cert_file, "");
    assert_int_equal(s.redis_sentinel_servers.n, 2);
    assert_string_equal(s.redis_sentinel_servers.v[1], "b:2");
    ap_settings_free(&s);
    ap_buf_free(&problems);
}

static void environment_errors(void **state)
{
    ap_settings s;
    ap_buf problems = {0};
    assert_int_equal(ap_settings_defaults(&s), AP_CONFIG_OK);
    char *env[] = {"APP_ENABLE_TLS=yes", "APP_WASM_POOL_SIZE=ten", "APP_NO_SUCH_KEY=1",
                   "APP_LISTEN_ADDR=x:1", NULL};
    assert_int_equal(ap_settings_load_env(&s, env, &problems), AP_CONFIG_INVALID);
    const char *text = (const char *)problems.data;
    assert_non_null(strstr(text, "APP_ENABLE_TLS: enable_tls \"yes\" is not a boolean"));
    assert_non_null(strstr(text, "wasm_pool_size \"ten\" is not an integer"));
    assert_non_null(strstr(text, "unknown setting \"no_such_key\""));
    assert_true(s.enable_tls); /* unchanged */
    ap_settings_free(&s);
    ap_buf_free(&problems);
}

static char *write_temp(const char *text)
{
    char *path = strdup("/tmp/apron-settings-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void config_file(void **state)
{
    ap_settings s;
    ap_buf problems = {0};
    assert_int_equal(ap_settings_defaults(&s), AP_CONFIG_OK);
    char *path = write_temp("{\"enable_tls\": false, \"Listen_Addr\": \"127.0.0.1:1\","
                            " \"wasm_pool_size\": 7, \"debug\": \"true\","
                            " \"nats_servers\": [\"n1\", \"n2\"]}");
    assert_int_equal(ap_settings_load_file(&s, path, &problems), AP_CONFIG_OK);
    assert_false(s.enable_tls);
    assert_true(s.debug);
    assert_string_equal(s.listen_addr, "127.0.0.1:1");
    assert_int_equal(s.wasm_pool_size, 7);
    assert_int_equal(s.nats_servers.n, 2);
    assert_string_equal(s.config_file, path);
    unlink(path);
    free(path);
    ap_settings_free(&s);
    ap_buf_free(&problems);
}

static void config_file_errors(void **state)
{
    ap_settings s;
    ap_buf problems = {0};
    assert_int_equal(ap_settings_defaults(&s), AP_CONFIG_OK);
    char *path = write_temp("{\"enable_tls\": 3, \"listen_addr\": [1], \"bogus\": 1,"
                            " \"wasm_pool_size\": 1.5, \"nats_servers\": [1]}");
    assert_int_equal(ap_settings_load_file(&s, path, &problems), AP_CONFIG_INVALID);
    const char *text = (const char *)problems.data;
    assert_non_null(strstr(text, "enable_tls must be a boolean, not an integer"));
    assert_non_null(strstr(text, "listen_addr must be a string, not an array"));
    assert_non_null(strstr(text, "unknown setting \"bogus\""));
    assert_non_null(strstr(text, "wasm_pool_size must be an integer, not a number"));
    assert_non_null(strstr(text, "nats_servers[0] must be a string"));
    unlink(path);
    free(path);
    ap_buf_reset(&problems);

    path = write_temp("{\"enable_tls\": ");
    assert_int_equal(ap_settings_load_file(&s, path, &problems), AP_CONFIG_INVALID);
    assert_non_null(strstr((const char *)problems.data, "not valid JSON"));
    unlink(path);
    free(path);
    assert_int_equal(ap_settings_load_file(&s, "/nonexistent/apron.json", NULL),
                     AP_CONFIG_NOTFOUND);
    ap_settings_free(&s);
    ap_buf_free(&problems);
}

static void set_override(void **state)
{
    ap_settings s;
    ap_errbuf e;
    assert_int_equal(ap_settings_defaults(&s), AP_CONFIG_OK);
    assert_int_equal(ap_settings_set(&s, "listen_addr", "127.0.0.1:0", "--listen", &e),
                     AP_CONFIG_OK);
    assert_string_equal(s.listen_addr, "127.0.0.1:0");
    assert_int_equal(ap_settings_set(&s, "enable_tls", "maybe", "--tls", &e), AP_CONFIG_INVALID);
    assert_string_equal(e.msg, "--tls: enable_tls \"maybe\" is not a boolean (true/false, 1/0, t/f)");
    ap_buf out = {0};
    assert_true(ap_settings_dump(&s, &out));
    assert_non_null(strstr((const char *)out.data, "listen_addr=127.0.0.1:0\n"));
    ap_buf_free(&out);
    ap_settings_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),    cmocka_unit_test(environment),
        cmocka_unit_test(environment_errors), cmocka_unit_test(config_file),
        cmocka_unit_test(config_file_errors), cmocka_unit_test(set_override),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
