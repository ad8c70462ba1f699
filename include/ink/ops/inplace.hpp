// In-place updates (fill_, copy_, add_, mul_). They are not recorded by autograd, so they
// refuse tensors that require grad while grad mode is on: optimisers and initialisers run them
// under NoGradGuard. Part of ops/.
#pragma once
#include "ink/autograd/grad_mode.hpp"
#include "ink/tensor/creation.hpp"
#include "ink/tensor/map.hpp"

namespace ink::detail {
template <class T>
void check_inplace_allowed(const Tensor<T>& t, const char* op) {
  INK_CHECK(AutogradError, !(GradMode::is_enabled() && t.requires_grad()), op,
                       ": in-place operation on a tensor that requires grad; run it under "
                       "ink::NoGradGuard (or on a detach()ed tensor)");
}
}  // namespace ink::detail

namespace ink {

template <class T>
Tensor<T>& Tensor<T>::fill_(T value) {
  detail::check_inplace_allowed(*this, "fill_");
  detail::update_inplace(*this, scalar_tensor(value), [](T, T v) { return v; }, "fill_");
  return *this;
}

template <class T>
Tensor<T>& Tensor<T>::copy_(const Tensor& src) {
  detail::check_inplace_allowed(*this, "copy_");
  // A copy through a temporary when the two overlap in memory keeps copy_ correct for
  // overlapping views (e.g. x.copy_(x.flip())).
  const Tensor<T> from = src.storage() == storage() ? detail::contiguous_copy(src) : src;
  detail::update_inplace(*this, from, [](T, T v) { return v; }, "copy_");
  return *this;
}

template <class T>
Tensor<T>& Tensor<T>::add_(const Tensor& other, T alpha) {
  detail::check_inplace_allowed(*this, "add_");
  const Tensor<T> from = other.storage() == storage() ? detail::contiguous_copy(other) : other;
  detail::update_inplace(*this, from, [alpha](T a, T b) { return a + alpha * b; }, "add_");
  return *this;
}

template <class T>
Tensor<T>& Tensor<T>::mul_(T factor) {
  detail::check_inplace_allowed(*this, "mul_");
  detail::update_inplace(*this, scalar_tensor(factor), [](T a, T f) { return a * f; }, "mul_");
  return *this;
}

}  // namespace ink

// Tensor<T>'s member functions (x.sum(), x.reshape(...)) are defined there; included last so
// that this header works on its own.
#include "ink/ops/tensor_methods.hpp"
