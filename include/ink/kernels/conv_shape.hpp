// The shape of a grouped 2-D convolution over an NCHW batch, and how its kernels share work
// between threads: units fixed by the shape, run on the threads or in turn, and the weight
// gradient summed in a fixed number of chunks. Shared by the im2col + GEMM kernels (conv.hpp)
// and the Winograd kernels (winograd.hpp). Part of kernels/: raw pointers, no Tensor.
#pragma once
#include <algorithm>

#include "ink/core/config.hpp"
#include "ink/core/parallel.hpp"
#include "ink/kernels/im2col.hpp"

namespace ink::kernels {

// A grouped convolution of `batch` images: `window` slides over one input image (its channels
// are all Cin input channels); weights are [out_channels, Cin/groups, kh, kw].
struct Conv2dShape {
  index_t batch;
  Window2d window;
  index_t out_channels;
  index_t groups = 1;

  index_t in_per_group() const { return window.channels / groups; }
  index_t out_per_group() const { return out_channels / groups; }
  // Rows of one group's patch matrix: the K of its GEMM.
  index_t patch_per_group() const { return in_per_group() * window.kernel_h * window.kernel_w; }
  index_t positions() const { return window.out_h() * window.out_w(); }
  index_t input_size() const { return window.channels * window.height * window.width; }
  index_t output_size() const { return out_channels * positions(); }
  index_t weight_size() const { return out_channels * patch_per_group(); }
  // The patch matrix of a 1x1, stride-1, unpadded convolution is the image itself.
  bool pointwise() const {
    const Window2d& g = window;
    return g.kernel_h == 1 && g.kernel_w == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 0 && g.pad_w == 0;
  }
};

namespace conv_detail {

inline index_t ceil_div(index_t a, index_t b) { return (a + b - 1) / b; }

// Whether for_each_unit splits `units` between the threads: when every thread gets a fair share
// (at least as many units as threads, and either a multiple of the thread count or at least
// four per thread).
inline bool units_split(index_t units) {
  const index_t threads = get_num_threads();
  return threads > 1 && units >= threads && (units % threads == 0 || units >= 4 * threads);
}

// Whether the units alone use every thread for_each_unit may use: one thread, or already
// inside a parallel region, or units_split. Then a unit's GEMMs gain nothing from splitting,
// and kernels that cannot split (gemm_in_place.hpp) lose nothing.
inline bool units_fill_threads(index_t units) {
  return get_num_threads() == 1 || omp_in_parallel() || units_split(units);
}

// Runs one(u) for u in [0, units): split between the threads when units_split, else in turn
// on the calling thread, whose GEMMs then split instead. Which thread runs a unit never
// changes a result: a unit's arithmetic is fixed by the shape.
template <class F>
void for_each_unit(index_t units, F&& one) {
  if (units_split(units)) {
    parallel_for(0, units, 1, [&](index_t b, index_t e) {
      for (index_t u = b; u < e; ++u) one(u);
    });
  } else {
    for (index_t u = 0; u < units; ++u) one(u);
  }
}

// The number of partial sums the weight gradient is formed in, fixed by the shape alone: up to
// 8 (units of work summed in order within each), fewer when the partial sums of a large weight
// would take more than kPartialElements values (the 512 x 512 x 3 x 3 weight holds 2.4 M), at
// least 2 when there are 2 units, so two threads always have a chunk each.
constexpr index_t kWeightGradChunks = 8;
constexpr index_t kPartialElements = index_t{8} * 1024 * 1024;
inline index_t weight_grad_chunks(index_t units, index_t weight_size) {
  const index_t by_memory = std::max<index_t>(2, kPartialElements / std::max<index_t>(weight_size, 1));
  return std::min({units, kWeightGradChunks, by_memory});
}

// sums[e] += the other chunks' partial sums of e, in chunk order, for the `size` values of each
// of `chunks` partial sums (size apart), split between the threads by ranges of e (the same
// bits as one thread: each value's sum runs over the chunks in order). On one thread, Winograd's
// pass over 2.4 MB per chunk on d (128 x 128 channels) was 5% of its weight gradient, the other
// thread waiting.
template <class T>
void add_partial_sums(T* sums, index_t chunks, index_t size) {
  if (chunks < 2) return;
  parallel_for(0, conv_detail::ceil_div(size, 1024), 64, [&](index_t b, index_t e) {
    T* __restrict to = sums + b * 1024;
    const index_t n = std::min(size, e * 1024) - b * 1024;
    for (index_t c = 1; c < chunks; ++c) {
      const T* __restrict from = sums + c * size + b * 1024;
      for (index_t i = 0; i < n; ++i) to[i] += from[i];
    }
  });
}

}  // namespace conv_detail

}  // namespace ink::kernels
