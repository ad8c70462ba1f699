// The layer ops (conv, pooling, resampling, normalisation, activations, losses): gradcheck and
// gradgradcheck in double on small odd shapes with every option, plus forward values that can
// be worked out by hand. Golden values against PyTorch are in test_ops.cpp.
#include <catch2/catch.hpp>

#include <ink/ink.hpp>

using namespace ink;
using Vec = std::vector<Tensor<double>>;
using autograd::gradcheck;
using autograd::gradgradcheck;

namespace {
Tensor<double> input(const Shape& s, std::uint64_t seed) {
  Generator g(seed);
  return randn<double>(s, g).requires_grad_();
}
// gradcheck and gradgradcheck of f at the given inputs.
void check_both(const autograd::DoubleFunction& f, const Vec& in) {
  CHECK_NOTHROW(gradcheck(f, in));
  CHECK_NOTHROW(gradgradcheck(f, in));
}
}  // namespace

TEST_CASE("conv2d: values and gradients for stride, padding, dilation, groups, reflect padding") {
  // A 1x1 input channel with an all-ones 2x2 kernel sums each window.
  Tensor<double> x = arange<double>(9.0).reshape({1, 1, 3, 3});
  Tensor<double> w = ones<double>({1, 1, 2, 2});
  CHECK(conv2d(x, w).to_vector() == std::vector<double>{8, 12, 20, 24});
  CHECK(conv2d(x, w, scalar_tensor(1.0).reshape({1}), {.padding = 1}).shape() == Shape{1, 1, 4, 4});

  const Vec cases[] = {{input({2, 3, 5, 4}, 1), input({4, 3, 3, 2}, 2), input({4}, 3)}};
  for (const Conv2dOptions& o : {Conv2dOptions{}, Conv2dOptions{.stride = 2, .padding = 1},
                                 Conv2dOptions{.stride = {1, 2}, .padding = {2, 1}, .dilation = 2},
                                 Conv2dOptions{.padding = 1, .padding_mode = PaddingMode::reflect}}) {
    check_both([o](const Vec& v) { return conv2d(v[0], v[1], v[2], o); }, cases[0]);
  }
  // groups (and depthwise: groups == channels)
  check_both([](const Vec& v) { return conv2d(v[0], v[1], v[2], {.padding = 1, .groups = 2}); },
             {input({1, 4, 4, 3}, 4), input({6, 2, 3, 3}, 5), input({6}, 6)});
  check_both([](const Vec& v) { return conv2d(v[0], v[1], Tensor<double>(), {.groups = 3}); },
             {input({2, 3, 4, 4}, 7), input({3, 1, 2, 2}, 8)});
}

