// AVX-512 register micro-kernels of the GEMM: C[m x n] (+)= alpha * Apanel * Bpanel on packed
// panels, float (8 x 48) and double (8 x 24). Part of kernels/; driven by the blocked frame in
// gemm.hpp, which packs the panels (gemm_pack.hpp; A with the transposes here) and picks this
// file at run time.
#pragma once
#include <array>
#include <cstdint>
#include <utility>

#include "ink/core/config.hpp"
#include "ink/kernels/gemm_pack.hpp"
#include "ink/kernels/gemm_transpose.hpp"
#include "ink/kernels/vector_types.hpp"

namespace ink::kernels::gemm_avx512 {

#define INK_AVX512_INLINE INK_TARGET_AVX512 __attribute__((always_inline)) inline

// Thin overloads so one kernel body serves float and double, over vector_types.hpp's
// operations.
template <class T> struct Vec;
template <> struct Vec<float> {
  using reg = simd::f32x16;
  using mask = unsigned short;  // __mmask16
  static constexpr int lanes = 16;
};
template <> struct Vec<double> {
  using reg = simd::f64x8;
  using mask = unsigned char;  // __mmask8
  static constexpr int lanes = 8;
};

// x - 0 is x for every x (-0 included), so these are plain broadcasts.
INK_AVX512_INLINE simd::f32x16 set1(float x) { return x - simd::f32x16{}; }
INK_AVX512_INLINE simd::f64x8 set1(double x) { return x - simd::f64x8{}; }
INK_AVX512_INLINE simd::f32x16 load(const float* p) { return *reinterpret_cast<const simd::f32x16_u*>(p); }
INK_AVX512_INLINE simd::f64x8 load(const double* p) { return *reinterpret_cast<const simd::f64x8_u*>(p); }
// Masked loads zero the lanes that are off; masked stores leave their memory untouched.
INK_AVX512_INLINE simd::f32x16 load(const float* p, unsigned short m) {
  return simd::mask_load(simd::f32x16{}, m, p);
}
INK_AVX512_INLINE simd::f64x8 load(const double* p, unsigned char m) {
  return simd::mask_load(simd::f64x8{}, m, p);
}
INK_AVX512_INLINE void store(float* p, simd::f32x16 v) { *reinterpret_cast<simd::f32x16_u*>(p) = v; }
INK_AVX512_INLINE void store(double* p, simd::f64x8 v) { *reinterpret_cast<simd::f64x8_u*>(p) = v; }
INK_AVX512_INLINE void store(float* p, simd::f32x16 v, unsigned short m) { simd::mask_store(p, m, v); }
INK_AVX512_INLINE void store(double* p, simd::f64x8 v, unsigned char m) { simd::mask_store(p, m, v); }
using simd::fmadd;
INK_AVX512_INLINE simd::f32x16 mul(simd::f32x16 a, simd::f32x16 b) { return a * b; }
INK_AVX512_INLINE simd::f64x8 mul(simd::f64x8 a, simd::f64x8 b) { return a * b; }

// The micro-kernels' accumulators, zeroed.
template <class T, int M, int NV>
INK_AVX512_INLINE void zero_tile(typename Vec<T>::reg (&acc)[M][NV]) {
#pragma GCC unroll 16
  for (int i = 0; i < M; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) acc[i][j] = set1(T(0));
}

// One k step of the micro-kernels: NV vectors of B (bv) times M broadcasts of A into M x NV
// accumulators, A's value of row i being a_at(i) (a packed panel's a[i], or row i's own
// pointer at k for A read in place).
template <class T, int M, int NV, class AAt>
INK_AVX512_INLINE void k_step(typename Vec<T>::reg (&acc)[M][NV], AAt a_at, const typename Vec<T>::reg (&bv)[NV]) {
#pragma GCC unroll 16
  for (int i = 0; i < M; ++i) {
    const typename Vec<T>::reg av = set1(a_at(i));
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) acc[i][j] = fmadd(av, bv[j], acc[i][j]);
  }
}

