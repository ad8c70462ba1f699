// linear (x W^T + b), dropout and flatten-style helpers used by layers. Part of ops/.
#pragma once
#include "ink/core/random.hpp"
#include "ink/ops/elementwise.hpp"
#include "ink/ops/matmul.hpp"

namespace ink {

// x [..., in] times weight [out, in] transposed, plus bias [out] if defined.
template <class T>
Tensor<T> linear(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias = Tensor<T>()) {
  INK_CHECK(ShapeError, weight.dim() == 2 && x.dim() >= 1 && x.size(-1) == weight.shape()[1], "linear: input of shape ",
                    to_string(x.shape()), " does not fit weight of shape ", to_string(weight.shape()),
                    " (expected input [..., ", weight.dim() == 2 ? weight.shape()[1] : -1, "])");
  if (bias.defined())
    INK_CHECK(ShapeError, bias.shape() == Shape{weight.shape()[0]}, "linear: bias of shape ", to_string(bias.shape()),
                      " for weight ", to_string(weight.shape()));
  const Tensor<T> y = matmul(x, weight.t());
  return bias.defined() ? y + bias : y;
}

// In training, zeroes each element with probability p and scales the rest by 1/(1-p)
// (inverted dropout, Srivastava et al. 2014); in eval, returns x.
template <class T>
Tensor<T> dropout(const Tensor<T>& x, double p, bool training, Generator& gen = default_generator()) {
  INK_CHECK(ValueError, p >= 0 && p <= 1, "dropout: probability ", p, " is outside [0, 1]");
  if (!training || p == 0) return x;
  if (p == 1) return x * 0.0;
  Tensor<T> mask = empty<T>(x.shape());
  const T keep = static_cast<T>(1.0 / (1.0 - p));
  for (index_t i = 0, n = mask.numel(); i < n; ++i)
    mask.data_ptr()[i] = gen.uniform_double() >= p ? keep : T(0);
  return x * mask;
}

}  // namespace ink

// Tensor<T>'s member functions (x.sum(), x.reshape(...)) are defined there; included last so
// that this header works on its own.
#include "ink/ops/tensor_methods.hpp"
