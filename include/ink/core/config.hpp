// Library-wide basics: version, the index type, and small macros.
// Bottom floor of the house (core/): everything else may include it.
#pragma once
#include <cstdint>

#define INK_VERSION_MAJOR 0
#define INK_VERSION_MINOR 1
#define INK_VERSION_PATCH 0

// Marks set-up code: what runs while a model or an optimiser is built (layer and optimiser
// constructors, registration, parameter lists), not per step. GCC and clang compile a cold
// function for size and treat calls to it as rare; on set-up code that costs nothing at run
// time and takes compile time off every program that defines a model (docs/performance.md).
#define INK_SETUP [[gnu::cold]]

namespace ink {
// Sizes, strides and offsets are signed 64-bit, as in PyTorch: negative strides never occur,
// but signed arithmetic keeps index computations free of unsigned wrap-around surprises.
using index_t = std::int64_t;
}  // namespace ink
