// SGD with momentum, dampening, Nesterov momentum and weight decay, step for step as
// torch.optim.SGD. Part of optim/.
#pragma once
#include "ink/optim/optimizer.hpp"

namespace ink::optim {

struct SGDOptions {
  double lr = 0.01;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
};

template <class T = float>
class SGD : public Optimizer<T> {
 public:
  INK_COLD SGD(std::vector<Tensor<T>> params, SGDOptions o) : Optimizer<T>("SGD", std::move(params), o.lr), options(o) {
    INK_CHECK(ValueError, o.momentum >= 0 && o.weight_decay >= 0, "SGD: momentum and weight_decay must be non-negative");
    INK_CHECK(ValueError, !o.nesterov || (o.momentum > 0 && o.dampening == 0),
                      "SGD: Nesterov momentum requires a momentum and zero dampening");
  }
  SGDOptions options;

 protected:
  void update(Tensor<T>& p, const Tensor<T>& grad, double lr, ParamState<T>& state) override {
    T* w = p.data_ptr();
    const T* g = grad.data_ptr();
    const index_t n = p.numel();
    const T wd = static_cast<T>(options.weight_decay), mu = static_cast<T>(options.momentum);
    const T damp = static_cast<T>(1 - options.dampening), step = static_cast<T>(lr);
    if (mu == T(0)) {
      for (index_t i = 0; i < n; ++i) w[i] -= step * (g[i] + wd * w[i]);
      return;
    }
    bool first = false;
    T* buf = this->buffer(state, "momentum_buffer", p.shape(), &first).data_ptr();
    for (index_t i = 0; i < n; ++i) {
      const T d = g[i] + wd * w[i];
      buf[i] = first ? d : mu * buf[i] + damp * d;  // PyTorch starts the buffer at the first gradient
      w[i] -= step * (options.nesterov ? d + mu * buf[i] : buf[i]);
    }
  }
};

}  // namespace ink::optim