// The micro-kernels' end: C = alpha * acc + beta * C for the top m rows, `last` lanes of the
// last vector; beta == 0 writes C without reading it.
template <class T, int M, int NV>
INK_AVX512_INLINE void store_tile(const typename Vec<T>::reg (&acc)[M][NV], T* c, index_t ldc, T alpha, T beta, int m,
                                  int last) {
  using R = typename Vec<T>::reg;
  constexpr int L = Vec<T>::lanes;
  const typename Vec<T>::mask full = static_cast<typename Vec<T>::mask>(~0u);
  const typename Vec<T>::mask tail = static_cast<typename Vec<T>::mask>((1u << last) - 1u);
  const R va = set1(alpha), vb = set1(beta);
#pragma GCC unroll 16
  for (int i = 0; i < M; ++i) {
    if (i == m) break;
    T* ci = c + i * ldc;
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) {
      const typename Vec<T>::mask mk = j == NV - 1 ? tail : full;
      R r = mul(acc[i][j], va);
      // beta == 1 needs no case of its own: 1 * C is exact, so the FMA rounds once, as C + r.
      if (beta != T(0)) r = fmadd(vb, load(ci + j * L, mk), r);
      store(ci + j * L, r, mk);
    }
  }
}

// The k step at which a micro-kernel fetches its tile of C (-1: never): see micro_kernel.
constexpr index_t kPrefetchSteps = 24;
template <class T>
INK_AVX512_INLINE index_t prefetch_step(index_t kc, T beta) {
  return beta != T(0) ? (kc > kPrefetchSteps ? kc - kPrefetchSteps : 0) : -1;
}
template <class T, int NV>
INK_AVX512_INLINE void prefetch_tile(const T* c, index_t ldc, int m) {
  for (int i = 0; i < m; ++i) {
    const char* ci = reinterpret_cast<const char*>(c + i * ldc);
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) __builtin_prefetch(ci + j * 64, 0, 3);  // prefetcht0
    __builtin_prefetch(ci + NV * 64 - 1, 0, 3);  // C rows need not be 64-byte aligned
  }
}

// Computes M rows x NV vectors of a tile and stores the top m <= M rows, `last` lanes of the
// last vector: A is packed MR values per k and zero-padded past the matrix's last row, B is
// packed NR values per k (gemm_pack.hpp). The frame instantiates three heights (Kernel's
// kHeights) times NV = 1..3 vectors rather than one kernel per edge shape: with the 24
// exact-shape kernels, a file calling only gemm<float> took 0.6 s longer to compile. An edge tile
// computes padded rows it does not store; Kernel::kHeights says why that costs little. Every
// element of C sees the same operations whatever the tile, so the result does not depend on
// how C was split between threads.
// C = alpha * acc + beta * C; beta == 0 writes C without reading it.
template <class T, int MR, int NR, int M, int NV>
INK_TARGET_AVX512 void micro_kernel(index_t kc, const T* a, const T* b, T* c, index_t ldc, T alpha, T beta,
                                    int m, int last) {
  using R = typename Vec<T>::reg;
  constexpr int L = Vec<T>::lanes;
  R acc[M][NV];
  zero_tile<T, M, NV>(acc);

  // C comes from L3 or memory, and with a power-of-two ldc all its rows share one L1 set.
  // Fetching it while the last kPrefetchSteps k steps (~300 cycles) run hides that latency;
  // fetched at the start it would be evicted again by the B micro-panel streaming through L1.
  // (Measured on 1024^3: the kernels alone went from 86 to 114 GFLOP/s.) With beta == 0 C is
  // only written, and the prefetches would be wasted loads (measured on 32x784x9, where every
  // K slice is the first: 76 -> 83 GFLOP/s without them).
  // One k loop with the prefetch behind a branch rather than two loops around it: the unrolled
  // loop body is the bulk of each of the nine kernels, and one copy of it instead of two is
  // 14 KB less code in every program (docs/performance.md, seventh session) at the same speed
  // (a well-predicted compare per k step beside up to 24 FMAs).
  const index_t k_prefetch = prefetch_step(kc, beta);
#pragma GCC unroll 4
  for (index_t k = 0; k < kc; ++k) {
    if (k == k_prefetch) [[unlikely]]
      prefetch_tile<T, NV>(c, ldc, m);
    R bv[NV];
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) bv[j] = load(b + j * L);
    k_step<T, M, NV>(acc, [a](int i) { return a[i]; }, bv);
    a += MR;
    b += NR;
  }
  store_tile<T, M, NV>(acc, c, ldc, alpha, beta, m, last);
}

