// nn::Linear: y = x W^T + b, with PyTorch's default initialisation (weight and bias uniform in
// +-1/sqrt(in_features)). Part of nn/.
#pragma once
#include <cmath>

#include "ink/nn/init.hpp"
#include "ink/nn/module.hpp"

namespace ink::nn {

template <class T = float>
class Linear : public Module<T> {
 public:
  INK_COLD Linear(index_t in_features, index_t out_features, bool bias = true, Generator& gen = default_generator()) {
    INK_CHECK(ValueError, in_features > 0 && out_features > 0, "Linear: features must be positive, got ", in_features,
                      " -> ", out_features);
    weight = this->register_parameter("weight", empty<T>({out_features, in_features}));
    init::kaiming_uniform_(weight, std::sqrt(5.0), init::Nonlinearity::leaky_relu, gen);
    if (bias) {
      this->bias = this->register_parameter("bias", empty<T>({out_features}));
      const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
      init::uniform_(this->bias, -bound, bound, gen);
    }
  }
  Tensor<T> forward(const Tensor<T>& x) override { return linear(x, weight, bias); }
  std::string name() const override { return "Linear"; }

  Tensor<T> weight;  // [out_features, in_features]
  Tensor<T> bias;    // [out_features], undefined without bias
};

}  // namespace ink::nn
