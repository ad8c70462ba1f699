// ink's exception types. Every public function validates its arguments and throws one of
// these with a message naming the operation and the shapes involved. Part of core/.
#pragma once
#include <charconv>
#include <concepts>
#include <cstdint>
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
  // Each constructor only records its argument; append_to() formats it when the message is
  // built. A check's call site builds its pieces inline on its (cold) error path: with the
  // formatting and strlen in the constructors, the ~600 pieces of a program that trains a CNN
  // were a few percent of all the code the compiler optimised.
  MessagePiece(std::string_view s) : kind_(Kind::text) { value_.text = {s.data(), s.size()}; }
  MessagePiece(const char* s) : kind_(Kind::c_string) { value_.c_string = s; }
  MessagePiece(const std::string& s) : kind_(Kind::text) { value_.text = {s.data(), s.size()}; }
  // A shape is formatted only when the message is built: a check that names shapes costs no
  // std::string temporaries (nor cleanup code for them). Its element type is complete only
  // where the piece is made, hence the template.
  template <std::same_as<Shape> S>
  MessagePiece(const S& s) : kind_(Kind::shape) {
    value_.shape = {&s, &append_shape<S>};
  }
  MessagePiece(char c) : kind_(Kind::character) { value_.character = c; }
  MessagePiece(bool b) : kind_(Kind::c_string) { value_.c_string = b ? "1" : "0"; }
  template <std::signed_integral I>
  MessagePiece(I v) : kind_(Kind::signed_integer) { value_.signed_integer = v; }
  template <std::unsigned_integral I>
  MessagePiece(I v) : kind_(Kind::unsigned_integer) { value_.unsigned_integer = v; }
  MessagePiece(double v) : kind_(Kind::floating) { value_.floating = v; }

  // Integers in decimal, floating point as "%g" (std::ostream's defaults), a null C string as
  // "(null)".
  void append_to(std::string& out) const {
    char digits[32];
    switch (kind_) {
      case Kind::text: out.append(value_.text.data, value_.text.size); break;
      case Kind::c_string: out += value_.c_string ? value_.c_string : "(null)"; break;
      case Kind::character: out += value_.character; break;
      case Kind::signed_integer:
        out.append(digits, std::to_chars(digits, digits + sizeof digits, value_.signed_integer).ptr);
        break;
      case Kind::unsigned_integer:
        out.append(digits, std::to_chars(digits, digits + sizeof digits, value_.unsigned_integer).ptr);
        break;
      case Kind::floating:
        out.append(digits, std::to_chars(digits, digits + sizeof digits, value_.floating, std::chars_format::general, 6).ptr);
        break;
      case Kind::shape: value_.shape.append(out, value_.shape.object); break;
    }
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

  enum class Kind : unsigned char { text, c_string, character, signed_integer, unsigned_integer, floating, shape };
  Kind kind_;
  union {
    struct {
      const char* data;
      std::size_t size;
    } text;
    const char* c_string;
    char character;
    std::int64_t signed_integer;     // (long and unsigned long here: the types to_chars is
    std::uint64_t unsigned_integer;  // also instantiated for by shapes and std::to_string)
    double floating;
    struct {
      const void* object;
      void (*append)(std::string&, const void*);
    } shape;
  } value_;
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
