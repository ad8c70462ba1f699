// Normalisation layers as functions: batch_norm (train with running statistics, or eval),
// instance_norm, layer_norm, group_norm. Statistics use the biased variance, as PyTorch does
// for normalising; running_var is updated with the unbiased one. Part of ops/.
#pragma once
#include "ink/ops/elementwise.hpp"
#include "ink/ops/inplace.hpp"
#include "ink/ops/reduce.hpp"
#include "ink/ops/views.hpp"

namespace ink {
namespace detail {

// Shape [1, C, 1, ...] for per-channel parameters of an [N, C, ...] input.
inline Shape channel_shape(const Shape& x) {
  Shape s(x.size(), 1);
  s[1] = x[1];
  return s;
}

template <class T>
Tensor<T> affine(const Tensor<T>& y, const Tensor<T>& weight, const Tensor<T>& bias, const Shape& shape) {
  Tensor<T> out = y;
  if (weight.defined()) out = out * weight.reshape(shape);
  if (bias.defined()) out = out + bias.reshape(shape);
  return out;
}

template <class T>
void check_channels(const Tensor<T>& x, const Tensor<T>& p, const char* what, const char* op) {
  if (p.defined())
    INK_CHECK(ShapeError, p.shape() == Shape{x.shape()[1]}, op, ": ", what, " of shape ", to_string(p.shape()),
                      " for an input with ", x.shape()[1], " channels (input ", to_string(x.shape()), ")");
}

}  // namespace detail

struct BatchNormOptions {
  bool training = true;
  double momentum = 0.1;
  double eps = 1e-5;
};

// Normalises each channel of an [N, C, ...] input over every dim but 1. In training the batch
// statistics are used and, when given, running_mean / running_var are updated in place:
// running = (1 - momentum) running + momentum batch_statistic. In eval the running statistics
// are used.
template <class T>
Tensor<T> batch_norm(const Tensor<T>& x, Tensor<T> running_mean, Tensor<T> running_var, const Tensor<T>& weight,
                     const Tensor<T>& bias, BatchNormOptions o = {}) {
  INK_CHECK(ShapeError, x.dim() >= 2, "batch_norm: expected an [N, C, ...] input, got shape ", to_string(x.shape()));
  detail::check_channels(x, weight, "weight", "batch_norm");
  detail::check_channels(x, bias, "bias", "batch_norm");
  detail::check_channels(x, running_mean, "running_mean", "batch_norm");
  detail::check_channels(x, running_var, "running_var", "batch_norm");
  const Shape cs = detail::channel_shape(x.shape());
  Shape dims;
  for (index_t d = 0; d < x.dim(); ++d)
    if (d != 1) dims.push_back(d);
  Tensor<T> mean, var;
  if (o.training) {
    const index_t n = x.numel() / x.shape()[1];
    INK_CHECK(ValueError, n > 1, "batch_norm: expected more than 1 value per channel when training, got input ",
                      to_string(x.shape()));
    mean = x.mean(dims, {.keepdim = true});
    var = x.var(dims, false, {.keepdim = true});
    if (running_mean.defined() && running_var.defined()) {
      NoGradGuard no_grad;
      const T m = static_cast<T>(o.momentum);
      running_mean.mul_(T(1) - m).add_(mean.detach().reshape({-1}), m);
      running_var.mul_(T(1) - m).add_(var.detach().reshape({-1}) * (static_cast<T>(n) / static_cast<T>(n - 1)), m);
    }
  } else {
    INK_CHECK(ValueError, running_mean.defined() && running_var.defined(),
                      "batch_norm: eval mode needs running_mean and running_var");
    mean = running_mean.reshape(cs);
    var = running_var.reshape(cs);
  }
  const Tensor<T> y = (x - mean) / sqrt(var + o.eps);
  return detail::affine(y, weight, bias, cs);
}

// Normalises each (sample, channel) plane of an [N, C, ...] input over its spatial dims.
template <class T>
Tensor<T> instance_norm(const Tensor<T>& x, const Tensor<T>& weight = Tensor<T>(), const Tensor<T>& bias = Tensor<T>(),
                        double eps = 1e-5) {
  INK_CHECK(ShapeError, x.dim() >= 3, "instance_norm: expected an [N, C, ...] input with spatial dims, got shape ",
                    to_string(x.shape()));
  detail::check_channels(x, weight, "weight", "instance_norm");
  detail::check_channels(x, bias, "bias", "instance_norm");
  Shape dims;
  for (index_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  const Tensor<T> mean = x.mean(dims, {.keepdim = true});
  const Tensor<T> var = x.var(dims, false, {.keepdim = true});
  return detail::affine((x - mean) / sqrt(var + eps), weight, bias, detail::channel_shape(x.shape()));
}

// Normalises over the trailing dims given by normalized_shape; weight and bias have that shape.
template <class T>
Tensor<T> layer_norm(const Tensor<T>& x, const Shape& normalized_shape, const Tensor<T>& weight = Tensor<T>(),
                     const Tensor<T>& bias = Tensor<T>(), double eps = 1e-5) {
  const index_t k = static_cast<index_t>(normalized_shape.size());
  bool ok = k >= 1 && k <= x.dim();
  for (index_t i = 0; ok && i < k; ++i) ok = x.shape()[x.dim() - k + i] == normalized_shape[i];
  INK_CHECK(ShapeError, ok, "layer_norm: normalized_shape ", to_string(normalized_shape),
                    " does not match the trailing dims of input ", to_string(x.shape()));
  for (const Tensor<T>* p : {&weight, &bias})
    if (p->defined())
      INK_CHECK(ShapeError, p->shape() == normalized_shape, "layer_norm: weight/bias of shape ", to_string(p->shape()),
                        " for normalized_shape ", to_string(normalized_shape));
  Shape dims;
  for (index_t d = x.dim() - k; d < x.dim(); ++d) dims.push_back(d);
  const Tensor<T> mean = x.mean(dims, {.keepdim = true});
  const Tensor<T> var = x.var(dims, false, {.keepdim = true});
  Tensor<T> y = (x - mean) / sqrt(var + eps);
  if (weight.defined()) y = y * weight;
  if (bias.defined()) y = y + bias;
  return y;
}

// Normalises groups of channels of an [N, C, ...] input (Wu & He, 2018); weight and bias are
// per channel.
template <class T>
Tensor<T> group_norm(const Tensor<T>& x, index_t groups, const Tensor<T>& weight = Tensor<T>(),
                     const Tensor<T>& bias = Tensor<T>(), double eps = 1e-5) {
  INK_CHECK(ShapeError, x.dim() >= 2, "group_norm: expected an [N, C, ...] input, got shape ", to_string(x.shape()));
  INK_CHECK(ShapeError, groups > 0 && x.shape()[1] % groups == 0, "group_norm: ", x.shape()[1],
                    " channels are not divisible into ", groups, " groups");
  detail::check_channels(x, weight, "weight", "group_norm");
  detail::check_channels(x, bias, "bias", "group_norm");
  const Tensor<T> g = x.reshape({x.shape()[0], groups, -1});
  const Tensor<T> mean = g.mean({2}, {.keepdim = true});
  const Tensor<T> var = g.var({2}, false, {.keepdim = true});
  const Tensor<T> y = ((g - mean) / sqrt(var + eps)).reshape(x.shape());
  return detail::affine(y, weight, bias, detail::channel_shape(x.shape()));
}

}  // namespace ink

// Tensor<T>'s member functions (x.sum(), x.reshape(...)) are defined there; included last so
// that this header works on its own.
#include "ink/ops/tensor_methods.hpp"
