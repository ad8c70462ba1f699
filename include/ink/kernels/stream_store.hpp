// Writing outputs larger than the last-level cache with non-temporal (streaming) stores, the
// way glibc's memcpy copies large blocks. Part of kernels/: raw pointers; the elementwise maps
// (tensor/map.hpp) and max_pool2d write their outputs through fill_output.
#pragma once
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ink/core/config.hpp"
#include "ink/core/parallel.hpp"
#include "ink/kernels/vector_types.hpp"

namespace ink::kernels {

namespace stream_detail {

// An ordinary store to a line that is not cached first reads the line from memory (to own it),
// so an op writing a tensor larger than the caches moves each output byte twice: add then moves
// 4/3 of the bytes it must, relu 3/2. A non-temporal store writes whole lines past the caches
// without that read, but the line is then not cached: worth it only when the output could not
// have stayed cached for the op that reads it next. So ops stream outputs of at least 3/4 of the
// L3, and the tensors of an ordinary training step, which the next op reads back from the L3,
// keep ordinary stores. glibc's memcpy draws the same line (its x86_non_temporal_threshold,
// 3/4 of the L3 share of one thread in glibc 2.36); an op's output is written by all threads
// together, so here the whole L3 counts. Where the C library does not report the L3 (sysconf
// answers 0 or -1), 32 MiB is assumed, a large desktop's or a small server's L3.
inline std::size_t default_threshold() {
  const long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
  const std::size_t cache = l3 > 0 ? static_cast<std::size_t>(l3) : std::size_t{32} << 20;
  return cache / 4 * 3;
}

// Bytes computed into the scratch buffer before they are streamed, and how many such pieces
// ahead the inputs are prefetched. Computing a piece only loads and streaming it only stores,
// so without help the loads wait while the stores drain; prefetching the inputs of a piece
// three ahead while one is streamed keeps reads in flight then. In a test of relu on 1 GiB
// (one thread, the Intel VM, 2026-11-29) pieces of 1 KiB reached 12-13 GB/s without prefetches
// and 19 with them (4 KiB: 13 and 14), beside 17-18 for a loop storing straight from registers
// with movntps and 20-22 for glibc's memcpy.
inline constexpr std::size_t kPieceBytes = 1024;
inline constexpr std::size_t kPrefetchPieces = 3;

// Prefetches the bytes [begin, end) of an input, a line at a time.
inline void prefetch_range(std::uintptr_t begin, std::uintptr_t end) {
  for (std::uintptr_t a = begin; a < end; a += 64) __builtin_prefetch(reinterpret_cast<const void*>(a));
}

// dst[0, bytes) = src[0, bytes): plain stores up to dst's first 64-byte boundary, non-temporal
// stores of whole lines, plain stores of the rest. SSE2's movntps, which every x86-64 CPU has:
// in the test of kPieceBytes, streaming the pieces with AVX-512's vmovntps instead gave 9.7
// GB/s against 18.5, so no wider version is dispatched. Elsewhere a plain copy.
inline void stream_copy(char* dst, const char* src, std::size_t bytes) {
#if defined(__SSE2__)
  const std::size_t head = std::min(bytes, (64 - reinterpret_cast<std::uintptr_t>(dst) % 64) % 64);
  std::memcpy(dst, src, head);
  std::size_t i = head;
  for (; i + 64 <= bytes; i += 64)
    for (std::size_t j = i; j < i + 64; j += 16)
      simd::stream_store(reinterpret_cast<float*>(dst + j), *reinterpret_cast<const simd::f32x4_u*>(src + j));
  std::memcpy(dst + i, src + i, bytes - i);
#else
  std::memcpy(dst, src, bytes);
#endif
}

// Non-temporal stores are weakly ordered: they must reach memory before another thread (or
// this one, after the op returns) is told the output is ready.
inline void stream_fence() {
#if defined(__SSE2__)
  simd::store_fence();
#endif
}

}  // namespace stream_detail

// Output bytes from which fill_output streams its stores (stream_detail::default_threshold).
// A reference to a variable only so that tests can lower it and run the streaming path on small
// outputs.
inline std::size_t& stream_threshold() {
  static std::size_t bytes = stream_detail::default_threshold();
  return bytes;
}

// An operand fill reads at the output's index: its first element and element size, so that
// fill_output can prefetch it.
struct FillInput {
  const void* data = nullptr;
  std::size_t elem_size = 0;
};

// Computes an output of n elements of elem_size bytes at dst, in parallel over chunks of at
// least `grain` elements (as parallel_for): fill(ctx, out, b, e) must write elements [b, e) of
// the output to out[0, e - b). An output of stream_threshold() bytes or more is computed piece by
// piece into a buffer in L1 and streamed to dst, with the inputs (those of them with data) read
// at the output's index prefetched ahead; a smaller one is written in place (out = dst + b).
// Either way dst holds the same bytes. Not a template, so each op adds only its fill.
[[gnu::noinline]] inline void fill_output(void* dst, std::size_t elem_size, index_t n, index_t grain,
                                          std::array<FillInput, 2> inputs, void* ctx,
                                          void (*fill)(void*, void*, index_t, index_t)) {
  char* const out = static_cast<char*>(dst);
  const auto elems = [elem_size](index_t k) { return static_cast<std::size_t>(k) * elem_size; };
  if (elems(n) < stream_threshold()) {
    parallel_for(0, n, grain, [&](index_t b, index_t e) { fill(ctx, out + elems(b), b, e); });
    return;
  }
  parallel_for(0, n, grain, [&](index_t b, index_t e) {
    alignas(64) char scratch[stream_detail::kPieceBytes];
    // Pieces on a grid of whole pieces from dst, so that all but a chunk's first and last
    // start and end on a line boundary (dst is 64-byte aligned when it is a new tensor).
    const index_t piece = static_cast<index_t>(stream_detail::kPieceBytes / elem_size);
    const index_t ahead = piece * static_cast<index_t>(stream_detail::kPrefetchPieces);
    for (index_t i = b; i < e;) {
      const index_t j = std::min(e, (i / piece + 1) * piece);
      fill(ctx, scratch, i, j);
      for (const FillInput& in : inputs)
        if (in.data) {
          const auto at = [&](index_t k) {
            return reinterpret_cast<std::uintptr_t>(in.data) + static_cast<std::size_t>(k) * in.elem_size;
          };
          stream_detail::prefetch_range(at(std::min(i + ahead, e)), at(std::min(j + ahead, e)));
        }
      stream_detail::stream_copy(out + elems(i), scratch, elems(j - i));
      i = j;
    }
    stream_detail::stream_fence();
  });
}

}  // namespace ink::kernels
