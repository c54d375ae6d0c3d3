/* fuzz_tarmac.c — libFuzzer target: tarmac.json text through ap_tarmac_parse (src/config/tarmac.c),
 * including the limits and isolation keys of docs/isolation.md. Any input must give OK or INVALID
 * (with problems listed), never a crash, a leak or undefined behaviour. Seeds: tests/fuzz/corpus/
 * tarmac/ and the tarmac.json files of examples/ and tests/. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ap_tarmac *t = NULL;
    ap_buf problems = {0};
    ap_config_status st = ap_tarmac_parse((const char *)data, size, "fuzz.json", "/fuzz", &t,
                                          &problems);
    if (st == AP_CONFIG_OK) {
        /* Walk the result: every string is set and every count matches its array. */
        for (size_t s = 0; s < t->nservices; s++)
            for (size_t f = 0; f < t->services[s].nfunctions; f++)
                if (!t->services[s].functions[f].name || !t->services[s].functions[f].filepath)
                    abort();
        ap_tarmac_free(t);
    } else if (st == AP_CONFIG_INVALID && problems.len == 0) {
        abort(); /* an invalid file must say why */
    }
    ap_buf_free(&problems);
    return 0;
}
