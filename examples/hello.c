/* hello.c — the smallest apron function: answers "Hello, <payload>".
 * Operations: "handler" and "hello" (the greeting), "fail" (always fails, for trying errors). */
#include "apron.h"

static apron_status hello(const uint8_t *payload, size_t len, apron_buf *out)
{
    return apron_buf_printf(out, "Hello, %.*s", (int)len, (const char *)payload);
}

static apron_status fail(const uint8_t *payload, size_t len, apron_buf *out)
{
    return apron_fail(out, "this is a test error");
}

void apron_init(void)
{
    apron_register("handler", hello); /* the operation Tarmac and apron's routes invoke */
    apron_register("hello", hello);
    apron_register("fail", fail);
}
