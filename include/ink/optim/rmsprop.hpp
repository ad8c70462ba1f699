// RMSprop (Hinton's lecture 6e) with optional momentum and centring, step for step as
// torch.optim.RMSprop. Part of optim/.
#pragma once
#include <cmath>

#include "ink/optim/optimizer.hpp"

namespace ink::optim {

struct RMSpropOptions {
  double lr = 0.01;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0;
  double momentum = 0;
  bool centered = false;
};

template <class T = float>
class RMSprop : public Optimizer<T> {
 public:
  INK_COLD RMSprop(std::vector<Tensor<T>> params, RMSpropOptions o) : Optimizer<T>("RMSprop", std::move(params), o.lr), options(o) {
    INK_CHECK(ValueError, o.alpha >= 0 && o.eps >= 0 && o.momentum >= 0 && o.weight_decay >= 0,
                      "RMSprop: alpha, eps, momentum and weight_decay must be non-negative");
  }
  RMSpropOptions options;

 protected:
  void update(Tensor<T>& p, const Tensor<T>& grad, double lr, ParamState<T>& state) override {
    T* w = p.data_ptr();
    const T* g = grad.data_ptr();
    T* sq = this->buffer(state, "square_avg", p.shape()).data_ptr();
    T* ga = options.centered ? this->buffer(state, "grad_avg", p.shape()).data_ptr() : nullptr;
    T* buf = options.momentum > 0 ? this->buffer(state, "momentum_buffer", p.shape()).data_ptr() : nullptr;
    const T a = static_cast<T>(options.alpha), wd = static_cast<T>(options.weight_decay), eps = static_cast<T>(options.eps);
    const T mu = static_cast<T>(options.momentum), step = static_cast<T>(lr);
    for (index_t i = 0, n = p.numel(); i < n; ++i) {
      const T d = g[i] + wd * w[i];
      sq[i] = a * sq[i] + (T(1) - a) * d * d;
      T avg;
      if (ga) {
        ga[i] = a * ga[i] + (T(1) - a) * d;
        avg = std::sqrt(sq[i] - ga[i] * ga[i]) + eps;
      } else {
        avg = std::sqrt(sq[i]) + eps;
      }
      if (buf) {
        buf[i] = mu * buf[i] + d / avg;
        w[i] -= step * buf[i];
      } else {
        w[i] -= step * d / avg;
      }
    }
  }
};

}  // namespace ink::optim
