// Pooling over NCHW batches: max_pool2d (first maximum wins, as in PyTorch), avg_pool2d
// (ceil_mode, count_include_pad), adaptive_avg_pool2d. Built on an argmax kernel (with
// scatter_add / gather as its gradients), unfold and matmul, so differentiable to any order.
// Part of ops/.
#pragma once
#include <cmath>
#include <limits>
#include <optional>

#include "ink/kernels/pooling.hpp"
#include "ink/ops/conv.hpp"
#include "ink/ops/indexing.hpp"
#include "ink/ops/reduce.hpp"

namespace ink {

struct MaxPool2dOptions {
  std::optional<Size2> stride;  // default: the kernel size
  Size2 padding = 0;
  Size2 dilation = 1;
  bool ceil_mode = false;
};

struct AvgPool2dOptions {
  std::optional<Size2> stride;  // default: the kernel size
  Size2 padding = 0;
  bool ceil_mode = false;
  bool count_include_pad = true;
};

namespace detail {

// PyTorch's pooling_output_shape: floor or ceil division, and with ceil_mode the last window
// must start inside the input or its left padding.
inline index_t pooled_size(index_t in, index_t k, index_t s, index_t p, index_t d, bool ceil_mode) {
  index_t out = (in + 2 * p - d * (k - 1) - 1 + (ceil_mode ? s - 1 : 0)) / s + 1;
  if (ceil_mode && (out - 1) * s >= in + p) --out;
  return out;
}

inline void check_pool(const Shape& x, Size2 k, Size2 s, Size2 p, const char* op) {
  INK_CHECK(ShapeError, x.size() == 4, op, ": expected a [N,C,H,W] input, got shape ", x);
  INK_CHECK(ValueError, k.h > 0 && k.w > 0 && s.h > 0 && s.w > 0, op, ": kernel and stride must be positive");
  INK_CHECK(ValueError, p.h >= 0 && p.w >= 0 && 2 * p.h <= k.h && 2 * p.w <= k.w, op,
                    ": padding must be non-negative and at most half the kernel size (kernel ", k.h, "x", k.w,
                    ", padding ", p.h, "x", p.w, ")");
}

}  // namespace detail

template <class T>
Tensor<T> max_pool2d(const Tensor<T>& x, Size2 kernel, MaxPool2dOptions o = {}) {
  const Size2 s = o.stride.value_or(kernel);
  detail::check_pool(x.shape(), kernel, s, o.padding, "max_pool2d");
  const index_t n = x.shape()[0], c = x.shape()[1], h = x.shape()[2], w = x.shape()[3];
  const index_t oh = detail::pooled_size(h, kernel.h, s.h, o.padding.h, o.dilation.h, o.ceil_mode);
  const index_t ow = detail::pooled_size(w, kernel.w, s.w, o.padding.w, o.dilation.w, o.ceil_mode);
  INK_CHECK(ShapeError, oh > 0 && ow > 0, "max_pool2d: input of shape ", x.shape(), " is too small for kernel ",
                    kernel.h, "x", kernel.w);
  // The kernel finds each window's argmax and maximum; the gradient is gather's (a scatter_add
  // of g to those positions, differentiable in turn).
  const auto g = detail::window(1, h, w, kernel, s, o.padding, o.dilation);
  const Tensor<T> planes = contiguous(x.detach());
  Tensor<std::int64_t> best = empty<std::int64_t>({n, c, oh * ow});
  Tensor<T> out = empty<T>({n, c, oh, ow});
  // Outputs too large to stay cached are written with non-temporal stores (stream_store.hpp).
  const bool stream = static_cast<std::size_t>(n * c * oh * ow) * (sizeof(T) + sizeof(std::int64_t)) >=
                      kernels::stream_threshold();
  parallel_for(0, n * c, detail::sample_grain(oh * ow * kernel.h * kernel.w), [&](index_t b, index_t e) {
    for (index_t p = b; p < e; ++p)
      kernels::max_pool2d_argmax(planes.data_ptr() + p * h * w, g, oh, ow, best.data_ptr() + p * oh * ow,
                                 out.data_ptr() + p * oh * ow, stream);
  });
  autograd::record("MaxPool2DWithIndicesBackward", {x}, out,
                   [x_shape = x.shape(), flat = Shape{n, c, h * w}, pooled = Shape{n, c, oh * ow}, best](
                       const Tensor<T>& grad, const Tensor<T>&) -> std::vector<Tensor<T>> {
                     return {scatter_add(zeros<T>(flat), 2, best, grad.reshape(pooled)).reshape(x_shape)};
                   });
  return out;
}

template <class T>
Tensor<T> avg_pool2d(const Tensor<T>& x, Size2 kernel, AvgPool2dOptions o = {}) {
  const Size2 s = o.stride.value_or(kernel);
  detail::check_pool(x.shape(), kernel, s, o.padding, "avg_pool2d");
  const index_t n = x.shape()[0], c = x.shape()[1], h = x.shape()[2], w = x.shape()[3];
  const index_t oh = detail::pooled_size(h, kernel.h, s.h, o.padding.h, 1, o.ceil_mode);
  const index_t ow = detail::pooled_size(w, kernel.w, s.w, o.padding.w, 1, o.ceil_mode);
  INK_CHECK(ShapeError, oh > 0 && ow > 0, "avg_pool2d: input of shape ", x.shape(), " is too small for kernel ",
                    kernel.h, "x", kernel.w);
  // The divisor of each window, as PyTorch's AvgPool2d computes it: windows are clipped to
  // the padded input, then (without count_include_pad) to the input itself.
  Tensor<T> divisor = empty<T>({oh * ow});
  for (index_t i = 0; i < oh; ++i)
    for (index_t j = 0; j < ow; ++j) {
      index_t hs = i * s.h - o.padding.h, ws = j * s.w - o.padding.w;
      index_t he = std::min(hs + kernel.h, h + o.padding.h), we = std::min(ws + kernel.w, w + o.padding.w);
      const index_t padded = (he - hs) * (we - ws);
      hs = std::max<index_t>(hs, 0);
      ws = std::max<index_t>(ws, 0);
      he = std::min(he, h);
      we = std::min(we, w);
      divisor.data_ptr()[i * ow + j] = static_cast<T>(o.count_include_pad ? padded : (he - hs) * (we - ws));
    }
  const auto g = detail::window(1, h, w, kernel, s, o.padding, 1);
  const Tensor<T> cols = detail::unfold_impl(x.reshape({n * c, 1, h, w}), g, oh, ow, T(0));
  return (cols.sum({1}) / divisor).reshape({n, c, oh, ow});
}

namespace detail {
// The [out, in] matrix that averages the adaptive-pooling windows of PyTorch:
// window i covers [floor(i*in/out), ceil((i+1)*in/out)).
template <class T>
Tensor<T> adaptive_average_matrix(index_t in, index_t out) {
  Tensor<T> m = zeros<T>({out, in});
  for (index_t i = 0; i < out; ++i) {
    const index_t start = (i * in) / out, end = ((i + 1) * in + out - 1) / out;
    for (index_t j = start; j < end; ++j) m.data_ptr()[i * in + j] = T(1) / static_cast<T>(end - start);
  }
  return m;
}
}  // namespace detail

template <class T>
Tensor<T> adaptive_avg_pool2d(const Tensor<T>& x, Size2 output_size) {
  INK_CHECK(ShapeError, x.dim() == 4, "adaptive_avg_pool2d: expected a [N,C,H,W] input, got shape ", x.shape());
  INK_CHECK(ValueError, output_size.h > 0 && output_size.w > 0, "adaptive_avg_pool2d: output size must be positive");
  const Tensor<T> ph = detail::adaptive_average_matrix<T>(x.shape()[2], output_size.h);
  const Tensor<T> pw = detail::adaptive_average_matrix<T>(x.shape()[3], output_size.w);
  return matmul(matmul(ph, x), pw.t());
}

}  // namespace ink

// Tensor<T>'s member functions (x.sum(), x.reshape(...)) are defined there; included last so
// that this header works on its own.
#include "ink/ops/tensor_methods.hpp"
