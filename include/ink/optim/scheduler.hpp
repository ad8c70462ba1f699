// Learning-rate schedules over epochs: StepLR, ExponentialLR, CosineAnnealingLR (closed forms
// of PyTorch's schedulers). Call step() once per epoch, after the optimiser's steps.
// Part of optim/.
#pragma once
#include <cmath>
#include <numbers>
#include <vector>

#include "ink/optim/optimizer.hpp"

namespace ink::optim {

template <class T = float>
class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  void step() {
    ++epoch_;
    for (std::size_t g = 0; g < base_.size(); ++g) opt_.set_lr(lr_at(base_[g], epoch_), g);
  }
  long epoch() const { return epoch_; }

 protected:
  explicit LRScheduler(Optimizer<T>& opt) : opt_(opt) {
    for (std::size_t g = 0; g < opt.param_groups().size(); ++g) base_.push_back(opt.lr(g));
  }
  virtual double lr_at(double base, long epoch) const = 0;

 private:
  Optimizer<T>& opt_;
  std::vector<double> base_;
  long epoch_ = 0;
};

// lr = base * gamma^(floor(epoch / step_size))
template <class T = float>
class StepLR : public LRScheduler<T> {
 public:
  StepLR(Optimizer<T>& opt, long step_size, double gamma = 0.1) : LRScheduler<T>(opt), step_size(step_size), gamma(gamma) {
    INK_CHECK(ValueError, step_size > 0, "StepLR: step_size must be positive, got ", step_size);
  }
  long step_size;
  double gamma;

 protected:
  double lr_at(double base, long e) const override { return base * std::pow(gamma, static_cast<double>(e / step_size)); }
};

// lr = base * gamma^epoch
template <class T = float>
class ExponentialLR : public LRScheduler<T> {
 public:
  ExponentialLR(Optimizer<T>& opt, double gamma) : LRScheduler<T>(opt), gamma(gamma) {}
  double gamma;

 protected:
  double lr_at(double base, long e) const override { return base * std::pow(gamma, static_cast<double>(e)); }
};

// lr = eta_min + (base - eta_min) (1 + cos(pi epoch / T_max)) / 2 (Loshchilov & Hutter, 2017)
template <class T = float>
class CosineAnnealingLR : public LRScheduler<T> {
 public:
  CosineAnnealingLR(Optimizer<T>& opt, long t_max, double eta_min = 0) : LRScheduler<T>(opt), t_max(t_max), eta_min(eta_min) {
    INK_CHECK(ValueError, t_max > 0, "CosineAnnealingLR: T_max must be positive, got ", t_max);
  }
  long t_max;
  double eta_min;

 protected:
  double lr_at(double base, long e) const override {
    return eta_min + (base - eta_min) * (1 + std::cos(std::numbers::pi * static_cast<double>(e) / static_cast<double>(t_max))) / 2;
  }
};

}  // namespace ink::optim
