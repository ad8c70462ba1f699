// The reference convolution kernels: the three directions of a grouped 2-D convolution over an
// NCHW batch written as the obvious loops over the definition, one multiply-add at a time, in
// double accumulators. They are the oracle the fast kernels (conv.hpp, winograd.hpp) are tested
// against, not used by the ops. Part of kernels/: raw pointers, no Tensor.
#pragma once
#include <algorithm>
#include <vector>

#include "ink/kernels/conv.hpp"

namespace ink::kernels {

namespace conv_reference_detail {
// Calls f(input index, weight index, output index) for every multiply-add of the convolution.
template <class F>
void for_each_term(const Conv2dShape& s, F&& f) {
  const Window2d& g = s.window;
  const index_t oh = g.out_h(), ow = g.out_w(), Cg = s.out_per_group(), Ig = s.in_per_group();
  for (index_t n = 0; n < s.batch; ++n)
    for (index_t o = 0; o < s.out_channels; ++o) {
      const index_t group = o / Cg;
      for (index_t oy = 0; oy < oh; ++oy)
        for (index_t ox = 0; ox < ow; ++ox)
          for (index_t ci = 0; ci < Ig; ++ci)
            for (index_t i = 0; i < g.kernel_h; ++i)
              for (index_t j = 0; j < g.kernel_w; ++j) {
                const index_t y = oy * g.stride_h - g.pad_h + i * g.dilation_h;
                const index_t x = ox * g.stride_w - g.pad_w + j * g.dilation_w;
                if (y < 0 || y >= g.height || x < 0 || x >= g.width) continue;
                const index_t c = group * Ig + ci;
                f(((n * g.channels + c) * g.height + y) * g.width + x, ((o * Ig + ci) * g.kernel_h + i) * g.kernel_w + j,
                  ((n * s.out_channels + o) * oh + oy) * ow + ox);
              }
    }
}

template <class T>
void store(const std::vector<double>& acc, T* out) {
  std::transform(acc.begin(), acc.end(), out, [](double v) { return static_cast<T>(v); });
}
}  // namespace conv_reference_detail

// y = conv(x, w), as conv2d_forward.
template <class T>
void conv2d_forward_reference(const T* x, const T* w, T* y, const Conv2dShape& s) {
  std::vector<double> acc(static_cast<std::size_t>(s.batch * s.output_size()), 0.0);
  conv_reference_detail::for_each_term(s, [&](index_t xi, index_t wi, index_t yi) {
    acc[yi] += static_cast<double>(x[xi]) * static_cast<double>(w[wi]);
  });
  conv_reference_detail::store(acc, y);
}

// dx from dy, as conv2d_backward_data.
template <class T>
void conv2d_backward_data_reference(const T* dy, const T* w, T* dx, const Conv2dShape& s) {
  std::vector<double> acc(static_cast<std::size_t>(s.batch * s.input_size()), 0.0);
  conv_reference_detail::for_each_term(s, [&](index_t xi, index_t wi, index_t yi) {
    acc[xi] += static_cast<double>(dy[yi]) * static_cast<double>(w[wi]);
  });
  conv_reference_detail::store(acc, dx);
}

// dw from x and dy, as conv2d_backward_weights.
template <class T>
void conv2d_backward_weights_reference(const T* x, const T* dy, T* dw, const Conv2dShape& s) {
  std::vector<double> acc(static_cast<std::size_t>(s.weight_size()), 0.0);
  conv_reference_detail::for_each_term(s, [&](index_t xi, index_t wi, index_t yi) {
    acc[wi] += static_cast<double>(x[xi]) * static_cast<double>(dy[yi]);
  });
  conv_reference_detail::store(acc, dw);
}

}  // namespace ink::kernels
