// Differentiable views and reshaping: reshape/view/flatten, transpose/permute, narrow/slice/
// select, squeeze/unsqueeze, expand, contiguous/clone, and cat/stack. Views share storage with
// their input; writing through one changes the base. Part of ops/.
#pragma once
#include <algorithm>
#include <numeric>
#include <optional>

#include "ink/autograd/node.hpp"
#include "ink/tensor/creation.hpp"
#include "ink/tensor/map.hpp"

namespace ink {
namespace detail {

// Resolves a single -1 in `shape` so that it holds `n` elements.
inline Shape infer_size(Shape shape, index_t n, const char* op) {
  index_t known = 1;
  std::optional<std::size_t> free_dim;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      INK_CHECK(ShapeError, !free_dim, op, ": only one dimension can be -1, got ", shape);
      free_dim = i;
    } else {
      INK_CHECK(ShapeError, shape[i] >= 0, op, ": invalid size ", shape[i], " in ", shape);
      known *= shape[i];
    }
  }
  if (free_dim) {
    INK_CHECK(ShapeError, known != 0 && n % known == 0, op, ": shape ", shape,
                      " is invalid for input of size ", n);
    shape[*free_dim] = n / known;
  }
  INK_CHECK(ShapeError, numel(shape) == n, op, ": shape ", shape, " is invalid for input of size ", n);
  return shape;
}

