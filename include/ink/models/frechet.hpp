// The Frechet distance between two sets of feature vectors, each taken as a Gaussian: FID's
// formula (Heusel et al., 2017), ||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)), here in the
// feature space of ink's own classifier. The trace of the matrix square root is computed as
// tr((S1^(1/2) S2 S1^(1/2))^(1/2)): the same eigenvalues, but of a symmetric matrix, so Eigen's
// self-adjoint solver applies and no complex square root appears. Part of models/.
#pragma once
#include <Eigen/Eigenvalues>
#include <cmath>

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
            to_string(features.shape()));
  const Eigen::MatrixXd x = as_eigen(features.contiguous()).template cast<double>();
  GaussianStats s;
  s.mean = x.colwise().mean().transpose();
  const Eigen::MatrixXd centred = x.rowwise() - s.mean.transpose();
  s.covariance = centred.transpose() * centred / static_cast<double>(x.rows() - 1);
  return s;
}

namespace detail {
// Symmetric positive semi-definite square root; tiny negative eigenvalues (rounding) clamp to 0.
inline Eigen::MatrixXd psd_sqrt(const Eigen::MatrixXd& m) {
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(m);
  const Eigen::VectorXd root = es.eigenvalues().cwiseMax(0.0).cwiseSqrt();
  return es.eigenvectors() * root.asDiagonal() * es.eigenvectors().transpose();
}
}  // namespace detail

inline double frechet_distance(const GaussianStats& a, const GaussianStats& b) {
  INK_CHECK(ShapeError, a.mean.size() == b.mean.size(), "frechet_distance: feature sizes ", a.mean.size(), " and ",
            b.mean.size(), " differ");
  const Eigen::MatrixXd root_a = detail::psd_sqrt(a.covariance);
  const Eigen::MatrixXd middle = root_a * b.covariance * root_a;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(0.5 * (middle + middle.transpose()));
  const double trace_sqrt = es.eigenvalues().cwiseMax(0.0).cwiseSqrt().sum();
  return (a.mean - b.mean).squaredNorm() + a.covariance.trace() + b.covariance.trace() - 2 * trace_sqrt;
}

template <class T>
double frechet_distance(const Tensor<T>& features_a, const Tensor<T>& features_b) {
  return frechet_distance(gaussian_stats(features_a), gaussian_stats(features_b));
}

}  // namespace ink::models
