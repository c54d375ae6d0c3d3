#!/usr/bin/env python3
"""seeds.py — writes the seed corpora of fuzz-cap and fuzz-http (tests/fuzz/corpus/{cap,http}/)
from the payloads the unit tests send (tests/unit/cap/test_*.c, tests/unit/router/) in both
encodings. Run from the repository root after changing the harnesses' input formats; the files
are committed.

`seeds.py --server DIR` writes fuzz-server's seeds into DIR instead (`make fuzz-server` does, into
its build folder): the requests the integration tests send (tests/integration/server.sh,
http_context.sh, capabilities.sh), as raw HTTP/1.1 bytes on one connection each.

fuzz-cap input: [op][payload length, 2 bytes LE][payload] ...; op as enum in fuzz_cap.c (| 0x80:
called from the "guarded" instance). fuzz-http input: text directives (fuzz_http.c)."""
import base64
import os
import struct
import sys

(LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_TRACE, KV_GET, KV_SET, KV_DELETE, KV_KEYS,
 SQL_QUERY, SQL_EXEC, HTTP_CALL, M_COUNTER, M_GAUGE, M_HISTOGRAM, FUNCTION, FUNCTION_UNKNOWN,
 HTTP_RESPONSE, METRICS_RENDER, FUNCTION_CALL) = range(20)
GUARDED = 0x80


def varint(v):
    out = b""
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def pb_len(field, data):
    if isinstance(data, str):
        data = data.encode()
    return varint(field << 3 | 2) + varint(len(data)) + data


def pb_varint(field, v):
    return varint(field << 3) + varint(v)


