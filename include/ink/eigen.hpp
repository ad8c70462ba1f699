// Everything of ink that needs Eigen's headers: Tensor <-> Eigen::Map interop
// (tensor/eigen.hpp) and the Frechet distance of two feature sets (models/frechet.hpp). Kept out
// of ink.hpp and the other umbrellas because parsing Eigen costs every translation unit that
// includes it about 0.8 s, which a program that only trains a network should not pay.
#pragma once
#include "ink/models/frechet.hpp"
#include "ink/tensor/eigen.hpp"
