/* settings.c — the keys of TARMAC.md §5.2 from defaults, a JSON config file, APP_* environment
 * variables and explicit overrides, with strict typing (config.h says where apron is stricter
 * than Tarmac). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum { K_BOOL, K_INT, K_STRING, K_LIST } key_type;

typedef struct {
    const char *name;
    key_type type;
    const char *def;
    size_t off;
} key_info;

static const key_info keys[] = {
#define AP_SETTING_ROW(name, type, def) {#name, K_##type, def, offsetof(ap_settings, name)},
    AP_SETTINGS_KEYS(AP_SETTING_ROW)
#undef AP_SETTING_ROW
};
#define NKEYS (sizeof keys / sizeof keys[0])

static const key_info *find_key(const char *name)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcasecmp(keys[i].name, name) == 0) return &keys[i];
    return NULL;
}

static void list_free(ap_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static bool list_push(ap_strlist *l, const char *s, size_t n)
{
    char **v = realloc(l->v, (l->n + 1) * sizeof *v);
    if (!v) return false;
    l->v = v;
    if (!(v[l->n] = strndup(s, n))) return false;
    l->n++;
    return true;
}

static bool parse_bool(const char *t, bool *out)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"", "0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (strcmp(t, yes[i]) == 0) return *out = true, true;
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (strcmp(t, no[i]) == 0) return *out = false, true;
    return false;
}

static bool parse_int(const char *t, int64_t *out)
{
    if (*t == '\0') return *out = 0, true;
    char *end;
    errno = 0;
    long long v = strtoll(t, &end, 0);
    if (errno || end == t || *end != '\0' || isspace((unsigned char)*t)) return false;
    *out = v;
    return true;
}

/* Sets a typed value from text; false with a reason in e when the text is not of the type. */
static ap_config_status set_text(ap_settings *s, const key_info *k, const char *text,
                                 const char *origin, ap_errbuf *e)
{
    void *field = (char *)s + k->off;
    switch (k->type) {
    case K_BOOL:
        if (!parse_bool(text, field)) goto bad;
        return AP_CONFIG_OK;
    case K_INT:
        if (!parse_int(text, field)) goto bad;
        return AP_CONFIG_OK;
    case K_STRING: {
        char *dup = strdup(text);
        if (!dup) return AP_CONFIG_NOMEM;
        free(*(char **)field);
        *(char **)field = dup;
        return AP_CONFIG_OK;
    }
    case K_LIST: {
        ap_strlist l = {0};
        for (const char *p = text; *p;) {
            while (isspace((unsigned char)*p))
                p++;
            const char *w = p;
            while (*p && !isspace((unsigned char)*p))
                p++;
            if (p > w && !list_push(&l, w, (size_t)(p - w))) {
                list_free(&l);
                return AP_CONFIG_NOMEM;
            }
        }
        list_free(field);
        *(ap_strlist *)field = l;
        return AP_CONFIG_OK;
    }
    }
bad:
    ap_errbuf_set(e, "%s: %s \"%s\" is not %s", origin, k->name, text,
                  k->type == K_BOOL ? "a boolean (true/false, 1/0, t/f)"
                                    : "an integer (decimal, 0x hex or 0 octal)");
    return AP_CONFIG_INVALID;
}

ap_config_status ap_settings_defaults(ap_settings *s)
{
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < NKEYS; i++) {
        ap_config_status st = set_text(s, &keys[i], keys[i].def, "default", NULL);
        if (st != AP_CONFIG_OK) {
            ap_settings_free(s);
            return st;
        }
    }
    return AP_CONFIG_OK;
}

ap_config_status ap_settings_set(ap_settings *s, const char *key, const char *text,
                                 const char *origin, ap_errbuf *e)
{
    const key_info *k = find_key(key);
    if (!k) {
        ap_errbuf_set(e, "%s: unknown setting \"%s\"", origin, key);
        return AP_CONFIG_INVALID;
    }
    return set_text(s, k, text, origin, e);
}

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "?";
}

/* One key of the config file. */
static ap_config_status set_json(ap_settings *s, const key_info *k, json_t *v, const char *origin,
                                 ap_errbuf *e)
{
    void *field = (char *)s + k->off;
    if (json_is_string(v)) return set_text(s, k, json_string_value(v), origin, e);
    switch (k->type) {
    case K_BOOL:
        if (!json_is_boolean(v)) break;
        *(bool *)field = json_is_true(v);
        return AP_CONFIG_OK;
    case K_INT:
        if (!json_is_integer(v)) break;
        *(int64_t *)field = json_integer_value(v);
        return AP_CONFIG_OK;
    case K_STRING: break;
    case K_LIST: {
        if (!json_is_array(v)) break;
        ap_strlist l = {0};
        size_t i;
        json_t *it;
        json_array_foreach(v, i, it)
        {
            if (!json_is_string(it)) {
                list_free(&l);
                ap_errbuf_set(e, "%s: %s[%zu] must be a string, not %s", origin, k->name, i,
                              json_kind(it));
                return AP_CONFIG_INVALID;
            }
            if (!list_push(&l, json_string_value(it), json_string_length(it))) {
                list_free(&l);
                return AP_CONFIG_NOMEM;
            }
        }
        list_free(field);
        *(ap_strlist *)field = l;
        return AP_CONFIG_OK;
    }
    }
    static const char *const want[] = {"a boolean", "an integer", "a string",
                                       "an array of strings"};
    ap_errbuf_set(e, "%s: %s must be %s, not %s", origin, k->name, want[k->type], json_kind(v));
    return AP_CONFIG_INVALID;
}

