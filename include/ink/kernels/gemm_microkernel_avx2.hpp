// AVX2+FMA register micro-kernels of the GEMM: C[m x n] (+)= alpha * Apanel * Bpanel on packed
// panels, float (6 x 16) and double (6 x 8). Part of kernels/; driven by the blocked frame in
// gemm.hpp, which packs the panels (gemm_pack.hpp) and picks this file at run time.
#pragma once
#include <array>
#include <cstdint>
#include <utility>

#include "ink/core/config.hpp"
#include "ink/kernels/gemm_pack.hpp"
#include "ink/kernels/gemm_transpose.hpp"
#include "ink/kernels/vector_types.hpp"

namespace ink::kernels::gemm_avx2 {

#define INK_AVX2_INLINE INK_TARGET_AVX2 __attribute__((always_inline)) inline

// Thin overloads so one kernel body serves float and double, over vector_types.hpp's
// operations.
template <class T> struct Vec;
template <> struct Vec<float> {
  using reg = simd::f32x8;
  using lane_mask = simd::i32x8;
  static constexpr int lanes = 8;
};
template <> struct Vec<double> {
  using reg = simd::f64x4;
  using lane_mask = simd::i64x4;
  static constexpr int lanes = 4;
};

// x - 0 is x for every x (-0 included), so these are plain broadcasts.
INK_AVX2_INLINE simd::f32x8 set1(float x) { return x - simd::f32x8{}; }
INK_AVX2_INLINE simd::f64x4 set1(double x) { return x - simd::f64x4{}; }
INK_AVX2_INLINE simd::f32x8 load(const float* p) { return *reinterpret_cast<const simd::f32x8_u*>(p); }
INK_AVX2_INLINE simd::f64x4 load(const double* p) { return *reinterpret_cast<const simd::f64x4_u*>(p); }
// Lane masks for the partial last vector of an edge tile: lane l is on (all ones) when l < n.
INK_AVX2_INLINE simd::i32x8 lane_mask(float*, int n) { return simd::i32x8{0, 1, 2, 3, 4, 5, 6, 7} < n; }
INK_AVX2_INLINE simd::i64x4 lane_mask(double*, int n) {
  return simd::i64x4{0, 1, 2, 3} < static_cast<long long>(n);
}
INK_AVX2_INLINE simd::f32x8 load(const float* p, simd::i32x8 m) {
  return simd::maskload(p, m);
}
INK_AVX2_INLINE simd::f64x4 load(const double* p, simd::i64x4 m) {
  return simd::maskload(p, m);
}
INK_AVX2_INLINE void store(float* p, simd::f32x8 v) { *reinterpret_cast<simd::f32x8_u*>(p) = v; }
INK_AVX2_INLINE void store(double* p, simd::f64x4 v) { *reinterpret_cast<simd::f64x4_u*>(p) = v; }
INK_AVX2_INLINE void store(float* p, simd::f32x8 v, simd::i32x8 m) {
  simd::maskstore(p, m, v);
}
INK_AVX2_INLINE void store(double* p, simd::f64x4 v, simd::i64x4 m) {
  simd::maskstore(p, m, v);
}
using simd::fmadd;
INK_AVX2_INLINE simd::f32x8 mul(simd::f32x8 a, simd::f32x8 b) { return a * b; }
INK_AVX2_INLINE simd::f64x4 mul(simd::f64x4 a, simd::f64x4 b) { return a * b; }

// The micro-kernels' accumulators, zeroed.
template <class T, int M, int NV>
INK_AVX2_INLINE void zero_tile(typename Vec<T>::reg (&acc)[M][NV]) {
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i)
#pragma GCC unroll 2
    for (int j = 0; j < NV; ++j) acc[i][j] = set1(T(0));
}

// One k step of the micro-kernels: NV vectors of B (bv) times M broadcasts of A into M x NV
// accumulators, A's value of row i being a_at(i) (a packed panel's a[i], or row i's own
// pointer at k for A read in place).
template <class T, int M, int NV, class AAt>
INK_AVX2_INLINE void k_step(typename Vec<T>::reg (&acc)[M][NV], AAt a_at, const typename Vec<T>::reg (&bv)[NV]) {
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) {
    const typename Vec<T>::reg av = set1(a_at(i));
#pragma GCC unroll 2
    for (int j = 0; j < NV; ++j) acc[i][j] = fmadd(av, bv[j], acc[i][j]);
  }
}