def pb_double(field, f):
    return varint(field << 3 | 1) + struct.pack("<d", f)


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def call(op, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return bytes([op]) + struct.pack("<H", len(payload)) + payload


def fcall(name, payload=b""):
    """OP_FUNCTION_CALL: tarmac:function:<name> with payload."""
    name = name.encode()
    return call(FUNCTION_CALL, bytes([len(name)]) + name + payload)


def relay(ns="", op="", rest=b""):
    """fn_relay.wasm's payload: call tarmac:<ns>:<op> with rest (ns "": answer rest)."""
    if isinstance(rest, str):
        rest = rest.encode()
    if not ns:
        return b"\x00" + rest
    return bytes([len(ns)]) + ns.encode() + bytes([len(op)]) + op.encode() + rest


def http_req_pb(method="", url="", headers=(), body=b"", insecure=False):
    m = pb_len(1, method) if method else b""
    for k, vals in headers:
        hv = b"".join(pb_len(1, v) for v in vals)
        m += pb_len(2, pb_len(1, k) + pb_len(2, hv))
    m += pb_len(3, url) if url else b""
    m += pb_len(4, body) if body else b""
    return m + (pb_varint(5, 1) if insecure else b"")


CAP = {
    "kv_json": [
        call(KV_SET, '{"key":"k","data":"dmFsdWU="}'), call(KV_GET, '{"Key":"k"}'),
        call(KV_KEYS, ""), call(KV_DELETE, '{"key":"k"}'), call(KV_GET, '{"key":"nope"}'),
        call(KV_SET, '{"key":"k","data":"!!!"}'), call(KV_SET, '{"key":"","data":"YQ=="}'),
        call(KV_DELETE, "{}"), call(KV_GET, "{bad"), call(KV_GET, '{"key":"a"} x'),
    ],
    "kv_pb": [
        call(KV_SET, pb_len(1, "k") + pb_len(2, b"\x00\x01value")),
        call(KV_GET, pb_len(1, "k")), call(KV_KEYS, "x"), call(KV_DELETE, pb_len(1, "k")),
        call(KV_SET, pb_len(1, "k")), call(KV_GET, b""), call(KV_GET, b"\x0a\x05ab"),
    ],
    "sql_json": [
        # exec is protobuf only (a JSON payload fails to unmarshal, as in Tarmac)
        call(SQL_EXEC, pb_len(1, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL, "
                                 "data BLOB)")),
        call(SQL_EXEC, pb_len(1, "INSERT INTO t (name, score, data) VALUES ('a', 1.5, x'00ff'), "
                                 "(NULL, 2, NULL)")),
        call(SQL_EXEC, '{"query":"%s"}' % b64("DELETE FROM t")),
        call(SQL_QUERY, '{"query":"%s"}' % b64("SELECT * FROM t ORDER BY id")),
        call(SQL_QUERY, '{"query":"%s"}' % b64("SELECT 1 AS x, 2 AS x, 'é' AS y")),
        call(SQL_QUERY, '{"query":"%s"}' % b64("SELECT 1e999 AS inf")),
        call(SQL_QUERY, '{"query":"!!"}'), call(SQL_QUERY, '{"query":""}'),
    ],
    "sql_pb": [
        call(SQL_EXEC, pb_len(1, "CREATE TABLE u (k TEXT, v INTEGER)")),
        call(SQL_EXEC, pb_len(1, "INSERT INTO u VALUES ('a', 1), ('b', 2)")),
        call(SQL_QUERY, pb_len(1, "SELECT k, v, v * 0.5 AS h FROM u")),
        call(SQL_QUERY, pb_len(1, "SELEC nonsense")), call(SQL_EXEC, b""),
    ],
    "http_json": [
        call(HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Multi: a\r\n"
                            "X-Multi: b\r\n\r\nhello"),
        call(HTTP_CALL, '{"method":"GET","url":"http://127.0.0.1:1/ok","headers":{"X-A":"1"}}'),
        call(HTTP_CALL, '{"method":"POST","url":"http://127.0.0.1:1/p","body":"%s",'
                        '"insecure":true}' % b64("payload")),
        call(HTTP_CALL, '{"url":5}'), call(HTTP_CALL, '{"headers":{"a":1}}'),
        call(HTTP_CALL, '{"url":"://bad-url"}'), call(HTTP_CALL, '{"url":"ftp://127.0.0.1/"}'),
        call(HTTP_CALL, '{"method":"G T","url":"http://x/"}'),
        call(HTTP_CALL, '{"url":"http://h/","headers":{"A":"b\\r\\nc"}}'),
        call(HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n"
                            "\r\n" + "x" * 100),
        call(HTTP_CALL, '{"url":"http://127.0.0.1:1/big"}'),
    ],
    "http_pb": [
        call(HTTP_RESPONSE, "HTTP/1.1 302 Found\r\nLocation: http://evil.test/\r\n\r\n"),
        call(HTTP_CALL | GUARDED, http_req_pb("GET", "http://127.0.0.1:1/r",
                                              [("X-A", ["1", "2"]), ("Accept-Encoding", ["br"])])),
        call(HTTP_RESPONSE, "HTTP/1.1 301 Moved\r\nLocation: http://a.example.test/\r\n\r\n"),
        call(HTTP_CALL | GUARDED, http_req_pb("HEAD", "http://localhost/")),
        call(HTTP_CALL | GUARDED, http_req_pb("GET", "http://other.test/")),
        call(HTTP_CALL, http_req_pb("PUT", "http://127.0.0.1:1/", body=b"\x00\x01",
                                    insecure=True)),
    ],
    "metrics": [
        call(M_COUNTER, '{"name":"hits"}'), call(M_GAUGE, '{"name":"g","action":"inc"}'),
        call(M_GAUGE, pb_len(1, "g") + pb_len(2, "dec")),
        call(M_HISTOGRAM, '{"name":"lat","value":0.25}'),
        call(M_HISTOGRAM, pb_len(1, "lat") + pb_double(2, 1e300)),
        call(M_COUNTER, '{"name":"1bad"}'), call(M_COUNTER, '{"name":"http_server"}'),
        call(M_GAUGE, '{"name":"g","action":"up"}'), call(M_HISTOGRAM, '{"name":"lat"}'),
        call(M_COUNTER, pb_len(1, "lat")), call(METRICS_RENDER, ""),
    ],
    "logger_function": [
        call(LOG_INFO, "hello"), call(LOG_ERROR | GUARDED, "bad \x00 thing \xff"),
        call(LOG_WARN, "w"), call(LOG_DEBUG, '{"json":"message"}'), call(LOG_TRACE, ""),
        call(FUNCTION | GUARDED, "payload"), call(FUNCTION_UNKNOWN, "nothere"),
    ],
    # tarmac:function into the loaded guests (echo, call, relay); function_max_depth is 4
    "function_chain": [
        fcall("echo", b"hello"), fcall("call", b"via call"), fcall("relay", relay(rest="done")),
        fcall("relay", relay("function", "relay", relay("function", "echo", b"two deep"))),
        fcall("relay", relay("function", "relay", relay("function", "relay", relay(
            "function", "relay", relay("function", "relay", relay(rest="too deep")))))),
        fcall("relay", relay("function", "call", b"relay to call to echo")),
        fcall("relay", b"\xff"), fcall("relay", b"\x05ab"), fcall("relay", b""),
        fcall("relay", relay("function", "guarded", b"x")),
        fcall("relay", relay("function", "nope", b"x")),
        fcall("relay", relay("kvstore", "set", '{"key":"k","data":"dmFsdWU="}')),
        fcall("relay", relay("function", "relay", relay("kvstore", "get", '{"key":"k"}'))),
        fcall("relay", relay("logger", "info", "from a callee")),
        fcall("guarded", b"x"), fcall("", b"x"), fcall("nothere", b"x"),
    ],
}

HTTP = {
    "params": "R GET /a/:x/b/:y\nQ GET /a/1/b/2?x=1&y&z=%41+b\nH Host: example.com\n"
              "H X-Multi: 1\nH x-multi: 2\nA 4 \x7f\x00\x00\x01\x1f\x90\n"
              "C request method \nC request path \nC request query \nC request header host\n"
              "C request headers \nC request remote_addr \nC request param x\n"
              "C request param nope\nC response status 201\nC response header X-Out: v\n"
              "C response header Content-Length: 5\nC response header Bad Name: v\n",
    "catchall": "Q GET /static/css/site.css\nC request param file\nQ PUT /users/7/items/9\n"
                "C request param item\nC request param id\nA 6 \x00\x01\x02\x03\x04\x05\x06\x07"
                "\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x01\xbb\nC request remote_addr \n",
    "methods": "Q POST /users/1\nQ OPTIONS /users/1\nQ DELETE /\nQ GET /nope\nQ HEAD /health\n"
               "R DELETE /users/:id\nR GET nope\nR GET /x/*a/b\nR GET /health\nQ PATCH /users/2\n",
    "outside": "C request method \nC response status 99\nC response header A: b\n"
               "C response status abc\nC request unknown \nC response unknown \n",
    "sniff": "S <!DOCTYPE html><html>\nS {\"a\":1}\nS \x89PNG\r\nS plain text\nS \xff\xfe\n",
}


def req(method, path, headers=(), body=None, version="HTTP/1.1", chunked=False):
    """One request as a client sends it: Host first, Content-Length for a body."""
    if isinstance(body, str):
        body = body.encode()
    head = "%s %s %s\r\nHost: apron.test\r\n" % (method, path, version)
    for h in headers:
        head += h + "\r\n"
    if body is not None and chunked:
        head += "Transfer-Encoding: chunked\r\n\r\n"
        half = len(body) // 2
        out = head.encode()
        for part in (body[:half], body[half:]):
            if part:
                out += b"%x\r\n" % len(part) + part + b"\r\n"
        return out + b"0\r\n\r\n"
    if body is not None:
        head += "Content-Length: %d\r\n" % len(body)
    return head.encode() + b"\r\n" + (body or b"")


# fuzz_server.c's routes: /echo (GET HEAD POST PUT DELETE), /iso, /call, /trap, /fail (POST),
# /items/:id (GET PUT DELETE), /ctx/*rest (GET POST PUT PATCH DELETE), /health, /ready, /metrics;
# max_request_body_size 1024, enable_pprof.
SERVER = {
    # server.sh
    "echo_post": req("POST", "/echo", body="Howdie"),
    "echo_put": req("PUT", "/echo", body="test data"),
    "echo_get_query": req("GET", "/echo?x=1"),
    "echo_delete_body": req("DELETE", "/echo", body="ignored"),
    "echo_head": req("HEAD", "/echo"),
    "echo_json": req("POST", "/echo", ["Content-Type: application/json"], '{"a":[1]}'),
    "not_found": req("GET", "/nope"),
    "patch_405": req("PATCH", "/echo"),
    "options": req("OPTIONS", "/echo"),
    "health_post_405": req("POST", "/health", body=""),
    "too_large_header": req("POST", "/echo", ["Content-Length: 1025"]),
    "too_large_body": req("POST", "/echo", body="x" * 1100, chunked=True),
    "at_the_limit": req("POST", "/echo", body="a" * 1024),
    "builtins": req("GET", "/health") + req("GET", "/ready") + req("GET", "/metrics") +
                req("GET", "/debug/pprof/") + req("GET", "/debug/vars"),
    "trap_fail": req("POST", "/trap", body="x") + req("POST", "/fail", body="x") +
                 req("POST", "/echo", body="alive"),
    "keep_alive": b"".join(req("POST", "/echo", body="req%d" % i) for i in range(4)),
    "http10": req("GET", "/health", version="HTTP/1.0") +
              req("POST", "/echo", ["Connection: keep-alive"], "ten", version="HTTP/1.0"),
    "expect_100": req("POST", "/echo", ["Expect: 100-continue"], "continued"),
    "encoded_path": req("GET", "/%65cho") + req("GET", "/items/%2F..%2f%00") +
                    req("GET", "/ctx/a%zz%") + req("GET", "//echo") + req("GET", "*"),
    "iso_call": req("POST", "/iso", body="isolated") + req("POST", "/call", body="x"),
    # http_context.sh
    "ctx_echo": req("PATCH", "/ctx/echo?a=1&b=two+words&c=%2F",
                    ["X-One: first", "X-One: second", "X-Multi: a", "X-Multi: b"], "patch body"),
    "ctx_status": b"".join(req("GET", "/ctx/status/%s" % c)
                           for c in ("201", "204", "304", "100", "418", "599", "600", "abc")),
    "ctx_header": req("GET", "/ctx/header", ["X-Add: X-Custom: v"]) +
                  req("GET", "/ctx/header", ["X-Add: Content-Type: text/html"]) +
                  req("GET", "/ctx/header", ["X-Add: Date: yesterday"]) +
                  req("GET", "/ctx/header", ["X-Add: Content-Length: 99"]) +
                  req("GET", "/ctx/header", ["X-Add: Bad Name: v"]),
    "ctx_teapot": req("POST", "/ctx/teapot", body="x"),
    "items": req("GET", "/items/42") + req("PUT", "/items/42", body="v") +
             req("DELETE", "/items/42"),
    "garbage": b"GET\r\n\r\n\x00\xff HTTP/9.9\r\n\r\n",
}


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--server":
        os.makedirs(sys.argv[2], exist_ok=True)
        for name, data in SERVER.items():
            with open(os.path.join(sys.argv[2], name), "wb") as f:
                f.write(data)
        return
    here = os.path.dirname(os.path.abspath(__file__))
    for target, seeds in (("cap", CAP), ("http", HTTP)):
        d = os.path.join(here, "corpus", target)
        os.makedirs(d, exist_ok=True)
        for name, v in seeds.items():
            data = b"".join(v) if isinstance(v, list) else v.encode("latin-1")
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
