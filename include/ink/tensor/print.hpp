// Printing tensors the way PyTorch does: `tensor([[ 1.0000, -2.5000], ...], requires_grad=True)`,
// with a shared width, fixed or scientific notation chosen from the values, and "..." for
// tensors of more than 1000 elements. Part of tensor/.
#pragma once
#include <cmath>
#include <cstdio>
#include <ostream>
#include <sstream>
#include <string>

#include "ink/tensor/map.hpp"
#include "ink/tensor/tensor.hpp"

namespace ink {
namespace detail {

struct PrintFormat {
  enum Kind { integer, whole_float, fixed, scientific } kind = fixed;
  int width = 1;
};

template <class T>
std::string format_value(T v, PrintFormat::Kind kind) {
  char buf[64];
  if constexpr (std::is_integral_v<T>) {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  } else if (std::isnan(v)) {
    return "nan";
  } else if (std::isinf(v)) {
    return v > 0 ? "inf" : "-inf";
  } else if (kind == PrintFormat::whole_float) {
    std::snprintf(buf, sizeof buf, "%.0f.", static_cast<double>(v));
  } else if (kind == PrintFormat::scientific) {
    std::snprintf(buf, sizeof buf, "%.4e", static_cast<double>(v));
  } else {
    std::snprintf(buf, sizeof buf, "%.4f", static_cast<double>(v));
  }
  return buf;
}

// PyTorch's rule: whole numbers print as "3.", a range wider than 1000x, or values above 1e8
// or below 1e-4 in magnitude switch to scientific notation, else 4 decimals.
template <class T>
PrintFormat choose_format(const std::vector<T>& values) {
  PrintFormat f;
  if constexpr (std::is_integral_v<T>) {
    f.kind = PrintFormat::integer;
  } else {
    bool whole = true;
    double lo = INFINITY, hi = 0;
    for (T v : values) {
      if (!std::isfinite(v)) continue;
      whole = whole && std::nearbyint(v) == v;
      const double a = std::abs(static_cast<double>(v));
      if (a != 0) {
        lo = std::min(lo, a);
        hi = std::max(hi, a);
      }
    }
    const bool wide = hi > 0 && (hi / lo > 1000.0 || hi > 1e8);
    if (whole) f.kind = wide ? PrintFormat::scientific : PrintFormat::whole_float;
    else f.kind = (wide || (hi > 0 && lo < 1e-4)) ? PrintFormat::scientific : PrintFormat::fixed;
  }
  for (T v : values) f.width = std::max<int>(f.width, static_cast<int>(format_value(v, f.kind).size()));
  return f;
}

// One nesting level, laid out as PyTorch's _tensor_str does: the innermost dim wraps at 80
// columns, outer dims separate their blocks with as many newlines as dims remain below.
template <class T>
void print_level(std::ostream& os, const Tensor<T>& t, const T* base, index_t offset, std::size_t d,
                 const PrintFormat& f, bool summarize, int indent) {
  constexpr index_t edge = 3;
  const index_t n = t.shape()[d];
  const bool cut = summarize && n > 2 * edge;
  auto shown = [&](index_t i) { return !cut || i < edge || i >= n - edge; };
  os << '[';
  if (d + 1 == t.shape().size()) {
    std::vector<std::string> items;
    for (index_t i = 0; i < n; ++i) {
      if (!shown(i)) {
        if (i == edge) items.push_back(" ...");
        continue;
      }
      const std::string s = format_value(base[offset + i * t.strides()[d]], f.kind);
      items.push_back(std::string(static_cast<std::size_t>(f.width) - s.size(), ' ') + s);
    }
    const std::size_t per_line = std::max<std::size_t>(1, static_cast<std::size_t>((80 - indent) / (f.width + 2)));
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i > 0) os << (i % per_line == 0 ? ",\n" + std::string(static_cast<std::size_t>(indent + 1), ' ') : ", ");
      os << items[i];
    }
  } else {
    const std::string sep = "," + std::string(t.shape().size() - d - 1, '\n') + std::string(static_cast<std::size_t>(indent + 1), ' ');
    bool first = true;
    for (index_t i = 0; i < n; ++i) {
      if (!shown(i) && i != edge) continue;
      if (!first) os << sep;
      first = false;
      if (!shown(i)) os << "...";
      else print_level(os, t, base, offset + i * t.strides()[d], d + 1, f, summarize, indent + 1);
    }
  }
  os << ']';
}

// The elements printing shows: all of them, or the first and last three along every dim.
template <class T>
std::vector<T> printed_values(const Tensor<T>& t, bool summarize) {
  if (!summarize) return t.to_vector();
  std::vector<T> out;
  const T* p = t.data_ptr();
  std::vector<index_t> idx(t.shape().size(), 0);
  const index_t n = t.numel();
  for (index_t lin = 0; lin < n; ++lin) {
    bool shown = true;
    index_t off = 0;
    for (std::size_t d = 0; d < idx.size(); ++d) {
      shown = shown && (idx[d] < 3 || idx[d] >= t.shape()[d] - 3);
      off += idx[d] * t.strides()[d];
    }
    if (shown) out.push_back(p[off]);
    for (std::size_t d = idx.size(); d-- > 0;) {
      if (++idx[d] < t.shape()[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

}  // namespace detail

template <class T>
std::ostream& operator<<(std::ostream& os, const Tensor<T>& t) {
  if (!t.defined()) return os << "tensor(undefined)";
  std::ostringstream body;
  const int indent = 7;  // width of "tensor("
  if (t.numel() == 0) {
    body << "[]";
    if (t.dim() != 1) {
      body << ", size=(";
      for (std::size_t i = 0; i < t.shape().size(); ++i) body << (i ? ", " : "") << t.shape()[i];
      body << ")";
    }
  } else if (t.dim() == 0) {
    body << detail::format_value(t.item(), detail::choose_format(std::vector<T>{t.item()}).kind);
  } else {
    const bool summarize = t.numel() > 1000;
    const auto f = detail::choose_format(detail::printed_values(t, summarize));
    detail::print_level(body, t, t.data_ptr(), 0, 0, f, summarize, indent);
  }
  os << "tensor(" << body.str();
  if (std::is_same_v<T, double>) os << ", dtype=float64";
  if (t.requires_grad()) os << ", requires_grad=True";
  return os << ')';
}

template <class T>
std::string to_string(const Tensor<T>& t) {
  std::ostringstream os;
  os << t;
  return os.str();
}

}  // namespace ink
