// kernels/: the blocked GEMM against the reference oracle at every ISA this CPU supports,
// all transposes, edge shapes, alpha/beta cases, leading dimensions, thread-count invariance,
// the batched form and the GEMM with A's rows read in place; im2col / col2im and the max-pool argmax against
// their element-wise definitions.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <ink/core.hpp>
#include <ink/kernels/gemm.hpp>
#include <ink/kernels/gemm_in_place.hpp>
#include <ink/kernels/im2col.hpp>
#include <ink/kernels/pooling.hpp>

#include "isa_support.hpp"

using namespace ink;
using ink::testing::IsaGuard;
using ink::testing::supported_isas;
using ink::kernels::gemm;
using ink::kernels::gemm_batched;
using ink::kernels::gemm_reference;

namespace {

template <class T>
std::vector<T> random_vector(std::size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::vector<T> v(n);
  for (T& x : v) x = static_cast<T>(dist(rng));
  return v;
}

// One GEMM problem stored with padded leading dimensions; the padding holds NaN so a read of
// it would show up in C.
template <class T>
struct Problem {
  bool ta, tb;
  index_t M, N, K, lda, ldb, ldc;
  T alpha, beta;
  std::vector<T> A, B, C;

  Problem(bool ta_, bool tb_, index_t M_, index_t N_, index_t K_, T alpha_, T beta_, std::mt19937& rng,
          index_t pad = 0)
      : ta(ta_), tb(tb_), M(M_), N(N_), K(K_), alpha(alpha_), beta(beta_) {
    const index_t a_rows = ta ? K : M, a_cols = ta ? M : K;
    const index_t b_rows = tb ? N : K, b_cols = tb ? K : N;
    lda = a_cols + pad;
    ldb = b_cols + 2 * pad;
    ldc = N + 3 * pad;
    A = padded(a_rows, a_cols, lda, rng);
    B = padded(b_rows, b_cols, ldb, rng);
    C = padded(M, N, ldc, rng);
    if (beta == T(0))  // BLAS semantics: C is not read, so NaN must not propagate
      for (index_t i = 0; i < M; ++i)
        for (index_t j = 0; j < N; ++j) C[i * ldc + j] = std::numeric_limits<T>::quiet_NaN();
  }

  static std::vector<T> padded(index_t rows, index_t cols, index_t ld, std::mt19937& rng) {
    std::vector<T> v = random_vector<T>(static_cast<std::size_t>(std::max<index_t>(rows * ld, 1)), rng);
    for (index_t r = 0; r < rows; ++r)
      for (index_t c = cols; c < ld; ++c) v[r * ld + c] = std::numeric_limits<T>::quiet_NaN();
    return v;
  }

  std::vector<T> run_fast() const {
    std::vector<T> c = C;
    gemm(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, c.data(), ldc);
    return c;
  }
};

std::string describe(Isa isa, bool ta, bool tb, index_t M, index_t N, index_t K, double alpha, double beta) {
  return std::string(isa_name(isa)) + " ta=" + std::to_string(ta) + " tb=" + std::to_string(tb) +
         " M=" + std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K) +
         " alpha=" + std::to_string(alpha) + " beta=" + std::to_string(beta);
}

