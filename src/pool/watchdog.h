/* watchdog.h — per-invocation deadlines (private to src/pool/). One timer thread for the whole
 * process, started on first use, expires the instances whose deadline has passed
 * (ap_wapc_expire: the guest traps "deadline exceeded" at its next loop back-edge or call), and
 * expires them again every 10 ms until they are stopped, so that guest code started after the
 * deadline (the next step of a start-up) traps too. A watch lives on the caller's stack for the
 * duration of one invocation or one start-up. */
#ifndef AP_POOL_WATCHDOG_H
#define AP_POOL_WATCHDOG_H

#include <stdbool.h>
#include <stdint.h>

#include "wapc/wapc.h"

typedef struct ap_watch {
    struct ap_watch *prev, *next;
    int64_t deadline_ns; /* CLOCK_MONOTONIC; after firing, the next re-fire (under the lock) */
    ap_wapc_instance *inst;
    bool fired;
    bool on; /* armed; the caller's thread only */
} ap_watch;

/* Arms w: inst is expired timeout_ms from now unless ap_watch_stop comes first. False (w not
 * armed, no deadline) only if the timer thread could not be started. Any thread. */
bool ap_watch_start(ap_watch *w, ap_wapc_instance *inst, int64_t timeout_ms);
/* Disarms w (a no-op for a watch that was not armed); true if the deadline fired. After it
 * returns the timer thread no longer touches inst. */
bool ap_watch_stop(ap_watch *w);

#endif
