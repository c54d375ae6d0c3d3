/* redis.c — kvstore_type `redis`: GET/SET/DEL/`KEYS *` over hiredis (0.14, blocking API), on a
 * small pool of connections shared by the worker threads, directly to redis_server or to the
 * master that the Sentinels in redis_sentinel_servers name for redis_sentinel_master (TARMAC.md
 * §5.2–5.3).
 *
 * Outages: every socket has a connect timeout and read/write timeouts (the settings in seconds,
 * or 1 s where Tarmac's 0 means "none"), so a dead or stalled server costs a caller at most about
 * a second and ends in AP_KV_UNAVAILABLE, never a hang. A connection that failed is closed, and
 * so is every idle one (they point at the same dead server); the next op dials afresh, which is
 * how the back end recovers once Redis is back. An op on a reused connection that fails on I/O is
 * retried once on a fresh one, so the first call after a Redis restart succeeds.
 *
 * Tarmac checks `ROLE` = master on every borrowed connection in Sentinel mode; apron checks it
 * when a connection is made, and a failover shows up as an error (READONLY, or I/O when the old
 * master goes away) that closes the connection, after which the Sentinels are asked again. */
#include "backend/kv.h"

#include <errno.h>
#include <stdarg.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define IDLE_MAX 32      /* idle connections kept for reuse */
#define DEFAULT_MS 1000  /* connect / read / write timeout where the setting is 0 */
#define POOL_WAIT_MS 5000 /* redis_max_active reached: how long a caller waits for a connection */

typedef struct {
    char host[256];
    int port; /* 0: host is a Unix socket path */
} redis_addr;

typedef struct {
    ap_kv base;
    redis_addr server;     /* redis_server, when no sentinels */
    redis_addr *sentinels; /* redis_sentinel_servers */
    size_t nsentinels;
    char *master; /* redis_sentinel_master */
    char *password;
    int64_t database;
    int connect_ms, read_ms, write_ms, keepalive_s;
    int64_t max_active; /* 0: unlimited */

    pthread_mutex_t lock;
    pthread_cond_t freed;
    redisContext *idle[IDLE_MAX];
    int nidle;
    int64_t active; /* connections handed out */
} redis_kv;

/* ---- addresses and settings ---- */

/* "host:port", "[v6]:port", "host" (port 6379) or "/path/to/socket". */
static bool parse_addr(const char *text, redis_addr *a, ap_errbuf *e)
{
    memset(a, 0, sizeof *a);
    const char *host = text, *colon = NULL;
    size_t hlen;
    if (text[0] == '/') {
        if (strlen(text) >= sizeof a->host)
            goto bad;
        strcpy(a->host, text);
        return true;
    }
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close)
            goto bad;
        host = text + 1;
        hlen = (size_t)(close - host);
        colon = close[1] == ':' ? close + 1 : NULL;
        if (!colon && close[1])
            goto bad;
    } else {
        colon = strrchr(text, ':');
        hlen = colon ? (size_t)(colon - text) : strlen(text);
    }
    if (hlen == 0 || hlen >= sizeof a->host)
        goto bad;
    memcpy(a->host, host, hlen);
    a->port = 6379;
    if (colon) {
        char *end;
        long p = strtol(colon + 1, &end, 10);
        if (colon[1] == '\0' || *end || p <= 0 || p > 65535)
            goto bad;
        a->port = (int)p;
    }
    return true;
bad:
    ap_errbuf_set(e, "redis: bad address \"%s\" (want host:port)", text);
    return false;
}

static int timeout_ms(int64_t seconds)
{
    if (seconds <= 0)
        return DEFAULT_MS;
    return seconds > 86400 ? 86400000 : (int)seconds * 1000;
}

