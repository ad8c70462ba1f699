// Trains a DCGAN (or, with --wgan-gp, a WGAN-GP: Gulrajani et al. 2017) on Fashion-MNIST.
// After every epoch it writes a sample sheet from fixed noise and, when a trained classifier
// is given (examples/train_classifier writes one), the Frechet distance between the
// classifier's features of generated and of real test images. Writes a loss curve at the end;
// checkpoints both networks after every epoch (--resume continues).
#include <chrono>
#include <cstdio>
#include <sstream>

#include <ink/eigen.hpp>
#include <ink/ink.hpp>
#include <ink/models.hpp>

#include "common/cli.hpp"
#include "common/features.hpp"
#include "common/plot.hpp"

using namespace ink;

namespace {
std::string join(const std::vector<double>& v) {
  std::ostringstream os;
  os.precision(17);
  for (std::size_t i = 0; i < v.size(); ++i) os << (i ? "," : "") << v[i];
  return os.str();
}
std::vector<double> split(const std::string& s) {
  std::vector<double> v;
  std::istringstream is(s);
  for (std::string item; std::getline(is, item, ',');)
    if (!item.empty()) v.push_back(std::stod(item));
  return v;
}

// The WGAN-GP penalty: (||d critic / d x|| - 1)^2 at random points between real and fake images
// (Gulrajani et al. 2017, eq. 3). It needs the gradient of a gradient.
Tensor<float> gradient_penalty(models::DcganDiscriminator<>& critic, const Tensor<float>& real, const Tensor<float>& fake,
                               Generator& gen) {
  const index_t n = real.size(0);
  const Tensor<float> t = rand<float>({n, 1, 1, 1}, gen);
  Tensor<float> mixed = (real * t + fake.detach() * (1.f - t)).detach().requires_grad_();
  auto g = autograd::grad<float>({critic(mixed).sum()}, {mixed}, {}, /*create_graph=*/true);
  const Tensor<float> norm = (g[0].reshape({n, -1}).pow(2.f).sum({1}) + 1e-12f).sqrt();
  return (norm - 1.f).pow(2.f).mean();
}

}  // namespace