// The micro-kernels' end: C = alpha * acc + beta * C for the top m rows, `last` lanes of the
// last vector; beta == 0 writes C without reading it. Masked loads and stores (vmaskmov) are
// slow on AMD, so full vectors use plain ones.
template <class T, int M, int NV>
INK_AVX2_INLINE void store_tile(const typename Vec<T>::reg (&acc)[M][NV], T* c, index_t ldc, T alpha, T beta, int m,
                                int last) {
  using R = typename Vec<T>::reg;
  constexpr int L = Vec<T>::lanes;
  const typename Vec<T>::lane_mask tail = lane_mask(static_cast<T*>(nullptr), last);
  const bool partial = last < L;
  const R va = set1(alpha), vb = set1(beta);
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) {
    if (i == m) break;
    T* ci = c + i * ldc;
#pragma GCC unroll 2
    for (int j = 0; j < NV; ++j) {
      const bool masked = j == NV - 1 && partial;
      R r = mul(acc[i][j], va);
      if (beta != T(0)) {
        const R old = masked ? load(ci + j * L, tail) : load(ci + j * L);
        r = fmadd(vb, old, r);  // with beta == 1 exactly old + r (1 * old is exact)
      }
      if (masked) store(ci + j * L, r, tail);
      else store(ci + j * L, r);
    }
  }
}

// Same contract as gemm_avx512::micro_kernel: M rows x NV vectors of a tile from packed
// panels, the top m <= M rows stored, `last` valid lanes in the last vector,
// C = alpha * acc + beta * C.
template <class T, int MR, int NR, int M, int NV>
INK_TARGET_AVX2 void micro_kernel(index_t kc, const T* __restrict a, const T* __restrict b, T* c,
                                  index_t ldc, T alpha, T beta, int m, int last) {
  using R = typename Vec<T>::reg;
  constexpr int L = Vec<T>::lanes;
  R acc[M][NV];
  zero_tile<T, M, NV>(acc);
#pragma GCC unroll 4
  for (index_t k = 0; k < kc; ++k) {
    R bv[NV];
#pragma GCC unroll 2
    for (int j = 0; j < NV; ++j) bv[j] = load(b + j * L);
    k_step<T, M, NV>(acc, [a](int i) { return a[i]; }, bv);
    a += MR;
    b += NR;
  }
  store_tile<T, M, NV>(acc, c, ldc, alpha, beta, m, last);
}

// Same contract as gemm_avx512::micro_kernel_b_rows: a full-height tile with row k of B the NV
// vectors at b + rows[k] (the last one's lanes past `last` not read), alpha = 1.
template <class T, int MR, int NV>
INK_TARGET_AVX2 void micro_kernel_b_rows(index_t kc, const T* a, const T* b, const std::int32_t* rows, T* c,
                                         index_t ldc, T beta, int m, int last) {
  using R = typename Vec<T>::reg;
  constexpr int L = Vec<T>::lanes;
  R acc[MR][NV];
  zero_tile<T, MR, NV>(acc);
  const typename Vec<T>::lane_mask tail = lane_mask(static_cast<T*>(nullptr), last);
#pragma GCC unroll 1
  for (index_t k = 0; k < kc; ++k, a += MR) {
    const T* bk = b + rows[k];
    R bv[NV];
#pragma GCC unroll 2
    for (int j = 0; j < NV - 1; ++j) bv[j] = load(bk + j * L);
    bv[NV - 1] = load(bk + (NV - 1) * L, tail);
    k_step<T, MR, NV>(acc, [a](int i) { return a[i]; }, bv);
  }
  store_tile<T, MR, NV>(acc, c, ldc, T(1), beta, m, last);
}

// Same contract as gemm_avx512::micro_kernel_a_rows: A(i, k) = a_rows[i][k] for the MR rows,
// B packed NR values per k, alpha = 1.
template <class T, int MR, int NR, int NV>
INK_TARGET_AVX2 void micro_kernel_a_rows(index_t kc, const T* const* a_rows, const T* b, T* c, index_t ldc, T beta,
                                         int m, int last) {
  using R = typename Vec<T>::reg;
  constexpr int L = Vec<T>::lanes;
  R acc[MR][NV];
  zero_tile<T, MR, NV>(acc);
  const T* a[MR];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) a[i] = a_rows[i];
