// Library-wide basics: version, the index type, and small macros.
// Bottom floor of the house (core/): everything else may include it.
#pragma once
#include <cstdint>

#define INK_VERSION_MAJOR 0
#define INK_VERSION_MINOR 1
#define INK_VERSION_PATCH 0

namespace ink {
// Sizes, strides and offsets are signed 64-bit, as in PyTorch: negative strides never occur,
// but signed arithmetic keeps index computations free of unsigned wrap-around surprises.
using index_t = std::int64_t;
}  // namespace ink
