// Creating tensors: filled (empty, zeros, ones, full), ranges (arange, linspace), random
// (rand, randn, randint, from a seeded Generator) and from C++ data. Part of tensor/.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "ink/core/random.hpp"
#include "ink/tensor/tensor.hpp"

namespace ink {

template <class T = float>
Tensor<T> empty(const Shape& shape) {
  return Tensor<T>::empty(shape);
}

template <class T = float>
Tensor<T> full(const Shape& shape, T value) {
  Tensor<T> t = Tensor<T>::empty(shape);
  T* p = t.data_ptr();
  for (index_t i = 0, n = t.numel(); i < n; ++i) p[i] = value;
  return t;
}

template <class T = float>
Tensor<T> zeros(const Shape& shape) {
  return full<T>(shape, T(0));
}

template <class T = float>
Tensor<T> ones(const Shape& shape) {
  return full<T>(shape, T(1));
}

// The scalar (0-dim) tensor holding `value`.
template <class T>
Tensor<T> scalar_tensor(T value) {
  return full<T>({}, value);
}

// A tensor of the given shape holding `values` in row-major order (copied).
template <class T>
Tensor<T> from_vector(const std::vector<T>& values, const Shape& shape) {
  check_sizes(shape, "from_vector");
  INK_CHECK(ShapeError, static_cast<index_t>(values.size()) == numel(shape), "from_vector: ",
                    values.size(), " values cannot fill shape ", shape, " (",
                    numel(shape), " elements)");
  Tensor<T> t = Tensor<T>::empty(shape);
  std::copy(values.begin(), values.end(), t.data_ptr());
  return t;
}

// A 1-D tensor from a list: ink::tensor<float>({1, 2, 3}).
template <class T = float>
Tensor<T> tensor(std::initializer_list<T> values) {
  return from_vector<T>(std::vector<T>(values), {static_cast<index_t>(values.size())});
}

// start, start+step, ... up to but excluding end (PyTorch's arange).
template <class T = float>
Tensor<T> arange(T start, T end, T step = T(1)) {
  INK_CHECK(ValueError, step != T(0), "arange: step must be nonzero");
  INK_CHECK(ValueError, (end - start) / step >= 0 || end == start, "arange: the sign of step (", step,
                    ") cannot reach end ", end, " from start ", start);
  const index_t n = static_cast<index_t>(std::ceil(static_cast<double>(end - start) / static_cast<double>(step)));
  Tensor<T> t = Tensor<T>::empty({std::max<index_t>(n, 0)});
  T* p = t.data_ptr();
  for (index_t i = 0; i < n; ++i) p[i] = static_cast<T>(start + static_cast<T>(i) * step);
  return t;
}

template <class T = float>
Tensor<T> arange(T end) {
  return arange<T>(T(0), end, T(1));
}

// `steps` evenly spaced values from start to end inclusive.
template <class T = float>
Tensor<T> linspace(T start, T end, index_t steps) {
  INK_CHECK(ValueError, steps >= 0, "linspace: steps must be non-negative, got ", steps);
  Tensor<T> t = Tensor<T>::empty({steps});
  T* p = t.data_ptr();
  const double step = steps > 1 ? (static_cast<double>(end) - start) / static_cast<double>(steps - 1) : 0.0;
  // Fill from both ends, as PyTorch does, so that the last value is exactly `end`.
  const index_t half = steps / 2;
  for (index_t i = 0; i < steps; ++i)
    p[i] = i < half ? static_cast<T>(start + step * static_cast<double>(i))
                    : static_cast<T>(end - step * static_cast<double>(steps - 1 - i));
  return t;
}

// Uniform in [0, 1), drawn in row-major order from `gen`.
template <class T = float>
Tensor<T> rand(const Shape& shape, Generator& gen = default_generator()) {
  static_assert(std::is_floating_point_v<T>, "rand: T must be float or double");
  Tensor<T> t = Tensor<T>::empty(shape);
  T* p = t.data_ptr();
  for (index_t i = 0, n = t.numel(); i < n; ++i)
    p[i] = std::is_same_v<T, float> ? static_cast<T>(gen.uniform_float()) : static_cast<T>(gen.uniform_double());
  return t;
}

// Standard normal, drawn in row-major order from `gen`.
template <class T = float>
Tensor<T> randn(const Shape& shape, Generator& gen = default_generator()) {
  static_assert(std::is_floating_point_v<T>, "randn: T must be float or double");
  Tensor<T> t = Tensor<T>::empty(shape);
  T* p = t.data_ptr();
  for (index_t i = 0, n = t.numel(); i < n; ++i) p[i] = static_cast<T>(gen.normal());
  return t;
}

// Integers uniform in [low, high).
template <class T = std::int64_t>
Tensor<T> randint(index_t low, index_t high, const Shape& shape, Generator& gen = default_generator()) {
  INK_CHECK(ValueError, high > low, "randint: need low < high, got [", low, ", ", high, ")");
  Tensor<T> t = Tensor<T>::empty(shape);
  T* p = t.data_ptr();
  for (index_t i = 0, n = t.numel(); i < n; ++i)
    p[i] = static_cast<T>(low + static_cast<index_t>(gen.uniform_int(static_cast<std::uint64_t>(high - low))));
  return t;
}

template <class T>
Tensor<T> empty_like(const Tensor<T>& x) { return empty<T>(x.shape()); }
template <class T>
Tensor<T> zeros_like(const Tensor<T>& x) { return zeros<T>(x.shape()); }
template <class T>
Tensor<T> ones_like(const Tensor<T>& x) { return ones<T>(x.shape()); }
template <class T>
Tensor<T> full_like(const Tensor<T>& x, T value) { return full<T>(x.shape(), value); }
template <class T>
Tensor<T> rand_like(const Tensor<T>& x, Generator& gen = default_generator()) { return rand<T>(x.shape(), gen); }
template <class T>
Tensor<T> randn_like(const Tensor<T>& x, Generator& gen = default_generator()) { return randn<T>(x.shape(), gen); }

}  // namespace ink
