// im2col / col2im: the patch matrix of a 2-D convolution and its adjoint. A convolution is a
// GEMM of the weights with this matrix; col2im scatters patch gradients back onto the image.
// Part of kernels/: raw pointers, one image (one batch element) per call.
#pragma once
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "ink/core/config.hpp"
#include "ink/core/cpu_features.hpp"
#include "ink/kernels/vector_types.hpp"
#include "ink/kernels/workspace.hpp"

namespace ink::kernels {

// Geometry of a 2-D sliding window over one [C, H, W] image.
struct Window2d {
  index_t channels, height, width;
  index_t kernel_h, kernel_w;
  index_t stride_h = 1, stride_w = 1;
  index_t pad_h = 0, pad_w = 0;
  index_t dilation_h = 1, dilation_w = 1;

  index_t out_h() const { return (height + 2 * pad_h - dilation_h * (kernel_h - 1) - 1) / stride_h + 1; }
  index_t out_w() const { return (width + 2 * pad_w - dilation_w * (kernel_w - 1) - 1) / stride_w + 1; }
  index_t patch_size() const { return channels * kernel_h * kernel_w; }
};

// The output columns ox in [first, last) whose input column ox*stride - pad + offset lies inside
// [0, width): the interior where im2col copies and col2im adds without bounds checks.
struct ValidRange {
  index_t first, last;
};
inline ValidRange valid_columns(index_t out_w, index_t width, index_t stride, index_t pad, index_t offset) {
  // smallest ox with ox*stride >= pad - offset, and one past the largest with
  // ox*stride <= width - 1 + pad - offset
  const index_t lo_num = pad - offset, hi_num = width - 1 + pad - offset;
  const index_t first = lo_num <= 0 ? 0 : (lo_num + stride - 1) / stride;
  const index_t last = hi_num < 0 ? 0 : hi_num / stride + 1;
  const index_t f = std::min(first, out_w), l = std::min(std::max(last, f), out_w);
  return {f, l};
}

// cols[(c*kh + i)*kw + j][(oy - oy_begin)*OW + ox] = x[c][oy*sh - ph + i*dh][ox*sw - pw + j*dw],
// or `pad_value` where that position falls outside the image, for the output rows oy in
// [oy_begin, oy_end) (all rows by default). cols is [C*kh*kw, rows*OW] with rows `ld` elements
// apart (ld = rows*OW when 0): a band of output rows is one cache-sized tile of the patch matrix.
// im2col_rows: each output row splits into a padded head, an interior and a padded tail,
// computed once per (i, j); the interior is a plain copy at stride 1, which the compiler
// vectorises, instead of a bounds check per element. Good for long rows at stride 1; on short
// or strided rows its per-row work dominates (see im2col_gather).
template <class T>
void im2col_rows(const T* x, const Window2d& g, T* cols, T pad_value = T(0), index_t ld = 0, index_t oy_begin = 0,
                 index_t oy_end = -1) {
  const index_t ow = g.out_w(), sw = g.stride_w;
  if (oy_end < 0) oy_end = g.out_h();
  if (ld == 0) ld = (oy_end - oy_begin) * ow;
  for (index_t c = 0; c < g.channels; ++c)
    for (index_t i = 0; i < g.kernel_h; ++i)
      for (index_t j = 0; j < g.kernel_w; ++j) {
        T* row = cols + ((c * g.kernel_h + i) * g.kernel_w + j) * ld;
        const index_t offset = j * g.dilation_w - g.pad_w;  // input column of ox = 0
        const ValidRange r = valid_columns(ow, g.width, sw, g.pad_w, j * g.dilation_w);
        for (index_t oy = oy_begin; oy < oy_end; ++oy) {
          const index_t y = oy * g.stride_h - g.pad_h + i * g.dilation_h;
          T* out = row + (oy - oy_begin) * ow;
          if (y < 0 || y >= g.height) {
            std::fill(out, out + ow, pad_value);
            continue;
          }
          std::fill(out, out + r.first, pad_value);
          if (r.first < r.last) {
            const T* in = x + (c * g.height + y) * g.width + r.first * sw + offset;  // column of ox = first
            if (sw == 1) std::copy(in, in + (r.last - r.first), out + r.first);
            else
              for (index_t ox = r.first; ox < r.last; ++ox) out[ox] = in[(ox - r.first) * sw];
          }
          std::fill(out + r.last, out + ow, pad_value);
        }
      }
}

// The adjoint of im2col: x[c][y][x] += every cols entry that im2col read from it. x must hold
// the values to add to (zeros for a plain col2im). `ld` and the band of output rows
// [oy_begin, oy_end) are as in im2col. Each pixel receives its terms in (i, j) order, one per
// (i, j), in both versions, so they give bitwise the same result.
template <class T>
void col2im_rows(const T* cols, const Window2d& g, T* x, index_t ld = 0, index_t oy_begin = 0, index_t oy_end = -1) {
  const index_t ow = g.out_w(), sw = g.stride_w;
  if (oy_end < 0) oy_end = g.out_h();
  if (ld == 0) ld = (oy_end - oy_begin) * ow;
  for (index_t c = 0; c < g.channels; ++c)
    for (index_t i = 0; i < g.kernel_h; ++i)
      for (index_t j = 0; j < g.kernel_w; ++j) {
        const T* row = cols + ((c * g.kernel_h + i) * g.kernel_w + j) * ld;
        const index_t offset = j * g.dilation_w - g.pad_w;
        const ValidRange r = valid_columns(ow, g.width, sw, g.pad_w, j * g.dilation_w);
        for (index_t oy = oy_begin; oy < oy_end; ++oy) {
          const index_t y = oy * g.stride_h - g.pad_h + i * g.dilation_h;
          if (y < 0 || y >= g.height || r.first >= r.last) continue;
          T* __restrict out = x + (c * g.height + y) * g.width + r.first * sw + offset;  // column of ox = first
          const T* __restrict in = row + (oy - oy_begin) * ow + r.first;
          const index_t n = r.last - r.first;
          // (omp simd: GCC's -O2 leaves these loops scalar, and i's backward-data took 1.6x as
          // long as at -O3.)
          if (sw == 1) {
#pragma omp simd
            for (index_t k = 0; k < n; ++k) out[k] += in[k];
          } else {
#pragma omp simd
            for (index_t k = 0; k < n; ++k) out[k * sw] += in[k];
          }
        }
      }
}

// The gather versions, for short or strided rows (7x7 outputs of a 4x4 stride-2 convolution:
// per 7-element row, im2col_rows spent more on bounds and loop control than on copying, and
// im2col + col2im were 31% of a DCGAN training step). Per channel, the input rows the band
// reads are copied once into a buffer with pad_value borders; every (i, j) row of the patch
// matrix is then one branch-free gather through a table of the output positions' offsets in
// that buffer, the same table for every channel and (i, j).
namespace im2col_detail {
// The band's padded channel buffer: `rows` x `width` elements, row r holding input row
// first_y + r and column q input column q - pad_w; then the offset table, one entry per
// output position of the band (32-bit: the vector gathers take 32-bit indices; a band's
// channel buffer is far smaller than 2^31 values, which im2col_prefers_gather checks).
template <class T>
struct GatherScratch {
  T* channel;
  std::int32_t* offsets;
  index_t first_y, rows, width;