// micro_kernel's full-height tile (MR rows computed, the top m stored) with B read where it
// lies instead of from a packed panel: row k of the tile's B is the NV vectors at b + rows[k],
// the last one's lanes past `last` not read. A stride-1 convolution's patch matrix is such a B
// (patch_rows.hpp): along one output row each tap's values lie side by side in the padded
// input, so the tile needs no packing. alpha = 1.
template <class T, int MR, int NV>
INK_TARGET_AVX512 void micro_kernel_b_rows(index_t kc, const T* a, const T* b, const std::int32_t* rows, T* c,
                                           index_t ldc, T beta, int m, int last) {
  using R = typename Vec<T>::reg;
  constexpr int L = Vec<T>::lanes;
  R acc[MR][NV];
  zero_tile<T, MR, NV>(acc);
  const typename Vec<T>::mask tail = static_cast<typename Vec<T>::mask>((1u << last) - 1u);
  const index_t k_prefetch = prefetch_step(kc, beta);
#pragma GCC unroll 1
  for (index_t k = 0; k < kc; ++k, a += MR) {
    if (k == k_prefetch) [[unlikely]]
      prefetch_tile<T, NV>(c, ldc, m);
    const T* bk = b + rows[k];
    R bv[NV];
#pragma GCC unroll 4
    for (int j = 0; j < NV - 1; ++j) bv[j] = load(bk + j * L);
    bv[NV - 1] = load(bk + (NV - 1) * L, tail);
    k_step<T, MR, NV>(acc, [a](int i) { return a[i]; }, bv);
  }
  store_tile<T, MR, NV>(acc, c, ldc, T(1), beta, m, last);
}

// The other operand in place: A(i, k) = a_rows[i][k] for the MR rows (all readable; the
// rows past m are computed, not stored), B packed NR values per k as micro_kernel's. A
// stride-1 convolution's weight gradient has such an A (patch_rows.hpp): patch row i along
// the positions of one output row is consecutive in the padded input. alpha = 1.
template <class T, int MR, int NR, int NV>
INK_TARGET_AVX512 void micro_kernel_a_rows(index_t kc, const T* const* a_rows, const T* b, T* c, index_t ldc, T beta,
                                           int m, int last) {
  using R = typename Vec<T>::reg;
  constexpr int L = Vec<T>::lanes;
  R acc[MR][NV];
  zero_tile<T, MR, NV>(acc);
  const T* a[MR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) a[i] = a_rows[i];
  const index_t k_prefetch = prefetch_step(kc, beta);
#pragma GCC unroll 1
  for (index_t k = 0; k < kc; ++k, b += NR) {
    if (k == k_prefetch) [[unlikely]]
      prefetch_tile<T, NV>(c, ldc, m);
    R bv[NV];
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) bv[j] = load(b + j * L);
    k_step<T, MR, NV>(acc, [&](int i) { return a[i][k]; }, bv);
  }
  store_tile<T, MR, NV>(acc, c, ldc, T(1), beta, m, last);
}

// Packing of the two cases the GEMM's generic packers (gemm_pack.hpp, compiled for SSE2) left
// scalar: their copy lengths are known only at run time. In a Winograd weight gradient (64 x 32
// x 133 GEMMs over its transformed tiles) they were a quarter of the time: pack_b of rows of 32
// values into 48-wide panels and pack_a of a transposed A 7% each. Masked loads copy a vector's
// valid values and zero the rest, which is the panels' padding.

// One row of 8 values of a transposed A (the m <= 8 valid ones, zeros after) per k: dst[k*8 + i]
// = A[(k0 + k) * lda + i0 + i].
INK_AVX512_INLINE simd::f32x8 load8(const float* p, unsigned char m) {
  return simd::mask_load(simd::f32x8{}, m, p);
}
INK_AVX512_INLINE void store8(float* p, simd::f32x8 v) { *reinterpret_cast<simd::f32x8_u*>(p) = v; }
INK_AVX512_INLINE simd::f64x8 load8(const double* p, unsigned char m) { return load(p, m); }
INK_AVX512_INLINE void store8(double* p, simd::f64x8 v) { store(p, v); }
template <class T>
INK_TARGET_AVX512 void pack_a_transposed8(const T* A, index_t lda, index_t i0, int m, index_t k0, index_t kc, T* dst) {
  const unsigned char mask = static_cast<unsigned char>((1u << m) - 1u);
  const T* src = A + k0 * lda + i0;
  for (index_t k = 0; k < kc; ++k, src += lda, dst += 8) store8(dst, load8(src, mask));
}

