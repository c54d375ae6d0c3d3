/* sniff.c — Content-Type of a guest's response (TARMAC.md §2.5.6, the subset of §11.5): HTML,
 * XML, PDF, PNG, GIF, JPEG, WebP; application/json for a JSON object or array; text/plain for
 * other valid UTF-8; application/octet-stream otherwise. */
#include "http.h"

#include <jansson.h>
#include <string.h>
#include <strings.h>

static bool utf8_valid(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        size_t k;
        uint32_t cp;
        if (c < 0x80) {
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != 0x1b)
                return false; /* binary control bytes, as Go's sniffer treats them */
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0) k = 1, cp = c & 0x1f;
        else if ((c & 0xf0) == 0xe0) k = 2, cp = c & 0x0f;
        else if ((c & 0xf8) == 0xf0) k = 3, cp = c & 0x07;
        else return false;
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (s[i + j] & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (s[i + j] & 0x3f);
        }
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

static bool prefix_ci(const uint8_t *s, size_t n, const char *p)
{
    size_t pl = strlen(p);
    return n >= pl && strncasecmp((const char *)s, p, pl) == 0;
}

const char *ap_http_sniff(const uint8_t *body, size_t len)
{
    if (len == 0) return NULL;
    size_t w = 0;
    while (w < len && (body[w] == ' ' || body[w] == '\t' || body[w] == '\n' || body[w] == '\r'))
        w++;
    const uint8_t *s = body + w;
    size_t n = len - w;
    static const char *const html[] = {"<!DOCTYPE HTML", "<HTML", "<HEAD", "<SCRIPT", "<IFRAME",
                                       "<H1", "<DIV", "<FONT", "<TABLE", "<A", "<STYLE", "<TITLE",
                                       "<B", "<BODY", "<BR", "<P", "<!--"};
    for (size_t i = 0; i < sizeof html / sizeof html[0]; i++)
        if (prefix_ci(s, n, html[i])) {
            size_t pl = strlen(html[i]);
            if (n == pl || s[pl] == ' ' || s[pl] == '>' || strcmp(html[i], "<!--") == 0)
                return "text/html; charset=utf-8";
        }
    if (n >= 5 && memcmp(s, "<?xml", 5) == 0) return "text/xml; charset=utf-8";
    if (len >= 5 && memcmp(body, "%PDF-", 5) == 0) return "application/pdf";
    if (len >= 8 && memcmp(body, "\x89PNG\r\n\x1a\n", 8) == 0) return "image/png";
    if (len >= 6 && (memcmp(body, "GIF87a", 6) == 0 || memcmp(body, "GIF89a", 6) == 0))
        return "image/gif";
    if (len >= 3 && memcmp(body, "\xff\xd8\xff", 3) == 0) return "image/jpeg";
    if (len >= 12 && memcmp(body, "RIFF", 4) == 0 && memcmp(body + 8, "WEBPVP", 4) == 0)
        return "image/webp";
    if (n > 0 && (s[0] == '{' || s[0] == '[')) {
        json_t *j = json_loadb((const char *)body, len, JSON_DECODE_ANY, NULL);
        if (j) {
            json_decref(j);
            return "application/json";
        }
    }
    if (utf8_valid(body, len)) return "text/plain; charset=utf-8";
    return "application/octet-stream";
}
