// The weight gradient of a convolution with a short patch (Cin/G kh kw <= 32, fewer than its
// output channels: a 1-channel 3x3 convolution, 32 x 9; a transposed convolution to one
// channel, 64 x 16) as dot products along the output positions: dw[c][t] += sum over l of
// dy[c][l] * patches[t][l]. Both operands are read in place, row by row, along l, where they
// are contiguous. Part of kernels/.
//
// Why not a GEMM: with N = the patch (9 or 16 columns) every micro-kernel tile held one vector
// of its three; transposed (M = the patch) the GEMM packed all of dy each time, a copy as large
// as the work; either way these gradients ran at 25-45 GFLOP/s where oneDNN gave 55.
//
// Blocks of channel rows x patch rows keep that many vector accumulators: 8 x 3 or 6 x 4 with
// AVX-512's 32 registers (24 accumulators, fed by 11 or 10 loads per 24 multiply-adds; 9 patch
// rows of a 3x3 window are 3 whole blocks of 3, 16 of a 4x4 one 4 blocks of 4; dot_avx512
// picks the one that pads less), 4 x 4 with AVX2's 16 (8 loads per 16). Rows past the
// matrices' ends read a zero row and their sums are dropped. A block's lanes are added in a
// fixed order at the end of each call, and onto dw in call order: the result depends on the
// calls alone, not on threads.
#pragma once
#include <algorithm>
#include <type_traits>

#include "ink/core/config.hpp"
#include "ink/core/cpu_features.hpp"
#include "ink/kernels/im2col.hpp"
#include "ink/kernels/vector_types.hpp"
#include "ink/kernels/workspace.hpp"

