// Max-pooling argmax: for each output position of one [H, W] plane, the flat index (y*W + x)
// of its window's maximum and that maximum, so the op above needs no patch matrix (and the
// gradient is a scatter of those indices). Part of kernels/: raw pointers, one plane per call.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "ink/core/cpu_features.hpp"
#include "ink/core/select.hpp"
#include "ink/kernels/im2col.hpp"
#include "ink/kernels/stream_store.hpp"
#include "ink/kernels/vector_types.hpp"

namespace ink::kernels {

namespace pooling_detail {
// Whether value v replaces the best so far: if larger or NaN, unless the best is already a NaN
// (first wins). & and | rather than && and ||, which branch.
template <class T>
inline bool takes(T v, T best) {
  return ((v > best) | (v != v)) & (best == best);
}

// The argmaxes of one output row of 2x2 / stride-2 windows over input rows r0 and r0 + width,
// as flat indices in the plane (r0 starts at index `first`). The running maximum and its
// position are selected, never branched on: with branches (which mispredict on half of
// random data) this was 6% of a classifier step. Scalar (GCC does not vectorise it); for
// float it runs only on rows of fewer than 4 windows, the vector versions below on the rest.
template <class T>
void argmax_2x2_row(const T* __restrict r0, index_t width, index_t out_w, std::int64_t first, std::int64_t* __restrict idx) {
  const T* __restrict r1 = r0 + width;
  for (index_t ox = 0; ox < out_w; ++ox) {
    // The maximum so far and its position in the window (0..3, kept as a T: a bit-mask
    // select of the same width as the values).
    T best = r0[2 * ox], at = T(0);
    const T v1 = r0[2 * ox + 1], v2 = r1[2 * ox], v3 = r1[2 * ox + 1];
    const bool t1 = takes(v1, best);
    best = ink::detail::branchless_select(t1, v1, best);
    at = ink::detail::branchless_select(t1, T(1), at);
    const bool t2 = takes(v2, best);
    best = ink::detail::branchless_select(t2, v2, best);
    at = ink::detail::branchless_select(t2, T(2), at);
    const bool t3 = takes(v3, best);
    at = ink::detail::branchless_select(t3, T(3), at);
    const std::int64_t a = static_cast<std::int64_t>(at);
    idx[ox] = first + 2 * ox + (a >> 1) * width + (a & 1);
  }
}

// N float windows at a time (4 in SSE2, 8 in AVX2, 16 in AVX-512), the loop above lane by lane:
// GCC does not vectorise it (float values, int64 indices), and its scalar selects bound it by
// their latency. values[ox] is the window's maximum as selected (the element itself, bit for
// bit). Does all out_w windows when out_w >= N, a last block overlapping the one before (the
// same values written twice), and none when out_w < N; returns how many. F / I / W: the float,
// int32 and (N/2-lane) int64 vectors; EVEN / ODD: the lanes 0, 2, .. 2N-2 / 1, 3, .. 2N-1 of two vectors; LO / HI: 0 .. N/2-1 /
// N/2 .. N-1.
// A macro expanded in three functions rather than a template: GCC lowers a template's 64-byte
// vector compares to scalar code before inlining it into the AVX-512 function (8x slower; a
// lambda's too), while in a function that has the target they are mask compares.
#define INK_ARGMAX_2X2_ROW(N, F, I, W, EVEN, ODD, LO, HI)                                            \
  if (width >= (index_t{1} << 30)) return 0; /* in-window offsets are formed in int32 */             \
  const float* r1 = r0 + width;                                                                      \
  const I lane_columns = {EVEN};                                                                     \
  const int row_step = static_cast<int>(width);                                                     \
  if (out_w < N) return 0;                                                                           \
  for (index_t ox = 0; ox < out_w; ox += N) {                                                        \
    if (ox + N > out_w) ox = out_w - N; /* the last N windows, some of them again: same results */  \
    F a0, a1, b0, b1; /* 2N values of each row: N windows */                                         \
    std::memcpy(&a0, r0 + 2 * ox, sizeof(F));                                                        \
    std::memcpy(&a1, r0 + 2 * ox + N, sizeof(F));                                                    \
    std::memcpy(&b0, r1 + 2 * ox, sizeof(F));                                                        \
    std::memcpy(&b1, r1 + 2 * ox + N, sizeof(F));                                                    \
    F best = __builtin_shufflevector(a0, a1, EVEN); /* top left of each window */                    \
    I at = I{};                                                                                      \
    /* top right, bottom left, bottom right: positions 1, 2, 3 */                                    \
    const F candidates[3] = {__builtin_shufflevector(a0, a1, ODD), __builtin_shufflevector(b0, b1, EVEN), \
                             __builtin_shufflevector(b0, b1, ODD)};                                  \
    for (int c = 0; c < 3; ++c) {                                                                    \
      const F v = candidates[c];                                                                     \
      const I take = ((v > best) | (v != v)) & (best == best);                                       \
      best = take ? v : best;                                                                        \
      at = take ? I{} + (c + 1) : at;                                                                \
    }                                                                                                \
    std::memcpy(values + ox, &best, sizeof(F));                                                      \
    /* offset in the row pair: (at >> 1) * width + (at & 1), plus the window's first column */      \
    const I offset = (at >> 1) * row_step + (at & 1) + lane_columns;                                 \
    const W base = W{} + (first + 2 * ox);                                                           \
    const W lo = __builtin_convertvector(__builtin_shufflevector(offset, offset, LO), W) + base;     \
    const W hi = __builtin_convertvector(__builtin_shufflevector(offset, offset, HI), W) + base;     \
    std::memcpy(idx + ox, &lo, sizeof(W));                                                           \
    std::memcpy(idx + ox + N / 2, &hi, sizeof(W));                                                   \
  }                                                                                                  \
  return out_w;

#define INK_P(...) __VA_ARGS__  // a list of lanes as one macro argument

// 4 lanes: SSE2 on x86-64 (the generic ISA), whatever 16-byte vectors are elsewhere.
inline index_t argmax_2x2_row_baseline(const float* r0, index_t width, index_t out_w, std::int64_t first,
                                       std::int64_t* idx, float* values) {
  INK_ARGMAX_2X2_ROW(4, simd::f32x4, simd::i32x4, simd::i64x2, INK_P(0, 2, 4, 6), INK_P(1, 3, 5, 7), INK_P(0, 1), INK_P(2, 3))
}
INK_TARGET_AVX2 inline index_t argmax_2x2_row_avx2(const float* r0, index_t width, index_t out_w, std::int64_t first,
                                                   std::int64_t* idx, float* values) {
  INK_ARGMAX_2X2_ROW(8, simd::f32x8, simd::i32x8, simd::i64x4, INK_P(0, 2, 4, 6, 8, 10, 12, 14),
                     INK_P(1, 3, 5, 7, 9, 11, 13, 15), INK_P(0, 1, 2, 3), INK_P(4, 5, 6, 7))
}
INK_TARGET_AVX512 inline index_t argmax_2x2_row_avx512(const float* r0, index_t width, index_t out_w,
                                                       std::int64_t first, std::int64_t* idx, float* values) {
  INK_ARGMAX_2X2_ROW(16, simd::f32x16, simd::i32x16, simd::i64x8,
                     INK_P(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30),
                     INK_P(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31),
                     INK_P(0, 1, 2, 3, 4, 5, 6, 7), INK_P(8, 9, 10, 11, 12, 13, 14, 15))
}
#undef INK_P
#undef INK_ARGMAX_2X2_ROW
}  // namespace pooling_detail

// Scans each window row by row and keeps the first maximum (a NaN counts as the maximum), as
// PyTorch's CPU kernel does, so ties send the gradient to the same element. A window wholly
// of -inf picks its first position inside the image. out_h / out_w may exceed g.out_h() /
// g.out_w() (ceil_mode: the last window starts inside the input but runs past the padding).
// values[o] = x[idx[o]], the window's maximum, bit for bit (a NaN with its payload).
// With `stream` (outputs too large to stay cached, stream_store.hpp), the 2x2 path computes
// pieces of a row in L1 and writes them with non-temporal stores: the same bytes.
template <class T>
void max_pool2d_argmax(const T* x, const Window2d& g, index_t out_h, index_t out_w, std::int64_t* idx, T* values,
                       bool stream = false) {
  // The common 2x2 / stride 2 window, wholly inside the image: the same scan order and rule.
  if (g.kernel_h == 2 && g.kernel_w == 2 && g.stride_h == 2 && g.stride_w == 2 && g.pad_h == 0 && g.pad_w == 0 &&
      g.dilation_h == 1 && g.dilation_w == 1 && 2 * out_h <= g.height && 2 * out_w <= g.width) {
    // Windows [ox0, ox0 + count) of output row oy into row_idx / row_values.
    auto row_part = [&](index_t oy, index_t ox0, index_t count, std::int64_t* row_idx, T* row_values) {
      const T* r0 = x + 2 * oy * g.width + 2 * ox0;
      const std::int64_t first = 2 * oy * g.width + 2 * ox0;
      index_t done = 0;
      if constexpr (std::is_same_v<T, float>) {
        // The widest vectors that fit the row: a 14-window row (28-pixel images) would
        // otherwise run wholly in the scalar loop at 16 lanes (5x slower than 4 lanes).
        const Isa isa = active_isa();
        if (isa == Isa::avx512) done = pooling_detail::argmax_2x2_row_avx512(r0, g.width, count, first, row_idx, row_values);
        if (done == 0 && (isa == Isa::avx512 || isa == Isa::avx2))
          done = pooling_detail::argmax_2x2_row_avx2(r0, g.width, count, first, row_idx, row_values);
        if (done == 0) done = pooling_detail::argmax_2x2_row_baseline(r0, g.width, count, first, row_idx, row_values);
      }
      pooling_detail::argmax_2x2_row(r0 + 2 * done, g.width, count - done, first + 2 * done, row_idx + done);
      // The rest's values in a second pass over the row, still in L1.
      for (index_t ox = done; ox < count; ++ox) row_values[ox] = x[row_idx[ox]];
    };
    constexpr index_t kPiece = 128;  // windows per streamed piece: 1 KiB of indices
    // The row pair about 8 KiB ahead (at least two pairs) is prefetched into L1: the hardware's
    // prefetchers left the loads of two interleaved rows waiting (2x2 pooling of
    // [16,64,2048,128] floats, one thread: 9 GB/s without, 12 with the pair two ahead, alike from
    // memory and from the L3), and two pairs of 512-byte rows (2 KiB ahead) hardly cover the
    // memory's latency at that rate: 8 KiB ahead kept one thread at 0.73-0.75 of memcpy's
    // bandwidth, 2 KiB at 0.69-0.91 (docs/kernels.md, ninth session). Only for rows of up to
    // 4 KiB, so that what is prefetched stays in L1 until it is read.
    const index_t pair_bytes = 2 * g.width * index_t{sizeof(T)};
    const index_t ahead = std::max<index_t>(2, 8192 / pair_bytes);
    for (index_t oy = 0; oy < out_h; ++oy) {
      const T* r0 = x + 2 * oy * g.width;
      if (oy + ahead < out_h && pair_bytes <= 8192)
        for (index_t k = 0; k < 2 * g.width; k += index_t{64 / sizeof(T)})
          __builtin_prefetch(r0 + 2 * ahead * g.width + k);
      if (!stream) {
        row_part(oy, 0, out_w, idx + oy * out_w, values + oy * out_w);
        continue;
      }
      alignas(64) std::int64_t piece_idx[kPiece];
      alignas(64) T piece_values[kPiece];
      for (index_t ox0 = 0; ox0 < out_w; ox0 += kPiece) {
        const index_t count = std::min(kPiece, out_w - ox0);
        row_part(oy, ox0, count, piece_idx, piece_values);
        stream_detail::stream_copy(reinterpret_cast<char*>(idx + oy * out_w + ox0),
                                   reinterpret_cast<const char*>(piece_idx), sizeof(std::int64_t) * count);
        stream_detail::stream_copy(reinterpret_cast<char*>(values + oy * out_w + ox0),
                                   reinterpret_cast<const char*>(piece_values), sizeof(T) * count);
      }
    }
    if (stream) stream_detail::stream_fence();
    return;
  }
  for (index_t oy = 0; oy < out_h; ++oy) {
    const index_t y0 = oy * g.stride_h - g.pad_h;
    index_t ky0 = 0;
    while (y0 + ky0 * g.dilation_h < 0) ++ky0;
    for (index_t ox = 0; ox < out_w; ++ox) {
      const index_t x0 = ox * g.stride_w - g.pad_w;
      index_t kx0 = 0;
      while (x0 + kx0 * g.dilation_w < 0) ++kx0;
      std::int64_t best = (y0 + ky0 * g.dilation_h) * g.width + (x0 + kx0 * g.dilation_w);
      T best_value = -std::numeric_limits<T>::infinity();
      for (index_t ky = ky0; ky < g.kernel_h; ++ky) {
        const index_t y = y0 + ky * g.dilation_h;
        if (y >= g.height) break;
        for (index_t kx = kx0; kx < g.kernel_w; ++kx) {
          const index_t xx = x0 + kx * g.dilation_w;
          if (xx >= g.width) break;
          const T v = x[y * g.width + xx];
          if (v > best_value || std::isnan(v)) {
            best_value = v;
            best = y * g.width + xx;
            if (std::isnan(v)) break;
          }
        }
        if (std::isnan(best_value)) break;
      }
      idx[oy * out_w + ox] = best;
      values[oy * out_w + ox] = x[best];
    }
  }
}

}  // namespace ink::kernels
