// SGEMM throughput of ink against its peers in the same process: Eigen 3.4 and, when found,
// OpenBLAS (cblas_sgemm). Square sizes and the conv-as-GEMM shapes of issue 3, at 1 and 2
// threads; the FLOPS counter is 2*M*N*K per iteration. bench/run_gemm.sh runs it and prints
// the ink / peer table.
//
// This file is compiled twice (bench/CMakeLists.txt). Eigen chooses its SIMD at compile time,
// so its peer function is built in a separate object with -march=native and
// INK_BENCH_EIGEN_PEER defined (the Eigen figures are then Eigen at its best on this CPU);
// ink, which dispatches at run time, is built without -march like a user's program. The two
// compilations share no inline code, so neither can borrow the other's instruction set.
#ifdef INK_BENCH_EIGEN_PEER

#include <Eigen/Core>

// C = A * B, all row-major, on `threads` OpenMP threads.
void eigen_sgemm(int threads, long M, long N, long K, const float* A, const float* B, float* C) {
  using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::setNbThreads(threads);
  Eigen::Map<const Mat> a(A, M, K), b(B, K, N);
  Eigen::Map<Mat> c(C, M, N);
  c.noalias() = a * b;
}

#else

#include <benchmark/benchmark.h>
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <ink/core.hpp>
#include <ink/kernels/gemm.hpp>

#ifdef INK_BENCH_HAVE_OPENBLAS
#include <cblas.h>
extern "C" void openblas_set_num_threads(int);
#endif

void eigen_sgemm(int threads, long M, long N, long K, const float* A, const float* B, float* C);

namespace {

struct Operands {
  std::vector<float> A, B, C;
};

// Operands per shape, filled once, so that no timed iteration touches fresh pages.
Operands& operands(long M, long N, long K) {
  static std::vector<std::pair<std::string, std::unique_ptr<Operands>>> cache;
  const std::string key = std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K);
  for (auto& [k, v] : cache)
    if (k == key) return *v;
  auto ops = std::make_unique<Operands>();
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  ops->A.resize(M * K);
  ops->B.resize(K * N);
  ops->C.assign(M * N, 0.0f);
  for (float& x : ops->A) x = dist(rng);
  for (float& x : ops->B) x = dist(rng);
  cache.emplace_back(key, std::move(ops));
  return *cache.back().second;
}

enum class Impl { ink, eigen, openblas };

// The machine is shared: this FMA-only burst (16 independent zmm chains, no memory traffic)
// measures what the cores deliver during the run, and shows whether the second core was
// really there when the 2-thread figures were taken.
INK_TARGET_AVX512 __attribute__((noinline)) float fma_burst(long n, float seed) {
  __m512 acc[16];
  const __m512 b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(seed);
  for (int i = 0; i < 16; ++i) acc[i] = _mm512_set1_ps(float(i));
  for (long k = 0; k < n; ++k)
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) acc[i] = _mm512_fmadd_ps(acc[i], b, c);
  __m512 s = acc[0];
  for (int i = 1; i < 16; ++i) s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}

void fma_peak(benchmark::State& state, int threads) {
  constexpr long kSteps = 1 << 20;
  for (auto _ : state) {
#pragma omp parallel num_threads(threads)
    benchmark::DoNotOptimize(fma_burst(kSteps, 1e-7f));
  }
  state.counters["FLOPS"] =
      benchmark::Counter(2.0 * 16 * 16 * kSteps * threads, benchmark::Counter::kIsIterationInvariantRate);
}

void call(Impl impl, int threads, long M, long N, long K, Operands& o) {
  switch (impl) {
    case Impl::ink:
      ink::kernels::gemm<float>(false, false, M, N, K, 1.0f, o.A.data(), K, o.B.data(), N, 0.0f, o.C.data(), N);
      break;
    case Impl::eigen:
      eigen_sgemm(threads, M, N, K, o.A.data(), o.B.data(), o.C.data());
      break;
    case Impl::openblas:
#ifdef INK_BENCH_HAVE_OPENBLAS
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, o.A.data(), K, o.B.data(), N, 0.0f,
                  o.C.data(), N);
#endif
      break;
  }
  benchmark::ClobberMemory();
}

