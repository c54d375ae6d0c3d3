/* fuzz_settings.c — libFuzzer target: the settings parsers of src/config/settings.c. The input is
 * read three ways: as a JSON config file (ap_settings_load_file, through an in-memory file), as
 * APP_* environment lines (ap_settings_load_env), and as "key=value" lines for ap_settings_set.
 * Each must end in OK or INVALID with the settings intact (they are dumped afterwards), never a
 * crash, a leak or undefined behaviour. */
#define _GNU_SOURCE /* memfd_create */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config/config.h"

static void as_file(ap_settings *s, const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-config", MFD_CLOEXEC);
    if (fd < 0) return;
    if (write(fd, data, size) == (ssize_t)size) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ap_buf problems = {0};
        ap_settings_load_file(s, path, &problems);
        ap_buf_free(&problems);
    }
    close(fd);
}

/* NUL-separated or newline-separated lines become NULL-terminated arrays of C strings. */
static char **split(const uint8_t *data, size_t size, char **copy)
{
    *copy = malloc(size + 1);
    char **v = calloc(size + 2, sizeof *v);
    if (!*copy || !v) {
        free(*copy);
        free(v);
        *copy = NULL;
        return NULL;
    }
    memcpy(*copy, data, size);
    (*copy)[size] = 0;
    size_t n = 0;
    char *p = *copy;
    v[n++] = p;
    for (size_t i = 0; i < size; i++)
        if ((*copy)[i] == '\n' || (*copy)[i] == 0) {
            (*copy)[i] = 0;
            v[n++] = *copy + i + 1;
        }
    v[n] = NULL;
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ap_settings s;
    if (ap_settings_defaults(&s) != AP_CONFIG_OK) return 0;
    as_file(&s, data, size);

    char *copy;
    char **lines = split(data, size, &copy);
    if (lines) {
        ap_buf problems = {0};
        ap_settings_load_env(&s, lines, &problems);
        ap_buf_free(&problems);
        for (char **l = lines; *l; l++) {
            char *eq = strchr(*l, '=');
            if (!eq) continue;
            *eq = 0;
            ap_errbuf e;
            ap_settings_set(&s, *l, eq + 1, "fuzz", &e);
        }
        free(lines);
        free(copy);
    }
    ap_buf out = {0};
    ap_settings_dump(&s, &out);
    ap_buf_free(&out);
    ap_settings_free(&s);
    return 0;
}
