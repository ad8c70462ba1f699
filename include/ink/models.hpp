// models/: CNN classifier, DCGAN, convolutional VAE.
#pragma once
#include "ink/models/classifier.hpp"
#include "ink/models/dcgan.hpp"
#include "ink/models/vae.hpp"
