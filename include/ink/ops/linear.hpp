// linear (x W^T + b), dropout and flatten-style helpers used by layers. Part of ops/.
#pragma once
#include "ink/core/random.hpp"
#include "ink/ops/elementwise.hpp"
#include "ink/ops/matmul.hpp"

namespace ink {

namespace detail {
// How a GEMM reads the 2-D matrix m (its transpose when `transposed`): in place when its
// strides allow (gemm_operand), else from a contiguous copy, which `keep` holds either way.
template <class T>
GemmOperand gemm_input(const Tensor<T>& m, bool transposed, Tensor<T>& keep) {
  auto operand = [transposed](const Tensor<T>& t) {
    return transposed ? gemm_operand(t.size(1), t.size(0), t.stride(1), t.stride(0))
                      : gemm_operand(t.size(0), t.size(1), t.stride(0), t.stride(1));
  };
  keep = m;
  GemmOperand op = operand(m);
  if (!op.ok) {
    keep = contiguous_copy(m);
    op = operand(keep);
  }
  return op;
}
}  // namespace detail

// x [..., in] times weight [out, in] transposed, plus bias [out] if defined.
// Its own op rather than matmul(x, weight.t()) + bias: one GEMM that reads W transposed in
// place, the bias added into the product, and a backward made of linear itself (so gradients
// of any order), which keeps matmul's batched and 1-D cases out of programs that only have
// dense layers (-3.4 KB of a small CNN's code). The bits are those of the matmul-and-add form.
template <class T>
Tensor<T> linear(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias = Tensor<T>()) {
  INK_CHECK(ShapeError, weight.dim() == 2 && x.dim() >= 1 && x.size(-1) == weight.shape()[1], "linear: input of shape ",
                    x.shape(), " does not fit weight of shape ", weight.shape(),
                    " (expected input [..., ", weight.dim() == 2 ? weight.shape()[1] : -1, "])");
  if (bias.defined())
    INK_CHECK(ShapeError, bias.shape() == Shape{weight.shape()[0]}, "linear: bias of shape ", bias.shape(),
                      " for weight ", weight.shape());
  const index_t in = weight.shape()[1], out_features = weight.shape()[0];
  Shape out_shape = x.shape();
  out_shape.back() = out_features;
  const index_t rows = numel(Shape(x.shape().begin(), x.shape().end() - 1));
  Tensor<T> y = in > 0 ? empty<T>(out_shape) : zeros<T>(out_shape);
  if (in > 0 && rows > 0 && out_features > 0) {
    Tensor<T> xm, wm;
    const detail::GemmOperand ox = detail::gemm_input(x.detach().reshape({rows, in}), false, xm);
    const detail::GemmOperand ow = detail::gemm_input(weight.detach(), true, wm);  // B = W^T
    kernels::gemm<T>(ox.trans, ow.trans, rows, out_features, in, T(1), xm.data_ptr(), ox.ld, wm.data_ptr(), ow.ld,
                     T(0), y.data_ptr(), out_features);
  }
  if (bias.defined()) {
    const Tensor<T> bc = contiguous(bias.detach());
    T* yp = y.data_ptr();
    const T* bp = bc.data_ptr();
    for (index_t r = 0; r < rows; ++r, yp += out_features)
      for (index_t o = 0; o < out_features; ++o) yp[o] += bp[o];
  }
  autograd::record("LinearBackward", {x, weight, bias}, y,
                   [x, weight, rows, in, out_features, gx = detail::wants_grad(x), gw = detail::wants_grad(weight),
                    gb = detail::wants_grad(bias)](const Tensor<T>& g, const Tensor<T>&) -> std::vector<Tensor<T>> {
                     const Tensor<T> g2 = g.reshape({rows, out_features});
                     // dx = g W = linear(g, W^T); dW = g^T x = linear(g^T, x^T); db = column sums of g.
                     return {gx ? linear(g2, weight.t()).reshape(x.shape()) : Tensor<T>(),
                             gw ? linear(g2.t(), x.reshape({rows, in}).t()) : Tensor<T>(),
                             gb ? g2.sum({0}) : Tensor<T>()};
                   });
  return y;
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
