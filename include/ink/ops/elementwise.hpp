// Differentiable elementwise functions with NumPy broadcasting: arithmetic, exp/log/sqrt/pow,
// abs/clamp, tanh/sigmoid/relu, maximum/minimum, where, and (non-differentiable) comparisons.
// Each backward is written with these same functions, so gradients are differentiable too.
// Part of ops/: above autograd/, below nn/.
#pragma once
#include <cmath>
#include <concepts>
#include <limits>
#include <optional>

#include "ink/autograd/node.hpp"
#include "ink/tensor/creation.hpp"
#include "ink/tensor/map.hpp"

namespace ink {

template <class S>
concept Scalar = std::is_arithmetic_v<S>;

namespace detail {
template <class T>
bool wants_grad(const Tensor<T>& t) {
  return t.defined() && t.requires_grad();
}
// Compares at most two broadcast operands into a 0/1 tensor of T (no gradient).
template <class T, class F>
Tensor<T> mask_of(const Tensor<T>& a, const Tensor<T>& b, F f, const char* op) {
  return map_binary<T>(a, b, [f](T x, T y) { return f(x, y) ? T(1) : T(0); }, op);
}
}  // namespace detail

// Sums a broadcast gradient back to `shape`: over the leading dims that broadcasting added and
// over dims where `shape` has size 1. Differentiable.
template <class T>
Tensor<T> sum_to(const Tensor<T>& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  const index_t lead = g.dim() - static_cast<index_t>(shape.size());
  INK_CHECK(ShapeError, lead >= 0, "sum_to: cannot reduce ", g.shape(), " to ", shape);
  Shape dims;
  for (index_t d = 0; d < g.dim(); ++d)
    if (d < lead || (shape[d - lead] == 1 && g.shape()[d] != 1)) dims.push_back(d);
  Tensor<T> s = dims.empty() ? g : g.sum(dims, {.keepdim = true});
  return s.reshape(shape);
}

// ---------------------------------------------------------------- binary, broadcasting
template <class T>
Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> out = detail::map_binary<T>(a, b, [](T x, T y) { return x + y; }, "add");
  autograd::record("AddBackward", {a, b}, out,
                   [sa = a.shape(), sb = b.shape(), ga = detail::wants_grad(a), gb = detail::wants_grad(b)](
                       const Tensor<T>& g, const Tensor<T>&) -> std::vector<Tensor<T>> {
                     return {ga ? sum_to(g, sa) : Tensor<T>(), gb ? sum_to(g, sb) : Tensor<T>()};
                   });
  return out;
}

template <class T>
Tensor<T> sub(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> out = detail::map_binary<T>(a, b, [](T x, T y) { return x - y; }, "sub");
  autograd::record("SubBackward", {a, b}, out,
                   [sa = a.shape(), sb = b.shape(), ga = detail::wants_grad(a), gb = detail::wants_grad(b)](
                       const Tensor<T>& g, const Tensor<T>&) -> std::vector<Tensor<T>> {
                     return {ga ? sum_to(g, sa) : Tensor<T>(), gb ? sum_to(neg(g), sb) : Tensor<T>()};
                   });
  return out;
}

template <class T>
Tensor<T> mul(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> out = detail::map_binary<T>(a, b, [](T x, T y) { return x * y; }, "mul");
  autograd::record("MulBackward", {a, b}, out,
                   [a, b, ga = detail::wants_grad(a), gb = detail::wants_grad(b)](
                       const Tensor<T>& g, const Tensor<T>&) -> std::vector<Tensor<T>> {
                     return {ga ? sum_to(mul(g, b), a.shape()) : Tensor<T>(),
                             gb ? sum_to(mul(g, a), b.shape()) : Tensor<T>()};
                   });
  return out;
}

template <class T>
Tensor<T> div(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> out = detail::map_binary<T>(a, b, [](T x, T y) { return x / y; }, "div");
  autograd::record("DivBackward", {a, b}, out,
                   [a, b, ga = detail::wants_grad(a), gb = detail::wants_grad(b)](
                       const Tensor<T>& g, const Tensor<T>&) -> std::vector<Tensor<T>> {
                     // d(a/b)/db = -a / b^2
                     return {ga ? sum_to(div(g, b), a.shape()) : Tensor<T>(),
                             gb ? sum_to(neg(div(mul(g, a), mul(b, b))), b.shape()) : Tensor<T>()};
                   });
  return out;
}

