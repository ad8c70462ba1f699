// Winograd convolution F(2x2, 3x3) for 3x3, stride-1, undilated, ungrouped convolutions, in its
// three directions (Lavin & Gray 2016, "Fast Algorithms for Convolutional Neural Networks"):
// each 2x2 output tile is A^T [(G g G^T) . (B^T d B)] A, 16 multiplies per tile and channel pair
// instead of 36. Part of kernels/: raw pointers, no Tensor; called by conv.hpp for the shapes
// where it applies.
//
// The sixteen element-wise products over channels are sixteen GEMMs: for a unit of tiles,
// M[xi] (tiles x Cout) = V[xi] (tiles x Cin) * U[xi]^T, where V[xi] is the transformed input
// and U[xi] (Cout x Cin) the transformed weights, xi = 0..15 the point of the 4x4 transformed
// tile. The transforms run across channels, a whole vector of channels at a time: the input rows
// a unit reads are first staged channels-last ([row][column][channel], zero padded), so that a
// tile's 16 input values for 16 channels are 16 contiguous loads.
//
// The forward and backward-data use F(2x2, 3x3) and not F(4x4, 3x3) (4x fewer multiplies): its
// transforms are additions only, and its float error stays near the direct convolution's;
// F(4x4, 3x3) with the points 0, +-1, +-2 measured 1.2e-5 of the largest output over 512
// channels (a numpy model of the sums), above the 1e-5 the fast kernels are held to. The weight
// gradient, a sum over tiles rather than channels, takes F(4x4, 3x3) with the points 0, 1, -1,
// 2, -1/2 where it wins (weight_grad_f4; 1.5e-6 to 2.7e-6 measured): 36 points per 4x4 tile.
//
// Determinism: the units (runs of tile rows) and every sum's order are fixed by the shape; the
// weight gradient is summed in fixed chunks of units added in order.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "ink/core/config.hpp"
#include "ink/core/cpu_features.hpp"
#include "ink/kernels/conv_shape.hpp"
#include "ink/kernels/gemm.hpp"
#include "ink/kernels/gemm_in_place.hpp"
#include "ink/kernels/gemm_transpose.hpp"
#include "ink/kernels/vector_types.hpp"
#include "ink/kernels/workspace.hpp"

