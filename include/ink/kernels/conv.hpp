// Grouped 2-D convolution over an NCHW batch in its three directions: forward, the gradient
// with respect to the input (which is also the transposed convolution's forward) and the
// gradient with respect to the weights. 3x3 stride-1 ungrouped windows with at least 16 channels
// each way go to the Winograd kernels (winograd.hpp). Otherwise the work is cut into units fixed
// by the shape (conv_shape.hpp): for images of at least kMinColumns output positions, one image
// in bands of output rows whose patch matrix (im2col) stays near L2, multiplied by the packed
// GEMM straight into the NCHW output (and, for the input gradient, folded back with col2im); for
// smaller images, a few images side by side in one GEMM, gathered and scattered through the
// workspace. Either way the full [Cin*kh*kw, N*OH*OW] patch matrix (58 MB for a 32-channel 3x3
// convolution of 64 28x28 images) is never written to memory. 1x1 convolutions with stride 1 and
// no padding multiply the image itself. Part of kernels/: raw pointers, no Tensor; scratch in the
// per-thread workspace.
//
// Determinism: every output element sees the same operations in the same order for any thread
// count. Threads take whole units (their GEMMs then run on one thread) when each gets a fair
// share; otherwise the units run in turn and each GEMM splits (GEMM itself is thread-count
// invariant). The weight gradient sums units in a fixed number of chunks, each accumulated in
// unit order, and the chunks are added in order.
#pragma once
#include <algorithm>
#include <cstring>
#include <optional>
#include <type_traits>

#include "ink/core/parallel.hpp"
#include "ink/kernels/conv_shape.hpp"
#include "ink/kernels/gemm.hpp"
#include "ink/kernels/im2col.hpp"
#include "ink/kernels/patch_pack.hpp"
#include "ink/kernels/patch_rows.hpp"
#include "ink/kernels/weight_grad_dot.hpp"
#include "ink/kernels/winograd.hpp"
#include "ink/kernels/workspace.hpp"

