// Memory-bound ops on tensors larger than the caches (64 MiB per float operand; the L3 is
// 32 MiB), in bytes per second, next to a plain memcpy of the same size, the machine's copy
// bandwidth in the same run: elementwise add (two reads, one write), relu (one read, one write)
// and 2x2 max pooling (the read, the pooled values and their int64 indices). Each at 1 and 2
// threads. Bytes counted are those the op must move at least; allocation comes from ink's
// caching allocator, so after the first iteration no page is touched for the first time.
// MEMORY_BOUND_MIB=N sets the operand size (default 64): on a machine whose L3 is larger than
// 64 MiB (the Intel VM of 2026-11-29 reports 260 MiB) the default measures the L3, not memory.
//   build/bench/bench/bench_memory_bound        MEMORY_BOUND_MIB=1024 build/bench/bench/bench_memory_bound
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include <ink/ink.hpp>

namespace {
// Floats per operand: 64 MiB unless MEMORY_BOUND_MIB says otherwise (a multiple of 16 MiB
// keeps max_pool2d's 16 x 64 x H x 128 input whole).
ink::index_t operand_elements() {
  const char* mib = std::getenv("MEMORY_BOUND_MIB");
  const long n = mib ? std::atol(mib) : 64;
  return ink::index_t{n > 0 ? n : 64} * 1024 * 1024 / static_cast<ink::index_t>(sizeof(float));
}
const ink::index_t kElements = operand_elements();

// warm_up_note: each op runs once before its timed loop, so that the caching allocator holds
// its outputs' blocks. Without it the first timed iteration faults in every page of the outputs
// (0.75 GiB for max_pool2d at MEMORY_BOUND_MIB=1024: 3.2 s on this VM instead of 0.13 s), and
// when that alone passes the minimum time, Google Benchmark (1.7, no warm-up option) reports it
// as the only iteration: 0.56 GB/s instead of 13.

void BM_memcpy(benchmark::State& state) {
  ink::set_num_threads(static_cast<int>(state.range(0)));
  std::vector<float> src(kElements, 1.0f), dst(kElements);
  const std::size_t bytes = kElements * sizeof(float);
  const int threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    // One memcpy per thread on its half: the copy bandwidth the cores can reach together.
    ink::parallel_for(0, threads, 1, [&](ink::index_t b, ink::index_t e) {
      for (ink::index_t t = b; t < e; ++t) {
        const std::size_t lo = bytes * static_cast<std::size_t>(t) / static_cast<std::size_t>(threads);
        const std::size_t hi = bytes * static_cast<std::size_t>(t + 1) / static_cast<std::size_t>(threads);
        std::memcpy(reinterpret_cast<char*>(dst.data()) + lo, reinterpret_cast<const char*>(src.data()) + lo, hi - lo);
      }
    });
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(2 * bytes));
}

void BM_add(benchmark::State& state) {
  ink::set_num_threads(static_cast<int>(state.range(0)));
  const ink::Tensor<float> a = ink::randn<float>({kElements}), b = ink::randn<float>({kElements});
  ink::add(a, b);  // warm-up: see warm_up_note
  for (auto _ : state) {
    ink::Tensor<float> c = ink::add(a, b);
    benchmark::DoNotOptimize(c.data_ptr());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 3 * kElements * static_cast<int64_t>(sizeof(float)));
}

void BM_relu(benchmark::State& state) {
  ink::set_num_threads(static_cast<int>(state.range(0)));
  const ink::Tensor<float> a = ink::randn<float>({kElements});
  ink::relu(a);  // warm-up: see warm_up_note
  for (auto _ : state) {
    ink::Tensor<float> c = ink::relu(a);
    benchmark::DoNotOptimize(c.data_ptr());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 2 * kElements * static_cast<int64_t>(sizeof(float)));
}

void BM_max_pool2d(benchmark::State& state) {
  ink::set_num_threads(static_cast<int>(state.range(0)));
  const ink::Tensor<float> x = ink::randn<float>({16, 64, kElements / (16 * 64 * 128), 128});  // kElements values
  ink::max_pool2d(x, 2);  // warm-up: see warm_up_note
  for (auto _ : state) {
    ink::Tensor<float> y = ink::max_pool2d(x, 2);
    benchmark::DoNotOptimize(y.data_ptr());
  }
  // the input, the pooled values (a quarter) and their int64 indices (a quarter, twice as wide)
  const int64_t bytes = kElements * static_cast<int64_t>(sizeof(float)) + kElements / 4 * static_cast<int64_t>(sizeof(float)) +
                        kElements / 4 * static_cast<int64_t>(sizeof(std::int64_t));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * bytes);
}
}  // namespace

BENCHMARK(BM_memcpy)->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_add)->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_relu)->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_max_pool2d)->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