// Strides that let a tensor of (shape, strides) be seen as `target` without copying, or none
// when its memory layout does not allow it (the algorithm of PyTorch's computeStride: each
// run of dims that is contiguous in memory may be split or merged freely).
inline std::optional<Shape> view_strides(Shape shape, Shape strides, const Shape& target) {
  if (numel(shape) == 0) return contiguous_strides(target);
  if (shape.empty()) {
    shape = {1};
    strides = {1};
  }
  Shape out(target.size(), 0);
  index_t view_d = static_cast<index_t>(target.size()) - 1;
  index_t chunk_base = strides.back(), tensor_numel = 1, view_numel = 1;
  for (index_t d = static_cast<index_t>(shape.size()) - 1; d >= 0; --d) {
    tensor_numel *= shape[d];
    if (d == 0 || (shape[d - 1] != 1 && strides[d - 1] != tensor_numel * chunk_base)) {
      while (view_d >= 0 && (view_numel < tensor_numel || target[view_d] == 1)) {
        out[view_d] = view_numel * chunk_base;
        view_numel *= target[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) {
        chunk_base = strides[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return out;
}

}  // namespace detail

// A view of x with a new shape (one size may be -1). Throws ShapeError when x's strides do not
// allow a view; reshape() copies in that case.
template <class T>
Tensor<T> view(const Tensor<T>& x, const Shape& shape) {
  const Shape target = detail::infer_size(shape, x.numel(), "view");
  auto st = detail::view_strides(x.shape(), x.strides(), target);
  INK_CHECK(ShapeError, st.has_value(), "view: size ", target, " is not compatible with input of shape ",
                    x.shape(), " and strides ", x.strides(),
                    " (at least one dimension spans two contiguous subspaces); use reshape()");
  Tensor<T> out = x.as_strided(target, *st, x.storage_offset());
  autograd::record("ViewBackward", {x}, out, [in = x.shape()](const Tensor<T>& g, const Tensor<T>&) -> std::vector<Tensor<T>> {
    return {g.reshape(in)};
  });
  return out;
}

template <class T>
Tensor<T> clone(const Tensor<T>& x) {
  Tensor<T> out = detail::contiguous_copy(x);
  autograd::record("CloneBackward", {x}, out,
                   [](const Tensor<T>& g, const Tensor<T>&) -> std::vector<Tensor<T>> { return {g}; });
  return out;
}

// x itself when already contiguous, else a contiguous copy.
template <class T>
Tensor<T> contiguous(const Tensor<T>& x) {
  return x.is_contiguous() ? x : clone(x);
}

// A view when x's layout allows it, else a copy with the new shape.
template <class T>
Tensor<T> reshape(const Tensor<T>& x, const Shape& shape) {
  const Shape target = detail::infer_size(shape, x.numel(), "reshape");
  if (detail::view_strides(x.shape(), x.strides(), target)) return view(x, target);
  return view(clone(x), target);
}

template <class T>
Tensor<T> flatten(const Tensor<T>& x, index_t start_dim = 0, index_t end_dim = -1) {
  if (x.dim() == 0) return reshape(x, {1});
  const index_t s = wrap_dim(start_dim, x.dim(), "flatten"), e = wrap_dim(end_dim, x.dim(), "flatten");
  INK_CHECK(ValueError, s <= e, "flatten: start_dim ", start_dim, " comes after end_dim ", end_dim);
  Shape shape(x.shape().begin(), x.shape().begin() + s);
  index_t n = 1;
  for (index_t d = s; d <= e; ++d) n *= x.shape()[d];
  shape.push_back(n);
  shape.insert(shape.end(), x.shape().begin() + e + 1, x.shape().end());
  return reshape(x, shape);
}

template <class T>
Tensor<T> permute(const Tensor<T>& x, const Shape& dims) {
  INK_CHECK(ValueError, static_cast<index_t>(dims.size()) == x.dim(), "permute: got ", dims.size(),
                    " dims for a tensor of shape ", x.shape());
  // inverse[d] = -1 until dim d is placed: a repeat finds it placed.
  Shape shape(dims.size()), strides(dims.size()), inverse(dims.size(), -1);
  for (std::size_t i = 0; i < dims.size(); ++i) {
    const index_t d = wrap_dim(dims[i], x.dim(), "permute");
    INK_CHECK(ValueError, inverse[d] < 0, "permute: dim ", d, " repeated in ", dims);
    shape[i] = x.shape()[d];
    strides[i] = x.strides()[d];
    inverse[d] = static_cast<index_t>(i);
  }
  Tensor<T> out = x.as_strided(shape, strides, x.storage_offset());
  autograd::record("PermuteBackward", {x}, out, [inverse](const Tensor<T>& g, const Tensor<T>&) -> std::vector<Tensor<T>> {
    return {permute(g, inverse)};
  });
  return out;
}

template <class T>
Tensor<T> transpose(const Tensor<T>& x, index_t d0, index_t d1) {
  if (x.dim() == 0) return x;
  Shape dims(x.dim());
  std::iota(dims.begin(), dims.end(), 0);
  std::swap(dims[wrap_dim(d0, x.dim(), "transpose")], dims[wrap_dim(d1, x.dim(), "transpose")]);
  return permute(x, dims);
}

// The elements start, start+step, ... before end along `dim` (Python slice rules: negative
// indices count from the end, out-of-range bounds are clamped). A view.
template <class T>
Tensor<T> slice(const Tensor<T>& x, index_t dim, std::optional<index_t> start, std::optional<index_t> end,
                index_t step = 1);

namespace detail {
// The gradient of a slice: g placed into zeros of the input's shape. Its own gradient is the
// slice again, so slicing stays differentiable to any order.
template <class T>
Tensor<T> slice_backward(const Tensor<T>& g, const Shape& input_shape, index_t dim, index_t start, index_t end,
                         index_t step) {
  Tensor<T> out = zeros<T>(input_shape);
  Shape shape = out.shape(), strides = out.strides();
  shape[dim] = g.shape()[dim];
  strides[dim] *= step;
  update_inplace(out.as_strided(shape, strides, start * out.strides()[dim]), g, [](T, T v) { return v; },
                 "slice_backward");
  autograd::record("SliceBackwardBackward", {g}, out, [dim, start, end, step](const Tensor<T>& gg, const Tensor<T>&) -> std::vector<Tensor<T>> {
    return {slice(gg, dim, start, end, step)};
  });
  return out;
}
}  // namespace detail

template <class T>
Tensor<T> slice(const Tensor<T>& x, index_t dim, std::optional<index_t> start, std::optional<index_t> end,
                index_t step) {
  INK_CHECK(ValueError, x.dim() > 0, "slice: cannot slice a 0-dim tensor");
  INK_CHECK(ValueError, step > 0, "slice: step must be positive, got ", step);
  const index_t d = wrap_dim(dim, x.dim(), "slice");
  const index_t n = x.shape()[d];
  auto clampi = [n](index_t i) { return std::clamp<index_t>(i < 0 ? i + n : i, 0, n); };
  const index_t s = clampi(start.value_or(0)), e = std::max(s, clampi(end.value_or(n)));
  Shape shape = x.shape(), strides = x.strides();
  shape[d] = (e - s + step - 1) / step;
  strides[d] *= step;
  Tensor<T> out = x.as_strided(shape, strides, x.storage_offset() + s * x.strides()[d]);
  autograd::record("SliceBackward", {x}, out, [in = x.shape(), d, s, e, step](const Tensor<T>& g, const Tensor<T>&) -> std::vector<Tensor<T>> {
    return {detail::slice_backward(g, in, d, s, e, step)};
  });
  return out;
}

// `length` elements of `dim` from `start` (which may be negative). A view.
template <class T>
Tensor<T> narrow(const Tensor<T>& x, index_t dim, index_t start, index_t length) {
  INK_CHECK(ValueError, x.dim() > 0, "narrow: cannot narrow a 0-dim tensor");
  const index_t d = wrap_dim(dim, x.dim(), "narrow");
  const index_t n = x.shape()[d];
  INK_CHECK(ValueError, start >= -n && start <= n, "narrow: start ", start, " out of range for dim ", d, " of size ", n,
                    " (shape ", x.shape(), ")");
  if (start < 0) start += n;
  INK_CHECK(ValueError, length >= 0 && start + length <= n, "narrow: start ", start, " + length ", length,
                    " exceeds size ", n, " of dim ", d, " (shape ", x.shape(), ")");
  return slice(x, d, start, start + length, 1);
}

template <class T>
Tensor<T> squeeze(const Tensor<T>& x) {
  Shape shape;
  for (index_t s : x.shape())
    if (s != 1) shape.push_back(s);
  return shape == x.shape() ? x : reshape(x, shape);
}

// Removes `dim` if its size is 1; otherwise returns x unchanged (as PyTorch does).
template <class T>
Tensor<T> squeeze(const Tensor<T>& x, index_t dim) {
  if (x.dim() == 0) return x;
  const index_t d = wrap_dim(dim, x.dim(), "squeeze");
  if (x.shape()[d] != 1) return x;
  Shape shape = x.shape(), strides = x.strides();
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  Tensor<T> out = x.as_strided(shape, strides, x.storage_offset());
  autograd::record("SqueezeBackward", {x}, out, [d](const Tensor<T>& g, const Tensor<T>&) -> std::vector<Tensor<T>> {
    return {unsqueeze(g, d)};
  });
  return out;
}

// Inserts a size-1 dim at `dim` in [-dim()-1, dim()]. A view.
template <class T>
Tensor<T> unsqueeze(const Tensor<T>& x, index_t dim) {
  const index_t d = wrap_dim(dim, x.dim() + 1, "unsqueeze");
  Shape shape = x.shape(), strides = x.strides();
  const index_t st = d < x.dim() ? x.strides()[d] * x.shape()[d] : 1;
  shape.insert(shape.begin() + d, 1);
  strides.insert(strides.begin() + d, st);
  Tensor<T> out = x.as_strided(shape, strides, x.storage_offset());
  autograd::record("UnsqueezeBackward", {x}, out, [d](const Tensor<T>& g, const Tensor<T>&) -> std::vector<Tensor<T>> {
    return {squeeze(g, d)};
  });
  return out;
}

// The entry `index` of `dim`, with that dim removed. A view.
template <class T>
Tensor<T> select(const Tensor<T>& x, index_t dim, index_t index) {
  return squeeze(narrow(x, dim, index, 1), dim);
}

// A view repeating size-1 dims (stride 0) up to `shape`; -1 keeps a size; new dims may be
// added in front. Its gradient sums over what was repeated.
template <class T>
Tensor<T> expand(const Tensor<T>& x, const Shape& shape) {
  INK_CHECK(ShapeError, shape.size() >= x.shape().size(), "expand: cannot expand ", x.shape(), " to ",
                    shape, " (fewer dims)");
  const std::size_t lead = shape.size() - x.shape().size();
  Shape out_shape(shape.size()), strides(shape.size(), 0);
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i < lead) {
      INK_CHECK(ShapeError, shape[i] >= 0, "expand: -1 is not allowed for a new leading dim in ", shape);
      out_shape[i] = shape[i];
      continue;
    }
    const index_t have = x.shape()[i - lead], want = shape[i] == -1 ? have : shape[i];
    INK_CHECK(ShapeError, have == want || have == 1, "expand: the size ", have, " of dim ", i - lead, " of ",
                      x.shape(), " cannot be expanded to ", want, " (target ", shape, ")");
    out_shape[i] = want;
    strides[i] = have == want ? x.strides()[i - lead] : 0;
  }
  if (out_shape == x.shape()) return x;
  Tensor<T> out = x.as_strided(out_shape, strides, x.storage_offset());
  autograd::record("ExpandBackward", {x}, out, [in = x.shape()](const Tensor<T>& g, const Tensor<T>&) -> std::vector<Tensor<T>> {
    return {sum_to(g, in)};
  });
  return out;
}

// Joins tensors along an existing dim; all other sizes must agree.
template <class T>
Tensor<T> cat(const std::vector<Tensor<T>>& xs, index_t dim = 0) {
  INK_CHECK(ValueError, !xs.empty(), "cat: expected a non-empty list of tensors");
  const Tensor<T>& first = xs.front();
  INK_CHECK(ValueError, first.dim() > 0, "cat: zero-dimensional tensors cannot be concatenated");
  const index_t d = wrap_dim(dim, first.dim(), "cat");
  Shape shape = first.shape();
  shape[d] = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const Shape& s = xs[i].shape();
    bool ok = s.size() == first.shape().size();
    for (std::size_t k = 0; ok && k < s.size(); ++k) ok = static_cast<index_t>(k) == d || s[k] == first.shape()[k];
    INK_CHECK(ShapeError, ok, "cat: tensor ", i, " has shape ", s, " but tensor 0 has shape ",
                      first.shape(), "; sizes must match except in dim ", d);
    shape[d] += s[d];
  }
  Tensor<T> out = empty<T>(shape);
  std::vector<index_t> sizes;
  index_t at = 0;
  for (const auto& x : xs) {
    Shape part = shape;
    part[d] = x.shape()[d];
    Tensor<T> region = out.as_strided(part, out.strides(), at * out.strides()[d]);
    detail::update_inplace(region, x, [](T, T v) { return v; }, "cat");
    sizes.push_back(x.shape()[d]);
    at += x.shape()[d];
  }
  autograd::record("CatBackward", xs, out, [d, sizes](const Tensor<T>& g, const Tensor<T>&) -> std::vector<Tensor<T>> {
    std::vector<Tensor<T>> grads;
    index_t start = 0;
    for (index_t n : sizes) {
      grads.push_back(narrow(g, d, start, n));
      start += n;
    }
    return grads;
  });
  return out;
}

// Joins equally shaped tensors along a new dim.
template <class T>
Tensor<T> stack(const std::vector<Tensor<T>>& xs, index_t dim = 0) {
  INK_CHECK(ValueError, !xs.empty(), "stack: expected a non-empty list of tensors");
  const index_t d = wrap_dim(dim, xs.front().dim() + 1, "stack");
  std::vector<Tensor<T>> parts;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    INK_CHECK(ShapeError, xs[i].shape() == xs.front().shape(), "stack: tensor ", i, " has shape ",
                      xs[i].shape(), " but tensor 0 has shape ", xs.front().shape());
    parts.push_back(unsqueeze(xs[i], d));
  }
  return cat(parts, d);
}

}  // namespace ink
