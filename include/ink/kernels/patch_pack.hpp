// A convolution's patch matrix handed to the GEMM as packed panels, read straight from a
// zero-padded copy of the input rows it covers, instead of written out by im2col and packed
// again by the GEMM. Entry (k, l) of the patch matrix is padded[tap[k] + pos[l]]: tap[k] is
// where patch row k = (channel, i, j) starts, pos[l] where output position l = (image, oy, ox)
// starts, so one table pair serves both orientations the convolutions need: the patch matrix as
// B (forward: K = patch rows, N = positions) and its transpose as B (weight gradient: K =
// positions, N = patch rows). Part of kernels/.
//
// Why: on the 4x4 stride-2 shapes im2col and the GEMM's packing of its output were a quarter of
// the convolution's time, on the 9x9 3-channel one (i) well over a third; the padded copy is a
// fraction of the patch matrix's size (16 taps share each input value there, 81 here).
#pragma once
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "ink/core/config.hpp"
#include "ink/core/cpu_features.hpp"
#include "ink/kernels/im2col.hpp"
#include "ink/kernels/vector_types.hpp"
#include "ink/kernels/workspace.hpp"

namespace ink::kernels {

namespace patch_detail {

// The offsets are 32-bit (the vector gathers' indices): a patch matrix whose padded copy
// would reach 2^31 values goes through im2col instead (conv.hpp). A variable, not a constant,
// only so that a test can lower it and run that path on small shapes.
inline index_t offset_limit = index_t{1} << 31;

// B(k, l) = base[row[k] + col[l]] for k < kc, l < n, as NR-column panels (BSource's layout).
template <class T>
void pack_scalar(const T* base, const std::int32_t* row, index_t kc, const std::int32_t* col, index_t n, int NR,
                 T* dst) {
  for (index_t p0 = 0; p0 < n; p0 += NR) {
    T* d = dst + (p0 / NR) * kc * NR;
    const int w = static_cast<int>(std::min<index_t>(NR, n - p0));
    const std::int32_t* c = col + p0;
    for (index_t k = 0; k < kc; ++k, d += NR) {
      const T* b = base + row[k];
      for (int j = 0; j < w; ++j) d[j] = b[c[j]];
      for (int j = w; j < NR; ++j) d[j] = T(0);
    }
  }
}

// The vector versions take a panel 16 (8) columns at a time down all kc rows. Those columns'
// offsets usually form a few runs of consecutive values (a stride-1 output row; the kw taps of
// a patch row): then each run is one masked load, lane j of run r reading base + row[k] +
// (col[first of r] - first of r) + j; otherwise one gather per row. The AVX-512 version also
// takes runs of every other value (a stride-2 output row), each as two masked loads of its span
// and a two-register permute: on the AMD EPYC (Zen 5) a 16-lane gather cost more than the
// three or four runs of h's 7-wide stride-2 rows (docs/kernels.md, item 45).
constexpr int kMaxRuns = 4;
struct Runs {
  int count = 0;  // 0: gather
  std::uint32_t mask[kMaxRuns];
  std::int32_t shift[kMaxRuns];
  int step[kMaxRuns];  // 1, or 2 when every_other
};
inline Runs find_runs(const std::int32_t* col, int lanes, bool every_other = false) {
  Runs r;
  for (int s = 0; s < lanes;) {
    const int step = every_other && s + 1 < lanes && col[s + 1] == col[s] + 2 ? 2 : 1;
    int e = s + 1;
    while (e < lanes && col[e] == col[s] + step * (e - s)) ++e;
    if (r.count == kMaxRuns) return Runs{};
    r.mask[r.count] = ((e - s == 32 ? 0u : (1u << (e - s))) - 1u) << s;
    // Step 1: lane j reads base + shift + j; step 2: the permute's lane j takes element
    // 2 (j - s) of the span from base + shift.
    r.shift[r.count] = step == 1 ? col[s] - s : col[s];
    r.step[r.count] = step;
    ++r.count;
    s = e;
  }
  return r;
}

// One 16-column vector of a panel down kc rows, its lanes from Count runs (step 1: a masked
// load; step 2: two masked loads of the span, its 2 len - 1 values, and a permute).
template <int Count>
INK_TARGET_AVX512 void pack_runs_avx512(const float* base, const std::int32_t* row, index_t kc, const Runs& runs,
                                        float* d, int NR) {
  using namespace simd;
  const i32x16 lane = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  unsigned short m[Count], lo_m[Count], hi_m[Count];
  std::int32_t shift[Count];
  bool strided[Count];
  i32x16 perm[Count];
#pragma GCC unroll 4
  for (int r = 0; r < Count; ++r) {
    const int first = __builtin_ctz(runs.mask[r]), len = __builtin_popcount(runs.mask[r]);
    const int span = runs.step[r] == 1 ? 16 : 2 * len - 1;
    m[r] = static_cast<unsigned short>(runs.mask[r]);
    lo_m[r] = static_cast<unsigned short>(span >= 16 ? 0xffffu : (1u << span) - 1);
    hi_m[r] = static_cast<unsigned short>(span > 16 ? (1u << (span - 16)) - 1 : 0);
    shift[r] = runs.shift[r];
    strided[r] = runs.step[r] == 2;
    perm[r] = (lane - first) * runs.step[r];
  }
  for (index_t k = 0; k < kc; ++k) {
    const float* b = base + row[k];
    f32x16 x{};
#pragma GCC unroll 4
    for (int r = 0; r < Count; ++r) {
      if (!strided[r]) {
        x = mask_load(x, m[r], b + shift[r]);
        continue;
      }
      const float* span = b + shift[r];
      const f32x16 lo = mask_load(f32x16{}, lo_m[r], span), hi = mask_load(f32x16{}, hi_m[r], span + 16);
      x = mask_blend(m[r], x, permute2(lo, perm[r], hi));
    }
    *reinterpret_cast<f32x16_u*>(d + k * NR) = x;
  }
}

INK_TARGET_AVX512 inline void pack_avx512(const float* base, const std::int32_t* row, index_t kc,
                                          const std::int32_t* col, index_t n, int NR, float* dst) {
  using namespace simd;
  for (index_t p0 = 0; p0 < n; p0 += NR) {
    float* panel = dst + (p0 / NR) * kc * NR;
    const index_t w = std::min<index_t>(NR, n - p0);
    for (index_t v = 0; v < NR; v += 16) {
      float* d = panel + v;
      const int lanes = static_cast<int>(std::clamp<index_t>(w - v, 0, 16));
      if (lanes == 0) {
        for (index_t k = 0; k < kc; ++k) *reinterpret_cast<f32x16_u*>(d + k * NR) = f32x16{};
        continue;
      }
      const Runs runs = find_runs(col + p0 + v, lanes, true);
      bool strided = false;
      for (int r = 0; r < runs.count; ++r) strided = strided || runs.step[r] == 2;
      if (runs.count > 0 && !strided) {
        for (index_t k = 0; k < kc; ++k) {
          const float* b = base + row[k];
          f32x16 x = mask_load(f32x16{}, static_cast<unsigned short>(runs.mask[0]), b + runs.shift[0]);
          for (int r = 1; r < runs.count; ++r)
            x = mask_load(x, static_cast<unsigned short>(runs.mask[r]), b + runs.shift[r]);
          *reinterpret_cast<f32x16_u*>(d + k * NR) = x;
        }
      } else if (runs.count > 0) {
        switch (runs.count) {  // the run count a constant, so masks and indices stay in registers
          case 1: pack_runs_avx512<1>(base, row, kc, runs, d, NR); break;
          case 2: pack_runs_avx512<2>(base, row, kc, runs, d, NR); break;
          case 3: pack_runs_avx512<3>(base, row, kc, runs, d, NR); break;
          default: pack_runs_avx512<kMaxRuns>(base, row, kc, runs, d, NR); break;
        }
      } else {
        const unsigned short m = static_cast<unsigned short>((1u << lanes) - 1);
        const i32x16 gidx = mask_load(i32x16{}, m, col + p0 + v);
        for (index_t k = 0; k < kc; ++k)
          *reinterpret_cast<f32x16_u*>(d + k * NR) = mask_gather(f32x16{}, m, gidx + row[k], base);
      }
    }
  }
}

// An AVX2 lane mask: all ones in lane j when bit j of `bits` is set.
INK_TARGET_AVX2 inline simd::i32x8 lane_mask_avx2(std::uint32_t bits) {
  const simd::i32x8 lane_bit = {1, 2, 4, 8, 16, 32, 64, 128};
  return ((simd::i32x8{} + static_cast<int>(bits)) & lane_bit) == lane_bit;
}

INK_TARGET_AVX2 inline void pack_avx2(const float* base, const std::int32_t* row, index_t kc, const std::int32_t* col,
                                      index_t n, int NR, float* dst) {
  using namespace simd;
  for (index_t p0 = 0; p0 < n; p0 += NR) {
    float* panel = dst + (p0 / NR) * kc * NR;
    const index_t w = std::min<index_t>(NR, n - p0);
    for (index_t v = 0; v < NR; v += 8) {
      float* d = panel + v;
      const int lanes = static_cast<int>(std::clamp<index_t>(w - v, 0, 8));
      if (lanes == 0) {
        for (index_t k = 0; k < kc; ++k) *reinterpret_cast<f32x8_u*>(d + k * NR) = f32x8{};
        continue;
      }
      const Runs runs = find_runs(col + p0 + v, lanes);
      if (runs.count > 0) {
        i32x8 m[kMaxRuns];
        for (int r = 0; r < runs.count; ++r) m[r] = lane_mask_avx2(runs.mask[r]);
        for (index_t k = 0; k < kc; ++k) {
          const float* b = base + row[k];
          f32x8 x = maskload(b + runs.shift[0], m[0]);
          for (int r = 1; r < runs.count; ++r)
            x = blendv(x, maskload(b + runs.shift[r], m[r]), reinterpret_cast<f32x8>(m[r]));
          *reinterpret_cast<f32x8_u*>(d + k * NR) = x;
        }
      } else {
        const i32x8 m = lane_mask_avx2((1u << lanes) - 1);
        const i32x8 idx = maskload(col + p0 + v, m);
        for (index_t k = 0; k < kc; ++k)
          *reinterpret_cast<f32x8_u*>(d + k * NR) =
              mask_gather(f32x8{}, base, idx + row[k], reinterpret_cast<f32x8>(m));
      }
    }
  }
}

}  // namespace patch_detail

// The context of a BSource over a patch matrix: B(k, l) = base[row[k] + col[l]].
template <class T>
struct PatchPanels {
  const T* base;
  const std::int32_t* row;
  const std::int32_t* col;
};

template <class T>
void pack_patch_panels(const void* ctx, index_t k0, index_t kc, index_t j0, index_t n, int NR, T* dst) {
  const auto& s = *static_cast<const PatchPanels<T>*>(ctx);
  if constexpr (std::is_same_v<T, float>) {
    const Isa isa = active_isa();
    if (isa == Isa::avx512 && NR % 16 == 0)
      return patch_detail::pack_avx512(s.base, s.row + k0, kc, s.col + j0, n, NR, dst);
    if (isa == Isa::avx2 && NR % 8 == 0) return patch_detail::pack_avx2(s.base, s.row + k0, kc, s.col + j0, n, NR, dst);
  }
  patch_detail::pack_scalar(s.base, s.row + k0, kc, s.col + j0, n, NR, dst);
}

// The patch matrix of m images (`image_stride` values apart from x) for output rows
// [oy_begin, oy_end) of each: the input rows they read, zero-padded, in the calling thread's
// workspace (slot kSlotWindow) as [m][C][rows][width], and the two offset tables: tap, one
// entry per patch row (c, i, j) of all channels (group gi's rows start at gi * patch per
// group), and pos, one per output position (image, oy, ox), image-major.
template <class T>
struct PatchMatrix {
  T* padded;
  std::int32_t* tap;
  std::int32_t* pos;

