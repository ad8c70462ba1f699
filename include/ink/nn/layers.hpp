// Parameter-free modules wrapping ops: activations, pooling, dropout, Flatten, Upsample,
// ReflectionPad2d. Each holds only its options. Part of nn/.
#pragma once
#include <array>

#include "ink/nn/module.hpp"

namespace ink::nn {

// A module whose forward is one function of its input.
#define INK_SIMPLE_MODULE(Name, expr)                                    \
  template <class T = float>                                             \
  class Name : public Module<T> {                                        \
   public:                                                               \
    Tensor<T> forward(const Tensor<T>& x) override { return expr; }      \
    std::string name() const override { return #Name; }                 \
  };
INK_SIMPLE_MODULE(ReLU, relu(x))
INK_SIMPLE_MODULE(Sigmoid, sigmoid(x))
INK_SIMPLE_MODULE(Tanh, tanh(x))
INK_SIMPLE_MODULE(GELU, gelu(x))
INK_SIMPLE_MODULE(Identity, x)
#undef INK_SIMPLE_MODULE

template <class T = float>
class LeakyReLU : public Module<T> {
 public:
  explicit LeakyReLU(double negative_slope = 0.01) : negative_slope(negative_slope) {}
  Tensor<T> forward(const Tensor<T>& x) override { return leaky_relu(x, negative_slope); }
  std::string name() const override { return "LeakyReLU"; }
  double negative_slope;
};

template <class T = float>
class ELU : public Module<T> {
 public:
  explicit ELU(double alpha = 1.0) : alpha(alpha) {}
  Tensor<T> forward(const Tensor<T>& x) override { return elu(x, alpha); }
  std::string name() const override { return "ELU"; }
  double alpha;
};

template <class T = float>
class Softplus : public Module<T> {
 public:
  explicit Softplus(double beta = 1.0, double threshold = 20.0) : beta(beta), threshold(threshold) {}
  Tensor<T> forward(const Tensor<T>& x) override { return softplus(x, beta, threshold); }
  std::string name() const override { return "Softplus"; }
  double beta, threshold;
};

template <class T = float>
class Softmax : public Module<T> {
 public:
  explicit Softmax(index_t dim) : dim(dim) {}
  Tensor<T> forward(const Tensor<T>& x) override { return softmax(x, dim); }
  std::string name() const override { return "Softmax"; }
  index_t dim;
};

template <class T = float>
class LogSoftmax : public Module<T> {
 public:
  explicit LogSoftmax(index_t dim) : dim(dim) {}
  Tensor<T> forward(const Tensor<T>& x) override { return log_softmax(x, dim); }
  std::string name() const override { return "LogSoftmax"; }
  index_t dim;
};

template <class T = float>
class MaxPool2d : public Module<T> {
 public:
  explicit MaxPool2d(Size2 kernel_size, MaxPool2dOptions options = {}) : kernel_size(kernel_size), options(options) {}
  Tensor<T> forward(const Tensor<T>& x) override { return max_pool2d(x, kernel_size, options); }
  std::string name() const override { return "MaxPool2d"; }
  Size2 kernel_size;
  MaxPool2dOptions options;
};

template <class T = float>
class AvgPool2d : public Module<T> {
 public:
  explicit AvgPool2d(Size2 kernel_size, AvgPool2dOptions options = {}) : kernel_size(kernel_size), options(options) {}
  Tensor<T> forward(const Tensor<T>& x) override { return avg_pool2d(x, kernel_size, options); }
  std::string name() const override { return "AvgPool2d"; }
  Size2 kernel_size;
  AvgPool2dOptions options;
};

template <class T = float>
class AdaptiveAvgPool2d : public Module<T> {
 public:
  explicit AdaptiveAvgPool2d(Size2 output_size) : output_size(output_size) {}
  Tensor<T> forward(const Tensor<T>& x) override { return adaptive_avg_pool2d(x, output_size); }
  std::string name() const override { return "AdaptiveAvgPool2d"; }
  Size2 output_size;
};

// Dropout draws its masks from `generator` if given, else from ink's default generator, so a
// seeded run is reproducible and a checkpoint that saves the default generator resumes it.
template <class T = float>
class Dropout : public Module<T> {
 public:
  explicit Dropout(double p = 0.5, Generator* generator = nullptr) : p(p), generator(generator) {
    INK_CHECK(ValueError, p >= 0 && p <= 1, "Dropout: probability ", p, " is outside [0, 1]");
  }
  Tensor<T> forward(const Tensor<T>& x) override {
    return dropout(x, p, this->is_training(), generator ? *generator : default_generator());
  }
  std::string name() const override { return "Dropout"; }
  double p;
  Generator* generator;  // not owned
};

template <class T = float>
class Flatten : public Module<T> {
 public:
  explicit Flatten(index_t start_dim = 1, index_t end_dim = -1) : start_dim(start_dim), end_dim(end_dim) {}
  Tensor<T> forward(const Tensor<T>& x) override { return flatten(x, start_dim, end_dim); }
  std::string name() const override { return "Flatten"; }
  index_t start_dim, end_dim;
};

template <class T = float>
class Upsample : public Module<T> {
 public:
  explicit Upsample(UpsampleOptions options) : options(options) {}
  Tensor<T> forward(const Tensor<T>& x) override { return upsample(x, options); }
  std::string name() const override { return "Upsample"; }
  UpsampleOptions options;
};

template <class T = float>
class ReflectionPad2d : public Module<T> {
 public:
  explicit ReflectionPad2d(index_t pad) : padding{pad, pad, pad, pad} {}
  explicit ReflectionPad2d(std::array<index_t, 4> pad) : padding(pad) {}
  Tensor<T> forward(const Tensor<T>& x) override { return reflection_pad2d(x, padding); }
  std::string name() const override { return "ReflectionPad2d"; }
  std::array<index_t, 4> padding;  // left, right, top, bottom
};

}  // namespace ink::nn
