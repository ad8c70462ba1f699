// optim/: optimisers, learning-rate schedules, gradient clipping.
#pragma once
#include "ink/optim/adam.hpp"
#include "ink/optim/lbfgs.hpp"
#include "ink/optim/optimizer.hpp"
#include "ink/optim/rmsprop.hpp"
#include "ink/optim/scheduler.hpp"
#include "ink/optim/sgd.hpp"
