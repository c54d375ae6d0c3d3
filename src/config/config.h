/* config.h — apron's configuration as plain structs: the settings of TARMAC.md §5 (defaults, a
 * JSON config file, APP_* environment variables, command-line overrides) and the tarmac.json
 * function configuration of TARMAC.md §3. Parsing only; nothing here starts anything.
 *
 * Deliberate differences from Tarmac (documented in the README):
 *   - an ill-typed value (APP_DEBUG=yes, APP_WASM_POOL_SIZE=ten) or an unknown key in the config
 *     file or among the APP_* variables is a start-up error naming the key, where Tarmac coerces
 *     it to false/0 or ignores it;
 *   - an invalid tarmac.json is a start-up error listing every problem (file, JSON path, what is
 *     wrong), where Tarmac silently falls back on single-function mode. A *missing* tarmac.json
 *     still selects single-function mode, as in Tarmac.
 */
#ifndef AP_CONFIG_H
#define AP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/errbuf.h"

typedef enum {
    AP_CONFIG_OK = 0,
    AP_CONFIG_INVALID,  /* a value, key or file is wrong; the message says which */
    AP_CONFIG_NOTFOUND, /* the file does not exist (tarmac.json: single-function mode) */
    AP_CONFIG_IO,       /* the file exists but cannot be read */
    AP_CONFIG_NOMEM,
} ap_config_status;

typedef struct {
    char **v;
    size_t n;
} ap_strlist;

/* Every key, once: X(name, type, default as text). Types: BOOL → bool, INT → int64_t,
 * STRING → char * (owned, never NULL), LIST → ap_strlist. Defaults are parsed with the
 * environment's rules. The last block is apron's own (Tarmac has no limits or timeouts). */
