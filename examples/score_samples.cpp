// Scores generated Fashion-MNIST images: the Frechet distance (FID's formula) between the
// trained classifier's penultimate-layer features (models::Classifier::embed) of the 10,000
// test images and of each IDX sample file given on the command line. The files hold images
// [N, 1, 28, 28] (or [N, 28, 28]) as float32/float64 in [-1, 1], the generator's tanh range
// (examples/reference/dcgan_reference.py writes them), or as pixel values 0..255 (any file
// whose largest value exceeds 1.5 is taken to be on that scale).
//   --floor          also scores the first 10,000 training images (the distance real data gets)
//   --untrained-ink  also scores an untrained models::DcganGenerator built with --seed as
//                    train_dcgan builds it (the ceiling), sampled as train_dcgan samples
//   --ink-checkpoint also scores the generator of a train_dcgan checkpoint, sampled as
//                    train_dcgan samples (so it repeats train_dcgan's last printed distance)
// Each row also gives how many of the images the classifier assigns to each of the 10 classes.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>

#include <ink/eigen.hpp>
#include <ink/ink.hpp>
#include <ink/models.hpp>

#include "common/cli.hpp"
#include "common/features.hpp"

using namespace ink;

namespace {
std::pair<float, float> value_range(const Tensor<float>& t) {
  const Tensor<float> c = t.contiguous();
  const float* p = c.data_ptr();
  float lo = p[0], hi = p[0];
  for (index_t i = 1; i < c.numel(); ++i) lo = std::min(lo, p[i]), hi = std::max(hi, p[i]);
  return {lo, hi};
}

// How many images the classifier's head assigns to each class, from their features.
std::vector<long> class_counts(models::Classifier<>& c, const Tensor<float>& feats) {
  NoGradGuard no_grad;
  const Tensor<float> logits = c.head->forward(feats).contiguous();
  const index_t k = logits.size(1);
  std::vector<long> counts(static_cast<std::size_t>(k), 0);
  const float* p = logits.data_ptr();
  for (index_t i = 0; i < logits.size(0); ++i, p += k)
    ++counts[static_cast<std::size_t>(std::max_element(p, p + k) - p)];
  return counts;
}

// 10,000 images from generator `g` in eval mode, noise from Generator(seed + 7) in chunks of 500,
// as train_dcgan draws the images it scores.
Tensor<float> sample(models::DcganGenerator<>& g, index_t n, std::uint64_t seed) {
  g.eval();
  NoGradGuard no_grad;
  Generator sample_gen(seed + 7);
  std::vector<Tensor<float>> parts;
  for (index_t i = 0; i < n; i += 500) parts.push_back(g(randn<float>({std::min<index_t>(500, n - i), g.config.latent}, sample_gen)));
  return cat(parts);
}

struct Row {
  std::string what;
  std::string shape;
  std::pair<float, float> range;
  double distance;
  std::vector<long> counts;
};
}  // namespace

