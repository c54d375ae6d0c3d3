/* listener.c — listener.h: a blocking accept4 loop on its own thread. ap_listener_close wakes it
 * with shutdown(2), which makes a blocked accept return on Linux. */
#define _GNU_SOURCE /* accept4 */
#include "listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

struct ap_listener {
    int fd;
    pthread_t thread;
    bool started;
    atomic_bool closing;
    ap_listener_accept_fn on_accept;
    void *user;
};

static bool parse_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *sl, ap_errbuf *e)
{
    const char *colon = strrchr(addr, ':');
    if (!colon || colon[1] == '\0') {
        ap_errbuf_set(e, "listen address \"%s\" is not host:port", addr);
        return false;
    }
    char host[256];
    size_t hl = (size_t)(colon - addr);
    if (hl >= sizeof host) hl = sizeof host - 1;
    memcpy(host, addr, hl);
    host[hl] = '\0';
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
                    *res;
    int rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res);
    if (rc != 0) {
        ap_errbuf_set(e, "listen address \"%s\": %s", addr, gai_strerror(rc));
        return false;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *sl = res->ai_addrlen;
    freeaddrinfo(res);
    return true;
}

static void describe(int fd, char *out, size_t outlen)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
            port = ntohs(a->sin6_port);
        } else {
            struct sockaddr_in *a = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
            port = ntohs(a->sin_port);
        }
    }
    snprintf(out, outlen, ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, port);
}

static void *accept_main(void *arg)
{
    ap_listener *l = arg;
    long long quiet_until = 0; /* log "too many open files" at most once a second */
    while (!atomic_load(&l->closing)) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
        if (fd >= 0) {
            l->on_accept(l->user, fd, (struct sockaddr *)&ss, sl);
            continue;
        }
        if (atomic_load(&l->closing)) break;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            /* Out of descriptors or memory: the pending connection waits in the backlog. */
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec >= quiet_until) {
                AP_LOG(AP_LOG_WARN, "accept failed, retrying", AP_LSTR("error", strerror(errno)));
                quiet_until = now.tv_sec + 1;
            }
            usleep(10000);
        } else if (errno != EINTR && errno != ECONNABORTED && errno != EAGAIN &&
                   errno != EPROTO && errno != EPERM) {
            AP_LOG(AP_LOG_ERROR, "accept failed, no longer accepting",
                   AP_LSTR("error", strerror(errno)));
            break;
        }
    }
    return NULL;
}

ap_listener_status ap_listener_open(const char *addr, ap_listener **out, char *bound,
                                    size_t boundlen, ap_errbuf *e)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    if (!parse_addr(addr, &ss, &sl, e)) return AP_LISTENER_BAD_ADDRESS;
    ap_listener *l = calloc(1, sizeof *l);
    if (!l) {
        ap_errbuf_set(e, "out of memory");
        return AP_LISTENER_FAILED;
    }
    l->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    const char *step = "socket";
    if (l->fd < 0) goto fail;
    step = "setsockopt";
    if (setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) goto fail;
    step = "bind";
    if (bind(l->fd, (struct sockaddr *)&ss, sl) != 0) goto fail;
    step = "listen";
    if (listen(l->fd, SOMAXCONN) != 0) goto fail;
    describe(l->fd, bound, boundlen);
    *out = l;
    return AP_LISTENER_OK;
fail:
    ap_errbuf_set(e, "cannot listen on %s: %s: %s", addr, step, strerror(errno));
    if (l->fd >= 0) close(l->fd);
    free(l);
    return AP_LISTENER_FAILED;
}

bool ap_listener_start(ap_listener *l, ap_listener_accept_fn on_accept, void *user, ap_errbuf *e)
{
    l->on_accept = on_accept;
    l->user = user;
    int rc = pthread_create(&l->thread, NULL, accept_main, l);
    if (rc != 0) {
        ap_errbuf_set(e, "cannot start the accepting thread: %s", strerror(rc));
        return false;
    }
    l->started = true;
    return true;
}

void ap_listener_close(ap_listener *l)
{
    if (!l) return;
    atomic_store(&l->closing, true);
    shutdown(l->fd, SHUT_RDWR);
    if (l->started) pthread_join(l->thread, NULL);
    close(l->fd);
    free(l);
}