// Elementwise a^b. d/da = b a^(b-1), taken as 0 where b == 0 (a^0 is constant in a; the
// formula would give 0 * inf = NaN at a == 0); d/db = a^b log(a), taken as 0 where a == 0.
// Both are PyTorch's conventions; the second keeps 0^b differentiable in b for b > 0.
template <class T>
Tensor<T> pow(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> out = detail::map_binary<T>(a, b, [](T x, T y) { return std::pow(x, y); }, "pow");
  autograd::record("PowBackward", {a, b}, out,
                   [a, b, ga = detail::wants_grad(a), gb = detail::wants_grad(b)](
                       const Tensor<T>& g, const Tensor<T>& out) -> std::vector<Tensor<T>> {
                     Tensor<T> da, db;
                     if (ga)
                       da = sum_to(where(eq(b, scalar_tensor(T(0))), scalar_tensor(T(0)),
                                         mul(g, mul(b, pow(a, sub(b, scalar_tensor(T(1))))))),
                                   a.shape());
                     if (gb) {
                       const Tensor<T> zero = eq(a, scalar_tensor(T(0)));
                       const Tensor<T> safe_a = where(zero, scalar_tensor(T(1)), a);
                       db = sum_to(where(zero, scalar_tensor(T(0)), mul(g, mul(out, log(safe_a)))), b.shape());
                     }
                     return {da, db};
                   },
                   /*save_output=*/true);
  return out;
}

// Elementwise maximum / minimum; where a == b the gradient is split evenly, as in PyTorch.
template <class T>
Tensor<T> maximum(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> out = detail::map_binary<T>(a, b, [](T x, T y) { return (x > y || std::isnan(x)) ? x : y; }, "maximum");
  autograd::record("MaximumBackward", {a, b}, out,
                   [a, b, ga = detail::wants_grad(a), gb = detail::wants_grad(b)](
                       const Tensor<T>& g, const Tensor<T>&) -> std::vector<Tensor<T>> {
                     const Tensor<T> wa = detail::map_binary<T>(a, b, [](T x, T y) { return x > y ? T(1) : x == y ? T(0.5) : T(0); }, "maximum");
                     return {ga ? sum_to(mul(g, wa), a.shape()) : Tensor<T>(),
                             gb ? sum_to(mul(g, sub(scalar_tensor(T(1)), wa)), b.shape()) : Tensor<T>()};
                   });
  return out;
}

template <class T>
Tensor<T> minimum(const Tensor<T>& a, const Tensor<T>& b) {
  return neg(maximum(neg(a), neg(b)));
}

// cond ? a : b elementwise, all three broadcast; cond is nonzero for true. Gradients flow to
// the selected side only; cond gets none.
template <class T>
Tensor<T> where(const Tensor<T>& cond, const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> out = detail::map_ternary<T>(cond, a, b, [](T c, T x, T y) { return c != T(0) ? x : y; }, "where");
  autograd::record("WhereBackward", {a, b}, out,
                   [c = cond.detach(), sa = a.shape(), sb = b.shape(), ga = detail::wants_grad(a),
                    gb = detail::wants_grad(b)](const Tensor<T>& g, const Tensor<T>&) -> std::vector<Tensor<T>> {
                     const Tensor<T> zero = scalar_tensor(T(0));
                     return {ga ? sum_to(where(c, g, zero), sa) : Tensor<T>(),
                             gb ? sum_to(where(c, zero, g), sb) : Tensor<T>()};
                   });
  return out;
}

// ---------------------------------------------------------------- comparisons (no gradient)
// Each returns a tensor of T holding 1 where the relation holds and 0 elsewhere.
template <class T> Tensor<T> eq(const Tensor<T>& a, const Tensor<T>& b) { return detail::mask_of(a, b, [](T x, T y) { return x == y; }, "eq"); }
template <class T> Tensor<T> ne(const Tensor<T>& a, const Tensor<T>& b) { return detail::mask_of(a, b, [](T x, T y) { return x != y; }, "ne"); }
template <class T> Tensor<T> lt(const Tensor<T>& a, const Tensor<T>& b) { return detail::mask_of(a, b, [](T x, T y) { return x < y; }, "lt"); }
template <class T> Tensor<T> le(const Tensor<T>& a, const Tensor<T>& b) { return detail::mask_of(a, b, [](T x, T y) { return x <= y; }, "le"); }
template <class T> Tensor<T> gt(const Tensor<T>& a, const Tensor<T>& b) { return detail::mask_of(a, b, [](T x, T y) { return x > y; }, "gt"); }
template <class T> Tensor<T> ge(const Tensor<T>& a, const Tensor<T>& b) { return detail::mask_of(a, b, [](T x, T y) { return x >= y; }, "ge"); }