namespace ink::kernels {

namespace weight_grad_dot_detail {

// Rows per block of dy (channels) and of the patches, per ISA.
constexpr int kRowsAvx512 = 8, kColsAvx512 = 3, kAltRowsAvx512 = 6, kAltColsAvx512 = 4, kBlockAvx2 = 4;

// d: C rows of n values, ldd apart; q: P rows, ldq apart; `images` such pairs, d_image and
// q_image apart.
template <class T>
struct Operands {
  const T* d;
  index_t ldd, d_image, C;
  const T* q;
  index_t ldq, q_image, P, n, images;
};

// The rows of one block: r0 .. r0 + B - 1 of a matrix with `rows` rows `ld` apart, or `zero`.
template <int B, class T>
void block_rows(const T* m, index_t ld, index_t rows, index_t r0, const T* zero, const T* out[B]) {
  for (int i = 0; i < B; ++i) out[i] = r0 + i < rows ? m + (r0 + i) * ld : zero;
}

// The sums of one block in fixed lane order onto dw (only the rows that exist).
template <int R, int Q, class T>
void add_block(const T sums[R][Q], index_t c0, index_t C, index_t t0, index_t P, T* dw) {
  for (int i = 0; i < R && c0 + i < C; ++i)
    for (int j = 0; j < Q && t0 + j < P; ++j) dw[(c0 + i) * P + t0 + j] += sums[i][j];
}

template <class T>
void dot_scalar(const Operands<T>& o, T* dw) {
  for (index_t c = 0; c < o.C; ++c)
    for (index_t t = 0; t < o.P; ++t) {
      T s = T(0);
      for (index_t img = 0; img < o.images; ++img)
        for (index_t l = 0; l < o.n; ++l) s += o.d[img * o.d_image + c * o.ldd + l] * o.q[img * o.q_image + t * o.ldq + l];
      dw[c * o.P + t] += s;
    }
}

// A block's 16 accumulators are summed across their lanes by halving (lanes i and i + half
// added, then again), the same order every time.
INK_TARGET_AVX512 inline float lane_sum(simd::f32x16 v) {
  using namespace simd;
  const f32x8 a = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) + __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
  const f32x4 b = __builtin_shufflevector(a, a, 0, 1, 2, 3) + __builtin_shufflevector(a, a, 4, 5, 6, 7);
  return (b[0] + b[2]) + (b[1] + b[3]);
}
INK_TARGET_AVX2 inline float lane_sum(simd::f32x8 a) {
  using namespace simd;
  const f32x4 b = __builtin_shufflevector(a, a, 0, 1, 2, 3) + __builtin_shufflevector(a, a, 4, 5, 6, 7);
  return (b[0] + b[2]) + (b[1] + b[3]);
}

template <int R, int Q>
INK_TARGET_AVX512 void dot_avx512_blocks(const Operands<float>& o, const float* zero, float* dw) {
  using namespace simd;
  for (index_t c0 = 0; c0 < o.C; c0 += R)
    for (index_t t0 = 0; t0 < o.P; t0 += Q) {
      f32x16 acc[R][Q] = {};
      for (index_t img = 0; img < o.images; ++img) {
        const float *dr[R], *qr[Q];
        block_rows<R>(o.d + img * o.d_image, o.ldd, o.C, c0, zero, dr);
        block_rows<Q>(o.q + img * o.q_image, o.ldq, o.P, t0, zero, qr);
        for (index_t l = 0; l < o.n; l += 16) {
          const unsigned short m = static_cast<unsigned short>(o.n - l >= 16 ? 0xffffu : (1u << (o.n - l)) - 1);
          f32x16 qv[Q];
#pragma GCC unroll 4
          for (int j = 0; j < Q; ++j) qv[j] = mask_load(f32x16{}, m, qr[j] + l);
#pragma GCC unroll 8
          for (int i = 0; i < R; ++i) {
            const f32x16 dv = mask_load(f32x16{}, m, dr[i] + l);
#pragma GCC unroll 4
            for (int j = 0; j < Q; ++j) acc[i][j] = fmadd(dv, qv[j], acc[i][j]);
          }
        }
      }
      float sums[R][Q];
#pragma GCC unroll 8
      for (int i = 0; i < R; ++i)
#pragma GCC unroll 4
        for (int j = 0; j < Q; ++j) sums[i][j] = lane_sum(acc[i][j]);
      add_block<R, Q>(sums, c0, o.C, t0, o.P, dw);
    }
}

// 8 x 3 blocks, or 6 x 4 when they pad less: 16 patch rows (a 4x4 window) are 5 blocks of 3 and
// one of 1 in 8 x 3 (18 rows computed), whole in 6 x 4 (and 64 channels 66 rows): G2's weight
// gradient. 6 x 4 also loads less per multiply-add (10 loads per 24), but pads 9 patch rows
// to 12, so a's (32 x 9) stays 8 x 3.
inline void dot_avx512(const Operands<float>& o, const float* zero, float* dw) {
  auto padded = [&](index_t rows, index_t cols) {
    return (o.C + rows - 1) / rows * rows * ((o.P + cols - 1) / cols * cols);
  };
  if (padded(kAltRowsAvx512, kAltColsAvx512) < padded(kRowsAvx512, kColsAvx512))
    return dot_avx512_blocks<kAltRowsAvx512, kAltColsAvx512>(o, zero, dw);
  dot_avx512_blocks<kRowsAvx512, kColsAvx512>(o, zero, dw);
}

INK_TARGET_AVX2 inline void dot_avx2(const Operands<float>& o, const float* zero, float* dw) {
  using namespace simd;
  constexpr int kBlock = kBlockAvx2;
  const i32x8 lane = {0, 1, 2, 3, 4, 5, 6, 7};
  for (index_t c0 = 0; c0 < o.C; c0 += kBlock)
    for (index_t t0 = 0; t0 < o.P; t0 += kBlock) {
      f32x8 acc[kBlock][kBlock] = {};
      for (index_t img = 0; img < o.images; ++img) {
        const float *dr[kBlock], *qr[kBlock];
        block_rows<kBlock>(o.d + img * o.d_image, o.ldd, o.C, c0, zero, dr);
        block_rows<kBlock>(o.q + img * o.q_image, o.ldq, o.P, t0, zero, qr);
        for (index_t l = 0; l < o.n; l += 8) {
          const i32x8 m = lane < static_cast<int>(std::min<index_t>(o.n - l, 8));
          f32x8 dv[kBlock], qv[kBlock];
#pragma GCC unroll 4
          for (int i = 0; i < kBlock; ++i) dv[i] = maskload(dr[i] + l, m);
#pragma GCC unroll 4
          for (int j = 0; j < kBlock; ++j) qv[j] = maskload(qr[j] + l, m);
#pragma GCC unroll 4
          for (int i = 0; i < kBlock; ++i)
#pragma GCC unroll 4
            for (int j = 0; j < kBlock; ++j) acc[i][j] = fmadd(dv[i], qv[j], acc[i][j]);
        }
      }
      float sums[kBlock][kBlock];
#pragma GCC unroll 4
      for (int i = 0; i < kBlock; ++i)
#pragma GCC unroll 4
        for (int j = 0; j < kBlock; ++j) sums[i][j] = lane_sum(acc[i][j]);
      add_block<kBlock, kBlock>(sums, c0, o.C, t0, o.P, dw);
    }
}

}  // namespace weight_grad_dot_detail

// dw[c * P + t] += the sum over images and l < n of d[c][l] * q[t][l] (Operands' layout), for
// c < C, t < P.
template <class T>
void weight_grad_dot(const weight_grad_dot_detail::Operands<T>& o, T* dw) {
  namespace detail = weight_grad_dot_detail;
  if constexpr (std::is_same_v<T, float>) {
    const Isa isa = active_isa();
    if (isa != Isa::generic) {
      // The zero row the blocks' missing rows read (a slot no caller of this holds).
      T* zero = thread_workspace().get<T>(kSlotShared1, static_cast<std::size_t>(o.n));
      std::fill(zero, zero + o.n, T(0));
      if (isa == Isa::avx512) return detail::dot_avx512(o, zero, dw);
      return detail::dot_avx2(o, zero, dw);
    }
  }
  detail::dot_scalar(o, dw);
}

}  // namespace ink::kernels
