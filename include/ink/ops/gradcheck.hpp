// gradcheck / gradgradcheck: compare autograd's Jacobian with central finite differences in
// double precision, as torch.autograd.gradcheck does. The tests run them on every
// differentiable op. It sits in ops/ rather than autograd/ because gradgradcheck is built from
// differentiable ops (reshape, cat).
#pragma once
#include <cmath>
#include <functional>
#include <sstream>
#include <vector>

#include "ink/autograd/engine.hpp"
#include "ink/ops/tensor_methods.hpp"
#include "ink/tensor/creation.hpp"

namespace ink::autograd {

struct GradcheckOptions {
  double eps = 1e-6;   // finite-difference step
  double atol = 1e-5;  // |analytic - numeric| <= atol + rtol * |numeric|
  double rtol = 1e-3;
};

using DoubleFunction = std::function<Tensor<double>(const std::vector<Tensor<double>>&)>;

// The functions below are templates (with an unused parameter) only so that their bodies are
// compiled where they are called: as inline functions they made every program that includes
// ink instantiate the double-precision ops and autograd graph they use (12% of the compiler's
// memory for the compile-time program, which never calls them).

namespace detail {

// Element offsets of t in row-major order of its shape.
template <class = void>
std::vector<index_t> element_offsets(const Tensor<double>& t) {
  std::vector<index_t> offs;
  offs.reserve(static_cast<std::size_t>(t.numel()));
  ink::detail::for_each_row<1>(t.shape(), {t.strides()}, {0}, [&](index_t n, std::array<index_t, 1> off, std::array<index_t, 1> st) {
    for (index_t i = 0; i < n; ++i) offs.push_back(off[0] + i * st[0]);
  });
  return offs;
}

}  // namespace detail

// Checks the gradient of f at `inputs` with respect to every input that requires grad.
// Returns normally when every Jacobian entry agrees; otherwise throws AutogradError naming the
// input, the entry and both values.
template <class = void>
void gradcheck(const DoubleFunction& f, const std::vector<Tensor<double>>& inputs, GradcheckOptions o = {}) {
  std::vector<Tensor<double>> wrt;
  std::vector<std::size_t> wrt_index;
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].requires_grad()) {
      wrt.push_back(inputs[i]);
      wrt_index.push_back(i);
    }
  INK_CHECK(ValueError, !wrt.empty(), "gradcheck: no input requires grad");

  const Tensor<double> out = f(inputs);
  const index_t n_out = out.numel();
  // analytic[k][j * n_in + e]: d out_j / d input_k[e]
  std::vector<std::vector<double>> analytic(wrt.size());
  for (std::size_t k = 0; k < wrt.size(); ++k) analytic[k].assign(static_cast<std::size_t>(n_out * wrt[k].numel()), 0.0);
  if (out.requires_grad()) {
    for (index_t j = 0; j < n_out; ++j) {
      Tensor<double> seed = zeros<double>(out.shape());
      seed.data_ptr()[j] = 1.0;
      const auto grads = grad<double>({out}, wrt, {seed}, false, true, true);
      for (std::size_t k = 0; k < wrt.size(); ++k) {
        if (!grads[k].defined()) continue;
        const auto v = grads[k].to_vector();
        std::copy(v.begin(), v.end(), analytic[k].begin() + j * wrt[k].numel());
      }
    }
  }

  for (std::size_t k = 0; k < wrt.size(); ++k) {
    double* p = wrt[k].data_ptr();
    const auto offs = detail::element_offsets(wrt[k]);
    for (std::size_t e = 0; e < offs.size(); ++e) {
      const double saved = p[offs[e]];
      p[offs[e]] = saved + o.eps;
      const auto plus = f(inputs).detach().contiguous().to_vector();
      p[offs[e]] = saved - o.eps;
      const auto minus = f(inputs).detach().contiguous().to_vector();
      p[offs[e]] = saved;
      for (index_t j = 0; j < n_out; ++j) {
        const double numeric = (plus[j] - minus[j]) / (2 * o.eps);
        const double a = analytic[k][static_cast<std::size_t>(j * wrt[k].numel()) + e];
        if (!(std::abs(a - numeric) <= o.atol + o.rtol * std::abs(numeric))) {
          std::ostringstream msg;
          msg << "gradcheck: Jacobian mismatch for input " << wrt_index[k] << " (shape " << to_string(wrt[k].shape())
              << "), output element " << j << ", input element " << e << ": analytic " << a << " vs numeric "
              << numeric;
          throw AutogradError(msg.str());
        }
      }
    }
  }
}

// Checks second derivatives: gradcheck of x -> grad(f(x), x, v, create_graph) for a fixed
// random v, i.e. that the backward pass is itself correctly differentiable.
template <class = void>
void gradgradcheck(const DoubleFunction& f, const std::vector<Tensor<double>>& inputs, GradcheckOptions o = {},
                          std::uint64_t seed = 1) {
  Generator gen(seed);
  Tensor<double> v;
  const DoubleFunction first_derivative = [&](const std::vector<Tensor<double>>& xs) {
    std::vector<Tensor<double>> wrt;
    for (const auto& x : xs)
      if (x.requires_grad()) wrt.push_back(x);
    const Tensor<double> out = f(xs);
    if (!v.defined()) v = randn<double>(out.shape(), gen);
    std::vector<Tensor<double>> parts;
    const auto grads = grad<double>({out}, wrt, {v}, true, true, true);
    for (std::size_t k = 0; k < grads.size(); ++k)
      parts.push_back(grads[k].defined() ? grads[k].reshape({-1}) : zeros<double>({wrt[k].numel()}));
    return cat(parts, 0);
  };
  gradcheck(first_derivative, inputs, o);
}

}  // namespace ink::autograd
