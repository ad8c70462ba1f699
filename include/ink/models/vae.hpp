// models::ConvVae: a convolutional variational autoencoder (Kingma & Welling, 2014) for 28x28
// grey images: a conv encoder to the mean and log-variance of a diagonal Gaussian, the
// reparameterisation z = mu + sigma * eps, and a transposed-conv decoder to Bernoulli logits.
// loss() is the negative ELBO in nats per image. Part of models/.
#pragma once
#include "ink/nn.hpp"

namespace ink::models {

struct VaeConfig {
  index_t latent = 20;
  index_t channels = 1;
  index_t width = 32;  // channels after the first conv; the second has twice as many
  index_t hidden = 256;
};

template <class T = float>
class ConvVae : public nn::Module<T> {
 public:
  struct Output {
    Tensor<T> logits, mu, logvar;
  };

  explicit ConvVae(VaeConfig c = {}) : config(c) {
    const index_t w = c.width, flat = 2 * w * 7 * 7;
    encoder = this->register_module("encoder", std::make_shared<nn::Sequential<T>>(
        std::make_shared<nn::Conv2d<T>>(c.channels, w, 4, Conv2dOptions{.stride = 2, .padding = 1}),
        std::make_shared<nn::ReLU<T>>(),
        std::make_shared<nn::Conv2d<T>>(w, 2 * w, 4, Conv2dOptions{.stride = 2, .padding = 1}),
        std::make_shared<nn::ReLU<T>>(), std::make_shared<nn::Flatten<T>>(),
        std::make_shared<nn::Linear<T>>(flat, c.hidden), std::make_shared<nn::ReLU<T>>()));
    to_mu = this->register_module("to_mu", std::make_shared<nn::Linear<T>>(c.hidden, c.latent));
    to_logvar = this->register_module("to_logvar", std::make_shared<nn::Linear<T>>(c.hidden, c.latent));
    decoder_input = this->register_module("decoder_input", std::make_shared<nn::Sequential<T>>(
        std::make_shared<nn::Linear<T>>(c.latent, c.hidden), std::make_shared<nn::ReLU<T>>(),
        std::make_shared<nn::Linear<T>>(c.hidden, flat), std::make_shared<nn::ReLU<T>>()));
    decoder = this->register_module("decoder", std::make_shared<nn::Sequential<T>>(
        std::make_shared<nn::ConvTranspose2d<T>>(2 * w, w, 4, ConvTranspose2dOptions{.stride = 2, .padding = 1}),
        std::make_shared<nn::ReLU<T>>(),
        std::make_shared<nn::ConvTranspose2d<T>>(w, c.channels, 4, ConvTranspose2dOptions{.stride = 2, .padding = 1})));
  }

  // Mean and log-variance of q(z | x) for images [N, C, 28, 28] in [0, 1].
  std::pair<Tensor<T>, Tensor<T>> encode(const Tensor<T>& x) {
    INK_CHECK(ShapeError, x.dim() == 4 && x.shape()[1] == config.channels && x.shape()[2] == 28 && x.shape()[3] == 28,
              "ConvVae: expected images [N,", config.channels, ",28,28], got ", x.shape());
    const Tensor<T> h = encoder->forward(x);
    return {to_mu->forward(h), to_logvar->forward(h)};
  }
  // Bernoulli logits [N, C, 28, 28] of p(x | z).
  Tensor<T> decode(const Tensor<T>& z) {
    return decoder->forward(decoder_input->forward(z).reshape({z.shape()[0], 2 * config.width, 7, 7}));
  }
  // Encode, sample z with noise from `gen` (the mean itself in eval mode), decode.
  Output run(const Tensor<T>& x, Generator& gen = default_generator()) {
    auto [mu, logvar] = encode(x);
    const Tensor<T> z = this->is_training() ? mu + exp(logvar * 0.5) * randn<T>(mu.shape(), gen) : mu;
    return {decode(z), mu, logvar};
  }
  Tensor<T> forward(const Tensor<T>& x) override { return sigmoid(run(x).logits); }

  // Negative ELBO in nats per image: Bernoulli reconstruction term plus KL(q(z|x) || N(0, I)),
  // both summed over pixels / latents and averaged over the batch.
  static Tensor<T> loss(const Output& o, const Tensor<T>& x) {
    const index_t n = x.shape()[0];
    const Tensor<T> recon = binary_cross_entropy_with_logits(o.logits, x, Reduction::sum) / static_cast<double>(n);
    return recon + gaussian_kl(o.mu, o.logvar, Reduction::mean);
  }
  std::string name() const override { return "ConvVae"; }

  VaeConfig config;
  std::shared_ptr<nn::Sequential<T>> encoder, decoder_input, decoder;
  std::shared_ptr<nn::Linear<T>> to_mu, to_logvar;
};

}  // namespace ink::models
