/* kvprobe.c — test guest for the kvstore capability on every back end
 * (tests/integration/backends.sh). The payload is a command:
 *   "set KEY VALUE"  stores VALUE, answers "ok"
 *   "get KEY"        answers the value
 *   "del KEY"        answers "ok"
 *   "keys"           answers the keys, one per line, sorted
 * A failed host call fails the function with "kvstore CODE: TEXT" (CODE is the status code of
 * the host's reply), which the server answers as a 500 with that text. */
#include <stdlib.h>
#include <string.h>

#include "apron.h"

static int cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static apron_status probe(const uint8_t *payload, size_t len, apron_buf *out)
{
    apron_buf cmd = APRON_BUF_INIT, val = APRON_BUF_INIT;
    apron_error err = {0, ""};
    apron_status st;
    if (apron_buf_append(&cmd, payload, len) != APRON_OK) return apron_fail(out, "out of memory");
    char *op = (char *)cmd.ptr, *key = NULL, *value = NULL;
    if (!op) return apron_fail(out, "empty command");
    if ((key = strchr(op, ' '))) *key++ = '\0';
    if (key && (value = strchr(key, ' '))) *value++ = '\0';

    if (strcmp(op, "set") == 0 && key && value) {
        st = apron_kv_set(key, value, strlen(value), &err);
        if (st == APRON_OK) st = apron_buf_puts(out, "ok");
    } else if (strcmp(op, "get") == 0 && key) {
        st = apron_kv_get(key, &val, &err);
        if (st == APRON_OK) st = apron_buf_append(out, val.ptr, val.len);
    } else if (strcmp(op, "del") == 0 && key) {
        st = apron_kv_delete(key, &err);
        if (st == APRON_OK) st = apron_buf_puts(out, "ok");
    } else if (strcmp(op, "keys") == 0) {
        apron_strlist keys = {0};
        st = apron_kv_keys(&keys, &err);
        if (st == APRON_OK) {
            qsort(keys.items, keys.count, sizeof keys.items[0], cmp);
            for (size_t i = 0; i < keys.count && st == APRON_OK; i++)
                st = apron_buf_printf(out, "%s\n", keys.items[i]);
        }
        apron_strlist_free(&keys);
    } else {
        apron_buf_free(&cmd);
        return apron_fail(out, "unknown command");
    }
    apron_buf_free(&cmd);
    apron_buf_free(&val);
    if (st == APRON_OK) return APRON_OK;
    return apron_fail(out, "kvstore %d: %s", err.code, err.msg);
}

void apron_init(void)
{
    apron_register("handler", probe);
}
