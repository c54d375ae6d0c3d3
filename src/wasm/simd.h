/* simd.h — v128 lane types and the lane operations of the SIMD handlers (interp_simd.inc) that
 * take more than an expression. Internal to interp.c, which includes it at file scope.
 *
 * Lanes are GCC/clang vector extensions (vector_size(16)), so plain operators work lane-wise on
 * any target; SSE2/SSSE3/SSE4.1 intrinsics replace the slower generic forms when the compiler
 * targets them. APRON_SIMD_PORTABLE=1 forces the generic forms (to test them on x86; CMake
 * -DAPRON_SIMD_PORTABLE=ON, and build/simd-portable/spectest-runner in every build). Lane i
 * lives at bytes [i * size, (i + 1) * size) of the 16, as in WebAssembly (little-endian hosts).
 * The SIMD test variants (tests/tests.cmake: portable, x86-64-v2) recompile interp.c alone and
 * share the engine's other objects: include this header nowhere else. */
#ifndef WA_SIMD_H
#define WA_SIMD_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__) && !APRON_SIMD_PORTABLE
#define WA_SSE2 1
#include <emmintrin.h>
#endif
#if defined(__SSSE3__) && !APRON_SIMD_PORTABLE
#define WA_SSSE3 1
#include <tmmintrin.h>
#endif
#if defined(__SSE4_1__) && !APRON_SIMD_PORTABLE
#define WA_SSE41 1
#include <smmintrin.h>
#endif

#define WA_VEC(n) __attribute__((vector_size(n)))
typedef uint8_t v_u8 WA_VEC(16);
typedef int8_t v_i8 WA_VEC(16);
typedef uint16_t v_u16 WA_VEC(16);
typedef int16_t v_i16 WA_VEC(16);
typedef uint32_t v_u32 WA_VEC(16);
typedef int32_t v_i32 WA_VEC(16);
typedef uint64_t v_u64 WA_VEC(16);
typedef int64_t v_i64 WA_VEC(16);
typedef float v_f32 WA_VEC(16);
typedef double v_f64 WA_VEC(16);
/* halves, for widening */
typedef uint8_t h_u8 WA_VEC(8);
typedef int8_t h_i8 WA_VEC(8);
typedef uint16_t h_u16 WA_VEC(8);
typedef int16_t h_i16 WA_VEC(8);
typedef uint32_t h_u32 WA_VEC(8);
typedef int32_t h_i32 WA_VEC(8);
typedef float h_f32 WA_VEC(8);

/* lane-wise m ? x : y, m being all-ones or all-zeros per lane */
#define WA_VSEL(T, m, x, y) ((T)(((v_u64)(m) & (v_u64)(x)) | (~(v_u64)(m) & (v_u64)(y))))

/* The low or high 8 bytes of v as a half vector of type H. */
#define WA_HALF(H, v, high)                                                                        \
    ({                                                                                             \
        H h_;                                                                                      \
        memcpy(&h_, (const char *)&(v) + ((high) ? 8 : 0), 8);                                     \
        h_;                                                                                        \
    })

static inline v_u8 wa_shuffle_generic(v_u8 a, v_u8 b, const uint8_t *lanes)
{
    uint8_t both[32], r[16];
    memcpy(both, &a, 16);
    memcpy(both + 16, &b, 16);
    for (int i = 0; i < 16; i++) r[i] = both[lanes[i] & 31];
    v_u8 v;
    memcpy(&v, r, 16);
    return v;
}

/* x86 without SSSE3 in the baseline (x86-64 is SSE2): pshufb when the CPU has it, chosen once at
 * start-up. A byte shuffle is the common data movement of compiled SIMD code. APRON_SIMD=sse2 in
 * the environment keeps to the SSE2 baseline (the generic shuffle), so that path is tested on
 * CPUs with SSSE3 too (tests/spec/simd.sh). */