// Checks the fast GEMM against the reference evaluated in double precision. Each element's
// tolerance is relative to the magnitude of what it sums, |alpha| sum_k |a||b| + |beta||c|:
// float to 1e-5 (loosened linearly past K = 1024, as rounding error grows with K), double to
// 1e-12. Also checks that C's padding columns were left alone.
template <class T>
void check_against_reference(const Problem<T>& p, Isa isa) {
  const std::vector<T> got = p.run_fast();
  auto to_double = [](const std::vector<T>& v) { return std::vector<double>(v.begin(), v.end()); };
  std::vector<double> A = to_double(p.A), B = to_double(p.B), C = to_double(p.C);
  std::vector<double> Aabs(A.size()), Babs(B.size()), Cabs(C.size());
  for (std::size_t i = 0; i < A.size(); ++i) Aabs[i] = std::fabs(A[i]);
  for (std::size_t i = 0; i < B.size(); ++i) Babs[i] = std::fabs(B[i]);
  for (std::size_t i = 0; i < C.size(); ++i) Cabs[i] = p.beta == T(0) ? 0.0 : std::fabs(C[i]);
  gemm_reference<double>(p.ta, p.tb, p.M, p.N, p.K, p.alpha, A.data(), p.lda, B.data(), p.ldb, p.beta,
                         C.data(), p.ldc);
  gemm_reference<double>(p.ta, p.tb, p.M, p.N, p.K, std::fabs(double(p.alpha)), Aabs.data(), p.lda,
                         Babs.data(), p.ldb, std::fabs(double(p.beta)), Cabs.data(), p.ldc);
  const double rel = sizeof(T) == 4 ? 1e-5 * std::max(1.0, double(p.K) / 1024) : 1e-12;
  index_t bad = 0;
  double worst = 0;
  for (index_t i = 0; i < p.M; ++i) {
    for (index_t j = 0; j < p.N; ++j) {
      const double g = got[i * p.ldc + j], want = C[i * p.ldc + j];
      const double err = std::fabs(g - want), tol = rel * Cabs[i * p.ldc + j] + 1e-30;
      if (!(err <= tol)) ++bad;  // also catches NaN
      if (tol > 0) worst = std::max(worst, err / tol);
    }
    for (index_t j = p.N; j < p.ldc; ++j)
      if (!std::isnan(got[i * p.ldc + j])) ++bad;  // padding was NaN and must stay untouched
  }
  INFO(describe(isa, p.ta, p.tb, p.M, p.N, p.K, p.alpha, p.beta) << " worst err/tol=" << worst);
  CHECK(bad == 0);
}

struct Shape3 {
  index_t M, N, K;
};

// Primes and sizes that divide none of the tile or block sizes (MR, NR, KC, NC, MC), plus
// exact tiles; together they cross every edge: partial rows, partial vectors, several K
// slices (K > KC), several column blocks (N > NC) and several row blocks (M > MC).
const std::vector<Shape3> kEdgeShapes = {
    {1, 1, 1},    {7, 17, 31},  {33, 97, 1},   {17, 515, 33}, {97, 31, 257},
    {257, 33, 515}, {31, 257, 97}, {515, 7, 17}, {8, 48, 256},  {16, 96, 512}, {2100, 9, 20},
};

template <class T>
void edge_shapes_all_isas() {
  IsaGuard guard;
  std::mt19937 rng(1234);
  for (Isa isa : supported_isas()) {
    set_active_isa(isa);
    for (int t = 0; t < 4; ++t)
      for (const Shape3& s : kEdgeShapes) {
        Problem<T> p(t & 1, t & 2, s.M, s.N, s.K, T(1), T(0), rng);
        check_against_reference(p, isa);
      }
  }
}

}  // namespace

TEST_CASE("gemm float matches the reference on edge shapes, every ISA and transpose") {
  edge_shapes_all_isas<float>();
}

TEST_CASE("gemm double matches the reference on edge shapes, every ISA and transpose") {
  edge_shapes_all_isas<double>();
}

TEMPLATE_TEST_CASE("gemm handles alpha, beta and padded leading dimensions", "", float, double) {
  IsaGuard guard;
  std::mt19937 rng(99);
  const double alphas[] = {1.0, -0.5, 2.0};
  const double betas[] = {0.0, 1.0, -1.5};
  for (Isa isa : supported_isas()) {
    set_active_isa(isa);
    for (double alpha : alphas)
      for (double beta : betas)
        for (int t = 0; t < 4; ++t) {
          Problem<TestType> p(t & 1, t & 2, 37, 71, 300, TestType(alpha), TestType(beta), rng, /*pad=*/5);
          check_against_reference(p, isa);
        }
  }
}

