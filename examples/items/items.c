/* items.c — a small REST API on the key-value store, using apron's HTTP request context
 * (docs/http-apis.md): routes GET, PUT and DELETE /items/:id.
 *
 *   PUT    /items/:id   body: a JSON document → 201 Created + Location (new) or 200 (replaced);
 *                       400 when the body is not JSON
 *   GET    /items/:id   → 200 with the document, 404 when there is none
 *   DELETE /items/:id   → 204, 404 when there is none
 *
 * Responses are JSON (errors as {"error":"…"}). Needs enable_kvstore. */
#include <string.h>

#include "apron.h"

/* Ends the request with `status` and {"error": msg}. */
static apron_status answer_error(apron_buf *out, int status, const char *msg)
{
    apron_response_status(status, NULL);
    apron_response_header("Content-Type", "application/json", NULL);
    apron_buf_reset(out);
    if (apron_buf_puts(out, "{\"error\":") != APRON_OK ||
        apron_json_put_string(out, msg, strlen(msg)) != APRON_OK || apron_buf_puts(out, "}") != APRON_OK)
        return APRON_ERR_NOMEM;
    return APRON_OK;
}

static int is_json(const uint8_t *p, size_t len)
{
    apron_json j;
    apron_json_init(&j, (const char *)p, len);
    return len > 0 && apron_json_skip(&j) == 0 && apron_json_finish(&j) == 0;
}

static apron_status items(const uint8_t *payload, size_t len, apron_buf *out)
{
    apron_buf method = APRON_BUF_INIT, id = APRON_BUF_INIT, key = APRON_BUF_INIT,
              value = APRON_BUF_INIT;
    apron_error err;
    apron_status st;
    if (apron_request_method(&method, &err) != APRON_OK ||
        apron_request_param("id", &id, &err) != APRON_OK) {
        st = apron_fail(out, "items: %s", err.msg);
        goto done;
    }
    if (apron_buf_printf(&key, "item:%s", apron_buf_cstr(&id)) != APRON_OK) {
        st = apron_fail(out, "out of memory");
        goto done;
    }
    const char *m = apron_buf_cstr(&method);
    int found = apron_kv_get(apron_buf_cstr(&key), &value, &err) == APRON_OK;
    if (strcmp(m, "GET") == 0) {
        if (!found) {
            st = answer_error(out, 404, "no such item");
            goto done;
        }
        apron_response_header("Content-Type", "application/json", NULL);
        st = apron_buf_append(out, value.ptr, value.len);
    } else if (strcmp(m, "PUT") == 0) {
        if (!is_json(payload, len)) {
            st = answer_error(out, 400, "the body must be a JSON document");
            goto done;
        }
        if (apron_kv_set(apron_buf_cstr(&key), payload, len, &err) != APRON_OK) {
            st = answer_error(out, 500, err.msg);
            goto done;
        }
        if (!found) {
            apron_buf location = APRON_BUF_INIT;
            apron_buf_printf(&location, "/items/%s", apron_buf_cstr(&id));
            apron_response_status(201, NULL);
            apron_response_header("Location", apron_buf_cstr(&location), NULL);
            apron_buf_free(&location);
        }
        apron_response_header("Content-Type", "application/json", NULL);
        st = apron_buf_append(out, payload, len);
    } else if (strcmp(m, "DELETE") == 0) {
        if (!found) {
            st = answer_error(out, 404, "no such item");
            goto done;
        }
        if (apron_kv_delete(apron_buf_cstr(&key), &err) != APRON_OK) {
            st = answer_error(out, 500, err.msg);
            goto done;
        }
        st = apron_response_status(204, &err);
    } else {
        st = answer_error(out, 405, "method not allowed");
    }
done:
    apron_buf_free(&method);
    apron_buf_free(&id);
    apron_buf_free(&key);
    apron_buf_free(&value);
    return st;
}

void apron_init(void) { apron_register("handler", items); }
