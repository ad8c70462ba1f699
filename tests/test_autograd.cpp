// Autograd with PyTorch's semantics: backward and accumulation, zero_grad, detach, NoGradGuard,
// autograd::grad, freed saved tensors, and higher-order gradients (tanh'', x^3'', a
// Hessian-vector product, a WGAN-GP gradient penalty that trains).
#include <catch2/catch.hpp>

#include <ink/ink.hpp>

using namespace ink;
using Catch::Matchers::Contains;
using Vec = std::vector<Tensor<double>>;

namespace {
void check_close(const Tensor<double>& a, const Tensor<double>& b, double tol = 1e-10) {
  REQUIRE(a.shape() == b.shape());
  const auto va = a.to_vector(), vb = b.to_vector();
  for (std::size_t i = 0; i < va.size(); ++i) CHECK(va[i] == Approx(vb[i]).margin(tol).epsilon(tol));
}
}  // namespace

TEST_CASE("backward computes gradients of leaves") {
  Tensor<double> x = from_vector<double>({1, -2, 3}, {3}).requires_grad_();
  Tensor<double> y = (x * x).sum();
  CHECK(y.requires_grad());
  CHECK_FALSE(y.is_leaf());
  CHECK(x.is_leaf());
  y.backward();
  check_close(x.grad(), from_vector<double>({2, -4, 6}, {3}));
  // broadcasting: gradients come back in each input's own shape
  Tensor<double> a = ones<double>({3, 1}).requires_grad_();
  Tensor<double> b = arange<double>(4.0).requires_grad_();
  (a * b).sum().backward();
  check_close(a.grad(), full<double>({3, 1}, 6.0));
  check_close(b.grad(), full<double>({4}, 3.0));
}

TEST_CASE("gradients accumulate until zero_grad") {
  Tensor<double> w = from_vector<double>({2}, {1}).requires_grad_();
  Tensor<double> loss = (w * w * 3.0).sum();
  loss.backward({}, /*retain_graph=*/true);
  CHECK(w.grad().item() == 12);
  loss.backward();
  CHECK(w.grad().item() == 24);
  w.zero_grad();
  CHECK_FALSE(w.grad().defined());
  (w * 5.0).sum().backward();
  CHECK(w.grad().item() == 5);
  // a leaf used twice in one graph gets the sum of both paths
  Tensor<double> v = from_vector<double>({3}, {1}).requires_grad_();
  (v * v + v).sum().backward();
  CHECK(v.grad().item() == 7);
}

TEST_CASE("a second backward through a freed graph is a clear error") {
  Tensor<double> x = ones<double>({2}).requires_grad_();
  Tensor<double> y = (x.exp() * 2.0).sum();
  y.backward();
  CHECK_THROWS_WITH(y.backward(), Contains("second time") && Contains("retain_graph"));
}

TEST_CASE("saved tensors are freed after backward") {
  Tensor<double> w = ones<double>({1000}).requires_grad_();
  Tensor<double> data = randn<double>({1000});
  Tensor<double> loss = (w * data).sum();
  CHECK(data.impl().use_count() == 2);  // data and the MulBackward node that saved it
  loss.backward();
  CHECK(data.impl().use_count() == 1);
  CHECK(loss.grad_fn() != nullptr);  // the node itself lives on, without its saved tensors
}

TEST_CASE("detach, NoGradGuard and requires_grad rules") {
  Tensor<double> x = ones<double>({2}).requires_grad_();
  Tensor<double> d = x.detach();
  CHECK_FALSE(d.requires_grad());
  CHECK(d.storage() == x.storage());
  Tensor<double> y = (x * 2.0 + d * 3.0).sum();
  y.backward();
  check_close(x.grad(), full<double>({2}, 2.0));
  {
    NoGradGuard ng;
    CHECK_FALSE((x * 2.0).requires_grad());
  }
  CHECK((x * 2.0).requires_grad());
  CHECK_THROWS_AS((x * 2.0).requires_grad_(), AutogradError);
  CHECK_THROWS_WITH(ones<double>({2}).sum().backward(), Contains("does not require grad"));
  CHECK_THROWS_WITH((x * 2.0).backward(), Contains("one-element"));
  CHECK_THROWS_AS(Tensor<std::int64_t>::empty({2}).requires_grad_(), AutogradError);
  // an explicit gradient for a non-scalar output
  x.zero_grad();
  (x * 3.0).backward(from_vector<double>({1, 10}, {2}));
  check_close(x.grad(), from_vector<double>({3, 30}, {2}));
  CHECK_THROWS_AS((x * 3.0).backward(ones<double>({3})), ShapeError);
}

