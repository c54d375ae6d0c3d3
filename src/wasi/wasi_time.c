/* wasi_time.c — WASI clocks, random_get, sched_yield and poll_oneoff. poll_oneoff sleeps for clock
 * subscriptions (relative or absolute) and answers fd subscriptions at once: stdin is at end of
 * file, stdout and stderr are always writable.
 *
 * A sleeping guest blocks its thread for as long as it asked, or until its store is interrupted
 * (wa_store_interrupt, a deadline): the sleep is cut short and the guest traps as soon as it
 * runs again. */
#include "wasi_impl.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

#include "base/blocking.h"

enum { WASI_EVENTTYPE_CLOCK = 0, WASI_EVENTTYPE_FD_READ = 1, WASI_EVENTTYPE_FD_WRITE = 2 };
#define WASI_SUBCLOCK_ABSTIME 1u
#define WASI_EVENTRW_HANGUP 1u
#define WASI_EVENT_SIZE 32
#define WASI_ENOMEM 48

/* WASI clock ids 0..3 in order: realtime, monotonic, process CPU time, thread CPU time. */
static bool host_clock(uint32_t id, clockid_t *out)
{
    static const clockid_t ids[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
                                    CLOCK_THREAD_CPUTIME_ID};
    if (id >= sizeof ids / sizeof ids[0])
        return false;
    *out = ids[id];
    return true;
}

/* Nanoseconds; times before 1970 (a realtime clock set very wrong) read as 0. */
static uint64_t to_ns(const struct timespec *ts)
{
    if (ts->tv_sec < 0)
        return 0;
    return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

static uint64_t now_ns(clockid_t c)
{
    struct timespec ts;
    if (clock_gettime(c, &ts) != 0)
        return 0;
    return to_ns(&ts);
}

/* clock_res_get(id, resolution) */
WASI_FN(ap_wasi__clock_res_get)
{
    clockid_t c;
    struct timespec ts;
    uint8_t *out = wasi_span(caller, slots[1].i32, 8);
    if (!host_clock(slots[0].i32, &c))
        slots[0].i32 = WASI_EINVAL;
    else if (!out)
        slots[0].i32 = WASI_EFAULT;
    else if (clock_getres(c, &ts) != 0)
        slots[0].i32 = WASI_EINVAL;
    else {
        wasi_put_u64(out, to_ns(&ts));
        slots[0].i32 = WASI_ESUCCESS;
    }
    return WA_OK;
}

/* clock_time_get(id, precision, time): the precision hint is ignored (we always read the clock
 * at its best). */
WASI_FN(ap_wasi__clock_time_get)
{
    clockid_t c;
    struct timespec ts;
    uint8_t *out = wasi_span(caller, slots[2].i32, 8);
    if (!host_clock(slots[0].i32, &c))
        slots[0].i32 = WASI_EINVAL;
    else if (!out)
        slots[0].i32 = WASI_EFAULT;
    else if (clock_gettime(c, &ts) != 0)
        slots[0].i32 = WASI_EINVAL;
    else {
        wasi_put_u64(out, to_ns(&ts));
        slots[0].i32 = WASI_ESUCCESS;
    }
    return WA_OK;
}

/* random_get(buf, buf_len): the kernel's CSPRNG (getrandom, which may return less than asked). */
WASI_FN(ap_wasi__random_get)
{
    uint32_t len = slots[1].i32;
    uint8_t *p = wasi_span(caller, slots[0].i32, len);
    if (!p) {
        slots[0].i32 = WASI_EFAULT;
        return WA_OK;
    }
    while (len) {
        ssize_t k = getrandom(p, len, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            slots[0].i32 = WASI_EIO;
            return WA_OK;
        }
        p += k;
        len -= (uint32_t)k;
    }
    slots[0].i32 = WASI_ESUCCESS;
    return WA_OK;
}

WASI_FN(ap_wasi__sched_yield)
{
    sched_yield();
    slots[0].i32 = WASI_ESUCCESS;
    return WA_OK;
}

/* Sleeps ns nanoseconds on the monotonic clock, through signals, in slices of at most
 * SLEEP_SLICE_NS so that an interrupt of the store (a deadline) ends it within a slice. A sleep
 * counts as a wait (base/blocking.h): the HTTP event loop must not run such a guest itself. */
#define SLEEP_SLICE_NS 10000000LL

static void sleep_ns(const wa_store *store, uint64_t ns)
{
    if (ns == 0) return;
    ap_blocking_note();
    long long now = (long long)now_ns(CLOCK_MONOTONIC);
    /* Beyond what fits: the guest asked for forever. */
    long long until = ns > (uint64_t)(INT64_MAX / 2 - now) ? INT64_MAX / 2 : now + (long long)ns;
    while (now < until && !wa_store_interrupted(store)) {
        long long next = until - now > SLEEP_SLICE_NS ? now + SLEEP_SLICE_NS : until;
        struct timespec at = {.tv_sec = next / 1000000000LL, .tv_nsec = next % 1000000000LL};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL); /* EINTR: go round again */
        now = (long long)now_ns(CLOCK_MONOTONIC);
    }
}

