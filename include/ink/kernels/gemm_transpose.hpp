// Register transposes for GEMM packing: 8 rows of a row-major matrix, read a few k at a time
// and written k-major with 8 values per k, at any destination stride. Packing a non-transposed
// A micro-panel (8 rows, stride 8) and a transposed B panel (8 of its columns, stride NR) are
// both this shape; done one element at a time, the strided stores made packing B for
// dW = dY * cols^T cost half as much as the multiply itself. AVX2 instructions only, so both
// the AVX2 and the AVX-512 kernels call them. Part of kernels/.
#pragma once
#include <immintrin.h>

#include <algorithm>

#include "ink/core/config.hpp"

#ifndef INK_TARGET_AVX2
// The program is built without -march, so every function using AVX2 intrinsics carries the
// target itself and only runs after cpu_features.hpp confirmed the CPU has it.
#define INK_TARGET_AVX2 __attribute__((target("avx2,fma")))
#endif

namespace ink::kernels::gemm_transpose {

// dst[k * stride + i] = src[i * ld + k] for i < 8, k < kc.
INK_TARGET_AVX2 inline void rows8(const float* src, index_t ld, index_t kc, float* dst, index_t stride) {
  index_t k = 0;
  for (; k + 8 <= kc; k += 8) {
    __m256 r[8], t[8], s[8];
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * ld + k);
#pragma GCC unroll 4
    for (int i = 0; i < 8; i += 2) {
      t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
#pragma GCC unroll 2
    for (int h = 0; h < 8; h += 4) {
      s[h] = _mm256_shuffle_ps(t[h], t[h + 2], 0x44);
      s[h + 1] = _mm256_shuffle_ps(t[h], t[h + 2], 0xEE);
      s[h + 2] = _mm256_shuffle_ps(t[h + 1], t[h + 3], 0x44);
      s[h + 3] = _mm256_shuffle_ps(t[h + 1], t[h + 3], 0xEE);
    }
    float* d = dst + k * stride;
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      _mm256_storeu_ps(d + j * stride, _mm256_permute2f128_ps(s[j], s[j + 4], 0x20));
      _mm256_storeu_ps(d + (j + 4) * stride, _mm256_permute2f128_ps(s[j], s[j + 4], 0x31));
    }
  }
  for (; k < kc; ++k)
    for (int i = 0; i < 8; ++i) dst[k * stride + i] = src[i * ld + k];
}

INK_TARGET_AVX2 inline void rows8(const double* src, index_t ld, index_t kc, double* dst, index_t stride) {
  index_t k = 0;
  for (; k + 4 <= kc; k += 4) {
    double* d = dst + k * stride;
#pragma GCC unroll 2
    for (int h = 0; h < 8; h += 4) {  // rows h..h+3 fill lanes h..h+3 of 4 consecutive k
      const double* a = src + h * ld + k;
      const __m256d r0 = _mm256_loadu_pd(a), r1 = _mm256_loadu_pd(a + ld);
      const __m256d r2 = _mm256_loadu_pd(a + 2 * ld), r3 = _mm256_loadu_pd(a + 3 * ld);
      const __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1);
      const __m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
      _mm256_storeu_pd(d + h, _mm256_permute2f128_pd(t0, t2, 0x20));
      _mm256_storeu_pd(d + stride + h, _mm256_permute2f128_pd(t1, t3, 0x20));
      _mm256_storeu_pd(d + 2 * stride + h, _mm256_permute2f128_pd(t0, t2, 0x31));
      _mm256_storeu_pd(d + 3 * stride + h, _mm256_permute2f128_pd(t1, t3, 0x31));
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
