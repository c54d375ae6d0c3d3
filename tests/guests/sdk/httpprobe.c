/* httpprobe.c — test guest for the httpclient capability (tests/integration/capabilities.sh):
 * the payload goes verbatim to tarmac:httpclient:call (a JSON or protobuf HTTPClient message),
 * and the answer shows what the host left, so the test can read the status code itself:
 *   "ok\n" + the host's response bytes          when __host_call reported success
 *   "error: TEXT\n" + the host's response bytes  when it reported failure (TEXT: its error)
 * The function itself always succeeds (HTTP 200), unless memory runs out. */
#include "apron.h"

static apron_status probe(const uint8_t *payload, size_t len, apron_buf *out)
{
    apron_reply r = {APRON_BUF_INIT, APRON_BUF_INIT};
    apron_status st = apron_host_call("tarmac", "httpclient", "call", payload, len, &r);
    if (st == APRON_OK) st = apron_buf_puts(out, "ok\n");
    else if (st == APRON_ERR_HOST) st = apron_buf_printf(out, "error: %s\n", apron_buf_cstr(&r.error));
    if (st == APRON_OK) st = apron_buf_append(out, r.data.ptr, r.data.len);
    apron_reply_free(&r);
    return st == APRON_OK ? APRON_OK : apron_fail(out, "out of memory");
}

void apron_init(void)
{
    apron_register("handler", probe);
}