// ---------------------------------------------------------------- unary
template <class T>
Tensor<T> neg(const Tensor<T>& x) {
  Tensor<T> out = detail::map_unary<T>(x, [](T v) { return -v; });
  autograd::record("NegBackward", {x}, out,
                   [](const Tensor<T>& g, const Tensor<T>&) -> std::vector<Tensor<T>> { return {neg(g)}; });
  return out;
}

template <class T>
Tensor<T> exp(const Tensor<T>& x) {
  Tensor<T> out = detail::map_unary<T>(x, [](T v) { return std::exp(v); });
  autograd::record("ExpBackward", {x}, out,
                   [](const Tensor<T>& g, const Tensor<T>& out) -> std::vector<Tensor<T>> { return {mul(g, out)}; },
                   /*save_output=*/true);
  return out;
}

template <class T>
Tensor<T> log(const Tensor<T>& x) {
  Tensor<T> out = detail::map_unary<T>(x, [](T v) { return std::log(v); });
  autograd::record("LogBackward", {x}, out,
                   [x](const Tensor<T>& g, const Tensor<T>&) -> std::vector<Tensor<T>> { return {div(g, x)}; });
  return out;
}

template <class T>
Tensor<T> sqrt(const Tensor<T>& x) {
  Tensor<T> out = detail::map_unary<T>(x, [](T v) { return std::sqrt(v); });
  autograd::record("SqrtBackward", {x}, out,
                   [](const Tensor<T>& g, const Tensor<T>& out) -> std::vector<Tensor<T>> {
                     return {div(g, mul(out, scalar_tensor(T(2))))};
                   },
                   /*save_output=*/true);
  return out;
}

// -1, 0 or 1 by the sign of each element; its gradient is zero, so it records nothing.
template <class T>
Tensor<T> sign(const Tensor<T>& x) {
  return detail::map_unary<T>(x, [](T v) { return T((v > T(0)) - (v < T(0))); });
}

// |x|; the gradient at 0 is 0 (sign(0)), as in PyTorch.
template <class T>
Tensor<T> abs(const Tensor<T>& x) {
  Tensor<T> out = detail::map_unary<T>(x, [](T v) { return std::abs(v); });
  autograd::record("AbsBackward", {x}, out,
                   [x](const Tensor<T>& g, const Tensor<T>&) -> std::vector<Tensor<T>> { return {mul(g, sign(x))}; });
  return out;
}

// x^e for a scalar exponent.
template <class T, Scalar S>
Tensor<T> pow(const Tensor<T>& x, S exponent) {
  const T e = static_cast<T>(exponent);
  Tensor<T> out = e == T(2) ? detail::map_unary<T>(x, [](T v) { return v * v; })
                            : detail::map_unary<T>(x, [e](T v) { return std::pow(v, e); });
  autograd::record("PowBackward", {x}, out,
                   [x, e](const Tensor<T>& g, const Tensor<T>&) -> std::vector<Tensor<T>> {
                     if (e == T(0)) return {zeros_like(g)};
                     return {mul(g, mul(pow(x, e - T(1)), scalar_tensor(e)))};
                   });
  return out;
}

// Clamps into [lo, hi] (either bound optional). The gradient passes where lo <= x <= hi.
template <class T>
Tensor<T> clamp(const Tensor<T>& x, std::type_identity_t<std::optional<T>> lo,
                std::type_identity_t<std::optional<T>> hi) {
  const T l = lo.value_or(-std::numeric_limits<T>::infinity());
  const T h = hi.value_or(std::numeric_limits<T>::infinity());
  Tensor<T> out = detail::map_unary<T>(x, [l, h](T v) { return std::isnan(v) ? v : std::min(std::max(v, l), h); });
  autograd::record("ClampBackward", {x}, out,
                   [x, l, h](const Tensor<T>& g, const Tensor<T>&) -> std::vector<Tensor<T>> {
                     const Tensor<T> pass = detail::map_unary<T>(x, [l, h](T v) { return v >= l && v <= h ? T(1) : T(0); });
                     return {mul(g, pass)};
                   });
  return out;
}

template <class T>
Tensor<T> tanh(const Tensor<T>& x) {
  Tensor<T> out = detail::map_unary<T>(x, [](T v) { return std::tanh(v); });
  autograd::record("TanhBackward", {x}, out,
                   [](const Tensor<T>& g, const Tensor<T>& y) -> std::vector<Tensor<T>> {
                     return {mul(g, sub(scalar_tensor(T(1)), mul(y, y)))};
                   },
                   /*save_output=*/true);
  return out;
}

