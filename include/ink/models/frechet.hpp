// The Frechet distance between two sets of feature vectors, each taken as a Gaussian: FID's
// formula (Heusel et al., 2017), ||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)), here in the
// feature space of ink's own classifier. The trace of the matrix square root is computed as
// tr((S1^(1/2) S2 S1^(1/2))^(1/2)): the same eigenvalues, but of a symmetric matrix, so Eigen's
// self-adjoint solver applies and no complex square root appears. Part of models/.
#pragma once
#include <Eigen/Eigenvalues>
#include <cmath>
#include <concepts>

#include "ink/tensor/eigen.hpp"

namespace ink::models {

struct GaussianStats {
  Eigen::VectorXd mean;
  Eigen::MatrixXd covariance;  // unbiased (divides by n - 1), as numpy.cov
};

// Mean and covariance of the rows of features [N, D] (N >= 2).
template <class T>
GaussianStats gaussian_stats(const Tensor<T>& features) {
  INK_CHECK(ShapeError, features.dim() == 2 && features.size(0) >= 2, "gaussian_stats: expected [N, D] features with N >= 2, got ",
            features.shape());
  const Eigen::MatrixXd x = as_eigen(features.contiguous()).template cast<double>();
  GaussianStats s;
  s.mean = x.colwise().mean().transpose();
  const Eigen::MatrixXd centred = x.rowwise() - s.mean.transpose();
  s.covariance = centred.transpose() * centred / static_cast<double>(x.rows() - 1);
  return s;
}

namespace detail {
// Symmetric positive semi-definite square root; tiny negative eigenvalues (rounding) clamp to 0.
// A template (and frechet_distance below with it) although only MatrixXd is ever passed: an inline
// function's body is instantiated wherever the header is included, and Eigen's eigen-solver costs
// about 3 s of compile time that a program not calling it should not pay.
template <class Matrix>
Matrix psd_sqrt(const Matrix& m) {
  Eigen::SelfAdjointEigenSolver<Matrix> es(m);
  const Eigen::VectorXd root = es.eigenvalues().cwiseMax(0.0).cwiseSqrt();
  return es.eigenvectors() * root.asDiagonal() * es.eigenvectors().transpose();
}
}  // namespace detail

template <class Stats = GaussianStats>
  requires std::same_as<Stats, GaussianStats>
double frechet_distance(const Stats& a, const Stats& b) {
  INK_CHECK(ShapeError, a.mean.size() == b.mean.size(), "frechet_distance: feature sizes ", a.mean.size(), " and ",
            b.mean.size(), " differ");
  using Matrix = decltype(a.covariance);
  const Matrix root_a = detail::psd_sqrt(a.covariance);
  const Matrix middle = root_a * b.covariance * root_a;
  Eigen::SelfAdjointEigenSolver<Matrix> es(0.5 * (middle + middle.transpose()));
  const double trace_sqrt = es.eigenvalues().cwiseMax(0.0).cwiseSqrt().sum();
  return (a.mean - b.mean).squaredNorm() + a.covariance.trace() + b.covariance.trace() - 2 * trace_sqrt;
}

template <class T>
double frechet_distance(const Tensor<T>& features_a, const Tensor<T>& features_b) {
  return frechet_distance(gaussian_stats(features_a), gaussian_stats(features_b));
}

}  // namespace ink::models
