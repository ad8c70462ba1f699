// Resampling and padding of NCHW batches: upsample (nearest; bilinear with align_corners
// false, as PyTorch's default) and reflection_pad2d. Built on index_select and matmul, so
// differentiable to any order. Part of ops/.
#pragma once
#include <array>
#include <cmath>
#include <optional>

#include "ink/ops/indexing.hpp"
#include "ink/ops/matmul.hpp"
#include "ink/ops/size2.hpp"

namespace ink {

enum class UpsampleMode { nearest, bilinear };

struct UpsampleOptions {
  std::optional<Size2> size;           // the output size, or
  std::optional<double> scale_factor;  // a factor for both dims
  UpsampleMode mode = UpsampleMode::nearest;
};

namespace detail {

// The source coordinate scale PyTorch uses: in/out for a given size, 1/scale for a factor.
inline double source_scale(index_t in, index_t out, std::optional<double> factor) {
  return factor ? 1.0 / *factor : static_cast<double>(in) / static_cast<double>(out);
}

inline Tensor<std::int64_t> nearest_indices(index_t in, index_t out, double scale) {
  Tensor<std::int64_t> idx = empty<std::int64_t>({out});
  for (index_t i = 0; i < out; ++i)
    idx.data_ptr()[i] = std::min<index_t>(static_cast<index_t>(std::floor(static_cast<double>(i) * scale)), in - 1);
  return idx;
}

// [out, in] weights of linear interpolation with half-pixel centres (align_corners=False).
template <class T>
Tensor<T> linear_matrix(index_t in, index_t out, double scale) {
  Tensor<T> m = zeros<T>({out, in});
  for (index_t i = 0; i < out; ++i) {
    const double src = std::max(0.0, (static_cast<double>(i) + 0.5) * scale - 0.5);
    const index_t i0 = std::min<index_t>(static_cast<index_t>(src), in - 1), i1 = std::min<index_t>(i0 + 1, in - 1);
    const double l1 = src - static_cast<double>(i0);
    m.data_ptr()[i * in + i0] += static_cast<T>(1.0 - l1);
    m.data_ptr()[i * in + i1] += static_cast<T>(l1);
  }
  return m;
}

inline Tensor<std::int64_t> reflect_indices(index_t n, index_t before, index_t after) {
  Tensor<std::int64_t> idx = empty<std::int64_t>({n + before + after});
  for (index_t j = -before; j < n + after; ++j) {
    index_t r = j < 0 ? -j : j;
    if (r >= n) r = 2 * (n - 1) - r;
    idx.data_ptr()[j + before] = r;
  }
  return idx;
}

}  // namespace detail

template <class T>
Tensor<T> upsample(const Tensor<T>& x, UpsampleOptions o) {
  INK_CHECK(ShapeError, x.dim() == 4, "upsample: expected a [N,C,H,W] input, got shape ", x.shape());
  INK_CHECK(ValueError, o.size.has_value() != o.scale_factor.has_value(), "upsample: give exactly one of size and scale_factor");
  const index_t h = x.shape()[2], w = x.shape()[3];
  const index_t oh = o.size ? o.size->h : static_cast<index_t>(std::floor(static_cast<double>(h) * *o.scale_factor));
  const index_t ow = o.size ? o.size->w : static_cast<index_t>(std::floor(static_cast<double>(w) * *o.scale_factor));
  INK_CHECK(ValueError, oh > 0 && ow > 0, "upsample: output size must be positive (input ", x.shape(), ")");
  const double sh = detail::source_scale(h, oh, o.scale_factor), sw = detail::source_scale(w, ow, o.scale_factor);
  if (o.mode == UpsampleMode::nearest)
    return index_select(index_select(x, 2, detail::nearest_indices(h, oh, sh)), 3, detail::nearest_indices(w, ow, sw));
  return matmul(matmul(detail::linear_matrix<T>(h, oh, sh), x), detail::linear_matrix<T>(w, ow, sw).t());
}

// Pads the last two dims by reflection: pad = {left, right, top, bottom}, each smaller than
// the size of its dim (as torch.nn.ReflectionPad2d).
template <class T>
Tensor<T> reflection_pad2d(const Tensor<T>& x, std::array<index_t, 4> pad) {
  INK_CHECK(ShapeError, x.dim() >= 2, "reflection_pad2d: expected at least 2 dims, got shape ", x.shape());
  const index_t h = x.size(-2), w = x.size(-1);
  INK_CHECK(ValueError, pad[0] >= 0 && pad[1] >= 0 && pad[2] >= 0 && pad[3] >= 0 && pad[0] < w && pad[1] < w && pad[2] < h &&
                        pad[3] < h,
                    "reflection_pad2d: padding (", pad[0], ",", pad[1], ",", pad[2], ",", pad[3],
                    ") must be non-negative and smaller than the input's dims (shape ", x.shape(), ")");
  const Tensor<T> wide = index_select(x, -1, detail::reflect_indices(w, pad[0], pad[1]));
  return index_select(wide, -2, detail::reflect_indices(h, pad[2], pad[3]));
}

}  // namespace ink

// Tensor<T>'s member functions (x.sum(), x.reshape(...)) are defined there; included last so
// that this header works on its own.
#include "ink/ops/tensor_methods.hpp"
