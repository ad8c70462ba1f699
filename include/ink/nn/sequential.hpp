// nn::Sequential: modules applied in order, registered as "0", "1", ... as in PyTorch, so a
// state_dict reads "features.0.weight". Part of nn/.
#pragma once
#include <memory>

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

  // The registered modules in order (PyTorch's Sequential runs its _modules likewise).
  Tensor<T> forward(const Tensor<T>& x) override {
    Tensor<T> y = x;
    for (const auto& [n, m] : this->named_children()) y = m->forward(y);
    return y;
  }
  std::string name() const override { return "Sequential"; }

  std::size_t size() const { return this->named_children().size(); }
  const std::shared_ptr<Module<T>>& operator[](std::size_t i) const {
    INK_CHECK(ValueError, i < size(), "Sequential: index ", i, " out of range for ", size(), " modules");
    return this->named_children()[i].second;
  }

 private:
  // push_back's work, not a template on the module's type (one copy instead of one per layer
  // class in the program). The modules live in Module's list of children only (a second list
  // here was one more vector type compiled into every program).
  INK_COLD void append(std::shared_ptr<Module<T>> m) { this->register_module(std::to_string(size()), std::move(m)); }
};

}  // namespace ink::nn
