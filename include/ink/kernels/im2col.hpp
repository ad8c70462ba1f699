// im2col / col2im: the patch matrix of a 2-D convolution and its adjoint. A convolution is a
// GEMM of the weights with this matrix; col2im scatters patch gradients back onto the image.
// Part of kernels/: raw pointers, one image (one batch element) per call.
#pragma once
#include <algorithm>

#include "ink/core/config.hpp"

namespace ink::kernels {

// Geometry of a 2-D sliding window over one [C, H, W] image.
struct Window2d {
  index_t channels, height, width;
  index_t kernel_h, kernel_w;
  index_t stride_h = 1, stride_w = 1;
  index_t pad_h = 0, pad_w = 0;
  index_t dilation_h = 1, dilation_w = 1;

  index_t out_h() const { return (height + 2 * pad_h - dilation_h * (kernel_h - 1) - 1) / stride_h + 1; }
  index_t out_w() const { return (width + 2 * pad_w - dilation_w * (kernel_w - 1) - 1) / stride_w + 1; }
  index_t patch_size() const { return channels * kernel_h * kernel_w; }
};

// The output columns ox in [first, last) whose input column ox*stride - pad + offset lies inside
// [0, width): the interior where im2col copies and col2im adds without bounds checks.
struct ValidRange {
  index_t first, last;
};
inline ValidRange valid_columns(index_t out_w, index_t width, index_t stride, index_t pad, index_t offset) {
  // smallest ox with ox*stride >= pad - offset, and one past the largest with
  // ox*stride <= width - 1 + pad - offset
  const index_t lo_num = pad - offset, hi_num = width - 1 + pad - offset;
  const index_t first = lo_num <= 0 ? 0 : (lo_num + stride - 1) / stride;
  const index_t last = hi_num < 0 ? 0 : hi_num / stride + 1;
  const index_t f = std::min(first, out_w), l = std::min(std::max(last, f), out_w);
  return {f, l};
}

// cols[(c*kh + i)*kw + j][(oy - oy_begin)*OW + ox] = x[c][oy*sh - ph + i*dh][ox*sw - pw + j*dw],
// or `pad_value` where that position falls outside the image, for the output rows oy in
// [oy_begin, oy_end) (all rows by default). cols is [C*kh*kw, rows*OW] with rows `ld` elements
// apart (ld = rows*OW when 0): a band of output rows is one cache-sized tile of the patch matrix.
// Each output row splits into a padded head, an interior and a padded tail, computed once per
// (i, j); the interior is a plain copy at stride 1 (the common case), which the compiler
// vectorises, instead of a bounds check per element.
template <class T>
void im2col(const T* x, const Window2d& g, T* cols, T pad_value = T(0), index_t ld = 0, index_t oy_begin = 0,
            index_t oy_end = -1) {
  const index_t ow = g.out_w(), sw = g.stride_w;
  if (oy_end < 0) oy_end = g.out_h();
  if (ld == 0) ld = (oy_end - oy_begin) * ow;
  for (index_t c = 0; c < g.channels; ++c)
    for (index_t i = 0; i < g.kernel_h; ++i)
      for (index_t j = 0; j < g.kernel_w; ++j) {
        T* row = cols + ((c * g.kernel_h + i) * g.kernel_w + j) * ld;
        const index_t offset = j * g.dilation_w - g.pad_w;  // input column of ox = 0
        const ValidRange r = valid_columns(ow, g.width, sw, g.pad_w, j * g.dilation_w);
        for (index_t oy = oy_begin; oy < oy_end; ++oy) {
          const index_t y = oy * g.stride_h - g.pad_h + i * g.dilation_h;
          T* out = row + (oy - oy_begin) * ow;
          if (y < 0 || y >= g.height) {
            std::fill(out, out + ow, pad_value);
            continue;
          }
          std::fill(out, out + r.first, pad_value);
          if (r.first < r.last) {
            const T* in = x + (c * g.height + y) * g.width + r.first * sw + offset;  // column of ox = first
            if (sw == 1) std::copy(in, in + (r.last - r.first), out + r.first);
            else
              for (index_t ox = r.first; ox < r.last; ++ox) out[ox] = in[(ox - r.first) * sw];
          }
          std::fill(out + r.last, out + ow, pad_value);
        }
      }
}

// The adjoint of im2col: x[c][y][x] += every cols entry that im2col read from it. x must hold
// the values to add to (zeros for a plain col2im). `ld` and the band of output rows
// [oy_begin, oy_end) are as in im2col.
template <class T>
void col2im(const T* cols, const Window2d& g, T* x, index_t ld = 0, index_t oy_begin = 0, index_t oy_end = -1) {
  const index_t ow = g.out_w(), sw = g.stride_w;
  if (oy_end < 0) oy_end = g.out_h();
  if (ld == 0) ld = (oy_end - oy_begin) * ow;
  for (index_t c = 0; c < g.channels; ++c)
    for (index_t i = 0; i < g.kernel_h; ++i)
      for (index_t j = 0; j < g.kernel_w; ++j) {
        const T* row = cols + ((c * g.kernel_h + i) * g.kernel_w + j) * ld;
        const index_t offset = j * g.dilation_w - g.pad_w;
        const ValidRange r = valid_columns(ow, g.width, sw, g.pad_w, j * g.dilation_w);
        for (index_t oy = oy_begin; oy < oy_end; ++oy) {
          const index_t y = oy * g.stride_h - g.pad_h + i * g.dilation_h;
          if (y < 0 || y >= g.height || r.first >= r.last) continue;
          T* __restrict out = x + (c * g.height + y) * g.width + r.first * sw + offset;  // column of ox = first
          const T* __restrict in = row + (oy - oy_begin) * ow + r.first;
          const index_t n = r.last - r.first;
          if (sw == 1)
            for (index_t k = 0; k < n; ++k) out[k] += in[k];
          else
            for (index_t k = 0; k < n; ++k) out[k * sw] += in[k];
        }
      }
}

}  // namespace ink::kernels
