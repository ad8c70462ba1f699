// Normalisation modules: BatchNorm1d/2d (running statistics as buffers, PyTorch's names
// including num_batches_tracked), InstanceNorm2d, LayerNorm, GroupNorm. Part of nn/.
#pragma once
#include "ink/nn/module.hpp"

namespace ink::nn {

struct BatchNormConfig {
  double eps = 1e-5;
  double momentum = 0.1;
  bool affine = true;
};

// Batch norm over an [N, C] or [N, C, L] input (BatchNorm1d) or [N, C, H, W] (BatchNorm2d):
// the two differ only in the input rank they accept.
template <class T = float>
class BatchNorm : public Module<T> {
 public:
  INK_COLD BatchNorm(index_t features, index_t min_rank, index_t max_rank, BatchNormConfig c, const char* type)
      : config(c), min_rank_(min_rank), max_rank_(max_rank), type_(type) {
    INK_CHECK(ValueError, features > 0, type, ": num_features must be positive, got ", features);
    if (c.affine) {
      weight = this->register_parameter("weight", ones<T>({features}));
      bias = this->register_parameter("bias", zeros<T>({features}));
    }
    running_mean = this->register_buffer("running_mean", zeros<T>({features}));
    running_var = this->register_buffer("running_var", ones<T>({features}));
    num_batches_tracked = this->register_buffer("num_batches_tracked", zeros<T>({}));
  }
  Tensor<T> forward(const Tensor<T>& x) override {
    INK_CHECK(ShapeError, x.dim() >= min_rank_ && x.dim() <= max_rank_, type_, ": expected an input of ", min_rank_,
                      max_rank_ > min_rank_ ? " or " + std::to_string(max_rank_) : std::string(), " dims, got shape ",
                      x.shape());
    if (this->is_training()) {
      NoGradGuard no_grad;
      num_batches_tracked.add_(scalar_tensor(T(1)));
    }
    return batch_norm(x, running_mean, running_var, weight, bias,
                      {.training = this->is_training(), .momentum = config.momentum, .eps = config.eps});
  }
  std::string name() const override { return type_; }

  BatchNormConfig config;
  Tensor<T> weight, bias, running_mean, running_var, num_batches_tracked;

 private:
  index_t min_rank_, max_rank_;
  std::string type_;
};

template <class T = float>
class BatchNorm1d : public BatchNorm<T> {
 public:
  explicit BatchNorm1d(index_t features, BatchNormConfig c = {}) : BatchNorm<T>(features, 2, 3, c, "BatchNorm1d") {}
};

template <class T = float>
class BatchNorm2d : public BatchNorm<T> {
 public:
  explicit BatchNorm2d(index_t features, BatchNormConfig c = {}) : BatchNorm<T>(features, 4, 4, c, "BatchNorm2d") {}
};

// Instance norm without running statistics (PyTorch's default, track_running_stats=False);
// affine adds a per-channel weight and bias (the style-transfer networks use it).
template <class T = float>
class InstanceNorm2d : public Module<T> {
 public:
  INK_COLD explicit InstanceNorm2d(index_t features, bool affine = false, double eps = 1e-5) : eps(eps) {
    INK_CHECK(ValueError, features > 0, "InstanceNorm2d: num_features must be positive, got ", features);
    if (affine) {
      weight = this->register_parameter("weight", ones<T>({features}));
      bias = this->register_parameter("bias", zeros<T>({features}));
    }
  }
  Tensor<T> forward(const Tensor<T>& x) override {
    INK_CHECK(ShapeError, x.dim() == 4, "InstanceNorm2d: expected [N,C,H,W], got shape ", x.shape());
    return instance_norm(x, weight, bias, eps);
  }
  std::string name() const override { return "InstanceNorm2d"; }
  double eps;
  Tensor<T> weight, bias;
};

template <class T = float>
class LayerNorm : public Module<T> {
 public:
  INK_COLD explicit LayerNorm(Shape normalized_shape, bool elementwise_affine = true, double eps = 1e-5)
      : normalized_shape(std::move(normalized_shape)), eps(eps) {
    check_sizes(this->normalized_shape, "LayerNorm");
    if (elementwise_affine) {
      weight = this->register_parameter("weight", ones<T>(this->normalized_shape));
      bias = this->register_parameter("bias", zeros<T>(this->normalized_shape));
    }
  }
  Tensor<T> forward(const Tensor<T>& x) override { return layer_norm(x, normalized_shape, weight, bias, eps); }
  std::string name() const override { return "LayerNorm"; }
  Shape normalized_shape;
  double eps;
  Tensor<T> weight, bias;
};

template <class T = float>
class GroupNorm : public Module<T> {
 public:
  INK_COLD GroupNorm(index_t groups, index_t channels, bool affine = true, double eps = 1e-5) : groups(groups), eps(eps) {
    INK_CHECK(ValueError, groups > 0 && channels > 0 && channels % groups == 0, "GroupNorm: ", channels,
                      " channels are not divisible into ", groups, " groups");
    if (affine) {
      weight = this->register_parameter("weight", ones<T>({channels}));
      bias = this->register_parameter("bias", zeros<T>({channels}));
    }
  }
  Tensor<T> forward(const Tensor<T>& x) override { return group_norm(x, groups, weight, bias, eps); }
  std::string name() const override { return "GroupNorm"; }
  index_t groups;
  double eps;
  Tensor<T> weight, bias;
};

}  // namespace ink::nn
