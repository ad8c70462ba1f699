// Storage: one 64-byte aligned, reference-counted buffer that tensors and their views share.
// Part of core/; the memory comes from the caching allocator.
#pragma once
#include <cstddef>
#include <memory>

#include "ink/core/allocator.hpp"

namespace ink {

class Storage {
 public:
  // An uninitialised buffer of `bytes` bytes (at least one cache line is reserved).
  explicit Storage(std::size_t bytes)
      : bytes_(bytes), data_(detail::CachingAllocator::instance().allocate(bytes)) {}
  ~Storage() { detail::CachingAllocator::instance().deallocate(data_, bytes_); }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  std::size_t bytes() const { return bytes_; }

 private:
  std::size_t bytes_;
  void* data_;
};

}  // namespace ink
