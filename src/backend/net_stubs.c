/* net_stubs.c — refusals standing in for the network back ends until their files exist (see the
 * note atop kv.h): whoever adds kv/redis.c, kv/nats.c, sql/postgres.c or sql/mysql.c deletes the
 * matching function here in the same commit, and this file once it is empty. */
#include "backend/kv.h"
#include "backend/sql.h"

ap_kv_status ap_kv_redis_open(const ap_settings *s, ap_kv **out, ap_errbuf *e)
{
    ap_errbuf_set(e, "kvstore_type redis is not built into this apron yet");
    return AP_KV_INVALID;
}

ap_kv_status ap_kv_nats_open(const ap_settings *s, ap_kv **out, ap_errbuf *e)
{
    ap_errbuf_set(e, "kvstore_type nats is not built into this apron yet");
    return AP_KV_INVALID;
}

ap_sql_status ap_sql_postgres_open(const ap_settings *s, ap_sql **out, ap_errbuf *e)
{
    ap_errbuf_set(e, "sql_type postgres is not built into this apron yet");
    return AP_SQL_INVALID;
}

ap_sql_status ap_sql_mysql_open(const ap_settings *s, ap_sql **out, ap_errbuf *e)
{
    ap_errbuf_set(e, "sql_type mysql is not built into this apron yet");
    return AP_SQL_INVALID;
}