TEST_CASE("autograd::grad returns gradients without touching .grad") {
  Tensor<double> x = from_vector<double>({1, 2}, {2}).requires_grad_();
  Tensor<double> z = from_vector<double>({5}, {1}).requires_grad_();
  Tensor<double> h = x * 3.0;  // a non-leaf input
  Tensor<double> y = (h * h).sum();
  auto g = autograd::grad<double>({y}, {x, h}, {}, false, true);
  check_close(g[0], from_vector<double>({18, 36}, {2}));
  check_close(g[1], from_vector<double>({6, 12}, {2}));
  CHECK_FALSE(x.grad().defined());
  CHECK_THROWS_WITH(autograd::grad<double>({y}, {z}, {}, false, true), Contains("not used"));
  auto u = autograd::grad<double>({y}, {x, z}, {}, false, true, /*allow_unused=*/true);
  CHECK_FALSE(u[1].defined());
  CHECK_THROWS_AS(autograd::grad<double>({y}, {ones<double>({2})}), AutogradError);
  // several outputs with their own grad_outputs: gradients add up
  Tensor<double> y1 = x * 2.0, y2 = (x * x).sum();
  auto s = autograd::grad<double>({y1, y2}, {x}, {from_vector<double>({1, 1}, {2}), scalar_tensor(1.0)});
  check_close(s[0], from_vector<double>({4, 6}, {2}));
}

TEST_CASE("second derivatives: tanh and x^3") {
  Tensor<double> x = linspace<double>(-2.0, 2.0, 9).requires_grad_();
  Tensor<double> y = x.tanh();
  auto g1 = autograd::grad<double>({y.sum()}, {x}, {}, /*create_graph=*/true);
  auto g2 = autograd::grad<double>({g1[0].sum()}, {x});
  NoGradGuard ng;
  const Tensor<double> t = x.detach().tanh();
  check_close(g1[0], 1.0 - t * t);
  check_close(g2[0], -2.0 * t * (1.0 - t * t));

  Tensor<double> c = from_vector<double>({-1.5, 0.5, 2}, {3});
  Tensor<double> cx = c.clone().requires_grad_();
  AutoGradMode on(true);
  auto d1 = autograd::grad<double>({cx.pow(3.0).sum()}, {cx}, {}, true);
  auto d2 = autograd::grad<double>({d1[0].sum()}, {cx}, {}, true);
  auto d3 = autograd::grad<double>({d2[0].sum()}, {cx});
  check_close(d1[0].detach(), 3.0 * c * c);
  check_close(d2[0].detach(), 6.0 * c);
  check_close(d3[0], full<double>({3}, 6.0));
}

TEST_CASE("Hessian-vector product of a small MLP matches finite differences of the gradient") {
  Generator gen(5);
  const Tensor<double> input = randn<double>({6, 3}, gen);
  const Tensor<double> target = randn<double>({6, 2}, gen);
  Tensor<double> w1 = (randn<double>({3, 5}, gen) * 0.5).requires_grad_();
  Tensor<double> w2 = (randn<double>({5, 2}, gen) * 0.5).requires_grad_();
  const Tensor<double> v1 = randn<double>({3, 5}, gen), v2 = randn<double>({5, 2}, gen);
  auto loss_of = [&](const Tensor<double>& a, const Tensor<double>& b) {
    const Tensor<double> diff = input.matmul(a).tanh().matmul(b) - target;
    return (diff * diff).mean();
  };
  auto g = autograd::grad<double>({loss_of(w1, w2)}, {w1, w2}, {}, true);
  Tensor<double> gv = (g[0] * v1).sum() + (g[1] * v2).sum();
  auto hv = autograd::grad<double>({gv}, {w1, w2});

  const double eps = 1e-5;
  auto gradient_at = [&](double s) {
    Tensor<double> a = (w1.detach() + v1 * s).requires_grad_();
    Tensor<double> b = (w2.detach() + v2 * s).requires_grad_();
    return autograd::grad<double>({loss_of(a, b)}, {a, b});
  };
  auto gp = gradient_at(eps), gm = gradient_at(-eps);
  check_close(hv[0], (gp[0] - gm[0]) / (2 * eps), 1e-6);
  check_close(hv[1], (gp[1] - gm[1]) / (2 * eps), 1e-6);
}