// Rows [k0, k0 + kc) x columns [j0, j0 + n) of a B that is not transposed, into panels of NR
// (gemm_pack::pack_b's layout): each row of B read front to back, a vector at a time.
template <class T, int NR>
INK_TARGET_AVX512 void pack_b_rows(const T* B, index_t ldb, index_t k0, index_t kc, index_t j0, index_t n, T* dst) {
  using Mask = typename Vec<T>::mask;
  constexpr int L = Vec<T>::lanes;
  const index_t panels = (n + NR - 1) / NR, full = n / NR;
  // Each vector's mask: all lanes in a full panel; in the partial one (p == full, if any) the
  // valid values' lanes (masked lanes read nothing).
  Mask masks[2][NR / L];
  for (int v = 0; v < NR / L; ++v) {
    const index_t left = n - full * NR - v * L;
    masks[0][v] = static_cast<Mask>(~0u);
    masks[1][v] = left >= L ? static_cast<Mask>(~0u) : left <= 0 ? Mask{0} : static_cast<Mask>((1u << left) - 1u);
  }
  for (index_t k = 0; k < kc; ++k) {
    const T* src = B + (k0 + k) * ldb + j0;
    T* d = dst + k * NR;
    for (index_t p = 0; p < panels; ++p, src += NR, d += kc * NR) {
      const Mask* mask = masks[p == full];
#pragma GCC unroll 4
      for (int v = 0; v < NR / L; ++v) store(d + v * L, load(src + v * L, mask[v]));
    }
  }
}

#undef INK_AVX512_INLINE

// The tile shape and the kernel variants (height x vector count) the frame calls: an m x n
// tile runs kTable[h][nv - 1], h the first of kHeights >= m, nv the vectors that cover n.
template <class T>
struct Kernel {
  static constexpr int kLanes = Vec<T>::lanes;
  // 8 rows x 3 vectors = 24 accumulators (+3 for B, +1 broadcast, of 32 zmm): enough
  // independent FMA chains to hide the 4-cycle latency of 2 FMA pipes (>= 8 needed), and
  // 11 loads per 24 FMAs stays well inside 2 loads per cycle. MR = 8 divides the M of the
  // usual conv-as-GEMM shapes (output channels); NR spans three vectors.
  static constexpr int MR = 8;
  static constexpr int NV = 3;
  static constexpr int NR = NV * kLanes;
  // Edge tiles of up to 2 or 4 rows use shorter kernels, which cost about what exact-height
  // ones would: with fewer than 8 accumulators, a kernel waits on FMA latency (4 cycles per k
  // for 1 or 2 rows), and 4 x 3 = 12 accumulators keep both FMA pipes busy (6 cycles per k).
  static constexpr int kHeights[3] = {2, 4, MR};
  // KC: the A micro-panel (MR x KC) stays in L1 (8 KiB of 32 for float) while the packed B
  // block (KC x NC) streams from L2 (480 KiB of 1 MiB). See docs/kernels.md.
  static constexpr index_t KC = 256;
  static constexpr index_t NC = sizeof(T) == 4 ? 480 : 240;
  // MC: the packed MC x KC block of A (2 MiB) waits in L3; B is packed once per MC rows.
  static constexpr index_t MC = sizeof(T) == 4 ? 2048 : 1024;

  using Fn = void (*)(index_t, const T*, const T*, T*, index_t, T, T, int, int);

  template <int M, int... V>
  static constexpr std::array<Fn, NV> row(std::integer_sequence<int, V...>) {
    return {&micro_kernel<T, MR, NR, M, V + 1>...};
  }
  static constexpr std::array<std::array<Fn, NV>, 3> kTable = {
      row<kHeights[0]>(std::make_integer_sequence<int, NV>{}), row<kHeights[1]>(std::make_integer_sequence<int, NV>{}),
      row<kHeights[2]>(std::make_integer_sequence<int, NV>{})};

  // micro_kernel_b_rows for NV = 1..3 vectors (instantiated only where a program uses it).
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
    // A full micro-panel of a non-transposed A is a transpose of 8 rows: in registers (A is
    // packed once per NC block of columns, and the scalar loop was ~4.5% of a 1024^3 GEMM).
    static_assert(MR == 8, "pack_a_transposed8 packs 8 rows");
    if (trans) pack_a_transposed8(A, lda, i0, m, k0, kc, dst);
    else if (m < MR) gemm_pack::pack_a<MR>(trans, A, lda, i0, m, k0, kc, dst);
    else gemm_transpose::rows8(A + i0 * lda + k0, lda, kc, dst, MR);
  }

  static void pack_b(bool trans, const T* B, index_t ldb, index_t k0, index_t kc, index_t j0, index_t n, T* dst) {
    if (trans) gemm_transpose::pack_b_transposed<NR>(B, ldb, k0, kc, j0, n, dst);
    else pack_b_rows<T, NR>(B, ldb, k0, kc, j0, n, dst);
  }
};

}  // namespace ink::kernels::gemm_avx512