namespace ink::kernels {

namespace conv_detail {

// Output rows per band: the band's patch matrix (all groups) holds about kBandElements values,
// 512 KiB of floats, which leaves room in L2 for the GEMM's packed B block...
constexpr index_t kBandElements = index_t{128} * 1024;
// ...but a band has at least kMinColumns output positions when the image has them: the GEMM
// streams the whole weight matrix through the caches for every band, and with a 512-channel 3x3
// convolution (K = 4608) a one-row band of a 28-wide image multiplied each weight by 28 columns
// only. Below this many output positions per image, several images share one GEMM, for the same
// reason. (The weights are packed once per call, PackedWeights below; when each unit packed
// them, a 128 x 1024 weight matrix cost about as much to pack as multiplying it by 49 columns.)
constexpr index_t kMinColumns = 256;
// Small images go several to a tile of at least kMinTileColumns positions (16 images of 7x7
// outputs: 784 columns, 4 tiles for a batch of 64): with 6 images (294 columns) each tile's
// GEMM ended in a 6-column NR tile that cost a third of a full one, and every tile streamed
// the packed weights again (docs/kernels.md, tuning log 39).
constexpr index_t kMinTileColumns = 784;
// A weight gradient's patch (Cin/G kh kw) this short, and shorter than its channel count, is
// formed by dot products along the positions (conv2d_backward_weights, weight_grad_dot.hpp).
constexpr index_t kShortPatch = 32;
// Positions per image from which a short patch's forward multiplies image by image (above).
constexpr index_t kPerImageColumns = 128;
// Small images per dot-product call (their lanes are summed once per call), bounding the
// patch buffer to kDotImages images' patch matrices (each under 256 positions).
constexpr index_t kDotImages = 32;

// How the work is cut: tiles of up to `samples` images (their patch matrices side by side,
// output gathered and scattered through a workspace) when images are small, else one image at
// a time in bands of `rows` output rows written in place. Fixed by the shape alone. Tile t
// holds images [first(t), first(t + 1)); the tile count is rounded up to a multiple of 2 or 4,
// so that two or four threads get equal shares (64 images of 49 positions were 11 tiles of 6,
// and the second of two threads waited for a sixth of the work).
struct Tiling {
  index_t samples, rows, tiles, batch;
  index_t first(index_t tile) const { return batch * tile / tiles; }
};
inline Tiling tiling(const Conv2dShape& s) {
  const Window2d& g = s.window;
  const index_t L = s.positions();
  if (L >= kMinColumns || s.batch <= 1) {
    const index_t per_row = std::max<index_t>(g.channels * g.kernel_h * g.kernel_w * g.out_w(), 1);
    const index_t rows = std::max(kBandElements / per_row, ceil_div(kMinColumns, std::max<index_t>(g.out_w(), 1)));
    return {1, std::clamp<index_t>(rows, 1, std::max<index_t>(g.out_h(), 1)), s.batch, s.batch};
  }
  const index_t fewest = ceil_div(s.batch, std::min(s.batch, ceil_div(kMinTileColumns, L)));
  const index_t multiple = fewest >= 4 ? 4 : fewest >= 2 ? 2 : 1;
  const index_t tiles = std::min(s.batch, ceil_div(fewest, multiple) * multiple);
  return {ceil_div(s.batch, tiles), g.out_h(), tiles, s.batch};
}

// [m images][C rows][L] <-> [C rows][m*L]: a tile's images side by side, as one GEMM operand.
template <class T>
void gather_images(const T* src, index_t m, index_t channels, index_t L, T* dst) {
  for (index_t j = 0; j < m; ++j)
    for (index_t c = 0; c < channels; ++c)
      std::memcpy(dst + c * m * L + j * L, src + (j * channels + c) * L, static_cast<std::size_t>(L) * sizeof(T));
}
template <class T>
void scatter_images(const T* src, index_t m, index_t channels, index_t L, T* dst) {
  for (index_t j = 0; j < m; ++j)
    for (index_t c = 0; c < channels; ++c)
      std::memcpy(dst + (j * channels + c) * L, src + c * m * L + j * L, static_cast<std::size_t>(L) * sizeof(T));
}

// The weights of every group as the GEMM's packed A (gemm.hpp's pack_a), packed once per call
// on the calling thread (kSlotShared0) when more than one unit multiplies with them: h's
// backward-data packed its 1024 x 128 w^T again for each of its 12 tiles, 9% of its time.
// Group gi's A is [Cout/G, patch] at w + gi * Cout/G * patch, transposed for the input gradient.
template <class T>
class PackedWeights {
 public:
  // Not inlined: it is one call per convolution, from the forward and backward-data kernels.
  [[gnu::noinline]] PackedWeights(const T* w, const Conv2dShape& s, bool transposed) {
    const index_t Cg = s.out_per_group(), Pg = s.patch_per_group();
    const index_t M = transposed ? Pg : Cg, K = transposed ? Cg : Pg;
    per_group_ = packed_a_size<T>(M, K);
    data_ = thread_workspace().get<T>(kSlotShared0, per_group_ * static_cast<std::size_t>(s.groups));
    for (index_t gi = 0; gi < s.groups; ++gi) rows_ = pack_a(transposed, M, K, w + gi * Cg * Pg, Pg, data_ + gi * per_group_).rows;
  }
  PackedA<T> group(index_t gi) const { return {data_ + gi * per_group_, rows_}; }