#if defined(__x86_64__) && !WA_SSSE3 && !APRON_SIMD_PORTABLE
#define WA_SSSE3_DISPATCH 1
#include <stdlib.h>
static bool wa_cpu_ssse3;
__attribute__((constructor)) static void wa_simd_detect(void)
{
    const char *force = getenv("APRON_SIMD");
    __builtin_cpu_init();
    wa_cpu_ssse3 = __builtin_cpu_supports("ssse3") && !(force && strcmp(force, "sse2") == 0);
}
#include <tmmintrin.h>
__attribute__((target("ssse3"), noinline)) static v_u8 wa_shuffle_ssse3(v_u8 a, v_u8 b,
                                                                        const uint8_t *lanes)
{
    __m128i m = _mm_loadu_si128((const __m128i *)lanes);
    __m128i ra = _mm_shuffle_epi8((__m128i)a, _mm_add_epi8(m, _mm_set1_epi8(0x70)));
    __m128i rb = _mm_shuffle_epi8((__m128i)b, _mm_add_epi8(m, _mm_set1_epi8((char)0xf0)));
    return (v_u8)_mm_or_si128(ra, rb);
}
__attribute__((target("ssse3"), noinline)) static v_u8 wa_swizzle_ssse3(v_u8 a, v_u8 s)
{
    return (v_u8)_mm_shuffle_epi8((__m128i)a, _mm_adds_epu8((__m128i)s, _mm_set1_epi8(0x70)));
}
#endif

/* lanes: 16 indices below 32, into a then b */
static inline v_u8 wa_shuffle(v_u8 a, v_u8 b, const uint8_t *lanes)
{
#if WA_SSSE3
    __m128i m = _mm_loadu_si128((const __m128i *)lanes);
    __m128i ra = _mm_shuffle_epi8((__m128i)a, _mm_add_epi8(m, _mm_set1_epi8(0x70)));
    __m128i rb = _mm_shuffle_epi8((__m128i)b, _mm_add_epi8(m, _mm_set1_epi8((char)0xf0)));
    return (v_u8)_mm_or_si128(ra, rb);
#else
#if WA_SSSE3_DISPATCH
    if (__builtin_expect(wa_cpu_ssse3, 1)) return wa_shuffle_ssse3(a, b, lanes);
#endif
    return wa_shuffle_generic(a, b, lanes);
#endif
}

static inline v_u8 wa_swizzle(v_u8 a, v_u8 s)
{
#if WA_SSSE3
    return (v_u8)_mm_shuffle_epi8((__m128i)a, _mm_adds_epu8((__m128i)s, _mm_set1_epi8(0x70)));
#else
#if WA_SSSE3_DISPATCH
    if (__builtin_expect(wa_cpu_ssse3, 1)) return wa_swizzle_ssse3(a, s);
#endif
    uint8_t r[16];
    for (int i = 0; i < 16; i++) r[i] = s[i] < 16 ? a[s[i] & 15] : 0;
    v_u8 v;
    memcpy(&v, r, 16);
    return v;
#endif
}

/* ---- saturating arithmetic and narrowing ---- */

