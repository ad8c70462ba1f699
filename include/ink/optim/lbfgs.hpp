// L-BFGS (Nocedal & Wright, "Numerical Optimization", 2nd ed., Alg. 7.4 two-loop recursion)
// with an optional strong-Wolfe line search (Alg. 3.5 / 3.6, cubic interpolation eq. 3.59),
// following torch.optim.LBFGS's interface: step(closure) re-evaluates the loss as often as it
// needs. The style-transfer programs (Gatys et al.) optimise an image with it. Part of optim/.
#pragma once
#include <cmath>
#include <deque>
#include <functional>
#include <numeric>

#include "ink/optim/optimizer.hpp"

namespace ink::optim {

struct LBFGSOptions {
  double lr = 1;
  int max_iter = 20;            // iterations per step()
  int max_eval = 0;             // loss evaluations per step(); 0 means max_iter * 5 / 4
  double tolerance_grad = 1e-7;   // stop when max |gradient| is below this
  double tolerance_change = 1e-9; // stop when the loss or the step changes less than this
  int history_size = 100;
  bool strong_wolfe = true;     // line search; without it, fixed steps of lr
};

template <class T = float>
class LBFGS : public Optimizer<T> {
 public:
  // The closure zeroes the gradients, computes the loss, calls backward() and returns the loss.
  using Closure = std::function<Tensor<T>()>;

  INK_COLD LBFGS(std::vector<Tensor<T>> params, LBFGSOptions o) : Optimizer<T>("LBFGS", std::move(params), o.lr), options(o) {
    INK_CHECK(ValueError, this->groups_.size() == 1, "LBFGS: only one parameter group is supported");
    INK_CHECK(ValueError, o.max_iter > 0 && o.history_size > 0, "LBFGS: max_iter and history_size must be positive");
  }

  // Runs up to max_iter iterations; returns the loss before the first of them.
  double step(const Closure& closure) {
    const int max_eval = options.max_eval > 0 ? options.max_eval : options.max_iter * 5 / 4;
    const double lr = this->groups_[0].lr;
    double loss = evaluate(closure);
    const double first_loss = loss;
    int evals = 1;
    Vec g = flat_grad();
    if (max_abs(g) <= options.tolerance_grad) return first_loss;
    for (int iter = 1; iter <= options.max_iter; ++iter) {
      ++n_iter_;
      if (n_iter_ == 1) {
        d_ = scaled(g, -1);
        h_diag_ = 1;
      } else {
        // Curvature pair from the last step; skipped unless y.s > 0 keeps the Hessian positive.
        const Vec y = sub(g, prev_g_), s = scaled(d_, t_);
        const double ys = dot(y, s);
        if (ys > 1e-10) {
          if (static_cast<int>(ys_.size()) == options.history_size) {
            ys_.pop_front();
            ss_.pop_front();
            rho_.pop_front();
          }
          ys_.push_back(y);
          ss_.push_back(s);
          rho_.push_back(1 / ys);
          h_diag_ = ys / dot(y, y);
        }
        d_ = two_loop(g);
      }
      prev_g_ = g;
      const double prev_loss = loss;
      t_ = n_iter_ == 1 ? std::min(1.0, 1.0 / l1(g)) * lr : lr;
      const double gtd = dot(g, d_);
      if (gtd > -options.tolerance_change) break;  // not a descent direction any more

      int ls_evals = 0;
      if (options.strong_wolfe) {
        const Vec x0 = flat_params();
        ls_evals = line_search(closure, x0, loss, g, gtd);
        set_params(x0, t_, d_);
      } else {
        add_to_params(t_, d_);
        if (iter != options.max_iter) {
          loss = evaluate(closure);
          g = flat_grad();
          ls_evals = 1;
        }
      }
      evals += ls_evals;
      if (iter == options.max_iter || evals >= max_eval) break;
      if (max_abs(g) <= options.tolerance_grad) break;
      if (max_abs(d_) * std::abs(t_) <= options.tolerance_change) break;
      if (std::abs(loss - prev_loss) < options.tolerance_change) break;
    }
    return first_loss;
  }

  LBFGSOptions options;

