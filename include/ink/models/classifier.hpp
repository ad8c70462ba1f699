// models::Classifier: a CNN for 28x28 grey images (Fashion-MNIST): two blocks of two
// conv-BN-ReLU layers and a 2x2 max-pool, then dropout and a two-layer head. embed() gives the
// penultimate features, which the Frechet distance of the generators is measured in.
// Part of models/.
#pragma once
#include "ink/nn.hpp"

namespace ink::models {

struct ClassifierConfig {
  index_t in_channels = 1;
  index_t image_size = 28;  // square inputs; must be divisible by 4
  index_t width = 32;       // channels of the first block; the second has twice as many
  index_t hidden = 256;     // size of the penultimate (embedding) layer
  index_t classes = 10;
  double dropout = 0.3;
};

template <class T = float>
class Classifier : public nn::Module<T> {
 public:
  explicit Classifier(ClassifierConfig c = {}) : config(c) {
    INK_CHECK(ValueError, c.image_size % 4 == 0 && c.image_size > 0, "Classifier: image_size ", c.image_size,
              " must be a positive multiple of 4");
    const index_t w = c.width;
    auto block = [](nn::Sequential<T>& s, index_t in, index_t out) {
      s.push_back(std::make_shared<nn::Conv2d<T>>(in, out, 3, Conv2dOptions{.padding = 1}, false));
      s.push_back(std::make_shared<nn::BatchNorm2d<T>>(out));
      s.push_back(std::make_shared<nn::ReLU<T>>());
    };
    features = this->register_module("features", std::make_shared<nn::Sequential<T>>());
    block(*features, c.in_channels, w);
    block(*features, w, w);
    features->push_back(std::make_shared<nn::MaxPool2d<T>>(2));
    block(*features, w, 2 * w);
    block(*features, 2 * w, 2 * w);
    features->push_back(std::make_shared<nn::MaxPool2d<T>>(2));
    const index_t flat = 2 * w * (c.image_size / 4) * (c.image_size / 4);
    embedding = this->register_module("embedding", std::make_shared<nn::Sequential<T>>(
        std::make_shared<nn::Flatten<T>>(), std::make_shared<nn::Dropout<T>>(c.dropout),
        std::make_shared<nn::Linear<T>>(flat, c.hidden), std::make_shared<nn::BatchNorm1d<T>>(c.hidden),
        std::make_shared<nn::ReLU<T>>()));
    head = this->register_module("head", std::make_shared<nn::Sequential<T>>(
        std::make_shared<nn::Dropout<T>>(c.dropout), std::make_shared<nn::Linear<T>>(c.hidden, c.classes)));
  }

  // Class logits [N, classes] of images [N, C, H, W].
  Tensor<T> forward(const Tensor<T>& x) override { return head->forward(embed(x)); }
  // The penultimate features [N, hidden].
  Tensor<T> embed(const Tensor<T>& x) { return embedding->forward(features->forward(x)); }
  std::string name() const override { return "Classifier"; }

  ClassifierConfig config;
  std::shared_ptr<nn::Sequential<T>> features, embedding, head;
};

}  // namespace ink::models