namespace ink::kernels::winograd {

// The forward's and backward-data's tiles, F(2x2, 3x3) (detail::F2x3; the weight gradient takes
// its tiling as a template parameter):
constexpr index_t kOut = 2;      // output tile side
constexpr index_t kIn = 4;       // input tile side: kOut + 3 - 1
constexpr index_t kPoints = 16;  // points of a transformed tile: kIn * kIn
// Tiles per unit of work, about: the unit's 16 GEMMs have this many rows (forward) or sum over
// this many tiles (weight gradient), and its transformed input and products (16 x tiles x
// channels each) stay near L2 for 64 channels. (256 for the weight gradient measured no faster
// on bench_conv's shape b.)
constexpr index_t kTilesPerUnit = 128;
// Multiply-adds of a unit's weight gradient (all its points' GEMMs) from which its units run one
// after the other, the threads sharing each unit, instead of in chunks with partial sums
// (backward_weights; 8 Mi per GEMM of F(2x2, 3x3)'s 16).
constexpr index_t kSplitUnitWork = index_t{128} << 20;
// The transforms work on vectors of 16 channels (AVX-512 floats), padded with zeros: below 16
// channels a vector is part padding, and the GEMMs' K or N too short to pay for the
// transforms. The im2col path takes those (no measurement below 32 channels yet).
constexpr index_t kMinChannels = 16;

// Whether the Winograd kernels compute this convolution (all three directions): a CPU with
// AVX2 and a 3x3, stride-1, undilated, ungrouped window.
inline bool applies(const Conv2dShape& s) {
  const Window2d& g = s.window;
  return active_isa() != Isa::generic && s.groups == 1 && g.kernel_h == 3 && g.kernel_w == 3 &&
         g.stride_h == 1 && g.stride_w == 1 && g.dilation_h == 1 && g.dilation_w == 1 && g.pad_h <= 2 &&
         g.pad_w <= 2 && g.out_h() >= 1 && g.out_w() >= 1 && g.channels >= kMinChannels &&
         s.out_channels >= kMinChannels;
}

namespace detail {

// A vector of channels, through GCC's vector extensions: 64 bytes (a zmm register) in the
// AVX-512 versions of the transforms, 32 (a ymm) in the AVX2 ones and in the weight transforms
// (run once per call). Measured on the 512-channel and 64-channel shapes of bench_conv, the
// AVX-512 transforms made the whole convolution up to 25% faster than running the AVX2 ones on
// the same CPU. There is no portable version: without AVX2, convolutions take the im2col path
// (applies() is false), which keeps the code every program compiles smaller.
template <class T, int Bytes = 32>
struct Chunk {
  typedef T type __attribute__((vector_size(Bytes)));
  static constexpr index_t lanes = Bytes / static_cast<index_t>(sizeof(T));
};
// Channels are padded to a multiple of the widest chunk.
template <class T>
constexpr index_t kChannelMultiple = Chunk<T, 64>::lanes;
#define INK_WINOGRAD_INLINE __attribute__((always_inline)) inline

template <class V, class T>
INK_WINOGRAD_INLINE void load(V& v, const T* p) {
  std::memcpy(&v, p, sizeof(V));
}
template <class V, class T>
INK_WINOGRAD_INLINE void store(T* p, const V& v) {
  std::memcpy(p, &v, sizeof(V));
}

// The element type of V, a vector of channels or a scalar: GCC multiplies a vector by a scalar
// of its own element type only.
template <class V>
struct Element {
  using type = V;
};
template <>
struct Element<Chunk<float, 32>::type> {
  using type = float;
};
template <>
struct Element<Chunk<double, 32>::type> {
  using type = double;
};
template <>
struct Element<Chunk<float, 64>::type> {
  using type = float;
};
template <>
struct Element<Chunk<double, 64>::type> {
  using type = double;
};

// The 1-D transforms of F(2, 3), applied to the columns and then the rows of a tile. V is a
// vector of channels or a scalar (tails). Each writes o[] from its input (distinct arrays).
// B^T d: the input tile.
struct InputTransform {
  template <class V>
  INK_WINOGRAD_INLINE static void apply(const V (&d)[4], V (&o)[4]) {
    o[0] = d[0] - d[2];
    o[1] = d[1] + d[2];
    o[2] = d[2] - d[1];
    o[3] = d[1] - d[3];
  }
};
// A^T m: the product tile back to 2 outputs.
struct OutputTransform {
  template <class V>
  INK_WINOGRAD_INLINE static void apply(const V (&m)[4], V (&o)[2]) {
    o[0] = m[0] + m[1] + m[2];
    o[1] = m[1] - m[2] - m[3];
  }
};
// G g: the 3 weights to 4 points.
struct WeightTransform {
  template <class V>
  INK_WINOGRAD_INLINE static void apply(const V (&g)[3], V (&o)[4]) {
    const typename Element<V>::type h(0.5);
    const V outer = g[0] * h + g[2] * h;
    o[0] = g[0];
    o[1] = outer + g[1] * h;
    o[2] = outer - g[1] * h;
    o[3] = g[2];
  }
};
// A dy: 2 output gradients to 4 points (the adjoint of OutputTransform).
struct GradOutputTransform {
  template <class V>
  INK_WINOGRAD_INLINE static void apply(const V (&d)[2], V (&o)[4]) {
    o[0] = d[0];
    o[1] = d[0] + d[1];
    o[2] = d[0] - d[1];
    o[3] = -d[1];
  }
};
// G^T u: 4 points back to the 3 weights (the adjoint of WeightTransform).
struct WeightGradTransform {
  template <class V>
  INK_WINOGRAD_INLINE static void apply(const V (&u)[4], V (&o)[3]) {
    const typename Element<V>::type h(0.5);
    const V inner = u[1] * h + u[2] * h;
    o[0] = u[0] + inner;
    o[1] = u[1] * h - u[2] * h;
    o[2] = inner + u[3];
  }
};

// The 1-D transforms of F(4, 3), used for the weight gradient only (weight_grad_f4): points
// 0, 1, -1, 2, -1/2 and infinity rather than the usual 0, +-1, +-2, which Barabasz et al. 2018
// ("Error analysis and improving the accuracy of Winograd convolution for deep neural networks")
// found more accurate for F(4, 3). Modelled in numpy (float32 against float64, random normal
// data): the weight gradient of bench_conv's e (256 x 256 channels, 196 tiles) 2.7e-6 of the
// largest value with these points and 8.9e-6 with 0, +-1, +-2; f (512 channels, 49 tiles)
// 1.9e-6 and 5.7e-6; c (64 channels, 3136 tiles) 1.2e-5 and 3.8e-5. With a = d4 - d2 and
// b = d1 - d3, B^T d is:
struct InputTransform4 {
  template <class V>
  INK_WINOGRAD_INLINE static void apply(const V (&d)[6], V (&o)[6]) {
    using E = typename Element<V>::type;
    const V a = d[4] - d[2], b = d[1] - d[3];
    o[0] = d[0] + a - d[2] + b * E(1.5);
    o[1] = a - b - (d[2] + d[3]) * E(1.5);
    o[2] = a + b + (d[2] - d[3]) * E(1.5);
    o[3] = a - b * E(0.5);
    o[4] = a + b * E(2);
    o[5] = d[5] - a * E(1.5) + b - d[3];
  }
};
// A dy: 4 output gradients to the 6 points (the adjoint of F(4, 3)'s output transform A^T,
// whose columns are the powers of each point).
struct GradOutputTransform4 {
  template <class V>
  INK_WINOGRAD_INLINE static void apply(const V (&d)[4], V (&o)[6]) {
    using E = typename Element<V>::type;
    const V even = d[0] + d[2], odd = d[1] + d[3];
    o[0] = d[0];
    o[1] = even + odd;
    o[2] = even - odd;
    o[3] = d[0] + d[2] * E(4) + (d[1] + d[3] * E(4)) * E(2);
    o[4] = d[0] + d[2] * E(0.25) - (d[1] + d[3] * E(0.25)) * E(0.5);
    o[5] = d[3];
  }
};
// G^T u: the 6 points back to the 3 weights; G's rows are (1, 0, 0), -(1, 1, 1) / 3,
// (1, -1, 1) / 3, (1, 2, 4) / 15, (-16, 8, -4) / 15 and (0, 0, 1).
struct WeightGradTransform4 {
  template <class V>
  INK_WINOGRAD_INLINE static void apply(const V (&u)[6], V (&o)[3]) {
    using E = typename Element<V>::type;
    const E third = E(1) / E(3), fifteenth = E(1) / E(15);
    const V minus = (u[2] - u[1]) * third, plus = (u[1] + u[2]) * third;
    o[0] = u[0] + minus + (u[3] - u[4] * E(16)) * fifteenth;
    o[1] = (u[3] * E(2) + u[4] * E(8)) * fifteenth - plus;
    o[2] = minus + (u[3] - u[4]) * (E(4) * fifteenth) + u[5];
  }
};

// A tiling: output tiles of out x out, read from in x in inputs, transformed to points = in x in
// values, and its transforms. F(2x2, 3x3) in all three directions; F(4x4, 3x3) for the weight
// gradient where it wins and its float error stays small (weight_grad_f4).
struct F2x3 {
  static constexpr index_t out = 2, in = 4, points = 16;
  using Input = InputTransform;
  using Output = OutputTransform;
  using GradOutput = GradOutputTransform;
  using WeightGrad = WeightGradTransform;
};
struct F4x3 {
  static constexpr index_t out = 4, in = 6, points = 36;
  using Input = InputTransform4;
  using GradOutput = GradOutputTransform4;
  using WeightGrad = WeightGradTransform4;
};

// out = F in F^T: the 1-D transform F (P values to Q) along each column of the P x P tile, then
// along each row of the result.
template <class F, int P, int Q, class V>
INK_WINOGRAD_INLINE void transform_2d(const V (&in)[P][P], V (&out)[Q][Q]) {
  V cols[Q][P];  // cols[a][j] = (F in[.][j])[a]
#pragma GCC unroll 8
  for (int j = 0; j < P; ++j) {
    V column[P], t[Q];
#pragma GCC unroll 8
    for (int i = 0; i < P; ++i) column[i] = in[i][j];
    F::apply(column, t);
#pragma GCC unroll 8
    for (int a = 0; a < Q; ++a) cols[a][j] = t[a];
  }
#pragma GCC unroll 8
  for (int a = 0; a < Q; ++a) F::apply(cols[a], out[a]);
}

// Input rows [y0, y0 + rows) x columns [x0, x0 + cols) of a [C, H, W] image, channels last and
// zero outside the image and for channels C..Cp-1: dst[r][q][c]. Eight channels at a time go
// through gemm_transpose::rows8 (the GEMM packing's 8x8 register transpose, AVX2).
template <class T>
void stage_rows(const T* image, index_t C, index_t H, index_t W, index_t y0, index_t x0, index_t rows, index_t cols,
                index_t Cp, T* dst) {
  const index_t q0 = std::clamp<index_t>(-x0, 0, cols), q1 = std::clamp<index_t>(W - x0, q0, cols);
  for (index_t r = 0; r < rows; ++r) {
    const index_t y = y0 + r;
    T* row = dst + r * cols * Cp;
    if (y < 0 || y >= H || q0 == q1) {
      std::fill(row, row + cols * Cp, T(0));
      continue;
    }
    std::fill(row, row + q0 * Cp, T(0));
    std::fill(row + q1 * Cp, row + cols * Cp, T(0));
    const T* src = image + y * W + x0 + q0;
    index_t c = 0;
    for (; c + 8 <= C; c += 8) gemm_transpose::rows8(src + c * H * W, H * W, q1 - q0, row + q0 * Cp + c, Cp);
    for (; c < C; ++c)
      for (index_t q = q0; q < q1; ++q) row[q * Cp + c] = src[c * H * W + q - q0];
    if (C < Cp)
      for (index_t q = q0; q < q1; ++q) std::fill(row + q * Cp + C, row + q * Cp + Cp, T(0));
  }
}

// The other way: one row of `cols` channels-last values ([cols][Kp], readable up to cols
// rounded up to 8) written to row y of each of the K planes of a [K, OH, OW] image (cols <= OW),
// eight columns at a time through rows8; a last group of fewer than 8 goes through `spare`
// (8 * K values).
template <class T>
void unstage_row(const T* row, index_t cols, index_t Kp, index_t K, index_t OH, index_t OW, index_t y, T* image,
                 T* spare) {
  T* out = image + y * OW;
  index_t q = 0;
  for (; q + 8 <= cols; q += 8) gemm_transpose::rows8(row + q * Kp, Kp, K, out + q, OH * OW);
  if (q == cols) return;
  gemm_transpose::rows8(row + q * Kp, Kp, K, spare, index_t{8});
  for (index_t k = 0; k < K; ++k) std::copy(spare + k * 8, spare + k * 8 + (cols - q), out + k * OH * OW + q);
}

// The hot loops, one body each, compiled per ISA by the wrappers below.

// One vector of channels through F: a P x P tile read from `in` (rows in_row apart, columns
// in_col), transformed, its Q x Q values written to `out` (rows out_row apart, columns out_col).
template <class F, int P, int Q, class Vec, class T>
INK_WINOGRAD_INLINE void transform_tile(const T* in, index_t in_row, index_t in_col, T* out, index_t out_row,
                                        index_t out_col) {
  Vec d[P][P], v[Q][Q];
#pragma GCC unroll 8
  for (int i = 0; i < P; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < P; ++j) load(d[i][j], in + i * in_row + j * in_col);
  transform_2d<F>(d, v);
#pragma GCC unroll 8
  for (int a = 0; a < Q; ++a)
#pragma GCC unroll 8
    for (int b = 0; b < Q; ++b) store(out + a * out_row + b * out_col, v[a][b]);
}

// V[xi][t][c] for the unit's tiles t = lr * tw + tx: stage holds, per tile row lr, the Tl::in
// input rows it reads ([lr][Tl::in][Tl::out * tw + 2][Cp]).
template <class Tl, class T, int Bytes>
INK_WINOGRAD_INLINE void input_transform_body(const T* stage, index_t rows, index_t tw, index_t Cp, T* V, index_t Tb) {
  using Vec = typename Chunk<T, Bytes>::type;
  constexpr int n = Tl::in;
  const index_t ws = Tl::out * tw + 2;
  for (index_t lr = 0; lr < rows; ++lr)
    for (index_t tx = 0; tx < tw; ++tx) {
      const T* base = stage + (lr * n * ws + Tl::out * tx) * Cp;
      T* out = V + (lr * tw + tx) * Cp;
      for (index_t c = 0; c < Cp; c += Chunk<T, Bytes>::lanes)
        transform_tile<typename Tl::Input, n, n, Vec>(base + c, ws * Cp, Cp, out + c, n * Tb * Cp, Tb * Cp);
    }
}

// Tile row lr of the unit: out[i][m tx + j][k] (channels last, [m][m * tw][Kp], m = Tl::out)
// from M[xi][t][k].
template <class Tl, class T, int Bytes>
INK_WINOGRAD_INLINE void output_transform_body(const T* M, index_t Tb, index_t Kp, index_t lr, index_t tw, T* out) {
  using Vec = typename Chunk<T, Bytes>::type;
  constexpr int m = Tl::out, n = Tl::in;
  const index_t ws = m * tw;
  for (index_t tx = 0; tx < tw; ++tx) {
    const T* in = M + (lr * tw + tx) * Kp;
    T* o = out + m * tx * Kp;
    for (index_t k = 0; k < Kp; k += Chunk<T, Bytes>::lanes)
      transform_tile<typename Tl::Output, n, m, Vec>(in + k, n * Tb * Kp, Tb * Kp, o + k, ws * Kp, Kp);
  }
}

// Yg[xi][t][k] = (A dy_tile A^T)[xi]: stage holds, per tile row, its Tl::out output-gradient
// rows ([lr][Tl::out][Tl::out * tw][Kp], zero beyond the output).
template <class Tl, class T, int Bytes>
INK_WINOGRAD_INLINE void grad_output_transform_body(const T* stage, index_t rows, index_t tw, index_t Kp, T* Yg,
                                                    index_t Tb) {
  using Vec = typename Chunk<T, Bytes>::type;
  constexpr int m = Tl::out, n = Tl::in;
  const index_t ws = m * tw;
  for (index_t lr = 0; lr < rows; ++lr)
    for (index_t tx = 0; tx < tw; ++tx) {
      const T* base = stage + (lr * m * ws + m * tx) * Kp;
      T* out = Yg + (lr * tw + tx) * Kp;
      for (index_t k = 0; k < Kp; k += Chunk<T, Bytes>::lanes)
        transform_tile<typename Tl::GradOutput, m, n, Vec>(base + k, ws * Kp, Kp, out + k, n * Tb * Kp, Tb * Kp);
    }
}

// name<Tl>(...): the body at the active ISA, for tiling Tl.
#define INK_WINOGRAD_VERSIONS(name, params, args)                       \
  template <class Tl, class T>                                         \
  INK_TARGET_AVX512 void name##_avx512 params {                        \
    name##_body<Tl, T, 64> args;                                       \
  }                                                                    \
  template <class Tl, class T>                                         \
  INK_TARGET_AVX2 void name##_avx2 params {                            \
    name##_body<Tl, T, 32> args;                                       \
  }                                                                    \
  template <class Tl, class T>                                         \
  void name params {                                                   \
    if (active_isa() == Isa::avx512) return name##_avx512<Tl, T> args; \
    return name##_avx2<Tl, T> args;                                    \
  }

