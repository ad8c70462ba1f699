// nn::Sequential: modules applied in order, registered as "0", "1", ... as in PyTorch, so a
// state_dict reads "features.0.weight". Part of nn/.
#pragma once
#include <memory>
#include <vector>

#include "ink/nn/module.hpp"

namespace ink::nn {

template <class T = float>
class Sequential : public Module<T> {
 public:
  Sequential() = default;
  template <class... Ms>
  INK_COLD explicit Sequential(std::shared_ptr<Ms>... modules) {
    (push_back(std::move(modules)), ...);
  }

  template <class M>
  std::shared_ptr<M> push_back(std::shared_ptr<M> m) {
    append(m);
    return m;
  }

  Tensor<T> forward(const Tensor<T>& x) override {
    Tensor<T> y = x;
    for (auto& m : layers_) y = m->forward(y);
    return y;
  }
  std::string name() const override { return "Sequential"; }

  std::size_t size() const { return layers_.size(); }
  const std::shared_ptr<Module<T>>& operator[](std::size_t i) const {
    INK_CHECK(ValueError, i < layers_.size(), "Sequential: index ", i, " out of range for ", layers_.size(), " modules");
    return layers_[i];
  }

 private:
  // push_back's work, not a template on the module's type (one copy instead of one per layer
  // class in the program).
  INK_COLD void append(std::shared_ptr<Module<T>> m) {
    this->register_module(std::to_string(layers_.size()), m);
    layers_.push_back(std::move(m));
  }

  std::vector<std::shared_ptr<Module<T>>> layers_;
};

}  // namespace ink::nn
