// Shape utilities: element counts, contiguous strides, NumPy broadcasting, dim wrapping and
// printing. Part of core/; used by kernels' callers, the tensor and the ops.
#pragma once
#include <algorithm>
#include <initializer_list>
#include <string>
#include <vector>

#include "ink/core/config.hpp"
#include "ink/core/error.hpp"

namespace ink {

using Shape = std::vector<index_t>;

inline index_t numel(const Shape& s) {
  index_t n = 1;
  for (index_t d : s) n *= d;
  return n;
}

// Row-major strides, in elements, of a dense tensor of shape s.
inline Shape contiguous_strides(const Shape& s) {
  Shape st(s.size());
  index_t acc = 1;
  for (std::size_t i = s.size(); i-- > 0;) {
    st[i] = acc;
    acc *= std::max<index_t>(s[i], 1);
  }
  return st;
}

INK_COLD inline std::string to_string(const Shape& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i) out += ",";
    out += std::to_string(s[i]);
  }
  return out + "]";
}

// Maps a possibly negative dim into [0, ndim); throws ValueError naming `op` otherwise.
inline index_t wrap_dim(index_t dim, index_t ndim, const char* op) {
  const index_t lo = -std::max<index_t>(ndim, 1), hi = std::max<index_t>(ndim, 1) - 1;
  INK_CHECK(ValueError, dim >= lo && dim <= hi, op, ": dim ", dim, " out of range [", lo, ", ", hi,
                    "] for a tensor of ", ndim, " dims");
  return dim < 0 ? dim + std::max<index_t>(ndim, 1) : dim;
}

// NumPy broadcasting: shapes are aligned at the right; each pair of sizes must be equal or
// one of them 1. Throws ShapeError naming `op` and both shapes.
inline Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const std::size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const index_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const index_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    INK_CHECK(ShapeError, da == db || da == 1 || db == 1, op, ": shapes ", to_string(a), " and ",
                      to_string(b), " cannot be broadcast together (dim ", i, ": ", da, " vs ", db,
                      ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// Checks that every size is non-negative; `op` names the caller in the error.
inline void check_sizes(const Shape& s, const char* op) {
  for (index_t d : s)
    INK_CHECK(ValueError, d >= 0, op, ": negative size in shape ", to_string(s));
}

}  // namespace ink