INK_WINOGRAD_VERSIONS(input_transform, (const T* stage, index_t rows, index_t tw, index_t Cp, T* V, index_t Tb),
                      (stage, rows, tw, Cp, V, Tb))
INK_WINOGRAD_VERSIONS(output_transform, (const T* M, index_t Tb, index_t Kp, index_t lr, index_t tw, T* out),
                      (M, Tb, Kp, lr, tw, out))
INK_WINOGRAD_VERSIONS(grad_output_transform, (const T* stage, index_t rows, index_t tw, index_t Kp, T* Yg, index_t Tb),
                      (stage, rows, tw, Kp, Yg, Tb))
#undef INK_WINOGRAD_VERSIONS

// Where weight pair p's 9 taps start in w: w[p], or for the adjoint pairs p = c * K + k,
// w[k][c] (read flipped, tap 8 - e for e).
INK_WINOGRAD_INLINE index_t pair_offset(index_t K, index_t C, bool adjoint, index_t p) {
  return 9 * (adjoint ? (p % K) * C + p / K : p);
}
// Tap e = i * 3 + j of weight pair p: w[p][e], or for the adjoint pairs the flipped w[k][c][8 - e].
template <class T>
INK_WINOGRAD_INLINE T weight_tap(const T* w, index_t K, index_t C, bool adjoint, index_t p, int e) {
  return w[pair_offset(K, C, adjoint, p) + (adjoint ? 8 - e : e)];
}

