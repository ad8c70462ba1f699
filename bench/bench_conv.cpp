// Convolution speed of ink against its peers in the same process: oneDNN (when found) and
// im2col + Eigen GEMM, on the shapes of issue 3, for forward, backward-data and
// backward-weights, at 1 and 2 threads. bench/run_conv.sh runs it and prints the ink / peer
// table; docs/kernels.md ("Convolution") says what each side times.
//
// Every benchmark but the "alone" ones is paired: ink and one peer are called alternately, each
// call timed, and the counters are the medians of the per-pair time ratios (ink / peer) and of
// each side's GFLOP/s. "alone" times ink's calls back to back, as PyTorch is timed in its own
// process (bench/reference/conv_torch.py), for run_conv.sh's table against PyTorch. The machine is shared: the two calls of a pair see nearly the same load. Before the
// first timing of a (shape, direction, peer), the peer's result is compared with ink's
// (max |ink - peer| / max |peer| <= 1e-4), or the benchmark stops with an error.
//
// FLOP per call, all directions: 2 * N * Cout * OH * OW * Cin * kh * kw of the convolution;
// for a transposed convolution, of the convolution it is the adjoint of (2 * N * Cin * H * W *
// Cout * kh * kw with H, W its input size).
//
// This file is compiled twice (bench/CMakeLists.txt), as bench_gemm.cpp: the Eigen peer in a
// separate object with -march=native and INK_BENCH_EIGEN_PEER (Eigen picks its SIMD at compile
// time), ink without -march like a user's program. The peer object has its own im2col.

// The geometry of a convolution, shared by both compilations. A transposed convolution is
// described by the convolution it is the adjoint of: its input is [N, K, OH, OW], its output
// [N, C, H, W], its weight [K, C, k, k] (PyTorch's [Cin, Cout, kh, kw]).
struct ConvGeom {
  long N, C, H, W, K, k, stride, pad;
  long OH() const { return (H + 2 * pad - k) / stride + 1; }
  long OW() const { return (W + 2 * pad - k) / stride + 1; }
  long P() const { return C * k * k; }  // patch size, the GEMM's inner dimension
  long L() const { return OH() * OW(); }
  double flop() const { return 2.0 * N * K * OH() * OW() * C * k * k; }
};

#ifdef INK_BENCH_EIGEN_PEER

#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <vector>

namespace {

using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// cols[P, N*L]: sample n's patches at column offset n*L (the layout of ink's conv2d).
void im2col_batch(const ConvGeom& g, const float* x, float* cols) {
  const long oh = g.OH(), ow = g.OW(), L = g.L(), ld = g.N * L;
#pragma omp parallel for collapse(2)
  for (long n = 0; n < g.N; ++n)
    for (long c = 0; c < g.C; ++c)
      for (long i = 0; i < g.k; ++i)
        for (long j = 0; j < g.k; ++j) {
          float* row = cols + ((c * g.k + i) * g.k + j) * ld + n * L;
          const float* img = x + (n * g.C + c) * g.H * g.W;
          for (long oy = 0; oy < oh; ++oy) {
            const long y = oy * g.stride - g.pad + i;
            float* out = row + oy * ow;
            if (y < 0 || y >= g.H) {
              std::fill(out, out + ow, 0.0f);
              continue;
            }
            for (long ox = 0; ox < ow; ++ox) {
              const long xx = ox * g.stride - g.pad + j;
              out[ox] = (xx >= 0 && xx < g.W) ? img[y * g.W + xx] : 0.0f;
            }
          }
        }
}

// The adjoint: dx (zeroed here) += every column entry, per sample and channel.
void col2im_batch(const ConvGeom& g, const float* cols, float* dx) {
  const long oh = g.OH(), ow = g.OW(), L = g.L(), ld = g.N * L;
#pragma omp parallel for collapse(2)
  for (long n = 0; n < g.N; ++n)
    for (long c = 0; c < g.C; ++c) {
      float* img = dx + (n * g.C + c) * g.H * g.W;
      std::fill(img, img + g.H * g.W, 0.0f);
      for (long i = 0; i < g.k; ++i)
        for (long j = 0; j < g.k; ++j) {
          const float* row = cols + ((c * g.k + i) * g.k + j) * ld + n * L;
          for (long oy = 0; oy < oh; ++oy) {
            const long y = oy * g.stride - g.pad + i;
            if (y < 0 || y >= g.H) continue;
            for (long ox = 0; ox < ow; ++ox) {
              const long xx = ox * g.stride - g.pad + j;
              if (xx >= 0 && xx < g.W) img[y * g.W + xx] += row[oy * ow + ox];
            }
          }
        }
    }
}

// [N, K, L] <-> [K, N*L] (a copy, skipped by the callers when N == 1).
void nkl_to_kn(const ConvGeom& g, const float* src, float* dst) {
  const long L = g.L();
#pragma omp parallel for collapse(2)
  for (long n = 0; n < g.N; ++n)
    for (long k = 0; k < g.K; ++k) std::copy(src + (n * g.K + k) * L, src + (n * g.K + k + 1) * L, dst + k * g.N * L + n * L);
}
void kn_to_nkl(const ConvGeom& g, const float* src, float* dst) {
  const long L = g.L();
#pragma omp parallel for collapse(2)
  for (long n = 0; n < g.N; ++n)
    for (long k = 0; k < g.K; ++k) std::copy(src + k * g.N * L + n * L, src + k * g.N * L + (n + 1) * L, dst + (n * g.K + k) * L);
}

// Buffers kept between calls, so that no timed call touches fresh pages.
std::vector<float>& buffer(int i, std::size_t size) {
  static std::vector<float> b[2];
  if (b[i].size() < size) b[i].resize(size);
  return b[i];
}

}  // namespace

