/* httpclient.c — tarmac:httpclient:call (TARMAC.md §4.6) on libcurl, behaving as Go's
 * http.Client that Tarmac makes per call: 30 s overall timeout, up to 10 redirects, no proxy,
 * no connection reuse, User-Agent Go-http-client/1.1 and transparent gzip unless the caller sets
 * them, HTTP/1.1 when `insecure`. The response body is read up to
 * http_client_max_response_body_size and silently truncated beyond it; header names come back
 * lower-cased (all values in protobuf, the first in JSON). A transfer that fails after the final
 * response's head arrived is Go's body read error (500 "Unexpected error reading HTTP response
 * body - …", keeping the code, headers and the bytes read); before it, Go's client.Do error
 * (500 "Unable to execute HTTP request - …", nothing kept).
 *
 * Beyond Tarmac: a function with `allowed_hosts` in tarmac.json may only reach those hosts
 * ("api.example.com", "api.example.com:8443", "*.example.com"); redirects are then followed
 * here, each hop checked. Any other host → status 403. */
#include "cap/internal.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- request decoding ---- */

typedef struct {
    ap_bytes key, value; /* value: a Header message */
    bool has_value;
} pb_header;

typedef struct {
    ap_bytes method, url, body;
    bool insecure;
    pb_header *headers;
    size_t nheaders, cap;
    json_t *json_headers; /* JSON path: the headers object */
    bool json;
} http_req;

static const signed char header_wt[] = {-1, AP_PB_LEN};          /* Header: 1 values */
static const signed char entry_wt[] = {-1, AP_PB_LEN, AP_PB_LEN}; /* map entry: 1 key, 2 value */
static const signed char req_wt[] = {-1, AP_PB_LEN, AP_PB_LEN, AP_PB_LEN, AP_PB_LEN, AP_PB_VARINT};

static bool ignore_field(void *ctx, int field, uint64_t v, ap_bytes b) { return true; }

static bool entry_field(void *ctx, int field, uint64_t v, ap_bytes b)
{
    pb_header *h = ctx;
    if (field == 1)
        return h->key = b, true;
    /* the value is a Header message: it must decode with the same strict rules */
    ap_errbuf e;
    ap_pb_schema s = {header_wt, 2};
    if (!ap_pb_walk(b, &s, ignore_field, NULL, &e))
        return false;
    h->value = b;
    h->has_value = true;
    return true;
}

static bool req_field(void *ctx, int field, uint64_t v, ap_bytes b)
{
    http_req *r = ctx;
    switch (field) {
    case 1:
        r->method = b;
        return true;
    case 2: {
        pb_header h = {0};
        ap_errbuf e;
        ap_pb_schema s = {entry_wt, 3};
        if (!ap_pb_walk(b, &s, entry_field, &h, &e))
            return false;
        if (r->nheaders == r->cap) {
            size_t ncap = r->cap ? r->cap * 2 : 8;
            pb_header *n = realloc(r->headers, ncap * sizeof *n);
            if (!n)
                return false;
            r->headers = n;
            r->cap = ncap;
        }
        r->headers[r->nheaders++] = h;
        return true;
    }
    case 3:
        r->url = b;
        return true;
    case 4:
        r->body = b;
        return true;
    default:
        r->insecure = v != 0;
        return true;
    }
}

/* ---- response collection ---- */

typedef struct {
    ap_buf body;
    size_t max;
    bool truncated;
    bool follow;      /* curl follows redirects itself (no allowed_hosts) */
    int head_status;  /* of the head being read */
    bool head_location;
    bool got_head;    /* the head of the final response arrived: the body is being read */
    bool got_response; /* a response was received (code, headers and body are reported) */
    char **names, **values; /* lower-cased names, in arrival order */
    size_t nh, caph;
} http_resp;

static void resp_clear_headers(http_resp *r)
{
    for (size_t i = 0; i < r->nh; i++) {
        free(r->names[i]);
        free(r->values[i]);
    }
    r->nh = 0;
}

static void resp_free(http_resp *r)
{
    resp_clear_headers(r);
    free(r->names);
    free(r->values);
    ap_buf_free(&r->body);
}

