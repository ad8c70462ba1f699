// ink's exception types. Every public function validates its arguments and throws one of
// these with a message naming the operation and the shapes involved. Part of core/.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace ink {

// Base class of every error ink throws on bad input or misuse.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};
// Shapes that do not fit together (broadcasting, matmul, cat, view ...).
class ShapeError : public Error { using Error::Error; };
// An argument outside its allowed range (a dim, an index, a negative size ...).
class ValueError : public Error { using Error::Error; };
// Misuse of autograd (backward twice without retain_graph, grad of a non-scalar ...).
class AutogradError : public Error { using Error::Error; };
// A file that cannot be read or written, or whose content is malformed.
class IOError : public Error { using Error::Error; };

namespace detail {
template <class... Args>
std::string concat(Args&&... args) {
  std::ostringstream os;
  (os << ... << std::forward<Args>(args));
  return os.str();
}
}  // namespace detail

// Throws E with the concatenation of args as message: `check<ShapeError>(ok, "add: ", ...)`.
// The arguments are evaluated even when ok is true; on hot paths use INK_CHECK, which builds
// the message only on failure.
template <class E = Error, class... Args>
inline void check(bool ok, Args&&... args) {
  if (!ok) throw E(detail::concat(std::forward<Args>(args)...));
}

}  // namespace ink

// INK_CHECK(ShapeError, ok, "add: shapes ", to_string(a), ...): throws the given ink::Error
// subclass with the concatenated message when ok is false; the message arguments are evaluated
// only then.
#define INK_CHECK(ErrorType, condition, ...) \
  do {                                         \
    if (!(condition)) throw ErrorType(::ink::detail::concat(__VA_ARGS__)); \
  } while (0)