TEMPLATE_TEST_CASE("gemm matches the reference on random shapes", "", float, double) {
  IsaGuard guard;
  std::mt19937 rng(7);
  std::uniform_int_distribution<index_t> dim(1, 140);
  for (Isa isa : supported_isas()) {
    set_active_isa(isa);
    for (int r = 0; r < 12; ++r) {
      Problem<TestType> p(rng() & 1, rng() & 1, dim(rng), dim(rng), dim(rng), TestType(0.75), TestType(0.5),
                          rng, static_cast<index_t>(rng() % 3));
      check_against_reference(p, isa);
    }
  }
}

TEST_CASE("gemm degenerate sizes: K == 0 and alpha == 0 scale C, M == 0 does nothing") {
  std::vector<float> C = {1, 2, 3, 4}, A = {std::numeric_limits<float>::quiet_NaN()};
  gemm<float>(false, false, 2, 2, 0, 1.0f, A.data(), 1, A.data(), 2, 2.0f, C.data(), 2);
  CHECK(C == std::vector<float>{2, 4, 6, 8});
  gemm<float>(false, false, 2, 2, 1, 0.0f, A.data(), 1, A.data(), 2, 0.5f, C.data(), 2);
  CHECK(C == std::vector<float>{1, 2, 3, 4});
  C = {std::numeric_limits<float>::quiet_NaN(), 1, 1, 1};
  gemm<float>(false, false, 2, 2, 0, 1.0f, A.data(), 1, A.data(), 2, 0.0f, C.data(), 2);
  CHECK(C == std::vector<float>{0, 0, 0, 0});
  gemm<float>(false, false, 0, 2, 3, 1.0f, nullptr, 3, nullptr, 2, 1.0f, C.data(), 2);
  CHECK(C == std::vector<float>{0, 0, 0, 0});
}

TEST_CASE("gemm rejects leading dimensions shorter than a row") {
  std::vector<float> A(16), B(16), C(16);
  CHECK_THROWS_AS(gemm<float>(false, false, 2, 2, 4, 1.0f, A.data(), 3, B.data(), 2, 0.0f, C.data(), 2),
                  ValueError);
  CHECK_THROWS_AS(gemm<float>(false, true, 2, 2, 4, 1.0f, A.data(), 4, B.data(), 2, 0.0f, C.data(), 2),
                  ValueError);
  CHECK_THROWS_AS(gemm<float>(false, false, 2, 3, 4, 1.0f, A.data(), 4, B.data(), 3, 0.0f, C.data(), 2),
                  ValueError);
}

TEMPLATE_TEST_CASE("gemm gives bitwise the same result on 1 and 2 threads", "", float, double) {
  IsaGuard guard;
  std::mt19937 rng(5);
  // Tall (split by rows), wide (split by columns), and a conv-like shape; all large enough
  // to run in parallel.
  const std::vector<Shape3> shapes = {{515, 33, 257}, {33, 515, 257}, {64, 784, 300}, {257, 255, 129},
                                      {2100, 60, 40}};
  for (Isa isa : supported_isas()) {
    set_active_isa(isa);
    for (const Shape3& s : shapes)
      for (int t = 0; t < 4; ++t) {
        Problem<TestType> p(t & 1, t & 2, s.M, s.N, s.K, TestType(1.25), TestType(-0.5), rng);
        set_num_threads(1);
        const std::vector<TestType> one = p.run_fast();
        set_num_threads(2);
        const std::vector<TestType> two = p.run_fast();
        INFO(describe(isa, p.ta, p.tb, s.M, s.N, s.K, 1.25, -0.5));
        CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(TestType)) == 0);
      }
  }
}

