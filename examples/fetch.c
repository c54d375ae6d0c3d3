/* fetch.c — the HTTP client capability: GETs the URL given as the payload and returns
 * {"code":<remote status>,"content_type":"...","body":"<body as a JSON string>"}. A transport
 * failure (bad URL, refused connection, TLS error) fails the call with the host's message. */
#include <string.h>

#include "apron.h"

static apron_status fetch(const uint8_t *payload, size_t len, apron_buf *out)
{
    apron_http_response resp = {0, NULL, 0, APRON_BUF_INIT};
    apron_error err;
    if (len == 0) return apron_fail(out, "the payload must be a URL");
    if (apron_http_get((const char *)payload, &resp, &err) != APRON_OK)
        return apron_fail(out, "GET %s: %s", (const char *)payload, err.msg);
    const char *type = apron_http_header(&resp, "content-type");
    apron_status st = apron_buf_printf(out, "{\"code\":%d,\"content_type\":", resp.code);
    if (st == APRON_OK) st = apron_json_put_string(out, type ? type : "", type ? strlen(type) : 0);
    if (st == APRON_OK) st = apron_buf_puts(out, ",\"body\":");
    if (st == APRON_OK) st = apron_json_put_string(out, (const char *)resp.body.ptr, resp.body.len);
    if (st == APRON_OK) st = apron_buf_puts(out, "}");
    apron_http_response_free(&resp);
    return st == APRON_OK ? APRON_OK : apron_fail(out, "out of memory");
}

void apron_init(void)
{
    apron_register("handler", fetch);
    apron_register("fetch", fetch);
}
