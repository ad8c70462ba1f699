// A minimal line chart drawn into an RGB image tensor, for loss curves: white background,
// grey axes at the data's zero and edges, one coloured polyline per series. No text: the
// program prints which colour is which. Example support code, not part of the library.
#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include <ink/ink.hpp>
#include <ink/io.hpp>

namespace examples {

struct Series {
  std::vector<double> values;
  std::array<float, 3> rgb;
};

inline ink::Tensor<float> line_chart(const std::vector<Series>& series, ink::index_t height = 360, ink::index_t width = 640) {
  ink::Tensor<float> img = ink::ones<float>({3, height, width});
  double lo = 0, hi = 0;
  std::size_t n = 0;
  for (const auto& s : series)
    for (double v : s.values) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      n = std::max(n, s.values.size());
    }
  if (hi == lo) hi = lo + 1;
  const ink::index_t margin = 20;
  auto px = [&](std::size_t i) { return margin + static_cast<ink::index_t>(static_cast<double>(i) / static_cast<double>(std::max<std::size_t>(n - 1, 1)) * static_cast<double>(width - 2 * margin)); };
  auto py = [&](double v) { return height - margin - static_cast<ink::index_t>((v - lo) / (hi - lo) * static_cast<double>(height - 2 * margin)); };
  auto dot = [&](ink::index_t x, ink::index_t y, const std::array<float, 3>& c) {
    for (ink::index_t dy = -1; dy <= 1; ++dy)
      for (ink::index_t dx = -1; dx <= 1; ++dx)
        if (y + dy >= 0 && y + dy < height && x + dx >= 0 && x + dx < width)
          for (int ch = 0; ch < 3; ++ch) img.at({ch, y + dy, x + dx}) = c[ch];
  };
  auto line = [&](ink::index_t x0, ink::index_t y0, ink::index_t x1, ink::index_t y1, const std::array<float, 3>& c) {
    const ink::index_t steps = std::max<ink::index_t>({std::abs(x1 - x0), std::abs(y1 - y0), 1});
    for (ink::index_t k = 0; k <= steps; ++k)
      dot(x0 + (x1 - x0) * k / steps, y0 + (y1 - y0) * k / steps, c);
  };
  const std::array<float, 3> grey{0.6f, 0.6f, 0.6f};
  line(margin, height - margin, width - margin, height - margin, grey);
  line(margin, margin, margin, height - margin, grey);
  if (lo < 0 && hi > 0) line(margin, py(0), width - margin, py(0), grey);
  for (const auto& s : series)
    for (std::size_t i = 1; i < s.values.size(); ++i) line(px(i - 1), py(s.values[i - 1]), px(i), py(s.values[i]), s.rgb);
  return img;
}

}  // namespace examples