int main(int argc, char** argv) {
  examples::Flags flags;
  examples::add_common_flags(flags, "10", "64", "0.0002", "out/dcgan");
  flags.add("latent", "100", "size of the noise vector");
  flags.add("wgan-gp", "false", "train a WGAN-GP critic (no batch norm, 5 critic steps per generator step)");
  flags.add("gp-weight", "10", "weight of the gradient penalty (WGAN-GP)");
  flags.add("classifier", "out/classifier/classifier.safetensors", "trained classifier weights for the Frechet distance");
  flags.add("fid-samples", "2000", "generated and real images compared by the Frechet distance");
  flags.parse(argc, argv, "train_dcgan: a DCGAN / WGAN-GP on Fashion-MNIST");
  const auto out = examples::setup(flags);
  const auto train = examples::load_fashion_mnist(flags, io::Split::train);
  const auto test = examples::load_fashion_mnist(flags, io::Split::test);
  const index_t limit = flags.integer("limit") > 0 ? std::min<index_t>(flags.integer("limit"), train->images().size(0)) : train->images().size(0);
  // The generator's tanh output lives in [-1, 1]; so do the real images it is compared with.
  auto train_set = std::make_shared<io::TensorDataset>(train->images().narrow(0, 0, limit) * 2.f - 1.f, train->labels().narrow(0, 0, limit));
  const bool wgan = flags.flag("wgan-gp");
  const long epochs = flags.integer("epochs");
  const auto seed = static_cast<std::uint64_t>(flags.integer("seed"));

  const models::DcganConfig config{.latent = flags.integer("latent"), .batch_norm_in_critic = !wgan};
  models::DcganGenerator<> g(config);
  models::DcganDiscriminator<> d(config);
  const double lr = flags.num("lr");
  // Adam settings of the two papers: DCGAN beta1 = 0.5; WGAN-GP beta1 = 0, beta2 = 0.9.
  optim::Adam<> opt_g(g.parameters(), {.lr = lr, .beta1 = wgan ? 0.0 : 0.5, .beta2 = wgan ? 0.9 : 0.999});
  optim::Adam<> opt_d(d.parameters(), {.lr = lr, .beta1 = wgan ? 0.0 : 0.5, .beta2 = wgan ? 0.9 : 0.999});

  std::shared_ptr<models::Classifier<>> classifier;
  Tensor<float> real_features;
  if (std::filesystem::exists(flags.str("classifier"))) {
    classifier = std::make_shared<models::Classifier<>>();
    classifier->load_state_dict(io::load_safetensors<float>(flags.str("classifier")));
    classifier->eval();
    const index_t m = std::min<index_t>(flags.integer("fid-samples"), test->images().size(0));
    real_features = examples::classifier_features(*classifier, test->images().narrow(0, 0, m) * 2.f - 1.f);
  } else {
    std::printf("no classifier at %s: the Frechet distance is skipped (run train_classifier first)\n", flags.str("classifier").c_str());
  }

  const auto ckpt_g = out / "checkpoint_generator.safetensors", ckpt_d = out / "checkpoint_discriminator.safetensors";
  long first_epoch = 0;
  std::vector<double> d_losses, g_losses, distances;
  if (flags.flag("resume")) {
    if (!std::filesystem::exists(ckpt_g) || !std::filesystem::exists(ckpt_d))
      examples::Flags::fail("--resume: no checkpoints in " + out.string());
    io::Metadata meta;
    const long eg = static_cast<long>(io::load_checkpoint(ckpt_g, g, opt_g, default_generator(), &meta));
    const long ed = static_cast<long>(io::load_checkpoint(ckpt_d, d, opt_d, default_generator()));
    if (eg != ed) examples::Flags::fail("--resume: generator and discriminator checkpoints are from different epochs");
    first_epoch = eg;
    d_losses = split(meta["d_losses"]);
    g_losses = split(meta["g_losses"]);
    distances = split(meta["distances"]);
    std::printf("resumed after epoch %ld\n", first_epoch);
  }

  Generator fixed(seed + 101);
  const Tensor<float> fixed_noise = randn<float>({64, config.latent}, fixed);
  std::printf("%s on %lld images, %d threads\n", wgan ? "WGAN-GP" : "DCGAN", static_cast<long long>(limit), get_num_threads());
  const auto start = std::chrono::steady_clock::now();
  for (long epoch = first_epoch; epoch < epochs; ++epoch) {
    g.train();
    d.train();
    io::DataLoader loader(train_set, {.batch_size = flags.integer("batch-size"), .shuffle = true,
                                      .seed = seed * 1000003 + static_cast<std::uint64_t>(epoch), .drop_last = true,
                                      .prefetch = true});
    io::ProgressBar bar(static_cast<std::int64_t>(loader.size()), {.description = "epoch " + std::to_string(epoch + 1)});
    double d_sum = 0, g_sum = 0;
    long d_steps = 0, g_steps = 0, step = 0;
    for (auto& batch : loader) {
      const index_t n = batch.images.size(0);
      const Tensor<float> fake = g(randn<float>({n, config.latent}));
      opt_d.zero_grad();
      Tensor<float> loss_d =
          wgan ? d(fake.detach()).mean() - d(batch.images).mean() +
                     gradient_penalty(d, batch.images, fake, default_generator()) * flags.num("gp-weight")
               : binary_cross_entropy_with_logits(d(batch.images), ones<float>({n})) +
                     binary_cross_entropy_with_logits(d(fake.detach()), zeros<float>({n}));
      loss_d.backward();
      opt_d.step();
      d_sum += loss_d.item();
      ++d_steps;
      if (!wgan || step % 5 == 4) {  // WGAN-GP: one generator step per 5 critic steps
        opt_g.zero_grad();
        Tensor<float> loss_g = wgan ? -d(fake).mean() : binary_cross_entropy_with_logits(d(fake), ones<float>({n}));
        loss_g.backward();
        opt_g.step();
        g_sum += loss_g.item();
        ++g_steps;
      }
      ++step;
      bar.set("D", d_sum / static_cast<double>(d_steps));
      if (g_steps) bar.set("G", g_sum / static_cast<double>(g_steps));
      bar.update();
    }
    bar.close();
    d_losses.push_back(d_sum / static_cast<double>(std::max(d_steps, 1L)));
    g_losses.push_back(g_sum / static_cast<double>(std::max(g_steps, 1L)));

    g.eval();
    NoGradGuard no_grad;
    char name[64];
    std::snprintf(name, sizeof name, "samples_epoch_%02ld.png", epoch + 1);
    io::write_png(out / name, io::make_grid((g(fixed_noise) + 1.f) * 0.5f, {.nrow = 8, .pad_value = 1.0}));
    std::string fd_text;
    if (classifier) {
      Generator sample_gen(seed + 7);
      std::vector<Tensor<float>> parts;
      for (index_t i = 0; i < real_features.size(0); i += 500)
        parts.push_back(g(randn<float>({std::min<index_t>(500, real_features.size(0) - i), config.latent}, sample_gen)));
      distances.push_back(models::frechet_distance(examples::classifier_features(*classifier, cat(parts)), real_features));
      fd_text = ", Frechet distance " + std::to_string(distances.back());
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("epoch %ld/%ld: D loss %.4f, G loss %.4f%s; wrote %s (%.0f s so far)\n", epoch + 1, epochs, d_losses.back(),
                g_losses.back(), fd_text.c_str(), (out / name).c_str(), seconds);
    std::fflush(stdout);
    const io::Metadata history{{"d_losses", join(d_losses)}, {"g_losses", join(g_losses)}, {"distances", join(distances)}};
    io::save_checkpoint(ckpt_g, g, opt_g, epoch + 1, default_generator(), history);
    io::save_checkpoint(ckpt_d, d, opt_d, epoch + 1, default_generator());
  }
  io::write_png(out / "losses.png", examples::line_chart({{d_losses, {0.85f, 0.1f, 0.1f}}, {g_losses, {0.1f, 0.2f, 0.85f}}}));
  std::printf("wrote %s (per-epoch mean loss: D red, G blue), samples_epoch_*.png, checkpoints in %s\n",
              (out / "losses.png").c_str(), out.c_str());
  if (!distances.empty()) {
    std::printf("Frechet distance by epoch:");
    for (double v : distances) std::printf(" %.2f", v);
    std::printf("\n");
  }
}
