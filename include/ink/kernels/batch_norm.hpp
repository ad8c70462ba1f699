// Batch normalisation in training mode over a contiguous [N, C, S] tensor (S = the product of
// the spatial dims, 1 for [N, C]): per-channel statistics, the normalisation with the affine
// transform, and the backward pass, each a pass or two over the data instead of the eight or so
// elementwise ops and reductions of the composite formula. Part of kernels/: raw pointers.
//
// Channels are independent and each is computed by one thread, in a fixed order, so results do
// not depend on the thread count. Sums are accumulated in double.
#pragma once
#include <algorithm>
#include <cmath>

#include "ink/core/config.hpp"
#include "ink/core/parallel.hpp"

namespace ink::kernels {

namespace batch_norm_detail {
// Channels per thread at least: enough elements that a parallel region pays off.
inline index_t channel_grain(index_t per_channel) {
  constexpr index_t kMinElementsPerThread = index_t{1} << 15;
  return std::max<index_t>(1, kMinElementsPerThread / std::max<index_t>(per_channel, 1));
}

// A sum in double over 8 interleaved partial sums, added in a fixed order at the end: with one
// accumulator every add waits for the previous one (4 cycles), and the statistics and the
// backward sums were 13% of a classifier training step. The grouping depends only on the
// element's position in the row, so the result is the same for any thread count.
struct LaneSum {
  static constexpr index_t kLanes = 8;
  double lane[kLanes] = {};

  // Adds f(k) for k in [0, count).
  template <class F>
  void add(index_t count, F f) {
    double acc[kLanes];
    for (index_t j = 0; j < kLanes; ++j) acc[j] = lane[j];
    index_t k = 0;
    for (; k + kLanes <= count; k += kLanes)
      for (index_t j = 0; j < kLanes; ++j) acc[j] += f(k + j);
    for (index_t j = 0; k + j < count; ++j) acc[j] += f(k + j);
    for (index_t j = 0; j < kLanes; ++j) lane[j] = acc[j];
  }

  double total() const {
    return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
  }
};
}  // namespace batch_norm_detail

// mean[c] and biased var[c] of x's channel c, in double: two passes (the variance from squared
// deviations, which keeps its accuracy when the mean is large against the spread).
template <class T>
void batch_norm_statistics(const T* x, index_t n, index_t c, index_t s, double* mean, double* var) {
  const double count = static_cast<double>(n * s);
  parallel_for(0, c, batch_norm_detail::channel_grain(n * s), [&](index_t c0, index_t c1) {
    for (index_t ch = c0; ch < c1; ++ch) {
      batch_norm_detail::LaneSum sum;
      for (index_t i = 0; i < n; ++i) {
        const T* p = x + (i * c + ch) * s;
        sum.add(s, [p](index_t k) { return static_cast<double>(p[k]); });
      }
      const double m = sum.total() / count;
      batch_norm_detail::LaneSum squares;
      for (index_t i = 0; i < n; ++i) {
        const T* p = x + (i * c + ch) * s;
        squares.add(s, [p, m](index_t k) {
          const double d = p[k] - m;
          return d * d;
        });
      }
      mean[ch] = m;
      var[ch] = squares.total() / count;
    }
  });
}

// y = (x - mean[c]) * invstd[c] * weight[c] + bias[c]; weight and bias may be null (1 and 0).
template <class T>
void batch_norm_forward(const T* x, index_t n, index_t c, index_t s, const T* mean, const T* invstd, const T* weight,
                        const T* bias, T* y) {
  parallel_for(0, c, batch_norm_detail::channel_grain(n * s), [&](index_t c0, index_t c1) {
    for (index_t ch = c0; ch < c1; ++ch) {
      const T m = mean[ch], scale = invstd[ch] * (weight ? weight[ch] : T(1)), shift = bias ? bias[ch] : T(0);
      for (index_t i = 0; i < n; ++i) {
        const T* p = x + (i * c + ch) * s;
        T* q = y + (i * c + ch) * s;
#pragma omp simd
        for (index_t k = 0; k < s; ++k) q[k] = (p[k] - m) * scale + shift;
      }
    }
  });
}

// The gradients of batch_norm_forward (with the batch statistics, as in training) given g, the
// gradient of y: with xhat = (x - mean) * invstd and M = n * s,
//   dbias = sum(g), dweight = sum(g * xhat),
//   dx = weight * invstd * (g - dbias / M - xhat * dweight / M).
// dx, dweight, dbias may each be null when not wanted; weight may be null (1).
template <class T>
void batch_norm_backward(const T* g, const T* x, index_t n, index_t c, index_t s, const T* mean, const T* invstd,
                         const T* weight, T* dx, T* dweight, T* dbias) {
  const double count = static_cast<double>(n * s);
  parallel_for(0, c, batch_norm_detail::channel_grain(n * s), [&](index_t c0, index_t c1) {
    for (index_t ch = c0; ch < c1; ++ch) {
      const T m = mean[ch], is = invstd[ch];
      batch_norm_detail::LaneSum sum_g, sum_gx;
      for (index_t i = 0; i < n; ++i) {
        const T* gp = g + (i * c + ch) * s;
        const T* xp = x + (i * c + ch) * s;
        sum_g.add(s, [gp](index_t k) { return static_cast<double>(gp[k]); });
        sum_gx.add(s, [gp, xp, m, is](index_t k) { return static_cast<double>(gp[k]) * static_cast<double>((xp[k] - m) * is); });
      }
      const double total_g = sum_g.total(), total_gx = sum_gx.total();
      if (dbias) dbias[ch] = static_cast<T>(total_g);
      if (dweight) dweight[ch] = static_cast<T>(total_gx);
      if (!dx) continue;
      const T k1 = is * (weight ? weight[ch] : T(1));
      const T mean_g = static_cast<T>(total_g / count), mean_gx = static_cast<T>(total_gx / count);
      for (index_t i = 0; i < n; ++i) {
        const T* gp = g + (i * c + ch) * s;
        const T* xp = x + (i * c + ch) * s;
        T* dp = dx + (i * c + ch) * s;
#pragma omp simd
        for (index_t k = 0; k < s; ++k) dp[k] = k1 * (gp[k] - mean_g - (xp[k] - m) * is * mean_gx);
      }
    }
  });
}

}  // namespace ink::kernels
