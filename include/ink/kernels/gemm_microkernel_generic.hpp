// Portable C++ micro-kernel of the GEMM, for CPUs without AVX2 (or INK_ISA=generic): plain
// loops over a small register tile that the compiler vectorises for the baseline ISA (SSE2 on
// x86-64). Part of kernels/; driven by the blocked frame in gemm.hpp.
#pragma once
#include <array>

#include "ink/core/config.hpp"
#include "ink/kernels/gemm_pack.hpp"

namespace ink::kernels::gemm_generic {

template <class T>
struct Kernel {
  // 4 rows x 8 floats (or 4 doubles) = 8 SSE registers of accumulators, half of the 16
  // available, leaving room for the B row and the broadcast without spills.
  static constexpr int MR = 4;
  static constexpr int NR = 32 / static_cast<int>(sizeof(T));
  static constexpr index_t KC = 256;
  static constexpr index_t NC = sizeof(T) == 4 ? 480 : 240;
  // MC: the packed MC x KC block of A (2 MiB) waits in L3; B is packed once per MC rows.
  static constexpr index_t MC = sizeof(T) == 4 ? 2048 : 1024;

  static void pack_a(bool trans, const T* A, index_t lda, index_t i0, int m, index_t k0, index_t kc, T* dst) {
    gemm_pack::pack_a<MR>(trans, A, lda, i0, m, k0, kc, dst);
  }

  static void pack_b(bool trans, const T* B, index_t ldb, index_t k0, index_t kc, index_t j0, index_t n, T* dst) {
    gemm_pack::pack_b<NR>(trans, B, ldb, k0, kc, j0, n, dst);
  }

  // C tile of m <= MR rows and n <= NR columns. The packed panels are zero-padded to MR x NR,
  // so the loops always run over the full tile (fixed trip counts the compiler unrolls and
  // vectorises) and only the stores are trimmed to the edge.
  static void tile(index_t kc, const T* __restrict a, const T* __restrict b, T* c, index_t ldc, T alpha, T beta,
                   int m, int n) {
    T acc[MR][NR] = {};
    for (index_t k = 0; k < kc; ++k) {
      for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NR; ++j) acc[i][j] += a[i] * b[j];
      a += MR;
      b += NR;
    }
    for (int i = 0; i < m; ++i) {
      T* ci = c + i * ldc;
      for (int j = 0; j < n; ++j) {
        const T r = alpha * acc[i][j];
        ci[j] = beta == T(0) ? r : beta == T(1) ? r + ci[j] : r + beta * ci[j];
      }
    }
  }

  // The frame's view of this kernel (gemm.hpp): one height and one "vector" of NR columns, so
  // every tile runs tile() with n = `last`.
  using Fn = void (*)(index_t, const T*, const T*, T*, index_t, T, T, int, int);
  static constexpr int NV = 1;
  static constexpr int kLanes = NR;
  static constexpr int kHeights[3] = {MR, MR, MR};
  static constexpr std::array<std::array<Fn, NV>, 3> kTable = {{{&tile}, {&tile}, {&tile}}};
};

}  // namespace ink::kernels::gemm_generic
