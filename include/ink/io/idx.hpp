// The IDX format of MNIST and Fashion-MNIST (LeCun's big-endian arrays: 0, 0, a type byte, a
// rank byte, one 32-bit size per dim, then the data), raw or gzip-compressed (zlib). Readers
// trust nothing in the file: sizes are checked against the bytes actually present before any
// allocation. Part of io/.
#pragma once
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <type_traits>

#include "ink/io/file.hpp"
#include "ink/ops.hpp"

namespace ink::io {

// The element types IDX defines (the third byte of the magic number).
enum class IdxType : std::uint8_t { u8 = 0x08, i8 = 0x09, i16 = 0x0B, i32 = 0x0C, f32 = 0x0D, f64 = 0x0E };

namespace detail {

inline std::size_t idx_type_size(std::uint8_t code) {
  switch (code) {
    case 0x08: case 0x09: return 1;
    case 0x0B: return 2;
    case 0x0C: case 0x0D: return 4;
    case 0x0E: return 8;
    default: return 0;
  }
}

inline std::uint64_t load_be(const std::uint8_t* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

// The byte length an IDX header at `p` (with `avail` bytes available) announces, header
// included, or 0 while fewer than the header's bytes are available. Throws on a bad magic.
inline std::uint64_t idx_expected_size(const std::uint8_t* p, std::size_t avail, const std::string& name) {
  if (avail < 4) return 0;
  INK_CHECK(IOError, p[0] == 0 && p[1] == 0 && idx_type_size(p[2]) != 0 && p[3] >= 1, "read_idx: '", name,
            "' is not an IDX file (magic bytes ", int(p[0]), " ", int(p[1]), " ", int(p[2]), " ", int(p[3]), ")");
  const std::size_t rank = p[3], header = 4 + 4 * rank;
  if (avail < header) return 0;
  // Every dim is below 2^32 and the product is checked against 2^62 step by step, so this
  // cannot overflow; the caller compares the result with the bytes really there.
  std::uint64_t total = idx_type_size(p[2]);
  for (std::size_t d = 0; d < rank; ++d) {
    total *= load_be(p + 4 + 4 * d, 4);
    INK_CHECK(IOError, total < (std::uint64_t(1) << 62), "read_idx: '", name, "' has a header claiming over 2^62 bytes");
  }
  return header + total;
}

// gzip -> bytes. Output grows only as real data arrives, and stops with an error as soon as it
// exceeds what the IDX header announced, so neither a lying header nor a decompression bomb
// can make it allocate more than the file's true content.
inline Bytes gunzip_idx(const std::uint8_t* data, std::size_t size, const std::string& name) {
  z_stream zs{};
  INK_CHECK(IOError, inflateInit2(&zs, 15 + 16) == Z_OK, "read_idx: zlib cannot start for '", name, "'");
  struct End {
    z_stream* z;
    ~End() { inflateEnd(z); }
  } end{&zs};
  Bytes out;
  std::uint64_t expected = 0;
  std::size_t in_done = 0, out_done = 0;
  for (;;) {
    if (out_done == out.size()) {
      // The deflate format cannot expand more than ~1032:1, so the compressed size bounds a
      // first reservation that is safe even before the header is known.
      std::size_t want = out.size() < (1u << 16) ? (1u << 16) : out.size() * 2;
      if (expected) want = std::min<std::size_t>(want, static_cast<std::size_t>(expected) + 1);
      want = std::min<std::size_t>(want, out.size() + std::max<std::size_t>(size, 1) * 1032 + 65536);
      out.resize(want);
    }
    const std::size_t in_chunk = std::min<std::size_t>(size - in_done, 1u << 30);
    const std::size_t out_chunk = std::min<std::size_t>(out.size() - out_done, 1u << 30);
    zs.next_in = const_cast<Bytef*>(data + in_done);
    zs.avail_in = static_cast<uInt>(in_chunk);
    zs.next_out = out.data() + out_done;
    zs.avail_out = static_cast<uInt>(out_chunk);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    in_done += in_chunk - zs.avail_in;
    out_done += out_chunk - zs.avail_out;
    if (!expected) expected = idx_expected_size(out.data(), out_done, name);
    INK_CHECK(IOError, !expected || out_done <= expected, "read_idx: '", name,
              "' holds more data than its header announces (", expected, " bytes)");
    if (rc == Z_STREAM_END) {
      if (in_done == size) break;
      // Concatenated gzip members decompress to the concatenation, as gunzip does.
      INK_CHECK(IOError, inflateReset(&zs) == Z_OK, "read_idx: zlib cannot continue in '", name, "'");
      continue;
    }
    INK_CHECK(IOError, rc == Z_OK || (rc == Z_BUF_ERROR && in_done < size), "read_idx: '", name,
              "' is corrupt or truncated gzip (", rc == Z_BUF_ERROR ? "unexpected end of data" : (zs.msg ? zs.msg : "zlib error"),
              ")");
  }
  out.resize(out_done);
  return out;
}

template <class T>
Tensor<T> decode_idx_raw(const std::uint8_t* p, std::size_t size, const std::string& name, bool scale_u8) {
  const std::uint64_t expected = idx_expected_size(p, size, name);
  INK_CHECK(IOError, expected != 0, "read_idx: '", name, "' is truncated inside its header (", size, " bytes)");
  INK_CHECK(IOError, expected == size, "read_idx: '", name, "' has ", size, " bytes but its header announces ", expected,
            expected > size ? " (truncated)" : " (trailing data)");
  const std::uint8_t code = p[2];
  const std::size_t rank = p[3], esize = idx_type_size(code);
  check_file_rank(rank, "read_idx: '" + name + "'");
  Shape shape(rank);
  for (std::size_t d = 0; d < rank; ++d) shape[d] = static_cast<index_t>(load_be(p + 4 + 4 * d, 4));
  check_file_shape(shape, "read_idx: '" + name + "'");
  Tensor<T> out = empty<T>(shape);
  T* dst = out.data_ptr();
  const std::uint8_t* src = p + 4 + 4 * rank;
  const index_t n = out.numel();
  for (index_t i = 0; i < n; ++i, src += esize) {
    const std::uint64_t bits = load_be(src, esize);
    double v;
    switch (code) {
      case 0x08: v = static_cast<double>(bits); break;
      case 0x09: v = static_cast<std::int8_t>(bits); break;
      case 0x0B: v = static_cast<std::int16_t>(bits); break;
      case 0x0C: v = static_cast<std::int32_t>(bits); break;
      case 0x0D: {
        float f;
        const auto b32 = static_cast<std::uint32_t>(bits);
        std::memcpy(&f, &b32, 4);
        v = f;
        break;
      }
      default: std::memcpy(&v, &bits, 8);
    }
    if constexpr (std::is_integral_v<T>) {
      INK_CHECK(IOError, code != 0x0D && code != 0x0E, "read_idx: '", name,
                "' holds floating-point data; read it as float or double");
      dst[i] = static_cast<T>(v);
    } else {
      dst[i] = static_cast<T>(scale_u8 && code == 0x08 ? v / 255.0 : v);
    }
  }
  return out;
}

}  // namespace detail

// Decodes IDX bytes (raw, or gzip when they start with gzip's magic) into a tensor of the
// file's shape. T = float / double convert every type; T = int64_t refuses float data.
// `name` appears in errors. Throws IOError on a bad magic, truncation, trailing data or
// corrupt compression.
template <class T = float>
Tensor<T> decode_idx(const std::uint8_t* data, std::size_t size, const std::string& name = "<memory>", bool scale_u8 = false) {
  if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
    const Bytes raw = detail::gunzip_idx(data, size, name);
    return detail::decode_idx_raw<T>(raw.data(), raw.size(), name, scale_u8);
  }
  return detail::decode_idx_raw<T>(data, size, name, scale_u8);
}

// Reads an IDX file (raw or .gz) into a tensor of the file's shape (see decode_idx).
template <class T = float>
Tensor<T> read_idx(const std::filesystem::path& path) {
  const Bytes b = read_file(path, "read_idx");
  return decode_idx<T>(b.data(), b.size(), path.string());
}

struct IdxImageOptions {
  bool scale = true;  // divide 8-bit samples by 255, giving [0,1]
};

// Images from an IDX file, e.g. MNIST's [N,28,28] bytes, as floats (in [0,1] with scale).
inline Tensor<float> read_idx_images(const std::filesystem::path& path, IdxImageOptions o = {}) {
  const Bytes b = read_file(path, "read_idx_images");
  return decode_idx<float>(b.data(), b.size(), path.string(), o.scale);
}

// Labels from an IDX file: a rank-1 array of integers.
inline Tensor<std::int64_t> read_idx_labels(const std::filesystem::path& path) {
  Tensor<std::int64_t> t = read_idx<std::int64_t>(path);
  INK_CHECK(IOError, t.dim() == 1, "read_idx_labels: '", path.string(), "' holds an array of shape ", t.shape(),
            ", not a list of labels");
  return t;
}

struct IdxWriteOptions {
  IdxType type = IdxType::u8;
  bool gzip = false;
};

// Writes a tensor as IDX (atomically). Integer types require every value to be an integer in
// the type's range (ValueError otherwise); f32 rounds to float.
template <class T>
void write_idx(const std::filesystem::path& path, const Tensor<T>& t, IdxWriteOptions o = {}) {
  INK_CHECK(ValueError, t.dim() >= 1 && t.dim() <= 255, "write_idx: rank must be 1..255, got shape ", t.shape());
  const auto code = static_cast<std::uint8_t>(o.type);
  const std::size_t esize = detail::idx_type_size(code);
  INK_CHECK(ValueError, esize != 0, "write_idx: unknown IDX type ", int(code));
  Bytes raw{0, 0, code, static_cast<std::uint8_t>(t.dim())};
  auto put_be = [&raw](std::uint64_t v, std::size_t n) {
    for (std::size_t i = n; i-- > 0;) raw.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  };
  for (index_t d : t.shape()) {
    INK_CHECK(ValueError, d <= std::numeric_limits<std::uint32_t>::max(), "write_idx: dim ", d, " does not fit IDX's 32 bits");
    put_be(static_cast<std::uint64_t>(d), 4);
  }
  auto range = [&]() -> std::pair<double, double> {
    switch (o.type) {
      case IdxType::u8: return {0, 255};
      case IdxType::i8: return {-128, 127};
      case IdxType::i16: return {-32768, 32767};
      case IdxType::i32: return {-2147483648.0, 2147483647.0};
      default: return {0, 0};
    }
  }();
  for (const T value : t.to_vector()) {
    const double v = static_cast<double>(value);
    if (o.type == IdxType::f32) {
      const float f = static_cast<float>(v);
      std::uint32_t b;
      std::memcpy(&b, &f, 4);
      put_be(b, 4);
    } else if (o.type == IdxType::f64) {
      std::uint64_t b;
      std::memcpy(&b, &v, 8);
      put_be(b, 8);
    } else {
      INK_CHECK(ValueError, v == std::floor(v) && v >= range.first && v <= range.second, "write_idx: value ", v,
                " is not representable as IDX type ", int(code));
      put_be(static_cast<std::uint64_t>(static_cast<std::int64_t>(v)), esize);
    }
  }
  if (!o.gzip) {
    write_file_atomic(path, raw.data(), raw.size(), "write_idx");
    return;
  }
  INK_CHECK(ValueError, raw.size() < (std::uint64_t(1) << 32), "write_idx: gzip output is limited to 4 GiB of data");
  z_stream zs{};
  INK_CHECK(IOError, deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK,
            "write_idx: zlib cannot start");
  Bytes gz(deflateBound(&zs, static_cast<uLong>(raw.size())));
  zs.next_in = raw.data();
  zs.avail_in = static_cast<uInt>(raw.size());
  zs.next_out = gz.data();
  zs.avail_out = static_cast<uInt>(gz.size());
  const int rc = deflate(&zs, Z_FINISH);
  gz.resize(zs.total_out);
  deflateEnd(&zs);
  INK_CHECK(IOError, rc == Z_STREAM_END, "write_idx: zlib failed to compress '", path.string(), "'");
  write_file_atomic(path, gz.data(), gz.size(), "write_idx");
}

}  // namespace ink::io
