/* blocking.h — a per-thread count of host calls that may wait on something outside the guest: a
 * back end (kvstore, sql), a remote server (httpclient), another function's pool (function).
 * The capability layer counts them; the HTTP event loop reads the count around an invocation to
 * learn which functions are safe to run on its own threads (README "Threading"): one that waits
 * there would hold every connection of that thread. */
#ifndef AP_BLOCKING_H
#define AP_BLOCKING_H

/* Counts one such call on the calling thread. */
void ap_blocking_note(void);
/* The calling thread's count so far (it only grows; compare two readings). */
unsigned long ap_blocking_count(void);

#endif
