/* wasi_smoke.c — a WASI command guest exercising what src/wasi/ implements; checked by
 * tests/guests/wasi_smoke.sh (through `apron wasm`) and tests/unit/wasi/test_guest.c (in process).
 *
 *   wasi_smoke [CODE [ARG...]]   prints its arguments and environment, checks clocks, random,
 *                                sleep, stdin, that files cannot be opened, writes a line to
 *                                stderr, then exits with CODE (a number; default 0: `main`
 *                                returns, so `_start` returns normally)
 *   wasi_smoke trap              traps (unreachable) after the stdout line "trapping"
 *
 * Every line it prints is fixed text or an argument, so tests compare it exactly. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static uint64_t ns(clockid_t c)
{
    struct timespec ts;
    if (clock_gettime(c, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "trap") == 0) {
        printf("trapping\n");
        fflush(stdout);
        __builtin_trap();
    }

    printf("argc=%d\n", argc);
    for (int i = 1; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    int envc = 0;
    for (char **e = environ; e && *e; e++, envc++)
        printf("env %s\n", *e);
    printf("envc=%d\n", envc);

    /* Realtime after 2020-01-01, monotonic not going back, CPU time ticking. */
    uint64_t rt = ns(CLOCK_REALTIME), m0 = ns(CLOCK_MONOTONIC);
    uint64_t m1 = ns(CLOCK_MONOTONIC);
    struct timespec res;
    int res_ok = clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 && res.tv_nsec > 0;
    printf("clock %s\n", rt > 1577836800ull * 1000000000u && m1 >= m0 && res_ok &&
                                 ns(CLOCK_PROCESS_CPUTIME_ID) > 0
                             ? "ok"
                             : "BAD");

    /* 32 random bytes: not all zero, and two draws differ. */
    unsigned char r1[32] = {0}, r2[32] = {0}, zero[32] = {0};
    int rnd = getentropy(r1, sizeof r1) == 0 && getentropy(r2, sizeof r2) == 0 &&
              memcmp(r1, zero, sizeof r1) != 0 && memcmp(r1, r2, sizeof r1) != 0;
    printf("random %s\n", rnd ? "ok" : "BAD");

    /* nanosleep is poll_oneoff on a relative monotonic clock. */
    uint64_t s0 = ns(CLOCK_MONOTONIC);
    struct timespec d = {0, 20 * 1000 * 1000};
    nanosleep(&d, NULL);
    uint64_t slept = ns(CLOCK_MONOTONIC) - s0;
    printf("sleep %s\n", slept >= 20 * 1000 * 1000 ? "ok" : "BAD");

    char buf[16];
    printf("stdin %s\n", read(0, buf, sizeof buf) == 0 ? "eof" : "BAD");

    /* No preopens: no path resolves to anything. */
    int fd = open("/etc/passwd", O_RDONLY);
    printf("open %s\n", fd < 0 ? "denied" : "BAD");
    FILE *f = fopen("x.txt", "w");
    printf("create %s\n", f == NULL ? "denied" : "BAD");

    fprintf(stderr, "to stderr\n");
    int code = argc > 1 ? atoi(argv[1]) : 0;
    printf("exit %d\n", code);
    if (code != 0)
        exit(code);
    return 0;
}
