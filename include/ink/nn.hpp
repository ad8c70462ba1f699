// nn/: Module and the layers built on it, plus initialisers.
#pragma once
#include "ink/nn/conv.hpp"
#include "ink/nn/init.hpp"
#include "ink/nn/layers.hpp"
#include "ink/nn/linear.hpp"
#include "ink/nn/module.hpp"
#include "ink/nn/normalization.hpp"
#include "ink/nn/sequential.hpp"
