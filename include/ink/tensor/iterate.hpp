// Strided iteration over N operands that share one (broadcast) shape: the loop every
// elementwise function, copy and reduction in tensor/ and ops/ is built on. Adjacent dims that
// are contiguous for all operands are merged first, so a dense tensor is one flat row.
// Part of tensor/ (pure index arithmetic, no Tensor).
#pragma once
#include <array>
#include <type_traits>
#include <vector>

#include "ink/core/shape.hpp"

namespace ink::detail {

template <std::size_t N>
struct StridedLayout {
  Shape shape;                       // after merging; never has size-1 dims unless rank 0
  std::array<Shape, N> strides;      // per operand, in elements
};

// Drops size-1 dims and merges neighbours that are contiguous with each other in every operand.
template <std::size_t N>
StridedLayout<N> coalesce(const Shape& shape, const std::array<Shape, N>& strides) {
  StridedLayout<N> out;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !out.shape.empty();
    for (std::size_t k = 0; merge && k < N; ++k)
      merge = out.strides[k].back() == strides[k][d] * shape[d];
    if (merge) {
      out.shape.back() *= shape[d];
      for (std::size_t k = 0; k < N; ++k) out.strides[k].back() = strides[k][d];
    } else {
      out.shape.push_back(shape[d]);
      for (std::size_t k = 0; k < N; ++k) out.strides[k].push_back(strides[k][d]);
    }
  }
  return out;
}

// The row callback of for_each_row with its type erased: a context pointer and a function.
template <std::size_t N>
using RowThunk = void (*)(void* ctx, index_t n, std::array<index_t, N> offsets, std::array<index_t, N> inner);

// for_each_row's walk over the rows, compiled once per operand count instead of once per row
// function (there are dozens of those, one per elementwise functor, and the walk was about a
// third of each); the row function behind `row` keeps the inner loops. One indirect call per
// row costs nothing measurable next to the row's own loop: coalescing leaves rows of at least 2
// elements (a dense tensor is one row).
template <std::size_t N>
[[gnu::noinline]] void for_each_row_erased(const Shape& shape, const std::array<Shape, N>& strides,
                                           std::array<index_t, N> offsets, void* ctx, RowThunk<N> row) {
  if (numel(shape) == 0) return;
  const StridedLayout<N> l = coalesce<N>(shape, strides);
  const std::size_t nd = l.shape.size();
  if (nd == 0) {
    std::array<index_t, N> unit{};
    row(ctx, index_t{1}, offsets, unit);
    return;
  }
  std::array<index_t, N> inner{};
  for (std::size_t k = 0; k < N; ++k) inner[k] = l.strides[k][nd - 1];
  std::vector<index_t> idx(nd, 0);
  for (;;) {
    row(ctx, l.shape[nd - 1], offsets, inner);
    std::size_t d = nd - 1;
    for (;;) {
      if (d == 0) return;
      --d;
      ++idx[d];
      for (std::size_t k = 0; k < N; ++k) offsets[k] += l.strides[k][d];
      if (idx[d] < l.shape[d]) break;
      for (std::size_t k = 0; k < N; ++k) offsets[k] -= l.strides[k][d] * l.shape[d];
      idx[d] = 0;
    }
  }
}

// Calls row(n, offsets, inner_strides) for every innermost row of the iteration space, in
// row-major order; offsets[k] is operand k's element offset of the row's first element.
template <std::size_t N, class RowFn>
void for_each_row(const Shape& shape, const std::array<Shape, N>& strides, std::array<index_t, N> offsets,
                  RowFn&& row) {
  using F = std::remove_reference_t<RowFn>;
  for_each_row_erased<N>(shape, strides, offsets, const_cast<void*>(static_cast<const void*>(&row)),
                         [](void* ctx, index_t n, std::array<index_t, N> off, std::array<index_t, N> inner) {
                           (*static_cast<F*>(ctx))(n, off, inner);
                         });
}

// Strides of a tensor of shape `from` seen through a broadcast to shape `to`: dims that are
// broadcast get stride 0. `from` must be broadcastable to `to` (the caller checked).
inline Shape broadcast_strides(const Shape& from, const Shape& from_strides, const Shape& to) {
  Shape st(to.size(), 0);
  const std::size_t lead = to.size() - from.size();
  for (std::size_t d = 0; d < from.size(); ++d)
    st[lead + d] = from[d] == 1 ? 0 : from_strides[d];
  return st;
}

}  // namespace ink::detail
