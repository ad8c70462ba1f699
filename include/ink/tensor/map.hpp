// Raw elementwise building blocks on tensors: map one, two or three broadcast operands into a
// new contiguous tensor, and strided copies. No autograd here; ops/ wraps these in
// differentiable functions. Part of tensor/.
#pragma once
#include <array>

#include "ink/core/parallel.hpp"
#include "ink/core/select.hpp"
#include "ink/kernels/stream_store.hpp"
#include "ink/tensor/iterate.hpp"
#include "ink/tensor/tensor.hpp"

namespace ink::detail {

// Every loop over elements carries `#pragma omp simd`: the functors read captured scalars that
// the compiler cannot prove are not aliased by the output, and without the pragma GCC left
// them scalar. Elements are independent, so the results are unchanged.

// Elements per thread below which an elementwise loop stays on one thread.
inline constexpr index_t kElementwiseGrain = 1 << 15;

// The contiguous loops, out of line: parallel_for runs small or one-thread work inline, and in
// that inlined copy GCC 12 if-converted less than in the chunk callback's copy (leaky_relu's
// select vectorised in the callback and not inline). One out-of-line loop serves both, and
// each functor's loop is compiled once instead of twice. Functors that select use
// branchless_select (core/select.hpp). kernels::fill_output runs them over the output, in place
// or, for outputs larger than the caches, a piece at a time into a buffer it streams out: the
// loops are written once, for both.
template <class R, class T, class F>
[[gnu::noinline]] void unary_loop(R* o, const T* p, index_t n, F f) {
  #pragma omp simd
  for (index_t i = 0; i < n; ++i) o[i] = f(p[i]);
}

template <class R, class T, class U, class F>
[[gnu::noinline]] void binary_loop(R* o, const T* a, const U* b, index_t n, F f) {
  #pragma omp simd
  for (index_t i = 0; i < n; ++i) o[i] = f(a[i], b[i]);
}

// out[i] = f(x[i]) into a new contiguous tensor of x's shape.
template <class R, class T, class F>
Tensor<R> map_unary(const Tensor<T>& x, F f) {
  Tensor<R> out = Tensor<R>::empty(x.shape());
  R* o = out.data_ptr();
  const T* p = x.data_ptr();
  if (x.is_contiguous()) {
    struct Args {
      const T* p;
      F f;
    } args{p, f};
    kernels::fill_output(o, sizeof(R), x.numel(), kElementwiseGrain, {{{p, sizeof(T)}, {}}}, &args,
                         [](void* ctx, void* dst, index_t b, index_t e) {
                           const Args& in = *static_cast<const Args*>(ctx);
                           unary_loop(static_cast<R*>(dst), in.p + b, e - b, in.f);
                         });
    return out;
  }
  for_each_row<2>(x.shape(), {out.strides(), x.strides()}, {0, 0},
                  [&](index_t n, std::array<index_t, 2> off, std::array<index_t, 2> st) {
                    R* op = o + off[0];
                    const T* xp = p + off[1];
                    #pragma omp simd
                    for (index_t i = 0; i < n; ++i) op[i] = f(xp[i * st[1]]);
                  });
  return out;
}

// The functor-independent part of map_binary: the broadcast output and, unless both operands
// are dense with the output's shape, the strides of output, a and b over it. Out of line and
// shared by every functor with the same element types (each functor's map_binary is then its
// loops alone: this setup, with its exception cleanups, was half of each copy).
template <class R>
struct BinaryPlan {
  Tensor<R> out;
  bool flat = false;
  std::array<Shape, 3> strides;
};

template <class R, class T, class U>
[[gnu::noinline]] BinaryPlan<R> plan_binary(const Tensor<T>& a, const Tensor<U>& b, const char* op) {
  BinaryPlan<R> p;
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), op);
  p.out = Tensor<R>::empty(shape);
  p.flat = a.shape() == b.shape() && a.is_contiguous() && b.is_contiguous();
  if (!p.flat)
    p.strides = {p.out.strides(), broadcast_strides(a.shape(), a.strides(), shape),
                 broadcast_strides(b.shape(), b.strides(), shape)};
  return p;
}

