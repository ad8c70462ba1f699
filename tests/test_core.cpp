// core/: shapes and broadcasting, the caching allocator, the random generator, threads, ISA.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>
#include <ink/core.hpp>

using namespace ink;

TEST_CASE("contiguous strides and numel") {
  CHECK(contiguous_strides({2, 3, 4}) == Shape{12, 4, 1});
  CHECK(numel({2, 3, 4}) == 24);
  CHECK(numel({}) == 1);
  CHECK(numel({3, 0}) == 0);
}

TEST_CASE("broadcast_shapes follows NumPy rules") {
  CHECK(broadcast_shapes({3, 1}, {1, 4}, "add") == Shape{3, 4});
  CHECK(broadcast_shapes({5, 3, 1}, {4}, "add") == Shape{5, 3, 4});
  CHECK(broadcast_shapes({}, {2, 2}, "add") == Shape{2, 2});
  try {
    broadcast_shapes({2, 3}, {4, 3}, "add");
    FAIL("no error");
  } catch (const ShapeError& e) {
    const std::string msg = e.what();
    CHECK(msg.find("add") != std::string::npos);
    CHECK(msg.find("[2,3]") != std::string::npos);
    CHECK(msg.find("[4,3]") != std::string::npos);
  }
}

TEST_CASE("wrap_dim accepts negative dims and rejects out of range") {
  CHECK(wrap_dim(-1, 3, "sum") == 2);
  CHECK(wrap_dim(0, 3, "sum") == 0);
  CHECK_THROWS_AS(wrap_dim(3, 3, "sum"), ValueError);
  CHECK_THROWS_AS(wrap_dim(-4, 3, "sum"), ValueError);
}

TEST_CASE("caching allocator reuses freed blocks and aligns them") {
  const auto before = memory_stats();
  void* first;
  {
    Storage s(1000);
    first = s.data();
    CHECK(reinterpret_cast<std::uintptr_t>(s.data()) % 64 == 0);
  }
  Storage again(1000);
  CHECK(again.data() == first);
  CHECK(memory_stats().cache_hits > before.cache_hits);
  Storage big(5u << 20);
  CHECK(reinterpret_cast<std::uintptr_t>(big.data()) % (2u << 20) == 0);
  CHECK(detail::CachingAllocator::size_class(1000) >= 1000);
  CHECK(detail::CachingAllocator::size_class(1000) <= 1250);
}

TEST_CASE("every size class has its own free list, in order") {
  using A = detail::CachingAllocator;
  // Classes in increasing order, from 256 bytes to 2^62: consecutive list numbers from 0.
  std::size_t expected = 0, last = 0;
  for (std::size_t bytes = 1; bytes <= (std::size_t{1} << 62); bytes += bytes / 9 + 1) {
    const std::size_t cls = A::size_class(bytes);
    if (cls == last) continue;
    INFO("bytes " << bytes << " class " << cls);
    CHECK(A::class_index(cls) == expected);
    CHECK(A::class_index(cls) < A::kClasses);
    ++expected;
    last = cls;
  }
  CHECK(A::class_index(A::size_class(std::size_t{1} << 63)) < A::kClasses);
}

TEST_CASE("generator is reproducible and has the right moments") {
  Generator a(7), b(7), c(8);
  for (int i = 0; i < 10; ++i) CHECK(a.next_u64() == b.next_u64());
  CHECK(Generator(7).next_u64() != c.next_u64());
  Generator g(1);
  double s = 0, s2 = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double x = g.normal();
    s += x;
    s2 += x * x;
  }
  CHECK(std::abs(s / n) < 0.01);
  CHECK(std::abs(s2 / n - 1.0) < 0.02);
  double u = 0;
  for (int i = 0; i < n; ++i) {
    const float x = g.uniform_float();
    REQUIRE(x >= 0.0f);
    REQUIRE(x < 1.0f);
    u += x;
  }
  CHECK(std::abs(u / n - 0.5) < 0.01);
  // State round trip: restoring a saved state replays the same draws.
  const auto st = g.get_state();
  const double x1 = g.normal(), x2 = g.normal(), x3 = g.normal();
  g.set_state(st);
  CHECK(g.normal() == x1);
  CHECK(g.normal() == x2);
  CHECK(g.normal() == x3);
}

TEST_CASE("thread count and ISA selection") {
  const int n = get_num_threads();
  set_num_threads(1);
  CHECK(get_num_threads() == 1);
  set_num_threads(n);
  CHECK_THROWS_AS(set_num_threads(0), ValueError);
  CHECK(isa_supported(Isa::generic));
  CHECK(isa_supported(active_isa()));
}

TEST_CASE("INK_ISA names an ISA; anything else is a clear error") {
  // isa_from_environment() reads INK_ISA on each call (the active ISA keeps its first answer).
  const char* saved = std::getenv("INK_ISA");
  const std::string restore = saved ? saved : "";
  setenv("INK_ISA", "generic", 1);
  CHECK(detail::isa_from_environment() == Isa::generic);
  setenv("INK_ISA", "avx9", 1);
  CHECK_THROWS_AS(detail::isa_from_environment(), ValueError);
  CHECK_THROWS_WITH(detail::isa_from_environment(),
                    "INK_ISA: unknown value 'avx9' (expected avx512, avx2 or generic)");
  unsetenv("INK_ISA");
  CHECK(detail::isa_from_environment() == best_supported_isa());
  if (saved) setenv("INK_ISA", restore.c_str(), 1);
}

TEST_CASE("parallel_for covers the range once and rethrows an exception from a chunk") {
  const int saved = get_num_threads();
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    std::vector<int> hits(1000, 0);
    parallel_for(0, 1000, 10, [&](index_t b, index_t e) {
      for (index_t i = b; i < e; ++i) ++hits[static_cast<std::size_t>(i)];
    });
    CHECK(std::count(hits.begin(), hits.end(), 1) == 1000);
    // the chunk holding element 900 throws; the caller sees the ink::Error, not a terminate
    CHECK_THROWS_WITH(parallel_for(0, 1000, 10,
                                   [&](index_t b, index_t e) {
                                     if (b <= 900 && 900 < e) INK_CHECK(ValueError, false, "chunk [", b, ", ", e, ") failed");
                                   }),
                      Catch::Contains("failed"));
  }
  set_num_threads(saved);
}

TEST_CASE("error messages print their pieces as std::ostream would") {
  auto fail = [] {
    INK_CHECK(ShapeError, false, "a ", 3, " b ", -2L, " c ", 2.5, " d ", 'x', " e ", 1e-5f, " f ", std::string("s"),
              " g ", static_cast<const char*>(nullptr), " h ", std::size_t{18446744073709551615u}, " i ", true,
              " j ", std::string_view("view"), " k ", Shape{2, 3});
  };
  CHECK_THROWS_AS(fail(), ShapeError);
  CHECK_THROWS_WITH(fail(), "a 3 b -2 c 2.5 d x e 1e-05 f s g (null) h 18446744073709551615 i 1 j view k [2,3]");
}
