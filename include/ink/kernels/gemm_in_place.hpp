// GEMM tiles with one operand read where it lies instead of packed into panels: the
// micro-kernel variants micro_kernel_b_rows (row k of B at b + rows[k]) and micro_kernel_a_rows
// (row i of A at a_rows[i]) of the AVX-512 and AVX2 micro-kernel files, chosen at run time with
// the GEMM's, and gemm_a_rows, which drives the second over a block of C. For operands whose
// packing would cost a large share of the multiply: a convolution's patch matrix
// (patch_rows.hpp) and the Winograd kernels' transformed input (winograd.hpp). Float only; on
// other types and ISAs the callers use the packed GEMM. Part of kernels/.
#pragma once
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "ink/core/config.hpp"
#include "ink/core/cpu_features.hpp"
#include "ink/kernels/gemm.hpp"

namespace ink::kernels {

// Whether the in-place kernels exist for T on this CPU: float on AVX-512 or AVX2.
template <class T>
bool in_place_available() {
  if constexpr (!std::is_same_v<T, float>) {
    return false;
  } else {
    const Isa isa = active_isa();
    return isa == Isa::avx512 || isa == Isa::avx2;
  }
}

namespace in_place_detail {

// The active ISA's tile shape, in-place kernels (by vector count) and B packing.
template <class T>
struct Kernels {
  using BRowsFn = void (*)(index_t, const T*, const T*, const std::int32_t*, T*, index_t, T, int, int);
  using ARowsFn = void (*)(index_t, const T* const*, const T*, T*, index_t, T, int, int);
  using PackB = void (*)(bool, const T*, index_t, index_t, index_t, index_t, index_t, T*);
  index_t MR, NR, lanes;
  const BRowsFn* b_rows;  // [vectors - 1]
  const ARowsFn* a_rows;
  PackB pack_b;
};
constexpr int kMaxMR = 8;  // the largest MR (AVX-512's)

template <class T>
Kernels<T> active() {
  static_assert(std::is_same_v<T, float>, "the in-place kernels are float only (in_place_available)");
  using K512 = gemm_avx512::Kernel<T>;
  using K2 = gemm_avx2::Kernel<T>;
  static_assert(K512::MR <= kMaxMR && K2::MR <= kMaxMR);
  if (active_isa() == Isa::avx512)
    return {K512::MR, K512::NR, K512::kLanes, K512::kBRowsTable.data(), K512::kARowsTable.data(), &K512::pack_b};
  return {K2::MR, K2::NR, K2::kLanes, K2::kBRowsTable.data(), K2::kARowsTable.data(), &K2::pack_b};
}

}  // namespace in_place_detail

// C (M x N, rows ldc apart) = beta * C + A * B over one K slice of kc: A(i, k) = a[rows[i] + k]
// (each row kc consecutive values, read in place), B as the active micro-kernel's pack_b writes
// kc rows of N columns (panel p, columns [p * NR, p * NR + NR), at b + p * kc * NR). Every
// element of C gets the packed GEMM's operations in its order (an FMA chain over k, then beta),
// so the same bits as gemm() over the same K slice. On the calling thread; only where
// in_place_available.
template <class T>
void gemm_a_rows(index_t M, index_t N, index_t kc, const T* a, const std::int32_t* rows, const T* b, T beta, T* c,
                 index_t ldc) {
  const in_place_detail::Kernels<T> k = in_place_detail::active<T>();
  const index_t panels = (N + k.NR - 1) / k.NR;
  for (index_t i = 0; i < M; i += k.MR) {
    const int m = static_cast<int>(std::min(k.MR, M - i));
    const T* row[in_place_detail::kMaxMR];
    for (int q = 0; q < in_place_detail::kMaxMR; ++q) row[q] = a + rows[i + std::min(q, m - 1)];  // past m: any row
    for (index_t p = 0; p < panels; ++p) {
      const index_t n = std::min(k.NR, N - p * k.NR), nv = (n + k.lanes - 1) / k.lanes;
      k.a_rows[nv - 1](kc, row, b + p * kc * k.NR, c + i * ldc + p * k.NR, ldc, beta, m,
                       static_cast<int>(n - (nv - 1) * k.lanes));
    }
  }
}

}  // namespace ink::kernels