void set_threads(int threads) {
  ink::set_num_threads(threads);
#ifdef INK_BENCH_HAVE_OPENBLAS
  openblas_set_num_threads(threads);
#endif
}

void run(benchmark::State& state, Impl impl, long M, long N, long K, int threads) {
  Operands& o = operands(M, N, K);
  set_threads(threads);
  for (auto _ : state) call(impl, threads, M, N, K, o);
  state.counters["FLOPS"] = benchmark::Counter(2.0 * M * N * K, benchmark::Counter::kIsIterationInvariantRate);
}

// ink and a peer called alternately, each call timed: the two calls of a pair see nearly the
// same machine, so the median of the per-pair time ratios (ink / peer) stays meaningful when
// other jobs on the shared machine make the absolute figures swing.
void paired(benchmark::State& state, Impl peer, long M, long N, long K, int threads) {
  Operands& o = operands(M, N, K);
  set_threads(threads);
  std::vector<double> ratio, ink_rate, peer_rate;
  const double flop = 2.0 * M * N * K;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    call(Impl::ink, threads, M, N, K, o);
    const auto t1 = std::chrono::steady_clock::now();
    call(peer, threads, M, N, K, o);
    const auto t2 = std::chrono::steady_clock::now();
    const double ti = std::chrono::duration<double>(t1 - t0).count();
    const double tp = std::chrono::duration<double>(t2 - t1).count();
    ratio.push_back(ti / tp);
    ink_rate.push_back(flop / ti);
    peer_rate.push_back(flop / tp);
  }
  auto median = [](std::vector<double>& v) {
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v[v.size() / 2];
  };
  state.counters["ink_over_peer_time"] = median(ratio);
  state.counters["ink_FLOPS"] = median(ink_rate);
  state.counters["peer_FLOPS"] = median(peer_rate);
}

}  // namespace

int main(int argc, char** argv) {
  struct Shape {
    long M, N, K;
  };
  const Shape shapes[] = {{256, 256, 256},   {512, 512, 512},   {1024, 1024, 1024}, {2048, 2048, 2048},
                          {64, 3136, 576},   {128, 784, 1152},  {256, 196, 2304},   {32, 784, 9}};
  std::vector<std::pair<Impl, const char*>> impls = {{Impl::ink, "ink"}, {Impl::eigen, "eigen"}};
#ifdef INK_BENCH_HAVE_OPENBLAS
  impls.push_back({Impl::openblas, "openblas"});
#endif
  if (ink::isa_supported(ink::Isa::avx512))
    for (int threads : {1, 2})
      benchmark::RegisterBenchmark(("fma_peak/threads:" + std::to_string(threads)).c_str(), fma_peak, threads)
          ->Unit(benchmark::kMicrosecond)
          ->UseRealTime();
  // Names are sgemm/<impl>/<M>x<N>x<K>/threads:<t> and paired/<peer>/<M>x<N>x<K>/threads:<t>;
  // run_gemm.sh parses them.
  for (const Shape& s : shapes)
    for (int threads : {1, 2})
      for (const auto& [impl, name] : impls) {
        const std::string label = std::string("sgemm/") + name + "/" + std::to_string(s.M) + "x" +
                                  std::to_string(s.N) + "x" + std::to_string(s.K) +
                                  "/threads:" + std::to_string(threads);
        benchmark::RegisterBenchmark(label.c_str(), run, impl, s.M, s.N, s.K, threads)
            ->Unit(benchmark::kMicrosecond)
            ->UseRealTime();
        if (impl != Impl::ink)
          benchmark::RegisterBenchmark(("paired/" + label.substr(6)).c_str(), paired, impl, s.M, s.N, s.K, threads)
              ->Unit(benchmark::kMicrosecond)
              ->UseRealTime();
      }
  std::printf("ink ISA: %s\n", ink::isa_name(ink::active_isa()));
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}

#endif
