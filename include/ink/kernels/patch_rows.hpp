// A stride-1 convolution's forward GEMM with its patch matrix read where it lies. Entry (k, l)
// of the patch matrix is padded[tap[k] + pos[l]] (PatchMatrix, patch_pack.hpp), and at stride 1
// the positions of one output row are consecutive in the padded copy: for every patch row k,
// a tile of up to NR positions along a row is NR consecutive values. The micro-kernel loads
// them in place (micro_kernel_rows in the AVX-512 and AVX2 micro-kernel files), so nothing is
// packed; A is the weights packed once per call (gemm.hpp's pack_a). Part of kernels/.
//
// Why: on the 9x9 3-channel convolution (i), packing the patch panels for the GEMM was 18% of
// the forward's time: with 32 output channels each packed value fed only 32 multiply-adds.
#pragma once
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "ink/core/config.hpp"
#include "ink/core/cpu_features.hpp"
#include "ink/kernels/gemm.hpp"
#include "ink/kernels/im2col.hpp"

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
  const Fn* kernels = avx512 ? gemm_avx512::Kernel<T>::kRowsTable.data() : gemm_avx2::Kernel<T>::kRowsTable.data();
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

}  // namespace ink::kernels
