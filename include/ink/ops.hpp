// The ops floor and everything below it: Tensor<T> and all that works on it: creation, views, broadcasting math, reductions,
// matmul, autograd (backward, autograd::grad, NoGradGuard, gradcheck), printing and Eigen interop.
#pragma once
#include "ink/autograd/engine.hpp"
#include "ink/ops/gradcheck.hpp"
#include "ink/autograd/grad_mode.hpp"
#include "ink/ops/elementwise.hpp"
#include "ink/ops/inplace.hpp"
#include "ink/ops/matmul.hpp"
#include "ink/ops/reduce.hpp"
#include "ink/ops/tensor_methods.hpp"
#include "ink/ops/views.hpp"
#include "ink/tensor/creation.hpp"
#include "ink/tensor/eigen.hpp"
#include "ink/tensor/print.hpp"
#include "ink/tensor/tensor.hpp"