static size_t on_body(char *p, size_t size, size_t n, void *user)
{
    http_resp *r = user;
    size_t len = size * n, room = r->max - r->body.len;
    if (len > room) {
        r->truncated = true;
        ap_buf_append(&r->body, p, room);
        return 0; /* stop reading: the rest is dropped, as Go's LimitReader does */
    }
    return ap_buf_append(&r->body, p, len) ? len : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *user)
{
    http_resp *r = user;
    size_t len = size * n;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) { /* a new response (redirect, 100) */
        resp_clear_headers(r);
        const char *sp = memchr(p, ' ', len);
        r->head_status = sp && (size_t)(p + len - sp) > 3 ? atoi(sp + 1) : 0;
        r->head_location = false;
        r->got_head = false;
        return len;
    }
    if (len >= 1 && len <= 2 && (p[0] == '\r' || p[0] == '\n')) { /* the end of a head */
        bool followed = r->follow && r->head_location && r->head_status / 100 == 3;
        r->got_head = r->head_status >= 200 && !followed;
        return len;
    }
    char *colon = memchr(p, ':', len);
    if (!colon)
        return len;
    size_t nl = (size_t)(colon - p);
    if (nl == 8 && strncasecmp(p, "location", 8) == 0)
        r->head_location = true;
    const char *v = colon + 1, *end = p + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (r->nh == r->caph) {
        size_t ncap = r->caph ? r->caph * 2 : 16;
        char **a = realloc(r->names, ncap * sizeof *a);
        if (!a)
            return 0;
        r->names = a;
        char **b = realloc(r->values, ncap * sizeof *b);
        if (!b)
            return 0;
        r->values = b;
        r->caph = ncap;
    }
    char *name = strndup(p, nl), *val = strndup(v, (size_t)(end - v));
    if (!name || !val) {
        free(name);
        free(val);
        return 0;
    }
    for (char *q = name; *q; q++)
        *q = (char)tolower((unsigned char)*q);
    r->names[r->nh] = name;
    r->values[r->nh++] = val;
    return len;
}

/* ---- allowed_hosts ---- */

const ap_strlist *cap_allowed_hosts(ap_cap *c, const char *function, bool *restricted)
{
    *restricted = false;
    for (size_t s = 0; c->tarmac && function && s < c->tarmac->nservices; s++)
        for (size_t f = 0; f < c->tarmac->services[s].nfunctions; f++) {
            const ap_tarmac_function *fn = &c->tarmac->services[s].functions[f];
            if (strcmp(fn->name, function) == 0 && fn->has_allowed_hosts) {
                *restricted = true;
                return &fn->allowed_hosts;
            }
        }
    return NULL;
}

/* The URL's host (and host:port) against the list; `host` receives the host for messages. */
static bool host_allowed(const ap_strlist *allow, const char *url, char *host, size_t hostlen)
{
    CURLU *u = curl_url();
    char *h = NULL, *port = NULL;
    bool ok = false;
    snprintf(host, hostlen, "%s", url);
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK) {
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
        snprintf(host, hostlen, "%s", h);
        char hp[300];
        snprintf(hp, sizeof hp, "%s:%s", h, port ? port : "");
        for (size_t i = 0; i < allow->n && !ok; i++) {
            const char *a = allow->v[i];
            if (strcasecmp(a, h) == 0 || strcasecmp(a, hp) == 0) {
                ok = true;
            } else if (a[0] == '*' && a[1] == '.') {
                size_t hl = strlen(h), sl = strlen(a + 1);
                ok = hl > sl && strcasecmp(h + hl - sl, a + 1) == 0;
            }
        }
    }
    curl_free(h);
    curl_free(port);
    curl_url_cleanup(u);
    return ok;
}

/* ---- the call ---- */

static bool valid_method(ap_bytes m)
{
    /* RFC 7230 token characters, as net/http's validMethod */
    for (size_t i = 0; i < m.len; i++) {
        unsigned char ch = m.ptr[i];
        if (!(isalnum(ch) || strchr("!#$%&'*+-.^_`|~", ch)) || ch == 0)
            return false;
    }
    return true;
}

static bool has_header(struct curl_slist *l, const char *name)
{
    size_t n = strlen(name);
    for (; l; l = l->next)
        if (strncasecmp(l->data, name, n) == 0 && (l->data[n] == ':' || l->data[n] == ';'))
            return true;
    return false;
}

static bool add_header(struct curl_slist **l, ap_bytes name, ap_bytes value)
{
    /* curl drops "Name:" (no value) and needs "Name;" to send an empty one */
    ap_buf line = {0};
    bool ok = ap_buf_append(&line, name.ptr, name.len) &&
              (value.len ? ap_buf_append_str(&line, ": ") && ap_buf_append(&line, value.ptr, value.len)
                         : ap_buf_append(&line, ";", 1));
    if (ok && (memchr(line.data, '\n', line.len) || memchr(line.data, '\r', line.len) ||
               strlen((char *)line.data) != line.len))
        ok = false; /* net/http refuses such header fields too */
    struct curl_slist *n = ok ? curl_slist_append(*l, (char *)line.data) : NULL;
    ap_buf_free(&line);
    if (n)
        *l = n;
    return n != NULL;
}

