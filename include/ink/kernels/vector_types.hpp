// The x86 vector registers the kernels use, as GCC vector types (also understood by clang),
// and the few compiler builtins they need beyond +, * and __builtin_shufflevector. Part of
// kernels/. These replace <immintrin.h>: parsing it costs every program that includes ink
// about 0.4 s, a tenth of an empty main's compile time, for the dozen intrinsics the kernels
// call. The builtins are the ones <immintrin.h>'s intrinsics expand to in GCC and clang.
#pragma once

// The program is built without -march, so every function using AVX-512 or AVX2 instructions
// carries the target itself and only runs after cpu_features.hpp confirmed the CPU has it.
#define INK_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma")))
#define INK_TARGET_AVX2 __attribute__((target("avx2,fma")))

namespace ink::kernels::simd {

// Whole registers (aligned as registers, for values) and their unaligned, aliasing twins
// (for loads and stores through pointers to float or double, like _mm*_loadu_*).
typedef float f32x8 __attribute__((vector_size(32)));
typedef double f64x4 __attribute__((vector_size(32)));
typedef int i32x8 __attribute__((vector_size(32)));
typedef long long i64x4 __attribute__((vector_size(32)));
typedef long long i64x2 __attribute__((vector_size(16)));
typedef long long i64x8 __attribute__((vector_size(64)));
typedef float f32x4 __attribute__((vector_size(16)));
typedef int i32x4 __attribute__((vector_size(16)));
typedef float f32x16 __attribute__((vector_size(64)));
typedef int i32x16 __attribute__((vector_size(64)));
typedef double f64x8 __attribute__((vector_size(64)));
typedef float f32x8_u __attribute__((vector_size(32), aligned(1), may_alias));
typedef double f64x4_u __attribute__((vector_size(32), aligned(1), may_alias));
typedef float f32x16_u __attribute__((vector_size(64), aligned(1), may_alias));
typedef double f64x8_u __attribute__((vector_size(64), aligned(1), may_alias));
typedef float f32x4_u __attribute__((vector_size(16), aligned(1), may_alias));
typedef int i32x4_u __attribute__((vector_size(16), aligned(1), may_alias));
typedef int i32x8_u __attribute__((vector_size(32), aligned(1), may_alias));
typedef int i32x16_u __attribute__((vector_size(64), aligned(1), may_alias));

// The rounding argument of the AVX-512 builtins that take one: the current mode (MXCSR),
// which is what the unsuffixed intrinsics pass (_MM_FROUND_CUR_DIRECTION).
constexpr int kCurrentRounding = 4;

}  // namespace ink::kernels::simd
