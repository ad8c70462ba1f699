// Everything ink offers, in one include, except the Eigen bridge (<ink/eigen.hpp>), which costs
// ~0.8 s of parsing per translation unit.
#pragma once
#include "ink/core.hpp"
#include "ink/io.hpp"
#include "ink/kernels/gemm.hpp"
#include "ink/models.hpp"
#include "ink/nn.hpp"
#include "ink/ops.hpp"
#include "ink/optim.hpp"
