// models/: output shapes, PyTorch-style state_dict names, and a few training steps on synthetic
// data in which each model's loss falls (real Fashion-MNIST training is in examples/).
#include <catch2/catch.hpp>

#include <bit>
#include <cstdint>
#include <vector>

#include <ink/eigen.hpp>
#include <ink/ink.hpp>
#include <ink/models.hpp>

using namespace ink;

namespace {
// Synthetic 28x28 "garments": class k is a bright horizontal band at a class-dependent row.
std::pair<Tensor<float>, Tensor<std::int64_t>> bands(index_t n, Generator& gen) {
  Tensor<float> x = rand<float>({n, 1, 28, 28}, gen) * 0.2f;
  Tensor<std::int64_t> y = empty<std::int64_t>({n});
  for (index_t i = 0; i < n; ++i) {
    const index_t k = i % 4;
    y.data_ptr()[i] = k;
    for (index_t r = 4 + 5 * k; r < 8 + 5 * k; ++r)
      for (index_t c = 0; c < 28; ++c) x.at({i, 0, r, c}) = 0.9f;
  }
  return {x, y};
}
}  // namespace

TEST_CASE("Classifier: shapes, names, and it learns") {
  models::Classifier<> net({.width = 8, .hidden = 32, .classes = 4});
  const auto names = net.state_dict();
  CHECK(names.front().first == "features.0.weight");
  CHECK(names.back().first == "head.1.bias");
  Generator gen(1);
  auto [x, y] = bands(32, gen);
  CHECK(net(x).shape() == Shape{32, 4});
  CHECK(net.embed(x).shape() == Shape{32, 32});
  optim::Adam<> opt(net.parameters(), {.lr = 3e-3});
  float first = 0, last = 0;
  for (int step = 0; step < 15; ++step) {
    opt.zero_grad();
    Tensor<float> loss = cross_entropy(net(x), y);
    loss.backward();
    opt.step();
    (step == 0 ? first : last) = loss.item();
  }
  INFO(first << " -> " << last);
  CHECK(last < 0.5f * first);
  CHECK_THROWS_AS(models::Classifier<>({.image_size = 30}), ValueError);
}

TEST_CASE("DCGAN 28x28: shapes, initialisation, and one D and G step each") {
  Generator gen(2);
  models::DcganConfig c{.latent = 16, .width = 8};
  models::DcganGenerator<> g(c, gen);
  models::DcganDiscriminator<> d(c, gen);
  Tensor<float> z = randn<float>({6, 16}, gen);
  Tensor<float> fake = g(z);
  CHECK(fake.shape() == Shape{6, 1, 28, 28});
  CHECK(fake.abs().max().item() <= 1.0f);
  CHECK(d(fake).shape() == Shape{6});
  // conv weights ~ N(0, 0.02)
  CHECK(std::sqrt(g.net->named_parameters()[0].second.var().item()) == Approx(0.02).epsilon(0.1));
  CHECK_THROWS_AS(g(randn<float>({2, 15})), ShapeError);

  auto [real, labels] = bands(6, gen);
  real = real * 2.f - 1.f;
  optim::Adam<> opt_d(d.parameters(), {.lr = 2e-4, .beta1 = 0.5});
  optim::Adam<> opt_g(g.parameters(), {.lr = 2e-4, .beta1 = 0.5});
  opt_d.zero_grad();
  Tensor<float> loss_d = binary_cross_entropy_with_logits(d(real), ones<float>({6})) +
                         binary_cross_entropy_with_logits(d(fake.detach()), zeros<float>({6}));
  loss_d.backward();
  opt_d.step();
  opt_g.zero_grad();
  Tensor<float> loss_g = binary_cross_entropy_with_logits(d(g(z)), ones<float>({6}));
  loss_g.backward();
  opt_g.step();
  CHECK(std::isfinite(loss_d.item()));
  CHECK(std::isfinite(loss_g.item()));
}

TEST_CASE("DCGAN 64x64 shapes and a WGAN-GP critic without batch norm") {
  Generator gen(3);
  models::DcganConfig c{.latent = 8, .channels = 3, .width = 4, .image_size = 64, .batch_norm_in_critic = false};
  models::DcganGenerator<> g(c, gen);
  models::DcganDiscriminator<> d(c, gen);
  CHECK(g(randn<float>({2, 8}, gen)).shape() == Shape{2, 3, 64, 64});
  for (auto& [n, p] : d.state_dict()) CHECK(n.find("running") == std::string::npos);
  // the gradient penalty needs the gradient of the critic's gradient
  Tensor<float> x = randn<float>({2, 3, 64, 64}, gen).requires_grad_();
  auto grads = autograd::grad<float>({d(x).sum()}, {x}, {}, /*create_graph=*/true);
  Tensor<float> penalty = (grads[0].reshape({2, -1}).pow(2.f).sum({1}).sqrt() - 1.f).pow(2.f).mean();
  penalty.backward();
  CHECK(d.parameters()[0].grad().defined());
}

TEST_CASE("ConvVae: shapes, names, and its negative ELBO falls") {
  models::ConvVae<> vae({.latent = 4, .width = 8, .hidden = 32});
  CHECK(vae.state_dict().front().first == "encoder.0.weight");
  Generator gen(4);
  auto [x, y] = bands(16, gen);
  auto out = vae.run(x, gen);
  CHECK(out.logits.shape() == Shape{16, 1, 28, 28});
  CHECK(out.mu.shape() == Shape{16, 4});
  optim::Adam<> opt(vae.parameters(), {.lr = 3e-3});
  float first = 0, last = 0;
  for (int step = 0; step < 25; ++step) {
    opt.zero_grad();
    Tensor<float> loss = models::ConvVae<>::loss(vae.run(x, gen), x);
    loss.backward();
    opt.step();
    (step == 0 ? first : last) = loss.item();
  }
  INFO(first << " -> " << last);
  CHECK(first > 400);  // ~784 * log 2 nats for an untrained decoder
  CHECK(last < 0.8f * first);
  vae.eval();
  CHECK(vae(x).shape() == Shape{16, 1, 28, 28});
}

