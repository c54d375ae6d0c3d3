/* ready.h — the process-wide readiness probe behind /ready (TARMAC.md §2.6): the capability
 * layer installs one that pings its back ends; the HTTP server asks it per request. No probe
 * installed means ready. Thread-safe. */
#ifndef AP_READY_H
#define AP_READY_H

#include <stdbool.h>

#include "errbuf.h"

typedef bool (*ap_ready_probe)(void *user, ap_errbuf *e);

/* Installs (or with NULL removes) the probe; `user` must stay valid until it is replaced. */
void ap_ready_set_probe(ap_ready_probe fn, void *user);
/* True when no probe is installed or it answers ready; e (may be NULL) says why not. */
bool ap_ready_check(ap_errbuf *e);

#endif
