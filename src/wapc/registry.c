/* registry.c — the one host-call registry: handlers keyed by binding/namespace/operation, with
 * wildcards and binding aliases, so capabilities plug in without touching the waPC host.
 * A handful of entries: a linear scan is cheaper than any index at this size. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    char *key[3]; /* binding, namespace, operation; NULL = wildcard */
    ap_wapc_handler fn;
    void *user;
} reg_entry;

typedef struct {
    char *alias, *target;
} reg_alias;

struct ap_wapc_registry {
    reg_entry *entries;
    size_t count, cap;
    reg_alias *aliases;
    size_t alias_count;
};

ap_wapc_registry *ap_wapc_registry_new(void) { return calloc(1, sizeof(ap_wapc_registry)); }

void ap_wapc_registry_free(ap_wapc_registry *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < reg->count; i++)
        for (int k = 0; k < 3; k++)
            free(reg->entries[i].key[k]);
    for (size_t i = 0; i < reg->alias_count; i++) {
        free(reg->aliases[i].alias);
        free(reg->aliases[i].target);
    }
    free(reg->entries);
    free(reg->aliases);
    free(reg);
}

static bool dup_key(const char *s, char **out)
{
    *out = NULL;
    if (!s)
        return true;
    *out = strdup(s);
    return *out != NULL;
}

bool ap_wapc_register(ap_wapc_registry *reg, const char *binding, const char *namespace_,
                      const char *operation, ap_wapc_handler fn, void *user)
{
    if (reg->count == reg->cap) {
        size_t cap = reg->cap ? reg->cap * 2 : 16;
        reg_entry *e = realloc(reg->entries, cap * sizeof *e);
        if (!e)
            return false;
        reg->entries = e;
        reg->cap = cap;
    }
    reg_entry *e = &reg->entries[reg->count];
    const char *keys[3] = {binding, namespace_, operation};
    for (int k = 0; k < 3; k++) {
        if (!dup_key(keys[k], &e->key[k])) {
            while (k-- > 0)
                free(e->key[k]);
            return false;
        }
    }
    e->fn = fn;
    e->user = user;
    reg->count++;
    return true;
}

bool ap_wapc_registry_alias(ap_wapc_registry *reg, const char *alias, const char *target)
{
    reg_alias *a = realloc(reg->aliases, (reg->alias_count + 1) * sizeof *a);
    if (!a)
        return false;
    reg->aliases = a;
    char *al = strdup(alias), *tg = strdup(target);
    if (!al || !tg) {
        free(al);
        free(tg);
        return false;
    }
    a[reg->alias_count].alias = al;
    a[reg->alias_count].target = tg;
    reg->alias_count++;
    return true;
}

static bool key_eq(const char *key, ap_bytes b)
{
    size_t n = strlen(key);
    return n == b.len && (n == 0 || memcmp(key, b.ptr, n) == 0);
}

static const reg_entry *lookup(const ap_wapc_registry *reg, const ap_wapc_call *call)
{
    ap_bytes binding = call->binding;
    for (size_t i = 0; i < reg->alias_count; i++) {
        if (key_eq(reg->aliases[i].alias, binding)) {
            binding =
                (ap_bytes){(const uint8_t *)reg->aliases[i].target, strlen(reg->aliases[i].target)};
            break;
        }
    }
    const ap_bytes want[3] = {binding, call->namespace_, call->operation};
    const reg_entry *best = NULL;
    int best_score = -1;
    for (size_t i = 0; i < reg->count; i++) {
        const reg_entry *e = &reg->entries[i];
        int score = 0;
        bool match = true;
        for (int k = 0; k < 3 && match; k++) {
            if (!e->key[k])
                continue;
            if (!key_eq(e->key[k], want[k]))
                match = false;
            else
                score |= 4 >> k; /* binding outranks namespace outranks operation */
        }
        if (match && score >= best_score) {
            best = e;
            best_score = score;
        }
    }
    return best;
}

ap_wapc_host_status ap_wapc_registry_dispatch(const ap_wapc_registry *reg, const ap_wapc_call *call,
                                              ap_buf *response, ap_buf *error)
{
    const reg_entry *e = reg ? lookup(reg, call) : NULL;
    if (!e) {
        /* TARMAC.md §1.6: Tarmac's router answers an unknown key with this text only (no logs,
         * no metrics); guests may compare it. */
        if (call->instance && call->instance->tarmac_texts) {
            ap_buf_append_str(error, "callback not found");
            return AP_WAPC_HOST_ERROR;
        }
        /* WAPC.md §5 OURS. */
        ap_buf_append_str(error, "no host function for ");
        ap_buf_append(error, call->binding.ptr, call->binding.len);
        ap_buf_append_str(error, ":");
        ap_buf_append(error, call->namespace_.ptr, call->namespace_.len);
        ap_buf_append_str(error, ":");
        ap_buf_append(error, call->operation.ptr, call->operation.len);
        return AP_WAPC_HOST_ERROR;
    }
    return e->fn(e->user, call, response, error) == AP_WAPC_HOST_OK ? AP_WAPC_HOST_OK
                                                                    : AP_WAPC_HOST_ERROR;
}
