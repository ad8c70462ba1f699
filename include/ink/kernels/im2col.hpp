// im2col / col2im: the patch matrix of a 2-D convolution and its adjoint. A convolution is a
// GEMM of the weights with this matrix; col2im scatters patch gradients back onto the image.
// Part of kernels/: raw pointers, one image (one batch element) per call.
#pragma once
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

// cols[(c*kh + i)*kw + j][oy*OW + ox] = x[c][oy*sh - ph + i*dh][ox*sw - pw + j*dw], or
// `pad_value` where that position falls outside the image. cols is [C*kh*kw, OH*OW] with rows
// `ld` elements apart (ld = OH*OW when 0), so a batch can be written as [C*kh*kw, N*OH*OW] by
// calling this per image at column offset n*OH*OW with ld = N*OH*OW.
template <class T>
void im2col(const T* x, const Window2d& g, T* cols, T pad_value = T(0), index_t ld = 0) {
  const index_t oh = g.out_h(), ow = g.out_w();
  if (ld == 0) ld = oh * ow;
  for (index_t c = 0; c < g.channels; ++c)
    for (index_t i = 0; i < g.kernel_h; ++i)
      for (index_t j = 0; j < g.kernel_w; ++j) {
        T* row = cols + ((c * g.kernel_h + i) * g.kernel_w + j) * ld;
        for (index_t oy = 0; oy < oh; ++oy) {
          const index_t y = oy * g.stride_h - g.pad_h + i * g.dilation_h;
          T* out = row + oy * ow;
          if (y < 0 || y >= g.height) {
            for (index_t ox = 0; ox < ow; ++ox) out[ox] = pad_value;
            continue;
          }
          const T* in = x + (c * g.height + y) * g.width;
          for (index_t ox = 0; ox < ow; ++ox) {
            const index_t xx = ox * g.stride_w - g.pad_w + j * g.dilation_w;
            out[ox] = (xx >= 0 && xx < g.width) ? in[xx] : pad_value;
          }
        }
      }
}

// The adjoint of im2col: x[c][y][x] += every cols entry that im2col read from it. x must hold
// the values to add to (zeros for a plain col2im). `ld` is the row stride of cols, as in im2col.
template <class T>
void col2im(const T* cols, const Window2d& g, T* x, index_t ld = 0) {
  const index_t oh = g.out_h(), ow = g.out_w();
  if (ld == 0) ld = oh * ow;
  for (index_t c = 0; c < g.channels; ++c)
    for (index_t i = 0; i < g.kernel_h; ++i)
      for (index_t j = 0; j < g.kernel_w; ++j) {
        const T* row = cols + ((c * g.kernel_h + i) * g.kernel_w + j) * ld;
        for (index_t oy = 0; oy < oh; ++oy) {
          const index_t y = oy * g.stride_h - g.pad_h + i * g.dilation_h;
          if (y < 0 || y >= g.height) continue;
          T* out = x + (c * g.height + y) * g.width;
          const T* in = row + oy * ow;
          for (index_t ox = 0; ox < ow; ++ox) {
            const index_t xx = ox * g.stride_w - g.pad_w + j * g.dilation_w;
            if (xx >= 0 && xx < g.width) out[xx] += in[ox];
          }
        }
      }
}

}  // namespace ink::kernels
