/* module.c — loading a waPC guest: the engine compiles it, then we check it is a guest
 * (WAPC.md §4 OURS rule 5) and note which start-up exports it has. Shared read-only afterwards. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

const char *ap_wapc_status_text(ap_wapc_status st)
{
    switch (st) {
    case AP_WAPC_OK:
        return "ok";
    case AP_WAPC_GUEST_ERROR:
        return "guest error";
    case AP_WAPC_TRAP:
        return "guest trapped";
    case AP_WAPC_INVALID:
        return "invalid module";
    case AP_WAPC_UNLINKABLE:
        return "unlinkable module";
    case AP_WAPC_INIT_FAILED:
        return "initialisation failed";
    case AP_WAPC_NOMEM:
        return "out of memory";
    }
    return "unknown status";
}

/* Index of export `name` of the given kind, or -1. */
static int64_t find_export(const wa_module *m, const char *name, wa_extern_kind kind)
{
    uint32_t n = wa_module_export_count(m);
    for (uint32_t i = 0; i < n; i++) {
        const char *en;
        wa_extern_kind ek;
        wa_module_export_info(m, i, &en, &ek);
        if (ek == kind && strcmp(en, name) == 0)
            return i;
    }
    return -1;
}

static bool has_memory(const wa_module *m)
{
    if (find_export(m, "memory", WA_EXTERN_MEMORY) >= 0)
        return true;
    /* No export named `memory`: memory 0 will do (as wazero does); an imported one cannot be
     * satisfied, so it counts as none. */
    uint32_t n = wa_module_export_count(m);
    for (uint32_t i = 0; i < n; i++) {
        const char *en;
        wa_extern_kind ek;
        wa_module_export_info(m, i, &en, &ek);
        if (ek == WA_EXTERN_MEMORY)
            return true;
    }
    return false;
}

ap_wapc_status ap_wapc_module_load(const uint8_t *bytes, size_t len, ap_wapc_module **out,
                                   ap_errbuf *err)
{
    wa_error we;
    wa_module *wm = NULL;
    wa_status st = wa_module_load(bytes, len, &wm, &we);
    if (st != WA_OK) {
        if (we.offset != UINT32_MAX)
            ap_errbuf_set(err, "%s at byte %u: %s", wa_status_text(st), we.offset, we.msg);
        else
            ap_errbuf_set(err, "%s: %s", wa_status_text(st), we.msg);
        return st == WA_ENOMEM ? AP_WAPC_NOMEM : AP_WAPC_INVALID;
    }
    ap_wapc_status rc = AP_WAPC_INVALID;
    if (find_export(wm, "__guest_call", WA_EXTERN_FUNC) < 0) {
        ap_errbuf_set(err, "not a waPC guest: no exported function __guest_call");
        goto fail;
    }
    if (!has_memory(wm)) {
        ap_errbuf_set(err, "not a waPC guest: no exported memory");
        goto fail;
    }
    ap_wapc_module *m = calloc(1, sizeof *m);
    if (!m) {
        ap_errbuf_set(err, "out of memory");
        rc = AP_WAPC_NOMEM;
        goto fail;
    }
    atomic_init(&m->refs, 1);
    m->wasm = wm;
    m->has_initialize = find_export(wm, "_initialize", WA_EXTERN_FUNC) >= 0;
    m->has_start = find_export(wm, "_start", WA_EXTERN_FUNC) >= 0;
    m->has_wapc_init = find_export(wm, "wapc_init", WA_EXTERN_FUNC) >= 0;
    *out = m;
    return AP_WAPC_OK;
fail:
    wa_module_unref(wm);
    return rc;
}

ap_wapc_module *ap_wapc_module_ref(ap_wapc_module *m)
{
    atomic_fetch_add(&m->refs, 1);
    return m;
}

void ap_wapc_module_unref(ap_wapc_module *m)
{
    if (!m || atomic_fetch_sub(&m->refs, 1) != 1)
        return;
    wa_module_unref(m->wasm);
    free(m);
}

const wa_module *ap_wapc_module_wasm(const ap_wapc_module *m) { return m->wasm; }