// y [N,K,OH,OW] = conv(x [N,C,H,W], w [K,C,k,k]).
void eigen_conv_forward(int threads, const ConvGeom& g, const float* x, const float* w, float* y) {
  Eigen::setNbThreads(threads);
  omp_set_num_threads(threads);
  const long P = g.P(), NL = g.N * g.L();
  float* cols = buffer(0, P * NL).data();
  im2col_batch(g, x, cols);
  float* out = g.N == 1 ? y : buffer(1, g.K * NL).data();
  Eigen::Map<Mat>(out, g.K, NL).noalias() = Eigen::Map<const Mat>(w, g.K, P) * Eigen::Map<const Mat>(cols, P, NL);
  if (g.N != 1) kn_to_nkl(g, out, y);
}

// dx [N,C,H,W] = col2im(w^T dy).
void eigen_conv_backward_data(int threads, const ConvGeom& g, const float* dy, const float* w, float* dx) {
  Eigen::setNbThreads(threads);
  omp_set_num_threads(threads);
  const long P = g.P(), NL = g.N * g.L();
  const float* gm = dy;
  if (g.N != 1) {
    float* t = buffer(1, g.K * NL).data();
    nkl_to_kn(g, dy, t);
    gm = t;
  }
  float* cols = buffer(0, P * NL).data();
  Eigen::Map<Mat>(cols, P, NL).noalias() =
      Eigen::Map<const Mat>(w, g.K, P).transpose() * Eigen::Map<const Mat>(gm, g.K, NL);
  col2im_batch(g, cols, dx);
}

// dw [K,C,k,k] = dy im2col(x)^T.
void eigen_conv_backward_weights(int threads, const ConvGeom& g, const float* x, const float* dy, float* dw) {
  Eigen::setNbThreads(threads);
  omp_set_num_threads(threads);
  const long P = g.P(), NL = g.N * g.L();
  float* cols = buffer(0, P * NL).data();
  im2col_batch(g, x, cols);
  const float* gm = dy;
  if (g.N != 1) {
    float* t = buffer(1, g.K * NL).data();
    nkl_to_kn(g, dy, t);
    gm = t;
  }
  Eigen::Map<Mat>(dw, g.K, P).noalias() =
      Eigen::Map<const Mat>(gm, g.K, NL) * Eigen::Map<const Mat>(cols, P, NL).transpose();
}

#else

#include <benchmark/benchmark.h>
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <ink/autograd/engine.hpp>
#include <ink/autograd/grad_mode.hpp>
#include <ink/core.hpp>
#include <ink/ops/conv.hpp>
#include <ink/ops/resample.hpp>  // reflection_pad2d, which conv.hpp declares but does not include
#include <ink/ops/tensor_methods.hpp>
#include <ink/ops/views.hpp>
#include <ink/tensor/creation.hpp>

