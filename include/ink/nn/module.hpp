// nn::Module: the base of every layer and model. A module owns named parameters, buffers and
// submodules in registration order, switches between train and eval mode, and saves and loads
// its state with PyTorch's dotted names ("features.0.weight"), so weights exported from PyTorch
// load by name. Part of nn/.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ink/ops.hpp"

namespace ink::nn {

// Named tensors in a fixed order, as PyTorch's state_dict (an OrderedDict).
template <class T>
using NamedTensors = std::vector<std::pair<std::string, Tensor<T>>>;

template <class T = float>
class Module : public std::enable_shared_from_this<Module<T>> {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // The module's own computation on one input. Modules with other signatures (several inputs,
  // several outputs) define their own functions and leave this one throwing.
  virtual Tensor<T> forward(const Tensor<T>& x) {
    (void)x;
    ink::detail::raise<Error>({name(), ": this module has no single-input forward()"});
  }
  Tensor<T> operator()(const Tensor<T>& x) { return forward(x); }

  // A short type name used in messages and printing ("Linear", "Conv2d" ...).
  virtual std::string name() const { return "Module"; }

  // ---- registration (called from constructors) ----
  INK_COLD Tensor<T>& register_parameter(const std::string& n, Tensor<T> t, bool requires_grad = true) {
    check_new_name(n);
    if (requires_grad) t.requires_grad_(true);
    parameters_.emplace_back(n, std::move(t));
    return parameters_.back().second;
  }
  INK_COLD Tensor<T>& register_buffer(const std::string& n, Tensor<T> t) {
    check_new_name(n);
    buffers_.emplace_back(n, std::move(t));
    return buffers_.back().second;
  }
  template <class M>
  std::shared_ptr<M> register_module(const std::string& n, std::shared_ptr<M> m) {
    register_child(n, m);
    return m;
  }

  // ---- access ----
  INK_COLD NamedTensors<T> named_parameters(bool recurse = true) const {
    NamedTensors<T> out;
    collect(out, "", recurse, &Module::parameters_);
    return out;
  }
  NamedTensors<T> named_buffers(bool recurse = true) const {
    NamedTensors<T> out;
    collect(out, "", recurse, &Module::buffers_);
    return out;
  }
  INK_COLD std::vector<Tensor<T>> parameters(bool recurse = true) const {
    std::vector<Tensor<T>> out;
    for (auto& [n, t] : named_parameters(recurse)) out.push_back(t);
    return out;
  }
  const std::vector<std::pair<std::string, std::shared_ptr<Module<T>>>>& named_children() const { return children_; }
  // Total number of parameter elements.
  index_t parameter_count() const {
    index_t n = 0;
    for (const auto& p : parameters()) n += p.numel();
    return n;
  }

  // ---- modes ----
  INK_COLD virtual void train(bool on = true) {
    training_ = on;
    for (auto& [n, c] : children_) c->train(on);
  }
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Forgets the gradients of every parameter.
  void zero_grad() {
    for (auto& p : parameters()) p.zero_grad();
  }

  // ---- state ----
  // Parameters then buffers of each module, depth-first in registration order, with dotted
  // names. The tensors are the module's own (not copies).
  NamedTensors<T> state_dict() const {
    NamedTensors<T> out;
    collect_state(out, "");
    return out;
  }

  // Copies values from `state` into this module's parameters and buffers, by name. With
  // `strict`, a missing or unexpected key is an error; a shape mismatch always is. The error
  // lists every offending key.
  void load_state_dict(const NamedTensors<T>& state, bool strict = true) {
    std::map<std::string, const Tensor<T>*> given;
    for (const auto& [n, t] : state) given[n] = &t;
    std::vector<std::string> missing, wrong_shape;
    auto own = state_dict();
    for (auto& [n, t] : own) {
      auto it = given.find(n);
      if (it == given.end()) {
        missing.push_back(n);
        continue;
      }
      if (it->second->shape() != t.shape())
        wrong_shape.push_back(n + " (expected " + to_string(t.shape()) + ", got " + to_string(it->second->shape()) + ")");
      given.erase(it);
    }
    std::vector<std::string> unexpected;
    for (auto& [n, t] : given) unexpected.push_back(n);
    std::string msg;
    auto list = [&msg](const char* what, const std::vector<std::string>& keys) {
      if (keys.empty()) return;
      msg += std::string(msg.empty() ? "" : "; ") + what + ": ";
      for (std::size_t i = 0; i < keys.size(); ++i) msg += (i ? ", " : "") + keys[i];
    };
    list("size mismatch", wrong_shape);
    if (strict) {
      list("missing keys", missing);
      list("unexpected keys", unexpected);
    }
    if (!msg.empty()) throw ShapeError(name() + ".load_state_dict: " + msg);
    std::map<std::string, const Tensor<T>*> by_name;
    for (const auto& [n, t] : state) by_name[n] = &t;
    NoGradGuard no_grad;
    for (auto& [n, t] : own)
      if (auto it = by_name.find(n); it != by_name.end()) t.copy_(*it->second);
  }

 private:
  // register_module's work, not a template on the submodule's type: one copy per T instead of
  // one per layer class a program registers.
  INK_COLD void register_child(const std::string& n, std::shared_ptr<Module<T>> m) {
    check_new_name(n);
    INK_CHECK(ValueError, m != nullptr, name(), ".register_module: submodule '", n, "' is null");
    children_.emplace_back(n, std::move(m));
  }
  INK_COLD void check_new_name(const std::string& n) const {
    INK_CHECK(ValueError, !n.empty() && n.find('.') == std::string::npos, name(), ": invalid member name '", n,
                      "' (must be non-empty and contain no '.')");
    auto taken = [&n](const auto& list) {
      for (const auto& [k, v] : list)
        if (k == n) return true;
      return false;
    };
    INK_CHECK(ValueError, !taken(parameters_) && !taken(buffers_) && !taken(children_), name(), ": member '", n,
                      "' is already registered");
  }
  INK_COLD void collect(NamedTensors<T>& out, const std::string& prefix, bool recurse, NamedTensors<T> Module::*which) const {
    for (const auto& [n, t] : this->*which) out.emplace_back(prefix + n, t);
    if (recurse)
      for (const auto& [n, c] : children_) c->collect(out, prefix + n + ".", true, which);
  }
  void collect_state(NamedTensors<T>& out, const std::string& prefix) const {
    for (const auto& [n, t] : parameters_) out.emplace_back(prefix + n, t);
    for (const auto& [n, t] : buffers_) out.emplace_back(prefix + n, t);
    for (const auto& [n, c] : children_) c->collect_state(out, prefix + n + ".");
  }

  NamedTensors<T> parameters_;
  NamedTensors<T> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module<T>>>> children_;
  bool training_ = true;
};

}  // namespace ink::nn