typedef struct {
    struct curl_slist **l;
    ap_bytes key;
} hv_ctx;

static bool add_value(void *ctx, int field, uint64_t v, ap_bytes b)
{
    hv_ctx *h = ctx;
    return add_header(h->l, h->key, b);
}

typedef struct {
    const char *fmt_err; /* request build error text, or NULL */
    char err[CURL_ERROR_SIZE + 128];
} build_err;

static bool build_headers(http_req *r, struct curl_slist **l, build_err *be)
{
    if (r->json) {
        const char *k;
        json_t *v;
        json_object_foreach(r->json_headers, k, v)
        {
            const char *s = json_is_string(v) ? json_string_value(v) : "";
            size_t sl = json_is_string(v) ? json_string_length(v) : 0;
            if (!add_header(l, (ap_bytes){(const uint8_t *)k, strlen(k)},
                            (ap_bytes){(const uint8_t *)s, sl}))
                goto bad;
        }
        return true;
    }
    for (size_t i = 0; i < r->nheaders; i++) {
        pb_header *h = &r->headers[i];
        if (!h->has_value)
            continue; /* null entries are skipped */
        bool later = false; /* a map: a later entry with the same key replaced this one */
        for (size_t j = i + 1; j < r->nheaders && !later; j++)
            later = r->headers[j].key.len == h->key.len &&
                    memcmp(r->headers[j].key.ptr, h->key.ptr, h->key.len) == 0;
        if (later)
            continue;
        /* Header.values: every value, added in order (multi-value) */
        hv_ctx hc = {l, h->key};
        ap_errbuf e;
        ap_pb_schema hs = {header_wt, 2};
        if (!ap_pb_walk(h->value, &hs, add_value, &hc, &e))
            goto bad;
    }
    return true;
bad:
    snprintf(be->err, sizeof be->err, "net/http: invalid header field");
    be->fmt_err = be->err;
    return false;
}

