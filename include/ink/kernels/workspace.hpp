// Per-thread scratch memory for kernels (packing buffers and the like): a few numbered slots
// per thread, 64-byte aligned, grown on demand and kept for the thread's lifetime, so hot loops
// never allocate. Part of kernels/; depends only on the standard library.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <new>

namespace ink::kernels {

// Slots are numbered so that a kernel which calls another one (a convolution calling GEMM)
// does not have its buffer overwritten: GEMM owns the first two, im2col/col2im kSlotWindow,
// callers of these use the others. kSlotShared0/1 are taken on the thread that calls a
// convolution kernel, for buffers all its threads then read or write (partial sums of the
// weight gradient, transformed weights), while each thread's kSlotCaller0/1/2 hold its own tiles.
enum WorkspaceSlot : int {
  kSlotGemmPackA = 0,
  kSlotGemmPackB = 1,
  kSlotCaller0 = 2,
  kSlotCaller1 = 3,
  kSlotWindow = 4,
  kSlotShared0 = 5,
  kSlotShared1 = 6,
  kSlotCaller2 = 7
};

class Workspace {
 public:
  static constexpr int kSlots = 8;
  static constexpr std::size_t kAlignment = 64;  // one cache line, one zmm register

  Workspace() = default;
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  ~Workspace() {
    for (Slot& s : slots_) std::free(s.ptr);
  }

  // A buffer of at least `count` T in `slot`. Its content is unspecified (whatever the last
  // user left) and it stays valid until the next call with a larger size for the same slot.
  template <class T>
  T* get(int slot, std::size_t count) {
    Slot& s = slots_[slot];
    const std::size_t bytes = (count * sizeof(T) + kAlignment - 1) / kAlignment * kAlignment;
    if (bytes > s.bytes) grow(s, bytes);
    return static_cast<T*>(s.ptr);
  }

 private:
  struct Slot {
    void* ptr = nullptr;
    std::size_t bytes = 0;
  };
  // Out of line and cold: a slot grows a few times per thread, and the ~27 kernels that take a
  // buffer in a program that trains a CNN each had their own copy of this.
  [[gnu::noinline, gnu::cold]] static void grow(Slot& s, std::size_t bytes) {
    std::free(s.ptr);
    s.ptr = nullptr;
    s.bytes = 0;
    void* p = std::aligned_alloc(kAlignment, bytes);
    if (!p) throw std::bad_alloc();
    s.ptr = p;
    s.bytes = bytes;
  }
  Slot slots_[kSlots];
};

// The calling thread's workspace. OpenMP keeps its worker threads alive between parallel
// regions, so each worker's buffers survive from one call to the next. Not inlined: the
// thread-local's first-use check and exit registration were copied into each kernel.
[[gnu::noinline]] inline Workspace& thread_workspace() {
  thread_local Workspace ws;
  return ws;
}

}  // namespace ink::kernels
