// models::DCGAN generator and discriminator (Radford et al., 2016): transposed convolutions,
// batch norm, ReLU in the generator and LeakyReLU(0.2) in the discriminator, weights drawn
// from N(0, 0.02) as in the paper. A 28x28 variant for Fashion-MNIST and the paper's 64x64.
// Part of models/.
#pragma once
#include "ink/nn.hpp"

namespace ink::models {

struct DcganConfig {
  index_t latent = 100;   // size of the noise vector z
  index_t channels = 1;   // image channels
  index_t width = 64;     // base feature width (the paper's ngf / ndf)
  index_t image_size = 28;  // 28 or 64
  bool batch_norm_in_critic = true;  // WGAN-GP's critic must not use batch norm (Gulrajani et al. 2017)
};

namespace detail {
// DCGAN's initialisation: conv weights N(0, 0.02), batch-norm weights N(1, 0.02), biases 0.
template <class T>
void dcgan_init(nn::Module<T>& m, Generator& gen) {
  for (auto& [name, p] : m.named_parameters()) {
    const bool is_bias = name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0;
    if (is_bias) nn::init::zeros_(p);
    else if (p.dim() == 1) nn::init::normal_(p, 1.0, 0.02, gen);  // batch-norm scale
    else nn::init::normal_(p, 0.0, 0.02, gen);
  }
}
inline void check_dcgan(const DcganConfig& c, const char* who) {
  INK_CHECK(ValueError, c.image_size == 28 || c.image_size == 64, who, ": image_size must be 28 or 64, got ", c.image_size);
  INK_CHECK(ValueError, c.latent > 0 && c.channels > 0 && c.width > 0, who, ": sizes must be positive");
}
}  // namespace detail

// z [N, latent] -> images [N, channels, S, S] in [-1, 1].
template <class T = float>
class DcganGenerator : public nn::Module<T> {
 public:
  explicit DcganGenerator(DcganConfig c = {}, Generator& gen = default_generator()) : config(c) {
    detail::check_dcgan(c, "DcganGenerator");
    net = this->register_module("net", std::make_shared<nn::Sequential<T>>());
    const index_t w = c.width;
    auto up = [&](index_t in, index_t out, Size2 k, ConvTranspose2dOptions o) {
      net->push_back(std::make_shared<nn::ConvTranspose2d<T>>(in, out, k, o, false));
      net->push_back(std::make_shared<nn::BatchNorm2d<T>>(out));
      net->push_back(std::make_shared<nn::ReLU<T>>());
    };
    if (c.image_size == 28) {  // 1 -> 7 -> 14 -> 28
      up(c.latent, 2 * w, 7, {});
      up(2 * w, w, 4, {.stride = 2, .padding = 1});
      net->push_back(std::make_shared<nn::ConvTranspose2d<T>>(w, c.channels, 4, ConvTranspose2dOptions{.stride = 2, .padding = 1}, false));
    } else {  // 1 -> 4 -> 8 -> 16 -> 32 -> 64
      up(c.latent, 8 * w, 4, {});
      up(8 * w, 4 * w, 4, {.stride = 2, .padding = 1});
      up(4 * w, 2 * w, 4, {.stride = 2, .padding = 1});
      up(2 * w, w, 4, {.stride = 2, .padding = 1});
      net->push_back(std::make_shared<nn::ConvTranspose2d<T>>(w, c.channels, 4, ConvTranspose2dOptions{.stride = 2, .padding = 1}, false));
    }
    net->push_back(std::make_shared<nn::Tanh<T>>());
    detail::dcgan_init(*this, gen);
  }
  Tensor<T> forward(const Tensor<T>& z) override {
    INK_CHECK(ShapeError, z.dim() == 2 && z.shape()[1] == config.latent, "DcganGenerator: expected z of shape [N,",
              config.latent, "], got ", z.shape());
    return net->forward(z.reshape({z.shape()[0], config.latent, 1, 1}));
  }
  std::string name() const override { return "DcganGenerator"; }
  DcganConfig config;
  std::shared_ptr<nn::Sequential<T>> net;
};

// images [N, channels, S, S] -> one logit (or critic score) per image, [N].
template <class T = float>
class DcganDiscriminator : public nn::Module<T> {
 public:
  explicit DcganDiscriminator(DcganConfig c = {}, Generator& gen = default_generator()) : config(c) {
    detail::check_dcgan(c, "DcganDiscriminator");
    net = this->register_module("net", std::make_shared<nn::Sequential<T>>());
    const index_t w = c.width;
    auto down = [&](index_t in, index_t out, bool norm) {
      net->push_back(std::make_shared<nn::Conv2d<T>>(in, out, 4, Conv2dOptions{.stride = 2, .padding = 1}, false));
      if (norm && c.batch_norm_in_critic) net->push_back(std::make_shared<nn::BatchNorm2d<T>>(out));
      net->push_back(std::make_shared<nn::LeakyReLU<T>>(0.2));
    };
    if (c.image_size == 28) {  // 28 -> 14 -> 7 -> 1
      down(c.channels, w, false);
      down(w, 2 * w, true);
      net->push_back(std::make_shared<nn::Conv2d<T>>(2 * w, 1, 7, Conv2dOptions{}, false));
    } else {  // 64 -> 32 -> 16 -> 8 -> 4 -> 1
      down(c.channels, w, false);
      down(w, 2 * w, true);
      down(2 * w, 4 * w, true);
      down(4 * w, 8 * w, true);
      net->push_back(std::make_shared<nn::Conv2d<T>>(8 * w, 1, 4, Conv2dOptions{}, false));
    }
    detail::dcgan_init(*this, gen);
  }
  Tensor<T> forward(const Tensor<T>& x) override { return net->forward(x).reshape({-1}); }
  std::string name() const override { return "DcganDiscriminator"; }
  DcganConfig config;
  std::shared_ptr<nn::Sequential<T>> net;
};

}  // namespace ink::models