  GatherScratch(const Window2d& g, index_t oy_begin, index_t oy_end) {
    const index_t ow = g.out_w(), band = oy_end - oy_begin;
    first_y = oy_begin * g.stride_h - g.pad_h;
    rows = (band - 1) * g.stride_h + (g.kernel_h - 1) * g.dilation_h + 1;
    // At least the padded width; more when the window overhangs it (a geometry where
    // out_w()'s division truncated a negative numerator towards zero).
    width = std::max(g.width + 2 * g.pad_w, (ow - 1) * g.stride_w + (g.kernel_w - 1) * g.dilation_w + 1);
    const std::size_t channel_bytes = (static_cast<std::size_t>(rows * width) * sizeof(T) + 63) / 64 * 64;
    auto* base = thread_workspace().get<unsigned char>(kSlotWindow, channel_bytes + static_cast<std::size_t>(band * ow) * sizeof(std::int32_t));
    channel = reinterpret_cast<T*>(base);
    offsets = reinterpret_cast<std::int32_t*>(base + channel_bytes);
    for (index_t oy = 0; oy < band; ++oy)
      for (index_t ox = 0; ox < ow; ++ox)
        offsets[oy * ow + ox] = static_cast<std::int32_t>(oy * g.stride_h * width + ox * g.stride_w);
  }

