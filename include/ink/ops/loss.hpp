// Loss functions: cross_entropy (class indices, label smoothing), nll_loss,
// binary_cross_entropy (+ with logits), mse_loss, l1_loss, and the KL divergence of a diagonal
// Gaussian from the standard normal (the VAE's regulariser). Part of ops/.
#pragma once
#include "ink/ops/activation.hpp"
#include "ink/ops/indexing.hpp"

namespace ink {

enum class Reduction { none, mean, sum };

namespace detail {
template <class T>
Tensor<T> reduce_loss(const Tensor<T>& per_element, Reduction r) {
  switch (r) {
    case Reduction::none: return per_element;
    case Reduction::sum: return per_element.sum();
    default: return per_element.mean();
  }
}
template <class T, class U>
void check_same_shape(const Tensor<T>& a, const Tensor<U>& b, const char* op) {
  INK_CHECK(ShapeError, a.shape() == b.shape(), op, ": input of shape ", a.shape(), " and target of shape ",
                    b.shape(), " differ");
}
}  // namespace detail

template <class T>
Tensor<T> mse_loss(const Tensor<T>& input, const Tensor<T>& target, Reduction r = Reduction::mean) {
  detail::check_same_shape(input, target, "mse_loss");
  const Tensor<T> d = input - target;
  return detail::reduce_loss(d * d, r);
}

template <class T>
Tensor<T> l1_loss(const Tensor<T>& input, const Tensor<T>& target, Reduction r = Reduction::mean) {
  detail::check_same_shape(input, target, "l1_loss");
  return detail::reduce_loss(abs(input - target), r);
}

// Negative log-likelihood of class indices: log_probs [N, C], target [N] in [0, C).
template <class T>
Tensor<T> nll_loss(const Tensor<T>& log_probs, const Tensor<std::int64_t>& target, Reduction r = Reduction::mean) {
  INK_CHECK(ShapeError, log_probs.dim() == 2 && target.dim() == 1 && target.shape()[0] == log_probs.shape()[0],
                    "nll_loss: expected log_probs [N,C] and target [N], got ", log_probs.shape(), " and ",
                    target.shape());
  // target as a column [N, 1], gather's index, by a strided view: target.reshape() would
  // compile reshape and view (and their copies) for integer tensors into every program with a
  // classification loss, only for this.
  const Tensor<std::int64_t> column =
      target.as_strided({target.shape()[0], 1}, {target.strides()[0], 1}, target.storage_offset());
  return detail::reduce_loss(-gather(log_probs, 1, column).reshape({-1}), r);
}

struct CrossEntropyOptions {
  Reduction reduction = Reduction::mean;
  double label_smoothing = 0.0;  // in [0, 1]: mixes the target with the uniform distribution
};

// Cross entropy of logits [N, C] against class indices [N]. With label smoothing s the target
// is (1 - s) one_hot + s / C, as in PyTorch.
template <class T>
Tensor<T> cross_entropy(const Tensor<T>& logits, const Tensor<std::int64_t>& target, CrossEntropyOptions o = {}) {
  INK_CHECK(ValueError, o.label_smoothing >= 0 && o.label_smoothing <= 1, "cross_entropy: label_smoothing ",
                    o.label_smoothing, " is outside [0, 1]");
  INK_CHECK(ShapeError, logits.dim() == 2, "cross_entropy: expected logits [N,C], got shape ", logits.shape());
  const Tensor<T> logp = log_softmax(logits, 1);
  Tensor<T> per_sample = nll_loss(logp, target, Reduction::none);
  if (o.label_smoothing > 0)
    per_sample = per_sample * (1.0 - o.label_smoothing) - logp.mean({1}) * o.label_smoothing;
  return detail::reduce_loss(per_sample, o.reduction);
}

// -(t log p + (1 - t) log(1 - p)) with each log clamped at -100, as PyTorch does, so p = 0 or
// 1 gives a finite loss. The gradient is PyTorch's (p - t) / max(p (1 - p), 1e-12): the chain
// rule through the clamped logs would give 0 * inf = NaN where p saturates.
template <class T>
Tensor<T> binary_cross_entropy(const Tensor<T>& p, const Tensor<T>& target, Reduction r = Reduction::mean) {
  detail::check_same_shape(p, target, "binary_cross_entropy");
  Tensor<T> loss = detail::map_binary<T>(p, target, [](T pv, T tv) {
    const T lp = std::max(std::log(pv), T(-100)), lq = std::max(std::log(T(1) - pv), T(-100));
    return -(tv * lp + (T(1) - tv) * lq);
  }, "binary_cross_entropy");
  autograd::record("BinaryCrossEntropyBackward", {p, target}, loss,
                   [p, target, gp = detail::wants_grad(p), gt = detail::wants_grad(target)](
                       const Tensor<T>& g, const Tensor<T>&) -> std::vector<Tensor<T>> {
                     Tensor<T> dp, dt;
                     if (gp) dp = g * (p - target) / clamp(p * (1.0 - p), T(1e-12), std::nullopt);
                     if (gt) dt = g * (clamp(log(1.0 - p), T(-100), std::nullopt) - clamp(log(p), T(-100), std::nullopt));
                     return {dp, dt};
                   });
  return detail::reduce_loss(loss, r);
}

// Binary cross entropy of sigmoid(x) without forming it: softplus(x) - t x, which is exact and
// stable for any logit.
template <class T>
Tensor<T> binary_cross_entropy_with_logits(const Tensor<T>& logits, const Tensor<T>& target, Reduction r = Reduction::mean) {
  detail::check_same_shape(logits, target, "binary_cross_entropy_with_logits");
  return detail::reduce_loss(softplus(logits) - target * logits, r);
}

// KL( N(mu, exp(logvar)) || N(0, 1) ) = -1/2 sum(1 + logvar - mu^2 - exp(logvar)) over every dim
// but the first (Kingma & Welling, 2014, appendix B). none: per sample [N]; sum: total;
// mean: averaged over the batch.
template <class T>
Tensor<T> gaussian_kl(const Tensor<T>& mu, const Tensor<T>& logvar, Reduction r = Reduction::mean) {
  detail::check_same_shape(mu, logvar, "gaussian_kl");
  INK_CHECK(ShapeError, mu.dim() >= 2, "gaussian_kl: expected [N, ...] inputs, got shape ", mu.shape());
  const Tensor<T> terms = (logvar + 1.0 - mu * mu - exp(logvar)) * -0.5;
  Shape dims;
  for (index_t d = 1; d < mu.dim(); ++d) dims.push_back(d);
  return detail::reduce_loss(terms.sum(dims), r);
}

}  // namespace ink

// Tensor<T>'s member functions (x.sum(), x.reshape(...)) are defined there; included last so
// that this header works on its own.
#include "ink/ops/tensor_methods.hpp"
