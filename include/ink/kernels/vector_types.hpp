// The x86 vector registers the kernels use, as GCC vector types (also understood by clang),
// and the operations they need beyond +, *, compares and __builtin_shufflevector: masked
// loads and stores, gathers, FMA, non-temporal stores. Part of kernels/. With GCC these are
// the builtins <immintrin.h>'s intrinsics expand to, called directly: parsing <immintrin.h>
// costs every program that includes ink about 0.4 s, a tenth of an empty main's compile time,
// for the two dozen operations the kernels use. Clang's builtins have other names and
// signatures, so under clang the same functions are written with <immintrin.h>'s intrinsics.
#pragma once
#if defined(__clang__) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>
#endif

// The program is built without -march, so every function using AVX-512 or AVX2 instructions
// carries the target itself and only runs after cpu_features.hpp confirmed the CPU has it.
#define INK_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma")))
#define INK_TARGET_AVX2 __attribute__((target("avx2,fma")))

namespace ink::kernels::simd {

// Whole registers (aligned as registers, for values) and their unaligned, aliasing twins
// (for loads and stores through pointers to float or double, like _mm*_loadu_*).
typedef float f32x8 __attribute__((vector_size(32)));
typedef double f64x4 __attribute__((vector_size(32)));
typedef int i32x8 __attribute__((vector_size(32)));
typedef long long i64x4 __attribute__((vector_size(32)));
typedef long long i64x2 __attribute__((vector_size(16)));
typedef long long i64x8 __attribute__((vector_size(64)));
typedef float f32x4 __attribute__((vector_size(16)));
typedef int i32x4 __attribute__((vector_size(16)));
typedef float f32x16 __attribute__((vector_size(64)));
typedef int i32x16 __attribute__((vector_size(64)));
typedef double f64x8 __attribute__((vector_size(64)));
typedef float f32x8_u __attribute__((vector_size(32), aligned(1), may_alias));
typedef double f64x4_u __attribute__((vector_size(32), aligned(1), may_alias));
typedef float f32x16_u __attribute__((vector_size(64), aligned(1), may_alias));
typedef double f64x8_u __attribute__((vector_size(64), aligned(1), may_alias));
typedef float f32x4_u __attribute__((vector_size(16), aligned(1), may_alias));
typedef int i32x4_u __attribute__((vector_size(16), aligned(1), may_alias));
typedef int i32x8_u __attribute__((vector_size(32), aligned(1), may_alias));
typedef int i32x16_u __attribute__((vector_size(64), aligned(1), may_alias));

// The rounding argument of the AVX-512 builtins that take one: the current mode (MXCSR),
// which is what the unsuffixed intrinsics pass (_MM_FROUND_CUR_DIRECTION).
constexpr int kCurrentRounding = 4;

#if defined(__x86_64__) || defined(__i386__)
#define INK_SIMD_AVX512 INK_TARGET_AVX512 __attribute__((always_inline)) inline
#define INK_SIMD_AVX2 INK_TARGET_AVX2 __attribute__((always_inline)) inline
#define INK_SIMD_SSE2 __attribute__((always_inline)) inline

#if defined(__clang__)
// Clang: the same operations through <immintrin.h>. Casts between vector types of one size
// reinterpret the bits.
#define INK_SIMD_OP(gcc, clang) clang
#else
#define INK_SIMD_OP(gcc, clang) gcc
#endif

// AVX-512 (F, VL). Masked loads give src's lane where the mask is off; masked stores leave
// that memory untouched; gathers read base[idx] (elements, not bytes) where the mask is on.
INK_SIMD_AVX512 f32x16 mask_load(f32x16 src, unsigned short m, const float* p) {
  return INK_SIMD_OP(__builtin_ia32_loadups512_mask(p, src, m), (f32x16)_mm512_mask_loadu_ps((__m512)src, m, p));
}
INK_SIMD_AVX512 f64x8 mask_load(f64x8 src, unsigned char m, const double* p) {
  return INK_SIMD_OP(__builtin_ia32_loadupd512_mask(p, src, m), (f64x8)_mm512_mask_loadu_pd((__m512d)src, m, p));
}
INK_SIMD_AVX512 i32x16 mask_load(i32x16 src, unsigned short m, const int* p) {
  return INK_SIMD_OP(__builtin_ia32_loaddqusi512_mask(p, src, m),
                     (i32x16)_mm512_mask_loadu_epi32((__m512i)src, m, p));
}
INK_SIMD_AVX512 i32x8 mask_load(i32x8 src, unsigned char m, const int* p) {
  return INK_SIMD_OP(__builtin_ia32_loaddqusi256_mask(p, src, m),
                     (i32x8)_mm256_mask_loadu_epi32((__m256i)src, m, p));
}
INK_SIMD_AVX512 f32x8 mask_load(f32x8 src, unsigned char m, const float* p) {
  return INK_SIMD_OP(__builtin_ia32_loadups256_mask(p, src, m), (f32x8)_mm256_mask_loadu_ps((__m256)src, m, p));
}
INK_SIMD_AVX512 void mask_store(float* p, unsigned short m, f32x16 v) {
  INK_SIMD_OP(__builtin_ia32_storeups512_mask(p, v, m), _mm512_mask_storeu_ps(p, m, (__m512)v));
}
INK_SIMD_AVX512 void mask_store(double* p, unsigned char m, f64x8 v) {
  INK_SIMD_OP(__builtin_ia32_storeupd512_mask(p, v, m), _mm512_mask_storeu_pd(p, m, (__m512d)v));
}
// a * b + c rounded once. Written as builtins because GCC at -std=c++20 does not contract
// a * b + c into an FMA.
INK_SIMD_AVX512 f32x16 fmadd(f32x16 a, f32x16 b, f32x16 c) {
  return INK_SIMD_OP(__builtin_ia32_vfmaddps512_mask(a, b, c, static_cast<unsigned short>(~0u), kCurrentRounding),
                     (f32x16)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c));
}
INK_SIMD_AVX512 f64x8 fmadd(f64x8 a, f64x8 b, f64x8 c) {
  return INK_SIMD_OP(__builtin_ia32_vfmaddpd512_mask(a, b, c, static_cast<unsigned char>(~0u), kCurrentRounding),
                     (f64x8)_mm512_fmadd_pd((__m512d)a, (__m512d)b, (__m512d)c));
}
INK_SIMD_AVX512 f32x16 mask_gather(f32x16 src, unsigned short m, i32x16 idx, const float* base) {
  return INK_SIMD_OP(__builtin_ia32_gathersiv16sf(src, base, idx, m, 4),
                     (f32x16)_mm512_mask_i32gather_ps((__m512)src, m, (__m512i)idx, base, 4));
}
INK_SIMD_AVX512 f64x8 mask_gather(f64x8 src, unsigned char m, i32x8 idx, const double* base) {
  return INK_SIMD_OP(__builtin_ia32_gathersiv8df(src, base, idx, m, 8),
                     (f64x8)_mm512_mask_i32gather_pd((__m512d)src, m, (__m256i)idx, base, 8));
}
// Lane j of the 32 values of a (lanes 0-15) and b (16-31) at idx[j]: vpermt2ps.
INK_SIMD_AVX512 f32x16 permute2(f32x16 a, i32x16 idx, f32x16 b) {
  return INK_SIMD_OP(__builtin_ia32_vpermt2varps512_mask(idx, a, b, static_cast<unsigned short>(~0u)),
                     (f32x16)_mm512_permutex2var_ps((__m512)a, (__m512i)idx, (__m512)b));
}
// b where m is on, a elsewhere.
INK_SIMD_AVX512 f32x16 mask_blend(unsigned short m, f32x16 a, f32x16 b) {
  return INK_SIMD_OP(__builtin_ia32_blendmps_512_mask(a, b, m), (f32x16)_mm512_mask_blend_ps(m, (__m512)a, (__m512)b));
}
// The lanes of m where a > b.
INK_SIMD_AVX512 unsigned short mask_cmpgt(unsigned short m, i32x16 a, i32x16 b) {
  return INK_SIMD_OP(__builtin_ia32_pcmpgtd512_mask(a, b, m), _mm512_mask_cmpgt_epi32_mask(m, (__m512i)a, (__m512i)b));
}
// a + b where m is on, src elsewhere.
INK_SIMD_AVX512 f32x16 mask_add(f32x16 src, unsigned short m, f32x16 a, f32x16 b) {
  return INK_SIMD_OP(__builtin_ia32_addps512_mask(a, b, src, m, kCurrentRounding),
                     (f32x16)_mm512_mask_add_ps((__m512)src, m, (__m512)a, (__m512)b));
}