  // Input channel c (of x) into the buffer, pad_value outside the image.
  void load(const T* x, const Window2d& g, index_t c, T pad_value) {
    for (index_t r = 0; r < rows; ++r) {
      T* d = channel + r * width;
      const index_t y = first_y + r;
      if (y < 0 || y >= g.height) {
        std::fill(d, d + width, pad_value);
        continue;
      }
      std::fill(d, d + g.pad_w, pad_value);
      std::copy_n(x + (c * g.height + y) * g.width, g.width, d + g.pad_w);
      std::fill(d + g.pad_w + g.width, d + width, pad_value);
    }
  }

  // The buffer's image part back into channel c of x.
  void store(T* x, const Window2d& g, index_t c) const {
    for (index_t r = 0; r < rows; ++r) {
      const index_t y = first_y + r;
      if (y >= 0 && y < g.height) std::copy_n(channel + r * width + g.pad_w, g.width, x + (c * g.height + y) * g.width);
    }
  }

  // Where patch element (i, j) of output position 0 lies in the buffer.
  const T* tap(const Window2d& g, index_t i, index_t j) const { return channel + i * g.dilation_h * width + j * g.dilation_w; }
};

// row[l] = src[off[l]] for l < n: the inner loop of im2col_gather, with the CPU's vector
// gathers where it has them (on the 4x4 stride-2 windows of h and G1 the scalar loop's load
// and store per value was a third of the convolution's time).
template <class T>
void gather_row_scalar(T* __restrict row, const T* __restrict src, const std::int32_t* __restrict off, index_t n) {
  for (index_t l = 0; l < n; ++l) row[l] = src[off[l]];
}
// The vector versions: masked gathers (vector_types.hpp), 16 / 8 lanes at a time.
INK_TARGET_AVX512 inline void gather_row_avx512(float* row, const float* src, const std::int32_t* off, index_t n) {
  using namespace simd;
  for (index_t l = 0; l < n; l += 16) {
    const unsigned short m = static_cast<unsigned short>(n - l >= 16 ? 0xffffu : (1u << (n - l)) - 1);
    const i32x16 idx = mask_load(i32x16{}, m, off + l);
    mask_store(row + l, m, mask_gather(f32x16{}, m, idx, src));
  }
}
INK_TARGET_AVX512 inline void gather_row_avx512(double* row, const double* src, const std::int32_t* off, index_t n) {
  using namespace simd;
  for (index_t l = 0; l < n; l += 8) {
    const unsigned char m = static_cast<unsigned char>(n - l >= 8 ? 0xffu : (1u << (n - l)) - 1);
    const i32x8 idx = mask_load(i32x8{}, m, off + l);
    mask_store(row + l, m, mask_gather(f64x8{}, m, idx, src));
  }
}
INK_TARGET_AVX2 inline void gather_row_avx2(float* row, const float* src, const std::int32_t* off, index_t n) {
  using namespace simd;
  const f32x8 all = reinterpret_cast<f32x8>(i32x8{} - 1);  // every lane's sign bit: gather it
  index_t l = 0;
  for (; l + 8 <= n; l += 8)
    *reinterpret_cast<f32x8_u*>(row + l) =
        mask_gather(f32x8{}, src, *reinterpret_cast<const i32x8_u*>(off + l), all);
  gather_row_scalar(row + l, src, off + l, n - l);
}
INK_TARGET_AVX2 inline void gather_row_avx2(double* row, const double* src, const std::int32_t* off, index_t n) {
  using namespace simd;
  const f64x4 all = reinterpret_cast<f64x4>(i64x4{} - 1);
  index_t l = 0;
  for (; l + 4 <= n; l += 4)
    *reinterpret_cast<f64x4_u*>(row + l) =
        mask_gather(f64x4{}, src, *reinterpret_cast<const i32x4_u*>(off + l), all);
  gather_row_scalar(row + l, src, off + l, n - l);
}
// Windows of stride 2 along rows (undilated), float, AVX-512: 16 outputs of an output row are
// every other value of 32 consecutive ones of the padded channel, so two masked loads and one
// two-source permute replace 16 gather lanes (1.4 cycles each on the Zen 5 machine, where
// they were 14% of G2's weight gradient). The output rows [0, band) of one patch row: row
// oy's ow values at row + oy * ow from src + oy * row_step, every other value.
inline bool im2col_pairs_applies(const Window2d& g) {
  return g.stride_w == 2 && g.dilation_w == 1 && active_isa() == Isa::avx512;
}
INK_TARGET_AVX512 inline void every_other_rows_avx512(float* row, const float* src, index_t band, index_t ow,
                                                      index_t row_step) {
  using namespace simd;
  const i32x16 even = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30};
  for (index_t oy = 0; oy < band; ++oy) {
    const float* s = src + oy * row_step;
    float* d = row + oy * ow;
    for (index_t m0 = 0; m0 < ow; m0 += 16) {
      // outs outputs read 2 outs - 1 values (no further: the last row ends there).
      const index_t outs = std::min<index_t>(16, ow - m0), need = 2 * outs - 1;
      const auto lanes = [](index_t k) { return static_cast<unsigned short>(k >= 16 ? 0xffffu : (1u << k) - 1); };
      const f32x16 lo = mask_load(f32x16{}, lanes(need), s + 2 * m0);
      const f32x16 hi = mask_load(f32x16{}, lanes(std::max<index_t>(need - 16, 0)), s + 2 * m0 + 16);
      mask_store(d + m0, lanes(outs), permute2(lo, even, hi));
    }
  }
}

template <class T>
void gather_row(Isa isa, T* row, const T* src, const std::int32_t* off, index_t n) {
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    if (isa == Isa::avx512) return gather_row_avx512(row, src, off, n);
    if (isa == Isa::avx2) return gather_row_avx2(row, src, off, n);
  }
  gather_row_scalar(row, src, off, n);
}
}  // namespace im2col_detail