// The fused convolution kernels cut work by shape: one image in bands of output rows (at least
// 256 output positions, or a batch of one), a 1x1 stride-1 convolution multiplying the image
// itself, several small images per GEMM, or Winograd tiles for 3x3 stride-1 windows. Each path against the same convolution written as
// per-group matmuls, and the gradients of each (gradcheck / gradgradcheck in double).
TEST_CASE("conv2d tiling paths: pointwise, banded and grouped images agree with matmuls") {
  Generator gen(31);
  auto reference = [](const Tensor<double>& x, const Tensor<double>& w, index_t groups) {
    // 1x1 convolution: out[n, g*Cg + o, p] = sum_i w[g*Cg + o, i] x[n, g*Pg + i, p]
    const index_t n = x.size(0), cin = x.size(1), cout = w.size(0), L = x.size(2) * x.size(3);
    const index_t Pg = cin / groups, Cg = cout / groups;
    std::vector<Tensor<double>> parts;
    for (index_t g = 0; g < groups; ++g) {
      const Tensor<double> wg = w.narrow(0, g * Cg, Cg).reshape({Cg, Pg});
      const Tensor<double> xg = x.narrow(1, g * Pg, Pg).reshape({n, Pg, L});
      parts.push_back(matmul(wg, xg));
    }
    return cat(parts, 1).reshape({n, cout, x.size(2), x.size(3)});
  };
  for (index_t batch : {1, 2, 5}) {
    for (index_t side : {3, 17}) {  // 9 positions: grouped images (batch > 1); 289: banded / pointwise
      const Tensor<double> x = randn<double>({batch, 4, side, side}, gen);
      const Tensor<double> w = randn<double>({6, 2, 1, 1}, gen);
      INFO("batch " << batch << ", " << side << "x" << side);
      const Tensor<double> diff = (conv2d(x, w, Tensor<double>(), {.groups = 2}) - reference(x, w, 2)).abs();
      CHECK(diff.max().item() < 1e-12);
    }
  }
  // gradients through each path: a batch of one 16x16 image (pointwise), a 3x3 kernel on it
  // (banded), and three 5x5 images (grouped)
  check_both([](const Vec& v) { return conv2d(v[0], v[1], Tensor<double>(), {.groups = 2}); },
             {randn<double>({1, 4, 16, 16}, gen).requires_grad_(), randn<double>({6, 2, 1, 1}, gen).requires_grad_()});
  check_both([](const Vec& v) { return conv2d(v[0], v[1], Tensor<double>(), {.padding = 1}); },
             {randn<double>({1, 2, 16, 16}, gen).requires_grad_(), randn<double>({3, 2, 3, 3}, gen).requires_grad_()});
  check_both([](const Vec& v) { return conv_transpose2d(v[0], v[1], Tensor<double>(), {.stride = 2, .padding = 1}); },
             {randn<double>({3, 2, 5, 5}, gen).requires_grad_(), randn<double>({2, 3, 4, 4}, gen).requires_grad_()});
  // 3x3 stride 1 with 16 channels each way: the Winograd kernels (on CPUs with AVX2), all three
  // directions and their gradients, padding 1 and (transposed) 0
  check_both([](const Vec& v) { return conv2d(v[0], v[1], Tensor<double>(), {.padding = 1}); },
             {randn<double>({2, 16, 3, 5}, gen).requires_grad_(), randn<double>({16, 16, 3, 3}, gen).requires_grad_()});
  check_both([](const Vec& v) { return conv_transpose2d(v[0], v[1], Tensor<double>(), {}); },
             {randn<double>({1, 16, 2, 3}, gen).requires_grad_(), randn<double>({16, 16, 3, 3}, gen).requires_grad_()});
}

TEST_CASE("conv2d rejects bad shapes with messages that name them") {
  CHECK_THROWS_WITH(conv2d(zeros<float>({8, 3, 32, 32}), zeros<float>({16, 1, 3, 3})),
                    "conv2d: input has 3 channels but weight expects 1 (input [8,3,32,32], weight [16,1,3,3], groups 1)");
  CHECK_THROWS_AS(conv2d(zeros<float>({1, 1, 2, 2}), zeros<float>({1, 1, 3, 3})), ShapeError);
  CHECK_THROWS_AS(conv2d(zeros<float>({1, 1, 4}), zeros<float>({1, 1, 3, 3})), ShapeError);
  CHECK_THROWS_AS(conv2d(zeros<float>({1, 1, 4, 4}), zeros<float>({1, 1, 3, 3}), zeros<float>({2})), ShapeError);
}

TEST_CASE("conv_transpose2d is the adjoint of conv2d") {
  // <conv2d(x, w), y> == <x, conv_transpose2d(y, w)> for any x, y.
  Tensor<double> x = input({2, 3, 7, 6}, 11).detach(), w = input({4, 3, 3, 3}, 12).detach();
  const Conv2dOptions o{.stride = 2, .padding = 1};
  Tensor<double> y = randn<double>(conv2d(x, w, {}, o).shape());
  const double lhs = (conv2d(x, w, {}, o) * y).sum().item();
  Tensor<double> xt = conv_transpose2d(y, w, {}, {.stride = 2, .padding = 1, .output_padding = {0, 1}});
  REQUIRE(xt.shape() == x.shape());
  CHECK(lhs == Approx((x * xt).sum().item()).epsilon(1e-12));

  for (const ConvTranspose2dOptions& opt : {ConvTranspose2dOptions{}, ConvTranspose2dOptions{.stride = 2, .padding = 1, .output_padding = 1},
                                            ConvTranspose2dOptions{.stride = {2, 1}, .dilation = 2, .groups = 2}})
    check_both([opt](const Vec& v) { return conv_transpose2d(v[0], v[1], v[2], opt); },
               {input({2, 4, 3, 4}, 13), input({4, 3, 2, 3}, 14), input({opt.groups * 3}, 15)});
}

