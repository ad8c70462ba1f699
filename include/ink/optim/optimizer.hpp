// The optimiser base: parameter groups, each with its own learning rate; zero_grad; and the
// per-parameter state saved and loaded by name ("state.<group>.<index>.<name>"), so that
// training resumes exactly. Part of optim/.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "ink/nn/module.hpp"
#include "ink/ops.hpp"

namespace ink::optim {

template <class T>
struct ParamGroup {
  std::vector<Tensor<T>> params;
  double lr;
};

template <class T = float>
class Optimizer {
 public:
  virtual ~Optimizer() = default;

  // One update of every parameter that has a gradient, under NoGradGuard.
  void step() {
    NoGradGuard no_grad;
    ++steps_;
    for (std::size_t g = 0; g < groups_.size(); ++g)
      for (std::size_t i = 0; i < groups_[g].params.size(); ++i) {
        Tensor<T>& p = groups_[g].params[i];
        const Tensor<T> grad = p.grad();
        if (!grad.defined()) continue;
        INK_CHECK(ValueError, p.is_contiguous() && grad.is_contiguous() && grad.shape() == p.shape(), name(),
                          ": parameter ", i, " of group ", g, " (shape ", to_string(p.shape()),
                          ") is not contiguous or its gradient has another shape");
        update(p, grad, groups_[g].lr, key(g, i));
      }
  }

  void zero_grad() {
    for (auto& g : groups_)
      for (auto& p : g.params) p.zero_grad();
  }

  void add_param_group(std::vector<Tensor<T>> params, double lr) {
    for (std::size_t i = 0; i < params.size(); ++i)
      INK_CHECK(ValueError, params[i].requires_grad() && params[i].is_leaf(), name(), ": parameter ", i,
                        " of the new group is not a leaf that requires grad");
    INK_CHECK(ValueError, lr >= 0, name(), ": learning rate must be non-negative, got ", lr);
    groups_.push_back({std::move(params), lr});
  }
  std::vector<ParamGroup<T>>& param_groups() { return groups_; }
  double lr(std::size_t group = 0) const { return groups_.at(group).lr; }
  void set_lr(double lr, std::size_t group = 0) { groups_.at(group).lr = lr; }

  // The optimiser's state (step count, per-parameter buffers), as named tensors.
  nn::NamedTensors<T> state_dict() const {
    nn::NamedTensors<T> out;
    out.emplace_back("steps", scalar_tensor(static_cast<T>(steps_)));
    for (std::size_t g = 0; g < groups_.size(); ++g) out.emplace_back("group." + std::to_string(g) + ".lr", scalar_tensor(static_cast<T>(groups_[g].lr)));
    for (const auto& [k, t] : state_) out.emplace_back("state." + k, t);
    return out;
  }
  void load_state_dict(const nn::NamedTensors<T>& state) {
    std::map<std::string, Tensor<T>> loaded;
    for (const auto& [k, t] : state) {
      if (k == "steps") steps_ = static_cast<long>(t.item());
      else if (k.rfind("group.", 0) == 0) {
        const std::size_t g = std::stoul(k.substr(6, k.find('.', 6) - 6));
        INK_CHECK(ValueError, g < groups_.size(), name(), ".load_state_dict: state for group ", g, " but the optimiser has ",
                          groups_.size());
        groups_[g].lr = static_cast<double>(t.item());
      } else if (k.rfind("state.", 0) == 0) {
        loaded[k.substr(6)] = detail::contiguous_copy(t);
      } else {
        throw ValueError(name() + ".load_state_dict: unexpected key '" + k + "'");
      }
    }
    state_ = std::move(loaded);
  }
  long steps() const { return steps_; }
  const std::string& name() const { return name_; }

 protected:
  Optimizer(std::string name, std::vector<Tensor<T>> params, double lr) : name_(std::move(name)) {
    add_param_group(std::move(params), lr);
  }
  // Applies the rule to one parameter; `key` names its state buffers.
  virtual void update(Tensor<T>& p, const Tensor<T>& grad, double lr, const std::string& key) = 0;

  // A state buffer of p's shape, created as zeros (or by `init`) on first use.
  Tensor<T>& buffer(const std::string& key, const std::string& what, const Tensor<T>& like, bool* created = nullptr) {
    auto [it, inserted] = state_.try_emplace(key + "." + what);
    if (inserted) it->second = zeros<T>(like.shape());
    if (created) *created = inserted;
    return it->second;
  }
  static std::string key(std::size_t g, std::size_t i) { return std::to_string(g) + "." + std::to_string(i); }

  std::vector<ParamGroup<T>> groups_;
  std::map<std::string, Tensor<T>> state_;
  long steps_ = 0;
  std::string name_;
};

// Scales the gradients of `params` so that their joint L2 norm is at most max_norm; returns the
// norm before clipping (torch.nn.utils.clip_grad_norm_).
template <class T>
double clip_grad_norm_(const std::vector<Tensor<T>>& params, double max_norm) {
  double total = 0;
  for (const auto& p : params) {
    const Tensor<T> g = p.grad();
    if (!g.defined()) continue;
    for (T v : g.to_vector()) total += static_cast<double>(v) * v;
  }
  total = std::sqrt(total);
  const double coef = max_norm / (total + 1e-6);
  if (coef < 1) {
    NoGradGuard no_grad;
    for (const auto& p : params) {
      Tensor<T> g = p.grad();
      if (g.defined()) g.mul_(static_cast<T>(coef));
    }
  }
  return total;
}

}  // namespace ink::optim
