// The caching allocator behind every tensor's storage. Freed blocks go back to free lists
// of their size class and are handed out again, instead of returning to the OS: on this
// machine a first touch of a fresh 4 KiB page costs ~11 us, so a training step that re-faulted
// its activations would spend more time in page faults than in compute. Part of core/.
#pragma once
#include <sys/mman.h>

#include <array>
#include <cstddef>
#include <cstdlib>
#include <mutex>
#include <new>

namespace ink {

struct MemoryStats {
  std::size_t bytes_in_use = 0;     // handed out to live storages (rounded to size classes)
  std::size_t bytes_cached = 0;     // held in free lists, ready for reuse
  std::size_t peak_bytes_in_use = 0;
  std::size_t allocations = 0;      // requests served
  std::size_t cache_hits = 0;       // requests served from a free list
};

namespace detail {

class CachingAllocator {
 public:
  static constexpr std::size_t kAlignment = 64;               // one cache line, one zmm register
  static constexpr std::size_t kHugeAlignment = 2u << 20;     // 2 MiB: one transparent huge page

  // Blocks are rounded up to a size class with four classes per power of two, so the
  // rounding wastes at most 25% and blocks of similar sizes are interchangeable.
  static std::size_t size_class(std::size_t bytes) {
    if (bytes <= 256) return 256;
    std::size_t top = std::size_t{1} << (63 - __builtin_clzll(bytes - 1));  // < bytes <= 2*top
    std::size_t step = top / 4;
    return (bytes + step - 1) / step * step;
  }
  // The free list of size class `cls` (a value of size_class): 256 is list 0; a class in
  // (2^e, 2^(e+1)] is (4 + k) quarters of 2^e, k = 1..4, list 1 + 4 (e - 8) + k - 1. A fixed
  // array instead of a hash map keyed by class: as fast, and no hash table compiled into every
  // program that includes ink.
  static std::size_t class_index(std::size_t cls) {
    if (cls <= 256) return 0;
    const int e = 63 - __builtin_clzll(cls - 1);
    return 1 + 4 * static_cast<std::size_t>(e - 8) + (cls >> (e - 2)) - 5;
  }
  static constexpr std::size_t kClasses = 1 + 4 * (64 - 8);

  void* allocate(std::size_t bytes) {
    const std::size_t cls = size_class(bytes);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++stats_.allocations;
      void*& head = free_[class_index(cls)];
      if (head) {
        void* p = head;
        head = next_free(p);
        ++stats_.cache_hits;
        stats_.bytes_cached -= cls;
        note_in_use(cls);
        return p;
      }
    }
    const std::size_t align = cls >= kHugeAlignment ? kHugeAlignment : kAlignment;
    void* p = std::aligned_alloc(align, (cls + align - 1) / align * align);
    if (!p) {  // give the cache back to the OS and try once more before failing
      empty_cache();
      p = std::aligned_alloc(align, (cls + align - 1) / align * align);
      if (!p) throw std::bad_alloc();
    }
    if (cls >= kHugeAlignment) madvise(p, cls, MADV_HUGEPAGE);
    std::lock_guard<std::mutex> lock(mutex_);
    note_in_use(cls);
    return p;
  }

  void deallocate(void* p, std::size_t bytes) {
    if (!p) return;
    const std::size_t cls = size_class(bytes);
    std::lock_guard<std::mutex> lock(mutex_);
    void*& head = free_[class_index(cls)];
    next_free(p) = head;
    head = p;
    stats_.bytes_in_use -= cls;
    stats_.bytes_cached += cls;
  }

  // Returns every cached block to the OS.
  void empty_cache() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (void*& head : free_)
      while (head) {
        void* p = head;
        head = next_free(p);
        std::free(p);
      }
    stats_.bytes_cached = 0;
  }

  MemoryStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

  // Deliberately never destroyed: storages held by static objects may be freed after main()
  // returns, and must still find a live allocator.
  static CachingAllocator& instance() {
    static CachingAllocator* a = new CachingAllocator;
    return *a;
  }

 private:
  void note_in_use(std::size_t cls) {
    stats_.bytes_in_use += cls;
    if (stats_.bytes_in_use > stats_.peak_bytes_in_use) stats_.peak_bytes_in_use = stats_.bytes_in_use;
  }
  std::mutex mutex_;
  // Each free list is linked through its blocks: a cached block's first bytes hold the next
  // block of its class (blocks are at least 256 bytes and 64-byte aligned).
  static void*& next_free(void* block) { return *static_cast<void**>(block); }
  std::array<void*, kClasses> free_{};
  MemoryStats stats_;
};

}  // namespace detail

// What the caching allocator holds: bytes in live tensors, bytes cached for reuse, peak use.
inline MemoryStats memory_stats() { return detail::CachingAllocator::instance().stats(); }
// Returns all cached (unused) blocks to the operating system.
inline void empty_cache() { detail::CachingAllocator::instance().empty_cache(); }

}  // namespace ink
