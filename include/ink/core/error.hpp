// ink's exception types. Every public function validates its arguments and throws one of
// these with a message naming the operation and the shapes involved. Part of core/.
#pragma once
#include <charconv>
#include <concepts>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ink {

class Shape;  // core/shape.hpp

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

// One argument of an error message: text, a character, an integer, a floating-point number
// (printed as std::ostream prints them: integers in decimal, floating point as "%g") or a
// Shape (printed as to_string prints it, [2,3,4]). The
// message is assembled out of line by raise() from an initializer list of these, so a check
// costs its call site an array of pieces and one call, not an inlined ostringstream per
// distinct list of argument types (that was ~8% of the object code of a small CNN program).
class MessagePiece {
 public:
  MessagePiece(std::string_view s) : text_(s) {}
  MessagePiece(const char* s) : text_(s ? s : "(null)") {}
  MessagePiece(const std::string& s) : text_(s) {}
  // A shape is formatted only when the message is built: a check that names shapes costs no
  // std::string temporaries (nor cleanup code for them). Its element type is complete only
  // where the piece is made, hence the template.
  template <std::same_as<Shape> S>
  MessagePiece(const S& s) : length_(kShape) {
    shape_.object = &s;
    shape_.append = &append_shape<S>;
  }
  MessagePiece(char c) : length_(1) { buffer_[0] = c; }
  MessagePiece(bool b) : text_(b ? "1" : "0") {}
  template <std::integral I>
  MessagePiece(I v) {
    const auto r = std::to_chars(buffer_, buffer_ + sizeof buffer_, v);
    length_ = static_cast<int>(r.ptr - buffer_);
  }
  MessagePiece(double v) {
    const auto r = std::to_chars(buffer_, buffer_ + sizeof buffer_, v, std::chars_format::general, 6);
    length_ = static_cast<int>(r.ptr - buffer_);
  }

  void append_to(std::string& out) const {
    if (length_ == kShape)
      shape_.append(out, shape_.object);
    else
      out += length_ > 0 ? std::string_view(buffer_, length_) : text_;
  }

 private:
  template <class S>
  static void append_shape(std::string& out, const void* p) {
    const S& s = *static_cast<const S*>(p);
    out += '[';
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (i) out += ',';
      char digits[24];
      out.append(digits, std::to_chars(digits, digits + sizeof digits, s[i]).ptr);
    }
    out += ']';
  }

  static constexpr int kShape = -1;  // length_ of a shape piece
  std::string_view text_;
  union {
    char buffer_[32];
    struct {
      const void* object;
      void (*append)(std::string&, const void*);
    } shape_;
  };
  int length_ = 0;
};

// Throws E with the pieces concatenated; cold and out of line, one copy per error type.
template <class E>
[[noreturn, gnu::cold, gnu::noinline]] void raise(std::initializer_list<MessagePiece> pieces) {
  std::string message;
  for (const MessagePiece& p : pieces) p.append_to(message);
  throw E(message);
}

}  // namespace detail

}  // namespace ink

// INK_CHECK(ShapeError, ok, "add: shapes ", a.shape(), ...): throws the given ink::Error
// subclass with the concatenated message when ok is false; the message arguments are evaluated
// only then.
#define INK_CHECK(ErrorType, condition, ...)                     \
  do {                                                             \
    if (!(condition)) [[unlikely]]                                 \
      ::ink::detail::raise<ErrorType>({__VA_ARGS__});              \
  } while (0)
