// Differentiable reductions over any set of dims, with keepdim: sum, mean, max, min, var;
// and argmax. Sums accumulate in double and run in row-major order, so results do not depend
// on the thread count. Part of ops/.
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "ink/autograd/node.hpp"
#include "ink/tensor/creation.hpp"
#include "ink/tensor/map.hpp"

namespace ink {
namespace detail {

// Sorted, de-duplicated, wrapped dims; an empty list means every dim (as PyTorch's sum(dim=[])).
inline Shape reduction_dims(const Shape& dims, index_t ndim, const char* op) {
  Shape out;
  if (dims.empty()) {
    for (index_t d = 0; d < ndim; ++d) out.push_back(d);
    return out;
  }
  // Sorted by insertion: a handful of dims, and std::sort's introsort would be ~1 KB more code
  // in every program.
  for (index_t d : dims) {
    const index_t w = wrap_dim(d, ndim, op);
    auto at = out.end();
    while (at != out.begin() && *(at - 1) > w) --at;
    INK_CHECK(ValueError, at == out.begin() || *(at - 1) != w, op, ": dim repeated in ", dims);
    out.insert(at, w);
  }
  return out;
}

inline Shape keepdim_shape(const Shape& shape, const Shape& dims) {
  Shape out = shape;
  for (index_t d : dims) out[d] = 1;
  return out;
}

inline Shape squeezed_shape(const Shape& shape, const Shape& dims) {
  Shape out;
  for (index_t d = 0; d < static_cast<index_t>(shape.size()); ++d)
    if (!std::binary_search(dims.begin(), dims.end(), d)) out.push_back(shape[d]);
  return out;
}

// Folds x over `dims` into an accumulator per output element: acc = step(acc, value, index
// along the reduced dims in row-major order). Returns the accumulators in keepdim layout.
template <class Acc, class T, class Step>
std::vector<Acc> fold(const Tensor<T>& x, const Shape& dims, Acc init, Step step) {
  const Shape kshape = keepdim_shape(x.shape(), dims);
  std::vector<Acc> acc(static_cast<std::size_t>(numel(kshape)), init);
  Shape acc_strides = contiguous_strides(kshape);
  for (index_t d : dims) acc_strides[d] = 0;
  // A running counter of the position inside the reduced sub-space, for argmax.
  Shape red_strides(x.shape().size(), 0);
  index_t r = 1;
  for (auto it = dims.rbegin(); it != dims.rend(); ++it) {
    red_strides[*it] = r;
    r *= x.shape()[*it];
  }
  const T* p = x.data_ptr();
  for_each_row<3>(x.shape(), {acc_strides, x.strides(), red_strides}, {0, 0, 0},
                  [&](index_t n, std::array<index_t, 3> off, std::array<index_t, 3> st) {
                    for (index_t i = 0; i < n; ++i) {
                      Acc& a = acc[static_cast<std::size_t>(off[0] + i * st[0])];
                      a = step(a, p[off[1] + i * st[1]], off[2] + i * st[2]);
                    }
                  });
  return acc;
}

// Sum of n contiguous values with eight partial sums combined in a fixed order: vectorisable,
// and the same result on every run and thread count.
template <class Acc, class T>
Acc sum_contiguous(const T* p, index_t n) {
  Acc part[8] = {};
  index_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) part[k] += static_cast<Acc>(p[i + k]);
  Acc s = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
  for (; i < n; ++i) s += static_cast<Acc>(p[i]);
  return s;
}

// Sums x over dims into accumulators in keepdim layout. The two shapes a row can take after
// merging dims get their own loops: a row reduced into one accumulator (a dot with ones), or
// a row added elementwise into a row of accumulators.
template <class Acc, class T>
std::vector<Acc> sum_fold(const Tensor<T>& x, const Shape& dims) {
  const Shape kshape = keepdim_shape(x.shape(), dims);
  std::vector<Acc> acc(static_cast<std::size_t>(numel(kshape)), Acc(0));
  Shape acc_strides = contiguous_strides(kshape);
  for (index_t d : dims) acc_strides[d] = 0;
  const T* base = x.data_ptr();
  for_each_row<2>(x.shape(), {acc_strides, x.strides()}, {0, 0},
                  [&](index_t n, std::array<index_t, 2> off, std::array<index_t, 2> st) {
                    Acc* a = acc.data() + off[0];
                    const T* p = base + off[1];
                    if (st[0] == 0 && st[1] == 1) {
                      *a += sum_contiguous<Acc>(p, n);
                    } else if (st[0] == 1 && st[1] == 1) {
                      for (index_t i = 0; i < n; ++i) a[i] += static_cast<Acc>(p[i]);
                    } else {
                      for (index_t i = 0; i < n; ++i) a[i * st[0]] += static_cast<Acc>(p[i * st[1]]);
                    }
                  });
  return acc;
}

template <class T, class Acc>
Tensor<T> from_accumulators(const std::vector<Acc>& acc, const Shape& shape) {
  Tensor<T> out = empty<T>(shape);
  T* o = out.data_ptr();
  for (std::size_t i = 0; i < acc.size(); ++i) o[i] = static_cast<T>(acc[i]);
  return out;
}

// Reshapes a reduced gradient back to keepdim layout and broadcasts it over the input.
template <class T>
Tensor<T> expand_reduced(const Tensor<T>& g, const Shape& input_shape, const Shape& dims) {
  return g.reshape(keepdim_shape(input_shape, dims)).expand(input_shape);
}

// The maximum or minimum over sorted, wrapped dims (NaN if any value is), without a node: what
// extremum() records, and what softmax subtracts (activation.hpp).
template <class T>
Tensor<T> extremum_values(const Tensor<T>& x, const Shape& dims, bool keepdim, bool is_max, const char* op) {
  for (index_t d : dims)
    INK_CHECK(ValueError, x.shape()[d] > 0, op, ": cannot reduce over dim ", d, " of size 0 (shape ",
                      x.shape(), ")");
  INK_CHECK(ValueError, x.numel() > 0, op, ": cannot reduce an empty tensor");
  const T init = is_max ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
  auto acc = fold<T>(x, dims, init, [is_max](T a, T v, index_t) {
    if (std::isnan(a) || std::isnan(v)) return std::numeric_limits<T>::quiet_NaN();
    return is_max ? std::max(a, v) : std::min(a, v);
  });
  return from_accumulators<T>(acc, keepdim ? keepdim_shape(x.shape(), dims) : squeezed_shape(x.shape(), dims));
}

template <class T>
Tensor<T> extremum(const Tensor<T>& x, const Shape& dims_in, ReduceOptions o, bool is_max, const char* op) {
  const Shape dims = reduction_dims(dims_in, x.dim(), op);
  Tensor<T> out = extremum_values(x, dims, o.keepdim, is_max, op);
  // The gradient goes to the elements equal to the extremum, split evenly among ties.
  autograd::record(is_max ? "MaxBackward" : "MinBackward", {x}, out,
                   [x = x.detach(), dims, kshape = keepdim_shape(x.shape(), dims)](
                       const Tensor<T>& g, const Tensor<T>& out) -> std::vector<Tensor<T>> {
                     const Tensor<T> hit = eq(x, out.detach().reshape(kshape));
                     const Tensor<T> count = hit.sum(dims, {.keepdim = true});
                     return {mul(expand_reduced(g, x.shape(), dims), div(hit, count))};
                   },
                   /*save_output=*/true);
  return out;
}

}  // namespace detail