namespace {
// A two-layer critic D(x) = tanh(x W1 + b1) W2 + b2 and the WGAN-GP penalty
// mean_i (||dD/dx(x_i)|| - 1)^2 (Gulrajani et al., 2017, eq. 3), which needs the gradient of
// a gradient.
Tensor<double> critic(const Tensor<double>& x, const Vec& p) {
  return (x.matmul(p[0]) + p[1]).tanh().matmul(p[2]) + p[3];
}
Tensor<double> gradient_penalty(const Tensor<double>& points, const Vec& p) {
  Tensor<double> x = points.detach().requires_grad_();
  auto g = autograd::grad<double>({critic(x, p).sum()}, {x}, {}, /*create_graph=*/true);
  Tensor<double> norm = (g[0] * g[0]).sum({1}).sqrt();
  return ((norm - 1.0) * (norm - 1.0)).mean();
}
}  // namespace

TEST_CASE("a WGAN-GP gradient penalty: checked gradient, and it trains") {
  Generator gen(9);
  const Tensor<double> points = randn<double>({8, 4}, gen);
  Vec params = {(randn<double>({4, 6}, gen) * 0.3).requires_grad_(), (randn<double>({6}, gen) * 0.1).requires_grad_(),
                (randn<double>({6, 1}, gen) * 0.3).requires_grad_(), zeros<double>({1}).requires_grad_()};
  // d penalty / d critic parameters, against finite differences
  CHECK_NOTHROW(autograd::gradcheck([&](const Vec& p) { return gradient_penalty(points, p); }, params));

  const double initial = gradient_penalty(points, params).item();
  double last = initial;
  for (int step = 0; step < 200; ++step) {
    for (auto& p : params) p.zero_grad();
    Tensor<double> gp = gradient_penalty(points, params);
    gp.backward();
    last = gp.item();
    NoGradGuard ng;
    for (auto& p : params)
      if (p.grad().defined()) p.add_(p.grad(), -0.05);  // b2 does not affect the penalty
  }
  INFO("penalty " << initial << " -> " << last);
  CHECK(initial > 0.1);
  CHECK(last < 0.01 * initial);
}

TEST_CASE("gradcheck catches a wrong gradient") {
  // A function whose recorded gradient is deliberately wrong: x * stop_gradient(x) pretends
  // d/dx = x instead of 2x.
  Tensor<double> x = from_vector<double>({0.5, -1.0}, {2}).requires_grad_();
  auto wrong = [](const Vec& in) { return (in[0] * in[0].detach()).sum(); };
  CHECK_THROWS_WITH(autograd::gradcheck(wrong, {x}), Contains("Jacobian mismatch"));
  auto right = [](const Vec& in) { return (in[0] * in[0]).sum(); };
  CHECK_NOTHROW(autograd::gradcheck(right, {x}));
  CHECK_NOTHROW(autograd::gradgradcheck(right, {x}));
}

TEST_CASE("gradients flow through views and copies") {
  Tensor<double> x = randn<double>({3, 4}).requires_grad_();
  auto f = [](const Vec& in) {
    const Tensor<double>& t = in[0];
    return cat<double>({t.t().narrow(0, 1, 2).reshape({-1}), t.slice(1, 0, std::nullopt, 3).flatten(),
                        t.select(0, 2).unsqueeze(0).expand({2, 4}).reshape({-1}) * 2.0,
                        t.permute({1, 0}).contiguous().view({12}).slice(0, 2, 9, 2)});
  };
  CHECK_NOTHROW(autograd::gradcheck(f, {x}));
  CHECK_NOTHROW(autograd::gradgradcheck([&](const Vec& in) { return f(in).pow(2.0); }, {x}));
}

TEST_CASE("the backward walk's pointer index finds what was inserted, through its growth") {
  autograd::detail::PointerIndex index;
  std::vector<int> objects(5000);  // distinct addresses 4 bytes apart, as nodes would be (further)
  CHECK(index.find(&objects[0]) == -1);
  CHECK(index.find(nullptr) == -1);
  for (std::size_t i = 0; i < objects.size(); ++i) {
    const auto [at, added] = index.find_or_insert(&objects[i], i);
    CHECK(at == i);
    CHECK(added);
  }
  for (std::size_t i = 0; i < objects.size(); i += 7) {
    const auto [at, added] = index.find_or_insert(&objects[i], 99999);
    CHECK(at == i);
    CHECK_FALSE(added);
  }
  bool all_found = true;
  for (std::size_t i = 0; i < objects.size(); ++i) all_found = all_found && index.find(&objects[i]) == static_cast<std::ptrdiff_t>(i);
  CHECK(all_found);
  int other = 0;
  CHECK(index.find(&other) == -1);
}
