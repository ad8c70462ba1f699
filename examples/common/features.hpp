// The feature space the generators' Frechet distance is measured in: the trained classifier's
// penultimate layer (models::Classifier::embed) of images in [-1, 1], in batches of 500 so that
// 10,000 images do not go through the network at once. Shared by train_dcgan and score_samples
// so that both score in exactly the same way. Example support code, not part of the library.
#pragma once
#include <algorithm>
#include <vector>

#include <ink/ink.hpp>
#include <ink/models.hpp>

namespace examples {

inline ink::Tensor<float> classifier_features(ink::models::Classifier<>& c, const ink::Tensor<float>& images) {
  ink::NoGradGuard no_grad;
  std::vector<ink::Tensor<float>> parts;
  for (ink::index_t i = 0; i < images.size(0); i += 500)
    parts.push_back(c.embed((images.narrow(0, i, std::min<ink::index_t>(500, images.size(0) - i)) + 1.f) * 0.5f));
  return ink::cat(parts);
}

}  // namespace examples
