// GEMM entry point used by the ops: C = alpha * op(A) * op(B) + beta * C, row-major.
// Part of kernels/. For now it runs the reference loops; the packed, blocked SIMD GEMM
// replaces the body without any change to callers.
#pragma once
#include "ink/kernels/gemm_reference.hpp"

namespace ink::kernels {

template <class T>
void gemm(bool trans_a, bool trans_b, index_t M, index_t N, index_t K, T alpha, const T* A,
          index_t lda, const T* B, index_t ldb, T beta, T* C, index_t ldc) {
  gemm_reference(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace ink::kernels
