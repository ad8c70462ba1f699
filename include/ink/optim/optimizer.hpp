// The optimiser base: parameter groups, each with its own learning rate; zero_grad; and the
// per-parameter state saved and loaded by name ("state.<group>.<index>.<name>"), so that
// training resumes exactly. Part of optim/.
#pragma once
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

// What an optimiser keeps for one parameter: its named buffers ("exp_avg", "step", ...).
template <class T>
using ParamState = nn::NamedTensors<T>;

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
                          ": parameter ", i, " of group ", g, " (shape ", p.shape(),
                          ") is not contiguous or its gradient has another shape");
        update(p, grad, groups_[g].lr, state_[first_[g] + i]);
      }
  }

  void zero_grad() {
    for (auto& g : groups_)
      for (auto& p : g.params) p.zero_grad();
  }

  INK_COLD void add_param_group(std::vector<Tensor<T>> params, double lr) {
    for (std::size_t i = 0; i < params.size(); ++i)
      INK_CHECK(ValueError, params[i].requires_grad() && params[i].is_leaf(), name(), ": parameter ", i,
                        " of the new group is not a leaf that requires grad");
    INK_CHECK(ValueError, lr >= 0, name(), ": learning rate must be non-negative, got ", lr);
    first_.push_back(state_.size());
    state_.resize(state_.size() + params.size());
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
    for (std::size_t g = 0; g < groups_.size(); ++g)
      for (std::size_t i = 0; i < groups_[g].params.size(); ++i)
        for (const auto& [n, t] : state_[first_[g] + i])
          out.emplace_back("state." + std::to_string(g) + "." + std::to_string(i) + "." + n, t);
    return out;
  }
  void load_state_dict(const nn::NamedTensors<T>& state) {
    std::vector<ParamState<T>> loaded(state_.size());
    for (const auto& [k, t] : state) {
      if (k == "steps") steps_ = static_cast<long>(t.item());
      else if (k.rfind("group.", 0) == 0) {
        std::size_t g = 0, pos = 6;
        INK_CHECK(ValueError, parse_index(k, pos, g) && k.compare(pos, std::string::npos, "lr") == 0, name(),
                  ".load_state_dict: key '", k, "' is not group.<group>.lr");
        INK_CHECK(ValueError, g < groups_.size(), name(), ".load_state_dict: state for group ", g, " but the optimiser has ",
                          groups_.size());
        groups_[g].lr = static_cast<double>(t.item());
      } else if (k.rfind("state.", 0) == 0) {
        std::size_t g = 0, i = 0, pos = 6;
        const bool parsed = parse_index(k, pos, g) && parse_index(k, pos, i) && pos < k.size();
        INK_CHECK(ValueError, parsed, name(), ".load_state_dict: key '", k, "' is not state.<group>.<index>.<name>");
        INK_CHECK(ValueError, g < groups_.size() && i < groups_[g].params.size(), name(),
                  ".load_state_dict: state for parameter ", i, " of group ", g, ", which the optimiser does not have");
        loaded[first_[g] + i].emplace_back(k.substr(pos), detail::contiguous_copy(t));
      } else {
        throw ValueError(name() + ".load_state_dict: unexpected key '" + k + "'");
      }
    }
    state_ = std::move(loaded);
  }
  long steps() const { return steps_; }
  const std::string& name() const { return name_; }

 protected:
  INK_COLD Optimizer(std::string name, std::vector<Tensor<T>> params, double lr) : name_(std::move(name)) {
    add_param_group(std::move(params), lr);
  }
  // Applies the rule to one parameter, whose buffers are in `state`.
  virtual void update(Tensor<T>& p, const Tensor<T>& grad, double lr, ParamState<T>& state) = 0;

  // The buffer `what` of a parameter's state, created as zeros of `shape` on first use (and
  // then *created set). A parameter has a handful of buffers: a list, not a map keyed by
  // strings built every step (which was also ~2 KB of every training program's code).
  static Tensor<T>& buffer(ParamState<T>& state, const char* what, const Shape& shape, bool* created = nullptr) {
    for (auto& [n, t] : state)
      if (n == what) {
        if (created) *created = false;
        return t;
      }
    if (created) *created = true;
    return state.emplace_back(what, zeros<T>(shape)).second;
  }

 private:
  // Reads "<digits>." at pos of a state key, moving pos past the dot.
  static bool parse_index(const std::string& key, std::size_t& pos, std::size_t& value) {
    const std::size_t start = pos;
    value = 0;
    for (; pos < key.size() && key[pos] >= '0' && key[pos] <= '9'; ++pos) value = value * 10 + static_cast<std::size_t>(key[pos] - '0');
    if (pos == start || pos >= key.size() || key[pos] != '.') return false;
    ++pos;
    return true;
  }

 protected:
  std::vector<ParamGroup<T>> groups_;
  // Per parameter, the groups' in order: group g's parameter i at first_[g] + i. (Flat: a
  // vector per group was one more nesting of vectors compiled into every training program.)
  std::vector<ParamState<T>> state_;
  std::vector<std::size_t> first_;
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