template <class T>
void im2col_gather(const T* x, const Window2d& g, T* cols, T pad_value = T(0), index_t ld = 0, index_t oy_begin = 0,
                   index_t oy_end = -1) {
  if (oy_end < 0) oy_end = g.out_h();
  const index_t n = (oy_end - oy_begin) * g.out_w();
  if (ld == 0) ld = n;
  if (n <= 0) return;
  im2col_detail::GatherScratch<T> s(g, oy_begin, oy_end);
  const Isa isa = active_isa();
  if constexpr (std::is_same_v<T, float>) {
    if (im2col_detail::im2col_pairs_applies(g)) {
      for (index_t c = 0; c < g.channels; ++c) {
        s.load(x, g, c, pad_value);
        for (index_t i = 0; i < g.kernel_h; ++i)
          for (index_t j = 0; j < g.kernel_w; ++j)
            im2col_detail::every_other_rows_avx512(cols + ((c * g.kernel_h + i) * g.kernel_w + j) * ld, s.tap(g, i, j),
                                                   oy_end - oy_begin, g.out_w(), g.stride_h * s.width);
      }
      return;
    }
  }
  for (index_t c = 0; c < g.channels; ++c) {
    s.load(x, g, c, pad_value);
    for (index_t i = 0; i < g.kernel_h; ++i)
      for (index_t j = 0; j < g.kernel_w; ++j)
        im2col_detail::gather_row(isa, cols + ((c * g.kernel_h + i) * g.kernel_w + j) * ld, s.tap(g, i, j), s.offsets, n);
  }
}

