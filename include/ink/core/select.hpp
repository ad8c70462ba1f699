// A select (cond ? a : b) that stays branch-free, for element loops that must vectorise. Part
// of core/; used by the elementwise functors (tensor/map.hpp, ops/) and kernels/.
#pragma once
#include <bit>
#include <cstdint>
#include <type_traits>

namespace ink::detail {

// cond ? a : b for floating-point values, as bit masks. GCC 12 turns a plain ?: whose one side
// is a multiply (leaky_relu: v > 0 ? v : v * slope, and even v * (v > 0 ? 1 : slope)) into a
// branch, and the loop stays scalar with a mispredicted branch per element: leaky_relu and its
// gradient were 14.6% of a DCGAN training step, the max-pool argmax 6% of a classifier step.
// Both sides are computed, so both must be safe to compute.
template <class T>
inline T branchless_select(bool cond, T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
    const Bits mask = Bits(0) - Bits(cond);
    return std::bit_cast<T>((std::bit_cast<Bits>(a) & mask) | (std::bit_cast<Bits>(b) & ~mask));
  } else {
    return cond ? a : b;
  }
}

}  // namespace ink::detail
