// Normalisation layers as functions: batch_norm (train with running statistics, or eval),
// instance_norm, layer_norm, group_norm. Statistics use the biased variance, as PyTorch does
// for normalising; running_var is updated with the unbiased one. Part of ops/.
#pragma once
#include "ink/kernels/batch_norm.hpp"
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
    INK_CHECK(ShapeError, p.shape() == Shape{x.shape()[1]}, op, ": ", what, " of shape ", p.shape(),
                      " for an input with ", x.shape()[1], " channels (input ", x.shape(), ")");
}

}  // namespace detail

struct BatchNormOptions {
  bool training = true;
  double momentum = 0.1;
  double eps = 1e-5;
};

namespace detail {
// The gradients of training-mode batch norm written with differentiable ops: the formula of
// kernels::batch_norm_backward, used when the backward pass itself records a graph
// (create_graph), so that batch norm has gradients of any order.
template <class T>
std::vector<Tensor<T>> batch_norm_backward_composite(const Tensor<T>& g, const Tensor<T>& x, const Tensor<T>& weight,
                                                     double eps, const Shape& dims, const Shape& cs, bool gx, bool gw,
                                                     bool gb) {
  const T count = static_cast<T>(x.numel() / x.shape()[1]);
  const Tensor<T> mean = x.mean(dims, {.keepdim = true});
  const Tensor<T> invstd = T(1) / sqrt(x.var(dims, false, {.keepdim = true}) + eps);
  const Tensor<T> xhat = (x - mean) * invstd;
  const Tensor<T> dbias = g.sum(dims, {.keepdim = true});
  const Tensor<T> dweight = (g * xhat).sum(dims, {.keepdim = true});
  Tensor<T> dx;
  if (gx) {
    const Tensor<T> scale = weight.defined() ? invstd * weight.reshape(cs) : invstd;
    dx = scale * (g - dbias / count - xhat * (dweight / count));
  }
  return {dx, gw ? dweight.reshape({-1}) : Tensor<T>(), gb ? dbias.reshape({-1}) : Tensor<T>()};
}

// Training-mode batch norm on the fused kernels (kernels/batch_norm.hpp): batch statistics in
// double, running statistics updated with momentum (the variance unbiased, as PyTorch), one
// pass to normalise; backward in two passes unless it must itself be differentiable.
template <class T>
Tensor<T> batch_norm_training(const Tensor<T>& x, Tensor<T>& running_mean, Tensor<T>& running_var,
                              const Tensor<T>& weight, const Tensor<T>& bias, const BatchNormOptions& o,
                              const Shape& dims, const Shape& cs) {
  const Tensor<T> xc = contiguous(x.detach());
  const index_t n = x.shape()[0], c = x.shape()[1], s = x.numel() / std::max<index_t>(n * c, 1);
  std::vector<double> mean(static_cast<std::size_t>(c)), var(static_cast<std::size_t>(c));
  kernels::batch_norm_statistics(xc.data_ptr(), n, c, s, mean.data(), var.data());
  Tensor<T> mean_t = empty<T>({c}), invstd_t = empty<T>({c});
  for (index_t k = 0; k < c; ++k) {
    mean_t.data_ptr()[k] = static_cast<T>(mean[static_cast<std::size_t>(k)]);
    invstd_t.data_ptr()[k] = static_cast<T>(1.0 / std::sqrt(var[static_cast<std::size_t>(k)] + o.eps));
  }
  if (running_mean.defined() && running_var.defined()) {
    NoGradGuard no_grad;
    const T m = static_cast<T>(o.momentum);
    const double count = static_cast<double>(n * s);
    Tensor<T> unbiased = empty<T>({c});
    for (index_t k = 0; k < c; ++k)
      unbiased.data_ptr()[k] = static_cast<T>(var[static_cast<std::size_t>(k)] * (count / (count - 1)));
    running_mean.mul_(T(1) - m).add_(mean_t, m);
    running_var.mul_(T(1) - m).add_(unbiased, m);
  }
  const Tensor<T> wc = weight.defined() ? contiguous(weight.detach()) : Tensor<T>();
  const Tensor<T> bc = bias.defined() ? contiguous(bias.detach()) : Tensor<T>();
  Tensor<T> y = empty<T>(x.shape());
  kernels::batch_norm_forward(xc.data_ptr(), n, c, s, mean_t.data_ptr(), invstd_t.data_ptr(),
                              wc.defined() ? wc.data_ptr() : nullptr, bc.defined() ? bc.data_ptr() : nullptr, y.data_ptr());
  autograd::record("NativeBatchNormBackward", {x, weight, bias}, y,
                   [x, xc, weight, wc, mean_t, invstd_t, n, c, s, eps = o.eps, dims, cs, gx = wants_grad(x),
                    gw = wants_grad(weight), gb = wants_grad(bias)](const Tensor<T>& g, const Tensor<T>&) -> std::vector<Tensor<T>> {
                     if (GradMode::is_enabled()) return batch_norm_backward_composite(g, x, weight, eps, dims, cs, gx, gw, gb);
                     const Tensor<T> gc = contiguous(g);
                     Tensor<T> dx = gx ? empty<T>(x.shape()) : Tensor<T>();
                     Tensor<T> dw = gw ? empty<T>({c}) : Tensor<T>();
                     Tensor<T> db = gb ? empty<T>({c}) : Tensor<T>();
                     kernels::batch_norm_backward(gc.data_ptr(), xc.data_ptr(), n, c, s, mean_t.data_ptr(), invstd_t.data_ptr(),
                                                  wc.defined() ? wc.data_ptr() : nullptr, gx ? dx.data_ptr() : nullptr,
                                                  gw ? dw.data_ptr() : nullptr, gb ? db.data_ptr() : nullptr);
                     return {dx, dw, db};
                   });
  return y;
}
}  // namespace detail

