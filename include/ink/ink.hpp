// Tensors, autograd, ops, layers, optimisers and models in one include. Two parts are separate
// headers because every translation unit would pay for them: files, images, datasets and
// checkpoints (<ink/io.hpp>: stb, zlib, <filesystem>, <thread>; about 0.7 s of a training
// program's compile time, docs/performance.md) and the Eigen bridge (<ink/eigen.hpp>, ~0.8 s).
#pragma once
#include "ink/core.hpp"
#include "ink/kernels/gemm.hpp"
#include "ink/models.hpp"
#include "ink/nn.hpp"
#include "ink/ops.hpp"
#include "ink/optim.hpp"