 private:
  T* data_ = nullptr;
  std::size_t per_group_ = 0;
  index_t rows_ = 0;
};

}  // namespace conv_detail

// y[N, Cout, OH, OW] = conv(x[N, Cin, H, W], w) (no bias; zero padding). The units of work are
// tiles of small images, or (image, band) pairs, or whole images for a pointwise convolution.
template <class T>
void conv2d_forward(const T* x, const T* w, T* y, const Conv2dShape& s) {
  if (winograd::applies(s)) return winograd::forward(x, w, y, s);
  const Window2d& g = s.window;
  const index_t L = s.positions(), ow = g.out_w(), oh = g.out_h();
  const index_t G = s.groups, Cg = s.out_per_group(), Pg = s.patch_per_group();
  const conv_detail::Tiling t = conv_detail::tiling(s);
  const index_t bands = t.samples > 1 ? 1 : conv_detail::ceil_div(oh, t.rows);
  const index_t units = t.samples > 1 ? t.tiles : s.batch * bands;
  // At stride 1 the patch matrix is read in place (patch_rows.hpp) when the units alone keep
  // the threads busy: its GEMMs run on one thread each.
  const bool in_place = !s.pointwise() && patch_rows_applies<T>(g) && conv_detail::units_fill_threads(units);
  // w packed once when more than one tile or band multiplies with it (a pointwise convolution
  // of large images multiplies each image without `multiply`), or for the in-place GEMM.
  std::optional<conv_detail::PackedWeights<T>> packed;
  if (in_place || (t.samples > 1 ? t.tiles > 1 : !s.pointwise() && units > 1)) packed.emplace(w, s, false);
  // out (group gi's Cg rows ld * gi * Cg apart, rows ld apart) = w times the patch matrix of
  // images [i0, i0 + m), output rows [oy0, oy1) of each, side by side.
  auto multiply = [&](index_t i0, index_t m, index_t oy0, index_t oy1, T* out, index_t ld) {
    const index_t band = (oy1 - oy0) * ow, n = m * band;
    if (PatchMatrix<T>::fits(g, m, oy1 - oy0)) {
      const PatchMatrix<T> pm(x + i0 * s.input_size(), g, m, s.input_size(), oy0, oy1);
      for (index_t gi = 0; gi < G; ++gi) {
        if constexpr (std::is_same_v<T, float>) {
          if (in_place) {
            patch_rows_gemm(packed->group(gi), Cg, Pg, pm.padded, pm.tap + gi * Pg, pm.pos, m * (oy1 - oy0), ow,
                            out + gi * Cg * ld, ld);
            continue;
          }
        }
        const PatchPanels<T> b{pm.padded, pm.tap + gi * Pg, pm.pos};
        const PackedA<T> a = packed ? packed->group(gi) : PackedA<T>{};
        gemm(false, Cg, n, Pg, T(1), w + gi * Cg * Pg, Pg, BSource<T>{&pack_patch_panels<T>, &b}, T(0),
             out + gi * Cg * ld, ld, packed ? &a : nullptr);
      }
      return;
    }
    T* cols = thread_workspace().get<T>(kSlotCaller0, static_cast<std::size_t>(G * Pg * n));
    for (index_t j = 0; j < m; ++j) im2col(x + (i0 + j) * s.input_size(), g, cols + j * band, T(0), n, oy0, oy1);
    for (index_t gi = 0; gi < G; ++gi)
      gemm(false, false, Cg, n, Pg, T(1), w + gi * Cg * Pg, Pg, cols + gi * Pg * n, n, T(0), out + gi * Cg * ld, ld);
  };
  // A short patch makes the GEMM cheap next to copying its output out of the workspace (G2's
  // backward-data, 16 patch rows: the copy was a third of its time): the tile's images then
  // get a GEMM each, written in place, from the tile's one padded copy.
  const bool per_image = !in_place && Pg <= conv_detail::kShortPatch && L >= conv_detail::kPerImageColumns;
  if (t.samples > 1) {  // small images: one GEMM per tile, output through the workspace
    conv_detail::for_each_unit(t.tiles, [&](index_t tile) {
      const index_t i0 = t.first(tile), m = t.first(tile + 1) - i0, n = m * L;
      if (per_image && PatchMatrix<T>::fits(g, m, oh)) {
        const PatchMatrix<T> pm(x + i0 * s.input_size(), g, m, s.input_size(), 0, oh);
        for (index_t j = 0; j < m; ++j)
          for (index_t gi = 0; gi < G; ++gi) {
            const PatchPanels<T> b{pm.padded, pm.tap + gi * Pg, pm.pos + j * L};
            const PackedA<T> a = packed ? packed->group(gi) : PackedA<T>{};
            gemm(false, Cg, L, Pg, T(1), w + gi * Cg * Pg, Pg, BSource<T>{&pack_patch_panels<T>, &b}, T(0),
                 y + (i0 + j) * s.output_size() + gi * Cg * L, L, packed ? &a : nullptr);
          }
        return;
      }
      T* out = thread_workspace().get<T>(kSlotCaller1, static_cast<std::size_t>(s.out_channels * n));
      multiply(i0, m, 0, oh, out, n);
      conv_detail::scatter_images(out, m, s.out_channels, L, y + i0 * s.output_size());
    });
    return;
  }
  if (s.pointwise()) {
    conv_detail::for_each_unit(s.batch, [&](index_t i) {
      const T* xi = x + i * s.input_size();
      T* yi = y + i * s.output_size();
      for (index_t gi = 0; gi < G; ++gi)
        gemm(false, false, Cg, L, Pg, T(1), w + gi * Cg * Pg, Pg, xi + gi * Pg * L, L, T(0), yi + gi * Cg * L, L);
    });
    return;
  }
  conv_detail::for_each_unit(s.batch * bands, [&](index_t u) {
    const index_t i = u / bands, oy = (u % bands) * t.rows, r = std::min(t.rows, oh - oy);
    multiply(i, 1, oy, oy + r, y + i * s.output_size() + oy * ow, L);
  });
}

// dx[N, Cin, H, W] = the gradient of conv2d_forward with respect to x, given dy[N, Cout, OH, OW]:
// per band, columns = w^T dy, folded back onto the image. Also the forward pass of a transposed
// convolution (dy its input, dx its output).
template <class T>
void conv2d_backward_data(const T* dy, const T* w, T* dx, const Conv2dShape& s) {
  if (winograd::applies(s)) return winograd::backward_data(dy, w, dx, s);
  const Window2d& g = s.window;
  const index_t L = s.positions(), ow = g.out_w(), oh = g.out_h();
  const index_t G = s.groups, Cg = s.out_per_group(), Pg = s.patch_per_group();
  const conv_detail::Tiling t = conv_detail::tiling(s);
  // w^T packed once for the tiles' GEMMs that read dy in place (below).
  std::optional<conv_detail::PackedWeights<T>> packed;
  if (t.samples > 1 && t.tiles > 1 && t.samples * s.output_size() < patch_detail::offset_limit)
    packed.emplace(w, s, true);
  // Bands of one image overlap in the input rows col2im adds to: the units are whole tiles.
  conv_detail::for_each_unit(t.tiles, [&](index_t tile) {
    const index_t i0 = t.first(tile), m = t.first(tile + 1) - i0;
    const T* dyi = dy + i0 * s.output_size();
    T* dxi = dx + i0 * s.input_size();
    Workspace& ws = thread_workspace();
    if (m > 1) {
      const index_t n = m * L;
      T* cols = ws.get<T>(kSlotCaller0, static_cast<std::size_t>(G * Pg * n));
      if (m * s.output_size() < patch_detail::offset_limit) {
        // dy's images side by side as B read in place, (channel c, position l of image j) at
        // c * L + j * output_size + l: no copy into one matrix first.
        auto* offsets = ws.get<std::int32_t>(kSlotWindow, static_cast<std::size_t>(Cg + n));
        for (index_t c = 0; c < Cg; ++c) offsets[c] = static_cast<std::int32_t>(c * L);
        for (index_t j = 0; j < m; ++j)
          for (index_t l = 0; l < L; ++l) offsets[Cg + j * L + l] = static_cast<std::int32_t>(j * s.output_size() + l);
        for (index_t gi = 0; gi < G; ++gi) {
          const PatchPanels<T> b{dyi + gi * Cg * L, offsets, offsets + Cg};
          const PackedA<T> a = packed ? packed->group(gi) : PackedA<T>{};
          gemm(true, Pg, n, Cg, T(1), w + gi * Cg * Pg, Pg, BSource<T>{&pack_patch_panels<T>, &b}, T(0),
               cols + gi * Pg * n, n, packed ? &a : nullptr);
        }
      } else {
        T* grad = ws.get<T>(kSlotCaller1, static_cast<std::size_t>(s.out_channels * n));
        conv_detail::gather_images(dyi, m, s.out_channels, L, grad);
        for (index_t gi = 0; gi < G; ++gi)
          gemm(true, false, Pg, n, Cg, T(1), w + gi * Cg * Pg, Pg, grad + gi * Cg * n, n, T(0), cols + gi * Pg * n, n);
      }
      for (index_t j = 0; j < m; ++j) col2im(cols + j * L, g, dxi + j * s.input_size(), n, 0, -1, true);
      return;
    }
    if (s.pointwise()) {
      for (index_t gi = 0; gi < G; ++gi)
        gemm(true, false, Pg, L, Cg, T(1), w + gi * Cg * Pg, Pg, dyi + gi * Cg * L, L, T(0), dxi + gi * Pg * L, L);
      return;
    }
    std::fill(dxi, dxi + s.input_size(), T(0));
    T* cols = ws.get<T>(kSlotCaller0, static_cast<std::size_t>(G * Pg * t.rows * ow));
    for (index_t oy = 0; oy < oh; oy += t.rows) {
      const index_t r = std::min(t.rows, oh - oy), n = r * ow;
      for (index_t gi = 0; gi < G; ++gi)
        gemm(true, false, Pg, n, Cg, T(1), w + gi * Cg * Pg, Pg, dyi + gi * Cg * L + oy * ow, L, T(0),
             cols + gi * Pg * n, n);
      col2im(cols, g, dxi, n, oy, oy + r);
    }
  });
}

// dw[Cout, Cin/G, kh, kw] = the gradient of conv2d_forward with respect to w, given x and dy:
// the sum over samples of dy_i cols(x_i)^T. The units (tiles of small images, (image, band)
// pairs, or whole images when pointwise) are summed in a fixed number of chunks, each in unit
// order, and the chunks' partial sums are added in order. A short patch's gradient (fewer
// patch rows than output channels, at most kShortPatch) is formed as dot products along the
// positions (weight_grad_dot.hpp), up to kDotImages images per call, instead of a GEMM.
template <class T>
void conv2d_backward_weights(const T* x, const T* dy, T* dw, const Conv2dShape& s) {
  if (winograd::applies(s)) return winograd::backward_weights(x, dy, dw, s);
  const Window2d& g = s.window;
  const index_t L = s.positions(), ow = g.out_w(), oh = g.out_h();
  const index_t G = s.groups, Cg = s.out_per_group(), Pg = s.patch_per_group(), W = s.weight_size();
  const conv_detail::Tiling t = conv_detail::tiling(s);
  const bool banded = t.samples == 1 && !s.pointwise();
  const index_t bands = banded ? conv_detail::ceil_div(oh, t.rows) : 1;
  const index_t units = t.tiles * bands;
  if (units == 0) {
    std::fill(dw, dw + W, T(0));
    return;
  }
  const bool dot = Pg < Cg && Pg <= conv_detail::kShortPatch;
  const index_t chunks = conv_detail::weight_grad_chunks(units, W);
  // Chunk c sums units [units*c/chunks, units*(c+1)/chunks) into partial c (dw itself when
  // there is one chunk); its first GEMM overwrites (beta = 0), the others accumulate; the dot
  // products add onto a zeroed partial. (In the calling thread's workspace: fresh memory would
  // cost a page fault per 4 KiB.)
  T* partials = chunks > 1 ? thread_workspace().get<T>(kSlotShared0, static_cast<std::size_t>(chunks * W)) : nullptr;
  // acc (group gi's block) += d cols^T; d is Cg x k (leading dimension ldd), cols Pg x k
  // (leading dimension ldc), either in memory or as a PatchMatrix's panels.
  auto accumulate = [&](const T* d, index_t ldd, const T* cols, index_t ldc, index_t k, T beta, T* acc) {
    if (dot) weight_grad_dot<T>({d, ldd, 0, Cg, cols, ldc, 0, Pg, k, 1}, acc);
    else gemm(false, true, Cg, Pg, k, T(1), d, ldd, cols, ldc, beta, acc, Pg);
  };
  // At stride 1, when every unit goes through a PatchMatrix, the patch rows are read in place
  // (patch_rows.hpp), whatever the thread count (its sums are not the GEMM's), split between
  // the threads when the chunks are not. It sums each group's gradient transposed ([Pg][Cg]),
  // and each chunk transposes its sum once at its end.
  const bool in_place = !dot && patch_rows_applies<T>(g) && (t.samples > 1 || banded) &&
                        PatchMatrix<T>::fits(g, t.samples, t.samples > 1 ? oh : t.rows);
  const bool split = !conv_detail::units_split(chunks);
  auto accumulate_patches = [&](const T* d, index_t ldd, const PatchMatrix<T>& pm, index_t gi, index_t k, T beta,
                                T* acc) {
    if constexpr (std::is_same_v<T, float>) {
      if (in_place)
        return patch_rows_weight_grad(d, ldd, Cg, pm.padded, pm.tap + gi * Pg, Pg, pm.pos, k / ow, ow, beta, acc,
                                      split);
    }
    const PatchPanels<T> b{pm.padded, pm.pos, pm.tap + gi * Pg};  // B(l, k): patch row k at position l
    gemm(false, Cg, Pg, k, T(1), d, ldd, BSource<T>{&pack_patch_panels<T>, &b}, beta, acc, Pg);
  };
  // acc += the gradient from m images starting at x0, output rows [oy0, oy1) of each, with dy's
  // part as d (Cout rows of m * (oy1 - oy0) * ow positions, leading dimension ldd): through the
  // patch matrix's panels when its offsets fit, else through im2col.
  auto multiply = [&](const T* x0, index_t m, index_t oy0, index_t oy1, const T* d, index_t ldd, T beta, T* acc) {
    const index_t per_image = (oy1 - oy0) * ow, n = m * per_image;
    if (!dot && PatchMatrix<T>::fits(g, m, oy1 - oy0)) {
      const PatchMatrix<T> pm(x0, g, m, s.input_size(), oy0, oy1);
      for (index_t gi = 0; gi < G; ++gi) accumulate_patches(d + gi * Cg * ldd, ldd, pm, gi, n, beta, acc + gi * Cg * Pg);
      return;
    }
    T* cols = thread_workspace().get<T>(kSlotCaller0, static_cast<std::size_t>(G * Pg * n));
    for (index_t j = 0; j < m; ++j) im2col(x0 + j * s.input_size(), g, cols + j * per_image, T(0), n, oy0, oy1);
    for (index_t gi = 0; gi < G; ++gi) accumulate(d + gi * Cg * ldd, ldd, cols + gi * Pg * n, n, n, beta, acc + gi * Cg * Pg);
  };
  conv_detail::for_each_unit(chunks, [&](index_t c) {
    T* const sum = chunks > 1 ? partials + c * W : dw;
    if (dot) std::fill(sum, sum + W, T(0));
    const index_t first = units * c / chunks, last = units * (c + 1) / chunks;
    Workspace& ws = thread_workspace();
    T* const acc = in_place ? ws.get<T>(kSlotCaller2, static_cast<std::size_t>(W)) : sum;
    if (dot && t.samples > 1) {  // the chunk's images, kDotImages at a time: dy read in place
      const index_t patches = G * Pg * L;
      for (index_t i0 = t.first(first); i0 < t.first(last); i0 += conv_detail::kDotImages) {
        const index_t count = std::min(conv_detail::kDotImages, t.first(last) - i0);
        T* cols = ws.get<T>(kSlotCaller0, static_cast<std::size_t>(count * patches));
        for (index_t j = 0; j < count; ++j) im2col(x + (i0 + j) * s.input_size(), g, cols + j * patches, T(0), L);
        for (index_t gi = 0; gi < G; ++gi)
          weight_grad_dot<T>({dy + i0 * s.output_size() + gi * Cg * L, L, s.output_size(), Cg, cols + gi * Pg * L, L,
                              patches, Pg, L, count},
                             acc + gi * Cg * Pg);
      }
      return;
    }
    for (index_t u = first; u < last; ++u) {
      const T beta = u == first ? T(0) : T(1);
      if (t.samples > 1) {  // a tile of small images, their dy gathered into one matrix
        const index_t i0 = t.first(u), m = t.first(u + 1) - i0, n = m * L;
        T* grad = ws.get<T>(kSlotCaller1, static_cast<std::size_t>(s.out_channels * n));
        conv_detail::gather_images(dy + i0 * s.output_size(), m, s.out_channels, L, grad);
        multiply(x + i0 * s.input_size(), m, 0, oh, grad, n, beta, acc);
        continue;
      }
      const index_t i = u / bands;
      const T* xi = x + i * s.input_size();
      const T* dyi = dy + i * s.output_size();
      if (!banded) {  // pointwise: the image is its own patch matrix
        for (index_t gi = 0; gi < G; ++gi)
          accumulate(dyi + gi * Cg * L, L, xi + gi * Pg * L, L, L, beta, acc + gi * Cg * Pg);
        continue;
      }
      const index_t oy = (u % bands) * t.rows;  // a band of rows of one image; dy read in place
      multiply(xi, 1, oy, std::min(oy + t.rows, oh), dyi + oy * ow, L, beta, acc);
    }
    if (in_place)
      for (index_t gi = 0; gi < G; ++gi) {
        const T* from = acc + gi * Cg * Pg;
        T* to = sum + gi * Cg * Pg;
        for (index_t i = 0; i < Cg; ++i)
          for (index_t k = 0; k < Pg; ++k) to[i * Pg + k] = from[k * Cg + i];
      }
  });
  if (chunks == 1) return;
  conv_detail::add_partial_sums(partials, chunks, W);
  std::memcpy(dw, partials, static_cast<std::size_t>(W) * sizeof(T));
}

}  // namespace ink::kernels