namespace im2col_detail {
// One channel of col2im_gather: xc[p] += block[terms[t * pixels + p]] for t < count[p], in t
// order, for pixels p < pixels. The vector versions take 16 (8) pixels at once and, for each
// t, gather the entries of the pixels that have a t-th one (a masked add leaves the others
// untouched, so every pixel sees the scalar loop's additions in its order: the same bits).
template <class T>
void sum_terms_scalar(T* __restrict xc, const T* __restrict block, const std::int32_t* __restrict terms,
                      const std::int32_t* __restrict count, index_t pixels, bool overwrite) {
  for (index_t p = 0; p < pixels; ++p) {
    T sum = overwrite ? T(0) : xc[p];
    for (std::int32_t t = 0; t < count[p]; ++t) sum += block[terms[t * pixels + p]];
    xc[p] = sum;
  }
}
INK_TARGET_AVX512 inline void sum_terms_avx512(float* xc, const float* block, const std::int32_t* terms,
                                               const std::int32_t* count, index_t pixels, std::int32_t max_terms,
                                               bool overwrite) {
  using namespace simd;
  for (index_t p = 0; p < pixels; p += 16) {
    const unsigned short in = static_cast<unsigned short>(pixels - p >= 16 ? 0xffffu : (1u << (pixels - p)) - 1);
    f32x16 sum = overwrite ? f32x16{} : mask_load(f32x16{}, in, xc + p);
    const i32x16 cnt = mask_load(i32x16{}, in, count + p);
    for (std::int32_t t = 0; t < max_terms; ++t) {
      const unsigned short m = mask_cmpgt(in, cnt, i32x16{} + t);  // pixels with a t-th entry
      if (!m) break;  // counts past here are all smaller
      const i32x16 idx = mask_load(i32x16{}, m, terms + t * pixels + p);
      const f32x16 v = mask_gather(f32x16{}, m, idx, block);
      sum = mask_add(sum, m, sum, v);  // lanes off m keep their sum
    }
    mask_store(xc + p, in, sum);
  }
}
INK_TARGET_AVX2 inline void sum_terms_avx2(float* xc, const float* block, const std::int32_t* terms,
                                           const std::int32_t* count, index_t pixels, std::int32_t max_terms,
                                           bool overwrite) {
  using namespace simd;
  index_t p = 0;
  for (; p + 8 <= pixels; p += 8) {
    f32x8 sum = overwrite ? f32x8{} : *reinterpret_cast<const f32x8_u*>(xc + p);
    const i32x8 cnt = *reinterpret_cast<const i32x8_u*>(count + p);
    for (std::int32_t t = 0; t < max_terms; ++t) {
      const i32x8 m = cnt > t;  // all ones in the pixels with a t-th entry
      if (testz(reinterpret_cast<i64x4>(m), reinterpret_cast<i64x4>(m))) break;
      const i32x8 idx = maskload(terms + t * pixels + p, m);
      const f32x8 v = mask_gather(f32x8{}, block, idx, reinterpret_cast<f32x8>(m));
      sum = blendv(sum, sum + v, reinterpret_cast<f32x8>(m));
    }
    *reinterpret_cast<f32x8_u*>(xc + p) = sum;
  }
  for (; p < pixels; ++p) {  // the last pixels one at a time, their terms t * pixels apart
    float sum = overwrite ? 0.0f : xc[p];
    for (std::int32_t t = 0; t < count[p]; ++t) sum += block[terms[t * pixels + p]];
    xc[p] = sum;
  }
}
template <class T>
void sum_terms(Isa isa, T* xc, const T* block, const std::int32_t* terms, const std::int32_t* count, index_t pixels,
               std::int32_t max_terms, bool overwrite) {
  if constexpr (std::is_same_v<T, float>) {
    if (isa == Isa::avx512) return sum_terms_avx512(xc, block, terms, count, pixels, max_terms, overwrite);
    if (isa == Isa::avx2) return sum_terms_avx2(xc, block, terms, count, pixels, max_terms, overwrite);
  }
  sum_terms_scalar(xc, block, terms, count, pixels, overwrite);
}
}  // namespace im2col_detail

