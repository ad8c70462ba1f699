// Adam (Kingma & Ba, 2015) with L2 weight decay, and AdamW (Loshchilov & Hutter, 2019) with
// decoupled weight decay, step for step as torch.optim.Adam / AdamW. Part of optim/.
#pragma once
#include <cmath>

#include "ink/core/parallel.hpp"
#include "ink/kernels/adam_step.hpp"
#include "ink/optim/optimizer.hpp"
#include "ink/tensor/map.hpp"

namespace ink::optim {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;
  bool decoupled_weight_decay = false;  // AdamW's rule
};

template <class T = float>
class Adam : public Optimizer<T> {
 public:
  INK_COLD Adam(std::vector<Tensor<T>> params, AdamOptions o) : Optimizer<T>(o.decoupled_weight_decay ? "AdamW" : "Adam", std::move(params), o.lr), options(o) {
    INK_CHECK(ValueError, o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1, "Adam: betas must be in [0, 1), got ",
                      o.beta1, ", ", o.beta2);
    INK_CHECK(ValueError, o.eps >= 0 && o.weight_decay >= 0, "Adam: eps and weight_decay must be non-negative");
  }
  AdamOptions options;

 protected:
  void update(Tensor<T>& p, const Tensor<T>& grad, double lr, ParamState<T>& state) override {
    T* w = p.data_ptr();
    const T* g = grad.data_ptr();
    T* m = this->buffer(state, "exp_avg", p.shape()).data_ptr();
    T* v = this->buffer(state, "exp_avg_sq", p.shape()).data_ptr();
    Tensor<T>& step_t = this->buffer(state, "step", {});
    const double t = static_cast<double>(step_t.item()) + 1;
    step_t.fill_(static_cast<T>(t));
    const T b1 = static_cast<T>(options.beta1), b2 = static_cast<T>(options.beta2), wd = static_cast<T>(options.weight_decay);
    const double bias1 = 1 - std::pow(options.beta1, t), bias2 = 1 - std::pow(options.beta2, t);
    const T step_size = static_cast<T>(lr / bias1), bias2_sqrt = static_cast<T>(std::sqrt(bias2));
    const T eps = static_cast<T>(options.eps), decay = static_cast<T>(1 - lr * options.weight_decay);
    const bool decoupled = options.decoupled_weight_decay;
    const kernels::AdamCoefficients<T> k{b1, b2, wd, decay, step_size, bias2_sqrt, eps, decoupled};
    // Elements are independent: any split between threads gives the same result. Vectorised
    // (kernels/adam_step.hpp): as a plain loop it ran scalar, 14% of a VAE training step.
    parallel_for(0, p.numel(), detail::kElementwiseGrain,
                 [=](index_t b, index_t e) { kernels::adam_step(w + b, g + b, m + b, v + b, e - b, k); });
  }
};

// AdamW: Adam with decoupled weight decay (default 0.01, as in PyTorch).
template <class T = float>
class AdamW : public Adam<T> {
 public:
  AdamW(std::vector<Tensor<T>> params, AdamOptions o = {.weight_decay = 0.01})
      : Adam<T>(std::move(params), with_decoupled(o)) {}

 private:
  static AdamOptions with_decoupled(AdamOptions o) {
    o.decoupled_weight_decay = true;
    return o;
  }
};

}  // namespace ink::optim