static struct timeval tv_of(int ms)
{
    return (struct timeval){.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
}

/* ---- connections ---- */

static void set_socket_options(const redis_kv *r, redisContext *c)
{
    struct timeval rtv = tv_of(r->read_ms), wtv = tv_of(r->write_ms);
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &rtv, sizeof rtv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &wtv, sizeof wtv);
    if (r->keepalive_s > 0) {
        int on = 1, idle = r->keepalive_s, intvl = r->keepalive_s > 3 ? r->keepalive_s / 3 : 1,
            cnt = 3;
        setsockopt(c->fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
        setsockopt(c->fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
        setsockopt(c->fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
        setsockopt(c->fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
    }
}

static redisContext *dial(const redis_kv *r, const redis_addr *a, ap_errbuf *e)
{
    struct timeval tv = tv_of(r->connect_ms);
    redisContext *c = a->port ? redisConnectWithTimeout(a->host, a->port, tv)
                              : redisConnectUnixWithTimeout(a->host, tv);
    if (!c) {
        ap_errbuf_set(e, "redis: connect %s: out of memory", a->host);
        return NULL;
    }
    if (c->err) {
        if (a->port)
            ap_errbuf_set(e, "redis: connect %s:%d: %s", a->host, a->port, c->errstr);
        else
            ap_errbuf_set(e, "redis: connect %s: %s", a->host, c->errstr);
        redisFree(c);
        return NULL;
    }
    set_socket_options(r, c);
    return c;
}

/* Runs one command whose reply must not be an error; NULL (and e set) otherwise. */
static redisReply *command_ok(redisContext *c, const char *what, ap_errbuf *e, const char *fmt,
                              ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *rep = redisvCommand(c, fmt, ap);
    va_end(ap);
    if (!rep) {
        ap_errbuf_set(e, "redis: %s: %s", what, c->errstr[0] ? c->errstr : "no reply");
        return NULL;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        ap_errbuf_set(e, "redis: %s: %s", what, rep->str);
        freeReplyObject(rep);
        return NULL;
    }
    return rep;
}

/* Asks each Sentinel in turn for the master's address. */
static bool sentinel_master(const redis_kv *r, redis_addr *out, ap_errbuf *e)
{
    for (size_t i = 0; i < r->nsentinels; i++) {
        redisContext *c = dial(r, &r->sentinels[i], e);
        if (!c)
            continue;
        redisReply *rep =
            command_ok(c, "SENTINEL get-master-addr-by-name", e,
                       "SENTINEL get-master-addr-by-name %s", r->master);
        bool ok = false;
        if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
            rep->element[0]->type == REDIS_REPLY_STRING &&
            rep->element[1]->type == REDIS_REPLY_STRING &&
            rep->element[0]->len < sizeof out->host) {
            memset(out, 0, sizeof *out);
            memcpy(out->host, rep->element[0]->str, rep->element[0]->len);
            out->port = atoi(rep->element[1]->str);
            ok = out->port > 0 && out->port <= 65535;
        } else if (rep) {
            ap_errbuf_set(e, "redis: sentinel %s:%d does not know master \"%s\"",
                          r->sentinels[i].host, r->sentinels[i].port, r->master);
        }
        freeReplyObject(rep);
        redisFree(c);
        if (ok)
            return true;
    }
    return false;
}

/* A new connection: dialled, authenticated, database selected, master role checked. */
static ap_kv_status connect_one(const redis_kv *r, redisContext **out, ap_errbuf *e)
{
    redis_addr master;
    const redis_addr *a = &r->server;
    if (r->nsentinels) {
        if (!sentinel_master(r, &master, e))
            return AP_KV_UNAVAILABLE;
        a = &master;
    }
    redisContext *c = dial(r, a, e);
    if (!c)
        return AP_KV_UNAVAILABLE;
    redisReply *rep = NULL;
    if (r->password[0] && !(rep = command_ok(c, "AUTH", e, "AUTH %s", r->password)))
        goto fail;
    freeReplyObject(rep);
    rep = NULL;
    if (r->database && !(rep = command_ok(c, "SELECT", e, "SELECT %lld", (long long)r->database)))
        goto fail;
    freeReplyObject(rep);
    rep = NULL;
    if (r->nsentinels) {
        if (!(rep = command_ok(c, "ROLE", e, "ROLE")))
            goto fail;
        if (rep->type != REDIS_REPLY_ARRAY || rep->elements == 0 ||
            rep->element[0]->type != REDIS_REPLY_STRING ||
            strcmp(rep->element[0]->str, "master") != 0) {
            ap_errbuf_set(e, "redis: %s:%d is not a master", a->host, a->port);
            goto fail;
        }
        freeReplyObject(rep);
    }
    *out = c;
    return AP_KV_OK;
fail:
    freeReplyObject(rep);
    redisFree(c);
    return AP_KV_UNAVAILABLE;
}

/* A connection for one op: an idle one (*reused = true) or a new one. */
static ap_kv_status borrow(redis_kv *r, redisContext **out, bool *reused, ap_errbuf *e)
{
    pthread_mutex_lock(&r->lock);
    if (r->max_active > 0 && r->active >= r->max_active) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += POOL_WAIT_MS / 1000;
        while (r->active >= r->max_active)
            if (pthread_cond_timedwait(&r->freed, &r->lock, &until) == ETIMEDOUT)
                break;
        if (r->active >= r->max_active) {
            pthread_mutex_unlock(&r->lock);
            ap_errbuf_set(e, "redis: all %lld connections (redis_max_active) stayed busy",
                          (long long)r->max_active);
            return AP_KV_UNAVAILABLE;
        }
    }
    r->active++;
    redisContext *c = r->nidle ? r->idle[--r->nidle] : NULL;
    pthread_mutex_unlock(&r->lock);
    *reused = c != NULL;
    ap_kv_status st = c ? AP_KV_OK : connect_one(r, &c, e);
    if (st != AP_KV_OK) {
        pthread_mutex_lock(&r->lock);
        r->active--;
        pthread_cond_signal(&r->freed);
        pthread_mutex_unlock(&r->lock);
        return st;
    }
    *out = c;
    return AP_KV_OK;
}

/* Returns c to the pool; a broken connection is closed, and the idle ones with it. */
static void give_back(redis_kv *r, redisContext *c, bool broken)
{
    redisContext *drop[IDLE_MAX + 1];
    int ndrop = 0;
    pthread_mutex_lock(&r->lock);
    r->active--;
    if (broken) {
        drop[ndrop++] = c;
        while (r->nidle)
            drop[ndrop++] = r->idle[--r->nidle];
    } else if (r->nidle < IDLE_MAX) {
        r->idle[r->nidle++] = c;
    } else {
        drop[ndrop++] = c;
    }
    pthread_cond_signal(&r->freed);
    pthread_mutex_unlock(&r->lock);
    for (int i = 0; i < ndrop; i++)
        redisFree(drop[i]);
}

/* ---- ops ---- */

typedef struct {
    const char *what; /* for messages: "GET" */
    int argc;
    const char *argv[3];
    size_t argl[3];
} redis_cmd;

/* Runs cmd on a pooled connection, retrying once on a fresh one when a reused connection fails
 * on I/O (a restarted server). On AP_KV_OK *rep is the reply (the caller frees it); a reply
 * that is an error is AP_KV_FAILED. */
static ap_kv_status run(redis_kv *r, redis_cmd *cmd, redisReply **rep, ap_errbuf *e)
{
    for (int attempt = 0;; attempt++) {
        redisContext *c;
        bool reused;
        ap_kv_status st = borrow(r, &c, &reused, e);
        if (st != AP_KV_OK)
            return st;
        redisReply *x = redisCommandArgv(c, cmd->argc, cmd->argv, cmd->argl);
        if (!x) {
            ap_errbuf_set(e, "redis: %s: %s", cmd->what, c->errstr[0] ? c->errstr : "no reply");
            give_back(r, c, true);
            if (reused && attempt == 0)
                continue;
            return AP_KV_UNAVAILABLE;
        }
        if (x->type == REDIS_REPLY_ERROR) {
            ap_errbuf_set(e, "redis: %s: %s", cmd->what, x->str);
            /* READONLY: the master became a replica (failover); LOADING: a restart. */
            bool moved = strncmp(x->str, "READONLY", 8) == 0 || strncmp(x->str, "LOADING", 7) == 0;
            freeReplyObject(x);
            give_back(r, c, moved);
            return moved ? AP_KV_UNAVAILABLE : AP_KV_FAILED;
        }
        give_back(r, c, false);
        *rep = x;
        return AP_KV_OK;
    }
}

static ap_kv_status redis_get(ap_kv *kv, ap_bytes key, ap_buf *val, ap_errbuf *e)
{
    if (key.len == 0) {
        ap_errbuf_set(e, "key cannot be nil");
        return AP_KV_INVALID;
    }
    redis_cmd cmd = {"GET", 2, {"GET", (const char *)key.ptr}, {3, key.len}};
    redisReply *rep;
    ap_kv_status st = run((redis_kv *)kv, &cmd, &rep, e);
    if (st != AP_KV_OK)
        return st;
    if (rep->type == REDIS_REPLY_NIL) {
        ap_errbuf_set(e, "nil value returned from database");
        st = AP_KV_NOTFOUND;
    } else if (rep->type != REDIS_REPLY_STRING) {
        ap_errbuf_set(e, "redis: GET: unexpected reply type %d", rep->type);
        st = AP_KV_FAILED;
    } else if (!ap_buf_append(val, rep->str, rep->len)) {
        ap_errbuf_set(e, "redis: GET: out of memory");
        st = AP_KV_FAILED;
    }
    freeReplyObject(rep);
    return st;
}

static ap_kv_status redis_set(ap_kv *kv, ap_bytes key, ap_bytes val, ap_errbuf *e)
{
    if (key.len == 0 || val.len == 0) {
        ap_errbuf_set(e, key.len == 0 ? "key cannot be nil" : "data cannot be empty");
        return AP_KV_INVALID;
    }
    redis_cmd cmd = {
        "SET", 3, {"SET", (const char *)key.ptr, (const char *)val.ptr}, {3, key.len, val.len}};
    redisReply *rep;
    ap_kv_status st = run((redis_kv *)kv, &cmd, &rep, e);
    if (st == AP_KV_OK)
        freeReplyObject(rep);
    return st;
}

static ap_kv_status redis_del(ap_kv *kv, ap_bytes key, ap_errbuf *e)
{
    if (key.len == 0) {
        ap_errbuf_set(e, "key cannot be nil");
        return AP_KV_INVALID;
    }
    redis_cmd cmd = {"DEL", 2, {"DEL", (const char *)key.ptr}, {3, key.len}};
    redisReply *rep;
    ap_kv_status st = run((redis_kv *)kv, &cmd, &rep, e);
    if (st == AP_KV_OK)
        freeReplyObject(rep);
    return st;
}

static ap_kv_status redis_keys(ap_kv *kv, ap_kv_keylist *out, ap_errbuf *e)
{
    redis_cmd cmd = {"KEYS", 2, {"KEYS", "*"}, {4, 1}};
    redisReply *rep;
    ap_kv_status st = run((redis_kv *)kv, &cmd, &rep, e);
    if (st != AP_KV_OK)
        return st;
    if (rep->type != REDIS_REPLY_ARRAY) {
        ap_errbuf_set(e, "redis: KEYS: unexpected reply type %d", rep->type);
        freeReplyObject(rep);
        return AP_KV_FAILED;
    }
    ap_kv_keylist got = {0};
    for (size_t i = 0; i < rep->elements; i++) {
        const redisReply *k = rep->element[i];
        if (k->type != REDIS_REPLY_STRING)
            continue;
        if (!ap_kv_keylist_add(&got, k->str, k->len)) {
            ap_errbuf_set(e, "redis: KEYS: out of memory");
            ap_kv_keylist_free(&got);
            freeReplyObject(rep);
            return AP_KV_FAILED;
        }
    }
    freeReplyObject(rep);
    /* out is empty on entry: hand over what was collected. */
    ap_kv_keylist_free(out);
    *out = got;
    return AP_KV_OK;
}

static ap_kv_status redis_ping(ap_kv *kv, ap_errbuf *e)
{
    redis_cmd cmd = {"PING", 1, {"PING"}, {4}};
    redisReply *rep;
    ap_kv_status st = run((redis_kv *)kv, &cmd, &rep, e);
    if (st != AP_KV_OK)
        return AP_KV_UNAVAILABLE;
    freeReplyObject(rep);
    return AP_KV_OK;
}

static void redis_close(ap_kv *kv)
{
    redis_kv *r = (redis_kv *)kv;
    while (r->nidle)
        redisFree(r->idle[--r->nidle]);
    pthread_cond_destroy(&r->freed);
    pthread_mutex_destroy(&r->lock);
    free(r->sentinels);
    free(r->master);
    free(r->password);
    free(r);
}

static const ap_kv_ops redis_ops = {
    .name = "redis",
    .get = redis_get,
    .set = redis_set,
    .del = redis_del,
    .keys = redis_keys,
    .ping = redis_ping,
    .close = redis_close,
};

/* Reads the redis_* settings and dials once (PING), as Tarmac does at start-up: an unreachable
 * server fails the start with AP_KV_UNAVAILABLE. Later outages are the ops' business. */
ap_kv_status ap_kv_redis_open(const ap_settings *s, ap_kv **out, ap_errbuf *e)
{
    ap_kv_status st = AP_KV_INVALID;
    redis_kv *r = calloc(1, sizeof *r);
    if (!r) {
        ap_errbuf_set(e, "redis: out of memory");
        return AP_KV_FAILED;
    }
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->freed, NULL);
    r->base.ops = &redis_ops;
    r->database = s->redis_database;
    r->connect_ms = timeout_ms(s->redis_connect_timeout);
    r->read_ms = timeout_ms(s->redis_read_timeout);
    r->write_ms = timeout_ms(s->redis_write_timeout);
    r->keepalive_s = s->redis_keepalive > 0 && s->redis_keepalive < 86400 ? (int)s->redis_keepalive
                                                                          : 0;
    r->max_active = s->redis_max_active > 0 ? s->redis_max_active : 0;
    r->password = strdup(s->redis_password ? s->redis_password : "");
    r->master = strdup(s->redis_sentinel_master ? s->redis_sentinel_master : "");
    if (!r->password || !r->master) {
        ap_errbuf_set(e, "redis: out of memory");
        st = AP_KV_FAILED;
        goto fail;
    }
    if (r->database < 0) {
        ap_errbuf_set(e, "redis: redis_database must not be negative");
        goto fail;
    }
    if (s->redis_sentinel_servers.n > 0) {
        if (!r->master[0]) {
            ap_errbuf_set(e, "redis: redis_sentinel_servers needs redis_sentinel_master");
            goto fail;
        }
        r->sentinels = calloc(s->redis_sentinel_servers.n, sizeof *r->sentinels);
        if (!r->sentinels) {
            ap_errbuf_set(e, "redis: out of memory");
            st = AP_KV_FAILED;
            goto fail;
        }
        for (size_t i = 0; i < s->redis_sentinel_servers.n; i++) {
            if (!parse_addr(s->redis_sentinel_servers.v[i], &r->sentinels[i], e))
                goto fail;
            if (r->sentinels[i].port == 6379 && !strchr(s->redis_sentinel_servers.v[i], ':'))
                r->sentinels[i].port = 26379; /* a Sentinel's own default */
        }
        r->nsentinels = s->redis_sentinel_servers.n;
    } else if (!s->redis_server || !s->redis_server[0]) {
        ap_errbuf_set(e, "redis: set redis_server (host:port) or redis_sentinel_servers");
        goto fail;
    } else if (!parse_addr(s->redis_server, &r->server, e)) {
        goto fail;
    }
    if ((st = redis_ping(&r->base, e)) != AP_KV_OK)
        goto fail;
    *out = &r->base;
    return AP_KV_OK;
fail:
    redis_close(&r->base);
    return st;
}