template <class T>
Tensor<T> sigmoid(const Tensor<T>& x) {
  // Written so that neither branch overflows: for v < 0, e^v / (1 + e^v).
  Tensor<T> out = detail::map_unary<T>(x, [](T v) {
    if (v >= T(0)) return T(1) / (T(1) + std::exp(-v));
    const T e = std::exp(v);
    return e / (T(1) + e);
  });
  autograd::record("SigmoidBackward", {x}, out,
                   [](const Tensor<T>& g, const Tensor<T>& y) -> std::vector<Tensor<T>> {
                     return {mul(g, mul(y, sub(scalar_tensor(T(1)), y)))};
                   },
                   /*save_output=*/true);
  return out;
}

namespace detail {
// g where x > 0, else 0: relu's gradient in one pass. Linear in g, so its own gradient (with
// respect to g; x only selects) is the same function of the incoming gradient.
template <class T>
Tensor<T> pass_where_positive(const Tensor<T>& g, const Tensor<T>& x) {
  Tensor<T> out = map_binary<T>(g, x, [](T gv, T xv) { return xv > T(0) ? gv : T(0); }, "relu_backward");
  autograd::record("ReluBackwardBackward", {g}, out, [x](const Tensor<T>& gg, const Tensor<T>&) -> std::vector<Tensor<T>> {
    return {pass_where_positive(gg, x)};
  });
  return out;
}
}  // namespace detail

template <class T>
Tensor<T> relu(const Tensor<T>& x) {
  Tensor<T> out = detail::map_unary<T>(x, [](T v) { return v > T(0) ? v : T(0); });
  autograd::record("ReluBackward", {x}, out, [x = x.detach()](const Tensor<T>& g, const Tensor<T>&) -> std::vector<Tensor<T>> {
    return {detail::pass_where_positive(g, x)};
  });
  return out;
}

// ---------------------------------------------------------------- operators
template <class T> Tensor<T> operator+(const Tensor<T>& a, const Tensor<T>& b) { return add(a, b); }
template <class T> Tensor<T> operator-(const Tensor<T>& a, const Tensor<T>& b) { return sub(a, b); }
template <class T> Tensor<T> operator*(const Tensor<T>& a, const Tensor<T>& b) { return mul(a, b); }
template <class T> Tensor<T> operator/(const Tensor<T>& a, const Tensor<T>& b) { return div(a, b); }
template <class T> Tensor<T> operator-(const Tensor<T>& a) { return neg(a); }
template <class T, Scalar S> Tensor<T> operator+(const Tensor<T>& a, S s) { return add(a, scalar_tensor(static_cast<T>(s))); }
template <class T, Scalar S> Tensor<T> operator+(S s, const Tensor<T>& a) { return add(scalar_tensor(static_cast<T>(s)), a); }
template <class T, Scalar S> Tensor<T> operator-(const Tensor<T>& a, S s) { return sub(a, scalar_tensor(static_cast<T>(s))); }
template <class T, Scalar S> Tensor<T> operator-(S s, const Tensor<T>& a) { return sub(scalar_tensor(static_cast<T>(s)), a); }
template <class T, Scalar S> Tensor<T> operator*(const Tensor<T>& a, S s) { return mul(a, scalar_tensor(static_cast<T>(s))); }
template <class T, Scalar S> Tensor<T> operator*(S s, const Tensor<T>& a) { return mul(scalar_tensor(static_cast<T>(s)), a); }
template <class T, Scalar S> Tensor<T> operator/(const Tensor<T>& a, S s) { return div(a, scalar_tensor(static_cast<T>(s))); }
template <class T, Scalar S> Tensor<T> operator/(S s, const Tensor<T>& a) { return div(scalar_tensor(static_cast<T>(s)), a); }
template <class T> Tensor<T> operator<(const Tensor<T>& a, const Tensor<T>& b) { return lt(a, b); }
template <class T> Tensor<T> operator<=(const Tensor<T>& a, const Tensor<T>& b) { return le(a, b); }
template <class T> Tensor<T> operator>(const Tensor<T>& a, const Tensor<T>& b) { return gt(a, b); }
template <class T> Tensor<T> operator>=(const Tensor<T>& a, const Tensor<T>& b) { return ge(a, b); }

}  // namespace ink
