// nn::Conv2d and nn::ConvTranspose2d with PyTorch's parameter layout, names and default
// initialisation (uniform in +-1/sqrt(fan_in)). Part of nn/.
#pragma once
#include <cmath>

#include "ink/nn/init.hpp"
#include "ink/nn/module.hpp"

namespace ink::nn {

template <class T = float>
class Conv2d : public Module<T> {
 public:
  INK_COLD Conv2d(index_t in_channels, index_t out_channels, Size2 kernel_size, Conv2dOptions options = {}, bool bias = true,
         Generator& gen = default_generator())
      : options(options) {
    INK_CHECK(ValueError, in_channels > 0 && out_channels > 0 && options.groups > 0 && in_channels % options.groups == 0 &&
                          out_channels % options.groups == 0,
                      "Conv2d: channels ", in_channels, " -> ", out_channels, " must be positive and divisible by groups ",
                      options.groups);
    weight = this->register_parameter(
        "weight", empty<T>({out_channels, in_channels / options.groups, kernel_size.h, kernel_size.w}));
    init::kaiming_uniform_(weight, std::sqrt(5.0), init::Nonlinearity::leaky_relu, gen);
    if (bias) {
      this->bias = this->register_parameter("bias", empty<T>({out_channels}));
      const double bound = 1.0 / std::sqrt(init::fans(weight.shape()).first);
      init::uniform_(this->bias, -bound, bound, gen);
    }
  }
  Tensor<T> forward(const Tensor<T>& x) override { return conv2d(x, weight, bias, options); }
  std::string name() const override { return "Conv2d"; }

  Tensor<T> weight;  // [out, in/groups, kh, kw]
  Tensor<T> bias;    // [out]
  Conv2dOptions options;
};

template <class T = float>
class ConvTranspose2d : public Module<T> {
 public:
  INK_COLD ConvTranspose2d(index_t in_channels, index_t out_channels, Size2 kernel_size, ConvTranspose2dOptions options = {},
                  bool bias = true, Generator& gen = default_generator())
      : options(options) {
    INK_CHECK(ValueError, in_channels > 0 && out_channels > 0 && options.groups > 0 && in_channels % options.groups == 0 &&
                          out_channels % options.groups == 0,
                      "ConvTranspose2d: channels ", in_channels, " -> ", out_channels,
                      " must be positive and divisible by groups ", options.groups);
    weight = this->register_parameter(
        "weight", empty<T>({in_channels, out_channels / options.groups, kernel_size.h, kernel_size.w}));
    init::kaiming_uniform_(weight, std::sqrt(5.0), init::Nonlinearity::leaky_relu, gen);
    if (bias) {
      this->bias = this->register_parameter("bias", empty<T>({out_channels}));
      const double bound = 1.0 / std::sqrt(init::fans(weight.shape()).first);
      init::uniform_(this->bias, -bound, bound, gen);
    }
  }
  Tensor<T> forward(const Tensor<T>& x) override { return conv_transpose2d(x, weight, bias, options); }
  std::string name() const override { return "ConvTranspose2d"; }

  Tensor<T> weight;  // [in, out/groups, kh, kw]
  Tensor<T> bias;    // [out]
  ConvTranspose2dOptions options;
};

}  // namespace ink::nn
