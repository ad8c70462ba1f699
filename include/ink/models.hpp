// models/: CNN classifier, DCGAN, convolutional VAE, the Frechet distance of feature sets.
#pragma once
#include "ink/models/classifier.hpp"
#include "ink/models/dcgan.hpp"
#include "ink/models/frechet.hpp"
#include "ink/models/vae.hpp"
