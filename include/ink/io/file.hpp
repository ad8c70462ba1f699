// Whole-file reads and atomic writes, the two ways io/ touches the file system. A write goes to
// a temporary file in the target's directory, is flushed to disk (fsync) and renamed over the
// target, so a reader or a crash sees the old file or the new one, never half of one. Part of io/.
#pragma once
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "ink/core/error.hpp"
#include "ink/core/shape.hpp"

namespace ink::io {

using Bytes = std::vector<std::uint8_t>;

namespace detail {
// strerror is not thread-safe; the generic category's message is.
inline std::string errno_message(int err) { return std::error_code(err, std::generic_category()).message(); }

// A shape read from a file has at most kMaxDims dims; readers check the rank they read before
// they build a Shape from it.
inline void check_file_rank(std::size_t rank, const std::string& context) {
  INK_CHECK(IOError, rank <= kMaxDims, context, ": ", rank, " dims; at most ", kMaxDims, " are supported");
}

// A shape read from a file may hold zeros that make its element count small while the other
// dims are huge; strides multiply those other dims and would overflow. Readers call this on
// every shape they take from a file: the product of the non-zero dims must stay below 2^62.
inline void check_file_shape(const Shape& shape, const std::string& context) {
  std::uint64_t extent = 1;
  for (const std::int64_t d : shape) {
    const auto u = static_cast<std::uint64_t>(d > 1 ? d : 1);
    INK_CHECK(IOError, d >= 0 && u < (std::uint64_t(1) << 62) / extent, context, ": shape with dims too large");
    extent *= u;
  }
}
}  // namespace detail

// The whole content of a regular file. Throws IOError naming `what` (the calling function) and
// the path when the file cannot be opened or read, or is not a regular file.
inline Bytes read_file(const std::filesystem::path& path, const std::string& what = "read_file") {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  INK_CHECK(IOError, fd >= 0, what, ": cannot open '", path.string(), "': ", detail::errno_message(errno));
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  INK_CHECK(IOError, ::fstat(fd, &st) == 0, what, ": cannot stat '", path.string(), "': ", detail::errno_message(errno));
  INK_CHECK(IOError, S_ISREG(st.st_mode), what, ": '", path.string(), "' is not a regular file");
  Bytes out(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::read(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    INK_CHECK(IOError, n >= 0, what, ": cannot read '", path.string(), "': ", detail::errno_message(errno));
    if (n == 0) break;  // the file shrank while we read it
    done += static_cast<std::size_t>(n);
  }
  out.resize(done);
  return out;
}

// Writes one file atomically. Construct it, write() the content in any number of pieces, then
// commit(): the data is fsync'd, the temporary file renamed over `target` and the directory
// fsync'd. Destroying the writer without commit() (an exception, an early return) removes the
// temporary file and leaves `target` as it was. A process killed mid-write leaves `target`
// intact and a stray ".<name>.tmp-*" file beside it.
class AtomicWriter {
 public:
  explicit AtomicWriter(std::filesystem::path target, std::string what = "write")
      : target_(std::move(target)), what_(std::move(what)) {
    static std::atomic<unsigned> counter{0};
    const std::filesystem::path dir = target_.has_parent_path() ? target_.parent_path() : std::filesystem::path(".");
    INK_CHECK(IOError, target_.has_filename(), what_, ": '", target_.string(), "' names no file");
    // pid + counter makes the name unique among writers; O_EXCL makes a clash an error, not a
    // shared file. 0666 lets the umask decide the final permissions, as for any new file.
    for (int attempt = 0;; ++attempt) {
      std::string name = ".";  // appended piecewise: GCC 12 misreports "lit" + string (-Wrestrict)
      name += target_.filename().string();
      name += ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
      temp_ = dir / name;
      fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd_ >= 0) break;
      INK_CHECK(IOError, errno == EEXIST && attempt < 100, what_, ": cannot create a temporary file in '",
                dir.string(), "' for '", target_.string(), "': ", detail::errno_message(errno));
    }
  }
  AtomicWriter(const AtomicWriter&) = delete;
  AtomicWriter& operator=(const AtomicWriter&) = delete;
  ~AtomicWriter() {
    if (fd_ >= 0) {
      ::close(fd_);
      ::unlink(temp_.c_str());
    }
  }

  void write(const void* data, std::size_t n) {
    INK_CHECK(IOError, fd_ >= 0, what_, ": write after commit to '", target_.string(), "'");
    const auto* p = static_cast<const char*>(data);
    while (n > 0) {
      const ssize_t k = ::write(fd_, p, n);
      if (k < 0 && errno == EINTR) continue;
      INK_CHECK(IOError, k > 0, what_, ": cannot write '", target_.string(), "': ", detail::errno_message(errno));
      p += k;
      n -= static_cast<std::size_t>(k);
    }
  }

  void commit() {
    INK_CHECK(IOError, fd_ >= 0, what_, ": '", target_.string(), "' committed twice");
    INK_CHECK(IOError, ::fsync(fd_) == 0, what_, ": cannot flush '", target_.string(), "': ", detail::errno_message(errno));
    const int fd = fd_;
    fd_ = -1;
    const bool closed = ::close(fd) == 0;
    const int close_err = errno;
    if (!closed || ::rename(temp_.c_str(), target_.c_str()) != 0) {
      const int err = closed ? errno : close_err;
      ::unlink(temp_.c_str());
      throw IOError(what_ + ": cannot write '" + target_.string() + "': " + detail::errno_message(err));
    }
    // The rename itself is durable only once the directory entry is on disk. Some file systems
    // refuse fsync on a directory; the file is complete either way, so that is not an error.
    const std::filesystem::path dir = target_.has_parent_path() ? target_.parent_path() : std::filesystem::path(".");
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
  }

 private:
  std::filesystem::path target_, temp_;
  std::string what_;
  int fd_ = -1;
};

// Writes `n` bytes to `path` atomically (see AtomicWriter).
inline void write_file_atomic(const std::filesystem::path& path, const void* data, std::size_t n,
                              const std::string& what = "write_file_atomic") {
  AtomicWriter w(path, what);
  w.write(data, n);
  w.commit();
}

}  // namespace ink::io
