// Max-pooling argmax: for each output position of one [H, W] plane, the flat index (y*W + x)
// of its window's maximum and that maximum, so the op above needs no patch matrix (and the
// gradient is a scatter of those indices). Part of kernels/: raw pointers, one plane per call.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "ink/core/select.hpp"
#include "ink/kernels/im2col.hpp"

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
// random data) this was 6% of a classifier step. Scalar (GCC does not vectorise it); the
// float version runs only on the last 0-3 windows of a row, after argmax_2x2_row_sse2.
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

#if defined(__SSE2__)
// Four float windows at a time in SSE2 (part of x86-64, so no dispatch): GCC does not
// vectorise the loop above (float values, int64 indices), which is bound by the latency of its
// scalar selects (5.6% of a classifier step, against 1.4% now). The same comparisons and selects, lane by lane; returns the windows done.
inline index_t argmax_2x2_row_sse2(const float* r0, index_t width, index_t out_w, std::int64_t first,
                                   std::int64_t* idx) {
  if (width >= (index_t{1} << 30)) return 0;  // in-window offsets are formed in int32
  const float* r1 = r0 + width;
  const __m128i zero = _mm_setzero_si128(), row_step = _mm_set1_epi32(static_cast<int>(width));
  const __m128i lane_columns = _mm_setr_epi32(0, 2, 4, 6);
  auto consider = [](__m128& best, __m128i& at, __m128 v, int position) {
    const __m128 take = _mm_and_ps(_mm_or_ps(_mm_cmpgt_ps(v, best), _mm_cmpunord_ps(v, v)), _mm_cmpord_ps(best, best));
    best = _mm_or_ps(_mm_and_ps(take, v), _mm_andnot_ps(take, best));
    const __m128i t = _mm_castps_si128(take);
    at = _mm_or_si128(_mm_and_si128(t, _mm_set1_epi32(position)), _mm_andnot_si128(t, at));
  };
  index_t ox = 0;
  for (; ox + 4 <= out_w; ox += 4) {
    const __m128 a0 = _mm_loadu_ps(r0 + 2 * ox), a1 = _mm_loadu_ps(r0 + 2 * ox + 4);
    const __m128 b0 = _mm_loadu_ps(r1 + 2 * ox), b1 = _mm_loadu_ps(r1 + 2 * ox + 4);
    __m128 best = _mm_shuffle_ps(a0, a1, _MM_SHUFFLE(2, 0, 2, 0));  // top left of each window
    __m128i at = zero;
    consider(best, at, _mm_shuffle_ps(a0, a1, _MM_SHUFFLE(3, 1, 3, 1)), 1);  // top right
    consider(best, at, _mm_shuffle_ps(b0, b1, _MM_SHUFFLE(2, 0, 2, 0)), 2);  // bottom left
    consider(best, at, _mm_shuffle_ps(b0, b1, _MM_SHUFFLE(3, 1, 3, 1)), 3);  // bottom right
    // offset in the row pair: (at >> 1) * width + (at & 1), plus the window's first column
    const __m128i below = _mm_and_si128(_mm_sub_epi32(zero, _mm_srli_epi32(at, 1)), row_step);
    const __m128i offset = _mm_add_epi32(_mm_add_epi32(below, _mm_and_si128(at, _mm_set1_epi32(1))), lane_columns);
    const __m128i base = _mm_set1_epi64x(first + 2 * ox);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(idx + ox), _mm_add_epi64(base, _mm_unpacklo_epi32(offset, zero)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(idx + ox + 2), _mm_add_epi64(base, _mm_unpackhi_epi32(offset, zero)));
  }
  return ox;
}
#endif
}  // namespace pooling_detail

// Scans each window row by row and keeps the first maximum (a NaN counts as the maximum), as
// PyTorch's CPU kernel does, so ties send the gradient to the same element. A window wholly
// of -inf picks its first position inside the image. out_h / out_w may exceed g.out_h() /
// g.out_w() (ceil_mode: the last window starts inside the input but runs past the padding).
// values[o] = x[idx[o]], the window's maximum, bit for bit (a NaN with its payload).
template <class T>
void max_pool2d_argmax(const T* x, const Window2d& g, index_t out_h, index_t out_w, std::int64_t* idx, T* values) {
  // The common 2x2 / stride 2 window, wholly inside the image: the same scan order and rule.
  if (g.kernel_h == 2 && g.kernel_w == 2 && g.stride_h == 2 && g.stride_w == 2 && g.pad_h == 0 && g.pad_w == 0 &&
      g.dilation_h == 1 && g.dilation_w == 1 && 2 * out_h <= g.height && 2 * out_w <= g.width) {
    for (index_t oy = 0; oy < out_h; ++oy) {
      const T* r0 = x + 2 * oy * g.width;
      // The row pair two ahead, into L1: the hardware's prefetchers left the loads of two
      // interleaved rows waiting (2x2 pooling of [16,64,2048,128] floats, one thread: 9 GB/s
      // without, 12 with, alike from memory and from the L3). Only for rows of up to 4 KiB, so
      // that what is prefetched stays in L1 until it is read.
      if (oy + 2 < out_h && g.width * index_t{sizeof(T)} <= 4096)
        for (index_t k = 0; k < 2 * g.width; k += index_t{64 / sizeof(T)}) __builtin_prefetch(r0 + 4 * g.width + k);
      const std::int64_t first = 2 * oy * g.width;
      std::int64_t* row_idx = idx + oy * out_w;
      index_t done = 0;
#if defined(__SSE2__)
      if constexpr (std::is_same_v<T, float>) done = pooling_detail::argmax_2x2_row_sse2(r0, g.width, out_w, first, row_idx);
#endif
      pooling_detail::argmax_2x2_row(r0 + 2 * done, g.width, out_w - done, first + 2 * done, row_idx + done);
      // The values in a second pass over the row, still in L1: a gather of them afterwards
      // (as the op did) took as long as finding the indices.
      T* row_values = values + oy * out_w;
      for (index_t ox = 0; ox < out_w; ++ox) row_values[ox] = x[row_idx[ox]];
    }
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