// A vector of src[idx[l]], l = 0 .. lanes - 1.
template <class T>
using LaneIndex = std::conditional_t<Chunk<T>::lanes == 8, simd::i32x8, simd::i32x4>;
template <class T>
INK_TARGET_AVX2 INK_WINOGRAD_INLINE typename Chunk<T>::type gather_lanes(const T* src, LaneIndex<T> idx) {
  using Vec = typename Chunk<T>::type;
  if constexpr (Chunk<T>::lanes == 8) {
    const simd::i32x8 all = simd::i32x8{} == simd::i32x8{};
    return simd::mask_gather(Vec{}, src, idx, (Vec)all);
  } else {
    static_assert(Chunk<T>::lanes == 4, "AVX2 chunks hold 8 floats or 4 doubles");
    const simd::i64x4 all = simd::i64x4{} == simd::i64x4{};
    return simd::mask_gather(Vec{}, src, idx, (Vec)all);
  }
}

// U[xi][p] = (G g_p G^T)[xi] for the pairs of vector groups [first, last) of
// weight_transform below: group q is the `lanes` pairs from q * lanes (the last group may be
// short, done one pair at a time, as every group of a weight too large for 32-bit gather
// indices) or, when `by_rows` (the adjoint, K a multiple of 2 * lanes),
// the pairs c * K + kb * 2 * lanes + h * lanes + l for q = (kb * C + c) * 2 + h: two vectors
// per c, so that each 64-byte line of U is written whole. Each tap of a vector is one gather
// (lane by lane, the scalar loads and the vector's reload from the stack cost about three
// times as much).
template <class T>
INK_TARGET_AVX2 void weight_transform_groups(const T* w, index_t K, index_t C, bool adjoint, bool by_rows,
                                             index_t first, index_t last, T* U) {
  using Vec = typename Chunk<T>::type;
  constexpr index_t lanes = Chunk<T>::lanes;
  const index_t P = K * C;
  // The gathers' indices are 32-bit offsets from w (9 P values); beyond that, pair by pair.
  const bool gather = 9 * P <= INT32_MAX;
  for (index_t q = first; q < last; ++q) {
    const index_t c = q / 2 % C, k0 = (q / 2 / C) * 2 * lanes + q % 2 * lanes;
    const index_t p = by_rows ? c * K + k0 : q * lanes;
    if (gather && p + lanes <= P) {
      // Lane l's taps start at w + idx[l] (flipped for the adjoint): row k0 + l's at column c
      // (by_rows, no division by K), pair p + l's, or the adjoint pair p + l's.
      LaneIndex<T> idx;
      for (index_t l = 0; l < lanes; ++l)
        idx[l] = static_cast<int>(by_rows ? 9 * ((k0 + l) * C + c) : pair_offset(K, C, adjoint, p + l));
      Vec g[3][3], u[4][4];
      for (int e = 0; e < 9; ++e) g[e / 3][e % 3] = gather_lanes<T>(w + (adjoint ? 8 - e : e), idx);
      transform_2d<WeightTransform>(g, u);
      for (int a = 0; a < 16; ++a) store(U + a * P + p, u[a / 4][a % 4]);
      continue;
    }
    for (index_t r = p; r < std::min(P, p + lanes); ++r) {
      T g[3][3], u[4][4];
      for (int e = 0; e < 9; ++e) g[e / 3][e % 3] = weight_tap(w, K, C, adjoint, r, e);
      transform_2d<WeightTransform>(g, u);
      for (int a = 0; a < 16; ++a) U[a * P + r] = u[a / 4][a % 4];
    }
  }
}

