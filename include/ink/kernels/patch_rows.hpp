// A stride-1 convolution's forward and weight-gradient GEMMs with the patch matrix read where
// it lies. Entry (k, l) of the patch matrix is padded[tap[k] + pos[l]] (PatchMatrix,
// patch_pack.hpp), and at stride 1 the positions of one output row are consecutive in the
// padded copy: for every patch row k, a run of positions along a row is a run of consecutive
// values. The forward's micro-kernel loads them as B's rows, the weight gradient's broadcasts
// them as A's (gemm_in_place.hpp), so the patch matrix is never packed. Part of kernels/.
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
#include "ink/kernels/gemm_in_place.hpp"
#include "ink/kernels/im2col.hpp"
#include "ink/kernels/workspace.hpp"

namespace ink::kernels {

// Whether patch_rows_gemm and patch_rows_weight_grad run for T and window g on this CPU: the
// in-place kernels (gemm_in_place.hpp) and stride 1 along the rows (any vertical stride and
// dilation).
template <class T>
bool patch_rows_applies(const Window2d& g) {
  return g.stride_w == 1 && in_place_available<T>();
}

// out[i][l] (i < M, rows ld apart) = sum over k < K of A(i, k) * padded[tap[k] + pos[l]], for the
// positions l < rows * ow, ow per output row, pos[l + 1] == pos[l] + 1 within a row. `a` is
// pack_a of the M x K matrix A. On the calling thread; only where patch_rows_applies.
// Loop order: K slices (pack_a's), MR rows of A (the micro-panel, at most 8 KiB, stays in
// L1), output rows, NR positions. Every output element gets the packed GEMM's operations in
// its order, so the same bits as gemm() with the patch panels.
template <class T>
void patch_rows_gemm(const PackedA<T>& a, index_t M, index_t K, const T* padded, const std::int32_t* tap,
                     const std::int32_t* pos, index_t rows, index_t ow, T* out, index_t ld) {
  const in_place_detail::Kernels<T> k = in_place_detail::active<T>();
  const index_t kc_max = gemm_detail::slice_depth(gemm_detail::active_kernel<T>(), K);
  for (index_t k0 = 0; k0 < K; k0 += kc_max) {
    const index_t kc = std::min(kc_max, K - k0);
    const T beta = k0 == 0 ? T(0) : T(1);  // later slices accumulate
    for (index_t i = 0; i < M; i += k.MR) {
      const T* panel = a.panels + k0 * a.rows + i * kc;
      const int m = static_cast<int>(std::min(k.MR, M - i));
      for (index_t r = 0; r < rows; ++r)
        for (index_t x = 0; x < ow; x += k.NR) {
          const index_t l = r * ow + x, n = std::min(k.NR, ow - x), nv = (n + k.lanes - 1) / k.lanes;
          k.b_rows[nv - 1](kc, panel, padded + pos[l], tap + k0, out + i * ld + l, ld, beta, m,
                           static_cast<int>(n - (nv - 1) * k.lanes));
        }
    }
  }
}

// ct (P x M, rows M apart) = beta * ct + the sum over positions l < rows * ow of
// padded[tap[k] + pos[l]] * d(i, l): a stride-1 band's weight gradient, transposed, for M
// output channels (d is M x rows * ow, leading dimension ldd) and P patch rows, the positions
// as in patch_rows_gemm. ct = patches * d^T with the patch rows read in place as A
// (gemm_a_rows) and d^T packed as B (the GEMM's transposing pack_b) once per run of up to 256
// positions, shared by all patch rows. Every element sums the rows in order, each row's
// positions in order, so the result is the same whether the patch rows are split between the
// threads (`split`, with parallel_for's rules) or not. Scratch: each working thread's
// kSlotCaller0. Only where patch_rows_applies.
template <class T>
void patch_rows_weight_grad(const T* d, index_t ldd, index_t M, const T* padded, const std::int32_t* tap, index_t P,
                            const std::int32_t* pos, index_t rows, index_t ow, T beta, T* ct, bool split) {
  constexpr index_t kRun = 256;  // positions per packing of d^T: 48 KiB of B at 48 columns
  const in_place_detail::Kernels<T> k = in_place_detail::active<T>();
  const index_t panels = (M + k.NR - 1) / k.NR, row_panels = (P + k.MR - 1) / k.MR;
  parallel_for(0, row_panels, split ? 1 : row_panels, [&](index_t first, index_t last) {
    const index_t i0 = first * k.MR, i1 = std::min(last * k.MR, P);
    T* b = thread_workspace().get<T>(kSlotCaller0, static_cast<std::size_t>(panels * kRun * k.NR));
    for (index_t r = 0; r < rows; ++r)
      for (index_t x = 0; x < ow; x += kRun) {
        const index_t kc = std::min(kRun, ow - x), l = r * ow + x;
        k.pack_b(true, d, ldd, l, kc, 0, M, b);  // d^T's rows [l, l + kc)
        gemm_a_rows(i1 - i0, M, kc, padded + pos[l], tap + i0, b, l == 0 ? beta : T(1), ct + i0 * M, M);
      }
  });
}

}  // namespace ink::kernels
