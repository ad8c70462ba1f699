// Max-pooling argmax: for each output position of one [H, W] plane, the flat index (y*W + x)
// of its window's maximum. The pooled values are then a gather of those indices, so the op
// above needs no patch matrix. Part of kernels/: raw pointers, one plane per call.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>

#include "ink/kernels/im2col.hpp"

namespace ink::kernels {

// Scans each window row by row and keeps the first maximum (a NaN counts as the maximum), as
// PyTorch's CPU kernel does, so ties send the gradient to the same element. A window wholly
// of -inf picks its first position inside the image. out_h / out_w may exceed g.out_h() /
// g.out_w() (ceil_mode: the last window starts inside the input but runs past the padding).
template <class T>
void max_pool2d_argmax(const T* x, const Window2d& g, index_t out_h, index_t out_w, std::int64_t* idx) {
  // The common 2x2 / stride 2 window, wholly inside the image: the same scan order and rule,
  // written with selects instead of branches (which mispredict on half of random data; the
  // general loop below was 7% of a classifier training step).
  if (g.kernel_h == 2 && g.kernel_w == 2 && g.stride_h == 2 && g.stride_w == 2 && g.pad_h == 0 && g.pad_w == 0 &&
      g.dilation_h == 1 && g.dilation_w == 1 && 2 * out_h <= g.height && 2 * out_w <= g.width) {
    for (index_t oy = 0; oy < out_h; ++oy) {
      const std::int64_t row = 2 * oy * g.width;
      for (index_t ox = 0; ox < out_w; ++ox) {
        const std::int64_t first = row + 2 * ox;
        T best_value = x[first];
        std::int64_t best = first;
        for (const std::int64_t at : {first + 1, first + g.width, first + g.width + 1}) {
          const T v = x[at];
          // v replaces the best if larger or NaN, unless the best is already a NaN (first wins)
          const bool take = (v > best_value || v != v) && best_value == best_value;
          best = take ? at : best;
          best_value = take ? v : best_value;
        }
        idx[oy * out_w + ox] = best;
      }
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
    }
  }
}

}  // namespace ink::kernels
