// Trains models::Classifier on Fashion-MNIST and reports, per epoch, the training loss, test
// loss and test accuracy. Writes a checkpoint after every epoch (--resume continues from it),
// the final weights, the test confusion matrix and a sheet of misclassified test images.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>

#include <ink/ink.hpp>
#include <ink/models.hpp>

#include "common/cli.hpp"

using namespace ink;

namespace {
const char* kClasses[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                            "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

// Mirrors each image of the batch left-right with probability 1/2 (garments are symmetric
// enough that this is a label-preserving augmentation).
void random_flips(Tensor<float>& images, Generator& gen) {
  const index_t n = images.size(0), h = images.size(2), w = images.size(3);
  float* p = images.data_ptr();
  for (index_t i = 0; i < n; ++i) {
    if (gen.uniform_double() < 0.5) continue;
    for (index_t r = 0; r < h; ++r) std::reverse(p + (i * h + r) * w, p + (i * h + r + 1) * w);
  }
}

struct Evaluation {
  double loss = 0, accuracy = 0;
  std::vector<std::vector<long>> confusion = std::vector<std::vector<long>>(10, std::vector<long>(10, 0));
  std::vector<Tensor<float>> wrong_images;
  std::vector<std::pair<int, int>> wrong_labels;  // (true, predicted)
};

Evaluation evaluate(models::Classifier<>& net, std::shared_ptr<const io::Dataset> test) {
  net.eval();
  NoGradGuard no_grad;
  Evaluation e;
  io::DataLoader loader(std::move(test), {.batch_size = 500});
  long correct = 0, seen = 0;
  for (auto& batch : loader) {
    const Tensor<float> logits = net(batch.images);
    e.loss += cross_entropy(logits, batch.labels, {.reduction = Reduction::sum}).item();
    const auto predicted = logits.argmax(1).to_vector();
    for (std::size_t i = 0; i < predicted.size(); ++i) {
      const int truth = static_cast<int>(batch.labels.data_ptr()[i]), guess = static_cast<int>(predicted[i]);
      ++e.confusion[truth][guess];
      if (truth == guess) ++correct;
      else if (e.wrong_images.size() < 64) {
        e.wrong_images.push_back(batch.images.select(0, static_cast<index_t>(i)));
        e.wrong_labels.emplace_back(truth, guess);
      }
    }
    seen += static_cast<long>(predicted.size());
  }
  e.loss /= static_cast<double>(seen);
  e.accuracy = static_cast<double>(correct) / static_cast<double>(seen);
  return e;
}
}  // namespace

int main(int argc, char** argv) {
  examples::Flags flags;
  examples::add_common_flags(flags, "15", "64", "0.002", "out/classifier");
  flags.add("augment", "true", "random left-right flips of training images");
  flags.parse(argc, argv, "train_classifier: a CNN on Fashion-MNIST");
  const auto out = examples::setup(flags);
  const auto train = examples::load_fashion_mnist(flags, io::Split::train);
  const auto test = examples::load_fashion_mnist(flags, io::Split::test);
  const auto train_set = examples::training_subset(flags, *train);
  const long epochs = flags.integer("epochs");
  const auto seed = static_cast<std::uint64_t>(flags.integer("seed"));

  models::Classifier<> net;
  optim::Adam<> opt(net.parameters(), {.lr = flags.num("lr")});
  optim::CosineAnnealingLR<> schedule(opt, epochs);
  const auto checkpoint = out / "checkpoint.safetensors";
  long first_epoch = 0;
  if (flags.flag("resume")) {
    if (!std::filesystem::exists(checkpoint)) examples::Flags::fail("--resume: no checkpoint at " + checkpoint.string());
    first_epoch = static_cast<long>(io::load_checkpoint(checkpoint, net, opt));
    for (long e = 0; e < first_epoch; ++e) schedule.step();
    std::printf("resumed from %s after epoch %ld\n", checkpoint.string().c_str(), first_epoch);
  }
  std::printf("training on %zu images, testing on %zu, %ld parameters, %d threads, kernels %s\n", train_set->size(),
              test->size(), static_cast<long>(net.parameter_count()), get_num_threads(), isa_name(active_isa()));

  const auto start = std::chrono::steady_clock::now();
  Evaluation last;
  for (long epoch = first_epoch; epoch < epochs; ++epoch) {
    net.train();
    // Each epoch's order depends only on the seed and the epoch, so a resumed run sees the same.
    io::DataLoader loader(train_set, {.batch_size = flags.integer("batch-size"), .shuffle = true,
                                      .seed = seed * 1000003 + static_cast<std::uint64_t>(epoch), .drop_last = true,
                                      .prefetch = true});
    io::ProgressBar bar(static_cast<std::int64_t>(loader.size()), {.description = "epoch " + std::to_string(epoch + 1)});
    double loss_sum = 0;
    long steps = 0;
    for (auto& batch : loader) {
      if (flags.flag("augment")) random_flips(batch.images, default_generator());
      opt.zero_grad();
      Tensor<float> loss = cross_entropy(net(batch.images), batch.labels);
      loss.backward();
      opt.step();
      loss_sum += loss.item();
      ++steps;
      bar.set("loss", loss_sum / static_cast<double>(steps));
      bar.update();
    }
    bar.close();
    schedule.step();
    last = evaluate(net, test);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("epoch %ld/%ld: train loss %.4f, test loss %.4f, test accuracy %.2f%% (%.0f s so far)\n", epoch + 1,
                epochs, loss_sum / static_cast<double>(std::max(steps, 1L)), last.loss, 100 * last.accuracy, seconds);
    std::fflush(stdout);  // the epoch line must show even when stdout is a file
    io::save_checkpoint(checkpoint, net, opt, epoch + 1);
  }
  if (first_epoch >= epochs) last = evaluate(net, test);

  io::save_safetensors(out / "classifier.safetensors", net.state_dict());
  std::ofstream confusion(out / "confusion.txt");
  confusion << "rows: true class, columns: predicted class (test set, " << test->size() << " images)\n";
  char line[256];
  std::snprintf(line, sizeof line, "%-12s", "");
  confusion << line;
  for (int c = 0; c < 10; ++c) confusion << (std::snprintf(line, sizeof line, "%6d", c), line);
  confusion << "\n";
  for (int r = 0; r < 10; ++r) {
    confusion << (std::snprintf(line, sizeof line, "%d %-10s", r, kClasses[r]), line);
    for (int c = 0; c < 10; ++c) confusion << (std::snprintf(line, sizeof line, "%6ld", last.confusion[r][c]), line);
    confusion << "\n";
  }
  std::ofstream wrong_list(out / "misclassified.txt");
  wrong_list << "misclassified.png, row by row, 8 per row: true -> predicted\n";
  for (std::size_t i = 0; i < last.wrong_labels.size(); ++i)
    wrong_list << i << ": " << kClasses[last.wrong_labels[i].first] << " -> " << kClasses[last.wrong_labels[i].second] << "\n";
  if (!last.wrong_images.empty())
    io::write_png(out / "misclassified.png", io::make_grid(stack(last.wrong_images), {.nrow = 8, .pad_value = 1.0}));
  std::printf("test accuracy %.2f%%\nwrote %s (weights), %s, %s, %s, %s\n", 100 * last.accuracy,
              (out / "classifier.safetensors").c_str(), (out / "confusion.txt").c_str(),
              (out / "misclassified.png").c_str(), (out / "misclassified.txt").c_str(), checkpoint.c_str());
}