// U[xi][p] = (G g_p G^T)[xi] for the P = K * C weight pairs p = k * C + c of w [K][C][3][3], or,
// with `adjoint`, for the pairs p = c * K + k of the flipped, transposed weights
// w'[c][k][i][j] = w[k][c][2 - i][2 - j] (the backward-data convolution's). U holds 16 values
// per pair (16 MiB for 512 x 512 channels), so large transforms are split between the threads
// (each pair's values do not depend on the split). A vector of the adjoint's pairs is `lanes`
// consecutive k at one c, each lane a different row of w; the vectors are taken two at a time
// (a 64-byte line of U), c after c for one block of rows, whose lines of w then stay in L1,
// rather than in pair order, which read a line from every one of the K rows for each vector and
// divided by K for every tap (docs/kernels.md, tuning log 33).
template <class T>
void weight_transform(const T* w, index_t K, index_t C, bool adjoint, T* U) {
  constexpr index_t lanes = Chunk<T>::lanes;
  const bool by_rows = adjoint && K % (2 * lanes) == 0;
  const index_t groups = conv_detail::ceil_div(K * C, lanes);
  // Whole blocks of rows per thread when by_rows. Split only from 32 Ki pairs (16 Ki per
  // thread, about 0.2 ms of work; 512 x 512 channels are 256 Ki), so that a small transform
  // does not wake the second thread for microseconds of work.
  const index_t unit = by_rows ? 2 * C : 1, grain = std::max<index_t>(1, 16384 / (lanes * unit));
  parallel_for(0, groups / unit, grain, [&](index_t b, index_t e) {
    weight_transform_groups(w, K, C, adjoint, by_rows, b * unit, std::min(groups, e * unit), U);
  });
}

// dw[p][3][3] = (G^T dU_p G) for the pairs [first, last) of dU[xi][p] (P pairs p = k * C + c).
template <class Tl, class T>
INK_TARGET_AVX2 void weight_grad_transform_pairs(const T* dU, index_t P, index_t first, index_t last, T* dw) {
  using Vec = typename Chunk<T>::type;
  constexpr index_t lanes = Chunk<T>::lanes;
  constexpr int n = Tl::in;
  using WeightGrad = typename Tl::WeightGrad;
  index_t p = first;
  for (; p + lanes <= last; p += lanes) {
    Vec u[n][n], g[3][3];
#pragma GCC unroll 36
    for (int a = 0; a < n * n; ++a) load(u[a / n][a % n], dU + a * P + p);
    transform_2d<WeightGrad>(u, g);
    for (index_t l = 0; l < lanes; ++l)
      for (int e = 0; e < 9; ++e) dw[(p + l) * 9 + e] = g[e / 3][e % 3][l];
  }
  for (; p < last; ++p) {
    T u[n][n], g[3][3];
    for (int a = 0; a < n * n; ++a) u[a / n][a % n] = dU[a * P + p];
    transform_2d<WeightGrad>(u, g);
    for (int e = 0; e < 9; ++e) dw[p * 9 + e] = g[e / 3][e % 3];
  }
}
// All P pairs, split between the threads in whole vectors of pairs: dU is 16-36 values per pair
// (17-38 MB for 512 x 512 channels), and on one thread its reading was 29% of f's weight
// gradient at 2 threads, the other thread waiting.
template <class Tl, class T>
void weight_grad_transform(const T* dU, index_t P, T* dw) {
  constexpr index_t lanes = Chunk<T>::lanes;
  const index_t groups = conv_detail::ceil_div(P, lanes);
  parallel_for(0, groups, std::max<index_t>(1, 4096 / lanes), [&](index_t b, index_t e) {
    weight_grad_transform_pairs<Tl>(dU, P, b * lanes, std::min(P, e * lanes), dw);
  });
}

