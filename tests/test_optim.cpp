// Optimisers and LR schedules against torch.optim, step for step (golden/optim_golden.txt, made
// by golden/make_optim_golden.py), plus state save/load and gradient clipping.
#include <catch2/catch.hpp>

#include <fstream>
#include <ink/ink.hpp>
#include <map>
#include <random>
#include <sstream>
#include <vector>

using namespace ink;

namespace {
struct OptimCase {
  std::string name;
  std::map<std::string, double> options;
  std::vector<std::vector<double>> steps;
};
struct OptimGolden {
  std::vector<double> a, b, p0;
  std::vector<OptimCase> cases;
};

std::vector<double> numbers(std::istringstream& in) {
  std::vector<double> v;
  double x;
  while (in >> x) v.push_back(x);
  return v;
}

OptimGolden load_golden() {
  const std::string path = std::string(INK_TEST_DATA_DIR) + "/golden/optim_golden.txt";
  std::ifstream f(path);
  REQUIRE(f.good());
  OptimGolden g;
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream in(line);
    std::string tag;
    in >> tag;
    if (tag == "a") g.a = numbers(in);
    else if (tag == "b") g.b = numbers(in);
    else if (tag == "p0") g.p0 = numbers(in);
    else if (tag == "case") {
      OptimCase c;
      in >> c.name;
      std::string kv;
      while (in >> kv) c.options[kv.substr(0, kv.find('='))] = std::stod(kv.substr(kv.find('=') + 1));
      g.cases.push_back(c);
    } else if (tag == "p") {
      REQUIRE(!g.cases.empty());
      g.cases.back().steps.push_back(numbers(in));
    }
  }
  return g;
}

std::unique_ptr<optim::Optimizer<double>> make_optimizer(const OptimCase& c, Tensor<double> p) {
  auto o = [&](const char* k, double d = 0) { return c.options.count(k) ? c.options.at(k) : d; };
  const std::string& n = c.name;
  if (n.rfind("sgd", 0) == 0)
    return std::make_unique<optim::SGD<double>>(std::vector{p}, optim::SGDOptions{.lr = o("lr"), .momentum = o("momentum"),
                                                                                  .dampening = o("dampening"),
                                                                                  .weight_decay = o("weight_decay"),
                                                                                  .nesterov = o("nesterov") != 0});
  if (n == "adam" || n == "adamw")
    return std::make_unique<optim::Adam<double>>(
        std::vector{p}, optim::AdamOptions{.lr = o("lr"), .beta1 = o("beta1"), .beta2 = o("beta2"), .eps = o("eps"),
                                           .weight_decay = o("weight_decay"), .decoupled_weight_decay = n == "adamw"});
  if (n.rfind("rmsprop", 0) == 0)
    return std::make_unique<optim::RMSprop<double>>(
        std::vector{p}, optim::RMSpropOptions{.lr = o("lr"), .alpha = o("alpha"), .eps = o("eps"),
                                              .weight_decay = o("weight_decay"), .momentum = o("momentum"),
                                              .centered = o("centered") != 0});
  FAIL("no optimiser for golden case " << n);
  return nullptr;
}

std::unique_ptr<optim::LRScheduler<double>> make_schedule(const OptimCase& c, optim::Optimizer<double>& opt) {
  if (c.name == "sgd_steplr")
    return std::make_unique<optim::StepLR<double>>(opt, static_cast<long>(c.options.at("step_size")), c.options.at("gamma"));
  if (c.name == "sgd_cosine")
    return std::make_unique<optim::CosineAnnealingLR<double>>(opt, static_cast<long>(c.options.at("t_max")), c.options.at("eta_min"));
  if (c.name == "sgd_exponential") return std::make_unique<optim::ExponentialLR<double>>(opt, c.options.at("gamma"));
  return nullptr;
}
}  // namespace

TEST_CASE("optimisers and schedules match torch.optim step for step") {
  const OptimGolden g = load_golden();
  REQUIRE(g.cases.size() >= 10);
  const Tensor<double> a = from_vector<double>(g.a, {static_cast<index_t>(g.a.size())});
  const Tensor<double> b = from_vector<double>(g.b, {static_cast<index_t>(g.b.size())});
  for (const auto& c : g.cases) {
    DYNAMIC_SECTION(c.name) {
      Tensor<double> p = from_vector<double>(g.p0, {static_cast<index_t>(g.p0.size())}).requires_grad_();
      auto opt = make_optimizer(c, p);
      auto schedule = make_schedule(c, *opt);
      REQUIRE(c.steps.size() == 10);
      for (std::size_t s = 0; s < c.steps.size(); ++s) {
        opt->zero_grad();
        ((a * p * p).sum() + (b * p).sum() + p.pow(4.0).sum() * 0.1).backward();
        opt->step();
        if (schedule) schedule->step();
        const auto v = p.to_vector();
        for (std::size_t i = 0; i < v.size(); ++i) {
          INFO("step " << s + 1 << ", element " << i);
          CHECK(v[i] == Approx(c.steps[s][i]).epsilon(1e-10).margin(1e-12));
        }
      }
    }
  }
}