// B (K x N, row-major, leading dimension ldb) as a BSource: panels of NR columns, zero past n.
template <class T>
struct MatrixPanels {
  const T* B;
  index_t ldb;
  static void pack(const void* ctx, index_t k0, index_t kc, index_t j0, index_t n, int NR, T* dst) {
    const auto& m = *static_cast<const MatrixPanels*>(ctx);
    for (index_t p = 0; p * NR < n; ++p)
      for (index_t k = 0; k < kc; ++k)
        for (index_t j = 0; j < NR; ++j) {
          const index_t col = p * NR + j;
          dst[(p * kc + k) * NR + j] = col < n ? m.B[(k0 + k) * m.ldb + j0 + col] : T(0);
        }
  }
};

TEMPLATE_TEST_CASE("gemm on a packed A equals gemm on A, bitwise, at 1 and 2 threads", "", float, double) {
  IsaGuard guard;
  std::mt19937 rng(17);
  // M off the panel heights, K over one or several of the frame's K slices (KC = 256), N off the
  // panel widths; large enough to split between two threads.
  const std::vector<Shape3> shapes = {{37, 29, 11}, {515, 97, 600}, {1024, 294, 128}, {9, 300, 257}};
  for (Isa isa : supported_isas()) {
    set_active_isa(isa);
    for (const Shape3& s : shapes)
      for (bool ta : {false, true}) {
        Problem<TestType> p(ta, false, s.M, s.N, s.K, TestType(1.25), TestType(-0.5), rng, 3);
        std::vector<TestType> packed(kernels::packed_a_size<TestType>(s.M, s.K));
        const kernels::PackedA<TestType> a = kernels::pack_a(ta, s.M, s.K, p.A.data(), p.lda, packed.data());
        // A itself is NaN in the call that takes its packed panels, so a read of it would show.
        const std::vector<TestType> poisoned(p.A.size(), std::numeric_limits<TestType>::quiet_NaN());
        const MatrixPanels<TestType> panels{p.B.data(), p.ldb};
        const kernels::BSource<TestType> source{&MatrixPanels<TestType>::pack, &panels};
        for (int threads : {1, 2}) {
          set_num_threads(threads);
          std::vector<TestType> want = p.C, got = p.C;
          gemm<TestType>(ta, false, s.M, s.N, s.K, p.alpha, p.A.data(), p.lda, p.B.data(), p.ldb, p.beta,
                         want.data(), p.ldc);
          gemm<TestType>(ta, s.M, s.N, s.K, p.alpha, poisoned.data(), p.lda, source, p.beta, got.data(), p.ldc, &a);
          INFO(describe(isa, ta, false, s.M, s.N, s.K, 1.25, -0.5) << " threads=" << threads);
          CHECK(std::memcmp(got.data(), want.data(), got.size() * sizeof(TestType)) == 0);
        }
      }
  }
}