TEST_CASE("Frechet distance: closed form for diagonal Gaussians, zero for identical sets") {
  // Samples from N(m1, diag(v1)) and N(m2, diag(v2)): the distance tends to
  // |m1 - m2|^2 + sum(v1 + v2 - 2 sqrt(v1 v2)).
  Generator gen(5);
  const index_t n = 20000;
  const std::vector<double> m1{0, 1, -1}, m2{0.5, 1, 0}, v1{1, 4, 0.25}, v2{2, 1, 0.25};
  Tensor<double> a = randn<double>({n, 3}, gen), b = randn<double>({n, 3}, gen);
  double expected = 0;
  for (index_t j = 0; j < 3; ++j) {
    for (index_t i = 0; i < n; ++i) {
      a.at({i, j}) = m1[j] + std::sqrt(v1[j]) * a.at({i, j});
      b.at({i, j}) = m2[j] + std::sqrt(v2[j]) * b.at({i, j});
    }
    expected += (m1[j] - m2[j]) * (m1[j] - m2[j]) + v1[j] + v2[j] - 2 * std::sqrt(v1[j] * v2[j]);
  }
  CHECK(models::frechet_distance(a, b) == Approx(expected).epsilon(0.03));
  CHECK(std::abs(models::frechet_distance(a, a)) < 1e-9);
  CHECK(models::frechet_distance(a, b) == Approx(models::frechet_distance(b, a)).epsilon(1e-9));
  CHECK_THROWS_AS(models::frechet_distance(a, b.narrow(1, 0, 2)), ShapeError);
}

namespace {
// The loss sequence of a few training steps of each model family (classifier with dropout, a
// DCGAN D+G step, a VAE step with its sampling noise), all from seed `seed`, on `threads`
// threads. The sizes are large enough that GEMMs, convolutions and elementwise loops split
// across two threads.
std::vector<float> training_losses(unsigned seed, int threads) {
  set_num_threads(threads);
  manual_seed(seed);
  Generator gen(seed);
  std::vector<float> losses;
  auto [x, y] = bands(32, gen);

  models::Classifier<> net({.width = 16, .hidden = 64, .classes = 4});
  optim::Adam<> opt(net.parameters(), {.lr = 1e-3});
  for (int step = 0; step < 3; ++step) {
    opt.zero_grad();
    Tensor<float> loss = cross_entropy(net(x), y);
    loss.backward();
    opt.step();
    losses.push_back(loss.item());
  }

  models::DcganConfig c{.latent = 16, .width = 16};
  models::DcganGenerator<> g(c, gen);
  models::DcganDiscriminator<> d(c, gen);
  optim::Adam<> opt_d(d.parameters(), {.lr = 2e-4, .beta1 = 0.5});
  optim::Adam<> opt_g(g.parameters(), {.lr = 2e-4, .beta1 = 0.5});
  const Tensor<float> real = x * 2.f - 1.f;
  for (int step = 0; step < 2; ++step) {
    const Tensor<float> z = randn<float>({32, 16}, gen);
    const Tensor<float> fake = g(z);
    opt_d.zero_grad();
    Tensor<float> loss_d = binary_cross_entropy_with_logits(d(real), ones<float>({32})) +
                           binary_cross_entropy_with_logits(d(fake.detach()), zeros<float>({32}));
    loss_d.backward();
    opt_d.step();
    opt_g.zero_grad();
    Tensor<float> loss_g = binary_cross_entropy_with_logits(d(fake), ones<float>({32}));
    loss_g.backward();
    opt_g.step();
    losses.push_back(loss_d.item());
    losses.push_back(loss_g.item());
  }

  models::ConvVae<> vae({.latent = 8, .width = 16, .hidden = 64});
  optim::Adam<> opt_v(vae.parameters(), {.lr = 1e-3});
  for (int step = 0; step < 3; ++step) {
    opt_v.zero_grad();
    Tensor<float> loss = models::ConvVae<>::loss(vae.run(x, gen), x);
    loss.backward();
    opt_v.step();
    losses.push_back(loss.item());
  }
  return losses;
}
}  // namespace

TEST_CASE("Same seed: bitwise identical losses across runs and across 1 and 2 threads") {
  const int saved_threads = get_num_threads();
  const std::vector<float> one = training_losses(7, 1);
  const std::vector<float> again = training_losses(7, 1);
  const std::vector<float> two = training_losses(7, 2);
  const std::vector<float> other_seed = training_losses(8, 2);
  set_num_threads(saved_threads);
  REQUIRE(one.size() == 3 + 4 + 3);
  for (std::size_t i = 0; i < one.size(); ++i) {
    INFO("loss " << i << ": " << one[i] << " / " << again[i] << " / " << two[i]);
    CHECK(std::bit_cast<std::uint32_t>(one[i]) == std::bit_cast<std::uint32_t>(again[i]));
    CHECK(std::bit_cast<std::uint32_t>(one[i]) == std::bit_cast<std::uint32_t>(two[i]));
  }
  CHECK(one != other_seed);  // the seed does reach every source of randomness
}