TEST_CASE("pooling: values and gradients") {
  Tensor<double> x = from_vector<double>({1, 5, 2, 0, 3, 4, 9, 8, 7, 6, 1, 2, 0, 0, 3, 3}, {1, 1, 4, 4});
  CHECK(max_pool2d(x, 2).to_vector() == std::vector<double>{5, 9, 7, 3});
  CHECK(avg_pool2d(x, 2).to_vector() == std::vector<double>{3.25, 4.75, 3.25, 2.25});
  CHECK(adaptive_avg_pool2d(x, 1).item() == Approx(54.0 / 16));
  // ceil_mode adds a window that starts inside the input; count_include_pad decides divisors
  CHECK(max_pool2d(x, 3, {.stride = 2, .ceil_mode = true}).shape() == Shape{1, 1, 2, 2});
  CHECK(avg_pool2d(x, 2, {.stride = 2, .padding = 1, .count_include_pad = false}).at({0, 0, 0, 0}) == 1);
  CHECK(avg_pool2d(x, 2, {.stride = 2, .padding = 1}).at({0, 0, 0, 0}) == 0.25);
  // the first maximum of a tie takes the whole gradient, as in PyTorch
  Tensor<double> tie = zeros<double>({1, 1, 2, 2}).requires_grad_();
  max_pool2d(tie, 2).sum().backward();
  CHECK(tie.grad().to_vector() == std::vector<double>{1, 0, 0, 0});

  Tensor<double> p = input({2, 3, 7, 6}, 21);
  check_both([](const Vec& v) { return max_pool2d(v[0], 3, {.stride = 2, .padding = 1, .ceil_mode = true}); }, {p});
  check_both([](const Vec& v) { return max_pool2d(v[0], {2, 3}, {.dilation = 2}); }, {p});
  check_both([](const Vec& v) { return avg_pool2d(v[0], 3, {.stride = 2, .padding = 1, .ceil_mode = true, .count_include_pad = false}); }, {p});
  check_both([](const Vec& v) { return avg_pool2d(v[0], 2); }, {p});
  check_both([](const Vec& v) { return adaptive_avg_pool2d(v[0], {3, 4}); }, {p});
}