// The tiling of one convolution (forward sense: `in_c` channels of H x W in, `out_c` of OH x OW
// out) into Tl's tiles: tile rows of all images, numbered r = n * th + ty, cut into units of
// rows_per_unit.
struct Plan {
  index_t batch, in_c, out_c, H, W, pad_h, pad_w, OH, OW;
  index_t th, tw, rows_per_unit, units, in_cp, out_cp;
  index_t rows_of(index_t u) const { return std::min(rows_per_unit, batch * th - u * rows_per_unit); }
};
template <class T, class Tl = F2x3>
Plan plan(index_t batch, index_t in_c, index_t H, index_t W, index_t out_c, index_t pad_h, index_t pad_w) {
  Plan p{batch, in_c, out_c, H, W, pad_h, pad_w, H + 2 * pad_h - 2, W + 2 * pad_w - 2, 0, 0, 0, 0, 0, 0};
  p.th = conv_detail::ceil_div(p.OH, Tl::out);
  p.tw = conv_detail::ceil_div(p.OW, Tl::out);
  // Units of at most kTilesPerUnit tiles (or one tile row), then rows spread evenly over that
  // many units: 14 tile rows of 14 tiles went 10 + 4 rows, which held two threads to 1.4x.
  const index_t rows = batch * p.th;
  const index_t max_rows = std::clamp<index_t>(conv_detail::ceil_div(kTilesPerUnit, p.tw), 1, rows);
  p.rows_per_unit = conv_detail::ceil_div(rows, conv_detail::ceil_div(rows, max_rows));
  p.units = conv_detail::ceil_div(rows, p.rows_per_unit);
  const index_t lanes = kChannelMultiple<T>;
  p.in_cp = conv_detail::ceil_div(in_c, lanes) * lanes;
  p.out_cp = conv_detail::ceil_div(out_c, lanes) * lanes;
  return p;
}

// Stages the input rows unit u reads and transforms them into V ([16][Tb][in_cp]).
template <class T>
void transform_unit_input(const T* x, const Plan& p, index_t u, T* stage, T* V) {
  const index_t rows = p.rows_of(u), r0 = u * p.rows_per_unit, ws = 2 * p.tw + 2;
  for (index_t lr = 0; lr < rows; ++lr) {
    const index_t n = (r0 + lr) / p.th, ty = (r0 + lr) % p.th;
    stage_rows(x + n * p.in_c * p.H * p.W, p.in_c, p.H, p.W, kOut * ty - p.pad_h, -p.pad_w, kIn, ws, p.in_cp,
               stage + lr * kIn * ws * p.in_cp);
  }
  input_transform<F2x3>(stage, rows, p.tw, p.in_cp, V, rows * p.tw);
}

// U^T ([16][in_c][out_c] of U's [16][out_c][in_c]) packed as the GEMM's B panels for
// gemm_a_rows, in_c being one K slice: point xi's panels at panels + xi * per_point; split
// between the threads by points. Then the tile offsets of V's rows: rows[t] = t * in_cp for the
// largest unit. In the calling thread's kSlotShared0.
template <class T>
struct PackedU {
  const T* panels;
  const std::int32_t* rows;
  index_t per_point;
};
template <class T>
PackedU<T> pack_u(const T* U, const Plan& p) {
  const in_place_detail::Kernels<T> k = in_place_detail::active<T>();
  const index_t per_point = p.in_c * conv_detail::ceil_div(p.out_c, k.NR) * k.NR, tiles = p.rows_per_unit * p.tw;
  static_assert(sizeof(std::int32_t) <= sizeof(T));
  T* packed = thread_workspace().get<T>(kSlotShared0, static_cast<std::size_t>(kPoints * per_point + tiles));
  auto* rows = reinterpret_cast<std::int32_t*>(packed + kPoints * per_point);
  for (index_t t = 0; t < tiles; ++t) rows[t] = static_cast<std::int32_t>(t * p.in_cp);
  parallel_for(0, kPoints, 1, [&](index_t first, index_t last) {
    for (index_t xi = first; xi < last; ++xi)
      k.pack_b(true, U + xi * p.out_c * p.in_c, p.in_c, 0, p.in_c, 0, p.out_c, packed + xi * per_point);
  });
  return {packed, rows, per_point};
}