/* Where a subscription's fields are: preview1's is 48 bytes, snapshot 0's 56 (a u64 `identifier`
 * before the clock id). The tag is at 8 and the fd at 16 in both. */
typedef struct {
    uint32_t size, clock_id, timeout, flags;
} sub_layout;

static const sub_layout preview1_sub = {48, 16, 24, 40};
static const sub_layout unstable_sub = {56, 24, 32, 48};

/* poll_oneoff(in, out, nsubscriptions, nevents) */
static uint32_t poll_oneoff(wa_instance *caller, const sub_layout *L, uint32_t in_ptr,
                            uint32_t out_ptr, uint32_t n, uint32_t nevents_ptr)
{
    if (n == 0)
        return WASI_EINVAL;
    const uint8_t *in = wasi_span(caller, in_ptr, (uint64_t)n * L->size);
    uint8_t *out = wasi_span(caller, out_ptr, (uint64_t)n * WASI_EVENT_SIZE);
    uint8_t *nevents = wasi_span(caller, nevents_ptr, 4);
    if (!in || !out || !nevents)
        return WASI_EFAULT;
    /* The guest may overlap `in` and `out`: work on a copy of the subscriptions. Each entry's
     * clock timeout is replaced by the time left until it fires (UINT64_MAX: not a clock, or a
     * clock with an error: reported at once). */
    size_t in_len = (size_t)n * L->size;
    uint8_t *subs = malloc(in_len);
    uint64_t *left = malloc((size_t)n * sizeof *left);
    if (!subs || !left) {
        free(subs);
        free(left);
        return WASI_ENOMEM;
    }
    memcpy(subs, in, in_len);
    bool immediate = false;
    uint64_t min_left = UINT64_MAX;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *s = subs + (size_t)i * L->size;
        clockid_t c;
        left[i] = UINT64_MAX;
        if (s[8] != WASI_EVENTTYPE_CLOCK || !host_clock(wasi_get_u32(s + L->clock_id), &c)) {
            immediate = true;
            continue;
        }
        uint64_t timeout = wasi_get_u64(s + L->timeout);
        if (wasi_get_u16(s + L->flags) & WASI_SUBCLOCK_ABSTIME) {
            uint64_t now = now_ns(c);
            left[i] = timeout > now ? timeout - now : 0;
        } else {
            left[i] = timeout;
        }
        if (left[i] < min_left)
            min_left = left[i];
    }
    uint64_t slept = 0;
    if (!immediate && min_left > 0) {
        sleep_ns(wa_instance_store(caller), min_left);
        slept = min_left;
    }

    uint32_t count = 0;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *s = subs + (size_t)i * L->size;
        uint8_t type = s[8];
        uint16_t error = WASI_ESUCCESS, flags = 0;
        clockid_t c;
        if (type == WASI_EVENTTYPE_CLOCK) {
            if (!host_clock(wasi_get_u32(s + L->clock_id), &c))
                error = WASI_EINVAL;
            else if (left[i] > slept)
                continue; /* not yet due */
        } else if (type == WASI_EVENTTYPE_FD_READ || type == WASI_EVENTTYPE_FD_WRITE) {
            uint32_t fd = wasi_get_u32(s + 16);
            if (type == WASI_EVENTTYPE_FD_READ ? fd != 0 : fd != 1 && fd != 2)
                error = WASI_EBADF;
            else if (type == WASI_EVENTTYPE_FD_READ)
                flags = WASI_EVENTRW_HANGUP; /* end of file */
        } else {
            error = WASI_EINVAL;
        }
        uint8_t *e = out + (size_t)count * WASI_EVENT_SIZE;
        memset(e, 0, WASI_EVENT_SIZE);
        memcpy(e, s, 8); /* userdata */
        wasi_put_u16(e + 8, error);
        e[10] = type;
        wasi_put_u16(e + 24, flags);
        count++;
    }
    wasi_put_u32(nevents, count);
    free(subs);
    free(left);
    return WASI_ESUCCESS;
}

WASI_FN(ap_wasi__poll_oneoff)
{
    slots[0].i32 =
        poll_oneoff(caller, &preview1_sub, slots[0].i32, slots[1].i32, slots[2].i32, slots[3].i32);
    return WA_OK;
}

WASI_FN(ap_wasi__poll_oneoff_unstable)
{
    slots[0].i32 =
        poll_oneoff(caller, &unstable_sub, slots[0].i32, slots[1].i32, slots[2].i32, slots[3].i32);
    return WA_OK;
}