// out = f(a, b) with NumPy broadcasting, into a new contiguous tensor. `op` names the
// caller in shape errors.
template <class R, class T, class U, class F>
Tensor<R> map_binary(const Tensor<T>& a, const Tensor<U>& b, F f, const char* op) {
  BinaryPlan<R> p = plan_binary<R>(a, b, op);
  R* o = p.out.data_ptr();
  const T* pa = a.data_ptr();
  const U* pb = b.data_ptr();
  if (p.flat) {
    struct Args {
      const T* a;
      const U* b;
      F f;
    } args{pa, pb, f};
    kernels::fill_output(o, sizeof(R), p.out.numel(), kElementwiseGrain, {{{pa, sizeof(T)}, {pb, sizeof(U)}}}, &args,
                         [](void* ctx, void* dst, index_t s, index_t e) {
                           const Args& in = *static_cast<const Args*>(ctx);
                           binary_loop(static_cast<R*>(dst), in.a + s, in.b + s, e - s, in.f);
                         });
    return std::move(p.out);
  }
  for_each_row<3>(p.out.shape(), p.strides, {0, 0, 0},
                  [&](index_t n, std::array<index_t, 3> off, std::array<index_t, 3> st) {
                    R* op = o + off[0];
                    const T* ap = pa + off[1];
                    const U* bp = pb + off[2];
                    // The common broadcast rows (a row against a scalar, either way round) get
                    // loops with constant strides, which the compiler vectorises.
                    if (st[1] == 1 && st[2] == 0) {
                      const U b = *bp;
                      #pragma omp simd
                      for (index_t i = 0; i < n; ++i) op[i] = f(ap[i], b);
                    } else if (st[1] == 0 && st[2] == 1) {
                      const T a = *ap;
                      #pragma omp simd
                      for (index_t i = 0; i < n; ++i) op[i] = f(a, bp[i]);
                    } else if (st[1] == 1 && st[2] == 1) {
                      #pragma omp simd
                      for (index_t i = 0; i < n; ++i) op[i] = f(ap[i], bp[i]);
                    } else {
                      #pragma omp simd
                      for (index_t i = 0; i < n; ++i) op[i] = f(ap[i * st[1]], bp[i * st[2]]);
                    }
                  });
  return std::move(p.out);
}

// out = f(a, b, c) with broadcasting of all three (used by where and clamp-like selections).
template <class R, class A, class B, class C, class F>
Tensor<R> map_ternary(const Tensor<A>& a, const Tensor<B>& b, const Tensor<C>& c, F f, const char* op) {
  const Shape shape = broadcast_shapes(broadcast_shapes(a.shape(), b.shape(), op), c.shape(), op);
  Tensor<R> out = Tensor<R>::empty(shape);
  R* o = out.data_ptr();
  const A* pa = a.data_ptr();
  const B* pb = b.data_ptr();
  const C* pc = c.data_ptr();
  const Shape sa = broadcast_strides(a.shape(), a.strides(), shape);
  const Shape sb = broadcast_strides(b.shape(), b.strides(), shape);
  const Shape sc = broadcast_strides(c.shape(), c.strides(), shape);
  for_each_row<4>(shape, {out.strides(), sa, sb, sc}, {0, 0, 0, 0},
                  [&](index_t n, std::array<index_t, 4> off, std::array<index_t, 4> st) {
                    #pragma omp simd
                    for (index_t i = 0; i < n; ++i)
                      o[off[0] + i * st[0]] = f(pa[off[1] + i * st[1]], pb[off[2] + i * st[2]],
                                                pc[off[3] + i * st[3]]);
                  });
  return out;
}

// The functor-independent part of update_inplace: checks that src broadcasts to dst's shape
// and returns the strides of dst and of src over it. Out of line, as plan_binary.
template <class T, class U>
[[gnu::noinline]] std::array<Shape, 2> plan_update(const Tensor<T>& dst, const Tensor<U>& src, const char* op) {
  const Shape shape = broadcast_shapes(dst.shape(), src.shape(), op);
  INK_CHECK(ShapeError, shape == dst.shape(), op, ": source of shape ", src.shape(),
                    " does not broadcast to the destination's shape ", dst.shape());
  return {dst.strides(), broadcast_strides(src.shape(), src.strides(), shape)};
}

// dst[i] = f(dst[i], src[i]) in place, src broadcast to dst's shape.
template <class T, class U, class F>
void update_inplace(const Tensor<T>& dst, const Tensor<U>& src, F f, const char* op) {
  const std::array<Shape, 2> strides = plan_update(dst, src, op);
  T* pd = dst.data_ptr();
  const U* ps = src.data_ptr();
  for_each_row<2>(dst.shape(), strides, {0, 0},
                  [&](index_t n, std::array<index_t, 2> off, std::array<index_t, 2> st) {
                    T* d = pd + off[0];
                    const U* s = ps + off[1];
                    if (st[0] == 0) {  // a destination that repeats one element: in order
                      for (index_t i = 0; i < n; ++i) d[0] = f(d[0], s[i * st[1]]);
                      return;
                    }
                    #pragma omp simd
                    for (index_t i = 0; i < n; ++i) d[i * st[0]] = f(d[i * st[0]], s[i * st[1]]);
                  });
}

// A contiguous copy of x (always a new storage).
template <class T>
Tensor<T> contiguous_copy(const Tensor<T>& x) {
  return map_unary<T>(x, [](T v) { return v; });
}

}  // namespace ink::detail

namespace ink {

template <class T>
std::vector<T> Tensor<T>::to_vector() const {
  const Tensor<T> c = is_contiguous() ? *this : detail::contiguous_copy(*this);
  return std::vector<T>(c.data_ptr(), c.data_ptr() + c.numel());
}

template <class T>
template <class U>
Tensor<U> Tensor<T>::to() const {
  return detail::map_unary<U>(*this, [](T v) { return static_cast<U>(v); });
}

}  // namespace ink
