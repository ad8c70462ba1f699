// Size2: a spatial size, stride or padding given once for both dims or as {h, w}; the unit of
// the options of conv, pooling and resampling. Part of ops/.
#pragma once
#include "ink/core/config.hpp"

namespace ink {

struct Size2 {
  index_t h, w;
  Size2(index_t v) : h(v), w(v) {}  // NOLINT: implicit, so that {.stride = 2} reads naturally
  Size2(index_t h_, index_t w_) : h(h_), w(w_) {}
  bool operator==(const Size2&) const = default;
};

}  // namespace ink
