/* blocking.c — blocking.h: one thread-local counter. */
#include "blocking.h"

static _Thread_local unsigned long count;

void ap_blocking_note(void) { count++; }

unsigned long ap_blocking_count(void) { return count; }
