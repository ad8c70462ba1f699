// Packing for the blocked GEMM: copies a block of op(A) or op(B) into the contiguous,
// zero-padded panel layout the micro-kernels read, absorbing transposes and leading dimensions.
// Part of kernels/; used by the frame in gemm.hpp for every ISA.
#pragma once
#include <algorithm>

#include "ink/core/config.hpp"

namespace ink::kernels::gemm_pack {

// A micro-panel: rows [i0, i0+m) and columns [k0, k0+kc) of op(A), stored k-major with MR
// values per k (dst[k*MR + i]); rows m..MR-1 are zero so a full-tile kernel may read them.
template <int MR, class T>
void pack_a(bool trans, const T* A, index_t lda, index_t i0, int m, index_t k0, index_t kc, T* dst) {
  if (trans) {  // op(A)(i, k) = A[k*lda + i]: each k is a contiguous run of m values
    if (m == MR) {  // a copy of a known length per k, which compiles to vector moves (the
                    // loop below, of run-time length, stayed scalar: 11% of a Winograd
                    // weight gradient, whose GEMMs pack a transposed A)
      for (index_t k = 0; k < kc; ++k) {
        const T* src = A + (k0 + k) * lda + i0;
        T* d = dst + k * MR;
        for (int i = 0; i < MR; ++i) d[i] = src[i];
      }
      return;
    }
    for (index_t k = 0; k < kc; ++k) {
      const T* src = A + (k0 + k) * lda + i0;
      T* d = dst + k * MR;
      for (int i = 0; i < m; ++i) d[i] = src[i];
      for (int i = m; i < MR; ++i) d[i] = T(0);
    }
    return;
  }
  // op(A)(i, k) = A[i*lda + k]: a transpose of m rows; rows are read contiguously.
  for (int i = 0; i < m; ++i) {
    const T* src = A + (i0 + i) * lda + k0;
    for (index_t k = 0; k < kc; ++k) dst[k * MR + i] = src[k];
  }
  for (int i = m; i < MR; ++i)
    for (index_t k = 0; k < kc; ++k) dst[k * MR + i] = T(0);
}

// A block of op(B): rows [k0, k0+kc), columns [j0, j0+n), cut into micro-panels of NR columns;
// panel p starts at dst + p*kc*NR and holds NR values per k (dst[k*NR + j]), zero-padded past n.
template <int NR, class T>
void pack_b(bool trans, const T* B, index_t ldb, index_t k0, index_t kc, index_t j0, index_t n, T* dst) {
  const index_t full = n / NR;  // panels of NR columns; one partial panel follows when n % NR
  const int rest = static_cast<int>(n - full * NR);
  if (trans) {  // op(B)(k, j) = B[j*ldb + k]: a transpose; columns of op(B) are read contiguously
    for (index_t p = 0; p * NR < n; ++p) {
      T* d = dst + p * kc * NR;
      const int w = p < full ? NR : rest;
      for (int j = 0; j < w; ++j) {
        const T* src = B + (j0 + p * NR + j) * ldb + k0;
        for (index_t k = 0; k < kc; ++k) d[k * NR + j] = src[k];
      }
      for (int j = w; j < NR; ++j)
        for (index_t k = 0; k < kc; ++k) d[k * NR + j] = T(0);
    }
    return;
  }
  // op(B)(k, j) = B[k*ldb + j]: rows of B are read front to back, each scattered over the
  // panels. Walking one panel down all kc rows instead would touch kc pages per panel and
  // defeat the prefetcher (measured 9x slower: 1.76 ms instead of 0.19 ms for 576 x 3136).
  for (index_t k = 0; k < kc; ++k) {
    const T* src = B + (k0 + k) * ldb + j0;
    T* d = dst + k * NR;
    for (index_t p = 0; p < full; ++p, src += NR, d += kc * NR)
      for (int j = 0; j < NR; ++j) d[j] = src[j];
    if (rest) {
      for (int j = 0; j < rest; ++j) d[j] = src[j];
      for (int j = rest; j < NR; ++j) d[j] = T(0);
    }
  }
}

}  // namespace ink::kernels::gemm_pack