template <class T>
Tensor<T> sum(const Tensor<T>& x, const Shape& dims, ReduceOptions o = {}) {
  const Shape rd = detail::reduction_dims(dims, x.dim(), "sum");
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;
  auto acc = detail::sum_fold<Acc>(x, rd);
  Tensor<T> out = detail::from_accumulators<T>(acc, o.keepdim ? detail::keepdim_shape(x.shape(), rd)
                                                              : detail::squeezed_shape(x.shape(), rd));
  if constexpr (std::is_floating_point_v<T>)
    autograd::record("SumBackward", {x}, out, [in = x.shape(), rd](const Tensor<T>& g, const Tensor<T>&) -> std::vector<Tensor<T>> {
      return {detail::expand_reduced(g, in, rd)};
    });
  return out;
}

template <class T>
Tensor<T> sum(const Tensor<T>& x) {
  return sum(x, Shape{});
}

template <class T>
Tensor<T> mean(const Tensor<T>& x, const Shape& dims, ReduceOptions o = {}) {
  const Shape rd = detail::reduction_dims(dims, x.dim(), "mean");
  index_t n = 1;
  for (index_t d : rd) n *= x.shape()[d];
  return div(sum(x, rd, o), scalar_tensor(static_cast<T>(n)));
}

template <class T>
Tensor<T> mean(const Tensor<T>& x) {
  return mean(x, Shape{});
}