TEST_CASE("upsampling and reflection padding") {
  Tensor<double> x = from_vector<double>({1, 2, 3, 4}, {1, 1, 2, 2});
  CHECK(upsample(x, {.scale_factor = 2.0}).to_vector() ==
        std::vector<double>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
  // bilinear, align_corners=False: the first output row of a 2->4 upsampling is 1, 1.25, 1.75, 2
  const auto b = upsample(x, {.size = Size2{4, 4}, .mode = UpsampleMode::bilinear}).to_vector();
  CHECK(b[0] == 1);
  CHECK(b[1] == 1.25);
  CHECK(b[2] == 1.75);
  CHECK(b[3] == 2);
  CHECK(reflection_pad2d(x, {1, 1, 0, 0}).to_vector() == std::vector<double>{2, 1, 2, 1, 4, 3, 4, 3});
  CHECK_THROWS_AS(reflection_pad2d(x, {2, 0, 0, 0}), ValueError);
  CHECK_THROWS_AS(upsample(x, {}), ValueError);

  Tensor<double> p = input({2, 2, 3, 4}, 31);
  check_both([](const Vec& v) { return upsample(v[0], {.scale_factor = 2.0}); }, {p});
  check_both([](const Vec& v) { return upsample(v[0], {.size = Size2{5, 7}, .mode = UpsampleMode::bilinear}); }, {p});
  check_both([](const Vec& v) { return reflection_pad2d(v[0], {2, 1, 1, 2}); }, {p});
}

TEST_CASE("normalisation") {
  Tensor<double> x = input({4, 3, 2, 3}, 41);
  Tensor<double> rm = zeros<double>({3}), rv = ones<double>({3});
  Tensor<double> y = batch_norm(x, rm, rv, Tensor<double>(), Tensor<double>());
  // each channel of the output has mean 0 and biased variance ~1
  CHECK(y.mean({0, 2, 3}).abs().max().item() < 1e-12);
  CHECK(y.var({0, 2, 3}, false).min().item() == Approx(1).epsilon(1e-4));
  // running statistics moved 10% of the way to the batch's (unbiased variance)
  CHECK(rm.at({1}) == Approx(0.1 * x.mean({0, 2, 3}).at({1})));
  CHECK(rv.at({1}) == Approx(0.9 + 0.1 * x.var({0, 2, 3}).at({1})));
  Tensor<double> ev = batch_norm(x, rm, rv, Tensor<double>(), Tensor<double>(), {.training = false});
  CHECK(ev.at({0, 1, 0, 0}) == Approx((x.at({0, 1, 0, 0}) - rm.at({1})) / std::sqrt(rv.at({1}) + 1e-5)));

  Tensor<double> w = input({3}, 42), b = input({3}, 43);
  check_both([](const Vec& v) { return batch_norm(v[0], Tensor<double>(), Tensor<double>(), v[1], v[2]); }, {x, w, b});
  check_both([](const Vec& v) { return instance_norm(v[0], v[1], v[2]); }, {x, w, b});
  check_both([](const Vec& v) { return group_norm(v[0], 3, v[1], v[2]); }, {x, w, b});
  check_both([](const Vec& v) { return layer_norm(v[0], {2, 3}, v[1], v[2]); }, {x, input({2, 3}, 44), input({2, 3}, 45)});
}

TEST_CASE("activations") {
  Tensor<double> x = from_vector<double>({-3, -0.5, 0.25, 2, 30}, {5});
  CHECK(leaky_relu(x, 0.1).to_vector() == std::vector<double>{-0.30000000000000004, -0.05, 0.25, 2, 30});
  CHECK(softplus(x).at({4}) == 30);  // above the threshold softplus is x itself
  CHECK(softplus(x).at({0}) == Approx(std::log1p(std::exp(-3.0))));
  CHECK(gelu(x).at({3}) == Approx(2 * 0.5 * (1 + std::erf(2 / std::sqrt(2.0)))));
  CHECK(elu(x).at({0}) == Approx(std::exp(-3.0) - 1));
  CHECK(softmax(x, 0).sum().item() == Approx(1));
  CHECK(log_softmax(x, 0).exp().sum().item() == Approx(1));
  // no overflow at extreme logits, and no NaN in the gradient of the unused branch
  Tensor<double> big = from_vector<double>({-1000, 1000}, {2}).requires_grad_();
  (elu(big) + softplus(big) + log_softmax(big, 0)).sum().backward();
  for (double g : big.grad().to_vector()) CHECK(std::isfinite(g));

  Tensor<double> p = input({3, 4}, 51);
  check_both([](const Vec& v) { return leaky_relu(v[0], 0.2); }, {p});
  check_both([](const Vec& v) { return elu(v[0], 0.7); }, {p});
  check_both([](const Vec& v) { return softplus(v[0], 2.0, 3.0); }, {p});
  check_both([](const Vec& v) { return gelu(v[0]); }, {p});
  check_both([](const Vec& v) { return softmax(v[0], 1); }, {p});
  check_both([](const Vec& v) { return log_softmax(v[0], 0); }, {p});
}

TEST_CASE("losses") {
  Tensor<double> logits = input({5, 4}, 61);
  Tensor<std::int64_t> labels = from_vector<std::int64_t>({0, 3, 1, 1, 2}, {5});
  // cross entropy is the mean of -log softmax at the label
  const Tensor<double> lsm = log_softmax(logits.detach(), 1);
  double expected = 0;
  for (index_t i = 0; i < 5; ++i) expected -= lsm.at({i, labels.at({i})});
  CHECK(cross_entropy(logits, labels).item() == Approx(expected / 5));
  CHECK_THROWS_AS(cross_entropy(logits, from_vector<std::int64_t>({0, 4, 1, 1, 2}, {5})), ValueError);
  CHECK_THROWS_AS(cross_entropy(logits, labels.narrow(0, 0, 3)), ShapeError);
  Tensor<double> t = rand<double>({5, 4}), pr = sigmoid(input({5, 4}, 62)).detach().requires_grad_();
  // BCE with logits equals BCE of the sigmoid
  CHECK(binary_cross_entropy_with_logits(logits, t).item() ==
        Approx(binary_cross_entropy(sigmoid(logits), t).item()).epsilon(1e-12));
  // saturated probabilities give finite losses and gradients
  Tensor<double> sat = from_vector<double>({0, 1}, {2}).requires_grad_();
  Tensor<double> l = binary_cross_entropy(sat, from_vector<double>({1, 0}, {2}));
  CHECK(l.item() == 100);
  l.backward();
  for (double g : sat.grad().to_vector()) CHECK(std::isfinite(g));
  CHECK(gaussian_kl(zeros<double>({2, 3}), zeros<double>({2, 3})).item() == 0);

  check_both([&](const Vec& v) { return cross_entropy(v[0], labels, {.label_smoothing = 0.2}); }, {logits});
  check_both([&](const Vec& v) { return cross_entropy(v[0], labels, {.reduction = Reduction::sum}); }, {logits});
  check_both([&](const Vec& v) { return nll_loss(log_softmax(v[0], 1), labels, Reduction::none); }, {logits});
  check_both([&](const Vec& v) { return binary_cross_entropy(v[0], v[1]); }, {pr, t.clone().requires_grad_()});
  check_both([&](const Vec& v) { return binary_cross_entropy_with_logits(v[0], v[1]); }, {logits, t.clone().requires_grad_()});
  check_both([](const Vec& v) { return mse_loss(v[0], v[1], Reduction::sum); }, {input({3, 2}, 63), input({3, 2}, 64)});
  check_both([](const Vec& v) { return l1_loss(v[0], v[1]); }, {input({3, 2}, 65), input({3, 2}, 66)});
  check_both([](const Vec& v) { return gaussian_kl(v[0], v[1]); }, {input({3, 2}, 67), input({3, 2}, 68)});
}

TEST_CASE("indexing ops, linear and dropout") {
  Tensor<double> x = input({3, 4}, 71);
  Tensor<std::int64_t> idx = from_vector<std::int64_t>({2, 0, 0, 1, 3, 3}, {3, 2});
  CHECK(gather(x, 1, idx).at({2, 1}) == x.at({2, 3}));
  CHECK_THROWS_AS(gather(x, 1, from_vector<std::int64_t>({4}, {1, 1})), ValueError);
  check_both([&](const Vec& v) { return gather(v[0], 1, idx); }, {x});
  check_both([&](const Vec& v) { return scatter_add(v[0], 1, idx, v[1]); }, {x, input({3, 2}, 72)});
  Tensor<std::int64_t> rows = from_vector<std::int64_t>({2, 2, 0}, {3});
  check_both([&](const Vec& v) { return index_select(v[0], 0, rows); }, {x});
  check_both([&](const Vec& v) { return index_add(v[0], 1, from_vector<std::int64_t>({1, 1}, {2}), v[1]); }, {x, input({3, 2}, 73)});
  check_both([](const Vec& v) { return linear(v[0], v[1], v[2]); }, {input({2, 3, 4}, 74), input({5, 4}, 75), input({5}, 76)});
  // linear is its own op (one GEMM reading W^T in place): strided inputs and weights (read in
  // place or copied), a 1-D input, no bias, and no input features, against matmul + add.
  check_both([](const Vec& v) { return linear(v[0].t(), v[1].t()); }, {input({4, 3}, 77), input({4, 5}, 78)});
  check_both([](const Vec& v) { return linear(v[0], v[1], v[2]); }, {input({4}, 79), input({5, 4}, 80), input({5}, 81)});
  check_both([](const Vec& v) { return linear(v[0].transpose(0, 1), v[1]); }, {input({3, 2, 4}, 82), input({5, 4}, 83)});
  for (const auto& [xs, ws] : std::vector<std::pair<Shape, Shape>>{{{2, 3, 4}, {5, 4}}, {{4}, {5, 4}}, {{6, 7}, {1, 7}}}) {
    const Tensor<double> a = input(xs, 84), w = input(ws, 85), b = input({ws[0]}, 86);
    auto same = [](const Tensor<double>& p, const Tensor<double>& q) {
      REQUIRE(p.shape() == q.shape());
      const auto pv = p.to_vector(), qv = q.to_vector();
      for (std::size_t i = 0; i < pv.size(); ++i) CHECK(pv[i] == Approx(qv[i]).epsilon(1e-14));
    };
    same(linear(a, w, b), matmul(a, w.t()) + b);
    const Tensor<double> a_strided = a.dim() == 2 ? a.t().contiguous().t() : a;  // column-major
    same(linear(a_strided, w.t().contiguous().t()), matmul(a, w.t()));
  }
  CHECK(linear(ones<double>({3, 0}), ones<double>({2, 0}), full<double>({2}, 1.5)).to_vector() ==
        std::vector<double>(6, 1.5));
  CHECK_THROWS_AS(linear(ones<double>({3, 4}), ones<double>({2, 5})), ShapeError);

  Generator g(1);
  Tensor<double> d = dropout(ones<double>({10000}), 0.3, true, g);
  const double kept = (d > scalar_tensor(0.0)).mean().item();
  CHECK(kept == Approx(0.7).margin(0.02));
  CHECK(d.max().item() == Approx(1 / 0.7));
  CHECK(dropout(x, 0.3, false).is_same(x));
}