#pragma GCC unroll 1
  for (index_t k = 0; k < kc; ++k, b += NR) {
    R bv[NV];
#pragma GCC unroll 2
    for (int j = 0; j < NV; ++j) bv[j] = load(b + j * L);
    k_step<T, MR, NV>(acc, [&](int i) { return a[i][k]; }, bv);
  }
  store_tile<T, MR, NV>(acc, c, ldc, T(1), beta, m, last);
}

#undef INK_AVX2_INLINE

// The tile shape and the kernel variants (height x vector count) the frame calls: an m x n
// tile runs kTable[h][nv - 1], h the first of kHeights >= m, nv the vectors that cover n.
template <class T>
struct Kernel {
  static constexpr int kLanes = Vec<T>::lanes;
  // 6 rows x 2 vectors = 12 accumulators (+2 for B, +1 broadcast, of 16 ymm): the largest
  // tile that fits the register file, and 12 >= 8 independent chains for 2 FMA pipes.
  static constexpr int MR = 6;
  static constexpr int NV = 2;
  static constexpr int NR = NV * kLanes;
  // Edge tiles of up to 2 or 4 rows use shorter kernels: with at most 8 accumulators a kernel
  // waits on FMA latency (4 cycles per k), so 1 to 4 rows cost what exact-height kernels
  // would, and M = 16 or 32 (6 + 6 + 4, 5 x 6 + 2) lose nothing to the padded rows.
  static constexpr int kHeights[3] = {2, 4, MR};
  // The A micro-panel (6 x KC) stays in L1, the B block (KC x NC) in L2; see docs/kernels.md.
  static constexpr index_t KC = 256;
  static constexpr index_t NC = sizeof(T) == 4 ? 480 : 240;
  // MC (a multiple of MR): the packed MC x KC block of A (2 MiB) waits in L3; B is packed
  // once per MC rows.
  static constexpr index_t MC = sizeof(T) == 4 ? 2046 : 1020;

  using Fn = void (*)(index_t, const T*, const T*, T*, index_t, T, T, int, int);

  template <int M, int... V>
  static constexpr std::array<Fn, NV> row(std::integer_sequence<int, V...>) {
    return {&micro_kernel<T, MR, NR, M, V + 1>...};
  }
  static constexpr std::array<std::array<Fn, NV>, 3> kTable = {
      row<kHeights[0]>(std::make_integer_sequence<int, NV>{}), row<kHeights[1]>(std::make_integer_sequence<int, NV>{}),
      row<kHeights[2]>(std::make_integer_sequence<int, NV>{})};

  // micro_kernel_b_rows for NV = 1..2 vectors (instantiated only where a program uses it).
  using BRowsFn = void (*)(index_t, const T*, const T*, const std::int32_t*, T*, index_t, T, int, int);
  template <int... V>
  static constexpr std::array<BRowsFn, NV> b_rows_table(std::integer_sequence<int, V...>) {
    return {&micro_kernel_b_rows<T, MR, V + 1>...};
  }
  static constexpr std::array<BRowsFn, NV> kBRowsTable = b_rows_table(std::make_integer_sequence<int, NV>{});
  // micro_kernel_a_rows likewise.
  using ARowsFn = void (*)(index_t, const T* const*, const T*, T*, index_t, T, int, int);
  template <int... V>
  static constexpr std::array<ARowsFn, NV> a_rows_table(std::integer_sequence<int, V...>) {
    return {&micro_kernel_a_rows<T, MR, NR, V + 1>...};
  }
  static constexpr std::array<ARowsFn, NV> kARowsTable = a_rows_table(std::make_integer_sequence<int, NV>{});

  static void pack_a(bool trans, const T* A, index_t lda, index_t i0, int m, index_t k0, index_t kc, T* dst) {
    gemm_pack::pack_a<MR>(trans, A, lda, i0, m, k0, kc, dst);
  }

  static void pack_b(bool trans, const T* B, index_t ldb, index_t k0, index_t kc, index_t j0, index_t n, T* dst) {
    if (trans) gemm_transpose::pack_b_transposed<NR>(B, ldb, k0, kc, j0, n, dst);
    else gemm_pack::pack_b<NR>(trans, B, ldb, k0, kc, j0, n, dst);
  }
};

}  // namespace ink::kernels::gemm_avx2
