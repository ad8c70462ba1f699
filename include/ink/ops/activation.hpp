// Activation functions beyond the elementwise basics (relu, sigmoid, tanh live in
// elementwise.hpp): leaky_relu, elu, softplus, gelu, softmax, log_softmax. Written so that no
// branch overflows: a where() whose unused side overflows would still send NaN gradients.
// Part of ops/.
#pragma once
#include <cmath>
#include <numbers>

#include "ink/ops/elementwise.hpp"
#include "ink/ops/reduce.hpp"

namespace ink {

namespace detail {
// g where x > 0, else g * slope: leaky_relu's gradient in one pass. Linear in g, so its own
// gradient (with respect to g; x only selects) is the same function of the incoming gradient.
template <class T>
Tensor<T> leaky_relu_backward(const Tensor<T>& g, const Tensor<T>& x, T slope) {
  Tensor<T> out = map_binary<T>(g, x, [slope](T gv, T xv) {
    return branchless_select(xv > T(0), gv, gv * slope);
  }, "leaky_relu_backward");
  autograd::record("LeakyReluBackwardBackward", {g}, out, [x, slope](const Tensor<T>& gg, const Tensor<T>&) -> std::vector<Tensor<T>> {
    return {leaky_relu_backward(gg, x, slope)};
  });
  return out;
}
}  // namespace detail

// x for x > 0, x * negative_slope otherwise; one pass forward and one backward (a where() of
// two branches took three passes each way, 16% of a DCGAN training step).
template <class T>
Tensor<T> leaky_relu(const Tensor<T>& x, double negative_slope = 0.01) {
  const T slope = static_cast<T>(negative_slope);
  Tensor<T> out = detail::map_unary<T>(x, [slope](T v) {
    return detail::branchless_select(v > T(0), v, v * slope);  // branch-free: see core/select.hpp
  });
  autograd::record("LeakyReluBackward", {x}, out, [x = x.detach(), slope](const Tensor<T>& g, const Tensor<T>&) -> std::vector<Tensor<T>> {
    return {detail::leaky_relu_backward(g, x, slope)};
  });
  return out;
}

// x for x > 0, alpha (e^x - 1) otherwise. The exponential sees min(x, 0) so it cannot overflow.
template <class T>
Tensor<T> elu(const Tensor<T>& x, double alpha = 1.0) {
  return where(gt(x, scalar_tensor(T(0))), x, (exp(clamp(x, std::nullopt, T(0))) - 1.0) * alpha);
}

// log(1 + e^(beta x)) / beta, and x itself where beta x > threshold (PyTorch's rule). The
// gradient is sigmoid(beta x), itself differentiable.
template <class T>
Tensor<T> softplus(const Tensor<T>& x, double beta = 1.0, double threshold = 20.0) {
  const T b = static_cast<T>(beta), th = static_cast<T>(threshold);
  Tensor<T> out = detail::map_unary<T>(x, [b, th](T v) {
    const T bv = b * v;
    if (bv > th) return v;
    return (std::max(bv, T(0)) + std::log1p(std::exp(-std::abs(bv)))) / b;
  });
  autograd::record("SoftplusBackward", {x}, out, [x, b, th](const Tensor<T>& g, const Tensor<T>&) -> std::vector<Tensor<T>> {
    const Tensor<T> bx = x * b;
    return {where(gt(bx, scalar_tensor(th)), g, g * sigmoid(bx))};
  });
  return out;
}

// The standard normal CDF, 0.5 (1 + erf(x / sqrt 2)); its derivative is the normal density.
template <class T>
Tensor<T> normal_cdf(const Tensor<T>& x) {
  Tensor<T> out = detail::map_unary<T>(x, [](T v) { return T(0.5) * (T(1) + std::erf(v / std::numbers::sqrt2_v<T>)); });
  autograd::record("NormalCdfBackward", {x}, out, [x](const Tensor<T>& g, const Tensor<T>&) -> std::vector<Tensor<T>> {
    const T inv_sqrt_2pi = T(1) / std::sqrt(T(2) * std::numbers::pi_v<T>);
    return {g * exp(x * x * T(-0.5)) * inv_sqrt_2pi};
  });
  return out;
}

// GELU with the exact (erf) form, PyTorch's default: x * Phi(x) (Hendrycks & Gimpel, 2016).
template <class T>
Tensor<T> gelu(const Tensor<T>& x) {
  return x * normal_cdf(x);
}

namespace detail {
// The maximum along dim, kept: softmax and log_softmax subtract it so that exp() stays in
// range. A constant for their gradients, so taken without a node (and without compiling max's
// backward into every program that uses them).
template <class T>
Tensor<T> max_along(const Tensor<T>& x, index_t dim, const char* op) {
  return extremum_values(x, {wrap_dim(dim, x.dim(), op)}, /*keepdim=*/true, /*is_max=*/true, op);
}
}  // namespace detail

template <class T>
Tensor<T> softmax(const Tensor<T>& x, index_t dim) {
  const Tensor<T> e = exp(x - detail::max_along(x, dim, "softmax"));
  return e / e.sum({dim}, {.keepdim = true});
}

template <class T>
Tensor<T> log_softmax(const Tensor<T>& x, index_t dim) {
  const Tensor<T> z = x - detail::max_along(x, dim, "log_softmax");
  return z - log(exp(z).sum({dim}, {.keepdim = true}));
}

}  // namespace ink

// Tensor<T>'s member functions (x.sum(), x.reshape(...)) are defined there; included last so
// that this header works on its own.
#include "ink/ops/tensor_methods.hpp"