// gemm_a_rows (gemm_in_place.hpp): A's rows read where they lie, at scattered offsets of one
// buffer, B in the micro-kernel's packed panels. It makes the packed GEMM's operations in its
// order, so on one K slice (kc <= 256) it must give gemm()'s bits, for beta 0 and 1, at every
// ISA that has the in-place kernels; M and N off the tile sizes, kc of 1 to 256.
TEST_CASE("gemm_a_rows equals gemm on one K slice, bitwise, at every ISA with the in-place kernels") {
  IsaGuard guard;
  std::mt19937 rng(23);
  struct Case {
    index_t M, N, kc;
  };
  const std::vector<Case> cases = {{37, 29, 11}, {8, 48, 256}, {13, 50, 100}, {98, 64, 32}, {3, 130, 7}, {17, 1, 1}};
  int checked = 0;
  for (Isa isa : supported_isas()) {
    set_active_isa(isa);
    if (!kernels::in_place_available<float>()) continue;
    const auto k = kernels::in_place_detail::active<float>();
    for (const Case& c : cases)
      for (float beta : {0.0f, 1.0f}) {
        INFO("isa " << isa_name(isa) << " M=" << c.M << " N=" << c.N << " kc=" << c.kc << " beta=" << beta);
        // Row i of A at buf + rows[i]: rows in reverse order, a gap of 5 values after each.
        const index_t pitch = c.kc + 5;
        const std::vector<float> buf = random_vector<float>(static_cast<std::size_t>(c.M * pitch), rng);
        std::vector<std::int32_t> rows(static_cast<std::size_t>(c.M));
        std::vector<float> dense(static_cast<std::size_t>(c.M * c.kc));
        for (index_t i = 0; i < c.M; ++i) {
          rows[static_cast<std::size_t>(i)] = static_cast<std::int32_t>((c.M - 1 - i) * pitch);
          for (index_t q = 0; q < c.kc; ++q)
            dense[static_cast<std::size_t>(i * c.kc + q)] = buf[static_cast<std::size_t>((c.M - 1 - i) * pitch + q)];
        }
        const std::vector<float> B = random_vector<float>(static_cast<std::size_t>(c.kc * c.N), rng);
        std::vector<float> packed(static_cast<std::size_t>((c.N + k.NR - 1) / k.NR * k.NR * c.kc));
        k.pack_b(false, B.data(), c.N, 0, c.kc, 0, c.N, packed.data());
        const std::vector<float> C = random_vector<float>(static_cast<std::size_t>(c.M * c.N), rng);
        std::vector<float> want = C, got = C;
        gemm<float>(false, false, c.M, c.N, c.kc, 1.0f, dense.data(), c.kc, B.data(), c.N, beta, want.data(), c.N);
        kernels::gemm_a_rows(c.M, c.N, c.kc, buf.data(), rows.data(), packed.data(), beta, got.data(), c.N);
        CHECK(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0);
        ++checked;
      }
  }
  CHECK(checked > 0);  // this machine has at least AVX2 (the project's machines do)
}

TEMPLATE_TEST_CASE("gemm_batched equals one gemm per batch entry, at 1 and 2 threads", "", float, double) {
  IsaGuard guard;
  std::mt19937 rng(11);
  struct Case {
    index_t batch, M, N, K;
  };
  // Small GEMMs (threads take whole GEMMs), and few large ones (each GEMM is split).
  for (const Case& cs : {Case{6, 13, 29, 21}, Case{3, 150, 97, 130}, Case{1, 40, 40, 40}}) {
    for (int t = 0; t < 4; ++t) {
      const bool ta = t & 1, tb = t & 2;
      const index_t lda = ta ? cs.M : cs.K, ldb = tb ? cs.K : cs.N, ldc = cs.N;
      // Strides leave gaps between entries, which must stay untouched.
      const index_t sa = cs.M * cs.K + 3, sb = cs.K * cs.N + 1, sc = cs.M * cs.N + 2;
      const std::vector<TestType> A = random_vector<TestType>(cs.batch * sa, rng);
      const std::vector<TestType> B = random_vector<TestType>(cs.batch * sb, rng);
      const std::vector<TestType> C0 = random_vector<TestType>(cs.batch * sc, rng);
      std::vector<TestType> want = C0;
      set_num_threads(1);
      for (index_t b = 0; b < cs.batch; ++b)
        gemm<TestType>(ta, tb, cs.M, cs.N, cs.K, TestType(0.5), A.data() + b * sa, lda, B.data() + b * sb, ldb,
                       TestType(2), want.data() + b * sc, ldc);
      for (int threads : {1, 2}) {
        set_num_threads(threads);
        std::vector<TestType> got = C0;
        gemm_batched<TestType>(ta, tb, cs.M, cs.N, cs.K, TestType(0.5), A.data(), lda, B.data(), ldb,
                               TestType(2), got.data(), ldc, cs.batch, sa, sb, sc);
        INFO("batch=" << cs.batch << " M=" << cs.M << " N=" << cs.N << " K=" << cs.K << " t=" << t
                      << " threads=" << threads);
        CHECK(std::memcmp(got.data(), want.data(), got.size() * sizeof(TestType)) == 0);
      }
    }
  }
}

