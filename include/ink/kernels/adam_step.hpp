// One Adam / AdamW step over a parameter's elements (Kingma & Ba, 2015, Algorithm 1, in
// torch.optim.Adam's arithmetic), in SSE2 vectors: GCC keeps a plain loop scalar because, with
// errno semantics (the default), every sqrt is guarded by a branch to the library function,
// and a function-level -fno-math-errno does not reach it. SSE2 is part of x86-64, so this
// needs no run-time dispatch; the step is bound by memory (seven streams) well before it is by
// four-wide arithmetic. Part of kernels/: raw pointers.
#pragma once
#include <cmath>
#include <type_traits>

#include "ink/core/config.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ink::kernels {

template <class T>
struct AdamCoefficients {
  T beta1, beta2;
  T weight_decay;  // Adam's L2 decay, added to the gradient (read only when !decoupled)
  T decay;         // AdamW's multiplier of the weight, 1 - lr * weight_decay (read only when decoupled)
  T step_size;     // lr / (1 - beta1^t)
  T bias2_sqrt;    // sqrt(1 - beta2^t)
  T eps;
  bool decoupled;  // AdamW: weights multiplied by `decay` instead of decay in the gradient
};

namespace adam_detail {
// The update of one element, in the order of the vector code below (and of PyTorch's loop):
// for targets without SSE2.
template <class T>
inline void step_one(T& w, T g, T& m, T& v, const AdamCoefficients<T>& k) {
  T d = g, wi = w;
  if (k.decoupled) wi = wi * k.decay;
  else d = d + k.weight_decay * wi;
  m = k.beta1 * m + (T(1) - k.beta1) * d;
  v = k.beta2 * v + (T(1) - k.beta2) * d * d;
  w = wi - k.step_size * m / (std::sqrt(v) / k.bias2_sqrt + k.eps);
}

#if defined(__SSE2__)
// SSE2 operations on 4 floats or 2 doubles under one set of names.
struct Sse2Float {
  using V = __m128;
  static constexpr index_t kWidth = 4;
  static V load(const float* p) { return _mm_loadu_ps(p); }
  static void store(float* p, V x) { _mm_storeu_ps(p, x); }
  static V set1(float x) { return _mm_set1_ps(x); }
  static V add(V a, V b) { return _mm_add_ps(a, b); }
  static V sub(V a, V b) { return _mm_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm_mul_ps(a, b); }
  static V div(V a, V b) { return _mm_div_ps(a, b); }
  static V sqrt(V a) { return _mm_sqrt_ps(a); }
};
struct Sse2Double {
  using V = __m128d;
  static constexpr index_t kWidth = 2;
  static V load(const double* p) { return _mm_loadu_pd(p); }
  static void store(double* p, V x) { _mm_storeu_pd(p, x); }
  static V set1(double x) { return _mm_set1_pd(x); }
  static V add(V a, V b) { return _mm_add_pd(a, b); }
  static V sub(V a, V b) { return _mm_sub_pd(a, b); }
  static V mul(V a, V b) { return _mm_mul_pd(a, b); }
  static V div(V a, V b) { return _mm_div_pd(a, b); }
  static V sqrt(V a) { return _mm_sqrt_pd(a); }
};

// Vectors of the elements of [0, n) from `begin`, a step each.
template <class S, class T>
void step_vectors(T* w, const T* g, T* m, T* v, index_t begin, index_t end, const AdamCoefficients<T>& k) {
  using V = typename S::V;
  const V b1 = S::set1(k.beta1), b2 = S::set1(k.beta2), one_b1 = S::set1(T(1) - k.beta1), one_b2 = S::set1(T(1) - k.beta2);
  const V wd = S::set1(k.weight_decay), decay = S::set1(k.decay), step = S::set1(k.step_size);
  const V bias2_sqrt = S::set1(k.bias2_sqrt), eps = S::set1(k.eps);
  for (index_t i = begin; i + S::kWidth <= end; i += S::kWidth) {
    V d = S::load(g + i), wi = S::load(w + i);
    if (k.decoupled) wi = S::mul(wi, decay);
    else d = S::add(d, S::mul(wd, wi));
    const V mi = S::add(S::mul(b1, S::load(m + i)), S::mul(one_b1, d));
    const V vi = S::add(S::mul(b2, S::load(v + i)), S::mul(S::mul(one_b2, d), d));
    S::store(m + i, mi);
    S::store(v + i, vi);
    S::store(w + i, S::sub(wi, S::div(S::mul(step, mi), S::add(S::div(S::sqrt(vi), bias2_sqrt), eps))));
  }
}

// All of [0, n) in vectors, the last few elements through a zero-padded vector: every element
// then takes the same instructions wherever a thread's range starts or ends (a scalar tail
// could differ in its last bit where the compiler fuses a multiply and an add).
template <class S, class T>
void step_all(T* w, const T* g, T* m, T* v, index_t n, const AdamCoefficients<T>& k) {
  const index_t full = n - n % S::kWidth;
  step_vectors<S>(w, g, m, v, 0, full, k);
  if (full == n) return;
  T tw[S::kWidth] = {}, tg[S::kWidth] = {}, tm[S::kWidth] = {}, tv[S::kWidth] = {};
  for (index_t i = full; i < n; ++i) tw[i - full] = w[i], tg[i - full] = g[i], tm[i - full] = m[i], tv[i - full] = v[i];
  step_vectors<S>(tw, tg, tm, tv, 0, S::kWidth, k);
  for (index_t i = full; i < n; ++i) w[i] = tw[i - full], m[i] = tm[i - full], v[i] = tv[i - full];
}
#endif
}  // namespace adam_detail

// w, m, v updated in place from the gradient g, elements [0, n). Elements are independent, so
// any split of the range between threads gives the same result.
template <class T>
void adam_step(T* w, const T* g, T* m, T* v, index_t n, const AdamCoefficients<T>& k) {
#if defined(__SSE2__)
  if constexpr (std::is_same_v<T, float>) return adam_detail::step_all<adam_detail::Sse2Float>(w, g, m, v, n, k);
  if constexpr (std::is_same_v<T, double>) return adam_detail::step_all<adam_detail::Sse2Double>(w, g, m, v, n, k);
#endif
  for (index_t i = 0; i < n; ++i) adam_detail::step_one(w[i], g[i], m[i], v[i], k);
}

}  // namespace ink::kernels
