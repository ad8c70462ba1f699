// models/: CNN classifier, DCGAN, convolutional VAE. (The Frechet distance needs Eigen: <ink/eigen.hpp>.)
#pragma once
#include "ink/models/classifier.hpp"
#include "ink/models/dcgan.hpp"
#include "ink/models/vae.hpp"
