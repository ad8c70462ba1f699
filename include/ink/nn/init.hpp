// Parameter initialisers (torch.nn.init): uniform_, normal_, constant_, zeros_, ones_,
// kaiming_uniform_/normal_ (He et al. 2015), xavier_uniform_/normal_ (Glorot & Bengio 2010).
// Each fills a tensor in place without recording autograd. Part of nn/.
#pragma once
#include <cmath>
#include <utility>

#include "ink/ops.hpp"

namespace ink::nn::init {

// fan_in, fan_out of a weight as PyTorch counts them: dims 1 and 0 times the receptive field.
inline std::pair<double, double> fans(const Shape& s) {
  INK_CHECK(ValueError, s.size() >= 2, "init: fan in and fan out need a tensor of at least 2 dims, got ", s);
  double receptive = 1;
  for (std::size_t d = 2; d < s.size(); ++d) receptive *= static_cast<double>(s[d]);
  return {static_cast<double>(s[1]) * receptive, static_cast<double>(s[0]) * receptive};
}

enum class Nonlinearity { linear, relu, leaky_relu, tanh, sigmoid };

// The gain PyTorch's calculate_gain gives each nonlinearity.
inline double gain(Nonlinearity n, double negative_slope = 0.01) {
  switch (n) {
    case Nonlinearity::relu: return std::sqrt(2.0);
    case Nonlinearity::leaky_relu: return std::sqrt(2.0 / (1 + negative_slope * negative_slope));
    case Nonlinearity::tanh: return 5.0 / 3.0;
    default: return 1.0;
  }
}

template <class T>
INK_COLD Tensor<T>& uniform_(Tensor<T>& t, double lo, double hi, Generator& gen = default_generator()) {
  NoGradGuard no_grad;
  return t.copy_(rand<T>(t.shape(), gen) * (hi - lo) + lo);
}
template <class T>
INK_COLD Tensor<T>& normal_(Tensor<T>& t, double mean = 0, double std = 1, Generator& gen = default_generator()) {
  NoGradGuard no_grad;
  return t.copy_(randn<T>(t.shape(), gen) * std + mean);
}
template <class T>
INK_COLD Tensor<T>& constant_(Tensor<T>& t, double value) {
  NoGradGuard no_grad;
  return t.fill_(static_cast<T>(value));
}
template <class T>
INK_COLD Tensor<T>& zeros_(Tensor<T>& t) { return constant_(t, 0.0); }
template <class T>
INK_COLD Tensor<T>& ones_(Tensor<T>& t) { return constant_(t, 1.0); }

// Uniform in +-gain * sqrt(3 / fan_in). With the defaults (a = sqrt 5 for leaky_relu) this is
// PyTorch's default initialisation of Linear and Conv weights: +-1/sqrt(fan_in).
template <class T>
INK_COLD Tensor<T>& kaiming_uniform_(Tensor<T>& t, double a = 0, Nonlinearity n = Nonlinearity::leaky_relu,
                            Generator& gen = default_generator()) {
  const double bound = gain(n, a) * std::sqrt(3.0 / fans(t.shape()).first);
  return uniform_(t, -bound, bound, gen);
}
template <class T>
INK_COLD Tensor<T>& kaiming_normal_(Tensor<T>& t, double a = 0, Nonlinearity n = Nonlinearity::leaky_relu,
                           Generator& gen = default_generator()) {
  return normal_(t, 0.0, gain(n, a) / std::sqrt(fans(t.shape()).first), gen);
}
template <class T>
INK_COLD Tensor<T>& xavier_uniform_(Tensor<T>& t, double g = 1.0, Generator& gen = default_generator()) {
  const auto [in, out] = fans(t.shape());
  const double bound = g * std::sqrt(6.0 / (in + out));
  return uniform_(t, -bound, bound, gen);
}
template <class T>
INK_COLD Tensor<T>& xavier_normal_(Tensor<T>& t, double g = 1.0, Generator& gen = default_generator()) {
  const auto [in, out] = fans(t.shape());
  return normal_(t, 0.0, g * std::sqrt(2.0 / (in + out)), gen);
}

}  // namespace ink::nn::init
