/* test_sdk_json.c — unit tests of the C guest SDK (sdk/c/apron.c) compiled natively: the JSON
 * writer and reader, base64, the operation registry, and each capability helper's request bytes
 * and reply parsing against TARMAC.md §4, with a mock host behind apron_native_host_call.
 * Malformed replies must give an error status, never a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../../sdk/c/apron.c"

/* ---- The mock host ---- */

static struct {
    char binding[64], ns[64], op[64];
    apron_buf payload; /* what the guest sent */
    int calls;
    int ok;             /* what to answer */
    const char *data;   /* response bytes (NUL-terminated unless data_len is set) */
    size_t data_len;
    const char *error;
} host;

static int mock_host(const char *bd, const char *ns, const char *op, const uint8_t *payload,
                     size_t len, apron_reply *r)
{
    host.calls++;
    snprintf(host.binding, sizeof host.binding, "%s", bd);
    snprintf(host.ns, sizeof host.ns, "%s", ns);
    snprintf(host.op, sizeof host.op, "%s", op);
    apron_buf_reset(&host.payload);
    apron_buf_append(&host.payload, payload, len);
    if (host.data)
        apron_buf_append(&r->data, host.data, host.data_len ? host.data_len : strlen(host.data));
    if (host.error) apron_buf_puts(&r->error, host.error);
    return host.ok;
}

static void answer(int ok, const char *data, const char *error)
{
    host.ok = ok;
    host.data = data;
    host.data_len = 0;
    host.error = error;
}

static int setup(void **state)
{
    apron_buf_free(&host.payload);
    memset(&host, 0, sizeof host);
    apron_native_host_call = mock_host;
    apron_set_binding(NULL);
    return 0;
}

static int teardown(void **state)
{
    apron_buf_free(&host.payload);
    return 0;
}

#define SENT() apron_buf_cstr(&host.payload)

static void expect_call(const char *ns, const char *op, const char *payload)
{
    assert_string_equal(host.binding, "tarmac");
    assert_string_equal(host.ns, ns);
    assert_string_equal(host.op, op);
    assert_string_equal(SENT(), payload);
}

/* ---- JSON writer ---- */

static void expect_json_string(const char *in, size_t n, const char *want)
{
    apron_buf b = APRON_BUF_INIT;
    assert_int_equal(apron_json_put_string(&b, in, n), APRON_OK);
    assert_string_equal(apron_buf_cstr(&b), want);
    apron_buf_free(&b);
}

