// Trains models::ConvVae on Fashion-MNIST and reports, per epoch, the training and test
// negative ELBO in nats per image. Writes reconstructions (inputs above, outputs below),
// random samples and, for a 2-D latent space, the decoded manifold; checkpoints after every
// epoch (--resume continues).
#include <chrono>
#include <cmath>
#include <cstdio>

#include <ink/ink.hpp>
#include <ink/models.hpp>

#include "common/cli.hpp"

using namespace ink;

namespace {
// The test set's mean negative ELBO (one sample of z per image, from `gen`).
double test_elbo(models::ConvVae<>& vae, std::shared_ptr<const io::Dataset> test, Generator& gen) {
  NoGradGuard no_grad;
  const double n = static_cast<double>(test->size());
  io::DataLoader loader(std::move(test), {.batch_size = 500});
  double total = 0;
  for (auto& batch : loader)
    total += models::ConvVae<>::loss(vae.run(batch.images, gen), batch.images).item() * static_cast<double>(batch.labels.numel());
  return total / n;
}

// Inverse CDF of the standard normal by bisection on normal_cdf (enough for a plot grid).
double normal_quantile(double p) {
  double lo = -10, hi = 10;
  for (int i = 0; i < 60; ++i) {
    const double mid = (lo + hi) / 2;
    (0.5 * (1 + std::erf(mid / std::sqrt(2.0))) < p ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}
}  // namespace

int main(int argc, char** argv) {
  examples::Flags flags;
  examples::add_common_flags(flags, "10", "128", "0.001", "out/vae");
  flags.add("latent", "20", "size of the latent space (2 also draws the manifold)");
  flags.parse(argc, argv, "train_vae: a convolutional VAE on Fashion-MNIST");
  const auto out = examples::setup(flags);
  const auto train = examples::load_fashion_mnist(flags, io::Split::train);
  const auto test = examples::load_fashion_mnist(flags, io::Split::test);
  const auto train_set = examples::training_subset(flags, *train);
  const long epochs = flags.integer("epochs");
  const auto seed = static_cast<std::uint64_t>(flags.integer("seed"));

  models::ConvVae<> vae({.latent = flags.integer("latent")});
  optim::Adam<> opt(vae.parameters(), {.lr = flags.num("lr")});
  const auto checkpoint = out / "checkpoint.safetensors";
  long first_epoch = 0;
  if (flags.flag("resume")) {
    if (!std::filesystem::exists(checkpoint)) examples::Flags::fail("--resume: no checkpoint at " + checkpoint.string());
    first_epoch = static_cast<long>(io::load_checkpoint(checkpoint, vae, opt));
    std::printf("resumed from %s after epoch %ld\n", checkpoint.string().c_str(), first_epoch);
  }
  std::printf("training on %zu images, latent %ld, %ld parameters, %d threads\n", train_set->size(),
              static_cast<long>(vae.config.latent), static_cast<long>(vae.parameter_count()), get_num_threads());

  const auto start = std::chrono::steady_clock::now();
  for (long epoch = first_epoch; epoch < epochs; ++epoch) {
    io::DataLoader loader(train_set, {.batch_size = flags.integer("batch-size"), .shuffle = true,
                                      .seed = seed * 1000003 + static_cast<std::uint64_t>(epoch), .prefetch = true});
    io::ProgressBar bar(static_cast<std::int64_t>(loader.size()), {.description = "epoch " + std::to_string(epoch + 1)});
    double sum = 0;
    long seen = 0;
    for (auto& batch : loader) {
      opt.zero_grad();
      Tensor<float> loss = models::ConvVae<>::loss(vae.run(batch.images), batch.images);
      loss.backward();
      opt.step();
      sum += loss.item() * static_cast<double>(batch.labels.numel());
      seen += static_cast<long>(batch.labels.numel());
      bar.set("-elbo", sum / static_cast<double>(seen));
      bar.update();
    }
    bar.close();
    Generator eval_gen(seed + 17);
    const double test_nelbo = test_elbo(vae, test, eval_gen);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("epoch %ld/%ld: train -ELBO %.2f nats/image, test -ELBO %.2f nats/image (%.0f s so far)\n", epoch + 1,
                epochs, sum / static_cast<double>(std::max(seen, 1L)), test_nelbo, seconds);
    std::fflush(stdout);  // the epoch line must show even when stdout is a file
    io::save_checkpoint(checkpoint, vae, opt, epoch + 1);
  }

  NoGradGuard no_grad;
  vae.eval();  // decode the posterior mean
  const Tensor<float> inputs = test->images().narrow(0, 0, 16);
  const Tensor<float> recon = sigmoid(vae.run(inputs).logits);
  io::write_png(out / "reconstructions.png",
                io::make_grid(cat<float>({inputs.narrow(0, 0, 8), recon.narrow(0, 0, 8), inputs.narrow(0, 8, 8),
                                          recon.narrow(0, 8, 8)}),
                              {.nrow = 8, .pad_value = 1.0}));
  Generator sample_gen(seed + 29);
  const Tensor<float> samples = sigmoid(vae.decode(randn<float>({64, vae.config.latent}, sample_gen)));
  io::write_png(out / "samples.png", io::make_grid(samples, {.nrow = 8, .pad_value = 1.0}));
  std::printf("wrote %s (inputs above, reconstructions below), %s, %s", (out / "reconstructions.png").c_str(),
              (out / "samples.png").c_str(), checkpoint.c_str());
  if (vae.config.latent == 2) {
    // Decodes a 20 x 20 grid of latent points at evenly spaced quantiles of N(0, 1).
    const index_t k = 20;
    Tensor<float> z = empty<float>({k * k, 2});
    for (index_t i = 0; i < k; ++i)
      for (index_t j = 0; j < k; ++j) {
        z.at({i * k + j, 0}) = static_cast<float>(normal_quantile((static_cast<double>(j) + 0.5) / static_cast<double>(k)));
        z.at({i * k + j, 1}) = static_cast<float>(normal_quantile(1 - (static_cast<double>(i) + 0.5) / static_cast<double>(k)));
      }
    io::write_png(out / "manifold.png", io::make_grid(sigmoid(vae.decode(z)), {.nrow = k, .padding = 0}));
    std::printf(", %s", (out / "manifold.png").c_str());
  }
  std::printf("\n");
}