int main(int argc, char** argv) {
  examples::Flags flags;
  flags.add("threads", "0", "threads (0: all cores)");
  flags.add("seed", "1", "seed of the untrained generator and its noise (--untrained-ink)");
  flags.add("data", io::default_fashion_mnist_root().string(), "Fashion-MNIST folder (Debian: dataset-fashion-mnist)");
  flags.add("classifier", "out/classifier3/classifier.safetensors", "trained models::Classifier<> weights");
  flags.add("floor", "false", "also score 10,000 training images against the test set");
  flags.add("untrained-ink", "false", "also score an untrained ink DCGAN generator (--seed)");
  flags.add("latent", "100", "noise size of the untrained generator");
  flags.add("ink-checkpoint", "", "a train_dcgan generator checkpoint to sample and score (with --seed)");
  // Flags parses only --name [value]; the sample files are the other arguments.
  const std::set<std::string> booleans{"--floor", "--untrained-ink", "--help", "-h"};
  std::vector<char*> flag_args{argv[0]};
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("-", 0) == 0) {
      flag_args.push_back(argv[i]);
      const bool takes_value = a.find('=') == std::string::npos && !booleans.count(a);
      if (takes_value && i + 1 < argc) flag_args.push_back(argv[++i]);
    } else {
      files.push_back(a);
    }
  }
  flags.parse(static_cast<int>(flag_args.size()), flag_args.data(),
              "score_samples [flags] samples.idx...: Frechet distance of generated images to the Fashion-MNIST test set\n"
              "in the trained classifier's penultimate-layer features");
  if (flags.integer("threads") > 0) set_num_threads(static_cast<int>(flags.integer("threads")));
  const auto seed = static_cast<std::uint64_t>(flags.integer("seed"));
  manual_seed(seed);
  if (files.empty() && !flags.flag("floor") && !flags.flag("untrained-ink") && flags.str("ink-checkpoint").empty())
    examples::Flags::fail("nothing to score: give IDX sample files, --floor or --untrained-ink (see --help)");

  const auto start = std::chrono::steady_clock::now();
  const std::string classifier_path = flags.str("classifier");
  if (!std::filesystem::exists(classifier_path))
    examples::Flags::fail("no classifier at " + classifier_path + " (run train_classifier first, or give --classifier)");
  models::Classifier<> classifier;
  classifier.load_state_dict(io::load_safetensors<float>(classifier_path));
  classifier.eval();
  const auto test = examples::load_fashion_mnist(flags, io::Split::test);
  const Tensor<float> real = examples::classifier_features(classifier, test->images() * 2.f - 1.f);
  std::printf("classifier %s; reference: %lld Fashion-MNIST test images, %lld features each; %d threads\n",
              classifier_path.c_str(), static_cast<long long>(real.size(0)), static_cast<long long>(real.size(1)),
              get_num_threads());
  std::fflush(stdout);

  std::vector<Row> rows;
  auto score = [&](const std::string& what, const Tensor<float>& images_pm1) {
    const Tensor<float> feats = examples::classifier_features(classifier, images_pm1);
    const double fd = models::frechet_distance(feats, real);
    rows.push_back({what, to_string(images_pm1.shape()), value_range(images_pm1), fd, class_counts(classifier, feats)});
    std::printf("  %-48s %10.3f\n", what.c_str(), fd);
    std::fflush(stdout);
  };

  if (flags.flag("floor")) {
    const auto train = examples::load_fashion_mnist(flags, io::Split::train);
    score("floor: training images 0..9999", train->images().narrow(0, 0, 10000) * 2.f - 1.f);
  }
  if (flags.flag("untrained-ink")) {
    // As train_dcgan: manual_seed(seed), then the generator (and discriminator) from the default
    // generator; eval mode; noise from Generator(seed + 7) in chunks of 500.
    const models::DcganConfig config{.latent = flags.integer("latent")};
    manual_seed(seed);  // the classifier's construction above drew from the default generator
    models::DcganGenerator<> g(config);
    models::DcganDiscriminator<> d(config);
    std::printf("ink DCGAN: generator %lld parameters, discriminator %lld\n", static_cast<long long>(g.parameter_count()),
                static_cast<long long>(d.parameter_count()));
    score("ceiling: untrained ink generator, seed " + std::to_string(seed), sample(g, real.size(0), seed));
  }
  if (const std::string ckpt = flags.str("ink-checkpoint"); !ckpt.empty()) {
    models::DcganGenerator<> g({.latent = flags.integer("latent")});
    optim::Adam<> unused(g.parameters(), {});
    Generator unused_rng;
    long epoch = 0;
    try {
      epoch = static_cast<long>(io::load_checkpoint(ckpt, g, unused, unused_rng));
    } catch (const Error& e) {
      examples::Flags::fail(e.what());
    }
    score(ckpt + " (epoch " + std::to_string(epoch) + ")", sample(g, real.size(0), seed));
  }
  for (const auto& file : files) {
    Tensor<float> x;
    try {
      x = io::read_idx<float>(file);
    } catch (const Error& e) {
      examples::Flags::fail(e.what());
    }
    if (x.dim() == 3) x = x.reshape({x.size(0), 1, x.size(1), x.size(2)});
    if (x.dim() != 4 || x.size(1) != 1 || x.size(2) != 28 || x.size(3) != 28)
      examples::Flags::fail(file + ": expected images [N,1,28,28] or [N,28,28], got " + to_string(x.shape()));
    if (value_range(x).second > 1.5f) x = x / 255.f * 2.f - 1.f;  // pixel values 0..255 -> [-1, 1]
    score(file, x);
  }

  std::printf("\n| samples | shape | value range | Frechet distance to the test set | images per predicted class 0..9 |\n"
              "|---|---|---|---|---|\n");
  for (const auto& r : rows) {
    std::string counts;
    for (long c : r.counts) {
      if (!counts.empty()) counts += ' ';
      counts += std::to_string(c);
    }
    std::printf("| %s | %s | [%.3f, %.3f] | %.3f | %s |\n", r.what.c_str(), r.shape.c_str(), r.range.first, r.range.second,
                r.distance, counts.c_str());
  }
  std::printf("(%.0f s)\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}