 protected:
  void update(Tensor<T>&, const Tensor<T>&, double, ParamState<T>&) override {
    throw ValueError("LBFGS: call step(closure); it needs to re-evaluate the loss");
  }

 private:
  using Vec = std::vector<double>;

  static double dot(const Vec& a, const Vec& b) { return std::inner_product(a.begin(), a.end(), b.begin(), 0.0); }
  static double l1(const Vec& a) {
    double s = 0;
    for (double v : a) s += std::abs(v);
    return s;
  }
  static double max_abs(const Vec& a) {
    double m = 0;
    for (double v : a) m = std::max(m, std::abs(v));
    return m;
  }
  static Vec scaled(const Vec& a, double k) {
    Vec r(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) r[i] = a[i] * k;
    return r;
  }
  static Vec sub(const Vec& a, const Vec& b) {
    Vec r(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) r[i] = a[i] - b[i];
    return r;
  }

  // -H g by the two-loop recursion over the stored curvature pairs.
  Vec two_loop(const Vec& g) const {
    Vec q = scaled(g, -1);
    std::vector<double> alpha(ys_.size());
    for (std::size_t i = ys_.size(); i-- > 0;) {
      alpha[i] = dot(ss_[i], q) * rho_[i];
      for (std::size_t k = 0; k < q.size(); ++k) q[k] -= alpha[i] * ys_[i][k];
    }
    Vec r = scaled(q, h_diag_);
    for (std::size_t i = 0; i < ys_.size(); ++i) {
      const double beta = dot(ys_[i], r) * rho_[i];
      for (std::size_t k = 0; k < r.size(); ++k) r[k] += ss_[i][k] * (alpha[i] - beta);
    }
    return r;
  }

  double evaluate(const Closure& closure) {
    AutoGradMode grad_on(true);
    return static_cast<double>(closure().item());
  }
  Vec flat_grad() const {
    Vec out;
    for (const auto& p : this->groups_[0].params) {
      const Tensor<T> g = p.grad();
      if (!g.defined()) {
        out.insert(out.end(), static_cast<std::size_t>(p.numel()), 0.0);
        continue;
      }
      for (T v : g.to_vector()) out.push_back(static_cast<double>(v));
    }
    return out;
  }
  Vec flat_params() const {
    Vec out;
    for (const auto& p : this->groups_[0].params)
      for (T v : p.to_vector()) out.push_back(static_cast<double>(v));
    return out;
  }
  // params = x + t d
  void set_params(const Vec& x, double t, const Vec& d) {
    std::size_t k = 0;
    for (auto& p : this->groups_[0].params) {
      T* w = p.data_ptr();
      for (index_t i = 0; i < p.numel(); ++i, ++k) w[i] = static_cast<T>(x[k] + t * d[k]);
    }
  }
  void add_to_params(double t, const Vec& d) { set_params(flat_params(), t, d); }

  // Minimiser of the cubic interpolating (x1, f1, g1) and (x2, f2, g2), clamped to the bounds
  // (Nocedal & Wright eq. 3.59); the bounds' midpoint when the cubic has no minimum.
  static double cubic_min(double x1, double f1, double g1, double x2, double f2, double g2, double lo, double hi) {
    const double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
    const double d2_square = d1 * d1 - g1 * g2;
    if (d2_square < 0) return (lo + hi) / 2;
    const double d2 = std::sqrt(d2_square);
    const double m = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                              : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    return std::min(std::max(m, lo), hi);
  }

