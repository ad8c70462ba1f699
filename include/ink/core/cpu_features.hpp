// What the CPU can do, and which instruction set the kernels use: detected once at run time
// (so a program built without -march still gets AVX-512), overridable with INK_ISA=
// avx512|avx2|generic for tests and benchmarks. Part of core/.
#pragma once
#include <cstdlib>
#include <string_view>

#include "ink/core/config.hpp"
#include "ink/core/error.hpp"

namespace ink {

enum class Isa { generic = 0, avx2 = 1, avx512 = 2 };

inline const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::avx512: return "avx512";
    case Isa::avx2: return "avx2";
    default: return "generic";
  }
}

struct CpuFeatures {
  bool avx2 = false, fma = false, avx512f = false, avx512bw = false, avx512vl = false;
};

inline CpuFeatures detect_cpu_features() {
  __builtin_cpu_init();
  CpuFeatures f;
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
  f.avx512f = __builtin_cpu_supports("avx512f");
  f.avx512bw = __builtin_cpu_supports("avx512bw");
  f.avx512vl = __builtin_cpu_supports("avx512vl");
  return f;
}

// The best ISA this CPU supports.
inline Isa best_supported_isa() {
  const CpuFeatures f = detect_cpu_features();
  if (f.avx512f && f.avx512bw && f.avx512vl && f.avx2 && f.fma) return Isa::avx512;
  if (f.avx2 && f.fma) return Isa::avx2;
  return Isa::generic;
}

inline bool isa_supported(Isa isa) { return static_cast<int>(isa) <= static_cast<int>(best_supported_isa()); }

namespace detail {
INK_COLD inline Isa isa_from_environment() {
  const char* env = std::getenv("INK_ISA");
  if (!env || !*env) return best_supported_isa();
  const std::string_view v = env;
  Isa isa = Isa::generic;
  if (v == "avx512") isa = Isa::avx512;
  else if (v == "avx2") isa = Isa::avx2;
  else INK_CHECK(ValueError, v == "generic", "INK_ISA: unknown value '", v, "' (expected avx512, avx2 or generic)");
  INK_CHECK(ValueError, isa_supported(isa), "INK_ISA=", v, ": this CPU does not support it (best is ",
                    isa_name(best_supported_isa()), ")");
  return isa;
}
// Not inlined: its guarded static (acquire, release, an exception path) was copied into each
// of the ~20 kernels that dispatch on the ISA in a program that trains a CNN.
[[gnu::noinline]] inline Isa& active_isa_slot() {
  static Isa isa = isa_from_environment();
  return isa;
}
}  // namespace detail

// The ISA the kernels dispatch to: INK_ISA if set, else the best the CPU supports.
inline Isa active_isa() { return detail::active_isa_slot(); }
// Forces an ISA for the rest of the process (tests run every kernel at every supported ISA).
inline void set_active_isa(Isa isa) {
  INK_CHECK(ValueError, isa_supported(isa), "set_active_isa: this CPU does not support ", isa_name(isa));
  detail::active_isa_slot() = isa;
}

}  // namespace ink
