// core/: config, errors, shapes, storage and its caching allocator, RNG, threads, CPU features.
#pragma once
#include "ink/core/allocator.hpp"
#include "ink/core/config.hpp"
#include "ink/core/cpu_features.hpp"
#include "ink/core/error.hpp"
#include "ink/core/parallel.hpp"
#include "ink/core/random.hpp"
#include "ink/core/shape.hpp"
#include "ink/core/storage.hpp"
