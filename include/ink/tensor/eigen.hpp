// Eigen interop: see a 2-D tensor as an Eigen matrix without copying, and build a tensor from
// any Eigen matrix expression. Part of tensor/; included by <ink/ink.hpp>, or on its own.
#pragma once
#include <Eigen/Core>

#include "ink/tensor/tensor.hpp"

namespace ink {

template <class T>
using EigenMap = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, Eigen::Unaligned,
                            Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>>;

// A read-write Eigen view of a 2-D tensor's elements (any positive strides: a transposed or
// sliced tensor maps too). Writes through the map change the tensor and every view of its
// storage; autograd does not see them.
template <class T>
EigenMap<T> as_eigen(const Tensor<T>& t) {
  INK_CHECK(ShapeError, t.dim() == 2, "as_eigen: expected a 2-D tensor, got shape ", t.shape());
  INK_CHECK(ValueError, t.stride(0) > 0 && t.stride(1) > 0, "as_eigen: cannot map a tensor with zero (broadcast) "
                    "strides ", t.strides(), "; call contiguous() first");
  return EigenMap<T>(t.data_ptr(), t.size(0), t.size(1), Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(t.stride(0), t.stride(1)));
}

// A new [rows, cols] tensor holding the value of an Eigen matrix expression.
template <class Derived>
Tensor<typename Derived::Scalar> from_eigen(const Eigen::MatrixBase<Derived>& m) {
  using T = typename Derived::Scalar;
  Tensor<T> t = Tensor<T>::empty({static_cast<index_t>(m.rows()), static_cast<index_t>(m.cols())});
  as_eigen(t) = m;
  return t;
}

}  // namespace ink
