/* reset.c — how long a pristine instance takes: wa_instance_reset (copy-on-write snapshot,
 * src/wasm/snapshot.c) against plain re-instantiation, on a guest with 1 MiB of memory that
 * dirties a few 4 KiB pages per call (bench/reset.wat). Then the raw techniques on a bare 1 MiB
 * mapping, the measurement behind snapshot.c's choice. In-process; ns per operation, averaged.
 *
 * usage: bench-reset GUEST.wasm [ITERATIONS]    (`make bench` runs it) */
#define _GNU_SOURCE /* memfd_create */
#include "apron/wasm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *what, const wa_error *e)
{
    fprintf(stderr, "bench-reset: %s: %s\n", what, e ? e->msg : "failed");
    exit(1);
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = n > 0 ? malloc((size_t)n) : NULL;
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return p;
}

static void work(wa_func *f, uint32_t pages)
{
    wa_value arg = {.type = WA_I32, .of.i32 = pages}, res;
    wa_error e;
    if (wa_call(f, &arg, 1, &res, &e) != WA_OK) die("work", &e);
}

static void make_instance(wa_module *m, wa_store **s, wa_instance **in, wa_func **f)
{
    wa_error e;
    if (!(*s = wa_store_new(NULL))) die("store", NULL);
    if (wa_instance_new(*s, m, NULL, NULL, in, &e) != WA_OK) die("instantiate", &e);
    if (!(*f = wa_instance_func(*in, "work"))) die("no export work", NULL);
}

/* Engine: reset alone, call + reset, call alone (pool mode), re-instantiate + call. */
static void bench_engine(wa_module *m, int iters)
{
    wa_store *s;
    wa_instance *in;
    wa_func *f;
    wa_error e;
    make_instance(m, &s, &in, &f);
    if (wa_instance_snapshot(in, &e) != WA_OK) die("snapshot", &e);

    static const uint32_t dirty[] = {0, 1, 4, 16, 64};
    for (size_t d = 0; d < sizeof dirty / sizeof *dirty; d++) {
        double reset = 0;
        for (int i = 0; i < iters; i++) {
            work(f, dirty[d]);
            double t0 = now_ns();
            if (wa_instance_reset(in) != WA_OK) die("reset", NULL);
            reset += now_ns() - t0;
        }
        printf("reset, %2u dirty pages of 1 MiB     %8.0f ns\n", dirty[d], reset / iters);
    }
    /* The reset must really restore: the global counts calls since the snapshot. */
    wa_value res, arg = {.type = WA_I32, .of.i32 = 4};
    if (wa_call(f, &arg, 1, &res, &e) != WA_OK || res.of.i32 != 1) die("reset did not restore", NULL);
    wa_instance_reset(in);

    double t0 = now_ns();
    for (int i = 0; i < iters; i++) {
        work(f, 4);
        wa_instance_reset(in);
    }
    double with_reset = (now_ns() - t0) / iters;
    t0 = now_ns();
    for (int i = 0; i < iters; i++)
        work(f, 4);
    double plain = (now_ns() - t0) / iters;
    wa_store_free(s);

    int n = iters / 10 ? iters / 10 : 1;
    t0 = now_ns();
    for (int i = 0; i < n; i++) {
        make_instance(m, &s, &in, &f);
        work(f, 4);
        wa_store_free(s);
    }
    double fresh = (now_ns() - t0) / n;
    printf("call (4 pages) + reset             %8.0f ns\n", with_reset);
    printf("call (4 pages), no reset (pool)    %8.0f ns\n", plain);
    printf("re-instantiate + call + free       %8.0f ns   (%.0fx the reset path)\n", fresh,
           fresh / with_reset);
}

/* The techniques on a bare 1 MiB private mapping of a memfd, 4 pages dirtied each round. */
static void bench_raw(int iters)
{
    const size_t size = 1 << 20, page = 4096;
    int fd = memfd_create("bench", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)size) != 0) {
        puts("raw: memfd unavailable");
        return;
    }
    uint8_t *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    uint8_t *copy = calloc(1, size);
    if (p == MAP_FAILED || !copy) return;
    /* Each technique in its own loop: one that repopulates every page (memcpy) would otherwise
     * make the next one pay for 256 pages. */
    double t_madv = 0, t_remap = 0, t_copy = 0;
    for (int i = 0; i < iters; i++) {
        for (int k = 0; k < 4; k++) p[k * 3 * page] = (uint8_t)i;
        double t0 = now_ns();
        madvise(p, size, MADV_DONTNEED);
        t_madv += now_ns() - t0;
    }
    for (int i = 0; i < iters; i++) {
        for (int k = 0; k < 4; k++) p[k * 3 * page] = (uint8_t)i;
        double t0 = now_ns();
        mmap(p, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 0);
        t_remap += now_ns() - t0;
    }
    for (int i = 0; i < iters; i++) {
        for (int k = 0; k < 4; k++) p[k * 3 * page] = (uint8_t)i;
        double t0 = now_ns();
        memcpy(p, copy, size);
        t_copy += now_ns() - t0;
    }
    printf("raw 1 MiB, 4 dirty: madvise        %8.0f ns\n", t_madv / iters);
    printf("raw 1 MiB, 4 dirty: mmap MAP_FIXED %8.0f ns\n", t_remap / iters);
    printf("raw 1 MiB, 4 dirty: memcpy         %8.0f ns\n", t_copy / iters);
    munmap(p, size);
    close(fd);
    free(copy);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench-reset GUEST.wasm [ITERATIONS]\n");
        return 2;
    }
    int iters = argc > 2 ? atoi(argv[2]) : 20000;
    if (iters < 1) iters = 1;
    size_t len;
    uint8_t *bytes = read_file(argv[1], &len);
    if (!bytes) {
        fprintf(stderr, "bench-reset: cannot read %s\n", argv[1]);
        return 1;
    }
    wa_module *m;
    wa_error e;
    if (wa_module_load(bytes, len, &m, &e) != WA_OK) die("load", &e);
    free(bytes);
    printf("bench-reset: %d iterations\n", iters);
    bench_engine(m, iters);
    bench_raw(iters);
    wa_module_unref(m);
    return 0;
}