#ifdef INK_BENCH_HAVE_DNNL
#include <dnnl.hpp>
#endif

void eigen_conv_forward(int threads, const ConvGeom& g, const float* x, const float* w, float* y);
void eigen_conv_backward_data(int threads, const ConvGeom& g, const float* dy, const float* w, float* dx);
void eigen_conv_backward_weights(int threads, const ConvGeom& g, const float* x, const float* dy, float* dw);

namespace {

struct Case {
  std::string name;
  bool transposed;
  ConvGeom g;
};

enum class Dir { fwd, bwd_data, bwd_weights };
const char* dir_name(Dir d) { return d == Dir::fwd ? "fwd" : d == Dir::bwd_data ? "bwd_data" : "bwd_weights"; }
enum class Peer { onednn, eigen };

// Operands of one case, filled once. X is [N,C,H,W], Y is [N,K,OH,OW], Wt is [K,C,k,k] of the
// convolution geometry; which of them are inputs depends on the direction (see ConvGeom).
struct Data {
  std::vector<float> X, Y, Wt;
  ink::Tensor<float> x, y, w;  // ink tensors holding the same values
};

Data& data(const Case& c) {
  static std::map<std::string, std::unique_ptr<Data>> cache;
  auto& slot = cache[c.name];
  if (slot) return *slot;
  slot = std::make_unique<Data>();
  const ConvGeom& g = c.g;
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  auto fill = [&](std::vector<float>& v, long n) {
    v.resize(n);
    for (float& e : v) e = dist(rng);
  };
  fill(slot->X, g.N * g.C * g.H * g.W);
  fill(slot->Y, g.N * g.K * g.OH() * g.OW());
  fill(slot->Wt, g.K * g.C * g.k * g.k);
  slot->x = ink::from_vector<float>(slot->X, {g.N, g.C, g.H, g.W});
  slot->y = ink::from_vector<float>(slot->Y, {g.N, g.K, g.OH(), g.OW()});
  slot->w = ink::from_vector<float>(slot->Wt, {g.K, g.C, g.k, g.k});
  return *slot;
}

// One implementation of one (case, direction): run() computes, result() points at the last
// result in PyTorch's layout (NCHW, weights [K, C, k, k]).
struct Runner {
  std::function<void()> run;
  std::function<const float*()> result;
};

// ink at the op level. Forward: conv2d / conv_transpose2d under NoGradGuard, then
// contiguous(): conv2d returns its [N, Cout, OH, OW] result as a strided view of a
// [Cout, N, OH, OW] buffer when N > 1, and the peers deliver NCHW memory, so the copy to NCHW
// is timed (a no-op when the result is already contiguous). Backward: the
// graph out = conv(...) is built once, with only the input (backward-data) or only the weight
// (backward-weights) requiring grad, and each call runs
// autograd::grad({out}, {that tensor}, {g}, create_graph = false, retain_graph = true): the
// backward pass alone, the gradient of sum(out * g), nothing for the other operand.
Runner ink_runner(const Case& c, Dir d, Data& D) {
  const ConvGeom& g = c.g;
  auto last = std::make_shared<ink::Tensor<float>>();
  auto conv = [&c, g](const ink::Tensor<float>& in, const ink::Tensor<float>& w) {
    if (c.transposed) return ink::conv_transpose2d(in, w, {}, {.stride = g.stride, .padding = g.pad});
    return ink::conv2d(in, w, {}, {.stride = g.stride, .padding = g.pad});
  };
  // The conv's input and the gradient of its output: conv: x and y-shaped; transposed: y and x.
  const ink::Tensor<float>& in = c.transposed ? D.y : D.x;
  const ink::Tensor<float>& gout = c.transposed ? D.x : D.y;
  Runner r;
  r.result = [last] { return last->data_ptr(); };
  if (d == Dir::fwd) {
    r.run = [=] {
      ink::NoGradGuard no_grad;
      *last = ink::contiguous(conv(in, D.w));
      benchmark::DoNotOptimize(last->data_ptr());
    };
    return r;
  }
  ink::Tensor<float> in2 = in.detach().clone(), w2 = D.w.detach().clone();
  ink::Tensor<float> wrt = d == Dir::bwd_data ? in2 : w2;
  wrt.requires_grad_(true);
  ink::Tensor<float> out = conv(in2, w2);
  r.run = [=] {
    *last = ink::contiguous(ink::autograd::grad<float>({out}, {wrt}, {gout}, false, true)[0]);
    benchmark::DoNotOptimize(last->data_ptr());
  };
  return r;
}

// im2col + Eigen GEMM. A transposed convolution's forward is its convolution's backward-data
// and vice versa; the backward-weights are the same.
Runner eigen_runner(const Case& c, Dir d, Data& D, int threads) {
  const ConvGeom g = c.g;
  Dir op = d;
  if (c.transposed && d != Dir::bwd_weights) op = d == Dir::fwd ? Dir::bwd_data : Dir::fwd;
  auto out = std::make_shared<std::vector<float>>();
  Runner r;
  r.result = [out] { return out->data(); };
  const float *X = D.X.data(), *Y = D.Y.data(), *W = D.Wt.data();
  switch (op) {
    case Dir::fwd:
      out->resize(D.Y.size());
      r.run = [=] { eigen_conv_forward(threads, g, X, W, out->data()); };
      break;
    case Dir::bwd_data:
      out->resize(D.X.size());
      r.run = [=] { eigen_conv_backward_data(threads, g, Y, W, out->data()); };
      break;
    case Dir::bwd_weights:
      out->resize(D.Wt.size());
      r.run = [=] { eigen_conv_backward_weights(threads, g, X, Y, out->data()); };
      break;
  }
  return r;
}

#ifdef INK_BENCH_HAVE_DNNL
// oneDNN: the primitive is created once, outside the timed loop, with every layout left to it
// (format_tag::any) and algorithm::convolution_auto (deconvolution_direct for transposed
// shapes, oneDNN 2.6's only general deconvolution algorithm). Each call reorders the inputs
// from NCHW / OIHW into the chosen layouts, runs the primitive and reorders the result back:
// what a user with NCHW tensors gets. Reorders that would be identities are skipped.
struct DnnlOp {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  dnnl::primitive prim;
  std::unordered_map<int, dnnl::memory> args;
  std::vector<std::pair<dnnl::primitive, std::unordered_map<int, dnnl::memory>>> pre, post;
  std::vector<float> out;
  std::string impl;