// col2im the other way round: per pixel, the sum of the patch-matrix entries that im2col copied
// from it, read through a table built once per call (for every channel): pixel p's entries are
// terms[t * pixels + p] for t < count[p], offsets into one channel's block of cols, in (i, j)
// order. Adding them in a register onto x's value gives the same sum, in the same order, as
// col2im_rows, without its read-modify-write of x per (i, j) (which on 7-wide rows cost about
// as much as the GEMM feeding it); the table's pixel-major layout lets vector gathers take
// 16 pixels at once (float; double runs the scalar loop). With `overwrite`, x's values are
// not read: each pixel gets the sum of its entries alone (zero when it has none), the same
// bits as zero-filling x first.
template <class T>
void col2im_gather(const T* cols, const Window2d& g, T* x, index_t ld = 0, index_t oy_begin = 0, index_t oy_end = -1,
                   bool overwrite = false) {
  if (oy_end < 0) oy_end = g.out_h();
  const index_t ow = g.out_w(), n = (oy_end - oy_begin) * ow;
  if (ld == 0) ld = n;
  // The image rows the band touches.
  const index_t y_lo = n <= 0 ? 0 : std::max<index_t>(0, oy_begin * g.stride_h - g.pad_h);
  const index_t y_hi =
      n <= 0 ? 0 : std::min(g.height, (oy_end - 1) * g.stride_h - g.pad_h + (g.kernel_h - 1) * g.dilation_h + 1);
  if (y_lo >= y_hi) {
    if (overwrite) std::fill(x, x + g.channels * g.height * g.width, T(0));
    return;
  }
  if (overwrite)  // the rows outside [y_lo, y_hi) get no entries
    for (index_t c = 0; c < g.channels; ++c) {
      T* xc = x + c * g.height * g.width;
      std::fill(xc, xc + y_lo * g.width, T(0));
      std::fill(xc + y_hi * g.width, xc + g.height * g.width, T(0));
    }
  const index_t pixels = (y_hi - y_lo) * g.width, taps = g.kernel_h * g.kernel_w;
  // Calls f(pixel, offset in cols) for every entry that lands in the image, in (i, j) order.
  auto each_entry = [&](auto f) {
    for (index_t i = 0; i < g.kernel_h; ++i)
      for (index_t j = 0; j < g.kernel_w; ++j) {
        const index_t row = (i * g.kernel_w + j) * ld;
        const ValidRange r = valid_columns(ow, g.width, g.stride_w, g.pad_w, j * g.dilation_w);
        for (index_t oy = oy_begin; oy < oy_end; ++oy) {
          const index_t y = oy * g.stride_h - g.pad_h + i * g.dilation_h;
          if (y < 0 || y >= g.height) continue;
          const index_t pixel0 = (y - y_lo) * g.width - g.pad_w + j * g.dilation_w, entry0 = row + (oy - oy_begin) * ow;
          for (index_t ox = r.first; ox < r.last; ++ox) f(pixel0 + ox * g.stride_w, entry0 + ox);
        }
      }
  };
  const std::size_t count_bytes = (static_cast<std::size_t>(pixels) * sizeof(std::int32_t) + 63) / 64 * 64;
  auto* count = reinterpret_cast<std::int32_t*>(thread_workspace().get<unsigned char>(kSlotWindow, count_bytes));
  std::fill(count, count + pixels, std::int32_t{0});
  each_entry([&](index_t p, index_t) { ++count[p]; });
  const std::int32_t max_terms = *std::max_element(count, count + pixels);
  auto* base = thread_workspace().get<unsigned char>(
      kSlotWindow, count_bytes + static_cast<std::size_t>(max_terms * pixels) * sizeof(std::int32_t));
  // (A larger slot is fresh memory: the counts are formed again as the table fills.)
  count = reinterpret_cast<std::int32_t*>(base);
  auto* terms = reinterpret_cast<std::int32_t*>(base + count_bytes);
  std::fill(count, count + pixels, std::int32_t{0});
  each_entry([&](index_t p, index_t e) { terms[count[p]++ * pixels + p] = static_cast<std::int32_t>(e); });
  const Isa isa = active_isa();
  for (index_t c = 0; c < g.channels; ++c)
    im2col_detail::sum_terms(isa, x + (c * g.height + y_lo) * g.width, cols + c * taps * ld, terms, count, pixels,
                             max_terms, overwrite);
}

