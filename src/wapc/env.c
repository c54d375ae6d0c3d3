/* env.c — the `env` imports real waPC guests carry (WAPC.md §9): AssemblyScript's abort, trace and
 * seed, and the Zig guest library's unqualified __console_log. */
#include "internal.h"

#include <inttypes.h>
#include <string.h>
#include <sys/random.h>

#define AS_STRING_MAX_UNITS 4096u /* decode at most this much of an abort message */

/* Appends the AssemblyScript string at ptr as UTF-8: UTF-16LE code units, the byte length in the
 * u32 just before ptr. Unreadable strings append "null" or "?"; lone surrogates become U+FFFD. */
static void append_as_string(ap_wapc_instance *inst, wa_instance *caller, uint32_t ptr, ap_buf *out)
{
    if (ptr == 0) {
        ap_buf_append_str(out, "null");
        return;
    }
    const uint8_t *hdr = ptr >= 4 ? ap_wapc__span(inst, caller, ptr - 4, 4) : NULL;
    if (!hdr) {
        ap_buf_append_str(out, "?");
        return;
    }
    uint32_t bytes =
        (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 24;
    uint32_t units = bytes / 2;
    if (units > AS_STRING_MAX_UNITS)
        units = AS_STRING_MAX_UNITS;
    const uint8_t *p = ap_wapc__span(inst, caller, ptr, units * 2);
    if (!p) {
        ap_buf_append_str(out, "?");
        return;
    }
    for (uint32_t i = 0; i < units; i++) {
        uint32_t cp = (uint32_t)p[2 * i] | (uint32_t)p[2 * i + 1] << 8;
        if (cp >= 0xd800 && cp < 0xdc00 && i + 1 < units) {
            uint32_t lo = (uint32_t)p[2 * i + 2] | (uint32_t)p[2 * i + 3] << 8;
            if (lo >= 0xdc00 && lo < 0xe000) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                i++;
            } else {
                cp = 0xfffd;
            }
        } else if (cp >= 0xd800 && cp < 0xe000) {
            cp = 0xfffd;
        }
        uint8_t u[4];
        size_t n;
        if (cp < 0x80) {
            u[0] = (uint8_t)cp;
            n = 1;
        } else if (cp < 0x800) {
            u[0] = (uint8_t)(0xc0 | cp >> 6);
            u[1] = (uint8_t)(0x80 | (cp & 0x3f));
            n = 2;
        } else if (cp < 0x10000) {
            u[0] = (uint8_t)(0xe0 | cp >> 12);
            u[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
            u[2] = (uint8_t)(0x80 | (cp & 0x3f));
            n = 3;
        } else {
            u[0] = (uint8_t)(0xf0 | cp >> 18);
            u[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
            u[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
            u[3] = (uint8_t)(0x80 | (cp & 0x3f));
            n = 4;
        }
        ap_buf_append(out, u, n);
    }
}

/* env.abort(msg, file, line, col): WAPC.md §9 OURS — the message becomes the guest error and the
 * guest traps, so the invocation fails with it and the instance is discarded. */
static wa_status env_abort(wa_instance *caller, void *user, wa_slot *s)
{
    ap_wapc_instance *inst = user;
    ap_buf msg = {0};
    ap_buf_append_str(&msg, "abort: ");
    append_as_string(inst, caller, s[0].i32, &msg);
    ap_buf_append_str(&msg, " at ");
    append_as_string(inst, caller, s[1].i32, &msg);
    ap_buf_printf(&msg, ":%" PRIu32 ":%" PRIu32, s[2].i32, s[3].i32);
    ap_buf_reset(&inst->call.guest_error);
    if (msg.data)
        ap_buf_append(&inst->call.guest_error, msg.data, msg.len);
    wa_status st = ap_wapc__trap(inst, WA_TRAP_HOST, "%s", msg.data ? (char *)msg.data : "abort");
    ap_buf_free(&msg);
    return st;
}

/* env.trace(msg, n, a0..a4): a no-op, as WAPC.md §9 recommends. */
static wa_status env_trace(wa_instance *caller, void *user, wa_slot *s) { return WA_OK; }

/* env.seed() -> f64, for Math.random. */
static wa_status env_seed(wa_instance *caller, void *user, wa_slot *s)
{
    uint64_t r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        r = (uint64_t)(uintptr_t)&r ^ 0x9e3779b97f4a7c15u;
    s[0].f64 = (double)(r >> 11);
    return WA_OK;
}

/* env.__console_log(ptr, len): the Zig guest library forgets the module attribute. */
static wa_status env_console_log(wa_instance *caller, void *user, wa_slot *s)
{
    ap_wapc_instance *inst = user;
    uint32_t ptr = s[0].i32, len = s[1].i32;
    const uint8_t *msg = len ? ap_wapc__span(inst, caller, ptr, len) : (const uint8_t *)"";
    if (!msg)
        return ap_wapc__trap(inst, WA_TRAP_MEMORY_OOB,
                             "out of bounds memory access (__console_log: %" PRIu32 "+%" PRIu32 ")",
                             ptr, len);
    ap_buf_reset(&inst->scratch);
    ap_buf_append(&inst->scratch, msg, len);
    ap_wapc__log(inst, inst->scratch.data ? inst->scratch.data : (const uint8_t *)"",
                 inst->scratch.len);
    return WA_OK;
}

wapc_resolved ap_wapc__resolve_env(ap_wapc_instance *inst, const char *name,
                                   const wa_functype *want, wa_func **out)
{
    if (strcmp(name, "abort") == 0)
        return ap_wapc__host(inst, want, "iiii", "", env_abort, inst, out);
    if (strcmp(name, "trace") == 0)
        return ap_wapc__host(inst, want, "iiFFFFF", "", env_trace, inst, out);
    if (strcmp(name, "seed") == 0)
        return ap_wapc__host(inst, want, "", "F", env_seed, inst, out);
    if (strcmp(name, "__console_log") == 0)
        return ap_wapc__host(inst, want, "ii", "", env_console_log, inst, out);
    return WAPC_RESOLVE_NONE;
}
