/* reset.c — how long a pristine instance takes: wa_instance_reset (copy-on-write snapshot,
 * src/wasm/snapshot.c) against plain re-instantiation, on a guest with 1 MiB of memory that
 * dirties a few 4 KiB pages per call (bench/reset.wat), with both reset methods (written pages
 * copied back / everything dropped by madvise), reset alone and with the call that follows it.
 * Then the raw techniques on a bare 1 MiB mapping. In-process; ns per operation.
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

/* Writes `pages` pages (3 apart, from page `at`) and reads `read`. */
static void work_at(wa_func *f, uint32_t pages, uint32_t read, uint32_t at)
{
    wa_value args[3] = {{.type = WA_I32, .of.i32 = pages},
                        {.type = WA_I32, .of.i32 = read},
                        {.type = WA_I32, .of.i32 = at}},
             res;
    wa_error e;
    if (wa_call(f, args, 3, &res, &e) != WA_OK) die("work", &e);
}

static void work(wa_func *f, uint32_t pages, uint32_t read) { work_at(f, pages, read, 0); }

static void make_instance(wa_module *m, wa_store **s, wa_instance **in, wa_func **f)
{
    wa_error e;
    if (!(*s = wa_store_new(NULL))) die("store", NULL);
    if (wa_instance_new(*s, m, NULL, NULL, in, &e) != WA_OK) die("instantiate", &e);
    if (!(*f = wa_instance_func(*in, "work"))) die("no export work", NULL);
}

/* Both reset methods side by side (snapshot.c): "written" where the kernel allows it, and
 * "madvise", forced with APRON_SNAPSHOT_RESET. The machine this runs on is often shared, so each
 * figure is the best of ROUNDS short batches (the least disturbed one), the two methods' batches
 * interleaved. */
enum { NMETHOD = 2, ROUNDS = 30 };

typedef struct {
    wa_store *s;
    wa_instance *in;
    wa_func *f;
} bench_inst;

static double best(const double *v, int n)
{
    double m = v[0];
    for (int i = 1; i < n; i++)
        if (v[i] < m) m = v[i];
    return m;
}

/* ns per iteration of: call work(pages, read), then reset; timing the reset only or both. With
 * move, each call writes other pages than the previous one (no page stays hot: snapshot.c). */
static void measure(bench_inst *b, int iters, uint32_t pages, uint32_t read, bool whole,
                    bool move, double out[NMETHOD])
{
    double batch[NMETHOD][ROUNDS];
    int per = iters / ROUNDS ? iters / ROUNDS : 1;
    for (int r = 0; r < ROUNDS; r++)
        for (int k = 0; k < NMETHOD; k++) {
            double t = 0;
            for (int i = 0; i < per; i++) {
                double t0 = now_ns();
                work_at(b[k].f, pages, read, move ? (uint32_t)i * 37 : 0);
                double t1 = now_ns();
                if (wa_instance_reset(b[k].in) != WA_OK) die("reset", NULL);
                t += now_ns() - (whole ? t0 : t1);
            }
            batch[k][r] = t / per;
        }
    for (int k = 0; k < NMETHOD; k++) out[k] = best(batch[k], ROUNDS);
}

static void bench_engine(wa_module *m, int iters)
{
    bench_inst b[NMETHOD];
    wa_error e;
    for (int k = 0; k < NMETHOD; k++) {
        make_instance(m, &b[k].s, &b[k].in, &b[k].f);
        if (k == 1) setenv("APRON_SNAPSHOT_RESET", "madvise", 1);
        if (wa_instance_snapshot(b[k].in, &e) != WA_OK) die("snapshot", &e);
        unsetenv("APRON_SNAPSHOT_RESET");
    }
    printf("reset method                          %9s %9s\n", wa_instance_reset_method(b[0].in),
           wa_instance_reset_method(b[1].in));
    static const uint32_t dirty[] = {0, 1, 4, 16, 64};
    double t[NMETHOD];
    for (size_t d = 0; d < sizeof dirty / sizeof *dirty; d++) {
        measure(b, iters, dirty[d], 0, false, false, t);
        printf("reset, %2u dirty pages of 1 MiB        %9.0f %9.0f ns\n", dirty[d], t[0], t[1]);
    }
    for (size_t d = 1; d < 4; d++) {
        measure(b, iters, dirty[d], 0, false, true, t);
        printf("reset, %2u other pages each call       %9.0f %9.0f ns\n", dirty[d], t[0], t[1]);
    }
    /* The reset must really restore: the global counts calls since the snapshot. */
    for (int k = 0; k < NMETHOD; k++) {
        wa_value res, args[3] = {{.type = WA_I32, .of.i32 = 4},
                                 {.type = WA_I32, .of.i32 = 0},
                                 {.type = WA_I32, .of.i32 = 0}};
        if (wa_call(b[k].f, args, 3, &res, &e) != WA_OK || res.of.i32 != 1)
            die("reset did not restore", NULL);
        wa_instance_reset(b[k].in);
    }
    /* Per invocation: the call pays again for every page the previous reset unmapped. */
    measure(b, iters, 4, 0, true, false, t);
    printf("call (write 4 pages) + reset          %9.0f %9.0f ns\n", t[0], t[1]);
    measure(b, iters, 4, 0, true, true, t);
    printf("call (write 4 other pages) + reset    %9.0f %9.0f ns\n", t[0], t[1]);
    measure(b, iters, 4, 16, true, false, t);
    printf("call (read 16, write 4) + reset       %9.0f %9.0f ns\n", t[0], t[1]);
    measure(b, iters, 4, 256, true, false, t);
    printf("call (read 256, write 4) + reset      %9.0f %9.0f ns\n", t[0], t[1]);

    double t0 = now_ns();
    for (int i = 0; i < iters; i++)
        work(b[0].f, 4, 16);
    double plain = (now_ns() - t0) / iters;
    for (int k = 0; k < NMETHOD; k++) wa_store_free(b[k].s);

    int n = iters / 10 ? iters / 10 : 1;
    wa_store *s;
    wa_instance *in;
    wa_func *f;
    t0 = now_ns();
    for (int i = 0; i < n; i++) {
        make_instance(m, &s, &in, &f);
        work(f, 4, 16);
        wa_store_free(s);
    }
    double fresh = (now_ns() - t0) / n;
    printf("call (read 16, write 4), no reset (pool) %6.0f ns\n", plain);
    printf("re-instantiate + call + free          %9.0f ns\n", fresh);
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
