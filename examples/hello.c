/* hello.c — the smallest apron function: answers "Hello, <payload>".
 * Operations: "handler" and "hello" (the greeting), "fail" (always fails, for trying errors). */
#include "apron.h"

static apron_status hello(const uint8_t *payload, size_t len, apron_buf *out)
{
    /* two appends rather than a printf: wasi-libc's printf costs thousands of instructions */
    apron_status st = apron_buf_append(out, "Hello, ", 7);
    return st == APRON_OK ? apron_buf_append(out, payload, len) : st;
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