  dnnl::memory in(const dnnl::memory::desc& want, const dnnl::memory::desc& user, const float* p) {
    dnnl::memory u(user, eng, const_cast<float*>(p));
    if (want == user) return u;
    dnnl::memory m(want, eng);
    pre.push_back({dnnl::reorder(u, m), {{DNNL_ARG_FROM, u}, {DNNL_ARG_TO, m}}});
    return m;
  }
  dnnl::memory result(const dnnl::memory::desc& want, const dnnl::memory::desc& user) {
    out.resize(user.get_size() / sizeof(float));
    dnnl::memory u(user, eng, out.data());
    if (want == user) return u;
    dnnl::memory m(want, eng);
    post.push_back({dnnl::reorder(m, u), {{DNNL_ARG_FROM, m}, {DNNL_ARG_TO, u}}});
    return m;
  }
  void run() {
    for (auto& [p, a] : pre) p.execute(strm, a);
    prim.execute(strm, args);
    for (auto& [p, a] : post) p.execute(strm, a);
    strm.wait();
  }
};

std::shared_ptr<DnnlOp> make_dnnl(const Case& c, Dir d, Data& D) {
  using namespace dnnl;
  using tag = memory::format_tag;
  using dt = memory::data_type;
  const ConvGeom& g = c.g;
  auto op = std::make_shared<DnnlOp>();
  // Conv: src X, dst Y, weights [K, C, k, k] (oihw). Transposed: src Y, dst X, weights with
  // oneDNN's dims {OC = C, IC = K, k, k}, stored as PyTorch's [K, C, k, k] (iohw).
  const memory::dims xd{g.N, g.C, g.H, g.W}, yd{g.N, g.K, g.OH(), g.OW()};
  const memory::dims src_d = c.transposed ? yd : xd, dst_d = c.transposed ? xd : yd;
  const memory::dims wd = c.transposed ? memory::dims{g.C, g.K, g.k, g.k} : memory::dims{g.K, g.C, g.k, g.k};
  const memory::desc src_u(src_d, dt::f32, tag::nchw), dst_u(dst_d, dt::f32, tag::nchw),
      w_u(wd, dt::f32, c.transposed ? tag::iohw : tag::oihw);
  const memory::desc src_a(src_d, dt::f32, tag::any), dst_a(dst_d, dt::f32, tag::any), w_a(wd, dt::f32, tag::any);
  const memory::dims st{g.stride, g.stride}, pad{g.pad, g.pad};
  const float* src_p = c.transposed ? D.Y.data() : D.X.data();
  const float* dst_p = c.transposed ? D.X.data() : D.Y.data();  // the gradient of dst in backward
  const float* w_p = D.Wt.data();
  auto finish = [&](const auto& pd) {
    op->prim = primitive(pd);
    op->impl = pd.impl_info_str();
  };
  if (!c.transposed) {
    const convolution_forward::primitive_desc hint(
        convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_auto, src_a, w_a, dst_a, st, pad, pad), op->eng);
    if (d == Dir::fwd) {
      const convolution_forward::primitive_desc pd(
          convolution_forward::desc(prop_kind::forward_inference, algorithm::convolution_auto, src_a, w_a, dst_a, st, pad, pad), op->eng);
      op->args[DNNL_ARG_SRC] = op->in(pd.src_desc(), src_u, src_p);
      op->args[DNNL_ARG_WEIGHTS] = op->in(pd.weights_desc(), w_u, w_p);
      op->args[DNNL_ARG_DST] = op->result(pd.dst_desc(), dst_u);
      finish(pd);
    } else if (d == Dir::bwd_data) {
      const convolution_backward_data::primitive_desc pd(
          convolution_backward_data::desc(algorithm::convolution_auto, src_a, w_a, dst_a, st, pad, pad), op->eng, hint);
      op->args[DNNL_ARG_DIFF_DST] = op->in(pd.diff_dst_desc(), dst_u, dst_p);
      op->args[DNNL_ARG_WEIGHTS] = op->in(pd.weights_desc(), w_u, w_p);
      op->args[DNNL_ARG_DIFF_SRC] = op->result(pd.diff_src_desc(), src_u);
      finish(pd);
    } else {
      const convolution_backward_weights::primitive_desc pd(
          convolution_backward_weights::desc(algorithm::convolution_auto, src_a, w_a, dst_a, st, pad, pad), op->eng, hint);
      op->args[DNNL_ARG_SRC] = op->in(pd.src_desc(), src_u, src_p);
      op->args[DNNL_ARG_DIFF_DST] = op->in(pd.diff_dst_desc(), dst_u, dst_p);
      op->args[DNNL_ARG_DIFF_WEIGHTS] = op->result(pd.diff_weights_desc(), w_u);
      finish(pd);
    }
  } else {
    const deconvolution_forward::primitive_desc hint(
        deconvolution_forward::desc(prop_kind::forward_training, algorithm::deconvolution_direct, src_a, w_a, dst_a, st, pad, pad), op->eng);
    if (d == Dir::fwd) {
      const deconvolution_forward::primitive_desc pd(
          deconvolution_forward::desc(prop_kind::forward_inference, algorithm::deconvolution_direct, src_a, w_a, dst_a, st, pad, pad), op->eng);
      op->args[DNNL_ARG_SRC] = op->in(pd.src_desc(), src_u, src_p);
      op->args[DNNL_ARG_WEIGHTS] = op->in(pd.weights_desc(), w_u, w_p);
      op->args[DNNL_ARG_DST] = op->result(pd.dst_desc(), dst_u);
      finish(pd);
    } else if (d == Dir::bwd_data) {
      const deconvolution_backward_data::primitive_desc pd(
          deconvolution_backward_data::desc(algorithm::deconvolution_direct, src_a, w_a, dst_a, st, pad, pad), op->eng, hint);
      op->args[DNNL_ARG_DIFF_DST] = op->in(pd.diff_dst_desc(), dst_u, dst_p);
      op->args[DNNL_ARG_WEIGHTS] = op->in(pd.weights_desc(), w_u, w_p);
      op->args[DNNL_ARG_DIFF_SRC] = op->result(pd.diff_src_desc(), src_u);
      finish(pd);
    } else {
      const deconvolution_backward_weights::primitive_desc pd(
          deconvolution_backward_weights::desc(algorithm::deconvolution_direct, src_a, w_a, dst_a, st, pad, pad), op->eng, hint);
      op->args[DNNL_ARG_SRC] = op->in(pd.src_desc(), src_u, src_p);
      op->args[DNNL_ARG_DIFF_DST] = op->in(pd.diff_dst_desc(), dst_u, dst_p);
      op->args[DNNL_ARG_DIFF_WEIGHTS] = op->result(pd.diff_weights_desc(), w_u);
      finish(pd);
    }
  }
  return op;
}

