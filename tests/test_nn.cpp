// nn::Module and the layers: registration, PyTorch's state_dict names, load_state_dict errors,
// train/eval, default initialisation, and a small CNN whose loss falls as it trains.
#include <catch2/catch.hpp>

#include <ink/ink.hpp>

using namespace ink;
using Catch::Matchers::Contains;

namespace {
std::shared_ptr<nn::Sequential<>> small_cnn() {
  return std::make_shared<nn::Sequential<>>(
      std::make_shared<nn::Conv2d<>>(1, 4, 3, Conv2dOptions{.padding = 1}), std::make_shared<nn::BatchNorm2d<>>(4),
      std::make_shared<nn::ReLU<>>(), std::make_shared<nn::MaxPool2d<>>(2), std::make_shared<nn::Flatten<>>(),
      std::make_shared<nn::Dropout<>>(0.25), std::make_shared<nn::Linear<>>(4 * 4 * 4, 3));
}
}  // namespace

TEST_CASE("state_dict uses PyTorch's dotted names in registration order") {
  auto net = small_cnn();
  std::vector<std::string> names;
  for (auto& [n, t] : net->state_dict()) names.push_back(n);
  CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                                          "1.num_batches_tracked", "6.weight", "6.bias"});
  CHECK(net->parameters().size() == 6);
  CHECK(net->parameter_count() == 4 * 9 + 4 + 4 + 4 + 3 * 64 + 3);
  // nesting adds a prefix
  nn::Sequential<> outer(net, std::make_shared<nn::Tanh<>>());
  CHECK(outer.state_dict().front().first == "0.0.weight");
}

TEST_CASE("load_state_dict copies by name and lists every bad key") {
  auto a = small_cnn(), b = small_cnn();
  b->load_state_dict(a->state_dict());
  for (auto& [n, t] : b->state_dict()) {
    const auto other = a->state_dict();
    for (auto& [m, u] : other)
      if (m == n) CHECK(t.to_vector() == u.to_vector());
  }
  CHECK_FALSE(b->state_dict()[0].second.is_same(a->state_dict()[0].second));  // copied, not shared

  auto state = a->state_dict();
  state.erase(state.begin());                               // missing 0.weight
  state.emplace_back("extra.weight", zeros<float>({1}));    // unexpected
  state[1].second = zeros<float>({5});                      // 1.weight has the wrong shape
  try {
    b->load_state_dict(state);
    FAIL("no error");
  } catch (const ShapeError& e) {
    const std::string msg = e.what();
    CHECK_THAT(msg, Contains("missing keys: 0.weight") && Contains("unexpected keys: extra.weight") &&
                        Contains("1.weight (expected [4], got [5])"));
  }
  state.erase(state.begin() + 1);
  state.pop_back();
  CHECK_NOTHROW(b->load_state_dict(state, /*strict=*/false));
}

TEST_CASE("train and eval switch dropout and batch norm") {
  nn::Dropout<> drop(0.5);
  Tensor<float> x = ones<float>({1000});
  CHECK(drop(x).min().item() == 0);
  drop.eval();
  CHECK(drop(x).min().item() == 1);

  nn::BatchNorm2d<> bn(2);
  Tensor<float> batch = randn<float>({4, 2, 3, 3}) * 3.f + 5.f;
  bn(batch);
  CHECK(bn.num_batches_tracked.item() == 1);
  CHECK(bn.running_mean.at({0}) != 0);
  bn.eval();
  const auto before = bn.running_mean.to_vector();
  bn(batch);
  CHECK(bn.running_mean.to_vector() == before);
  CHECK(bn.num_batches_tracked.item() == 1);
  CHECK_THROWS_WITH(bn(zeros<float>({2, 2})), Contains("BatchNorm2d") && Contains("[2,2]"));
}

TEST_CASE("default initialisation follows PyTorch's bounds") {
  Generator gen(3);
  nn::Linear<> fc(100, 50, true, gen);
  CHECK(fc.weight.abs().max().item() <= 0.1f);
  CHECK(fc.weight.abs().max().item() > 0.09f);
  CHECK(fc.bias.abs().max().item() <= 0.1f);
  // uniform in +-b has standard deviation b / sqrt(3)
  CHECK(std::sqrt(fc.weight.var().item()) == Approx(0.1 / std::sqrt(3.0)).epsilon(0.03));
  nn::Conv2d<> conv(8, 4, 3, {}, true, gen);
  CHECK(conv.weight.abs().max().item() <= 1.0f / std::sqrt(72.0f));
  nn::ConvTranspose2d<> deconv(8, 4, 4, {.stride = 2}, true, gen);
  CHECK(deconv.weight.shape() == Shape{8, 4, 4, 4});
  CHECK(deconv.weight.abs().max().item() <= 1.0f / std::sqrt(64.0f));
  Tensor<float> w = empty<float>({64, 32});
  nn::init::xavier_uniform_(w, 1.0, gen);
  CHECK(w.abs().max().item() <= std::sqrt(6.0f / 96));
  nn::init::kaiming_normal_(w, 0, nn::init::Nonlinearity::relu, gen);
  CHECK(std::sqrt(w.var().item()) == Approx(std::sqrt(2.0 / 32)).epsilon(0.05));
}

TEST_CASE("modules reject bad construction") {
  CHECK_THROWS_AS(nn::Linear<>(0, 3), ValueError);
  CHECK_THROWS_AS(nn::Conv2d<>(3, 4, 3, {.groups = 2}), ValueError);
  CHECK_THROWS_AS(nn::GroupNorm<>(3, 4), ValueError);
  CHECK_THROWS_AS(nn::Dropout<>(1.5), ValueError);
  struct Twice : nn::Module<> {
    Twice() {
      register_parameter("w", zeros<float>({1}));
      register_buffer("w", zeros<float>({1}));
    }
  };
  CHECK_THROWS_WITH(Twice(), Contains("already registered"));
  CHECK_THROWS_WITH(nn::Module<>().forward(zeros<float>({1})), Contains("no single-input forward"));
}

TEST_CASE("a small CNN trains: its loss falls") {
  manual_seed(0);
  auto net = small_cnn();
  Generator gen(1);
  // Three classes of 8x8 images: a bright row, a bright column, or a bright diagonal, in noise.
  const index_t n = 48;
  Tensor<float> images = randn<float>({n, 1, 8, 8}, gen) * 0.3f;
  Tensor<std::int64_t> labels = empty<std::int64_t>({n});
  for (index_t i = 0; i < n; ++i) {
    const index_t cls = i % 3, pos = 1 + (i / 3) % 6;
    labels.data_ptr()[i] = cls;
    for (index_t k = 0; k < 8; ++k) {
      const index_t r = cls == 0 ? pos : cls == 1 ? k : k, c = cls == 0 ? k : cls == 1 ? pos : k;
      images.at({i, 0, r, c}) += 2.0f;
    }
  }
  optim::Adam<> opt(net->parameters(), {.lr = 0.01});
  float first = 0, last = 0;
  for (int step = 0; step < 60; ++step) {
    opt.zero_grad();
    Tensor<float> loss = cross_entropy((*net)(images), labels);
    loss.backward();
    opt.step();
    if (step == 0) first = loss.item();
    last = loss.item();
  }
  INFO("loss " << first << " -> " << last);
  CHECK(last < 0.2f * first);
  net->eval();
  NoGradGuard no_grad;
  const auto predicted = (*net)(images).argmax(1).to_vector();
  int correct = 0;
  for (index_t i = 0; i < n; ++i) correct += predicted[static_cast<std::size_t>(i)] == labels.data_ptr()[i];
  CHECK(correct >= 45);
}
