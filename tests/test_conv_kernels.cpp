// kernels/: the three convolution kernels (forward, backward-data, backward-weights) against the
// reference loops of conv_reference.hpp on random and odd shapes (primes, sizes that no tile or
// band divides, strides, padding, dilation, groups, a batch of one cut into bands), in float
// (1e-5 of the largest value) and double (1e-12), at every ISA this CPU has; and bitwise the
// same result at 1 and 2 threads.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <ink/core.hpp>
#include <ink/kernels/conv.hpp>
#include <ink/kernels/conv_reference.hpp>

#include "isa_support.hpp"

using namespace ink;
using ink::testing::IsaGuard;
using ink::testing::supported_isas;
using namespace ink::kernels;

namespace {

template <class T>
std::vector<T> random_values(index_t n, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<T> v(static_cast<std::size_t>(n));
  for (T& e : v) e = static_cast<T>(u(rng));
  return v;
}

// max |a - b| / max |b|
template <class T>
double relative_error(const std::vector<T>& a, const std::vector<T>& b) {
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::abs(static_cast<double>(a[i]) - static_cast<double>(b[i])));
    scale = std::max(scale, std::abs(static_cast<double>(b[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

std::string describe(const Conv2dShape& s) {
  const Window2d& g = s.window;
  std::ostringstream o;
  o << "N=" << s.batch << " Cin=" << g.channels << " H=" << g.height << " W=" << g.width << " Cout=" << s.out_channels
    << " k=" << g.kernel_h << "x" << g.kernel_w << " stride=" << g.stride_h << "," << g.stride_w << " pad=" << g.pad_h
    << "," << g.pad_w << " dil=" << g.dilation_h << "," << g.dilation_w << " groups=" << s.groups;
  return o.str();
}

// The three directions' results, sized for shape s.
template <class T>
struct Results {
  std::vector<T> y, dx, dw;
  explicit Results(const Conv2dShape& s)
      : y(static_cast<std::size_t>(s.batch * s.output_size())), dx(static_cast<std::size_t>(s.batch * s.input_size())),
        dw(static_cast<std::size_t>(s.weight_size())) {}
};
// The three kernels at the current ISA and thread count.
template <class T>
Results<T> run_fast(const Conv2dShape& s, const std::vector<T>& x, const std::vector<T>& w, const std::vector<T>& dy) {
  Results<T> r(s);
  conv2d_forward(x.data(), w.data(), r.y.data(), s);
  conv2d_backward_data(dy.data(), w.data(), r.dx.data(), s);
  conv2d_backward_weights(x.data(), dy.data(), r.dw.data(), s);
  return r;
}

template <class T>
void check_shape(const Conv2dShape& s, std::mt19937& rng, double tolerance) {
  INFO(describe(s));
  const std::vector<T> x = random_values<T>(s.batch * s.input_size(), rng);
  const std::vector<T> w = random_values<T>(s.weight_size(), rng);
  const std::vector<T> dy = random_values<T>(s.batch * s.output_size(), rng);
  Results<T> ref(s);
  conv2d_forward_reference(x.data(), w.data(), ref.y.data(), s);
  conv2d_backward_data_reference(dy.data(), w.data(), ref.dx.data(), s);
  conv2d_backward_weights_reference(x.data(), dy.data(), ref.dw.data(), s);
  IsaGuard guard;
  for (Isa isa : supported_isas()) {
    INFO("isa " << isa_name(isa));
    set_active_isa(isa);
    set_num_threads(1);
    const Results<T> one = run_fast(s, x, w, dy);
    CHECK(relative_error(one.y, ref.y) < tolerance);
    CHECK(relative_error(one.dx, ref.dx) < tolerance);
    CHECK(relative_error(one.dw, ref.dw) < tolerance);
    set_num_threads(2);
    const Results<T> two = run_fast(s, x, w, dy);
    CHECK(std::memcmp(one.y.data(), two.y.data(), one.y.size() * sizeof(T)) == 0);
    CHECK(std::memcmp(one.dx.data(), two.dx.data(), one.dx.size() * sizeof(T)) == 0);
    CHECK(std::memcmp(one.dw.data(), two.dw.data(), one.dw.size() * sizeof(T)) == 0);
  }
}

Conv2dShape shape(index_t n, index_t cin, index_t h, index_t w, index_t cout, index_t k, index_t stride = 1,
                  index_t pad = 0, index_t dilation = 1, index_t groups = 1) {
  return Conv2dShape{n, Window2d{cin, h, w, k, k, stride, stride, pad, pad, dilation, dilation}, cout, groups};
}

// Hand-picked shapes that reach each path of conv.hpp: small images several to a GEMM, one
// image in bands (many bands with a large patch, a batch of one), pointwise, groups, strided
// and dilated windows, and odd sizes everywhere.
std::vector<Conv2dShape> chosen_shapes() {
  return {
      shape(3, 5, 7, 6, 7, 3, 1, 1),          // small images, grouped into one GEMM
      shape(2, 3, 17, 19, 5, 3, 1, 1),        // 17x19 outputs: banded, one band
      shape(11, 3, 17, 16, 4, 3, 1, 1),       // more images than weight-gradient chunks
      shape(100, 2, 5, 5, 3, 3, 1, 1),        // more tiles of small images than chunks
      shape(1, 67, 23, 29, 13, 3, 1, 1),      // a batch of one, several bands of a large patch
      shape(2, 40, 31, 18, 9, 3, 1, 0),       // several bands, no padding
      shape(1, 7, 17, 16, 11, 1),             // pointwise
      shape(3, 6, 9, 11, 4, 1, 2),            // 1x1 with stride: not pointwise
      shape(2, 4, 15, 13, 6, 4, 2, 1),        // 4x4 stride 2 (DCGAN)
      // h's 7x7 outputs of 4x4 stride-2 windows (16 positions span 3 output rows), and a
      // horizontal stride 3 with dilation 2 and more padding than the stride
      shape(3, 5, 14, 14, 9, 4, 2, 1),
      Conv2dShape{2, Window2d{4, 11, 23, 3, 5, 2, 3, 1, 3, 1, 2}, 5, 1},
      shape(2, 6, 12, 10, 9, 3, 1, 2, 2, 3),  // dilation and groups
      shape(5, 1, 28, 28, 3, 5, 1, 2),        // one input channel
      shape(1, 3, 33, 35, 2, 9, 1, 4),        // 9x9, three channels
      // the stride-1 forward with the patch matrix read in place (patch_rows.hpp): output rows
      // of 100 (two full 48-wide tiles and a partial one), 11 output channels (a partial A
      // panel), a patch of 3 K slices (67 x 9 = 603), rows at stride 2 and columns at stride 1
      shape(2, 3, 20, 100, 11, 5, 1, 2),
      Conv2dShape{1, Window2d{67, 13, 61, 3, 3, 2, 1, 1, 1, 1, 1}, 13, 1},
      // and the weight gradient read in place: 50 output channels (two 48-wide B panels at
      // AVX-512), rows of 300 positions (two runs of at most 256), 45 patch rows (a partial
      // panel of patch rows)
      shape(1, 5, 3, 300, 50, 3, 1, 1),
      // weight gradients of short patches (dot products): 9 taps under 17 channels, 16 taps
      // of a 4x4 stride-2 window under 20, a banded batch of one with 2 x 9 taps under 41
      shape(6, 1, 12, 12, 17, 3, 1, 1),
      shape(3, 1, 10, 10, 20, 4, 2, 1),
      shape(1, 2, 30, 30, 41, 3, 1, 1),
      // a short patch's forward image by image within tiles (G2's backward-data: 1 channel,
      // 4x4 stride 2, 14x14 = 196 positions; 5 images, tiles of 2 and 3), and grouped (2 x 16
      // taps) with 14x13 = 182 positions
      shape(5, 1, 28, 28, 9, 4, 2, 1),
      shape(3, 4, 29, 26, 6, 4, 2, 1, 1, 2),
      // Winograd F(2x2, 3x3): odd sizes (partial tiles), channel counts that are not whole
      // vectors, padding 0, 1 and 2, one image and many, several units of tile rows
      shape(2, 17, 9, 7, 19, 3, 1, 1),
      shape(1, 16, 13, 11, 16, 3, 1, 0),
      shape(3, 33, 6, 5, 18, 3, 1, 2),
      shape(1, 20, 70, 9, 17, 3, 1, 1),
      shape(9, 24, 14, 14, 31, 3, 1, 1),
      // Winograd F(4x4, 3x3) for the weight gradient (64 channels or more each way): partial
      // 4x4 tiles, channels that are not whole vectors, padding 0, 1 and 2, two images in two
      // units summed as chunks
      shape(2, 67, 39, 37, 80, 3, 1, 1),
      shape(1, 64, 21, 43, 64, 3, 1, 0),
      shape(1, 70, 18, 18, 66, 3, 1, 2),
  };
}

}  // namespace

TEST_CASE("conv kernels equal the reference loops on chosen shapes, at 1 and 2 threads bitwise") {
  std::mt19937 rng(7);
  for (const Conv2dShape& s : chosen_shapes()) {
    check_shape<float>(s, rng, 1e-5);
    check_shape<double>(s, rng, 1e-12);
  }
}

TEST_CASE("conv kernels equal the reference loops on random shapes") {
  std::mt19937 rng(11);
  auto pick = [&](index_t lo, index_t hi) { return std::uniform_int_distribution<index_t>(lo, hi)(rng); };
  for (int trial = 0; trial < 24; ++trial) {
    const index_t groups = pick(1, 3), k = pick(1, 4), stride = pick(1, 2), dilation = pick(1, 2);
    const index_t pad = pick(0, k - 1);
    const index_t extent = dilation * (k - 1) + 1;
    const index_t h = pick(std::max<index_t>(extent - 2 * pad, 1), 21), w = pick(std::max<index_t>(extent - 2 * pad, 1), 21);
    const Conv2dShape s = shape(pick(1, 4), groups * pick(1, 5), h, w, groups * pick(1, 5), k, stride, pad, dilation, groups);
    if (trial % 2 == 0) check_shape<float>(s, rng, 1e-5);
    else check_shape<double>(s, rng, 1e-12);
  }
}

// The patch matrix packed straight into GEMM panels (patch_pack.hpp) holds the values im2col
// writes, in the layout the GEMM's own packing gives them: with the offset limit at 0 every
// convolution goes through im2col instead (the path of patch matrices too large for 32-bit
// offsets), and the results must be the same bits, at every ISA. The stride-1 forward that
// reads the patch matrix in place (patch_rows.hpp) makes the packed GEMM's operations in the
// same order, so it is held to the same bits.
TEST_CASE("conv kernels through im2col give the bits of the packed patch panels") {
  struct LimitGuard {
    index_t saved = patch_detail::offset_limit;
    ~LimitGuard() { patch_detail::offset_limit = saved; }
  } limit_guard;
  IsaGuard guard;
  std::mt19937 rng(13);
  auto same = [](const auto& a, const auto& b) { return std::memcmp(a.data(), b.data(), a.size() * sizeof(a[0])) == 0; };
  for (const Conv2dShape& s : chosen_shapes()) {
    INFO(describe(s));
    const std::vector<float> x = random_values<float>(s.batch * s.input_size(), rng);
    const std::vector<float> w = random_values<float>(s.weight_size(), rng);
    const std::vector<float> dy = random_values<float>(s.batch * s.output_size(), rng);
    for (Isa isa : supported_isas()) {
      INFO("isa " << isa_name(isa));
      set_active_isa(isa);
      patch_detail::offset_limit = limit_guard.saved;
      const Results<float> panels = run_fast(s, x, w, dy);
      patch_detail::offset_limit = 0;
      const Results<float> im2col = run_fast(s, x, w, dy);
      CHECK(same(panels.y, im2col.y));
      CHECK(same(panels.dx, im2col.dx));
      // At horizontal stride 1 the weight gradient reads the patch rows in place instead of
      // packing panels (patch_rows.hpp), summing in another order: there the two agree to
      // rounding (and each with the reference loops, check_shape).
      if (patch_rows_applies<float>(s.window)) CHECK(relative_error(panels.dw, im2col.dw) < 1e-5);
      else CHECK(same(panels.dw, im2col.dw));
    }
  }
}

// Winograd's weight gradient with units large enough to run in turn into one sum, the threads
// sharing each unit's tile rows and points (winograd::kSplitUnitWork: 256 x 256 channels; one
// unit of 8 rows of 4x4 tiles, split 4 + 4; then, in 2x2 tiles since 4x4 ones would overhang
// 22 x 50 by 13%, two units of 6 and 5 rows of 25 tiles, split 3 + 3 and 2 + 3).
TEST_CASE("conv kernels equal the reference loops when Winograd's weight-gradient GEMMs split") {
  std::mt19937 rng(17);
  check_shape<float>(shape(1, 256, 32, 32, 256, 3, 1, 1), rng, 1e-5);
  check_shape<float>(shape(1, 256, 22, 50, 256, 3, 1, 1), rng, 1e-5);
}

// The patch panels' vector packing (runs of consecutive offsets as masked loads, runs of every
// other offset as two loads and a permute, else gathers) against the scalar packing, bitwise,
// on random offset tables: runs of step 1, 2 and 3 of random lengths at random jumps, panel
// widths that leave a part-filled last panel.
TEST_CASE("patch panels packed per ISA equal the scalar packing") {
  using ink::kernels::PatchPanels;
  std::mt19937 rng(29);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  std::vector<float> base(4096);
  for (auto& v : base) v = std::uniform_real_distribution<float>(-1, 1)(rng);
  int strided = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const index_t kc = pick(1, 9), n = pick(1, 100);
    const int NR = trial % 2 ? 48 : 16;
    std::vector<std::int32_t> row(static_cast<std::size_t>(kc)), col(static_cast<std::size_t>(n));
    for (auto& r : row) r = pick(0, 1000);
    std::int32_t at = pick(0, 40);
    for (index_t l = 0; l < n;) {
      const int step = pick(1, 3), len = pick(1, 12);
      strided += step == 2 && len > 1;
      for (int j = 0; j < len && l < n; ++j, ++l, at += step) col[static_cast<std::size_t>(l)] = at;
      at += pick(0, 30);
    }
    const PatchPanels<float> panels{base.data(), row.data(), col.data()};
    const std::size_t size = static_cast<std::size_t>((n + NR - 1) / NR * NR * kc);
    std::vector<float> scalar(size, 7.0f);
    ink::kernels::patch_detail::pack_scalar(base.data(), row.data(), kc, col.data(), n, NR, scalar.data());
    for (Isa isa : supported_isas()) {
      IsaGuard guard;
      ink::set_active_isa(isa);
      std::vector<float> packed(size, 7.0f);
      ink::kernels::pack_patch_panels<float>(&panels, 0, kc, 0, n, NR, packed.data());
      INFO("trial " << trial << ", " << ink::isa_name(isa) << ", kc " << kc << ", n " << n << ", NR " << NR);
      REQUIRE(packed == scalar);
    }
  }
  CHECK(strided > 100);
}
