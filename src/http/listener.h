/* listener.h — apron's own listening socket and the one thread that accepts on it (README
 * "Threading"): accepted sockets are handed to libmicrohttpd with MHD_add_connection, so no thread
 * that runs guests ever accepts, and a busy guest never delays an accept. Private to src/http/. */
#ifndef AP_HTTP_LISTENER_H
#define AP_HTTP_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "base/errbuf.h"

typedef struct ap_listener ap_listener;

/* Hands an accepted socket on; it owns fd from then on (closes it also on failure). */
typedef void (*ap_listener_accept_fn)(void *user, int fd, const struct sockaddr *addr,
                                      socklen_t addrlen);

typedef enum {
    AP_LISTENER_OK = 0,
    AP_LISTENER_BAD_ADDRESS, /* not host:port, or the host does not resolve */
    AP_LISTENER_FAILED,      /* socket, bind, listen or the thread failed; e says which */
} ap_listener_status;

/* Binds "HOST:PORT" ("[v6]:PORT", ":PORT" for every address; port 0 picks one) and listens;
 * connections wait in the backlog until ap_listener_start. `bound` receives the address
 * actually bound ("ADDR:PORT"). */
ap_listener_status ap_listener_open(const char *addr, ap_listener **out, char *bound,
                                    size_t boundlen, ap_errbuf *e);
/* Starts the accepting thread, which calls on_accept for each connection until
 * ap_listener_close. False (e set) when the thread cannot be made. */
bool ap_listener_start(ap_listener *l, ap_listener_accept_fn on_accept, void *user, ap_errbuf *e);
/* Stops accepting (connections not yet accepted are refused), joins the thread if started and
 * closes the socket. NULL is a no-op. */
void ap_listener_close(ap_listener *l);

#endif
