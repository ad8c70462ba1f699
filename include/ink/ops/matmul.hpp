// Differentiable matrix products with PyTorch's matmul rules: 1-D operands are promoted to a
// row / column and squeezed back; leading (batch) dims broadcast. Each 2-D product runs on
// kernels::gemm, which reads transposed operands in place. Part of ops/.
#pragma once
#include "ink/autograd/node.hpp"
#include "ink/kernels/gemm.hpp"
#include "ink/ops/elementwise.hpp"
#include "ink/tensor/creation.hpp"
#include "ink/tensor/map.hpp"

namespace ink {
namespace detail {

// How gemm can read a 2-D strided matrix without copying: row-major with a leading dimension,
// or transposed (column-major). None when neither fits.
struct GemmOperand {
  bool ok = false;
  bool trans = false;
  index_t ld = 0;
};
inline GemmOperand gemm_operand(index_t rows, index_t cols, index_t row_stride, index_t col_stride) {
  if (col_stride == 1 && row_stride >= std::max<index_t>(cols, 1)) return {true, false, row_stride};
  if (row_stride == 1 && col_stride >= std::max<index_t>(rows, 1)) return {true, true, col_stride};
  if (rows == 1 && col_stride == 1) return {true, false, std::max<index_t>(cols, 1)};
  if (cols == 1 && row_stride == 1) return {true, true, std::max<index_t>(rows, 1)};
  return {};
}

// C[b] = A[b] @ B[b] for a, b of at least 2 dims whose batch dims broadcast.
template <class T>
Tensor<T> batched_matmul(const Tensor<T>& a_in, const Tensor<T>& b_in) {
  const index_t m = a_in.size(-2), k = a_in.size(-1), n = b_in.size(-1);
  INK_CHECK(ShapeError, b_in.size(-2) == k, "matmul: shapes ", a_in.shape(), " and ", b_in.shape(),
                    " cannot be multiplied (", m, "x", k, " and ", b_in.size(-2), "x", n, ")");
  const Shape batch_a(a_in.shape().begin(), a_in.shape().end() - 2), batch_b(b_in.shape().begin(), b_in.shape().end() - 2);
  const Shape batch = broadcast_shapes(batch_a, batch_b, "matmul");
  Shape out_shape = batch;
  out_shape.push_back(m);
  out_shape.push_back(n);
  Tensor<T> out = empty<T>(out_shape);
  if (out.numel() == 0) return out;

  auto usable = [](const Tensor<T>& t) {
    return gemm_operand(t.size(-2), t.size(-1), t.stride(-2), t.stride(-1)).ok ? t : contiguous_copy(t);
  };
  const Tensor<T> a = usable(a_in), b = usable(b_in);
  const GemmOperand oa = gemm_operand(m, k, a.stride(-2), a.stride(-1));
  const GemmOperand ob = gemm_operand(k, n, b.stride(-2), b.stride(-1));
  const Shape sa = broadcast_strides(batch_a, Shape(a.strides().begin(), a.strides().end() - 2), batch);
  const Shape sb = broadcast_strides(batch_b, Shape(b.strides().begin(), b.strides().end() - 2), batch);
  const index_t batches = numel(batch);
  std::vector<index_t> idx(batch.size(), 0);
  for (index_t i = 0; i < batches; ++i) {
    index_t off_a = 0, off_b = 0;
    for (std::size_t d = 0; d < batch.size(); ++d) {
      off_a += idx[d] * sa[d];
      off_b += idx[d] * sb[d];
    }
    kernels::gemm<T>(oa.trans, ob.trans, m, n, k, T(1), a.data_ptr() + off_a, oa.ld, b.data_ptr() + off_b, ob.ld,
                     T(0), out.data_ptr() + i * m * n, n);
    for (std::size_t d = batch.size(); d-- > 0;) {
      if (++idx[d] < batch[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

}  // namespace detail

template <class T>
Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b) {
  INK_CHECK(ShapeError, a.dim() >= 1 && b.dim() >= 1, "matmul: both arguments need at least 1 dim, got shapes ",
                    a.shape(), " and ", b.shape());
  if (a.dim() == 1 && b.dim() == 1) {
    INK_CHECK(ShapeError, a.numel() == b.numel(), "matmul: 1-D tensors of shapes ", a.shape(), " and ",
                      b.shape(), " differ in size");
    return matmul(a.reshape({1, a.numel()}), b.reshape({b.numel(), 1})).reshape({});
  }
  // A vector operand becomes a row (a) or a column (b), and that dim is dropped from the
  // product again. By reshape (a view of the new product, differentiable as any view) rather
  // than unsqueeze / squeeze, which would put two more ops and their backward closures into
  // every program that multiplies matrices.
  if (a.dim() == 1) {
    const Tensor<T> out = matmul(a.reshape({1, a.numel()}), b);
    Shape shape = out.shape();
    shape.erase(shape.end() - 2);
    return out.reshape(shape);
  }
  if (b.dim() == 1) {
    const Tensor<T> out = matmul(a, b.reshape({b.numel(), 1}));
    Shape shape = out.shape();
    shape.pop_back();
    return out.reshape(shape);
  }
  Tensor<T> out = detail::batched_matmul(a, b);
  autograd::record("MatmulBackward", {a, b}, out,
                   [a, b, ga = detail::wants_grad(a), gb = detail::wants_grad(b)](const Tensor<T>& g, const Tensor<T>&)
                       -> std::vector<Tensor<T>> {
                     Tensor<T> grad_a = ga ? sum_to(matmul(g, transpose(b, -1, -2)), a.shape()) : Tensor<T>();
                     Tensor<T> grad_b;
                     if (gb) {
                       // A transposed matrix b (linear's W^T) gets its gradient as the transpose of
                       // g^T a, so that the gradient reaches W contiguous: a^T g reached it as a
                       // transposed view that the leaf then copied element by element with
                       // strided reads (6% of a VAE step).
                       const bool b_transposed = a.dim() == 2 && b.dim() == 2 && !b.is_contiguous() && b.t().is_contiguous();
                       grad_b = b_transposed ? transpose(matmul(transpose(g, -1, -2), a), -1, -2)
                                             : sum_to(matmul(transpose(a, -1, -2), g), b.shape());
                     }
                     return {grad_a, grad_b};
                   });
  return out;
}

// The 2-D product of an [m,k] and a [k,n] matrix.
template <class T>
Tensor<T> mm(const Tensor<T>& a, const Tensor<T>& b) {
  INK_CHECK(ShapeError, a.dim() == 2 && b.dim() == 2, "mm: expected two 2-D tensors, got shapes ", a.shape(),
                    " and ", b.shape());
  return matmul(a, b);
}

}  // namespace ink