// im2col / col2im against their definitions written out element by element, on random
// geometries: strides, paddings (also wider than the kernel), dilations, odd sizes, and a row
// stride `ld` larger than a row.
namespace {
template <class T>
void im2col_naive(const T* x, const kernels::Window2d& g, T* cols, T pad, index_t ld) {
  const index_t oh = g.out_h(), ow = g.out_w();
  for (index_t c = 0; c < g.channels; ++c)
    for (index_t i = 0; i < g.kernel_h; ++i)
      for (index_t j = 0; j < g.kernel_w; ++j)
        for (index_t oy = 0; oy < oh; ++oy)
          for (index_t ox = 0; ox < ow; ++ox) {
            const index_t y = oy * g.stride_h - g.pad_h + i * g.dilation_h;
            const index_t xx = ox * g.stride_w - g.pad_w + j * g.dilation_w;
            const bool inside = y >= 0 && y < g.height && xx >= 0 && xx < g.width;
            cols[((c * g.kernel_h + i) * g.kernel_w + j) * ld + oy * ow + ox] =
                inside ? x[(c * g.height + y) * g.width + xx] : pad;
          }
}

template <class T>
void col2im_naive(const T* cols, const kernels::Window2d& g, T* x, index_t ld) {
  const index_t oh = g.out_h(), ow = g.out_w();
  for (index_t c = 0; c < g.channels; ++c)
    for (index_t i = 0; i < g.kernel_h; ++i)
      for (index_t j = 0; j < g.kernel_w; ++j)
        for (index_t oy = 0; oy < oh; ++oy)
          for (index_t ox = 0; ox < ow; ++ox) {
            const index_t y = oy * g.stride_h - g.pad_h + i * g.dilation_h;
            const index_t xx = ox * g.stride_w - g.pad_w + j * g.dilation_w;
            if (y >= 0 && y < g.height && xx >= 0 && xx < g.width)
              x[(c * g.height + y) * g.width + xx] += cols[((c * g.kernel_h + i) * g.kernel_w + j) * ld + oy * ow + ox];
          }
}
}  // namespace