// AVX2 + FMA. Masks are vectors: a lane is on when its sign bit is set. Masked loads zero the
// lanes that are off.
INK_SIMD_AVX2 f32x8 maskload(const float* p, i32x8 m) {
  return INK_SIMD_OP(__builtin_ia32_maskloadps256(reinterpret_cast<const f32x8*>(p), m),
                     (f32x8)_mm256_maskload_ps(p, (__m256i)m));
}
INK_SIMD_AVX2 f64x4 maskload(const double* p, i64x4 m) {
  return INK_SIMD_OP(__builtin_ia32_maskloadpd256(reinterpret_cast<const f64x4*>(p), m),
                     (f64x4)_mm256_maskload_pd(p, (__m256i)m));
}
INK_SIMD_AVX2 i32x8 maskload(const int* p, i32x8 m) {
  return INK_SIMD_OP(__builtin_ia32_maskloadd256(reinterpret_cast<const i32x8*>(p), m),
                     (i32x8)_mm256_maskload_epi32(p, (__m256i)m));
}
INK_SIMD_AVX2 void maskstore(float* p, i32x8 m, f32x8 v) {
  INK_SIMD_OP(__builtin_ia32_maskstoreps256(reinterpret_cast<f32x8*>(p), m, v),
              _mm256_maskstore_ps(p, (__m256i)m, (__m256)v));
}
INK_SIMD_AVX2 void maskstore(double* p, i64x4 m, f64x4 v) {
  INK_SIMD_OP(__builtin_ia32_maskstorepd256(reinterpret_cast<f64x4*>(p), m, v),
              _mm256_maskstore_pd(p, (__m256i)m, (__m256d)v));
}
INK_SIMD_AVX2 f32x8 fmadd(f32x8 a, f32x8 b, f32x8 c) {
  return INK_SIMD_OP(__builtin_ia32_vfmaddps256(a, b, c), (f32x8)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c));
}
INK_SIMD_AVX2 f64x4 fmadd(f64x4 a, f64x4 b, f64x4 c) {
  return INK_SIMD_OP(__builtin_ia32_vfmaddpd256(a, b, c),
                     (f64x4)_mm256_fmadd_pd((__m256d)a, (__m256d)b, (__m256d)c));
}
// base[idx] where the mask's sign bit is set, src elsewhere.
INK_SIMD_AVX2 f32x8 mask_gather(f32x8 src, const float* base, i32x8 idx, f32x8 m) {
  return INK_SIMD_OP(__builtin_ia32_gathersiv8sf(src, base, idx, m, 4),
                     (f32x8)_mm256_mask_i32gather_ps((__m256)src, base, (__m256i)idx, (__m256)m, 4));
}
INK_SIMD_AVX2 f64x4 mask_gather(f64x4 src, const double* base, i32x4 idx, f64x4 m) {
  return INK_SIMD_OP(__builtin_ia32_gathersiv4df(src, base, idx, m, 8),
                     (f64x4)_mm256_mask_i32gather_pd((__m256d)src, base, (__m128i)idx, (__m256d)m, 8));
}
// True when a & b is all zeros.
INK_SIMD_AVX2 bool testz(i64x4 a, i64x4 b) {
  return INK_SIMD_OP(__builtin_ia32_ptestz256(a, b), _mm256_testz_si256((__m256i)a, (__m256i)b));
}
// b where the mask's sign bit is set, a elsewhere.
INK_SIMD_AVX2 f32x8 blendv(f32x8 a, f32x8 b, f32x8 m) {
  return INK_SIMD_OP(__builtin_ia32_blendvps256(a, b, m), (f32x8)_mm256_blendv_ps((__m256)a, (__m256)b, (__m256)m));
}

#if defined(__SSE2__)
// A non-temporal store of 16 bytes to a 16-byte aligned address, and the fence that orders
// such stores before later ones.
INK_SIMD_SSE2 void stream_store(float* p, f32x4 v) {
  INK_SIMD_OP(__builtin_ia32_movntps(p, v), _mm_stream_ps(p, (__m128)v));
}
INK_SIMD_SSE2 void store_fence() { INK_SIMD_OP(__builtin_ia32_sfence(), _mm_sfence()); }
#endif

#undef INK_SIMD_OP
#undef INK_SIMD_AVX512
#undef INK_SIMD_AVX2
#undef INK_SIMD_SSE2
#endif  // x86

}  // namespace ink::kernels::simd
