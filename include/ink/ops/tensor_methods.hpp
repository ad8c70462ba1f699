// The differentiable member functions declared in Tensor<T>, defined as calls to the free
// functions of ops/ (x.sum() is ink::sum(x)). The other ops headers include this one last, so
// each works on its own; the four it is built on (elementwise, matmul, reduce, views) are
// used through it or <ink/ops.hpp>. Part of ops/.
#pragma once
#include "ink/ops/elementwise.hpp"
#include "ink/ops/matmul.hpp"
#include "ink/ops/reduce.hpp"
#include "ink/ops/views.hpp"

namespace ink {

template <class T> Tensor<T> Tensor<T>::reshape(const Shape& s) const { return ink::reshape(*this, s); }
template <class T> Tensor<T> Tensor<T>::view(const Shape& s) const { return ink::view(*this, s); }
template <class T> Tensor<T> Tensor<T>::flatten(index_t s, index_t e) const { return ink::flatten(*this, s, e); }
template <class T> Tensor<T> Tensor<T>::transpose(index_t a, index_t b) const { return ink::transpose(*this, a, b); }
template <class T> Tensor<T> Tensor<T>::t() const {
  INK_CHECK(ShapeError, dim() <= 2, "t: expects a tensor with at most 2 dims, got shape ", shape());
  return dim() < 2 ? *this : ink::transpose(*this, 0, 1);
}
template <class T> Tensor<T> Tensor<T>::permute(const Shape& d) const { return ink::permute(*this, d); }
template <class T> Tensor<T> Tensor<T>::narrow(index_t d, index_t s, index_t n) const { return ink::narrow(*this, d, s, n); }
template <class T> Tensor<T> Tensor<T>::slice(index_t d, std::optional<index_t> s, std::optional<index_t> e, index_t st) const {
  return ink::slice(*this, d, s, e, st);
}
template <class T> Tensor<T> Tensor<T>::select(index_t d, index_t i) const { return ink::select(*this, d, i); }
template <class T> Tensor<T> Tensor<T>::squeeze() const { return ink::squeeze(*this); }
template <class T> Tensor<T> Tensor<T>::squeeze(index_t d) const { return ink::squeeze(*this, d); }
template <class T> Tensor<T> Tensor<T>::unsqueeze(index_t d) const { return ink::unsqueeze(*this, d); }
template <class T> Tensor<T> Tensor<T>::expand(const Shape& s) const { return ink::expand(*this, s); }
template <class T> Tensor<T> Tensor<T>::expand_as(const Tensor& o) const { return ink::expand(*this, o.shape()); }
template <class T> Tensor<T> Tensor<T>::contiguous() const { return ink::contiguous(*this); }
template <class T> Tensor<T> Tensor<T>::clone() const { return ink::clone(*this); }

template <class T> Tensor<T> Tensor<T>::sum() const { return ink::sum(*this); }
template <class T> Tensor<T> Tensor<T>::sum(const Shape& d, ReduceOptions o) const { return ink::sum(*this, d, o); }
template <class T> Tensor<T> Tensor<T>::mean() const { return ink::mean(*this); }
template <class T> Tensor<T> Tensor<T>::mean(const Shape& d, ReduceOptions o) const { return ink::mean(*this, d, o); }
template <class T> Tensor<T> Tensor<T>::max() const { return ink::max(*this); }
template <class T> Tensor<T> Tensor<T>::max(const Shape& d, ReduceOptions o) const { return ink::max(*this, d, o); }
template <class T> Tensor<T> Tensor<T>::min() const { return ink::min(*this); }
template <class T> Tensor<T> Tensor<T>::min(const Shape& d, ReduceOptions o) const { return ink::min(*this, d, o); }
template <class T> Tensor<T> Tensor<T>::var() const { return ink::var(*this); }
template <class T> Tensor<T> Tensor<T>::var(const Shape& d, bool u, ReduceOptions o) const { return ink::var(*this, d, u, o); }
template <class T> Tensor<std::int64_t> Tensor<T>::argmax(std::optional<index_t> d, ReduceOptions o) const {
  return ink::argmax(*this, d, o);
}

template <class T> Tensor<T> Tensor<T>::neg() const { return ink::neg(*this); }
template <class T> Tensor<T> Tensor<T>::exp() const { return ink::exp(*this); }
template <class T> Tensor<T> Tensor<T>::log() const { return ink::log(*this); }
template <class T> Tensor<T> Tensor<T>::sqrt() const { return ink::sqrt(*this); }
template <class T> Tensor<T> Tensor<T>::abs() const { return ink::abs(*this); }
template <class T> Tensor<T> Tensor<T>::pow(T e) const { return ink::pow(*this, e); }
template <class T> Tensor<T> Tensor<T>::pow(const Tensor& e) const { return ink::pow(*this, e); }
template <class T> Tensor<T> Tensor<T>::clamp(std::optional<T> lo, std::optional<T> hi) const { return ink::clamp(*this, lo, hi); }
template <class T> Tensor<T> Tensor<T>::tanh() const { return ink::tanh(*this); }
template <class T> Tensor<T> Tensor<T>::sigmoid() const { return ink::sigmoid(*this); }
template <class T> Tensor<T> Tensor<T>::relu() const { return ink::relu(*this); }
template <class T> Tensor<T> Tensor<T>::matmul(const Tensor& o) const { return ink::matmul(*this, o); }

}  // namespace ink
