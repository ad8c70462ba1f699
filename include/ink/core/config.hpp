// Library-wide basics: version, the index type, and small macros.
// Bottom floor of the house (core/): everything else may include it.
#pragma once
#include <cstdint>

#define INK_VERSION_MAJOR 0
#define INK_VERSION_MINOR 1
#define INK_VERSION_PATCH 0

// Marks code that runs once or rarely: set-up (layer and optimiser constructors, registration,
// parameter lists, reading INK_ISA) and message building, not the work of a training step. GCC
// and clang compile a cold function for size and treat calls to it as rare; on such code that
// costs nothing at run time and takes compile time off every program that defines a model
// (docs/performance.md).
#define INK_COLD [[gnu::cold]]

namespace ink {
// Sizes, strides and offsets are signed 64-bit, as in PyTorch: negative strides never occur,
// but signed arithmetic keeps index computations free of unsigned wrap-around surprises.
using index_t = std::int64_t;
}  // namespace ink
