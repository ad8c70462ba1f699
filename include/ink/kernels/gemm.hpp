// GEMM entry points used by the ops: C = alpha * op(A) * op(B) + beta * C, row-major, and its
// batched form. Part of kernels/: the blocked, packed frame (BLIS / GotoBLAS style), the
// split of C between threads, and the run-time choice of micro-kernel (AVX-512, AVX2, generic).
#pragma once
#include <omp.h>

#include <algorithm>

#include "ink/core/config.hpp"
#include "ink/core/cpu_features.hpp"
#include "ink/core/error.hpp"
#include "ink/core/parallel.hpp"
#include "ink/kernels/gemm_microkernel_avx2.hpp"
#include "ink/kernels/gemm_microkernel_avx512.hpp"
#include "ink/kernels/gemm_microkernel_generic.hpp"
#include "ink/kernels/gemm_pack.hpp"
#include "ink/kernels/gemm_reference.hpp"
#include "ink/kernels/workspace.hpp"

namespace ink::kernels {

namespace gemm_detail {

inline index_t ceil_div(index_t a, index_t b) { return (a + b - 1) / b; }

// Cuts n into ceil(n / cap) nearly equal blocks, each a multiple of `unit` and at most `cap`
// (cap is a multiple of unit), so that no block is a thin, inefficient leftover.
inline index_t balanced_block(index_t n, index_t cap, index_t unit) {
  const index_t blocks = ceil_div(n, cap);
  return std::min(cap, ceil_div(ceil_div(n, blocks), unit) * unit);
}

// Below this many multiply-adds a GEMM stays on one thread: waking the OpenMP team and
// packing the shared operand on both threads cost more than the second core gives back.
constexpr index_t kMinParallelWork = index_t{96} * 96 * 96;

// The degenerate cases (K == 0 or alpha == 0): C = beta * C, and beta == 0 writes zeros
// without reading C, as in BLAS (A and B are not read either).
template <class T>
void scale_c(index_t M, index_t N, T beta, T* C, index_t ldc) {
  for (index_t i = 0; i < M; ++i) {
    T* c = C + i * ldc;
    if (beta == T(0)) std::fill(c, c + N, T(0));
    else
      for (index_t j = 0; j < N; ++j) c[j] *= beta;
  }
}

// What the blocked frame needs of a micro-kernel: its tile and block sizes, its packing
// functions and its table of tile kernels. The frame below takes it as data, so it is compiled
// once per T rather than once per ISA (the three copies were ~12 KB of every program's code).
// The frame calls the tile kernel straight from the table, so a tile costs one indirect call,
// as when the frame was a template on the kernel (it shows at K = 9, where a tile is ~50
// cycles of work).
template <class T>
struct KernelDesc {
  using Fn = void (*)(index_t kc, const T* a, const T* b, T* c, index_t ldc, T alpha, T beta, int m, int last);
  int MR, NR;
  int lanes;       // columns per vector: a tile of n columns uses ceil(n / lanes) vectors
  int heights[2];  // a tile of m rows uses kernels[0] if m <= heights[0], kernels[1] if m <= heights[1]
  index_t KC, NC, MC;
  void (*pack_a)(bool trans, const T* A, index_t lda, index_t i0, int m, index_t k0, index_t kc, T* dst);
  void (*pack_b)(bool trans, const T* B, index_t ldb, index_t k0, index_t kc, index_t j0, index_t n, T* dst);
  Fn kernels[3][3];  // [height][vectors - 1]; (m rows, `last` valid lanes in the last vector)
};

template <class Kern, class T>
constexpr KernelDesc<T> describe() {
  KernelDesc<T> d{Kern::MR, Kern::NR, Kern::kLanes, {Kern::kHeights[0], Kern::kHeights[1]},
                  Kern::KC, Kern::NC, Kern::MC, &Kern::pack_a, &Kern::pack_b, {}};
  for (int h = 0; h < 3; ++h)
    for (int v = 0; v < Kern::NV; ++v) d.kernels[h][v] = Kern::kTable[h][v];
  return d;
}

}  // namespace gemm_detail

// Where op(B)'s packed panels come from when B is not a matrix in memory (a convolution packs
// its patch matrix straight from the image, patch_pack.hpp): pack(ctx, k0, kc, j0, n, NR, dst)
// writes what the micro-kernel's pack_b would for rows [k0, k0+kc) and columns [j0, j0+n) of
// op(B): panels of NR columns, panel p at dst + p*kc*NR, NR values per k, zero past n. It is
// called from the GEMM's threads at once, so it only reads ctx.
template <class T>
struct BSource {
  void (*pack)(const void* ctx, index_t k0, index_t kc, index_t j0, index_t n, int NR, T* dst);
  const void* ctx;
};

// op(A) (M x K) already packed into the micro-kernel's panels by pack_a() below, for GEMMs
// that share it (a convolution's weights, multiplied with each tile of images): the frame then
// reads its panels instead of packing A again for every call. Slice by slice of K (the slices
// gemm_block cuts, which depend on K alone), each slice all of A's rows, MR rows per panel:
// the panel of rows [i, i + MR) of the slice starting at k0 is at panels + k0 * rows + i * kc.
template <class T>
struct PackedA {
  const T* panels;
  index_t rows;  // M rounded up to a multiple of MR
};

namespace gemm_detail {

// The depth of the K slices the frame cuts: a function of K alone, so that pack_a() below and
// gemm_block cut the same slices.
template <class T>
index_t slice_depth(const KernelDesc<T>& k, index_t K) {
  return balanced_block(K, k.KC, 8);
}

// Rows [first, last) of op(A), columns [k0, k0 + kc) (one K slice), packed into panels of MR
// rows: row first + i's panel at dst + i * kc (i a multiple of MR), the last one zero-padded.
template <class T>
void pack_a_rows(const KernelDesc<T>& k, bool trans_a, const T* A, index_t lda, index_t first, index_t last,
                 index_t k0, index_t kc, T* dst) {
  for (index_t i = first; i < last; i += k.MR)
    k.pack_a(trans_a, A, lda, i, static_cast<int>(std::min<index_t>(k.MR, last - i)), k0, kc, dst + (i - first) * kc);
}

// Rows [m0, m1) x columns [n0, n1) of C on the calling thread, with micro-kernel k; A's panels
// from `packed` when given (m0 is then a multiple of MR, as every split makes it), else packed
// from A; B's panels from `source` when given, else packed from B.
// Loop order (outer to inner): MC rows of C, KC slices of K (pack the MC x KC block of A, once:
// it waits in L3 and each MR x KC micro-panel of it stays in L1 while used), NC columns (pack
// the KC x NC block of B: it stays in L2), MR rows, NR columns (the micro-kernel streams its
// B micro-panel from L2). The K blocking depends on K alone and tiles sit on the global
// MR x NR grid, so every element of C sees the same operations in the same order whatever the
// split between threads.
template <class T>
void gemm_block(const KernelDesc<T>& k, bool trans_a, bool trans_b, index_t m0, index_t m1, index_t n0, index_t n1,
                index_t K, T alpha, const T* A, index_t lda, const PackedA<T>* packed, const T* B, index_t ldb,
                const BSource<T>* source, T beta, T* C, index_t ldc) {
  const index_t MR = k.MR, NR = k.NR;
  const index_t kc_max = slice_depth(k, K);
  const index_t mc_max = balanced_block(m1 - m0, k.MC, MR);
  const index_t nc_max = balanced_block(n1 - n0, k.NC, NR);
  Workspace& ws = thread_workspace();
  T* const a_buffer = packed ? nullptr : ws.get<T>(kSlotGemmPackA, static_cast<std::size_t>(mc_max * kc_max));
  T* bp = ws.get<T>(kSlotGemmPackB, static_cast<std::size_t>(kc_max * nc_max));
  for (index_t ic = m0; ic < m1; ic += mc_max) {
    const index_t mb = std::min(mc_max, m1 - ic);
    for (index_t pc = 0; pc < K; pc += kc_max) {
      const index_t kb = std::min(kc_max, K - pc);
      const T* ap = a_buffer;
      if (packed) ap = packed->panels + pc * packed->rows + ic * kb;
      else pack_a_rows(k, trans_a, A, lda, ic, ic + mb, pc, kb, a_buffer);
      const T beta_now = pc == 0 ? beta : T(1);  // later K slices accumulate onto C
      for (index_t jc = n0; jc < n1; jc += nc_max) {
        const index_t nb = std::min(nc_max, n1 - jc);
        if (source) source->pack(source->ctx, pc, kb, jc, nb, NR, bp);
        else k.pack_b(trans_b, B, ldb, pc, kb, jc, nb, bp);
        for (index_t ir = 0; ir < mb; ir += MR) {
          const int m = static_cast<int>(std::min(MR, mb - ir));
          const auto& row = k.kernels[m <= k.heights[0] ? 0 : m <= k.heights[1] ? 1 : 2];
          T* c = C + (ic + ir) * ldc + jc;
          for (index_t jr = 0; jr < nb; jr += NR) {
            const int n = static_cast<int>(std::min(NR, nb - jr));
            const int nv = (n + k.lanes - 1) / k.lanes;
            row[nv - 1](kb, ap + ir * kb, bp + jr * kb, c + jr, ldc, alpha, beta_now, m, n - (nv - 1) * k.lanes);
          }
        }
      }
    }
  }
}

// How C is cut between threads: tm bands of rows times tn bands of columns.
struct Split {
  int tm = 1, tn = 1;
};

// Chooses the split with the least work on the busiest thread, counted per unit of K in
// multiply-adds: its C area, plus packing (about 16 multiply-adds per packed element: each
// thread packs A for its rows, and B for its columns once per MC block of its rows).
inline Split choose_split(index_t M, index_t N, int threads, index_t MR, index_t NR, index_t MC) {
  const index_t mt = ceil_div(M, MR), nt = ceil_div(N, NR);
  Split best;
  index_t best_cost = -1;
  for (int t = threads; t >= 1; --t) {
    for (int tm = 1; tm <= t; ++tm) {
      if (t % tm != 0) continue;
      const int tn = t / tm;
      if (tm > mt || tn > nt) continue;
      const index_t rows = std::min(M, ceil_div(mt, tm) * MR);
      const index_t cols = std::min(N, ceil_div(nt, tn) * NR);
      const index_t cost = rows * cols + 16 * (rows + cols * ceil_div(rows, MC));
      if (best_cost < 0 || cost < best_cost) {
        best_cost = cost;
        best = {tm, tn};
      }
    }
  }
  return best;
}

template <class T>
void gemm_blocked(const KernelDesc<T>& k, bool trans_a, bool trans_b, index_t M, index_t N, index_t K, T alpha,
                  const T* A, index_t lda, const PackedA<T>* packed, const T* B, index_t ldb, const BSource<T>* source,
                  T beta, T* C, index_t ldc) {
  const int threads = (M * N * K < kMinParallelWork || omp_in_parallel()) ? 1 : get_num_threads();
  const Split s = choose_split(M, N, threads, k.MR, k.NR, k.MC);
  const int parts = s.tm * s.tn;
  if (parts == 1) {
    gemm_block(k, trans_a, trans_b, 0, M, 0, N, K, alpha, A, lda, packed, B, ldb, source, beta, C, ldc);
    return;
  }
  // Bands are whole MR x NR tiles, cut as evenly as the tile counts allow; one part per thread
  // (parallel_for's chunks are the parts when there are as many threads as parts).
  const index_t mt = ceil_div(M, k.MR), nt = ceil_div(N, k.NR);
  parallel_for(0, parts, 1, [&](index_t first, index_t last) {
    for (index_t p = first; p < last; ++p) {
      const index_t pi = p / s.tn, pj = p % s.tn;
      const index_t m0 = std::min(M, mt * pi / s.tm * k.MR), m1 = std::min(M, mt * (pi + 1) / s.tm * k.MR);
      const index_t n0 = std::min(N, nt * pj / s.tn * k.NR), n1 = std::min(N, nt * (pj + 1) / s.tn * k.NR);
      if (m0 < m1 && n0 < n1)
        gemm_block(k, trans_a, trans_b, m0, m1, n0, n1, K, alpha, A, lda, packed, B, ldb, source, beta, C, ldc);
    }
  });
}

}  // namespace gemm_detail

namespace gemm_detail {
template <class T>
const KernelDesc<T>& active_kernel() {
  static constexpr KernelDesc<T> kAvx512 = describe<gemm_avx512::Kernel<T>, T>();
  static constexpr KernelDesc<T> kAvx2 = describe<gemm_avx2::Kernel<T>, T>();
  static constexpr KernelDesc<T> kGeneric = describe<gemm_generic::Kernel<T>, T>();
  const Isa isa = active_isa();
  return isa == Isa::avx512 ? kAvx512 : isa == Isa::avx2 ? kAvx2 : kGeneric;
}
}  // namespace gemm_detail

// C = alpha * op(A) * op(B) + beta * C, row-major; the full contract is gemm_reference's
// (gemm_reference.hpp). When alpha == 0 or K == 0, A and B are not read. Runs on
// get_num_threads() threads when the problem is large enough; the result is bitwise the same
// for any thread count. The micro-kernel follows active_isa().
template <class T>
void gemm(bool trans_a, bool trans_b, index_t M, index_t N, index_t K, T alpha, const T* A,
          index_t lda, const T* B, index_t ldb, T beta, T* C, index_t ldc) {
  INK_CHECK(ValueError, M >= 0 && N >= 0 && K >= 0, "gemm: negative size M=", M, " N=", N, " K=", K);
  INK_CHECK(ValueError, lda >= (trans_a ? M : K) && ldb >= (trans_b ? K : N) && ldc >= N,
                    "gemm: leading dimension too small (lda=", lda, " ldb=", ldb, " ldc=", ldc, ")");
  if (M == 0 || N == 0) return;
  if (K == 0 || alpha == T(0)) {
    gemm_detail::scale_c(M, N, beta, C, ldc);
    return;
  }
  gemm_detail::gemm_blocked(gemm_detail::active_kernel<T>(), trans_a, trans_b, M, N, K, alpha, A, lda,
                            static_cast<const PackedA<T>*>(nullptr), B, ldb, static_cast<const BSource<T>*>(nullptr),
                            beta, C, ldc);
}

// The values pack_a() writes for an M x K op(A), at the active micro-kernel's panel height.
template <class T>
std::size_t packed_a_size(index_t M, index_t K) {
  const index_t MR = gemm_detail::active_kernel<T>().MR;
  return static_cast<std::size_t>(gemm_detail::ceil_div(M, MR) * MR * K);
}

// op(A) (M x K, leading dimension lda >= its row length) packed into dst (packed_a_size(M, K)
// values) as gemm_block packs it, slice by slice of K: a GEMM given the result multiplies with
// the same panels, so the same bits, as gemm() on A. Sizes unchecked (the GEMM that takes
// the result checks its own).
template <class T>
PackedA<T> pack_a(bool trans_a, index_t M, index_t K, const T* A, index_t lda, T* dst) {
  const gemm_detail::KernelDesc<T>& k = gemm_detail::active_kernel<T>();
  const index_t rows = gemm_detail::ceil_div(M, k.MR) * k.MR, kc_max = gemm_detail::slice_depth(k, K);
  for (index_t pc = 0; pc < K; pc += kc_max)
    gemm_detail::pack_a_rows(k, trans_a, A, lda, 0, M, pc, std::min(kc_max, K - pc), dst + pc * rows);
  return {dst, rows};
}

// gemm() with op(B) (K x N) given by its packed panels (BSource) instead of a matrix: the
// same blocking, split and micro-kernel, so the same bits as gemm() on the matrix the panels
// hold. With `packed` (pack_a of this op(A), M x K) the frame reads A's panels from it instead
// of packing A, again the same bits.
template <class T>
void gemm(bool trans_a, index_t M, index_t N, index_t K, T alpha, const T* A, index_t lda, const BSource<T>& B,
          T beta, T* C, index_t ldc, const PackedA<T>* packed = nullptr) {
  INK_CHECK(ValueError, M >= 0 && N >= 0 && K >= 0, "gemm: negative size M=", M, " N=", N, " K=", K);
  INK_CHECK(ValueError, lda >= (trans_a ? M : K) && ldc >= N, "gemm: leading dimension too small (lda=", lda,
            " ldc=", ldc, ")");
  if (M == 0 || N == 0) return;
  if (K == 0 || alpha == T(0)) {
    gemm_detail::scale_c(M, N, beta, C, ldc);
    return;
  }
  gemm_detail::gemm_blocked(gemm_detail::active_kernel<T>(), trans_a, false, M, N, K, alpha, A, lda, packed,
                            static_cast<const T*>(nullptr), index_t{0}, &B, beta, C, ldc);
}

// `batch` independent GEMMs with the same shapes; GEMM b reads A + b*stride_a, B + b*stride_b
// and updates C + b*stride_c. Threads take whole GEMMs when that balances (batch a multiple of
// the thread count, or many small GEMMs); otherwise each GEMM is split as gemm() splits it.
// Either way each result is bitwise the same as a lone gemm() call.
template <class T>
void gemm_batched(bool trans_a, bool trans_b, index_t M, index_t N, index_t K, T alpha, const T* A,
                  index_t lda, const T* B, index_t ldb, T beta, T* C, index_t ldc, index_t batch,
                  index_t stride_a, index_t stride_b, index_t stride_c) {
  INK_CHECK(ValueError, batch >= 0, "gemm_batched: negative batch ", batch);
  const int threads = omp_in_parallel() ? 1 : get_num_threads();
  const bool small = M * N * K < gemm_detail::kMinParallelWork * threads;
  const bool across = threads > 1 && batch >= threads && (small || batch % threads == 0 || batch >= 4 * threads);
  if (!across) {
    for (index_t b = 0; b < batch; ++b)
      gemm(trans_a, trans_b, M, N, K, alpha, A + b * stride_a, lda, B + b * stride_b, ldb, beta,
           C + b * stride_c, ldc);
    return;
  }
  parallel_for(0, batch, 1, [&](index_t first, index_t last) {
    for (index_t b = first; b < last; ++b)
      gemm(trans_a, trans_b, M, N, K, alpha, A + b * stride_a, lda, B + b * stride_b, ldb, beta,
           C + b * stride_c, ldc);
  });
}

}  // namespace ink::kernels