/* Performs the request; fills st and resp. */
static void perform(ap_cap *c, http_req *r, const char *function, cap_status *st, http_resp *resp,
                    long *code)
{
    char url[8192], method[64] = "GET";
    build_err be = {0};
    *code = 0;
    if (r->method.len) {
        if (r->method.len >= sizeof method || !valid_method(r->method)) {
            cap_status_set(st, 400, "Unable to create HTTP request - net/http: invalid method \"%.*s\"",
                           (int)r->method.len, (const char *)r->method.ptr);
            return;
        }
        memcpy(method, r->method.ptr, r->method.len);
        method[r->method.len] = 0;
    }
    if (r->url.len == 0) { /* Go parses "" fine and fails when sending it */
        cap_status_set(st, 500, "Unable to execute HTTP request - %s \"\": unsupported protocol "
                                "scheme \"\"", method);
        return;
    }
    CURLU *u = curl_url();
    if (!u || r->url.len >= sizeof url || memchr(r->url.ptr, 0, r->url.len)) {
        curl_url_cleanup(u);
        cap_status_set(st, 400, "Unable to create HTTP request - invalid URL");
        return;
    }
    memcpy(url, r->url.ptr, r->url.len);
    url[r->url.len] = 0;
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
    curl_url_cleanup(u);
    if (uc != CURLUE_OK) {
        cap_status_set(st, 400, "Unable to create HTTP request - parse \"%s\": %s", url,
                       curl_url_strerror(uc));
        return;
    }
    bool restricted;
    const ap_strlist *allow = cap_allowed_hosts(c, function, &restricted);
    char host[256];
    if (restricted && !host_allowed(allow, url, host, sizeof host)) {
        cap_status_set(st, 403, "Unable to execute HTTP request - host %s is not in allowed_hosts",
                       host);
        return;
    }
    struct curl_slist *hdrs = NULL;
    if (!build_headers(r, &hdrs, &be)) { /* Go's client refuses such fields when sending */
        curl_slist_free_all(hdrs);
        cap_status_set(st, 500, "Unable to execute HTTP request - %s", be.fmt_err);
        return;
    }
    bool own_encoding = has_header(hdrs, "Accept-Encoding");
    bool ok = true;
    if (!has_header(hdrs, "User-Agent"))
        ok &= (hdrs = curl_slist_append(hdrs, "User-Agent: Go-http-client/1.1")) != NULL;
    /* curl's own defaults that Go does not send */
    if (!has_header(hdrs, "Accept"))
        ok &= (hdrs = curl_slist_append(hdrs, "Accept:")) != NULL;
    if (!has_header(hdrs, "Content-Type"))
        ok &= (hdrs = curl_slist_append(hdrs, "Content-Type:")) != NULL;
    ok &= (hdrs = curl_slist_append(hdrs, "Expect:")) != NULL;
    CURL *h = curl_easy_init();
    if (!ok || !h) {
        curl_slist_free_all(hdrs);
        curl_easy_cleanup(h);
        cap_status_set(st, 500, "Unable to execute HTTP request - out of memory");
        return;
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, restricted ? 0L : 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
    if (!own_encoding)
        curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "gzip");
    if (r->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    } else {
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    }
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "GET") != 0 || r->body.len)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (r->body.len || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
        strcmp(method, "PATCH") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body.len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body.len ? (const char *)r->body.ptr : "");
    }
    resp->max = (size_t)c->http_max_body;
    resp->follow = !restricted;
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
    CURLcode rc;
    for (int hops = 0;; hops++) {
        resp->truncated = false;
        resp->got_head = false;
        ap_buf_reset(&resp->body);
        rc = curl_easy_perform(h);
        if (rc == CURLE_WRITE_ERROR && resp->truncated)
            rc = CURLE_OK; /* the body cap: silent truncation */
        if (rc != CURLE_OK || !restricted)
            break;
        long status = 0;
        char *next = NULL;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &next);
        if (status < 300 || status > 399 || !next)
            break;
        if (hops == 10) {
            snprintf(errbuf, sizeof errbuf, "stopped after 10 redirects");
            rc = CURLE_TOO_MANY_REDIRECTS;
            break;
        }
        if (!host_allowed(allow, next, host, sizeof host)) {
            cap_status_set(st, 403,
                           "Unable to execute HTTP request - host %s is not in allowed_hosts",
                           host);
            resp_clear_headers(resp);
            ap_buf_reset(&resp->body);
            curl_slist_free_all(hdrs);
            curl_easy_cleanup(h);
            return;
        }
        snprintf(url, sizeof url, "%s", next);
        curl_easy_setopt(h, CURLOPT_URL, url);
        if ((status == 301 || status == 302 || status == 303) && strcmp(method, "HEAD") != 0) {
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
            curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
            snprintf(method, sizeof method, "GET");
        }
    }
    if (rc != CURLE_OK && !resp->got_head) {
        cap_status_set(st, 500, "Unable to execute HTTP request - %s %s: %s", method, url,
                       errbuf[0] ? errbuf : curl_easy_strerror(rc));
        resp_clear_headers(resp);
        ap_buf_reset(&resp->body);
    } else {
        /* After a failure here Go's client.Do had returned the response and reading its body
         * failed (cut short, the timeout, a bad gzip stream): Tarmac keeps the code, the
         * headers and what was read. */
        if (rc != CURLE_OK)
            cap_status_set(st, 500, "Unexpected error reading HTTP response body - %s",
                           errbuf[0] ? errbuf : curl_easy_strerror(rc));
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, code);
        resp->got_response = true;
        if (!own_encoding) {
            /* Go hides a body it decompressed: no content-encoding, no content-length */
            bool gz = false;
            for (size_t i = 0; i < resp->nh; i++)
                gz |= strcmp(resp->names[i], "content-encoding") == 0 &&
                      strcasecmp(resp->values[i], "gzip") == 0;
            for (size_t i = 0; gz && i < resp->nh; i++)
                if (strcmp(resp->names[i], "content-encoding") == 0 ||
                    strcmp(resp->names[i], "content-length") == 0)
                    resp->names[i][0] = 0; /* skipped when encoding */
        }
    }
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
}