TEMPLATE_TEST_CASE("im2col and col2im equal their element-wise definitions", "", float, double) {
  // Both versions (row copies and gathers; im2col picks one by shape) on every geometry, whole
  // and in a band of output rows, for every ISA the CPU has.
  using Im2col = void (*)(const TestType*, const kernels::Window2d&, TestType*, TestType, index_t, index_t, index_t);
  // (col2im's last argument: overwrite x instead of adding to it; the rows version only adds)
  using Col2im = void (*)(const TestType*, const kernels::Window2d&, TestType*, index_t, index_t, index_t, bool);
  const std::pair<const char*, std::pair<Im2col, Col2im>> versions[] = {
      {"rows",
       {kernels::im2col_rows<TestType>,
        [](const TestType* c, const kernels::Window2d& g, TestType* x, index_t ld, index_t b0, index_t b1, bool overwrite) {
          if (overwrite) std::fill(x, x + g.channels * g.height * g.width, TestType(0));
          kernels::col2im_rows(c, g, x, ld, b0, b1);
        }}},
      {"gather", {kernels::im2col_gather<TestType>, kernels::col2im_gather<TestType>}},
      {"chosen", {kernels::im2col<TestType>, kernels::col2im<TestType>}}};
  std::mt19937 rng(17);
  auto pick = [&](int lo, int hi) { return static_cast<index_t>(std::uniform_int_distribution<int>(lo, hi)(rng)); };
  int tested = 0, gathered = 0, paired = 0, every_other = 0;
  for (int trial = 0; trial < 300; ++trial) {
    kernels::Window2d g{pick(1, 3), pick(1, 13), trial % 3 ? pick(1, 13) : pick(14, 40), pick(1, 5), pick(1, 5)};
    g.stride_h = pick(1, 3), g.stride_w = pick(1, 3);
    g.pad_h = pick(0, 6), g.pad_w = pick(0, 6);
    g.dilation_h = pick(1, 3), g.dilation_w = pick(1, 3);
    if (g.out_h() <= 0 || g.out_w() <= 0) continue;
    ++tested;
    gathered += kernels::im2col_prefers_gather(g);
    paired += g.kernel_w == 4 && g.stride_w == 2 && g.dilation_w == 1;  // col2im_pairs_avx512's windows
    every_other += g.stride_w == 2 && g.dilation_w == 1 && g.out_w() > 16;  // several vectors per row (float, AVX-512)
    const index_t oh = g.out_h(), ow = g.out_w(), L = oh * ow, P = g.patch_size(), ld = L + pick(0, 3);
    std::vector<TestType> x(static_cast<std::size_t>(g.channels * g.height * g.width));
    for (auto& v : x) v = static_cast<TestType>(std::uniform_real_distribution<double>(-1, 1)(rng));
    std::vector<TestType> naive(static_cast<std::size_t>(P * ld), TestType(7));
    const TestType pad = trial % 2 ? TestType(0) : TestType(-3.5);
    im2col_naive(x.data(), g, naive.data(), pad, ld);
    std::vector<TestType> back_naive(x.size(), TestType(0.25));
    col2im_naive(naive.data(), g, back_naive.data(), ld);
    // A band [b0, b1) of output rows with its own row stride.
    const index_t b0 = pick(0, static_cast<int>(oh - 1)), b1 = pick(static_cast<int>(b0 + 1), static_cast<int>(oh));
    const index_t band_ld = (b1 - b0) * ow + pick(0, 2);
    for (const auto& [name, fns] : versions)
    for (Isa isa : supported_isas()) {  // the gathers have a version per ISA
      IsaGuard guard;
      set_active_isa(isa);
      INFO(name << " " << isa_name(isa) << ", trial " << trial << ": C" << g.channels << " " << g.height << "x" << g.width << " k" << g.kernel_h
                << "x" << g.kernel_w << " s" << g.stride_h << "," << g.stride_w << " p" << g.pad_h << "," << g.pad_w
                << " d" << g.dilation_h << "," << g.dilation_w << ", band " << b0 << ".." << b1);
      std::vector<TestType> fast(naive.size(), TestType(7));
      fns.first(x.data(), g, fast.data(), pad, ld, 0, -1);
      REQUIRE(fast == naive);  // a copy: bitwise equal, padding between rows untouched
      std::vector<TestType> back_fast(x.size(), TestType(0.25));
      fns.second(naive.data(), g, back_fast.data(), ld, 0, -1, false);
      REQUIRE(back_fast == back_naive);  // same additions in the same order
      std::vector<TestType> fold(x.size(), TestType(9.5)), fold_naive(x.size(), TestType(0));
      col2im_naive(naive.data(), g, fold_naive.data(), ld);
      fns.second(naive.data(), g, fold.data(), ld, 0, -1, true);
      REQUIRE(fold == fold_naive);  // overwriting: the bits of a fold onto zeros

      std::vector<TestType> band(static_cast<std::size_t>(P * band_ld), TestType(7));
      fns.first(x.data(), g, band.data(), pad, band_ld, b0, b1);
      bool band_equal = true;
      for (index_t p = 0; p < P; ++p)
        for (index_t l = 0; l < (b1 - b0) * ow; ++l)
          band_equal = band_equal && band[p * band_ld + l] == naive[p * ld + b0 * ow + l];
      REQUIRE(band_equal);
      // The band folded back equals the naive fold of the band's columns alone.
      std::vector<TestType> only_band(naive.size(), TestType(0));
      for (index_t p = 0; p < P; ++p)
        for (index_t l = 0; l < (b1 - b0) * ow; ++l) only_band[p * ld + b0 * ow + l] = naive[p * ld + b0 * ow + l];
      std::vector<TestType> band_back(x.size(), TestType(0.25)), band_back_naive = band_back;
      col2im_naive(only_band.data(), g, band_back_naive.data(), ld);
      fns.second(band.data(), g, band_back.data(), band_ld, b0, b1, false);
      REQUIRE(band_back == band_back_naive);
    }
  }
  CHECK(tested > 100);
  CHECK(gathered > 20);
  CHECK(tested - gathered > 20);
  CHECK(paired >= 3);
  CHECK(every_other >= 3);
}