static void test_json_escape(void **state)
{
    expect_json_string("plain", 5, "\"plain\"");
    expect_json_string("", 0, "\"\"");
    expect_json_string("a\"b\\c/d", 7, "\"a\\\"b\\\\c/d\"");
    expect_json_string("\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\"");
    expect_json_string("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\x7f\"");
    expect_json_string("<a>&", 4, "\"\\u003ca\\u003e\\u0026\"");
    expect_json_string("nul\0in", 6, "\"nul\\u0000in\"");
    /* valid UTF-8 passes through; U+2028/U+2029 are escaped */
    expect_json_string("h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 12,
                       "\"h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    expect_json_string("\xe2\x80\xa8\xe2\x80\xa9", 6, "\"\\u2028\\u2029\"");
    /* invalid UTF-8: each bad byte becomes \ufffd (stray continuation, overlong, surrogate,
     * truncated sequence, past U+10FFFF) */
    expect_json_string("\x80", 1, "\"\\ufffd\"");
    expect_json_string("\xc0\xaf", 2, "\"\\ufffd\\ufffd\"");
    expect_json_string("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"");
    expect_json_string("a\xe2\x82", 3, "\"a\\ufffd\\ufffd\"");
    expect_json_string("\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
}

/* ---- JSON reader ---- */

static int read_string(const char *json, apron_buf *out)
{
    apron_json j;
    apron_json_init(&j, json, strlen(json));
    if (apron_json_string(&j, out) != 0) return -1;
    return apron_json_finish(&j);
}

static void test_json_read_strings(void **state)
{
    apron_buf s = APRON_BUF_INIT;
    assert_int_equal(read_string("\"abc\"", &s), 0);
    assert_string_equal(apron_buf_cstr(&s), "abc");
    assert_int_equal(read_string(" \"\" ", &s), 0);
    assert_int_equal(s.len, 0);
    assert_int_equal(read_string("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", &s), 0);
    assert_string_equal(apron_buf_cstr(&s), "\"\\/\b\f\n\r\t");
    assert_int_equal(read_string("\"\\u00e9\\u20AC\\ud83d\\ude00\"", &s), 0);
    assert_string_equal(apron_buf_cstr(&s), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    assert_int_equal(read_string("\"\\u0000\"", &s), 0);
    assert_int_equal(s.len, 1);
    assert_int_equal(s.ptr[0], 0);
    /* lone surrogates and invalid raw UTF-8 decode to U+FFFD, as in Go */
    assert_int_equal(read_string("\"\\ud800x\\udc00\"", &s), 0);
    assert_string_equal(apron_buf_cstr(&s), "\xef\xbf\xbdx\xef\xbf\xbd");
    assert_int_equal(read_string("\"\xff\"", &s), 0);
    assert_string_equal(apron_buf_cstr(&s), "\xef\xbf\xbd");
    /* malformed */
    const char *bad[] = {"\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"", "\"a\nb\"", "abc",
                         "\"a\" x", "\"\\", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(read_string(bad[i], &s), -1);
    apron_buf_free(&s);
}

static void test_json_read_numbers(void **state)
{
    struct {
        const char *in;
        int ok;
        int64_t want;
    } ints[] = {
        {"0", 1, 0}, {"-0", 1, 0}, {"200", 1, 200}, {"-17", 1, -17},
        {"9223372036854775807", 1, INT64_MAX}, {"-9223372036854775808", 1, INT64_MIN},
        {"9223372036854775808", 0, 0}, {"01", 0, 0}, {"1.5", 0, 0}, {"1e3", 0, 0}, {"-", 0, 0},
        {"+1", 0, 0}, {"", 0, 0},
    };
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
        apron_json j;
        int64_t v = 0;
        apron_json_init(&j, ints[i].in, strlen(ints[i].in));
        int r = apron_json_int(&j, &v) == 0 && apron_json_finish(&j) == 0;
        assert_int_equal(r, ints[i].ok);
        if (r) assert_true(v == ints[i].want);
    }
    apron_json j;
    double d = 0;
    apron_json_init(&j, "-1.25e2", 7);
    assert_int_equal(apron_json_double(&j, &d), 0);
    assert_true(d == -125.0);
    apron_json_init(&j, "1.", 2);
    assert_int_equal(apron_json_double(&j, &d), -1);
    apron_json_init(&j, "1e400", 5);
    assert_int_equal(apron_json_double(&j, &d), -1);
}

static void test_json_read_structure(void **state)
{
    const char *doc = " {\"a\": [1, true, null, \"x\", {\"b\": []}], \"c\": false} ";
    apron_json j;
    apron_buf key = APRON_BUF_INIT;
    int b = 1;
    apron_json_init(&j, doc, strlen(doc));
    assert_int_equal(apron_json_peek(&j), APRON_JSON_OBJECT);
    assert_int_equal(apron_json_begin_object(&j), 0);
    assert_int_equal(apron_json_next_member(&j, &key), 1);
    assert_string_equal(apron_buf_cstr(&key), "a");
    assert_int_equal(apron_json_skip(&j), 0);
    assert_int_equal(apron_json_next_member(&j, &key), 1);
    assert_string_equal(apron_buf_cstr(&key), "c");
    assert_int_equal(apron_json_bool(&j, &b), 0);
    assert_int_equal(b, 0);
    assert_int_equal(apron_json_next_member(&j, &key), 0);
    assert_int_equal(apron_json_finish(&j), 0);

    const char *bad[] = {"{", "{,}", "{\"a\":1,}", "{\"a\" 1}", "{\"a\":1 \"b\":2}", "[1,]",
                         "[,1]", "[1 2]", "{1:2}", "[tru]", "[nul]", "{\"a\":}", "]", "{}}",
                         "[1}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        apron_json_init(&j, bad[i], strlen(bad[i]));
        int r = apron_json_skip(&j);
        if (r == 0) r = apron_json_finish(&j);
        assert_int_equal(r, -1);
        /* the error sticks */
        assert_int_equal(apron_json_peek(&j), APRON_JSON_NONE);
    }

    /* nesting deeper than APRON_JSON_MAX_DEPTH is an error, not a stack overflow */
    char deep[2 * 100 + 1];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    deep[200] = 0;
    apron_json_init(&j, deep, 200);
    assert_int_equal(apron_json_skip(&j), -1);
    memset(deep, '[', 64);
    memset(deep + 64, ']', 64);
    apron_json_init(&j, deep, 128);
    assert_int_equal(apron_json_skip(&j), 0);
    assert_int_equal(apron_json_finish(&j), 0);
    apron_buf_free(&key);
}

/* ---- base64 ---- */

static void test_base64(void **state)
{
    static const struct {
        const char *raw, *b64;
    } v[] = {{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="},
             {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
             {"Because I'm Happy", "QmVjYXVzZSBJJ20gSGFwcHk="}};
    apron_buf b = APRON_BUF_INIT;
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        apron_buf_reset(&b);
        assert_int_equal(apron_base64_encode(&b, v[i].raw, strlen(v[i].raw)), APRON_OK);
        assert_string_equal(apron_buf_cstr(&b), v[i].b64);
        apron_buf_reset(&b);
        assert_int_equal(apron_base64_decode(&b, v[i].b64, strlen(v[i].b64)), APRON_OK);
        assert_int_equal(b.len, strlen(v[i].raw));
        assert_memory_equal(apron_buf_cstr(&b), v[i].raw, b.len);
    }
    /* all byte values round-trip */
    uint8_t all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    apron_buf enc = APRON_BUF_INIT;
    apron_buf_reset(&b);
    assert_int_equal(apron_base64_encode(&enc, all, sizeof all), APRON_OK);
    assert_int_equal(apron_base64_decode(&b, (const char *)enc.ptr, enc.len), APRON_OK);
    assert_int_equal(b.len, 256);
    assert_memory_equal(b.ptr, all, 256);
    /* CR/LF are ignored */
    apron_buf_reset(&b);
    assert_int_equal(apron_base64_decode(&b, "Zm9v\r\nYmFy\n", 11), APRON_OK);
    assert_string_equal(apron_buf_cstr(&b), "foobar");
    /* malformed: output untouched */
    const char *bad[] = {"Zg", "Zg=", "Z===", "Zg==Zg==", "Zm9=v", "Zm 9v", "not base64",
                         "Zm9v!", "=Zm9", "Zg=a"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        apron_buf_reset(&b);
        apron_buf_puts(&b, "keep");
        assert_int_equal(apron_base64_decode(&b, bad[i], strlen(bad[i])), APRON_ERR_INVALID);
        assert_string_equal(apron_buf_cstr(&b), "keep");
    }
    apron_buf_free(&enc);
    apron_buf_free(&b);
}

/* ---- Registry ---- */

static apron_status op_hello(const uint8_t *p, size_t n, apron_buf *out)
{
    assert_int_equal(p[n], 0);
    return apron_buf_printf(out, "Hello, %s", (const char *)p);
}

static apron_status op_fail(const uint8_t *p, size_t n, apron_buf *out)
{
    return apron_fail(out, "failed on %zu bytes", n);
}

static apron_status op_silent_fail(const uint8_t *p, size_t n, apron_buf *out)
{
    return APRON_ERR_FAILED;
}

static int init_runs;

void apron_init(void)
{
    init_runs++;
    apron_register("hello", op_hello);
    apron_register("fail", op_fail);
    apron_register("silent", op_silent_fail);
}

static void test_dispatch(void **state)
{
    apron_buf out = APRON_BUF_INIT;
    assert_int_equal(apron_dispatch("hello", 5, (const uint8_t *)"world", 5, &out), APRON_OK);
    assert_string_equal(apron_buf_cstr(&out), "Hello, world");
    assert_int_equal(init_runs, 1);
    apron_buf_reset(&out);
    assert_int_equal(apron_dispatch("fail", 4, (const uint8_t *)"xy", 2, &out), APRON_ERR_FAILED);
    assert_string_equal(apron_buf_cstr(&out), "failed on 2 bytes");
    apron_buf_reset(&out);
    assert_int_equal(apron_dispatch("silent", 6, NULL, 0, &out), APRON_ERR_FAILED);
    assert_string_equal(apron_buf_cstr(&out), "operation \"silent\" failed");
    apron_buf_reset(&out);
    /* names compare by length: "hell" and "hello\0x" are not "hello" */
    assert_int_equal(apron_dispatch("hell", 4, NULL, 0, &out), APRON_ERR_FAILED);
    assert_string_equal(apron_buf_cstr(&out), "Could not find function \"hell\"");
    apron_buf_reset(&out);
    assert_int_equal(apron_dispatch("hello\0x", 7, NULL, 0, &out), APRON_ERR_FAILED);
    assert_int_equal(init_runs, 1);
    assert_int_equal(apron_register("", op_hello), APRON_ERR_INVALID);
    assert_int_equal(apron_register("x", NULL), APRON_ERR_INVALID);
    apron_buf_free(&out);
}

/* ---- Raw host calls ---- */

static void test_host_call(void **state)
{
    apron_reply r = {APRON_BUF_INIT, APRON_BUF_INIT};
    answer(1, "pong", NULL);
    assert_int_equal(apron_host_call("b", "n", "o", "ping", 4, &r), APRON_OK);
    assert_string_equal(host.binding, "b");
    assert_string_equal(SENT(), "ping");
    assert_string_equal(apron_buf_cstr(&r.data), "pong");
    answer(0, "partial", "boom");
    assert_int_equal(apron_host_call("b", "n", "o", NULL, 0, &r), APRON_ERR_HOST);
    assert_string_equal(apron_buf_cstr(&r.data), "partial");
    assert_string_equal(apron_buf_cstr(&r.error), "boom");
    answer(0, NULL, NULL);
    assert_int_equal(apron_host_call("b", "n", "o", NULL, 0, &r), APRON_ERR_HOST);
    assert_int_equal(r.data.len, 0);
    assert_string_equal(apron_buf_cstr(&r.error), "host call failed");
    apron_native_host_call = NULL;
    assert_int_equal(apron_host_call("b", "n", "o", NULL, 0, &r), APRON_ERR_HOST);
    apron_reply_free(&r);
}

/* ---- logger ---- */

static void test_logger(void **state)
{
    answer(1, NULL, NULL);
    static const struct {
        apron_status (*fn)(const char *);
        const char *op;
    } levels[] = {{apron_log_error, "error"}, {apron_log_warn, "warn"}, {apron_log_info, "info"},
                  {apron_log_debug, "debug"}, {apron_log_trace, "trace"}};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(levels[i].fn("raw \"text\" <é>"), APRON_OK);
        expect_call("logger", levels[i].op, "raw \"text\" <é>"); /* raw bytes, no JSON */
    }
    assert_int_equal(apron_logf(APRON_LOG_INFO, "n=%d", 42), APRON_OK);
    expect_call("logger", "info", "n=42");
    apron_set_binding("default");
    assert_int_equal(apron_log_info("x"), APRON_OK);
    assert_string_equal(host.binding, "default");
}

/* ---- kvstore ---- */

static void test_kv_get(void **state)
{
    apron_buf v = APRON_BUF_INIT;
    apron_error e = {0, ""};
    answer(1, "{\"status\":{\"code\":200,\"status\":\"OK\"},\"data\":\"QmVjYXVzZSBJJ20gSGFwcHk=\"}",
           NULL);
    assert_int_equal(apron_kv_get("my \"key\"", &v, &e), APRON_OK);
    expect_call("kvstore", "get", "{\"key\":\"my \\\"key\\\"\"}");
    assert_string_equal(apron_buf_cstr(&v), "Because I'm Happy");

    /* empty value: "" or a missing data member */
    answer(1, "{\"status\":{\"code\":200,\"status\":\"OK\"},\"data\":\"\"}", NULL);
    assert_int_equal(apron_kv_get("k", &v, &e), APRON_OK);
    assert_int_equal(v.len, 0);

    /* miss: the host fails with 404 and still encodes the status */
    apron_buf_puts(&v, "old");
    answer(0, "{\"status\":{\"code\":404,\"status\":\"Unable to fetch key k - nil value returned "
              "from database\"},\"data\":\"\"}",
           "Unable to fetch key k - nil value returned from database");
    assert_int_equal(apron_kv_get("k", &v, &e), APRON_ERR_HOST);
    assert_int_equal(e.code, 404);
    assert_string_equal(e.msg, "Unable to fetch key k - nil value returned from database");
    assert_string_equal(apron_buf_cstr(&v), "old"); /* untouched */

    /* local validation: no host call */
    host.calls = 0;
    assert_int_equal(apron_kv_get("", &v, &e), APRON_ERR_INVALID);
    assert_string_equal(e.msg, "key cannot be empty");
    assert_int_equal(host.calls, 0);

    /* malformed replies */
    const char *bad[] = {"", "{", "not json", "{\"status\":{\"code\":200},\"data\":\"!!!\"}",
                         "{\"status\":{\"code\":\"200\"}}", "{\"status\":200}",
                         "{\"status\":{\"code\":200},\"data\":5}", "[]", "{} x",
                         "{\"status\":{\"code\":99999999999}}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        answer(1, bad[i], NULL);
        e.code = -1;
        assert_int_equal(apron_kv_get("k", &v, &e), APRON_ERR_REPLY);
        assert_string_equal(apron_buf_cstr(&v), "old");
    }
    /* success without status 200 */
    answer(1, "{\"data\":\"eA==\"}", NULL);
    assert_int_equal(apron_kv_get("k", &v, &e), APRON_ERR_REPLY);
    answer(1, "null", NULL);
    assert_int_equal(apron_kv_get("k", &v, &e), APRON_ERR_REPLY);
    /* keys match case-insensitively, unknown members are skipped, last duplicate wins */
    answer(1, "{\"extra\":[1,{\"a\":null}],\"Status\":{\"Code\":200},\"DATA\":\"eA==\","
              "\"data\":\"eQ==\"}",
           NULL);
    assert_int_equal(apron_kv_get("k", &v, &e), APRON_OK);
    assert_string_equal(apron_buf_cstr(&v), "y");
    /* a reply with embedded NUL bytes is not valid JSON */
    host.data = "{\"status\":{\"code\":200}}\0";
    host.data_len = 25;
    assert_int_equal(apron_kv_get("k", &v, &e), APRON_ERR_REPLY);
    apron_buf_free(&v);
}

static void test_kv_set_delete_keys(void **state)
{
    apron_error e = {0, ""};
    answer(1, "{\"status\":{\"code\":200,\"status\":\"OK\"}}", NULL);
    assert_int_equal(apron_kv_set("testing-happy", "Because I'm Happy", 17, &e), APRON_OK);
    expect_call("kvstore", "set",
                "{\"key\":\"testing-happy\",\"data\":\"QmVjYXVzZSBJJ20gSGFwcHk=\"}");
    assert_int_equal(apron_kv_set("k\n", "\0\xff", 2, &e), APRON_OK);
    expect_call("kvstore", "set", "{\"key\":\"k\\n\",\"data\":\"AP8=\"}");
    assert_int_equal(apron_kv_set("k", "", 0, &e), APRON_ERR_INVALID);
    assert_string_equal(e.msg, "data cannot be empty");

    assert_int_equal(apron_kv_delete("k<", &e), APRON_OK);
    expect_call("kvstore", "delete", "{\"key\":\"k\\u003c\"}");
    answer(0, "{\"status\":{\"code\":404,\"status\":\"Unable to delete key k - x\"}}",
           "Unable to delete key k - x");
    assert_int_equal(apron_kv_delete("k", &e), APRON_ERR_HOST);
    assert_int_equal(e.code, 404);
    /* failure with an unparseable encoded reply: code 0, the host's text */
    answer(0, "{garbage", "Error Parsing Input");
    assert_int_equal(apron_kv_delete("k", &e), APRON_ERR_HOST);
    assert_int_equal(e.code, 0);
    assert_string_equal(e.msg, "Error Parsing Input");

    apron_strlist keys = {NULL, 0};
    answer(1, "{\"keys\":[\"a\",\"b\\u00e9\",\"\"],\"status\":{\"code\":200,\"status\":\"OK\"}}",
           NULL);
    assert_int_equal(apron_kv_keys(&keys, &e), APRON_OK);
    expect_call("kvstore", "keys", ""); /* empty payload: JSON reply */
    assert_int_equal(keys.count, 3);
    assert_string_equal(keys.items[0], "a");
    assert_string_equal(keys.items[1], "b\xc3\xa9");
    assert_string_equal(keys.items[2], "");
    answer(1, "{\"keys\":null,\"status\":{\"code\":200,\"status\":\"OK\"}}", NULL);
    assert_int_equal(apron_kv_keys(&keys, &e), APRON_OK);
    assert_int_equal(keys.count, 0);
    answer(1, "{\"keys\":[\"a\",1],\"status\":{\"code\":200}}", NULL);
    assert_int_equal(apron_kv_keys(&keys, &e), APRON_ERR_REPLY);
    answer(1, "{\"keys\":[\"a\"", NULL);
    assert_int_equal(apron_kv_keys(&keys, &e), APRON_ERR_REPLY);
    apron_strlist_free(&keys);
}

/* ---- sql ---- */

static void test_sql_query(void **state)
{
    apron_buf rows = APRON_BUF_INIT;
    apron_error e = {0, ""};
    /* MySQL's encoding of (1, "John Smith"), base64 again inside the reply */
    answer(1, "{\"status\":{\"code\":200,\"status\":\"OK\"},\"data\":"
              "\"W3siaWQiOiJNUT09IiwibmFtZSI6IlNtOW9iaUJUYldsMGFBPT0ifV0=\"}",
           NULL);
    assert_int_equal(apron_sql_query("SELECT * FROM t;", &rows, &e), APRON_OK);
    expect_call("sql", "query", "{\"query\":\"U0VMRUNUICogRlJPTSB0Ow==\"}");
    assert_string_equal(apron_buf_cstr(&rows), "[{\"id\":\"MQ==\",\"name\":\"Sm9obiBTbWl0aA==\"}]");
    answer(1, "{\"status\":{\"code\":200,\"status\":\"OK\"},\"data\":\"bnVsbA==\"}", NULL);
    assert_int_equal(apron_sql_query("CREATE TABLE x (id int)", &rows, &e), APRON_OK);
    assert_string_equal(apron_buf_cstr(&rows), "null");
    answer(0, "{\"status\":{\"code\":500,\"status\":\"Unable to execute query - x\"},\"data\":\"\"}",
           "Unable to execute query - x");
    assert_int_equal(apron_sql_query("CREATE TALBE;", &rows, &e), APRON_ERR_HOST);
    assert_int_equal(e.code, 500);
    assert_string_equal(apron_buf_cstr(&rows), "null");
    assert_int_equal(apron_sql_query("", &rows, &e), APRON_ERR_INVALID);
    apron_buf_free(&rows);
}

static void test_sql_exec(void **state)
{
    apron_sql_exec_result res = {-1, -1};
    apron_error e = {0, ""};
    /* SQLExecResponse{status{200,"OK"}, last_insert_id 1, rows_affected 1} */
    static const char ok[] = "\x0a\x07\x08\xc8\x01\x12\x02OK\x10\x01\x18\x01";
    answer(1, ok, NULL);
    host.data_len = sizeof ok - 1;
    assert_int_equal(apron_sql_exec("INSERT INTO t VALUES (1)", &res, &e), APRON_OK);
    assert_string_equal(host.ns, "sql");
    assert_string_equal(host.op, "exec");
    /* SQLExec{query}: tag 0x0a, length 24, the text */
    assert_int_equal(host.payload.len, 26);
    assert_memory_equal(host.payload.ptr, "\x0a\x18INSERT INTO t VALUES (1)", 26);
    assert_true(res.rows_affected == 1 && res.last_insert_id == 1);

    /* a long statement: two-byte length varint */
    char sql[300];
    memset(sql, 'x', sizeof sql - 1);
    sql[sizeof sql - 1] = 0;
    answer(1, ok, NULL);
    host.data_len = sizeof ok - 1;
    assert_int_equal(apron_sql_exec(sql, &res, &e), APRON_OK);
    assert_memory_equal(host.payload.ptr, "\x0a\xab\x02", 3);

    /* Postgres: 206 and an error, rows affected still there */
    static const char partial[] = "\x0a\x21\x08\xce\x01\x12\x1cUnable to get last insert ID\x18\x03";
    answer(0, partial, "Unable to get last insert ID");
    host.data_len = sizeof partial - 1;
    res = (apron_sql_exec_result){-1, -1};
    assert_int_equal(apron_sql_exec("UPDATE t SET a=1", &res, &e), APRON_PARTIAL);
    assert_int_equal(e.code, 206);
    assert_true(res.rows_affected == 3 && res.last_insert_id == 0);

    /* failure with an empty reply */
    answer(0, NULL, "unable to unmarshal database:exec request");
    res = (apron_sql_exec_result){-1, -1};
    assert_int_equal(apron_sql_exec("x", &res, &e), APRON_ERR_HOST);
    assert_int_equal(e.code, 0);
    assert_true(res.rows_affected == -1);

    /* malformed protobuf replies: truncated varint, length past the end, group wire type,
     * status 0 */
    static const char *bad[] = {"\x10", "\x0a\x09\x08\xc8\x01", "\x0b", "\x18\x01", "\x00\x01"};
    static const size_t bad_len[] = {1, 5, 1, 2, 2};
    for (size_t i = 0; i < 5; i++) {
        answer(1, bad[i], NULL);
        host.data_len = bad_len[i];
        assert_int_equal(apron_sql_exec("x", &res, &e), APRON_ERR_REPLY);
    }
    assert_int_equal(apron_sql_exec("", &res, &e), APRON_ERR_INVALID);
}

/* ---- httpclient ---- */

static void test_http(void **state)
{
    apron_http_response resp = {0, NULL, 0, APRON_BUF_INIT};
    apron_error e = {0, ""};
    apron_header hs[] = {{"Teapot", "true"}, {"X-Quote", "a\"b"}};
    apron_http_request req = {.method = "POST", .url = "https://127.0.0.1:9/x?a=1&b=2",
                              .headers = hs, .nheaders = 2, .body = "POST", .body_len = 4,
                              .insecure = 1};
    answer(1, "{\"status\":{\"code\":200,\"status\":\"OK\"},\"code\":201,\"headers\":"
              "{\"server\":\"tarmac\",\"content-type\":\"text/plain\"},\"body\":\"UE9TVA==\"}",
           NULL);
    assert_int_equal(apron_http_call(&req, &resp, &e), APRON_OK);
    expect_call("httpclient", "call",
                "{\"method\":\"POST\",\"headers\":{\"Teapot\":\"true\",\"X-Quote\":\"a\\\"b\"},"
                "\"url\":\"https://127.0.0.1:9/x?a=1\\u0026b=2\",\"body\":\"UE9TVA==\","
                "\"insecure\":true}");
    assert_int_equal(resp.code, 201);
    assert_int_equal(resp.nheaders, 2);
    assert_string_equal(apron_http_header(&resp, "Server"), "tarmac");
    assert_string_equal(apron_http_header(&resp, "content-type"), "text/plain");
    assert_null(apron_http_header(&resp, "content"));
    assert_string_equal(apron_buf_cstr(&resp.body), "POST");

    /* GET: default method, no headers, empty body; headers null in the reply */
    answer(1, "{\"status\":{\"code\":200,\"status\":\"OK\"},\"code\":404,\"headers\":null,"
              "\"body\":\"\"}",
           NULL);
    assert_int_equal(apron_http_get("http://h/", &resp, &e), APRON_OK);
    expect_call("httpclient", "call",
                "{\"method\":\"GET\",\"headers\":{},\"url\":\"http://h/\",\"body\":\"\","
                "\"insecure\":false}");
    assert_int_equal(resp.code, 404);
    assert_int_equal(resp.nheaders, 0);
    assert_int_equal(resp.body.len, 0);

    /* transport failure */
    answer(0, "{\"status\":{\"code\":500,\"status\":\"Unable to execute HTTP request - refused\"},"
              "\"code\":0,\"headers\":null,\"body\":\"\"}",
           "Unable to execute HTTP request - refused");
    assert_int_equal(apron_http_get("http://127.0.0.1:1", &resp, &e), APRON_ERR_HOST);
    assert_int_equal(e.code, 500);
    assert_int_equal(resp.code, 404); /* untouched */

    /* malformed */
    const char *bad[] = {"{\"status\":{\"code\":200},\"headers\":{\"a\":1}}",
                         "{\"status\":{\"code\":200},\"headers\":[]}",
                         "{\"status\":{\"code\":200},\"code\":\"200\"}",
                         "{\"status\":{\"code\":200},\"body\":\"A\"}",
                         "{\"status\":{\"code\":200},\"headers\":{\"a\":\"b\""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        answer(1, bad[i], NULL);
        assert_int_equal(apron_http_get("http://h/", &resp, &e), APRON_ERR_REPLY);
    }
    host.calls = 0;
    assert_int_equal(apron_http_get("", &resp, &e), APRON_ERR_INVALID);
    assert_string_equal(e.msg, "url cannot be empty");
    assert_int_equal(host.calls, 0);
    apron_http_response_free(&resp);
}

/* ---- metrics, function ---- */

static void test_metrics(void **state)
{
    apron_error e = {0, ""};
    answer(1, NULL, NULL);
    assert_int_equal(apron_metrics_counter_inc("json_happy_path", &e), APRON_OK);
    expect_call("metrics", "counter", "{\"name\":\"json_happy_path\"}");
    assert_int_equal(apron_metrics_gauge_inc("g", &e), APRON_OK);
    expect_call("metrics", "gauge", "{\"name\":\"g\",\"action\":\"inc\"}");
    assert_int_equal(apron_metrics_gauge_dec("g", &e), APRON_OK);
    expect_call("metrics", "gauge", "{\"name\":\"g\",\"action\":\"dec\"}");
    assert_int_equal(apron_metrics_histogram_observe("h", 0.1, &e), APRON_OK);
    expect_call("metrics", "histogram", "{\"name\":\"h\",\"value\":0.1}");
    assert_int_equal(apron_metrics_histogram_observe("h", 1234567.125, &e), APRON_OK);
    expect_call("metrics", "histogram", "{\"name\":\"h\",\"value\":1234567.125}");
    assert_int_equal(apron_metrics_histogram_observe("h", 1.0 / 3, &e), APRON_OK);
    expect_call("metrics", "histogram", "{\"name\":\"h\",\"value\":0.3333333333333333}");
    assert_int_equal(apron_metrics_histogram_observe("h", NAN, &e), APRON_ERR_INVALID);
    assert_int_equal(apron_metrics_histogram_observe("h", INFINITY, &e), APRON_ERR_INVALID);
    assert_int_equal(apron_metrics_counter_inc("", &e), APRON_ERR_INVALID);
    answer(0, NULL, "metric name in use");
    assert_int_equal(apron_metrics_counter_inc("g", &e), APRON_ERR_HOST);
    assert_string_equal(e.msg, "metric name in use");
}

static void test_function(void **state)
{
    apron_buf out = APRON_BUF_INIT;
    apron_error e = {0, ""};
    answer(1, "callee output", NULL);
    assert_int_equal(apron_function_call("logger", "in\0put", 6, &out, &e), APRON_OK);
    assert_string_equal(host.ns, "function");
    assert_string_equal(host.op, "logger");
    assert_int_equal(host.payload.len, 6);
    assert_memory_equal(host.payload.ptr, "in\0put", 6);
    assert_string_equal(apron_buf_cstr(&out), "callee output");
    answer(1, NULL, NULL);
    assert_int_equal(apron_function_call("f", NULL, 0, &out, &e), APRON_OK);
    assert_int_equal(out.len, 0);
    answer(0, NULL, "failed to execute wasm module - boom");
    assert_int_equal(apron_function_call("f", NULL, 0, &out, &e), APRON_ERR_HOST);
    assert_string_equal(e.msg, "failed to execute wasm module - boom");
    assert_int_equal(apron_function_call("", NULL, 0, &out, &e), APRON_ERR_INVALID);
    apron_buf_free(&out);
}

/* Every helper with the host answering garbage or nothing: an error status each time. */
static void test_garbage_everywhere(void **state)
{
    static const char *replies[] = {"", "\xff\xfe", "{\"status\":", "{\"status\":{\"code\":200",
                                    "[[[[[[[[[[", "{\"status\":{\"code\":404}}"};
    apron_buf b = APRON_BUF_INIT;
    apron_strlist l = {NULL, 0};
    apron_http_response resp = {0, NULL, 0, APRON_BUF_INIT};
    apron_sql_exec_result res;
    for (size_t i = 0; i < sizeof replies / sizeof *replies; i++) {
        for (int ok = 0; ok <= 1; ok++) {
            answer(ok, replies[i], ok ? NULL : "x");
            assert_int_not_equal(apron_kv_get("k", &b, NULL), APRON_OK);
            assert_int_not_equal(apron_kv_set("k", "v", 1, NULL), APRON_OK);
            assert_int_not_equal(apron_kv_delete("k", NULL), APRON_OK);
            assert_int_not_equal(apron_kv_keys(&l, NULL), APRON_OK);
            assert_int_not_equal(apron_sql_query("q", &b, NULL), APRON_OK);
            assert_int_not_equal(apron_sql_exec("q", &res, NULL), APRON_OK);
            assert_int_not_equal(apron_http_get("u", &resp, NULL), APRON_OK);
        }
    }
    apron_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_escape),
        cmocka_unit_test(test_json_read_strings),
        cmocka_unit_test(test_json_read_numbers),
        cmocka_unit_test(test_json_read_structure),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_dispatch),
        cmocka_unit_test_setup_teardown(test_host_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logger, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kv_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kv_set_delete_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sql_query, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sql_exec, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_function, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_everywhere, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
