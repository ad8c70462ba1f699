// im2col and col2im, each in both versions (row copies and gathers, include/ink/kernels/im2col.hpp),
// and col2im's shuffle version for 4-wide stride-2 windows (AVX-512; skipped elsewhere), on the
// windows of the example models: one image per call, as the convolution kernels call them.
// Reports the time per patch-matrix element ("time/elem", in seconds with SI prefix) and bytes
// moved per second (the patch matrix written or read once, the image read or written once).
// The versions' choice (im2col_prefers_gather / col2im_prefers_gather) was read off this
// program's output.
//   build/bench/bench/bench_im2col [--benchmark_filter=gather]
// Arguments of each case: channels, height = width, kernel, stride, padding.
#include <benchmark/benchmark.h>

#include <vector>

#include <ink/kernels/im2col.hpp>

namespace {
using ink::index_t;
using ink::kernels::Window2d;

enum class Kernel { Im2colRows, Im2colGather, Col2imRows, Col2imGather, Col2imPairs };

template <Kernel K>
void BM_window(benchmark::State& state) {
  Window2d g{state.range(0), state.range(1), state.range(1), state.range(2), state.range(2)};
  g.stride_h = g.stride_w = state.range(3);
  g.pad_h = g.pad_w = state.range(4);
  std::vector<float> x(static_cast<std::size_t>(g.channels * g.height * g.width), 1.0f);
  std::vector<float> cols(static_cast<std::size_t>(g.patch_size() * g.out_h() * g.out_w()), 1.0f);
  if (K == Kernel::Col2imPairs && !ink::kernels::im2col_detail::col2im_pairs_applies(g)) {
    state.SkipWithError("col2im_pairs: 4-wide stride-2 windows on AVX-512 only");
    return;
  }
  for (auto _ : state) {
    if constexpr (K == Kernel::Im2colRows) ink::kernels::im2col_rows(x.data(), g, cols.data());
    if constexpr (K == Kernel::Im2colGather) ink::kernels::im2col_gather(x.data(), g, cols.data());
    if constexpr (K == Kernel::Col2imRows) ink::kernels::col2im_rows(cols.data(), g, x.data());
    if constexpr (K == Kernel::Col2imGather) ink::kernels::col2im_gather(cols.data(), g, x.data());
    if constexpr (K == Kernel::Col2imPairs)
      ink::kernels::im2col_detail::col2im_pairs_avx512(cols.data(), g, x.data(), g.out_h() * g.out_w(), 0, g.out_h(), false);
    benchmark::DoNotOptimize(cols.data());
    benchmark::DoNotOptimize(x.data());
    benchmark::ClobberMemory();
  }
  const double elements = static_cast<double>(state.iterations()) * static_cast<double>(cols.size());
  state.counters["time/elem"] = benchmark::Counter(elements, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>((cols.size() + x.size()) * sizeof(float)));
}

// DCGAN discriminator conv2 / generator convT1 (64 ch, 14x14, 4x4 s2), the first and last
// DCGAN layers (1 ch, 28x28), the classifier's 3x3 convolutions at 28, 14 and 7, and a wider
// 7x7 4x4 s2 case.
void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"C", "HW", "k", "s", "p"});
  b->Args({64, 14, 4, 2, 1})->Args({1, 28, 4, 2, 1})->Args({128, 7, 4, 2, 1});
  b->Args({32, 28, 3, 1, 1})->Args({32, 14, 3, 1, 1})->Args({64, 7, 3, 1, 1});
}
}  // namespace

BENCHMARK(BM_window<Kernel::Im2colRows>)->Name("im2col/rows")->Apply(shapes);
BENCHMARK(BM_window<Kernel::Im2colGather>)->Name("im2col/gather")->Apply(shapes);
BENCHMARK(BM_window<Kernel::Col2imRows>)->Name("col2im/rows")->Apply(shapes);
BENCHMARK(BM_window<Kernel::Col2imGather>)->Name("col2im/gather")->Apply(shapes);
BENCHMARK(BM_window<Kernel::Col2imPairs>)->Name("col2im/pairs")->Apply(shapes);

BENCHMARK_MAIN();
