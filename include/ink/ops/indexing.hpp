// Differentiable indexing by integer tensors: gather / scatter_add (along a dim, per element)
// and index_select / index_add (whole slices). Each pair is the other's gradient, so both stay
// differentiable to any order. Pooling, padding, upsampling and the classification losses
// are built on them. Part of ops/.
#pragma once
#include "ink/autograd/node.hpp"
#include "ink/tensor/creation.hpp"
#include "ink/tensor/map.hpp"

namespace ink {
namespace detail {

// Calls f(x_offset, idx_offset_in_index_tensor_order, other_offset) for every element of
// `index`, where x_offset addresses x at the same position but with index's value along `dim`.
// Bounds are checked; `op` names the caller in errors.
template <class T, class F>
void for_each_indexed(const Tensor<T>& x, index_t dim, const Tensor<std::int64_t>& index, const Shape& other_strides,
                      const char* op, F f) {
  Shape xs = x.strides();
  const index_t xstride = xs[dim], n = x.shape()[dim];
  xs[dim] = 0;
  const std::int64_t* ip = index.data_ptr();
  for_each_row<3>(index.shape(), {xs, index.strides(), other_strides}, {0, 0, 0},
                  [&](index_t len, std::array<index_t, 3> off, std::array<index_t, 3> st) {
                    for (index_t i = 0; i < len; ++i) {
                      const std::int64_t k = ip[off[1] + i * st[1]];
                      INK_CHECK(ValueError, k >= 0 && k < n, op, ": index ", k, " out of range for dim ", dim,
                                        " of size ", n, " (shape ", x.shape(), ")");
                      f(off[0] + i * st[0] + k * xstride, off[2] + i * st[2]);
                    }
                  });
}

inline void check_index_shape(const Shape& x, index_t dim, const Shape& index, const char* op) {
  bool ok = x.size() == index.size();
  for (std::size_t d = 0; ok && d < x.size(); ++d) ok = static_cast<index_t>(d) == dim || index[d] <= x[d];
  INK_CHECK(ShapeError, ok, op, ": index of shape ", index, " does not fit input of shape ", x,
                    " (same number of dims, and no larger than the input except along dim ", dim, ")");
}

}  // namespace detail

namespace detail {

// gather / scatter_add on a checked, wrapped dim; `slices` says whether the caller is
// index_select / index_add, whose 1-D index arrives here viewed as a gather index (stride 0
// along every other dim, slice_index below), which only changes the names in errors and nodes.
// One loop and one backward closure serve each pair: with separate ones, a program using
// conv2d (reflection padding selects slices) and cross_entropy (gather) compiled two more loops
// and closures and the ops they call (~8 KB of object code).
template <class T>
Tensor<T> scatter_add(const Tensor<T>& self, index_t d, const Tensor<std::int64_t>& index, const Tensor<T>& src,
                      bool slices);

template <class T>
Tensor<T> gather(const Tensor<T>& x, index_t d, const Tensor<std::int64_t>& index, bool slices) {
  Tensor<T> out = empty<T>(index.shape());
  const T* xp = x.data_ptr();
  T* op = out.data_ptr();
  for_each_indexed(x, d, index, out.strides(), slices ? "index_select" : "gather",
                   [&](index_t xo, index_t oo) { op[oo] = xp[xo]; });
  autograd::record(slices ? "IndexSelectBackward" : "GatherBackward", {x}, out,
                   [in = x.shape(), d, index, slices](const Tensor<T>& g, const Tensor<T>&) -> std::vector<Tensor<T>> {
                     return {scatter_add(zeros<T>(in), d, index, g, slices)};
                   });
  return out;
}

template <class T>
Tensor<T> scatter_add(const Tensor<T>& self, index_t d, const Tensor<std::int64_t>& index, const Tensor<T>& src,
                      bool slices) {
  Tensor<T> out = contiguous_copy(self);
  T* op = out.data_ptr();
  const T* sp = src.data_ptr();
  for_each_indexed(out, d, index, src.strides(), slices ? "index_add" : "scatter_add",
                   [&](index_t oo, index_t so) { op[oo] += sp[so]; });
  autograd::record(slices ? "IndexAddBackward" : "ScatterAddBackward", {self, src}, out,
                   [d, index, slices](const Tensor<T>& g, const Tensor<T>&) -> std::vector<Tensor<T>> {
                     return {g, gather(g, d, index, slices)};
                   });
  return out;
}

// A 1-D index of slices along d as a gather index of `shape` (shape[d] == index.numel()):
// a view repeating it along every other dim.
inline Tensor<std::int64_t> slice_index(const Tensor<std::int64_t>& index, const Shape& shape, index_t d) {
  Shape strides(shape.size(), 0);
  strides[d] = index.strides()[0];
  return index.as_strided(shape, strides, index.storage_offset());
}

}  // namespace detail

// out[i][j][k] = x[i][index[i][j][k]][k] for dim = 1 (and likewise for any dim).
template <class T>
Tensor<T> gather(const Tensor<T>& x, index_t dim, const Tensor<std::int64_t>& index) {
  const index_t d = wrap_dim(dim, x.dim(), "gather");
  detail::check_index_shape(x.shape(), d, index.shape(), "gather");
  return detail::gather(x, d, index, false);
}

// self with src added at the positions index names along dim (repeated indices add up).
// src has index's shape.
template <class T>
Tensor<T> scatter_add(const Tensor<T>& self, index_t dim, const Tensor<std::int64_t>& index, const Tensor<T>& src) {
  const index_t d = wrap_dim(dim, self.dim(), "scatter_add");
  detail::check_index_shape(self.shape(), d, index.shape(), "scatter_add");
  INK_CHECK(ShapeError, src.shape() == index.shape(), "scatter_add: src of shape ", src.shape(),
                    " must have the shape of index ", index.shape());
  return detail::scatter_add(self, d, index, src, false);
}

// The slices of x at `index` (1-D) along dim, in that order.
template <class T>
Tensor<T> index_select(const Tensor<T>& x, index_t dim, const Tensor<std::int64_t>& index) {
  const index_t d = wrap_dim(dim, x.dim(), "index_select");
  INK_CHECK(ShapeError, index.dim() == 1, "index_select: index must be 1-D, got shape ", index.shape());
  Shape shape = x.shape();
  shape[d] = index.numel();
  return detail::gather(x, d, detail::slice_index(index, shape, d), true);
}

// self with the slices of src added at `index` (1-D) along dim.
template <class T>
Tensor<T> index_add(const Tensor<T>& self, index_t dim, const Tensor<std::int64_t>& index, const Tensor<T>& src) {
  const index_t d = wrap_dim(dim, self.dim(), "index_add");
  INK_CHECK(ShapeError, index.dim() == 1, "index_add: index must be 1-D, got shape ", index.shape());
  Shape expected = self.shape();
  expected[d] = index.numel();
  INK_CHECK(ShapeError, src.shape() == expected, "index_add: src of shape ", src.shape(), " does not match ",
                    expected, " (self ", self.shape(), ", ", index.numel(), " indices)");
  return detail::scatter_add(self, d, detail::slice_index(index, expected, d), src, true);
}

}  // namespace ink

// Tensor<T>'s member functions (x.sum(), x.reshape(...)) are defined there; included last so
// that this header works on its own.
#include "ink/ops/tensor_methods.hpp"
