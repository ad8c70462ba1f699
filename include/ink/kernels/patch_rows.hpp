// A stride-1 convolution's forward and weight-gradient GEMMs with the patch matrix read where
// it lies. Entry (k, l) of the patch matrix is padded[tap[k] + pos[l]] (PatchMatrix,
// patch_pack.hpp), and at stride 1 the positions of one output row are consecutive in the
// padded copy: for every patch row k, a run of positions along a row is a run of consecutive
// values. The forward's micro-kernel loads them as B's rows (micro_kernel_b_rows in the
// AVX-512 and AVX2 micro-kernel files), the weight gradient's broadcasts them as A's
// (micro_kernel_a_rows), so the patch matrix is never packed. Part of kernels/.
//
// Why: on the 9x9 3-channel convolution (i), packing the patch panels for the GEMM was 18% of
// the forward's time and 21% of the weight gradient's: with 32 output channels each packed
// value fed only 32 multiply-adds.
#pragma once
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "ink/core/config.hpp"
#include "ink/core/cpu_features.hpp"
#include "ink/core/parallel.hpp"
#include "ink/kernels/gemm.hpp"
#include "ink/kernels/im2col.hpp"
#include "ink/kernels/workspace.hpp"

namespace ink::kernels {

// Whether patch_rows_gemm runs for T and window g on this CPU: float, an AVX-512 or AVX2
// micro-kernel, and stride 1 along the rows (any vertical stride and dilation).
template <class T>
bool patch_rows_applies(const Window2d& g) {
  if constexpr (!std::is_same_v<T, float>) {
    return false;
  } else {
    const Isa isa = active_isa();
    return g.stride_w == 1 && (isa == Isa::avx512 || isa == Isa::avx2);
  }
}

// out[i][l] (i < M, rows ld apart) = sum over k < K of A(i, k) * padded[tap[k] + pos[l]], for the
// positions l < rows * ow, ow per output row, pos[l + 1] == pos[l] + 1 within a row. `a` is
// pack_a of the M x K matrix A. On the calling thread; only where patch_rows_applies.
// Loop order: K slices (pack_a's), MR rows of A (the micro-panel, at most 8 KiB, stays in
// L1), output rows, NR positions. Each output element sees the same operations for any split
// of the rows between calls.
template <class T>
void patch_rows_gemm(const PackedA<T>& a, index_t M, index_t K, const T* padded, const std::int32_t* tap,
                     const std::int32_t* pos, index_t rows, index_t ow, T* out, index_t ld) {
  static_assert(std::is_same_v<T, float>, "patch_rows_gemm: float only (patch_rows_applies)");
  using Fn = void (*)(index_t, const T*, const T*, const std::int32_t*, T*, index_t, T, int, int);
  const bool avx512 = active_isa() == Isa::avx512;
  const Fn* kernels = avx512 ? gemm_avx512::Kernel<T>::kBRowsTable.data() : gemm_avx2::Kernel<T>::kBRowsTable.data();
  const index_t MR = avx512 ? gemm_avx512::Kernel<T>::MR : gemm_avx2::Kernel<T>::MR;
  const index_t lanes = avx512 ? gemm_avx512::Kernel<T>::kLanes : gemm_avx2::Kernel<T>::kLanes;
  const index_t NR = avx512 ? gemm_avx512::Kernel<T>::NR : gemm_avx2::Kernel<T>::NR;
  const index_t kc_max = gemm_detail::slice_depth(gemm_detail::active_kernel<T>(), K);
  for (index_t k0 = 0; k0 < K; k0 += kc_max) {
    const index_t kc = std::min(kc_max, K - k0);
    const T beta = k0 == 0 ? T(0) : T(1);  // later slices accumulate
    for (index_t i = 0; i < M; i += MR) {
      const T* panel = a.panels + k0 * a.rows + i * kc;
      const int m = static_cast<int>(std::min(MR, M - i));
      for (index_t r = 0; r < rows; ++r)
        for (index_t x = 0; x < ow; x += NR) {
          const index_t l = r * ow + x, n = std::min(NR, ow - x), nv = (n + lanes - 1) / lanes;
          kernels[nv - 1](kc, panel, padded + pos[l], tap + k0, out + i * ld + l, ld, beta, m,
                          static_cast<int>(n - (nv - 1) * lanes));
        }
    }
  }
}

// ct (P x M, rows M apart) = beta * ct + the sum over positions l < rows * ow of
// padded[tap[k] + pos[l]] * d(i, l): a stride-1 band's weight gradient, transposed, for M
// output channels (d is M x rows * ow, leading dimension ldd) and P patch rows, the positions
// as in patch_rows_gemm. ct = patches * d^T with the patch rows read in place as A and d^T
// packed as B (the GEMM's transposing pack_b) once per run of up to KC positions, shared by
// MR-row panels of patch rows. Every element sums the rows in order, each row's positions in
// order, so the result is the same whether the panels are split between the threads
// (`split`, with parallel_for's rules) or not. Scratch: each working thread's kSlotCaller0.
// Only where patch_rows_applies.
template <class T>
void patch_rows_weight_grad(const T* d, index_t ldd, index_t M, const T* padded, const std::int32_t* tap, index_t P,
                            const std::int32_t* pos, index_t rows, index_t ow, T beta, T* ct, bool split) {
  static_assert(std::is_same_v<T, float>, "patch_rows_weight_grad: float only (patch_rows_applies)");
  using Fn = void (*)(index_t, const T* const*, const T*, T*, index_t, T, int, int);
  using PackB = void (*)(bool, const T*, index_t, index_t, index_t, index_t, index_t, T*);
  const bool avx512 = active_isa() == Isa::avx512;
  const Fn* kernels = avx512 ? gemm_avx512::Kernel<T>::kARowsTable.data() : gemm_avx2::Kernel<T>::kARowsTable.data();
  const PackB pack_b = avx512 ? &gemm_avx512::Kernel<T>::pack_b : &gemm_avx2::Kernel<T>::pack_b;
  constexpr int kMaxMR = gemm_avx512::Kernel<T>::MR;
  static_assert(gemm_avx2::Kernel<T>::MR <= kMaxMR);
  const index_t MR = avx512 ? kMaxMR : gemm_avx2::Kernel<T>::MR;
  const index_t lanes = avx512 ? gemm_avx512::Kernel<T>::kLanes : gemm_avx2::Kernel<T>::kLanes;
  const index_t NR = avx512 ? gemm_avx512::Kernel<T>::NR : gemm_avx2::Kernel<T>::NR;
  const index_t KC = avx512 ? gemm_avx512::Kernel<T>::KC : gemm_avx2::Kernel<T>::KC;
  const index_t panels = (M + NR - 1) / NR, tap_panels = (P + MR - 1) / MR;
  parallel_for(0, tap_panels, split ? 1 : tap_panels, [&](index_t first, index_t last) {
    T* b = thread_workspace().get<T>(kSlotCaller0, static_cast<std::size_t>(panels * KC * NR));
    for (index_t r = 0; r < rows; ++r)
      for (index_t x = 0; x < ow; x += KC) {
        const index_t kc = std::min(KC, ow - x), l = r * ow + x;
        const T beta_now = l == 0 ? beta : T(1);
        pack_b(true, d, ldd, l, kc, 0, M, b);  // d^T's rows [l, l + kc): panel p at b + p * kc * NR
        const T* base = padded + pos[l];
        for (index_t i = first * MR; i < std::min(last * MR, P); i += MR) {
          const int m = static_cast<int>(std::min(MR, P - i));
          const T* a[kMaxMR];
          for (int q = 0; q < kMaxMR; ++q) a[q] = base + tap[i + std::min(q, m - 1)];  // past m: any readable row
          for (index_t p = 0; p < panels; ++p) {
            const index_t n = std::min(NR, M - p * NR), nv = (n + lanes - 1) / lanes;
            kernels[nv - 1](kc, a, b + p * kc * NR, ct + i * M + p * NR, M, beta_now, m,
                            static_cast<int>(n - (nv - 1) * lanes));
          }
        }
      }
  });
}

}  // namespace ink::kernels