  // The input rows a band reads, and the padded width (at least W + 2 * pad; more when the
  // window overhangs it, a geometry where out_w()'s division truncated towards zero).
  static index_t rows(const Window2d& g, index_t band) { return (band - 1) * g.stride_h + (g.kernel_h - 1) * g.dilation_h + 1; }
  static index_t width(const Window2d& g) {
    return std::max(g.width + 2 * g.pad_w, (g.out_w() - 1) * g.stride_w + (g.kernel_w - 1) * g.dilation_w + 1);
  }
  // Whether the offsets fit in 32 bits (patch_detail::offset_limit).
  static bool fits(const Window2d& g, index_t m, index_t band) {
    return m * g.channels * rows(g, band) * width(g) < patch_detail::offset_limit;
  }

  PatchMatrix(const T* x, const Window2d& g, index_t m, index_t image_stride, index_t oy_begin, index_t oy_end) {
    const index_t band = oy_end - oy_begin, ow = g.out_w(), R = rows(g, band), Wp = width(g);
    const index_t plane = R * Wp, C = g.channels, taps = g.kernel_h * g.kernel_w;
    const std::size_t padded_bytes = (static_cast<std::size_t>(m * C * plane) * sizeof(T) + 63) / 64 * 64;
    const std::size_t tap_bytes = (static_cast<std::size_t>(C * taps) * sizeof(std::int32_t) + 63) / 64 * 64;
    auto* base = thread_workspace().get<unsigned char>(
        kSlotWindow, padded_bytes + tap_bytes + static_cast<std::size_t>(m * band * ow) * sizeof(std::int32_t));
    padded = reinterpret_cast<T*>(base);
    tap = reinterpret_cast<std::int32_t*>(base + padded_bytes);
    pos = reinterpret_cast<std::int32_t*>(base + padded_bytes + tap_bytes);
    // Zeros first, one fill for all planes, then the image rows over them: one copy per row
    // instead of a fill, a copy and a fill (three library calls per row of 14 values for h's
    // 14x14 images; docs/kernels.md, tuning log 34).
    const index_t first_y = oy_begin * g.stride_h - g.pad_h;
    const index_t y0 = std::max<index_t>(first_y, 0), y1 = std::min(first_y + R, g.height);
    std::fill(padded, padded + m * C * plane, T(0));
    for (index_t img = 0; img < m; ++img)
      for (index_t c = 0; c < C; ++c)
        for (index_t y = y0; y < y1; ++y)
          std::copy_n(x + img * image_stride + (c * g.height + y) * g.width, g.width,
                      padded + (img * C + c) * plane + (y - first_y) * Wp + g.pad_w);
    for (index_t c = 0; c < C; ++c)
      for (index_t i = 0; i < g.kernel_h; ++i)
        for (index_t j = 0; j < g.kernel_w; ++j)
          tap[(c * g.kernel_h + i) * g.kernel_w + j] =
              static_cast<std::int32_t>(c * plane + i * g.dilation_h * Wp + j * g.dilation_w);
    for (index_t img = 0; img < m; ++img)
      for (index_t oy = 0; oy < band; ++oy)
        for (index_t ox = 0; ox < ow; ++ox)
          pos[(img * band + oy) * ow + ox] =
              static_cast<std::int32_t>(img * C * plane + oy * g.stride_h * Wp + ox * g.stride_w);
  }
};

}  // namespace ink::kernels
