// The reference GEMM: obvious loops, the oracle that the fast GEMM is tested against.
// Part of kernels/: raw pointers, no tensors.
#pragma once
#include "ink/core/config.hpp"

namespace ink::kernels {

// C = alpha * op(A) * op(B) + beta * C, all row-major. op(A) is M x K: A[i*lda + k], or
// A[k*lda + i] when trans_a. op(B) is K x N: B[k*ldb + j], or B[j*ldb + k] when trans_b.
// When beta == 0, C is written without being read (NaNs in C do not propagate), as in BLAS.
template <class T>
void gemm_reference(bool trans_a, bool trans_b, index_t M, index_t N, index_t K, T alpha,
                    const T* A, index_t lda, const T* B, index_t ldb, T beta, T* C, index_t ldc) {
  for (index_t i = 0; i < M; ++i) {
    for (index_t j = 0; j < N; ++j) {
      T acc = 0;
      for (index_t k = 0; k < K; ++k) {
        const T a = trans_a ? A[k * lda + i] : A[i * lda + k];
        const T b = trans_b ? B[j * ldb + k] : B[k * ldb + j];
        acc += a * b;
      }
      C[i * ldc + j] = alpha * acc + (beta == T(0) ? T(0) : beta * C[i * ldc + j]);
    }
  }
}

}  // namespace ink::kernels