#define AP_SETTINGS_KEYS(X)                                                                        \
    X(enable_tls, BOOL, "true")                                                                    \
    X(listen_addr, STRING, "0.0.0.0:8443")                                                         \
    X(cert_file, STRING, "/certs/cert.crt")                                                        \
    X(key_file, STRING, "/certs/key.key")                                                          \
    X(ca_file, STRING, "")                                                                         \
    X(ignore_client_cert, BOOL, "false")                                                           \
    X(use_consul, BOOL, "false")                                                                   \
    X(consul_addr, STRING, "")                                                                     \
    X(consul_keys_prefix, STRING, "")                                                              \
    X(config_watch_interval, INT, "15")                                                            \
    X(from_consul, BOOL, "false")                                                                  \
    X(debug, BOOL, "false")                                                                        \
    X(trace, BOOL, "false")                                                                        \
    X(disable_logging, BOOL, "false")                                                              \
    X(text_log_format, BOOL, "false")                                                              \
    X(wasm_function, STRING, "/functions/tarmac.wasm")                                             \
    X(wasm_function_config, STRING, "/functions/tarmac.json")                                      \
    X(wasm_pool_size, INT, "0")                                                                    \
    X(enable_pprof, BOOL, "false")                                                                 \
    X(enable_maintenance_mode, BOOL, "false")                                                      \
    X(enable_kvstore, BOOL, "false")                                                               \
    X(kvstore_type, STRING, "internal")                                                            \
    X(enable_sql, BOOL, "false")                                                                   \
    X(sql_type, STRING, "")                                                                        \
    X(sql_dsn, STRING, "")                                                                         \
    X(run_mode, STRING, "daemon")                                                                  \
    X(http_client_max_response_body_size, INT, "10485760")                                         \
    X(enable_metrics, BOOL, "true")                                                                \
    X(grpc_socket_path, STRING, "/grpc.sock")                                                      \
    X(boltdb_filename, STRING, "/data/tarmac/tarmac.db")                                           \
    X(boltdb_bucket, STRING, "tarmac")                                                             \
    X(boltdb_permissions, INT, "0600")                                                             \
    X(boltdb_timeout, INT, "5")                                                                    \
    X(redis_server, STRING, "")                                                                    \
    X(redis_password, STRING, "")                                                                  \
    X(redis_database, INT, "0")                                                                    \
    X(redis_sentinel_servers, LIST, "")                                                            \
    X(redis_sentinel_master, STRING, "")                                                           \
    X(redis_connect_timeout, INT, "0")                                                             \
    X(redis_read_timeout, INT, "0")                                                                \
    X(redis_write_timeout, INT, "0")                                                               \
    X(redis_keepalive, INT, "0")                                                                   \
    X(redis_max_active, INT, "0")                                                                  \
    X(redis_hostname_verify, BOOL, "false")                                                        \
    X(cassandra_hosts, LIST, "")                                                                   \
    X(cassandra_port, INT, "0")                                                                    \
    X(cassandra_keyspace, STRING, "")                                                              \
    X(cassandra_consistency, STRING, "")                                                           \
    X(cassandra_repl_strategy, STRING, "SimpleStrategy")                                           \
    X(cassandra_replicas, INT, "1")                                                                \
    X(cassandra_user, STRING, "")                                                                  \
    X(cassandra_password, STRING, "")                                                              \
    X(cassandra_hostname_verify, BOOL, "false")                                                    \
    X(nats_url, STRING, "nats://localhost:4222")                                                   \
    X(nats_servers, LIST, "")                                                                      \
    X(nats_bucket, STRING, "tarmac")                                                               \
    X(nats_skip_tls_verify, BOOL, "false")                                                         \
    /* apron's own */                                                                              \
    X(max_request_body_size, INT, "10485760")                                                      \
    X(max_header_size, INT, "16384")                                                               \
    X(http_idle_timeout, INT, "60")                                                                \
    X(http_threading, STRING, "event-loop")                                                        \
    X(http_threads, INT, "0")                                                                      \
    X(wasm_workers, INT, "0")                                                                      \
    X(pool_wait_timeout_ms, INT, "5000")                                                           \
    X(shutdown_timeout, INT, "30")                                                                 \
    /* apron's own, capabilities (docs/capabilities.md) */                                        \
    X(lmdb_map_size, INT, "1073741824")                                                            \
    X(sqlite_busy_timeout_ms, INT, "5000")                                                         \
    X(function_max_depth, INT, "16")                                                               \
    /* apron's own, per-function limits and isolation: defaults for tarmac.json's functions      \
     * (docs/isolation.md) */                                                                     \
    X(timeout_ms, INT, "30000")                                                                    \
    X(max_memory_pages, INT, "16384")                                                              \
    X(max_call_depth, INT, "10000")                                                                \
    X(max_host_payload, INT, "16777216")                                                           \
    X(isolation, STRING, "pool")

#define AP_SETTING_FIELD_BOOL bool
#define AP_SETTING_FIELD_INT int64_t
#define AP_SETTING_FIELD_STRING char *
#define AP_SETTING_FIELD_LIST ap_strlist

typedef struct {
#define AP_SETTING_DECL(name, type, def) AP_SETTING_FIELD_##type name;
    AP_SETTINGS_KEYS(AP_SETTING_DECL)
#undef AP_SETTING_DECL
    char *config_file; /* the config file that was read, or NULL */
} ap_settings;

/* Fills s with every default. s is overwritten (not freed first); free it with
 * ap_settings_free. */
ap_config_status ap_settings_defaults(ap_settings *s);

/* Sets one key from text with the environment's typing rules (bool: 1 t T TRUE true True, 0 f F
 * FALSE false False, or "" for false; int: decimal, 0x hex, 0 octal, "" for 0; list: words
 * separated by white space). `origin` names the source in the error ("APP_DEBUG", "--listen").
 * Unknown key or ill-typed text → AP_CONFIG_INVALID, s unchanged. Keys compare case-insensitively. */
ap_config_status ap_settings_set(ap_settings *s, const char *key, const char *text,
                                 const char *origin, ap_errbuf *e);

