// Shape, the sizes or strides of a tensor, and its utilities: element counts, contiguous
// strides, NumPy broadcasting, dim wrapping and printing. Part of core/; used by kernels'
// callers, the tensor and the ops.
#pragma once
#include <algorithm>
#include <cstddef>
#include <iterator>
#include <initializer_list>
#include <string>
#include <vector>

#include "ink/core/config.hpp"
#include "ink/core/error.hpp"

namespace ink {

// The most dims a tensor can have (NumPy 1.x allowed 32, PyTorch's CPU kernels 25; ink's
// layers use at most 5).
inline constexpr std::size_t kMaxDims = 16;

namespace detail {
[[noreturn, gnu::cold, gnu::noinline]] inline void raise_too_many_dims(std::size_t n) {
  raise<ValueError>({"ink: a shape of ", n, " dims; at most ", kMaxDims, " are supported"});
}
}  // namespace detail

// The sizes (or strides) of a tensor: a std::vector<index_t>-like sequence of up to kMaxDims
// values held inline. Building, copying and destroying one allocates nothing and needs no
// cleanup code. It was a std::vector<index_t>: its allocations, length checks and exception
// cleanups were spread through every op's glue code, and this type cut the compiler's work
// on a small CNN program by 4% (docs/performance.md). Growing past kMaxDims throws ValueError.
class Shape {
 public:
  using value_type = index_t;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using reference = index_t&;
  using const_reference = const index_t&;
  using pointer = index_t*;
  using const_pointer = const index_t*;
  using iterator = index_t*;
  using const_iterator = const index_t*;
  using reverse_iterator = std::reverse_iterator<iterator>;
  using const_reverse_iterator = std::reverse_iterator<const_iterator>;

  constexpr Shape() = default;
  explicit Shape(size_type n, index_t value = 0) : size_(checked_size(n)) {
    for (size_type i = 0; i < n; ++i) d_[i] = value;
  }
  Shape(std::initializer_list<index_t> values) : Shape(values.begin(), values.end()) {}
  template <std::input_iterator It>
  Shape(It first, It last) {
    for (; first != last; ++first) push_back(static_cast<index_t>(*first));
  }
  Shape(const std::vector<index_t>& v) : Shape(v.begin(), v.end()) {}
  explicit operator std::vector<index_t>() const { return std::vector<index_t>(begin(), end()); }

  size_type size() const { return size_; }
  bool empty() const { return size_ == 0; }
  static constexpr size_type max_size() { return kMaxDims; }
  index_t* data() { return d_; }
  const index_t* data() const { return d_; }
  iterator begin() { return d_; }
  iterator end() { return d_ + size_; }
  const_iterator begin() const { return d_; }
  const_iterator end() const { return d_ + size_; }
  const_iterator cbegin() const { return d_; }
  const_iterator cend() const { return d_ + size_; }
  reverse_iterator rbegin() { return reverse_iterator(end()); }
  reverse_iterator rend() { return reverse_iterator(begin()); }
  const_reverse_iterator rbegin() const { return const_reverse_iterator(end()); }
  const_reverse_iterator rend() const { return const_reverse_iterator(begin()); }
  index_t& operator[](size_type i) { return d_[i]; }
  const index_t& operator[](size_type i) const { return d_[i]; }
  index_t& front() { return d_[0]; }
  const index_t& front() const { return d_[0]; }
  index_t& back() { return d_[size_ - 1]; }
  const index_t& back() const { return d_[size_ - 1]; }

  void push_back(index_t v) {
    if (size_ == kMaxDims) detail::raise_too_many_dims(size_ + 1);
    d_[size_++] = v;
  }
  void pop_back() { --size_; }
  void clear() { size_ = 0; }
  void reserve(size_type n) { checked_size(n); }
  void resize(size_type n, index_t value = 0) {
    checked_size(n);
    for (size_type i = size_; i < n; ++i) d_[i] = value;
    size_ = n;
  }
  iterator insert(const_iterator pos, index_t v) {
    const size_type at = static_cast<size_type>(pos - d_);
    if (size_ == kMaxDims) detail::raise_too_many_dims(size_ + 1);
    for (size_type i = size_; i > at; --i) d_[i] = d_[i - 1];
    d_[at] = v;
    ++size_;
    return d_ + at;
  }
  // [first, last) must not point into this shape (as for std::vector).
  template <std::input_iterator It>
  iterator insert(const_iterator pos, It first, It last) {
    const size_type at = static_cast<size_type>(pos - d_);
    Shape tail(pos, cend());
    size_ = at;
    for (; first != last; ++first) push_back(static_cast<index_t>(*first));
    for (index_t v : tail) push_back(v);
    return d_ + at;
  }
  iterator insert(const_iterator pos, std::initializer_list<index_t> values) {
    return insert(pos, values.begin(), values.end());
  }
  iterator erase(const_iterator pos) { return erase(pos, pos + 1); }
  iterator erase(const_iterator first, const_iterator last) {
    const size_type a = static_cast<size_type>(first - d_), b = static_cast<size_type>(last - d_);
    for (size_type i = b; i < size_; ++i) d_[a + i - b] = d_[i];
    size_ -= b - a;
    return d_ + a;
  }

  friend bool operator==(const Shape& a, const Shape& b) {
    if (a.size_ != b.size_) return false;
    for (size_type i = 0; i < a.size_; ++i)
      if (a.d_[i] != b.d_[i]) return false;
    return true;
  }
  friend bool operator==(const Shape& a, const std::vector<index_t>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  static size_type checked_size(size_type n) {
    if (n > kMaxDims) detail::raise_too_many_dims(n);
    return n;
  }
  size_type size_ = 0;
  index_t d_[kMaxDims] = {};
};

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

// "[2,3,4]". Formatted by the same code as a shape in an error message.
INK_COLD inline std::string to_string(const Shape& s) {
  std::string out;
  detail::MessagePiece(s).append_to(out);
  return out;
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
    INK_CHECK(ShapeError, da == db || da == 1 || db == 1, op, ": shapes ", a, " and ",
                      b, " cannot be broadcast together (dim ", i, ": ", da, " vs ", db,
                      ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// Checks that every size is non-negative; `op` names the caller in the error.
inline void check_sizes(const Shape& s, const char* op) {
  for (index_t d : s)
    INK_CHECK(ValueError, d >= 0, op, ": negative size in shape ", s);
}

}  // namespace ink
