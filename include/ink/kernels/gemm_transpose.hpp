// Register transposes for GEMM packing: 8 rows of a row-major matrix, read a few k at a time
// and written k-major with 8 values per k, at any destination stride. Packing a non-transposed
// A micro-panel (8 rows, stride 8) and a transposed B panel (8 of its columns, stride NR) are
// both this shape; done one element at a time, the strided stores made packing B for
// dW = dY * cols^T cost half as much as the multiply itself. AVX2 instructions only, so both
// the AVX2 and the AVX-512 kernels call them. The shuffles are written as __builtin_shufflevector
// lane lists (the intrinsic each stands for is named beside it). Part of kernels/.
#pragma once
#include <algorithm>

#include "ink/core/config.hpp"
#include "ink/kernels/vector_types.hpp"

namespace ink::kernels::gemm_transpose {

// The 8x8 transpose of r (r[i][k] -> column k of the result): the unpack / shuffle /
// permute2f128 sequence of the intrinsics, as vector shuffles. out[k][i] = r[i][k].
INK_TARGET_AVX2 __attribute__((always_inline)) inline void transpose8x8(const simd::f32x8 (&r)[8], simd::f32x8 (&out)[8]) {
  using simd::f32x8;
  f32x8 t[8], s[8];
#pragma GCC unroll 4
  for (int i = 0; i < 8; i += 2) {
    t[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);       // unpacklo_ps
    t[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);  // unpackhi_ps
  }
#pragma GCC unroll 2
  for (int h = 0; h < 8; h += 4) {  // shuffle_ps with 0x44 and 0xEE
    s[h] = __builtin_shufflevector(t[h], t[h + 2], 0, 1, 8, 9, 4, 5, 12, 13);
    s[h + 1] = __builtin_shufflevector(t[h], t[h + 2], 2, 3, 10, 11, 6, 7, 14, 15);
    s[h + 2] = __builtin_shufflevector(t[h + 1], t[h + 3], 0, 1, 8, 9, 4, 5, 12, 13);
    s[h + 3] = __builtin_shufflevector(t[h + 1], t[h + 3], 2, 3, 10, 11, 6, 7, 14, 15);
  }
#pragma GCC unroll 4
  for (int j = 0; j < 4; ++j) {  // permute2f128_ps with 0x20 and 0x31
    out[j] = __builtin_shufflevector(s[j], s[j + 4], 0, 1, 2, 3, 8, 9, 10, 11);
    out[j + 4] = __builtin_shufflevector(s[j], s[j + 4], 4, 5, 6, 7, 12, 13, 14, 15);
  }
}

// dst[k * stride + i] = src[i * ld + k] for i < 8, k < kc. The last kc % 8 columns go through
// the same transpose, loaded with masks (vmaskmovps, which reads nothing past kc): element by
// element they were about half of the channels-last staging of 14-wide images in the Winograd
// kernels (bench_conv b).
INK_TARGET_AVX2 inline void rows8(const float* src, index_t ld, index_t kc, float* dst, index_t stride) {
  using simd::f32x8;
  using simd::f32x8_u;
  f32x8 r[8], c[8];
  index_t k = 0;
  for (; k + 8 <= kc; k += 8) {
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i) r[i] = *reinterpret_cast<const f32x8_u*>(src + i * ld + k);
    transpose8x8(r, c);
    float* d = dst + k * stride;
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) *reinterpret_cast<f32x8_u*>(d + j * stride) = c[j];
  }
  if (k == kc) return;
  const int rest = static_cast<int>(kc - k);
  const simd::i32x8 lane = {0, 1, 2, 3, 4, 5, 6, 7};
  const simd::i32x8 mask = lane < rest;  // -1 in the lanes to load
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i)
    r[i] = simd::maskload(src + i * ld + k, mask);
  transpose8x8(r, c);
  for (int j = 0; j < rest; ++j) *reinterpret_cast<f32x8_u*>(dst + (k + j) * stride) = c[j];
}

INK_TARGET_AVX2 inline void rows8(const double* src, index_t ld, index_t kc, double* dst, index_t stride) {
  using simd::f64x4;
  using simd::f64x4_u;
  index_t k = 0;
  for (; k + 4 <= kc; k += 4) {
    double* d = dst + k * stride;
#pragma GCC unroll 2
    for (int h = 0; h < 8; h += 4) {  // rows h..h+3 fill lanes h..h+3 of 4 consecutive k
      const double* a = src + h * ld + k;
      const f64x4 r0 = *reinterpret_cast<const f64x4_u*>(a), r1 = *reinterpret_cast<const f64x4_u*>(a + ld);
      const f64x4 r2 = *reinterpret_cast<const f64x4_u*>(a + 2 * ld), r3 = *reinterpret_cast<const f64x4_u*>(a + 3 * ld);
      // unpacklo_pd / unpackhi_pd, then permute2f128_pd with 0x20 and 0x31
      const f64x4 t0 = __builtin_shufflevector(r0, r1, 0, 4, 2, 6), t1 = __builtin_shufflevector(r0, r1, 1, 5, 3, 7);
      const f64x4 t2 = __builtin_shufflevector(r2, r3, 0, 4, 2, 6), t3 = __builtin_shufflevector(r2, r3, 1, 5, 3, 7);
      *reinterpret_cast<f64x4_u*>(d + h) = __builtin_shufflevector(t0, t2, 0, 1, 4, 5);
      *reinterpret_cast<f64x4_u*>(d + stride + h) = __builtin_shufflevector(t1, t3, 0, 1, 4, 5);
      *reinterpret_cast<f64x4_u*>(d + 2 * stride + h) = __builtin_shufflevector(t0, t2, 2, 3, 6, 7);
      *reinterpret_cast<f64x4_u*>(d + 3 * stride + h) = __builtin_shufflevector(t1, t3, 2, 3, 6, 7);
    }
  }
  for (; k < kc; ++k)
    for (int i = 0; i < 8; ++i) dst[k * stride + i] = src[i * ld + k];
}

// gemm_pack::pack_b's transposed case (op(B)(k, j) = B[j*ldb + k]) with groups of 8 columns
// transposed in registers; same layout: panels of NR columns, zero-padded past n.
template <int NR, class T>
void pack_b_transposed(const T* B, index_t ldb, index_t k0, index_t kc, index_t j0, index_t n, T* dst) {
  static_assert(NR % 8 == 0, "pack_b_transposed: NR must be a multiple of 8");
  for (index_t p = 0; p * NR < n; ++p) {
    T* d = dst + p * kc * NR;
    const int w = static_cast<int>(std::min<index_t>(NR, n - p * NR));
    int j = 0;
    for (; j + 8 <= w; j += 8) rows8(B + (j0 + p * NR + j) * ldb + k0, ldb, kc, d + j, NR);
    for (; j < w; ++j) {
      const T* src = B + (j0 + p * NR + j) * ldb + k0;
      for (index_t k = 0; k < kc; ++k) d[k * NR + j] = src[k];
    }
    for (; j < NR; ++j)
      for (index_t k = 0; k < kc; ++k) d[k * NR + j] = T(0);
  }
}

}  // namespace ink::kernels::gemm_transpose
