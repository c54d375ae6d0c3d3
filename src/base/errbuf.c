/* errbuf.c — ap_errbuf_set. */
#include "errbuf.h"

#include <stdarg.h>
#include <stdio.h>

void ap_errbuf_set(ap_errbuf *e, const char *fmt, ...)
{
    if (!e) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
}