  // Finds t_ satisfying the strong Wolfe conditions along d_ from x0; on return loss and g
  // hold the values at x0 + t_ d_. Returns the number of loss evaluations.
  int line_search(const Closure& closure, const Vec& x0, double& loss, Vec& g, double gtd) {
    constexpr double c1 = 1e-4, c2 = 0.9;
    constexpr int max_ls = 25;
    const double f0 = loss, d_norm = max_abs(d_);
    auto eval_at = [&](double t, double& f, Vec& grad) {
      set_params(x0, t, d_);
      f = evaluate(closure);
      grad = flat_grad();
      return dot(grad, d_);
    };
    double t = t_, f_new;
    Vec g_new;
    double gtd_new = eval_at(t, f_new, g_new);
    int evals = 1, ls_iter = 0;
    double t_prev = 0, f_prev = f0, gtd_prev = gtd;
    Vec g_prev = g;
    // Bracketing phase: grow t until an interval holds a point satisfying the conditions.
    double bt[2], bf[2], bgtd[2];
    Vec bg[2];
    int size = 0;
    bool done = false;
    while (ls_iter < max_ls) {
      if (f_new > f0 + c1 * t * gtd || (ls_iter > 1 && f_new >= f_prev)) {
        bt[0] = t_prev, bt[1] = t, bf[0] = f_prev, bf[1] = f_new, bgtd[0] = gtd_prev, bgtd[1] = gtd_new;
        bg[0] = g_prev, bg[1] = g_new, size = 2;
        break;
      }
      if (std::abs(gtd_new) <= -c2 * gtd) {
        bt[0] = t, bf[0] = f_new, bg[0] = g_new, size = 1, done = true;
        break;
      }
      if (gtd_new >= 0) {
        bt[0] = t_prev, bt[1] = t, bf[0] = f_prev, bf[1] = f_new, bgtd[0] = gtd_prev, bgtd[1] = gtd_new;
        bg[0] = g_prev, bg[1] = g_new, size = 2;
        break;
      }
      const double lo = t + 0.01 * (t - t_prev), hi = t * 10;
      const double next = cubic_min(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, lo, hi);
      t_prev = t, f_prev = f_new, g_prev = g_new, gtd_prev = gtd_new;
      t = next;
      gtd_new = eval_at(t, f_new, g_new);
      ++evals, ++ls_iter;
    }
    if (ls_iter == max_ls) {
      bt[0] = 0, bt[1] = t, bf[0] = f0, bf[1] = f_new, bgtd[0] = gtd, bgtd[1] = gtd_new, bg[0] = g, bg[1] = g_new;
      size = 2;
    }
    // Zoom phase: shrink the bracket by safeguarded cubic interpolation.
    bool insufficient_progress = false;
    int low = size == 2 && bf[1] < bf[0] ? 1 : 0;
    while (!done && size == 2 && ls_iter < max_ls) {
      int high = 1 - low;
      if (std::abs(bt[1] - bt[0]) * d_norm < options.tolerance_change) break;
      const double bmin = std::min(bt[0], bt[1]), bmax = std::max(bt[0], bt[1]);
      t = cubic_min(bt[0], bf[0], bgtd[0], bt[1], bf[1], bgtd[1], bmin, bmax);
      // Keep t away from the bracket's ends, or the bracket would shrink too slowly.
      const double eps = 0.1 * (bmax - bmin);
      if (std::min(bmax - t, t - bmin) < eps) {
        if (insufficient_progress || t >= bmax || t <= bmin) {
          t = std::abs(t - bmax) < std::abs(t - bmin) ? bmax - eps : bmin + eps;
          insufficient_progress = false;
        } else {
          insufficient_progress = true;
        }
      } else {
        insufficient_progress = false;
      }
      gtd_new = eval_at(t, f_new, g_new);
      ++evals, ++ls_iter;
      if (f_new > f0 + c1 * t * gtd || f_new >= bf[low]) {
        bt[high] = t, bf[high] = f_new, bg[high] = g_new, bgtd[high] = gtd_new;
        low = bf[0] <= bf[1] ? 0 : 1;
      } else {
        if (std::abs(gtd_new) <= -c2 * gtd) done = true;
        else if (gtd_new * (bt[high] - bt[low]) >= 0) {
          bt[high] = bt[low], bf[high] = bf[low], bg[high] = bg[low], bgtd[high] = bgtd[low];
        }
        bt[low] = t, bf[low] = f_new, bg[low] = g_new, bgtd[low] = gtd_new;
      }
    }
    t_ = bt[low];
    loss = bf[low];
    g = bg[low];
    return evals;
  }

  // State carried across step() calls, as in torch.optim.LBFGS.
  std::deque<Vec> ys_, ss_;
  std::deque<double> rho_;
  Vec d_, prev_g_;
  double t_ = 0, h_diag_ = 1;
  long n_iter_ = 0;
};

}  // namespace ink::optim