static inline int32_t wa_clamp(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

/* Lane-wise r = clamp(x OP y) computed in 32 bits, for the generic forms. */
#define WA_SAT_LOOP(NAME, VT, LT, N, OP, LO, HI)                                                   \
    static inline VT NAME(VT x, VT y)                                                              \
    {                                                                                              \
        LT r[N];                                                                                   \
        for (int i = 0; i < N; i++) r[i] = (LT)wa_clamp((int32_t)x[i] OP(int32_t) y[i], LO, HI);   \
        VT v;                                                                                      \
        memcpy(&v, r, 16);                                                                         \
        return v;                                                                                  \
    }
#if WA_SSE2
#define WA_SSE_BIN(NAME, INTRIN)                                                                   \
    static inline v_u8 NAME(v_u8 x, v_u8 y) { return (v_u8)INTRIN((__m128i)x, (__m128i)y); }
WA_SSE_BIN(wa_add_sat_s8, _mm_adds_epi8)
WA_SSE_BIN(wa_add_sat_u8, _mm_adds_epu8)
WA_SSE_BIN(wa_sub_sat_s8, _mm_subs_epi8)
WA_SSE_BIN(wa_sub_sat_u8, _mm_subs_epu8)
WA_SSE_BIN(wa_add_sat_s16, _mm_adds_epi16)
WA_SSE_BIN(wa_add_sat_u16, _mm_adds_epu16)
WA_SSE_BIN(wa_sub_sat_s16, _mm_subs_epi16)
WA_SSE_BIN(wa_sub_sat_u16, _mm_subs_epu16)
WA_SSE_BIN(wa_narrow_s8, _mm_packs_epi16)
WA_SSE_BIN(wa_narrow_u8, _mm_packus_epi16)
WA_SSE_BIN(wa_narrow_s16, _mm_packs_epi32)
#else
WA_SAT_LOOP(wa_add_sat_s8_, v_i8, int8_t, 16, +, INT8_MIN, INT8_MAX)
WA_SAT_LOOP(wa_add_sat_u8_, v_u8, uint8_t, 16, +, 0, UINT8_MAX)
WA_SAT_LOOP(wa_sub_sat_s8_, v_i8, int8_t, 16, -, INT8_MIN, INT8_MAX)
WA_SAT_LOOP(wa_sub_sat_u8_, v_u8, uint8_t, 16, -, 0, UINT8_MAX)
WA_SAT_LOOP(wa_add_sat_s16_, v_i16, int16_t, 8, +, INT16_MIN, INT16_MAX)
WA_SAT_LOOP(wa_add_sat_u16_, v_u16, uint16_t, 8, +, 0, UINT16_MAX)
WA_SAT_LOOP(wa_sub_sat_s16_, v_i16, int16_t, 8, -, INT16_MIN, INT16_MAX)
WA_SAT_LOOP(wa_sub_sat_u16_, v_u16, uint16_t, 8, -, 0, UINT16_MAX)
#define wa_add_sat_s8(x, y) ((v_u8)wa_add_sat_s8_((v_i8)(x), (v_i8)(y)))
#define wa_add_sat_u8(x, y) ((v_u8)wa_add_sat_u8_((v_u8)(x), (v_u8)(y)))
#define wa_sub_sat_s8(x, y) ((v_u8)wa_sub_sat_s8_((v_i8)(x), (v_i8)(y)))
#define wa_sub_sat_u8(x, y) ((v_u8)wa_sub_sat_u8_((v_u8)(x), (v_u8)(y)))
#define wa_add_sat_s16(x, y) ((v_u8)wa_add_sat_s16_((v_i16)(x), (v_i16)(y)))
#define wa_add_sat_u16(x, y) ((v_u8)wa_add_sat_u16_((v_u16)(x), (v_u16)(y)))
#define wa_sub_sat_s16(x, y) ((v_u8)wa_sub_sat_s16_((v_i16)(x), (v_i16)(y)))
#define wa_sub_sat_u16(x, y) ((v_u8)wa_sub_sat_u16_((v_u16)(x), (v_u16)(y)))

static inline v_u8 wa_narrow_s8(v_u8 x, v_u8 y)
{
    v_i16 a = (v_i16)x, b = (v_i16)y;
    int8_t r[16];
    for (int i = 0; i < 8; i++) {
        r[i] = (int8_t)wa_clamp(a[i], INT8_MIN, INT8_MAX);
        r[i + 8] = (int8_t)wa_clamp(b[i], INT8_MIN, INT8_MAX);
    }
    v_u8 v;
    memcpy(&v, r, 16);
    return v;
}
static inline v_u8 wa_narrow_u8(v_u8 x, v_u8 y)
{
    v_i16 a = (v_i16)x, b = (v_i16)y;
    uint8_t r[16];
    for (int i = 0; i < 8; i++) {
        r[i] = (uint8_t)wa_clamp(a[i], 0, UINT8_MAX);
        r[i + 8] = (uint8_t)wa_clamp(b[i], 0, UINT8_MAX);
    }
    v_u8 v;
    memcpy(&v, r, 16);
    return v;
}
static inline v_u8 wa_narrow_s16(v_u8 x, v_u8 y)
{
    v_i32 a = (v_i32)x, b = (v_i32)y;
    int16_t r[8];
    for (int i = 0; i < 4; i++) {
        r[i] = (int16_t)wa_clamp(a[i], INT16_MIN, INT16_MAX);
        r[i + 4] = (int16_t)wa_clamp(b[i], INT16_MIN, INT16_MAX);
    }
    v_u8 v;
    memcpy(&v, r, 16);
    return v;
}
#endif

static inline v_u8 wa_narrow_u16(v_u8 x, v_u8 y)
{
#if WA_SSE41
    return (v_u8)_mm_packus_epi32((__m128i)x, (__m128i)y);
#else
    v_i32 a = (v_i32)x, b = (v_i32)y;
    uint16_t r[8];
    for (int i = 0; i < 4; i++) {
        r[i] = (uint16_t)wa_clamp(a[i], 0, UINT16_MAX);
        r[i + 4] = (uint16_t)wa_clamp(b[i], 0, UINT16_MAX);
    }
    v_u8 v;
    memcpy(&v, r, 16);
    return v;
#endif
}

/* ---- other integer lane operations ---- */

static inline v_u8 wa_popcnt8(v_u8 x)
{
    x = x - ((x >> 1) & 0x55);
    x = (x & 0x33) + ((x >> 2) & 0x33);
    return (x + (x >> 4)) & 0x0f;
}

/* (x * y + 2^14) >> 15 with saturation: only -2^15 * -2^15 overflows */
static inline v_u8 wa_q15mulr(v_u8 x, v_u8 y)
{
#if WA_SSSE3
    __m128i r = _mm_mulhrs_epi16((__m128i)x, (__m128i)y);
    return (v_u8)_mm_xor_si128(r, _mm_cmpeq_epi16(r, _mm_set1_epi16(INT16_MIN)));
#else
    v_i16 a = (v_i16)x, b = (v_i16)y;
    int16_t r[8];
    for (int i = 0; i < 8; i++)
        r[i] = (int16_t)wa_clamp((a[i] * b[i] + 0x4000) >> 15, INT16_MIN, INT16_MAX);
    v_u8 v;
    memcpy(&v, r, 16);
    return v;
#endif
}

static inline v_u8 wa_dot_s16(v_u8 x, v_u8 y)
{
#if WA_SSE2
    return (v_u8)_mm_madd_epi16((__m128i)x, (__m128i)y);
#else
    v_i32 a = (v_i32)x, b = (v_i32)y;
    v_i32 ae = (v_i32)((v_u32)a << 16) >> 16, be = (v_i32)((v_u32)b << 16) >> 16;
    v_i32 ao = a >> 16, bo = b >> 16;
    return (v_u8)((v_u32)(ae * be) + (v_u32)(ao * bo));
#endif
}

static inline uint32_t wa_bitmask8(v_u8 x)
{
#if WA_SSE2
    return (uint32_t)_mm_movemask_epi8((__m128i)x);
#else
    uint32_t r = 0;
    for (int i = 0; i < 16; i++) r |= (uint32_t)(x[i] >> 7) << i;
    return r;
#endif
}

static inline uint32_t wa_bitmask16(v_u8 x)
{
#if WA_SSE2
    return (uint32_t)_mm_movemask_epi8(_mm_packs_epi16((__m128i)x, _mm_setzero_si128()));
#else
    v_u16 v = (v_u16)x;
    uint32_t r = 0;
    for (int i = 0; i < 8; i++) r |= (uint32_t)(v[i] >> 15) << i;
    return r;
#endif
}

static inline uint32_t wa_bitmask32(v_u8 x)
{
#if WA_SSE2
    return (uint32_t)_mm_movemask_ps((__m128)x);
#else
    v_u32 v = (v_u32)x;
    uint32_t r = 0;
    for (int i = 0; i < 4; i++) r |= (v[i] >> 31) << i;
    return r;
#endif
}

static inline uint32_t wa_bitmask64(v_u8 x)
{
    v_u64 v = (v_u64)x;
    return (uint32_t)((v[0] >> 63) | (v[1] >> 63) << 1);
}

/* ---- floating point ---- */

/* min/max: NaN if either lane is NaN (x + y propagates it), and -0 < +0 */
static inline v_f32 wa_fmin32(v_f32 x, v_f32 y)
{
    v_u32 xb = (v_u32)x, yb = (v_u32)y;
    v_u32 lt = (v_u32)(x < y), eq = (v_u32)(x == y), nan = (v_u32)((x != x) | (y != y));
    v_u32 r = (xb & lt) | (yb & ~lt);
    r = (r & ~eq) | ((xb | yb) & eq);
    return (v_f32)((r & ~nan) | ((v_u32)(x + y) & nan));
}
static inline v_f32 wa_fmax32(v_f32 x, v_f32 y)
{
    v_u32 xb = (v_u32)x, yb = (v_u32)y;
    v_u32 gt = (v_u32)(x > y), eq = (v_u32)(x == y), nan = (v_u32)((x != x) | (y != y));
    v_u32 r = (xb & gt) | (yb & ~gt);
    r = (r & ~eq) | ((xb & yb) & eq);
    return (v_f32)((r & ~nan) | ((v_u32)(x + y) & nan));
}
static inline v_f64 wa_fmin64(v_f64 x, v_f64 y)
{
    v_u64 xb = (v_u64)x, yb = (v_u64)y;
    v_u64 lt = (v_u64)(x < y), eq = (v_u64)(x == y), nan = (v_u64)((x != x) | (y != y));
    v_u64 r = (xb & lt) | (yb & ~lt);
    r = (r & ~eq) | ((xb | yb) & eq);
    return (v_f64)((r & ~nan) | ((v_u64)(x + y) & nan));
}
static inline v_f64 wa_fmax64(v_f64 x, v_f64 y)
{
    v_u64 xb = (v_u64)x, yb = (v_u64)y;
    v_u64 gt = (v_u64)(x > y), eq = (v_u64)(x == y), nan = (v_u64)((x != x) | (y != y));
    v_u64 r = (xb & gt) | (yb & ~gt);
    r = (r & ~eq) | ((xb & yb) & eq);
    return (v_f64)((r & ~nan) | ((v_u64)(x + y) & nan));
}

static inline v_f32 wa_sqrt32(v_f32 x)
{
#if WA_SSE2
    return (v_f32)_mm_sqrt_ps((__m128)x);
#else
    for (int i = 0; i < 4; i++) x[i] = sqrtf(x[i]);
    return x;
#endif
}
static inline v_f64 wa_sqrt64(v_f64 x)
{
#if WA_SSE2
    return (v_f64)_mm_sqrt_pd((__m128d)x);
#else
    for (int i = 0; i < 2; i++) x[i] = sqrt(x[i]);
    return x;
#endif
}

/* Rounding, mode as in _MM_FROUND_*: 0 nearest (ties to even), 1 floor, 2 ceil, 3 trunc. libm
 * returns a signalling NaN unchanged: x + x quiets it. */
static inline v_f32 wa_round32(v_f32 x, int mode)
{
    for (int i = 0; i < 4; i++)
        x[i] = mode == 0   ? nearbyintf(x[i])
               : mode == 1 ? floorf(x[i])
               : mode == 2 ? ceilf(x[i])
                           : truncf(x[i]);
    return WA_VSEL(v_f32, x != x, x + x, x);
}
static inline v_f64 wa_round64(v_f64 x, int mode)
{
    for (int i = 0; i < 2; i++)
        x[i] = mode == 0   ? nearbyint(x[i])
               : mode == 1 ? floor(x[i])
               : mode == 2 ? ceil(x[i])
                           : trunc(x[i]);
    return WA_VSEL(v_f64, x != x, x + x, x);
}
#if WA_SSE41
#define WA_ROUND32(x, mode) ((v_f32)_mm_round_ps((__m128)(x), (mode) | _MM_FROUND_NO_EXC))
#define WA_ROUND64(x, mode) ((v_f64)_mm_round_pd((__m128d)(x), (mode) | _MM_FROUND_NO_EXC))
#else
#define WA_ROUND32(x, mode) wa_round32(x, mode)
#define WA_ROUND64(x, mode) wa_round64(x, mode)
#endif

/* Saturating float-to-int truncation of one lane (NaN: 0). */
static inline int32_t wa_sat_s32(double x)
{
    if (x != x) return 0;
    if (x <= -2147483649.0) return INT32_MIN;
    if (x >= 2147483648.0) return INT32_MAX;
    return (int32_t)x;
}
static inline uint32_t wa_sat_u32(double x)
{
    if (x != x || x <= -1.0) return 0;
    if (x >= 4294967296.0) return UINT32_MAX;
    return (uint32_t)x;
}

#endif
