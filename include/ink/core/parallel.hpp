// Threads: the OpenMP thread count and a parallel_for with a grain size, so small loops stay
// on one thread and large ones use all of them. Part of core/.
#pragma once
#include <omp.h>

#include <algorithm>
#include <exception>
#include <type_traits>

#include "ink/core/config.hpp"
#include "ink/core/error.hpp"

namespace ink {

// Sets the number of threads ink's kernels use (OpenMP's thread count for this process).
inline void set_num_threads(int n) {
  INK_CHECK(ValueError, n >= 1, "set_num_threads: need at least 1 thread, got ", n);
  omp_set_num_threads(n);
}
inline int get_num_threads() { return omp_get_max_threads(); }

namespace detail {
// The one OpenMP region behind every parallel_for: chunk c of `chunks` covers
// [begin + n*c/chunks, begin + n*(c+1)/chunks) and runs call(body, b, e). Not a template, so
// OpenMP's outlining is compiled once per program rather than once per loop body (each op's
// lambda); the indirect call per chunk costs nothing next to a chunk's work. An exception thrown
// by a chunk is rethrown on the calling thread once the region ends (the first one caught).
inline void run_chunks(index_t begin, index_t n, index_t chunks, void* body,
                       void (*call)(void*, index_t, index_t)) {
  std::exception_ptr error;
#pragma omp parallel for num_threads(static_cast<int>(chunks)) schedule(static)
  for (index_t c = 0; c < chunks; ++c) {
    try {
      call(body, begin + n * c / chunks, begin + n * (c + 1) / chunks);
    } catch (...) {
#pragma omp critical(ink_parallel_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}
}  // namespace detail

// Calls f(begin_i, end_i) on disjoint chunks covering [begin, end). Runs on one thread when
// the range is smaller than `grain` or when already inside a parallel region. The chunking
// depends only on the range and the thread count; callers that reduce must combine per-chunk
// results in a fixed order of their own if they want thread-count-independent results.
template <class F>
void parallel_for(index_t begin, index_t end, index_t grain, F&& f) {
  const index_t n = end - begin;
  if (n <= 0) return;
  const int threads = get_num_threads();
  if (n <= grain || threads == 1 || omp_in_parallel()) {
    f(begin, end);
    return;
  }
  using Body = std::remove_reference_t<F>;
  const index_t chunks = std::min<index_t>(threads, (n + grain - 1) / std::max<index_t>(grain, 1));
  detail::run_chunks(begin, n, chunks, const_cast<void*>(static_cast<const void*>(&f)),
                     [](void* body, index_t b, index_t e) { (*static_cast<Body*>(body))(b, e); });
}

}  // namespace ink