Runner dnnl_runner(const Case& c, Dir d, Data& D, std::string& impl) {
  auto op = make_dnnl(c, d, D);
  impl = op->impl;
  return {[op] { op->run(); }, [op] { return op->out.data(); }};
}
#endif

// The same FMA-only burst as bench_gemm: what the cores delivered during this run.
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

double max_rel_diff(const float* a, const float* ref, std::size_t n) {
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < n; ++i) {
    diff = std::max(diff, std::fabs(double(a[i]) - double(ref[i])));
    scale = std::max(scale, std::fabs(double(ref[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

std::size_t result_size(const Case& c, Dir d) {
  const ConvGeom& g = c.g;
  if (d == Dir::bwd_weights) return g.K * g.C * g.k * g.k;
  const bool x_shaped = (d == Dir::fwd) == c.transposed;  // conv fwd -> Y, conv bwd_data -> X
  return x_shaped ? g.N * g.C * g.H * g.W : g.N * g.K * g.OH() * g.OW();
}

void paired(benchmark::State& state, const Case* c, Dir d, Peer peer, int threads) {
  ink::set_num_threads(threads);
  omp_set_num_threads(threads);
  Data& D = data(*c);
  Runner ink_r = ink_runner(*c, d, D);
  Runner peer_r;
  std::string impl = "eigen";
  if (peer == Peer::eigen) peer_r = eigen_runner(*c, d, D, threads);
#ifdef INK_BENCH_HAVE_DNNL
  else
    peer_r = dnnl_runner(*c, d, D, impl);
#endif
  // Both once, untimed (first-touch of buffers), and their results compared.
  ink_r.run();
  peer_r.run();
  const double err = max_rel_diff(ink_r.result(), peer_r.result(), result_size(*c, d));
  state.counters["max_rel_diff"] = err;
  if (!(err <= 1e-4)) {
    state.SkipWithError(("ink and " + impl + " disagree: max rel diff " + std::to_string(err)).c_str());
    for (auto _ : state) {
    }
    return;
  }
  std::vector<double> ratio, ink_rate, peer_rate;
  const double flop = c->g.flop();
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    ink_r.run();
    const auto t1 = std::chrono::steady_clock::now();
    peer_r.run();
    const auto t2 = std::chrono::steady_clock::now();
    const double ti = std::chrono::duration<double>(t1 - t0).count();
    const double tp = std::chrono::duration<double>(t2 - t1).count();
    ratio.push_back(ti / tp);
    ink_rate.push_back(flop / ti);
    peer_rate.push_back(flop / tp);
  }
  auto median = [](std::vector<double>& v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  };
  state.counters["ink_over_peer_time"] = median(ratio);
  state.counters["ink_FLOPS"] = median(ink_rate);
  state.counters["peer_FLOPS"] = median(peer_rate);
  state.SetLabel(impl);
}

// ink alone, its calls back to back: the protocol of bench/reference/conv_torch.py, which
// times PyTorch in its own process (3 untimed calls, then each call timed, the median
// reported), so that the PyTorch table compares like with like. In a pair, the peer's buffers
// (oneDNN's reorders, Eigen's im2col matrix) evict ink's operands from the caches between
// calls; PyTorch's calls follow each other with warm caches. The results are checked by the
// paired benchmarks, which run the same calls.
void alone(benchmark::State& state, const Case* c, Dir d, int threads) {
  ink::set_num_threads(threads);
  omp_set_num_threads(threads);
  Runner ink_r = ink_runner(*c, d, data(*c));
  for (int i = 0; i < 3; ++i) ink_r.run();
  std::vector<double> rate;
  const double flop = c->g.flop();
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    ink_r.run();
    rate.push_back(flop / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(rate.begin(), rate.end());
  const std::size_t n = rate.size();
  state.counters["ink_FLOPS"] = n % 2 ? rate[n / 2] : 0.5 * (rate[n / 2 - 1] + rate[n / 2]);
  state.SetLabel("alone");
}

}  // namespace

int main(int argc, char** argv) {
  // Issue 3's shapes, (N, Cin, H, W -> Cout, k, stride, pad).
  auto conv = [](const char* name, long n, long cin, long h, long w, long cout, long k, long s, long p) {
    return Case{name, false, {n, cin, h, w, cout, k, s, p}};
  };
  // A transposed convolution x [N, Cin, H, W] -> [N, Cout, OH, OW] is the adjoint of the
  // convolution [N, Cout, OH, OW] -> [N, Cin, H, W] with the same k, stride, pad.
  auto tconv = [](const char* name, long n, long cin, long h, long w, long cout, long k, long s, long p) {
    const long oh = (h - 1) * s - 2 * p + k, ow = (w - 1) * s - 2 * p + k;
    return Case{name, true, {n, cout, oh, ow, cin, k, s, p}};
  };
  static const std::vector<Case> cases = {
      conv("a", 64, 1, 28, 28, 32, 3, 1, 1),      conv("b", 64, 32, 14, 14, 64, 3, 1, 1),
      conv("c", 1, 64, 224, 224, 64, 3, 1, 1),    conv("d", 1, 128, 112, 112, 128, 3, 1, 1),
      conv("e", 1, 256, 56, 56, 256, 3, 1, 1),    conv("f", 1, 512, 28, 28, 512, 3, 1, 1),
      conv("g", 8, 64, 56, 56, 64, 1, 1, 0),      conv("h", 64, 64, 14, 14, 128, 4, 2, 1),
      conv("i", 1, 3, 256, 256, 32, 9, 1, 4),     tconv("G1", 64, 128, 7, 7, 64, 4, 2, 1),
      tconv("G2", 64, 64, 14, 14, 1, 4, 2, 1),
  };
  std::vector<std::pair<Peer, const char*>> peers;
#ifdef INK_BENCH_HAVE_DNNL
  peers.push_back({Peer::onednn, "onednn"});
#endif
  peers.push_back({Peer::eigen, "eigen"});
  if (ink::isa_supported(ink::Isa::avx512))
    for (int threads : {1, 2})
      benchmark::RegisterBenchmark(("fma_peak/threads:" + std::to_string(threads)).c_str(), fma_peak, threads)
          ->Unit(benchmark::kMicrosecond)
          ->UseRealTime();
  // Names are conv/<case>/<dir>/<peer>/threads:<t>, peer "alone" for ink by itself;
  // run_conv.sh parses them. A fixed number of pairs (calls) per benchmark, about 4e10 FLOP of
  // each side (10 pairs for the big shapes c-f), so the whole run stays within a few minutes on
  // a loaded machine.
  for (const Case& c : cases)
    for (int threads : {1, 2})
      for (Dir d : {Dir::fwd, Dir::bwd_data, Dir::bwd_weights}) {
        const std::string prefix = "conv/" + c.name + "/" + dir_name(d) + "/";
        const std::string suffix = "/threads:" + std::to_string(threads);
        const long iters = std::clamp(static_cast<long>(4e10 / c.g.flop()), 7L, 300L);
        for (const auto& [peer, pname] : peers)
          benchmark::RegisterBenchmark((prefix + pname + suffix).c_str(), paired, &c, d, peer, threads)
              ->Unit(benchmark::kMillisecond)
              ->UseRealTime()
              ->Iterations(iters);
        benchmark::RegisterBenchmark((prefix + "alone" + suffix).c_str(), alone, &c, d, threads)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime()
            ->Iterations(iters);
      }
  std::printf("ink ISA: %s\n", ink::isa_name(ink::active_isa()));
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}

#endif