/* Reads a JSON config file (one flat object, keys as in TARMAC.md §5.2, case-insensitive).
 * Values may be JSON values of the key's type or strings (read as ap_settings_set does); lists
 * may be arrays of strings. Every problem is appended to `problems` (one line each); any problem
 * → AP_CONFIG_INVALID. A missing file → AP_CONFIG_NOTFOUND. */
ap_config_status ap_settings_load_file(ap_settings *s, const char *path, ap_buf *problems);

/* Applies every APP_<KEY> variable of `envp` (NULL-terminated "NAME=value" strings). Unknown
 * APP_ names and ill-typed values are appended to `problems`; any → AP_CONFIG_INVALID. */
ap_config_status ap_settings_load_env(ap_settings *s, char *const *envp, ap_buf *problems);

/* Appends "key=value" lines for every setting, in table order (for `--print-config`). */
bool ap_settings_dump(const ap_settings *s, ap_buf *out);

void ap_settings_free(ap_settings *s);

/* ---- tarmac.json (TARMAC.md §3) ---- */

typedef enum {
    AP_ROUTE_HTTP,
    AP_ROUTE_INIT,
    AP_ROUTE_SCHEDULED_TASK,
    AP_ROUTE_FUNCTION,
    AP_ROUTE_OTHER, /* any other type: accepted and ignored, as in Tarmac */
} ap_route_type;

typedef struct {
    ap_route_type type;
    char *type_name; /* as written */
    char *function;
    char *path;      /* http */
    char **methods;  /* http, verbatim */
    size_t nmethods;
    int64_t frequency; /* scheduled_task (≠ 0), init (0 → 1) */
    int64_t retries;   /* init */
    char *topic;       /* parsed, unused */
} ap_tarmac_route;

typedef enum {
    AP_TARMAC_ISOLATION_DEFAULT = 0, /* not given: the setting `isolation` decides */
    AP_TARMAC_ISOLATION_POOL,
    AP_TARMAC_ISOLATION_REQUEST,
} ap_tarmac_isolation;

typedef struct {
    char *name;
    char *filepath;    /* resolved against the tarmac.json's directory */
    int64_t pool_size; /* ≤ 0 in the file → 100 */
    /* apron's own limits (docs/isolation.md); 0 = not given, the server's setting applies */
    int64_t timeout_ms;
    int64_t max_memory_pages; /* ≤ 65536 */
    int64_t max_call_depth;
    int64_t max_host_payload; /* ≤ 4 GiB - 1 */
    ap_tarmac_isolation isolation; /* "pool" or "request" */
    /* apron's own: the hosts tarmac:httpclient:call may reach (docs/capabilities.md) */
    bool has_allowed_hosts; /* "allowed_hosts" given (even empty: no host allowed) */
    ap_strlist allowed_hosts;
} ap_tarmac_function;

typedef struct {
    char *key;  /* the key under "services" */
    char *name;
    ap_tarmac_function *functions;
    size_t nfunctions;
    ap_tarmac_route *routes;
    size_t nroutes;
} ap_tarmac_service;

typedef struct {
    char *path; /* the file read */
    ap_tarmac_service *services;
    size_t nservices;
} ap_tarmac;

#define AP_TARMAC_DEFAULT_POOL_SIZE 100

/* Parses and validates the tarmac.json at `path`. Services, functions and routes keep file
 * order. Every problem is appended to `problems`, one line each, as "FILE: JSON.PATH: what is
 * wrong"; any problem → AP_CONFIG_INVALID and *out untouched. Missing file → AP_CONFIG_NOTFOUND.
 * On success *out is the caller's (ap_tarmac_free). */
ap_config_status ap_tarmac_load(const char *path, ap_tarmac **out, ap_buf *problems);

/* The same for JSON text in memory; relative filepaths resolve against `dir`. */
ap_config_status ap_tarmac_parse(const char *text, size_t len, const char *name, const char *dir,
                                 ap_tarmac **out, ap_buf *problems);

void ap_tarmac_free(ap_tarmac *t); /* NULL is a no-op */

#endif