/* Header names sorted, each once: indexes of the first occurrence. */
static size_t *sorted_names(const http_resp *r, size_t *n)
{
    size_t *idx = malloc((r->nh + 1) * sizeof *idx), k = 0;
    if (!idx)
        return NULL;
    for (size_t i = 0; i < r->nh; i++) {
        if (!r->names[i][0])
            continue;
        bool seen = false;
        for (size_t j = 0; j < k && !seen; j++)
            seen = strcmp(r->names[idx[j]], r->names[i]) == 0;
        if (!seen)
            idx[k++] = i;
    }
    for (size_t i = 1; i < k; i++) /* insertion sort: few headers */
        for (size_t j = i; j > 0 && strcmp(r->names[idx[j - 1]], r->names[idx[j]]) > 0; j--) {
            size_t t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    *n = k;
    return idx;
}

static bool encode_pb(ap_buf *out, const cap_status *st, long code, const http_resp *r)
{
    bool ok = ap_pb_put_status(out, 1, st->code, st->text) &&
              (code == 0 || ap_pb_put_varint(out, 2, (uint64_t)code));
    size_t n = 0, *idx = ok ? sorted_names(r, &n) : NULL;
    if (ok && !idx)
        return false;
    for (size_t k = 0; ok && k < n; k++) {
        const char *name = r->names[idx[k]];
        ap_buf hv = {0}, entry = {0};
        for (size_t i = 0; ok && i < r->nh; i++)
            if (strcmp(r->names[i], name) == 0)
                ok = ap_pb_put_len(&hv, 1, r->values[i], strlen(r->values[i]));
        ok = ok && ap_pb_put_len(&entry, 1, name, strlen(name)) &&
             ap_pb_put_len(&entry, 2, hv.data, hv.len) && ap_pb_put_len(out, 3, entry.data, entry.len);
        ap_buf_free(&hv);
        ap_buf_free(&entry);
    }
    free(idx);
    return ok && (r->body.len == 0 || ap_pb_put_len(out, 4, r->body.data, r->body.len));
}

static bool encode_json(ap_buf *out, const cap_status *st, long code, const http_resp *r,
                        bool got_response)
{
    bool ok = ap_buf_append_str(out, "{\"status\":") && cap_json_status(out, st) &&
              ap_buf_printf(out, ",\"code\":%ld,\"headers\":", code);
    if (!got_response)
        ok = ok && ap_buf_append_str(out, "null");
    else {
        size_t n = 0, *idx = ok ? sorted_names(r, &n) : NULL;
        ok = ok && idx && ap_buf_append(out, "{", 1);
        for (size_t k = 0; ok && k < n; k++) {
            const char *name = r->names[idx[k]], *v = r->values[idx[k]];
            ok = (k == 0 || ap_buf_append(out, ",", 1)) && ap_json_put_str(out, name, strlen(name)) &&
                 ap_buf_append(out, ":", 1) && ap_json_put_str(out, v, strlen(v));
        }
        free(idx);
        ok = ok && ap_buf_append(out, "}", 1);
    }
    return ok && ap_buf_append_str(out, ",\"body\":") &&
           ap_json_put_b64(out, r->body.data, r->body.len) && ap_buf_append(out, "}", 1);
}

ap_wapc_host_status cap_http_call(ap_cap *c, const ap_wapc_call *call, ap_buf *response,
                                  ap_buf *error)
{
    http_req r = {0};
    http_resp resp = {0};
    ap_errbuf e;
    cap_status st;
    long code = 0;
    bool ok;
    cap_status_set(&st, 200, "OK");
    const char *function = call->instance ? ap_wapc_instance_name(call->instance) : NULL;
    ap_pb_schema schema = {req_wt, 6};
    if (ap_pb_walk(call->payload, &schema, req_field, &r, &e)) {
        perform(c, &r, function, &st, &resp, &code);
        ok = encode_pb(response, &st, code, &resp);
    } else {
        free(r.headers);
        memset(&r, 0, sizeof r);
        r.json = true;
        json_t *root = NULL;
        ap_bytes body64 = {0};
        ap_buf body = {0};
        bool parsed = ap_jin_parse(call->payload, &root, &e) &&
                      ap_jin_str(root, "method", &r.method, &e) &&
                      ap_jin_str(root, "url", &r.url, &e) && ap_jin_str(root, "body", &body64, &e) &&
                      ap_jin_bool(root, "insecure", &r.insecure, &e);
        if (parsed) {
            r.json_headers = ap_jin_get(root, "headers");
            if (r.json_headers && !json_is_object(r.json_headers))
                parsed = false;
            const char *k;
            json_t *v;
            if (parsed && r.json_headers)
                json_object_foreach(r.json_headers, k, v) if (!json_is_string(v) && !json_is_null(v))
                    parsed = false;
        }
        if (!parsed)
            cap_status_set(&st, 400, "Error Parsing Input");
        else if (!ap_b64_decode(&body, body64.ptr, body64.len, &e))
            cap_status_set(&st, 400, "Unable to decode data - %s", e.msg);
        else {
            r.body = (ap_bytes){body.data, body.len};
            perform(c, &r, function, &st, &resp, &code);
        }
        ok = encode_json(response, &st, code, &resp, resp.got_response);
        ap_buf_free(&body);
        json_decref(root);
    }
    free(r.headers);
    resp_free(&resp);
    return cap_finish(&st, ok, response, error);
}