// y = conv(x, w) with U the transformed weights ([16][out_c][in_c], weight_transform). Each
// unit's 16 products M[xi] = V[xi] U[xi]^T: in float on AVX-512 / AVX2, with V's rows read in
// place (gemm_in_place.hpp) and U^T packed once per call, when in_c is one K slice of the GEMM
// (up to 256 channels: f, with 512 in two slices, ran 13-22% slower this way, docs/kernels.md)
// and the units alone keep the threads busy; else by the GEMM, which packs V and U^T for every
// unit and splits between the threads. The same bits either way (one K slice, each element's
// FMA chain in the same order).
template <class T>
void convolve(const T* x, const T* U, T* y, const Plan& p) {
  bool in_place = false;
  PackedU<T> packed{};
  if constexpr (std::is_same_v<T, float>) {
    in_place = in_place_available<T>() &&
               p.in_c <= gemm_detail::slice_depth(gemm_detail::active_kernel<T>(), p.in_c) &&
               conv_detail::units_fill_threads(p.units);
    if (in_place) packed = pack_u(U, p);
  }
  conv_detail::for_each_unit(p.units, [&](index_t u) {
    const index_t rows = p.rows_of(u), Tb = rows * p.tw;
    Workspace& ws = thread_workspace();
    T* stage = ws.get<T>(kSlotWindow, static_cast<std::size_t>(rows * kIn * (2 * p.tw + 2) * p.in_cp));
    T* V = ws.get<T>(kSlotCaller0, static_cast<std::size_t>(kPoints * Tb * p.in_cp));
    T* M = ws.get<T>(kSlotCaller1, static_cast<std::size_t>(kPoints * Tb * p.out_cp));
    transform_unit_input(x, p, u, stage, V);
    for (index_t xi = 0; xi < kPoints; ++xi) {
      if constexpr (std::is_same_v<T, float>) {
        if (in_place) {
          gemm_a_rows(Tb, p.out_c, p.in_c, V + xi * Tb * p.in_cp, packed.rows, packed.panels + xi * packed.per_point,
                      T(0), M + xi * Tb * p.out_cp, p.out_cp);
          continue;
        }
      }
      gemm(false, true, Tb, p.out_c, p.in_c, T(1), V + xi * Tb * p.in_cp, p.in_cp, U + xi * p.out_c * p.in_c, p.in_c,
           T(0), M + xi * Tb * p.out_cp, p.out_cp);
    }
    // Each tile row's outputs, channels last, then into the NCHW planes (the rows and columns
    // that exist: the last tiles may overhang the output).
    // (8 columns more than a tile row's 2 * tw, for unstage_row's last group, then its spare.)
    const index_t row_values = kOut * 2 * p.tw * p.out_cp, pad = 8 * p.out_cp;
    T* out = ws.get<T>(kSlotCaller2, static_cast<std::size_t>(row_values + pad + 8 * p.out_c));
    for (index_t lr = 0; lr < rows; ++lr) {
      const index_t r = u * p.rows_per_unit + lr, n = r / p.th, oy = kOut * (r % p.th);
      output_transform<F2x3>(M, Tb, p.out_cp, lr, p.tw, out);
      for (index_t i = 0; i < std::min<index_t>(kOut, p.OH - oy); ++i)
        unstage_row(out + i * 2 * p.tw * p.out_cp, p.OW, p.out_cp, p.out_c, p.OH, p.OW, oy + i,
                    y + n * p.out_c * p.OH * p.OW, out + row_values + pad);
    }
  });
}

// Transforms tile rows [lr0, lr1) of unit u of a weight gradient in Tl's tiles: x's into V
// ([points][Tb][in_cp]) and dy's into Yg ([points][Tb][out_cp]), a tile row at a time through
// the calling thread's stage (kSlotWindow), so that threads can share a unit's rows.
template <class Tl, class T>
void transform_weight_grad_rows(const T* x, const T* dy, const Plan& p, index_t u, index_t lr0, index_t lr1, T* V,
                                T* Yg) {
  const index_t Tb = p.rows_of(u) * p.tw, r0 = u * p.rows_per_unit, in_w = Tl::out * p.tw + 2;
  T* stage =
      thread_workspace().get<T>(kSlotWindow, static_cast<std::size_t>(Tl::in * in_w * std::max(p.in_cp, p.out_cp)));
  for (index_t lr = lr0; lr < lr1; ++lr) {
    const index_t n = (r0 + lr) / p.th, ty = (r0 + lr) % p.th;
    stage_rows(x + n * p.in_c * p.H * p.W, p.in_c, p.H, p.W, Tl::out * ty - p.pad_h, -p.pad_w, Tl::in, in_w, p.in_cp,
               stage);
    input_transform<Tl>(stage, index_t{1}, p.tw, p.in_cp, V + lr * p.tw * p.in_cp, Tb);
    stage_rows(dy + n * p.out_c * p.OH * p.OW, p.out_c, p.OH, p.OW, Tl::out * ty, index_t{0}, Tl::out, Tl::out * p.tw,
               p.out_cp, stage);
    grad_output_transform<Tl>(stage, index_t{1}, p.tw, p.out_cp, Yg + lr * p.tw * p.out_cp, Tb);
  }
}

#undef INK_WINOGRAD_INLINE
}  // namespace detail

// y[N, Cout, OH, OW] = conv(x, w), as conv2d_forward; requires applies(s).
template <class T>
void forward(const T* x, const T* w, T* y, const Conv2dShape& s) {
  const Window2d& g = s.window;
  const detail::Plan p = detail::plan<T>(s.batch, g.channels, g.height, g.width, s.out_channels, g.pad_h, g.pad_w);
  T* U = thread_workspace().get<T>(kSlotShared1, static_cast<std::size_t>(kPoints * s.out_channels * g.channels));
  detail::weight_transform(w, s.out_channels, g.channels, false, U);
  detail::convolve(x, U, y, p);
}

// dx[N, Cin, H, W] from dy, as conv2d_backward_data: the convolution of dy, padded by 2 - pad,
// with the flipped weights, input and output channels swapped; requires applies(s).
template <class T>
void backward_data(const T* dy, const T* w, T* dx, const Conv2dShape& s) {
  const Window2d& g = s.window;
  const detail::Plan p =
      detail::plan<T>(s.batch, s.out_channels, g.out_h(), g.out_w(), g.channels, 2 - g.pad_h, 2 - g.pad_w);
  T* U = thread_workspace().get<T>(kSlotShared1, static_cast<std::size_t>(kPoints * s.out_channels * g.channels));
  detail::weight_transform(w, s.out_channels, g.channels, true, U);
  detail::convolve(dy, U, dx, p);
}

