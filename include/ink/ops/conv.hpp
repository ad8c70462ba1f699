// 2-D convolution and transposed convolution, NCHW as in PyTorch, on the fused kernels of
// kernels/conv.hpp (three differentiable ops whose gradients are each other, so conv2d and
// conv_transpose2d have gradients of any order), and unfold / fold (im2col / col2im as tensors,
// an adjoint pair, also used by pooling). Part of ops/.
#pragma once
#include <optional>

#include "ink/kernels/conv.hpp"
#include "ink/kernels/im2col.hpp"
#include "ink/ops/elementwise.hpp"
#include "ink/ops/resample.hpp"
#include "ink/ops/size2.hpp"
#include "ink/ops/views.hpp"

namespace ink {

enum class PaddingMode { zeros, reflect };

struct Conv2dOptions {
  Size2 stride = 1;
  Size2 padding = 0;
  Size2 dilation = 1;
  index_t groups = 1;
  PaddingMode padding_mode = PaddingMode::zeros;
};

struct ConvTranspose2dOptions {
  Size2 stride = 1;
  Size2 padding = 0;
  Size2 output_padding = 0;
  Size2 dilation = 1;
  index_t groups = 1;
};

namespace detail {

inline kernels::Window2d window(index_t c, index_t h, index_t w, Size2 kernel, Size2 stride, Size2 padding,
                                Size2 dilation) {
  return {c, h, w, kernel.h, kernel.w, stride.h, stride.w, padding.h, padding.w, dilation.h, dilation.w};
}

inline void check_window(const kernels::Window2d& g, const char* op, const Shape& input) {
  INK_CHECK(ValueError, g.kernel_h > 0 && g.kernel_w > 0 && g.stride_h > 0 && g.stride_w > 0 && g.dilation_h > 0 &&
                        g.dilation_w > 0 && g.pad_h >= 0 && g.pad_w >= 0,
                    op, ": kernel, stride and dilation must be positive and padding non-negative (input ",
                    input, ")");
  INK_CHECK(ShapeError, g.out_h() > 0 && g.out_w() > 0, op, ": input of shape ", input,
                    " is too small for kernel ", g.kernel_h, "x", g.kernel_w, " with padding ", g.pad_h, "x", g.pad_w,
                    " and dilation ", g.dilation_h, "x", g.dilation_w);
}

template <class T>
Tensor<T> fold_impl(const Tensor<T>& cols, const kernels::Window2d& g, index_t out_h, index_t out_w);

// How many samples of `per_sample` patch elements one thread of unfold/fold takes at least:
// enough for kElementwiseGrain elements, as the elementwise maps. (A grain of 1 sample opened
// an OpenMP region for every tiny batch; on a loaded machine its spinning threads made the
// gradgradcheck of a [2,3,6,5] convolution take 20.7 s instead of 0.03 s.)
inline index_t sample_grain(index_t per_sample) { return std::max<index_t>(1, kElementwiseGrain / std::max<index_t>(per_sample, 1)); }

// The window over an image grown at the bottom / right just enough that its natural output
// size is out_h x out_w (ceil_mode pooling has windows that run past the padded edge).
inline kernels::Window2d extended_window(const kernels::Window2d& g, index_t out_h, index_t out_w) {
  kernels::Window2d ext = g;
  ext.height = std::max(g.height, (out_h - 1) * g.stride_h + g.dilation_h * (g.kernel_h - 1) + 1 - 2 * g.pad_h);
  ext.width = std::max(g.width, (out_w - 1) * g.stride_w + g.dilation_w * (g.kernel_w - 1) + 1 - 2 * g.pad_w);
  return ext;
}

// [N, C, H, W] -> [N, C*kh*kw, OH*OW] patches, `pad_value` outside the image. out_h / out_w
// may exceed the window's own (ceil_mode pooling reads past the padded edge).
template <class T>
Tensor<T> unfold_impl(const Tensor<T>& x, const kernels::Window2d& g, index_t out_h, index_t out_w, T pad_value) {
  INK_CHECK(ShapeError, out_h >= g.out_h() && out_w >= g.out_w(), "unfold: internal error, requested output smaller than the window's");
  const Tensor<T> in = contiguous(x.detach());
  const index_t n = x.shape()[0], L = out_h * out_w, P = g.patch_size();
  Tensor<T> out = empty<T>({n, P, L});
  // im2col derives its output size from the geometry: for a larger output it runs on an
  // extended image (extended_window).
  const bool custom = out_h != g.out_h() || out_w != g.out_w();
  parallel_for(0, n, sample_grain(P * L), [&](index_t b, index_t e) {
    std::vector<T> scratch;
    for (index_t i = b; i < e; ++i) {
      const T* src = in.data_ptr() + i * g.channels * g.height * g.width;
      T* dst = out.data_ptr() + i * P * L;
      if (!custom) {
        kernels::im2col(src, g, dst, pad_value);
        continue;
      }
      // Extend the image with pad_value on the bottom/right, then run im2col on it.
      const kernels::Window2d ext = extended_window(g, out_h, out_w);
      scratch.assign(static_cast<std::size_t>(g.channels * ext.height * ext.width), pad_value);
      for (index_t c = 0; c < g.channels; ++c)
        for (index_t y = 0; y < g.height; ++y)
          std::copy(src + (c * g.height + y) * g.width, src + (c * g.height + y + 1) * g.width,
                    scratch.data() + (c * ext.height + y) * ext.width);
      kernels::im2col(scratch.data(), ext, dst, pad_value);
    }
  });
  autograd::record("UnfoldBackward", {x}, out, [g, out_h, out_w](const Tensor<T>& grad, const Tensor<T>&) -> std::vector<Tensor<T>> {
    return {fold_impl(grad, g, out_h, out_w)};
  });
  return out;
}

// The adjoint of unfold_impl: [N, C*kh*kw, OH*OW] -> [N, C, H, W], overlapping patches add.
template <class T>
Tensor<T> fold_impl(const Tensor<T>& cols, const kernels::Window2d& g, index_t out_h, index_t out_w) {
  INK_CHECK(ShapeError, out_h >= g.out_h() && out_w >= g.out_w(), "fold: internal error, requested output smaller than the window's");
  const Tensor<T> in = contiguous(cols.detach());
  const index_t n = cols.shape()[0], L = out_h * out_w, P = g.patch_size();
  INK_CHECK(ShapeError, cols.dim() == 3 && cols.shape()[1] == P && cols.shape()[2] == L, "fold: input of shape ",
                    cols.shape(), " does not match ", P, " patch elements x ", L, " positions");
  Tensor<T> out = zeros<T>({n, g.channels, g.height, g.width});
  const bool custom = out_h != g.out_h() || out_w != g.out_w();
  parallel_for(0, n, sample_grain(P * L), [&](index_t b, index_t e) {
    std::vector<T> scratch;
    for (index_t i = b; i < e; ++i) {
      const T* src = in.data_ptr() + i * P * L;
      T* dst = out.data_ptr() + i * g.channels * g.height * g.width;
      if (!custom) {
        kernels::col2im(src, g, dst);
        continue;
      }
      const kernels::Window2d ext = extended_window(g, out_h, out_w);
      scratch.assign(static_cast<std::size_t>(g.channels * ext.height * ext.width), T(0));
      kernels::col2im(src, ext, scratch.data());
      for (index_t c = 0; c < g.channels; ++c)
        for (index_t y = 0; y < g.height; ++y)
          for (index_t xx = 0; xx < g.width; ++xx)
            dst[(c * g.height + y) * g.width + xx] = scratch[static_cast<std::size_t>((c * ext.height + y) * ext.width + xx)];
    }
  });
  autograd::record("FoldBackward", {cols}, out, [g, out_h, out_w](const Tensor<T>& grad, const Tensor<T>&) -> std::vector<Tensor<T>> {
    return {unfold_impl(grad, g, out_h, out_w, T(0))};
  });
  return out;
}

// The three directions of a convolution as differentiable ops on contiguous NCHW tensors, each
// one fused kernel (kernels/conv.hpp). Each is linear in each argument, and the gradients of
// each are the other two, so conv2d and conv_transpose2d have gradients of any order:
//   y  = conv_forward(x, w)       dx = conv_input_grad(dy, w)    dw = conv_weight_grad(x, dy)
//   dx = conv_input_grad(dy, w)   d(dy) = conv_forward(g, w)     dw = conv_weight_grad(g, dy)
//   dw = conv_weight_grad(x, dy)  dx = conv_input_grad(dy, g)    d(dy) = conv_forward(x, g)
template <class T>
Tensor<T> conv_input_grad(const Tensor<T>& dy, const Tensor<T>& w, const kernels::Conv2dShape& s);
template <class T>
Tensor<T> conv_weight_grad(const Tensor<T>& x, const Tensor<T>& dy, const kernels::Conv2dShape& s);

template <class T>
Tensor<T> conv_forward(const Tensor<T>& x, const Tensor<T>& w, const kernels::Conv2dShape& s) {
  const Tensor<T> xc = x.contiguous(), wc = w.contiguous();
  Tensor<T> y = empty<T>({s.batch, s.out_channels, s.window.out_h(), s.window.out_w()});
  kernels::conv2d_forward(xc.data_ptr(), wc.data_ptr(), y.data_ptr(), s);
  autograd::record("ConvolutionBackward", {x, w}, y,
                   [x, w, s, gx = wants_grad(x), gw = wants_grad(w)](const Tensor<T>& g, const Tensor<T>&) -> std::vector<Tensor<T>> {
                     return {gx ? conv_input_grad(g, w, s) : Tensor<T>(), gw ? conv_weight_grad(x, g, s) : Tensor<T>()};
                   });
  return y;
}

template <class T>
Tensor<T> conv_input_grad(const Tensor<T>& dy, const Tensor<T>& w, const kernels::Conv2dShape& s) {
  const Tensor<T> dyc = dy.contiguous(), wc = w.contiguous();
  Tensor<T> dx = empty<T>({s.batch, s.window.channels, s.window.height, s.window.width});
  kernels::conv2d_backward_data(dyc.data_ptr(), wc.data_ptr(), dx.data_ptr(), s);
  autograd::record("ConvolutionInputGradBackward", {dy, w}, dx,
                   [dy, w, s, gdy = wants_grad(dy), gw = wants_grad(w)](const Tensor<T>& g, const Tensor<T>&) -> std::vector<Tensor<T>> {
                     return {gdy ? conv_forward(g, w, s) : Tensor<T>(), gw ? conv_weight_grad(g, dy, s) : Tensor<T>()};
                   });
  return dx;
}

template <class T>
Tensor<T> conv_weight_grad(const Tensor<T>& x, const Tensor<T>& dy, const kernels::Conv2dShape& s) {
  const Tensor<T> xc = x.contiguous(), dyc = dy.contiguous();
  const kernels::Window2d& g = s.window;
  Tensor<T> dw = empty<T>({s.out_channels, s.in_per_group(), g.kernel_h, g.kernel_w});
  kernels::conv2d_backward_weights(xc.data_ptr(), dyc.data_ptr(), dw.data_ptr(), s);
  autograd::record("ConvolutionWeightGradBackward", {x, dy}, dw,
                   [x, dy, s, gx = wants_grad(x), gdy = wants_grad(dy)](const Tensor<T>& gw, const Tensor<T>&) -> std::vector<Tensor<T>> {
                     return {gx ? conv_input_grad(dy, gw, s) : Tensor<T>(), gdy ? conv_forward(x, gw, s) : Tensor<T>()};
                   });
  return dw;
}

}  // namespace detail

// Sliding patches of a [N, C, H, W] batch as [N, C*kh*kw, L] (torch.nn.functional.unfold).
template <class T>
Tensor<T> unfold(const Tensor<T>& x, Size2 kernel, Size2 stride = 1, Size2 padding = 0, Size2 dilation = 1) {
  INK_CHECK(ShapeError, x.dim() == 4, "unfold: expected a [N,C,H,W] input, got shape ", x.shape());
  const auto g = detail::window(x.shape()[1], x.shape()[2], x.shape()[3], kernel, stride, padding, dilation);
  detail::check_window(g, "unfold", x.shape());
  return detail::unfold_impl(x, g, g.out_h(), g.out_w(), T(0));
}

// The adjoint of unfold: sums [N, C*kh*kw, L] patches into a [N, C, H, W] image
// (torch.nn.functional.fold with output_size {H, W}).
template <class T>
Tensor<T> fold(const Tensor<T>& cols, Size2 output_size, Size2 kernel, Size2 stride = 1, Size2 padding = 0,
               Size2 dilation = 1) {
  INK_CHECK(ShapeError, cols.dim() == 3, "fold: expected a [N, C*kh*kw, L] input, got shape ", cols.shape());
  const index_t k = kernel.h * kernel.w;
  INK_CHECK(ShapeError, k > 0 && cols.shape()[1] % k == 0, "fold: dim 1 of input ", cols.shape(),
                    " is not a multiple of the kernel size ", k);
  const auto g = detail::window(cols.shape()[1] / k, output_size.h, output_size.w, kernel, stride, padding, dilation);
  detail::check_window(g, "fold", cols.shape());
  return detail::fold_impl(cols, g, g.out_h(), g.out_w());
}

// conv2d(x [N,Cin,H,W], weight [Cout, Cin/groups, kh, kw], bias [Cout] or undefined).
template <class T>
Tensor<T> conv2d(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias = Tensor<T>(), Conv2dOptions o = {}) {
  INK_CHECK(ShapeError, x.dim() == 4, "conv2d: expected a [N,C,H,W] input, got shape ", x.shape());
  INK_CHECK(ShapeError, weight.dim() == 4, "conv2d: expected a [Cout,Cin/groups,kh,kw] weight, got shape ",
                    weight.shape());
  INK_CHECK(ValueError, o.groups >= 1, "conv2d: groups must be positive, got ", o.groups);
  const index_t n = x.shape()[0], cin = x.shape()[1], cout = weight.shape()[0], G = o.groups;
  INK_CHECK(ShapeError, cin == weight.shape()[1] * G, "conv2d: input has ", cin, " channels but weight expects ",
                    weight.shape()[1] * G, " (input ", x.shape(), ", weight ", weight.shape(),
                    ", groups ", G, ")");
  INK_CHECK(ShapeError, cout % G == 0, "conv2d: ", cout, " output channels are not divisible by groups ", G);
  if (bias.defined())
    INK_CHECK(ShapeError, bias.shape() == Shape{cout}, "conv2d: bias of shape ", bias.shape(), " for ", cout,
                      " output channels");
  Tensor<T> in = x;
  Size2 pad = o.padding;
  if (o.padding_mode == PaddingMode::reflect && (pad.h > 0 || pad.w > 0)) {
    in = reflection_pad2d(x, {pad.w, pad.w, pad.h, pad.h});
    pad = 0;
  }
  const Size2 kernel{weight.shape()[2], weight.shape()[3]};
  const auto g = detail::window(cin, in.shape()[2], in.shape()[3], kernel, o.stride, pad, o.dilation);
  detail::check_window(g, "conv2d", x.shape());
  Tensor<T> out = detail::conv_forward(in, weight, kernels::Conv2dShape{n, g, cout, G});
  if (bias.defined()) out = out + bias.view({1, cout, 1, 1});
  return out;
}

// conv_transpose2d(x [N,Cin,H,W], weight [Cin, Cout/groups, kh, kw], bias [Cout] or undefined):
// the gradient of conv2d with respect to its input, as torch.nn.functional.conv_transpose2d.
template <class T>
Tensor<T> conv_transpose2d(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias = Tensor<T>(),
                           ConvTranspose2dOptions o = {}) {
  INK_CHECK(ShapeError, x.dim() == 4, "conv_transpose2d: expected a [N,C,H,W] input, got shape ", x.shape());
  INK_CHECK(ShapeError, weight.dim() == 4, "conv_transpose2d: expected a [Cin,Cout/groups,kh,kw] weight, got shape ",
                    weight.shape());
  INK_CHECK(ValueError, o.groups >= 1, "conv_transpose2d: groups must be positive, got ", o.groups);
  const index_t n = x.shape()[0], cin = x.shape()[1], G = o.groups, cout = weight.shape()[1] * G;
  INK_CHECK(ShapeError, cin == weight.shape()[0], "conv_transpose2d: input has ", cin, " channels but weight expects ",
                    weight.shape()[0], " (input ", x.shape(), ", weight ", weight.shape(), ")");
  INK_CHECK(ShapeError, cin % G == 0, "conv_transpose2d: ", cin, " input channels are not divisible by groups ", G);
  // (PyTorch also accepts output_padding < dilation when dilation > stride; ink does not.)
  INK_CHECK(ValueError, o.output_padding.h >= 0 && o.output_padding.w >= 0 && o.output_padding.h < o.stride.h &&
                        o.output_padding.w < o.stride.w,
                    "conv_transpose2d: output_padding must be non-negative and smaller than stride");
  if (bias.defined())
    INK_CHECK(ShapeError, bias.shape() == Shape{cout}, "conv_transpose2d: bias of shape ", bias.shape(),
                      " for ", cout, " output channels");
  const index_t h = x.shape()[2], w = x.shape()[3], kh = weight.shape()[2], kw = weight.shape()[3];
  const index_t oh = (h - 1) * o.stride.h - 2 * o.padding.h + o.dilation.h * (kh - 1) + o.output_padding.h + 1;
  const index_t ow = (w - 1) * o.stride.w - 2 * o.padding.w + o.dilation.w * (kw - 1) + o.output_padding.w + 1;
  INK_CHECK(ShapeError, oh > 0 && ow > 0, "conv_transpose2d: input of shape ", x.shape(),
                    " gives an empty output with these options");
  // The gradient with respect to the input of the convolution that maps [N, cout, oh, ow] to
  // x's shape [N, cin, h, w] with these weights ([cin, cout/G, kh, kw] is that convolution's
  // [Cout, Cin/G, kh, kw]).
  const auto g = detail::window(cout, oh, ow, Size2{kh, kw}, o.stride, o.padding, o.dilation);
  Tensor<T> out = detail::conv_input_grad(x, weight, kernels::Conv2dShape{n, g, cin, G});
  if (bias.defined()) out = out + bias.view({1, cout, 1, 1});
  return out;
}

}  // namespace ink

// Tensor<T>'s member functions (x.sum(), x.reshape(...)) are defined there; included last so
// that this header works on its own.
#include "ink/ops/tensor_methods.hpp"