// Variance over dims, with Bessel's correction (divide by n - 1) when unbiased.
template <class T>
Tensor<T> var(const Tensor<T>& x, const Shape& dims, bool unbiased = true, ReduceOptions o = {}) {
  const Shape rd = detail::reduction_dims(dims, x.dim(), "var");
  index_t n = 1;
  for (index_t d : rd) n *= x.shape()[d];
  const Tensor<T> centred = sub(x, mean(x, rd, {.keepdim = true}));
  const T denom = static_cast<T>(unbiased ? n - 1 : n);
  return div(sum(mul(centred, centred), rd, o), scalar_tensor(denom));
}

// Unbiased variance of all elements (for the biased one: var(x, {}, false)).
template <class T>
Tensor<T> var(const Tensor<T>& x) {
  return var(x, Shape{}, true);
}

template <class T>
Tensor<T> max(const Tensor<T>& x, const Shape& dims, ReduceOptions o = {}) {
  return detail::extremum(x, dims, o, true, "max");
}
template <class T>
Tensor<T> max(const Tensor<T>& x) {
  return detail::extremum(x, Shape{}, {}, true, "max");
}
template <class T>
Tensor<T> min(const Tensor<T>& x, const Shape& dims, ReduceOptions o = {}) {
  return detail::extremum(x, dims, o, false, "min");
}
template <class T>
Tensor<T> min(const Tensor<T>& x) {
  return detail::extremum(x, Shape{}, {}, false, "min");
}

// Index of the (first) largest element along `dim`, or in the flattened tensor without a dim.
template <class T>
Tensor<std::int64_t> argmax(const Tensor<T>& x, std::optional<index_t> dim = std::nullopt, ReduceOptions o = {}) {
  INK_CHECK(ValueError, x.numel() > 0, "argmax: cannot take the argmax of an empty tensor");
  const Tensor<T> src = dim ? x : x.reshape({-1});
  const Shape rd = {wrap_dim(dim.value_or(0), src.dim(), "argmax")};
  struct Best {
    T value;
    index_t index;
  };
  auto acc = detail::fold<Best>(src, rd, Best{-std::numeric_limits<T>::infinity(), -1}, [](Best b, T v, index_t i) {
    if (b.index < 0 || v > b.value || (std::isnan(v) && !std::isnan(b.value))) return Best{v, i};
    return b;
  });
  Shape shape = dim ? (o.keepdim ? detail::keepdim_shape(src.shape(), rd) : detail::squeezed_shape(src.shape(), rd))
                    : (o.keepdim ? Shape(x.dim(), 1) : Shape{});
  Tensor<std::int64_t> out = empty<std::int64_t>(shape);
  for (std::size_t i = 0; i < acc.size(); ++i) out.data_ptr()[i] = acc[i].index;
  return out;
}

}  // namespace ink