// Whether the weight gradient takes F(4x4, 3x3) tiles (36 products for 16 outputs, 1.78x fewer
// multiplies than F(2x2, 3x3)'s 16 for 4): 64 channels or more each way, and outputs that 4x4
// tiles cover without more overhang than 2x2 ones have. Measured (weight gradient alone, F(2x2)
// against F(4x4), docs/kernels.md tuning log 51): F(4x4) 1.1-1.7x as fast on 1 x 64 x 56 x 56 to
// 1 x 512 x 28 x 28 and 16 x 64 x 28 x 28, but 0.85-1.0x on 14 x 14 images (16 x 16 of tiles,
// 31% overhang) even at 256 channels. Its float error: 1.5e-6 to 2.7e-6 of the largest value
// against a double reference on those shapes, up to 64 x 64 x 56 x 56 (F(2x2): 4e-7 to 5e-7),
// not growing with the tile count, since units are summed apart before they are added.
constexpr index_t kF4MinChannels = 64;
inline bool weight_grad_f4(const Conv2dShape& s) {
  const Window2d& g = s.window;
  auto covered = [&](index_t side) {
    return conv_detail::ceil_div(g.out_h(), side) * conv_detail::ceil_div(g.out_w(), side) * side * side;
  };
  return std::min(g.channels, s.out_channels) >= kF4MinChannels && 10 * covered(4) <= 11 * covered(2);
}

namespace detail {

// backward_weights in Tl's tiles: per unit, dU[xi] (Cout x Cin) += Yg[xi]^T V[xi] over its
// tiles; then dw = G^T dU G.
template <class Tl, class T>
void backward_weights_tiled(const T* x, const T* dy, T* dw, const Conv2dShape& s) {
  const Window2d& g = s.window;
  const Plan p = plan<T, Tl>(s.batch, g.channels, g.height, g.width, s.out_channels, g.pad_h, g.pad_w);
  constexpr index_t points = Tl::points;
  const index_t K = s.out_channels, C = g.channels, P = K * C, UW = points * P;
  // unit u's GEMMs: acc[xi] (K x C) = beta acc[xi] + Yg[xi]^T V[xi], for points [xi0, xi1).
  auto multiply = [&](index_t u, const T* V, const T* Yg, T beta, T* acc, index_t xi0, index_t xi1) {
    const index_t Tb = p.rows_of(u) * p.tw;
    for (index_t xi = xi0; xi < xi1; ++xi)
      gemm(true, false, K, C, Tb, T(1), Yg + xi * Tb * p.out_cp, p.out_cp, V + xi * Tb * p.in_cp, p.in_cp, beta,
           acc + xi * P, C);
  };
  // Units whose GEMMs are large (e, f: 256-512 channels each way) run in turn into one sum, the
  // threads sharing each unit: its transforms by tile rows, then its GEMMs by points (each
  // point's sum is one thread's, so nothing is added across threads). A chunk's partial sums of
  // a 4-16 MB transformed weight, written and then added, held two threads to 1.4x on f; each
  // GEMM split between the threads instead, with the transforms on one, to 1.05x on e.
  if (K * C * p.rows_per_unit * p.tw * points >= kSplitUnitWork) {
    const index_t Tmax = p.rows_per_unit * p.tw;
    T* V = thread_workspace().get<T>(kSlotShared1, static_cast<std::size_t>(points * Tmax * (p.in_cp + p.out_cp)));
    T* Yg = V + points * Tmax * p.in_cp;
    T* acc = thread_workspace().get<T>(kSlotShared0, static_cast<std::size_t>(UW));
    for (index_t u = 0; u < p.units; ++u) {
      parallel_for(0, p.rows_of(u), 1, [&](index_t lr0, index_t lr1) {
        transform_weight_grad_rows<Tl>(x, dy, p, u, lr0, lr1, V, Yg);
      });
      parallel_for(0, points, 1, [&](index_t xi0, index_t xi1) { multiply(u, V, Yg, T(u > 0), acc, xi0, xi1); });
    }
    weight_grad_transform<Tl>(acc, P, dw);
    return;
  }
  // Otherwise units are summed in fixed chunks, split between the threads, and the chunks'
  // partial sums added in order.
  const index_t chunks = conv_detail::weight_grad_chunks(p.units, UW);
  T* partials = thread_workspace().get<T>(kSlotShared0, static_cast<std::size_t>(chunks * UW));
  conv_detail::for_each_unit(chunks, [&](index_t chunk) {
    const index_t first = p.units * chunk / chunks, last = p.units * (chunk + 1) / chunks;
    Workspace& ws = thread_workspace();
    const index_t Tmax = p.rows_per_unit * p.tw;
    T* V = ws.get<T>(kSlotCaller0, static_cast<std::size_t>(points * Tmax * p.in_cp));
    T* Yg = ws.get<T>(kSlotCaller1, static_cast<std::size_t>(points * Tmax * p.out_cp));
    for (index_t u = first; u < last; ++u) {
      transform_weight_grad_rows<Tl>(x, dy, p, u, 0, p.rows_of(u), V, Yg);
      multiply(u, V, Yg, T(u > first), partials + chunk * UW, 0, points);
    }
  });
  conv_detail::add_partial_sums(partials, chunks, UW);
  weight_grad_transform<Tl>(partials, P, dw);
}

}  // namespace detail

// dw[Cout, Cin, 3, 3] from x and dy, as conv2d_backward_weights; requires applies(s).
template <class T>
void backward_weights(const T* x, const T* dy, T* dw, const Conv2dShape& s) {
  if (weight_grad_f4(s)) return detail::backward_weights_tiled<detail::F4x3>(x, dy, dw, s);
  detail::backward_weights_tiled<detail::F2x3>(x, dy, dw, s);
}

}  // namespace ink::kernels::winograd