// Normalises each channel of an [N, C, ...] input over every dim but 1. In training the batch
// statistics are used and, when given, running_mean / running_var are updated in place:
// running = (1 - momentum) running + momentum batch_statistic. In eval the running statistics
// are used.
template <class T>
Tensor<T> batch_norm(const Tensor<T>& x, Tensor<T> running_mean, Tensor<T> running_var, const Tensor<T>& weight,
                     const Tensor<T>& bias, BatchNormOptions o = {}) {
  INK_CHECK(ShapeError, x.dim() >= 2, "batch_norm: expected an [N, C, ...] input, got shape ", x.shape());
  detail::check_channels(x, weight, "weight", "batch_norm");
  detail::check_channels(x, bias, "bias", "batch_norm");
  detail::check_channels(x, running_mean, "running_mean", "batch_norm");
  detail::check_channels(x, running_var, "running_var", "batch_norm");
  const Shape cs = detail::channel_shape(x.shape());
  Shape dims;
  for (index_t d = 0; d < x.dim(); ++d)
    if (d != 1) dims.push_back(d);
  if (o.training) {
    const index_t n = x.numel() / x.shape()[1];
    INK_CHECK(ValueError, n > 1, "batch_norm: expected more than 1 value per channel when training, got input ",
                      x.shape());
    return detail::batch_norm_training(x, running_mean, running_var, weight, bias, o, dims, cs);
  }
  INK_CHECK(ValueError, running_mean.defined() && running_var.defined(),
                    "batch_norm: eval mode needs running_mean and running_var");
  const Tensor<T> y = (x - running_mean.reshape(cs)) / sqrt(running_var.reshape(cs) + o.eps);
  return detail::affine(y, weight, bias, cs);
}

// Normalises each (sample, channel) plane of an [N, C, ...] input over its spatial dims.
template <class T>
Tensor<T> instance_norm(const Tensor<T>& x, const Tensor<T>& weight = Tensor<T>(), const Tensor<T>& bias = Tensor<T>(),
                        double eps = 1e-5) {
  INK_CHECK(ShapeError, x.dim() >= 3, "instance_norm: expected an [N, C, ...] input with spatial dims, got shape ",
                    x.shape());
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
  INK_CHECK(ShapeError, ok, "layer_norm: normalized_shape ", normalized_shape,
                    " does not match the trailing dims of input ", x.shape());
  for (const Tensor<T>* p : {&weight, &bias})
    if (p->defined())
      INK_CHECK(ShapeError, p->shape() == normalized_shape, "layer_norm: weight/bias of shape ", p->shape(),
                        " for normalized_shape ", normalized_shape);
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
  INK_CHECK(ShapeError, x.dim() >= 2, "group_norm: expected an [N, C, ...] input, got shape ", x.shape());
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
