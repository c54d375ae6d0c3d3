/* spectest.h — the spec suite's `spectest` host module and the runner's import registry: the
 * names modules can import from (spectest plus every `register`ed instance). */
#ifndef APRON_SPECTEST_H
#define APRON_SPECTEST_H

#include "apron/wasm.h"

typedef struct st_registry st_registry;

/* A registry with the spectest module already in it, its objects created in `s`. NULL if an
 * engine call failed (the message goes to stderr). The registry does not own the store. */
st_registry *st_registry_new(wa_store *s);
void st_registry_free(st_registry *r); /* NULL is a no-op */

/* Makes every export of `in` importable as (`name`, export name). A later registration of the
 * same name hides the earlier one. 0, or -1 on OOM. */
int st_registry_add(st_registry *r, const char *name, wa_instance *in);

/* Fills imports[0 .. wa_module_import_count(m)) for `m`. On a missing import or a kind mismatch
 * returns WA_EUNLINKABLE with err filled ("unknown import" / "incompatible import type"). The
 * engine checks the finer types (signatures, limits, global types) at instantiation. */
wa_status st_registry_resolve(const st_registry *r, const wa_module *m, wa_extern *imports,
                              wa_error *err);

#endif