// col2im for windows 4 wide at column stride 2 (the 4x4 stride-2 convolutions of a DCGAN and
// of bench_conv's h, G1), float, AVX-512: no gathers. With u = x + pad_w = 2 m + e, pixel x of a
// row receives from taps j = e and j = e + 2 at output columns m and m - 1, so for 8 output
// columns m0..m0+7 the even pixels get t0[m], then t2[m-1], and the odd ones t1[m], then
// t3[m-1] (t_j one (i, j) row of cols, masked loads where m is outside the output): two
// shuffles interleave (t0, t1) and (t2, t3) into 16 pixels. Each pixel row sums its (i, oy)
// pairs in a register, in (i, j) order as col2im_rows (the same bits), and is stored once. On
// the AMD EPYC (Zen 5) the gathers of col2im_gather ran at 1.4 cycles per entry of cols
// (bench_im2col) and were 29% of h's backward-data; see docs/kernels.md (item 44).
namespace im2col_detail {
constexpr index_t kMaxPairRows = 16;  // window rows col2im_pairs_avx512 takes
inline bool col2im_pairs_applies(const Window2d& g) {
  return g.kernel_w == 4 && g.stride_w == 2 && g.dilation_w == 1 && g.kernel_h <= kMaxPairRows &&
         active_isa() == Isa::avx512;
}
INK_TARGET_AVX512 inline void col2im_pairs_avx512(const float* cols, const Window2d& g, float* x, index_t ld,
                                                  index_t oy_begin, index_t oy_end, bool overwrite) {
  using namespace simd;
  const index_t ow = g.out_w(), W = g.width, pw = g.pad_w;
  // The image rows the band touches; with `overwrite` the others are zeroed.
  const index_t y_lo = std::max<index_t>(0, oy_begin * g.stride_h - g.pad_h);
  const index_t y_hi = std::min(g.height, (oy_end - 1) * g.stride_h - g.pad_h + (g.kernel_h - 1) * g.dilation_h + 1);
  if (overwrite)
    for (index_t c = 0; c < g.channels; ++c) {
      float* plane = x + c * g.height * W;
      std::fill(plane, plane + std::clamp<index_t>(y_lo, 0, g.height) * W, 0.0f);
      std::fill(plane + std::clamp<index_t>(y_hi, y_lo, g.height) * W, plane + g.height * W, 0.0f);
    }
  // Output columns m0..m0+7 for m0 = 0, 8, ... while their pixels 2 m0 - pw.. reach the row.
  for (index_t m0 = 0; 2 * m0 - pw < W; m0 += 8) {
    // Lane l of the 16 is pixel 2 m0 + l - pw; loads: output columns m0 + i and m0 - 1 + i.
    unsigned short store = 0;
    for (int l = 0; l < 16; ++l) {
      const index_t px = 2 * m0 + l - pw;
      if (px >= 0 && px < W) store = static_cast<unsigned short>(store | (1u << l));
    }
    unsigned char here = 0, before = 0;
    for (int i = 0; i < 8; ++i) {
      if (m0 + i < ow) here = static_cast<unsigned char>(here | (1u << i));
      if (m0 - 1 + i >= 0 && m0 - 1 + i < ow) before = static_cast<unsigned char>(before | (1u << i));
    }
    for (index_t y = y_lo; y < y_hi; ++y) {
      // The window rows i that reach pixel row y, as offsets of their 4 taps' output row oy.
      index_t offsets[kMaxPairRows], terms = 0;
      for (index_t i = 0; i < g.kernel_h; ++i) {
        const index_t t = y + g.pad_h - i * g.dilation_h;
        if (t < 0 || t % g.stride_h != 0) continue;
        const index_t oy = t / g.stride_h;
        if (oy >= oy_begin && oy < oy_end) offsets[terms++] = i * 4 * ld + (oy - oy_begin) * ow + m0;
      }
      const index_t channel_step = g.kernel_h * 4 * ld;
      for (index_t c = 0; c < g.channels; ++c) {
        float* row = x + (c * g.height + y) * W;
        f32x16 sum = overwrite ? f32x16{} : mask_load(f32x16{}, store, row + 2 * m0 - pw);
        for (index_t k = 0; k < terms; ++k) {
          const float* taps = cols + c * channel_step + offsets[k];
          const f32x8 t0 = mask_load(f32x8{}, here, taps), t1 = mask_load(f32x8{}, here, taps + ld);
          const f32x8 t2 = mask_load(f32x8{}, before, taps + 2 * ld - 1);
          const f32x8 t3 = mask_load(f32x8{}, before, taps + 3 * ld - 1);
          sum += __builtin_shufflevector(t0, t1, 0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
          sum += __builtin_shufflevector(t2, t3, 0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
        }
        mask_store(row + 2 * m0 - pw, store, sum);
      }
    }
  }
}
}  // namespace im2col_detail

// Which version each picks, from bench/bench_im2col (docs/kernels.md): gathers win on strided
// windows and on rows shorter than 10 (on the 7- and 14-wide outputs measured, im2col 1.7-2.5x
// and col2im 1.25-2.5x faster), row copies on long stride-1 rows (2x on 28-wide rows). The
// gather col2im builds its table per call, which a single channel does not repay.
// (The gather's offsets are 32-bit: not for images whose padded channel holds 2^31 values.)
inline bool im2col_prefers_gather(const Window2d& g) {
  const index_t padded = (g.height + 2 * g.pad_h + g.dilation_h * g.kernel_h) * (g.width + 2 * g.pad_w + g.dilation_w * g.kernel_w);
  return (g.stride_w != 1 || g.out_w() < 10) && padded < (index_t{1} << 31);
}
// (col2im's terms are 32-bit offsets into a channel's block of cols, kh * kw * ld values.)
inline bool col2im_prefers_gather(const Window2d& g, index_t ld) {
  return im2col_prefers_gather(g) && g.channels >= 4 && g.kernel_h * g.kernel_w * ld < (index_t{1} << 31);
}

template <class T>
void im2col(const T* x, const Window2d& g, T* cols, T pad_value = T(0), index_t ld = 0, index_t oy_begin = 0,
            index_t oy_end = -1) {
  if (im2col_prefers_gather(g)) im2col_gather(x, g, cols, pad_value, ld, oy_begin, oy_end);
  else im2col_rows(x, g, cols, pad_value, ld, oy_begin, oy_end);
}

// x += the fold of cols, or x = the fold with `overwrite` (x's values not read): the shuffle
// version for 4-wide stride-2 windows on AVX-512, else as col2im_prefers_gather says.
template <class T>
void col2im(const T* cols, const Window2d& g, T* x, index_t ld = 0, index_t oy_begin = 0, index_t oy_end = -1,
            bool overwrite = false) {
  const index_t band_columns = ((oy_end < 0 ? g.out_h() : oy_end) - oy_begin) * g.out_w();
  if constexpr (std::is_same_v<T, float>) {
    if (im2col_detail::col2im_pairs_applies(g))
      return im2col_detail::col2im_pairs_avx512(cols, g, x, ld == 0 ? band_columns : ld, oy_begin,
                                                oy_end < 0 ? g.out_h() : oy_end, overwrite);
  }
  if (col2im_prefers_gather(g, ld == 0 ? band_columns : ld)) return col2im_gather(cols, g, x, ld, oy_begin, oy_end, overwrite);
  if (overwrite) std::fill(x, x + g.channels * g.height * g.width, T(0));
  col2im_rows(cols, g, x, ld, oy_begin, oy_end);
}

}  // namespace ink::kernels