// max_pool2d_argmax against a plain scan of each window (first maximum in row-major order, a
// NaN counts as the maximum and the first NaN wins), on planes full of ties, NaNs and -inf, for
// the 2x2 / stride-2 fast path (odd sizes leave a row and column out; rows of 1 to 40 windows,
// so 0 to 2 blocks of the 4-, 8- and 16-lane versions and a scalar rest, and some of up to 150,
// more than one streamed piece) and general windows, at every ISA, with and without streaming
// stores.
TEMPLATE_TEST_CASE("max_pool2d_argmax equals a plain scan of each window", "", float, double) {
  IsaGuard guard;
  std::mt19937 rng(23);
  const TestType specials[] = {std::numeric_limits<TestType>::quiet_NaN(), -std::numeric_limits<TestType>::infinity(),
                               TestType(1), TestType(2)};
  for (int trial = 0; trial < 600; ++trial) {
    set_active_isa(supported_isas()[static_cast<std::size_t>(trial) % supported_isas().size()]);
    const bool fast = trial % 2 == 0;
    kernels::Window2d g{1, static_cast<index_t>(2 + rng() % 9), static_cast<index_t>(2 + rng() % (trial % 8 == 0 ? 300 : 80)), 2, 2};
    g.stride_h = g.stride_w = 2;
    if (!fast) {
      g.kernel_h = static_cast<index_t>(1 + rng() % 3), g.kernel_w = static_cast<index_t>(1 + rng() % 3);
      g.stride_h = static_cast<index_t>(1 + rng() % 2), g.stride_w = static_cast<index_t>(1 + rng() % 2);
    }
    if (g.kernel_h > g.height || g.kernel_w > g.width) continue;  // every window inside the image
    const index_t oh = g.out_h(), ow = g.out_w();
    std::vector<TestType> x(static_cast<std::size_t>(g.height * g.width));
    for (auto& v : x) v = rng() % 5 == 0 ? specials[rng() % 4] : static_cast<TestType>(rng() % 3);
    std::vector<std::int64_t> got(static_cast<std::size_t>(oh * ow));
    std::vector<TestType> values(got.size());
    const bool stream = trial % 4 < 2;  // the streamed path writes the same bytes
    kernels::max_pool2d_argmax(x.data(), g, oh, ow, got.data(), values.data(), stream);
    for (index_t oy = 0; oy < oh; ++oy)
      for (index_t ox = 0; ox < ow; ++ox) {
        std::int64_t best = -1;
        for (index_t ky = 0; ky < g.kernel_h; ++ky)
          for (index_t kx = 0; kx < g.kernel_w; ++kx) {
            const std::int64_t at = (oy * g.stride_h + ky) * g.width + ox * g.stride_w + kx;
            const TestType v = x[static_cast<std::size_t>(at)];
            if (best < 0) best = at;
            const TestType b = x[static_cast<std::size_t>(best)];
            if (!std::isnan(b) && (v > b || std::isnan(v))) best = at;
          }
        INFO("trial " << trial << " (" << isa_name(active_isa()) << (stream ? ", streamed" : "") << ") window (" << oy << ", " << ox << ") of " << g.height << "x" << g.width << " k"
                      << g.kernel_h << "x" << g.kernel_w << " s" << g.stride_h << "," << g.stride_w);
        REQUIRE(got[static_cast<std::size_t>(oy * ow + ox)] == best);
        // the maximum itself, bit for bit (NaN included)
        REQUIRE(std::memcmp(&values[static_cast<std::size_t>(oy * ow + ox)], &x[static_cast<std::size_t>(best)],
                            sizeof(TestType)) == 0);
      }
  }
}
