// For kernel tests: the ISAs this CPU can run, and a guard that restores the process-wide ISA
// and thread count when a test section that changed them ends.
#pragma once
#include <vector>

#include <ink/core.hpp>

namespace ink::testing {

struct IsaGuard {
  Isa isa = active_isa();
  int threads = get_num_threads();
  ~IsaGuard() {
    set_active_isa(isa);
    set_num_threads(threads);
  }
};

inline std::vector<Isa> supported_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::generic, Isa::avx2, Isa::avx512})
    if (isa_supported(isa)) out.push_back(isa);
  return out;
}

}  // namespace ink::testing