static void problem(ap_buf *problems, const char *msg)
{
    if (problems) ap_buf_printf(problems, "%s\n", msg);
}

ap_config_status ap_settings_load_file(ap_settings *s, const char *path, ap_buf *problems)
{
    json_error_t jerr;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) return AP_CONFIG_NOTFOUND;
        if (problems) ap_buf_printf(problems, "%s: cannot read: %s\n", path, strerror(errno));
        return AP_CONFIG_IO;
    }
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    fclose(f);
    if (!root) {
        if (problems)
            ap_buf_printf(problems, "%s:%d:%d: not valid JSON: %s\n", path, jerr.line, jerr.column,
                          jerr.text);
        return AP_CONFIG_INVALID;
    }
    ap_config_status rc = AP_CONFIG_OK;
    if (!json_is_object(root)) {
        if (problems)
            ap_buf_printf(problems, "%s: must hold one JSON object, not %s\n", path,
                          json_kind(root));
        rc = AP_CONFIG_INVALID;
    } else {
        const char *name;
        json_t *v;
        json_object_foreach(root, name, v)
        {
            ap_errbuf e;
            const key_info *k = find_key(name);
            ap_config_status st;
            if (!k) {
                ap_errbuf_set(&e, "%s: unknown setting \"%s\"", path, name);
                st = AP_CONFIG_INVALID;
            } else {
                st = set_json(s, k, v, path, &e);
            }
            if (st == AP_CONFIG_NOMEM) {
                rc = st;
                break;
            }
            if (st != AP_CONFIG_OK) {
                problem(problems, e.msg);
                rc = AP_CONFIG_INVALID;
            }
        }
    }
    json_decref(root);
    if (rc == AP_CONFIG_OK) {
        char *dup = strdup(path);
        if (!dup) return AP_CONFIG_NOMEM;
        free(s->config_file);
        s->config_file = dup;
    }
    return rc;
}

ap_config_status ap_settings_load_env(ap_settings *s, char *const *envp, ap_buf *problems)
{
    ap_config_status rc = AP_CONFIG_OK;
    for (; envp && *envp; envp++) {
        const char *var = *envp;
        if (strncmp(var, "APP_", 4) != 0) continue;
        const char *eq = strchr(var, '=');
        if (!eq) continue;
        char name[128], origin[140];
        size_t n = (size_t)(eq - var) - 4;
        ap_errbuf e;
        if (n == 0 || n >= sizeof name) {
            snprintf(e.msg, sizeof e.msg, "environment: unknown setting %.*s", (int)(n + 4), var);
            problem(problems, e.msg);
            rc = AP_CONFIG_INVALID;
            continue;
        }
        for (size_t i = 0; i < n; i++)
            name[i] = (char)tolower((unsigned char)var[4 + i]);
        name[n] = '\0';
        snprintf(origin, sizeof origin, "environment APP_%.*s", (int)n, var + 4);
        ap_config_status st = ap_settings_set(s, name, eq + 1, origin, &e);
        if (st == AP_CONFIG_NOMEM) return st;
        if (st != AP_CONFIG_OK) {
            problem(problems, e.msg);
            rc = AP_CONFIG_INVALID;
        }
    }
    return rc;
}

bool ap_settings_dump(const ap_settings *s, ap_buf *out)
{
    bool ok = true;
    for (size_t i = 0; i < NKEYS; i++) {
        const void *field = (const char *)s + keys[i].off;
        switch (keys[i].type) {
        case K_BOOL:
            ok &= ap_buf_printf(out, "%s=%s\n", keys[i].name,
                                *(const bool *)field ? "true" : "false");
            break;
        case K_INT:
            ok &= ap_buf_printf(out, "%s=%lld\n", keys[i].name,
                                (long long)*(const int64_t *)field);
            break;
        case K_STRING:
            ok &= ap_buf_printf(out, "%s=%s\n", keys[i].name, *(char *const *)field);
            break;
        case K_LIST: {
            const ap_strlist *l = field;
            ok &= ap_buf_printf(out, "%s=", keys[i].name);
            for (size_t j = 0; j < l->n; j++)
                ok &= ap_buf_printf(out, "%s%s", j ? " " : "", l->v[j]);
            ok &= ap_buf_append_str(out, "\n");
            break;
        }
        }
    }
    return ok;
}

void ap_settings_free(ap_settings *s)
{
    for (size_t i = 0; i < NKEYS; i++) {
        void *field = (char *)s + keys[i].off;
        if (keys[i].type == K_STRING) {
            free(*(char **)field);
            *(char **)field = NULL;
        } else if (keys[i].type == K_LIST) {
            list_free(field);
        }
    }
    free(s->config_file);
    s->config_file = NULL;
}