TEST_CASE("optimiser state saves and loads: a resumed run continues exactly") {
  auto run = [](int steps, optim::Adam<double>& opt, const Tensor<double>& p) {
    for (int s = 0; s < steps; ++s) {
      opt.zero_grad();
      (p.pow(2.0).sum() + p.sum()).backward();
      opt.step();
    }
  };
  Tensor<double> p1 = from_vector<double>({1, -2, 3}, {3}).requires_grad_();
  optim::Adam<double> o1({p1}, {.lr = 0.1});
  run(5, o1, p1);
  const auto saved = o1.state_dict();
  Tensor<double> p2 = p1.detach().clone().requires_grad_();
  optim::Adam<double> o2({p2}, {.lr = 0.1});
  o2.load_state_dict(saved);
  run(5, o1, p1);
  run(5, o2, p2);
  CHECK(p1.to_vector() == p2.to_vector());
  CHECK(o2.steps() == 10);
  CHECK_THROWS_AS(o2.load_state_dict({{"bogus", scalar_tensor(1.0)}}), ValueError);
  // State keys name a group and a parameter the optimiser has: state.<group>.<index>.<name>.
  for (const char* key : {"state.0.1.exp_avg", "state.1.0.exp_avg", "state.x.0.exp_avg", "state.0.0", "state.0.0.", "group.x.lr",
                          "group.0.momentum", "group.3.lr"})
    CHECK_THROWS_AS(o2.load_state_dict({{key, scalar_tensor(1.0)}}), ValueError);
  // Names are kept in the order the rule made its buffers, by group and parameter.
  std::vector<std::string> names;
  for (const auto& [n, t] : saved) names.push_back(n);
  CHECK(names == std::vector<std::string>{"steps", "group.0.lr", "state.0.0.exp_avg", "state.0.0.exp_avg_sq", "state.0.0.step"});
}

TEST_CASE("clip_grad_norm_ scales gradients to the maximum norm") {
  Tensor<double> p = from_vector<double>({3, 4}, {2}).requires_grad_();
  (p * p * 0.5).sum().backward();  // grad = p = (3, 4), norm 5
  const double norm = optim::clip_grad_norm_<double>({p}, 1.0);
  CHECK(norm == Approx(5));
  CHECK(p.grad().at({0}) == Approx(0.6).epsilon(1e-5));
  CHECK(p.grad().at({1}) == Approx(0.8).epsilon(1e-5));
  CHECK(optim::clip_grad_norm_<double>({p}, 10.0) == Approx(1).epsilon(1e-5));  // already below: unchanged
}

TEST_CASE("optimisers reject bad arguments") {
  Tensor<double> p = zeros<double>({2}).requires_grad_();
  CHECK_THROWS_AS(optim::Adam<double>({p}, {.beta1 = 1.0}), ValueError);
  CHECK_THROWS_AS(optim::SGD<double>({p}, {.lr = 0.1, .nesterov = true}), ValueError);
  CHECK_THROWS_AS(optim::SGD<double>({zeros<double>({2})}, {.lr = 0.1}), ValueError);  // not requiring grad
  CHECK_THROWS_AS(optim::SGD<double>({p}, {.lr = -1}), ValueError);
}

TEST_CASE("L-BFGS with strong Wolfe line search minimises Rosenbrock from (-1.5, 2)") {
  Tensor<double> xy = from_vector<double>({-1.5, 2.0}, {2}).requires_grad_();
  optim::LBFGS<double> opt({xy}, {.lr = 1, .max_iter = 200, .tolerance_grad = 1e-12, .tolerance_change = 1e-15});
  auto rosenbrock = [&] {
    opt.zero_grad();
    Tensor<double> x = xy.narrow(0, 0, 1), y = xy.narrow(0, 1, 1);
    Tensor<double> f = ((1.0 - x).pow(2.0) + (y - x * x).pow(2.0) * 100.0).sum();
    f.backward();
    return f;
  };
  for (int s = 0; s < 5; ++s) opt.step(rosenbrock);
  INFO("ended at " << xy);
  CHECK(std::abs(xy.at({0}) - 1) < 1e-6);
  CHECK(std::abs(xy.at({1}) - 1) < 1e-6);
  CHECK_THROWS_AS(opt.Optimizer<double>::step(), ValueError);
}

// The vectorised Adam kernel against the element-by-element update, on sizes that leave a
// tail, split into ranges at arbitrary points (as threads split it): bitwise equal.
TEMPLATE_TEST_CASE("adam_step equals the element-by-element update wherever the range is split", "", float, double) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> uni(-1, 1);
  for (const bool decoupled : {false, true})
    for (const ink::index_t n : {1, 3, 4, 7, 33, 1001}) {
      const ink::kernels::AdamCoefficients<TestType> k{TestType(0.9), TestType(0.999), decoupled ? TestType(0) : TestType(0.01),
                                                       decoupled ? TestType(0.99) : TestType(1), TestType(0.0123),
                                                       TestType(0.0447), TestType(1e-8), decoupled};
      std::vector<TestType> w(n), g(n), m(n), v(n);
      for (ink::index_t i = 0; i < n; ++i)
        w[i] = TestType(uni(rng)), g[i] = TestType(uni(rng)), m[i] = TestType(uni(rng) * 0.1), v[i] = TestType(std::abs(uni(rng)) * 0.01);
      auto w_ref = w, m_ref = m, v_ref = v;
      for (ink::index_t i = 0; i < n; ++i) ink::kernels::adam_detail::step_one(w_ref[i], g[i], m_ref[i], v_ref[i], k);
      const ink::index_t split = n / 3 + (n > 1);  // two ranges, the first not a multiple of the vector width
      ink::kernels::adam_step(w.data(), g.data(), m.data(), v.data(), split, k);
      ink::kernels::adam_step(w.data() + split, g.data() + split, m.data() + split, v.data() + split, n - split, k);
      INFO("n = " << n << ", decoupled = " << decoupled);
      CHECK(w == w_ref);
      CHECK(m == m_ref);
      CHECK(v == v_ref);
    }
}
