/* simd: lane-parallel kernels, built twice for wasm (plain and -msimd128, where clang's
 * vectorizer turns the loops into v128 code) to time apron's SIMD against scalar wasm.
 *   - dot: int16 dot product, 32-bit accumulation (i32x4.extmul / dot, i32x4.add)
 *   - count: occurrences of a byte in a buffer (i8x16.eq, i8x16 sub/add)
 *   - saxpy: y = a * x + y on floats (f32x4.mul, f32x4.add)
 * usage: simd [rounds [dot|count|saxpy]]   (default: 400 rounds of all three); prints a checksum,
 * the same for both builds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N (1u << 16)

static int16_t va[N], vb[N];
static uint8_t text[N * 4];
static float fx[N], fy[N];

__attribute__((noinline)) static int32_t dot(const int16_t *a, const int16_t *b, uint32_t n)
{
    int32_t s = 0;
    for (uint32_t i = 0; i < n; i++) s += (int32_t)a[i] * b[i];
    return s;
}

__attribute__((noinline)) static uint32_t count(const uint8_t *p, uint32_t n, uint8_t c)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) k += p[i] == c;
    return k;
}

__attribute__((noinline)) static void saxpy(float a, const float *x, float *y, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) y[i] = a * x[i] + y[i];
}

int main(int argc, char **argv)
{
    unsigned rounds = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 400;
    const char *only = argc > 2 ? argv[2] : "";
    int all = !*only;
    int do_dot = all || !strcmp(only, "dot"), do_count = all || !strcmp(only, "count");
    int do_saxpy = all || !strcmp(only, "saxpy");
    uint32_t seed = 12345;
    for (uint32_t i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        va[i] = (int16_t)(seed >> 16);
        vb[i] = (int16_t)(seed >> 8);
        fx[i] = (float)(seed >> 20) / 4096.0f;
        fy[i] = 0;
    }
    for (uint32_t i = 0; i < N * 4; i++) text[i] = (uint8_t)("abcdefgh\n"[(i * 7 + (i >> 5)) % 9]);
    uint32_t check = 0;
    for (unsigned r = 0; r < rounds; r++) {
        if (do_dot) check = check * 31 + (uint32_t)dot(va, vb, N);
        if (do_count) check = check * 31 + count(text, N * 4, (uint8_t)('a' + r % 9));
        if (do_saxpy) saxpy(0.5f, fx, fy, N);
    }
    float sum = 0;
    for (uint32_t i = 0; i < N; i++) sum += fy[i];
    printf("simd: checksum %08x %.3f\n", check, (double)sum);
    return 0;
}
