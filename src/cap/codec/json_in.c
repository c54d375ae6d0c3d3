/* json_in.c — request JSON read as Go's encoding/json reads it into Tarmac's structs (TARMAC.md
 * §4.0): keys matched ignoring case, the last duplicate wins, null or missing is the zero value,
 * a wrong type is an error, top-level null is an all-zero request, trailing text is an error. */
#include "cap/codec/codec.h"

#include <strings.h>

bool ap_jin_parse(ap_bytes text, json_t **root, ap_errbuf *e)
{
    json_error_t je;
    json_t *j = json_loadb((const char *)text.ptr, text.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!j) {
        ap_errbuf_set(e, "%s", je.text);
        return false;
    }
    if (json_is_null(j)) {
        json_decref(j);
        *root = NULL;
        return true;
    }
    if (!json_is_object(j)) {
        ap_errbuf_set(e, "json: cannot unmarshal %s into a request object",
                      json_is_array(j) ? "array" : json_is_string(j) ? "string"
                                                 : json_is_number(j) ? "number"
                                                                     : "bool");
        json_decref(j);
        return false;
    }
    *root = j;
    return true;
}

json_t *ap_jin_get(json_t *root, const char *name)
{
    json_t *found = NULL, *v;
    const char *k;
    if (!root)
        return NULL;
    json_object_foreach(root, k, v) if (strcasecmp(k, name) == 0) found = v;
    return json_is_null(found) ? NULL : found;
}

static bool wrong(ap_errbuf *e, const char *name, const char *type)
{
    ap_errbuf_set(e, "json: cannot unmarshal value into field %s of type %s", name, type);
    return false;
}

bool ap_jin_str(json_t *root, const char *name, ap_bytes *out, ap_errbuf *e)
{
    json_t *v = ap_jin_get(root, name);
    *out = (ap_bytes){(const uint8_t *)"", 0};
    if (!v)
        return true;
    if (!json_is_string(v))
        return wrong(e, name, "string");
    *out = (ap_bytes){(const uint8_t *)json_string_value(v), json_string_length(v)};
    return true;
}

bool ap_jin_bool(json_t *root, const char *name, bool *out, ap_errbuf *e)
{
    json_t *v = ap_jin_get(root, name);
    *out = false;
    if (!v)
        return true;
    if (!json_is_boolean(v))
        return wrong(e, name, "bool");
    *out = json_is_true(v);
    return true;
}

bool ap_jin_number(json_t *root, const char *name, double *out, ap_errbuf *e)
{
    json_t *v = ap_jin_get(root, name);
    *out = 0;
    if (!v)
        return true;
    if (!json_is_number(v))
        return wrong(e, name, "float64");
    *out = json_number_value(v);
    return true;
}
