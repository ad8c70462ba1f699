// Images as tensors: PNG / JPEG / BMP decoding (stb_image) into float [C,H,W] in [0,1], PNG and
// JPEG encoding (stb_image_write), antialiased resizing and torchvision-style image grids for
// sample sheets. Part of io/; built on ops/ (resize is differentiable).
#pragma once
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>

#include "ink/io/file.hpp"
#include "ink/ops.hpp"

// stb is compiled into every translation unit that includes this header, with internal linkage
// (STB_IMAGE_STATIC / STB_IMAGE_WRITE_STATIC): two translation units of one program each get
// their own identical private copy instead of clashing definitions of extern symbols, which is
// what keeps ink header-only. Only the decoders ink offers are compiled, and no stdio: files are
// read and written by io/file.hpp so that errors name the file and writes are atomic.
#if !defined(INK_STB_IMAGE_INCLUDED)
#define INK_STB_IMAGE_INCLUDED
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wdouble-promotion"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wcast-qual"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#if !defined(__clang__)  // a GCC-only warning
#pragma GCC diagnostic ignored "-Wuseless-cast"
#endif
#pragma GCC diagnostic ignored "-Wpragmas"
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_FAILURE_USERMSG
#include <stb_image.h>
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include <stb_image_write.h>
#undef STB_IMAGE_IMPLEMENTATION
#undef STB_IMAGE_WRITE_IMPLEMENTATION
#pragma GCC diagnostic pop
#endif

namespace ink::io {

namespace detail {
inline const char* stb_reason() {
  const char* r = stbi_failure_reason();
  return r ? r : "unknown reason";
}

// stb_image 2.27 (Debian's) writes past its Huffman arrays when a JPEG DHT table declares more
// than 256 codes (fuzz_image found it; upstream added the check later). Until the system copy
// has the fix, JPEG bytes are screened first: every place stb could read a DHT marker (an
// 0xC4 after 0xFF) is parsed as stb would parse it, except inside the leading APPn / COM
// segments, which stb skips by their lengths as done here. True when no table is oversized.
inline bool jpeg_huffman_tables_ok(const std::uint8_t* d, std::size_t n) {
  // stb takes a JPEG to start with 0xFF, any more 0xFF fill bytes, then 0xD8; other data never
  // reaches its JPEG decoder.
  std::size_t pos = 0;
  while (pos < n && d[pos] == 0xFF) ++pos;
  if (pos == 0 || pos == n || d[pos] != 0xD8) return true;
  ++pos;
  auto byte = [&](std::size_t i) -> unsigned { return i < n ? d[i] : 0; };  // stb reads 0 past the end
  while (pos + 3 < n && d[pos] == 0xFF) {
    std::size_t m = pos + 1;
    while (m < n && d[m] == 0xFF) ++m;  // fill bytes
    if (m + 2 >= n || !((d[m] >= 0xE0 && d[m] <= 0xEF) || d[m] == 0xFE)) break;
    const std::size_t len = (std::size_t(d[m + 1]) << 8) | d[m + 2];
    if (len < 2) break;
    pos = m + 1 + len;
  }
  for (std::size_t i = std::max<std::size_t>(pos, 1); i < n; ++i) {
    if (d[i] != 0xC4 || d[i - 1] != 0xFF) continue;
    long left = static_cast<long>((byte(i + 1) << 8) | byte(i + 2)) - 2;
    std::size_t p = i + 3;
    while (left > 0 && p < n) {
      if ((byte(p) >> 4) > 1 || (byte(p) & 15) > 3) break;  // stb rejects the table here
      unsigned codes = 0;
      for (std::size_t k = 1; k <= 16; ++k) codes += byte(p + k);
      if (codes > 256) return false;
      left -= 17 + static_cast<long>(codes);
      p += 17 + codes;
    }
  }
  return true;
}

// Two PNG defects of stb_image 2.27, both found by fuzz_image, are screened here, walking the
// chunks by their lengths up to IEND as stb does:
// - a chunk longer than the rest of the file: stb grows its IDAT buffer to the claimed length
//   (gigabytes from a 100-byte file) before noticing the data is missing. Such a file is
//   truncated, and stb would reject it anyway; here it is rejected before the allocation.
// - an empty IDAT chunk first: stb memcpy()s zero bytes into a null buffer, undefined
//   behaviour, though the PNG is legal. Empty chunks hold nothing, so a copy of the file
//   without them (put in `out`; the function then returns true) decodes to the same image.
inline bool screen_png(const std::uint8_t* d, std::size_t n, const std::string& name, Bytes& out) {
  static constexpr std::uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (n < 8 || std::memcmp(d, signature, 8) != 0) return false;
  auto be32 = [d](std::size_t i) {
    return (std::uint32_t(d[i]) << 24) | (std::uint32_t(d[i + 1]) << 16) | (std::uint32_t(d[i + 2]) << 8) | d[i + 3];
  };
  bool dropped = false;
  std::size_t copied = 0;
  for (std::size_t pos = 8; pos + 8 <= n;) {
    if (std::memcmp(d + pos + 4, "IEND", 4) == 0) break;
    const std::uint64_t len = be32(pos);
    INK_CHECK(IOError, n - pos >= 12 && len <= n - pos - 12, "read_image: '", name, "' is a truncated PNG (a chunk of ",
              len, " bytes at offset ", pos, " runs past the end of the file)");
    if (len == 0 && std::memcmp(d + pos + 4, "IDAT", 4) == 0) {
      out.insert(out.end(), d + copied, d + pos);
      copied = pos + 12;
      dropped = true;
    }
    pos += 12 + static_cast<std::size_t>(len);
  }
  if (dropped) out.insert(out.end(), d + copied, d + n);
  return dropped;
}

}  // namespace detail

struct ImageReadOptions {
  // 0 keeps the file's channels (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA); 1, 3 or 4 converts.
  int channels = 0;
  // Images with more pixels than this are refused before decoding: a 60-byte PNG can claim to
  // be 100000 x 100000, and the decoder would allocate for the claim.
  index_t max_pixels = index_t(1) << 28;
};

// Decodes a PNG, JPEG or BMP held in memory into a float tensor [C,H,W] with values in [0,1]
// (8-bit samples / 255, 16-bit PNG samples / 65535). `name` appears in error messages.
// Throws IOError on anything that is not a complete, valid image; never reads outside
// [data, data + size).
inline Tensor<float> decode_image(const std::uint8_t* data, std::size_t size, const ImageReadOptions& o = {},
                                  const std::string& name = "<memory>") {
  INK_CHECK(ValueError, o.channels == 0 || o.channels == 1 || o.channels == 3 || o.channels == 4,
            "decode_image: channels must be 0, 1, 3 or 4, got ", o.channels);
  INK_CHECK(IOError, size > 0 && size <= static_cast<std::size_t>(INT_MAX), "read_image: '", name, "' is ",
            size == 0 ? "empty" : "too large (over 2 GiB)");
  INK_CHECK(IOError, detail::jpeg_huffman_tables_ok(data, size), "read_image: '", name,
            "' is a corrupt JPEG (a Huffman table declares more than 256 codes)");
  Bytes cleaned;
  if (detail::screen_png(data, size, name, cleaned)) {
    data = cleaned.data();
    size = cleaned.size();
  }
  const int len = static_cast<int>(size);
  int w = 0, h = 0, file_channels = 0;
  INK_CHECK(IOError, stbi_info_from_memory(data, len, &w, &h, &file_channels), "read_image: '", name,
            "' is not a readable PNG, JPEG or BMP image (", detail::stb_reason(), ")");
  INK_CHECK(IOError, w > 0 && h > 0 && static_cast<index_t>(w) * h <= o.max_pixels, "read_image: '", name,
            "' claims ", w, "x", h, " pixels, more than max_pixels = ", o.max_pixels);
  const bool sixteen = stbi_is_16_bit_from_memory(data, len);
  int dw = 0, dh = 0, got = 0;
  void* pixels = sixteen ? static_cast<void*>(stbi_load_16_from_memory(data, len, &dw, &dh, &got, o.channels))
                         : static_cast<void*>(stbi_load_from_memory(data, len, &dw, &dh, &got, o.channels));
  INK_CHECK(IOError, pixels != nullptr, "read_image: cannot decode '", name, "' (", detail::stb_reason(), ")");
  struct Freer {
    void* p;
    ~Freer() { stbi_image_free(p); }
  } freer{pixels};
  INK_CHECK(IOError, dw == w && dh == h, "read_image: '", name, "' decoded to another size than its header says");
  const index_t c = o.channels ? o.channels : got, H = dh, W = dw;
  Tensor<float> out = empty<float>({c, H, W});
  float* dst = out.data_ptr();
  auto convert = [&](const auto* src, float scale) {
    for (index_t y = 0; y < H; ++y)
      for (index_t x = 0; x < W; ++x)
        for (index_t k = 0; k < c; ++k) dst[(k * H + y) * W + x] = static_cast<float>(src[(y * W + x) * c + k]) * scale;
  };
  if (sixteen) convert(static_cast<const std::uint16_t*>(pixels), 1.0f / 65535.0f);
  else convert(static_cast<const std::uint8_t*>(pixels), 1.0f / 255.0f);
  return out;
}

// Reads a PNG, JPEG or BMP file into [C,H,W] floats in [0,1] (see decode_image). Throws IOError
// naming the file when it cannot be read or decoded.
inline Tensor<float> read_image(const std::filesystem::path& path, const ImageReadOptions& o = {}) {
  const Bytes bytes = read_file(path, "read_image");
  return decode_image(bytes.data(), bytes.size(), o, path.string());
}

namespace detail {

// [C,H,W] floats -> interleaved 8-bit samples, rounding x*255 after clamping to [0,1]
// (torchvision's save_image does the same); NaN becomes 0.
template <class T>
std::vector<std::uint8_t> to_interleaved_u8(const Tensor<T>& image, const char* op, int max_channels) {
  INK_CHECK(ShapeError, image.dim() == 3, op, ": expected an image [C,H,W], got shape ", image.shape());
  const index_t c = image.size(0), h = image.size(1), w = image.size(2);
  INK_CHECK(ShapeError, (c == 1 || c == 3 || (c == 4 && max_channels == 4)) && h > 0 && w > 0 && h <= INT_MAX / 4 &&
                            w <= INT_MAX / 4,
            op, ": expected 1 or 3", max_channels == 4 ? " or 4" : "", " channels and a non-empty image, got shape ",
            image.shape());
  const Tensor<T> x = image.contiguous();
  const T* src = x.data_ptr();
  std::vector<std::uint8_t> out(static_cast<std::size_t>(c * h * w));
  for (index_t k = 0; k < c; ++k)
    for (index_t i = 0; i < h * w; ++i) {
      const double v = static_cast<double>(src[k * h * w + i]);
      const double clamped = v >= 0 ? (v <= 1 ? v : 1.0) : 0.0;  // NaN fails both tests: 0
      out[static_cast<std::size_t>(i * c + k)] = static_cast<std::uint8_t>(clamped * 255.0 + 0.5);
    }
  return out;
}

inline void append_bytes(void* context, void* data, int size) {
  auto* out = static_cast<Bytes*>(context);
  const auto* p = static_cast<const std::uint8_t*>(data);
  out->insert(out->end(), p, p + size);
}

}  // namespace detail

// PNG bytes of an image [C,H,W] (C = 1, 3 or 4), values clamped to [0,1] and stored in 8 bits.
template <class T>
Bytes encode_png(const Tensor<T>& image) {
  const auto pixels = detail::to_interleaved_u8(image, "encode_png", 4);
  const int c = static_cast<int>(image.size(0)), h = static_cast<int>(image.size(1)), w = static_cast<int>(image.size(2));
  Bytes out;
  INK_CHECK(IOError, stbi_write_png_to_func(detail::append_bytes, &out, w, h, c, pixels.data(), w * c),
            "encode_png: stb_image_write failed for shape ", image.shape());
  return out;
}

// JPEG bytes of an image [C,H,W] (C = 1 or 3) at `quality` in [1, 100]. stb_image_write
// stores every JPEG as colour, so a one-channel image reads back as three equal channels
// unless read with .channels = 1.
template <class T>
Bytes encode_jpeg(const Tensor<T>& image, int quality = 95) {
  INK_CHECK(ValueError, quality >= 1 && quality <= 100, "encode_jpeg: quality must be in [1, 100], got ", quality);
  const auto pixels = detail::to_interleaved_u8(image, "encode_jpeg", 3);
  const int c = static_cast<int>(image.size(0)), h = static_cast<int>(image.size(1)), w = static_cast<int>(image.size(2));
  Bytes out;
  INK_CHECK(IOError, stbi_write_jpg_to_func(detail::append_bytes, &out, w, h, c, pixels.data(), quality),
            "encode_jpeg: stb_image_write failed for shape ", image.shape());
  return out;
}

// Writes an image [C,H,W] with values in [0,1] (clamped) to a PNG file, atomically.
template <class T>
void write_png(const std::filesystem::path& path, const Tensor<T>& image) {
  const Bytes b = encode_png(image);
  write_file_atomic(path, b.data(), b.size(), "write_png");
}

// Writes an image [C,H,W] (C = 1 or 3) to a JPEG file, atomically.
template <class T>
void write_jpeg(const std::filesystem::path& path, const Tensor<T>& image, int quality = 95) {
  const Bytes b = encode_jpeg(image, quality);
  write_file_atomic(path, b.data(), b.size(), "write_jpeg");
}

// Writes PNG or JPEG by the file's extension (.png, .jpg, .jpeg; case-insensitive).
template <class T>
void write_image(const std::filesystem::path& path, const Tensor<T>& image, int jpeg_quality = 95) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (ext == ".png") write_png(path, image);
  else if (ext == ".jpg" || ext == ".jpeg") write_jpeg(path, image, jpeg_quality);
  else throw ValueError("write_image: cannot tell the format of '" + path.string() + "' (use .png, .jpg or .jpeg)");
}

namespace detail {

// [out, in] resampling weights with a triangle (tent) kernel on half-pixel centres. Upscaling
// uses radius 1: bilinear interpolation as PyTorch's align_corners=False. Shrinking by a factor
// s stretches the tent to radius s so every input pixel contributes (the antialiased "bilinear"
// of PIL and torchvision's antialias=True); without antialias the radius stays 1. Taps outside
// the image are dropped and each row renormalised, which is the same as clamping at the edges.
template <class T>
Tensor<T> tent_weights(index_t in, index_t out, bool antialias) {
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  const double radius = antialias ? std::max(scale, 1.0) : 1.0;
  Tensor<T> m = zeros<T>({out, in});
  T* w = m.data_ptr();
  for (index_t i = 0; i < out; ++i) {
    const double centre = (static_cast<double>(i) + 0.5) * scale;
    const auto lo = std::max<index_t>(0, static_cast<index_t>(std::floor(centre - radius)));
    const auto hi = std::min<index_t>(in - 1, static_cast<index_t>(std::ceil(centre + radius)));
    double total = 0;
    for (index_t j = lo; j <= hi; ++j) total += std::max(0.0, 1.0 - std::abs(static_cast<double>(j) + 0.5 - centre) / radius);
    for (index_t j = lo; j <= hi; ++j)
      w[i * in + j] = static_cast<T>(std::max(0.0, 1.0 - std::abs(static_cast<double>(j) + 0.5 - centre) / radius) / total);
  }
  return m;
}

}  // namespace detail

struct ResizeOptions {
  bool antialias = true;  // average over the whole footprint when shrinking
};

// Resizes images [C,H,W] or batches [N,C,H,W] to height x width with (antialiased) bilinear
// interpolation. Differentiable: it is two matrix products with fixed weights.
template <class T>
Tensor<T> resize(const Tensor<T>& image, index_t height, index_t width, ResizeOptions o = {}) {
  INK_CHECK(ShapeError, image.dim() == 3 || image.dim() == 4, "resize: expected [C,H,W] or [N,C,H,W], got ",
            image.shape());
  INK_CHECK(ValueError, height > 0 && width > 0 && image.size(-1) > 0 && image.size(-2) > 0,
            "resize: sizes must be positive, got ", height, "x", width, " for an image of shape ", image.shape());
  const Tensor<T> rows = detail::tent_weights<T>(image.size(-2), height, o.antialias);
  const Tensor<T> cols = detail::tent_weights<T>(image.size(-1), width, o.antialias);
  return matmul(matmul(rows, image), cols.t());
}

struct MakeGridOptions {
  index_t nrow = 8;        // images per row
  index_t padding = 2;     // pixels between images and around the grid
  double pad_value = 0;    // value of the padding pixels
  bool normalize = false;  // shift and scale the whole batch to [0,1] by its min and max
};

// One image [C, rows*(H+p)+p, nrow*(W+p)+p] tiling a batch [N,C,H,W] row by row, as
// torchvision.utils.make_grid (one-channel batches become three-channel grey, as there).
template <class T>
Tensor<T> make_grid(const Tensor<T>& batch, MakeGridOptions o = {}) {
  INK_CHECK(ShapeError, batch.dim() == 4 && batch.size(0) > 0, "make_grid: expected a non-empty batch [N,C,H,W], got ",
            batch.shape());
  INK_CHECK(ValueError, o.nrow > 0 && o.padding >= 0, "make_grid: nrow must be positive and padding non-negative, got ",
            o.nrow, " and ", o.padding);
  NoGradGuard no_grad;
  Tensor<T> x = batch.detach().contiguous();
  if (x.size(1) == 1) x = cat(std::vector<Tensor<T>>{x, x, x}, 1);
  if (o.normalize) {
    const T lo = x.min().item(), hi = x.max().item();
    x = (x - lo) / std::max<T>(hi - lo, T(1e-5));
  }
  const index_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3), p = o.padding;
  const index_t xmaps = std::min(o.nrow, n), ymaps = (n + xmaps - 1) / xmaps;
  Tensor<T> grid = full<T>({c, ymaps * (h + p) + p, xmaps * (w + p) + p}, static_cast<T>(o.pad_value));
  for (index_t i = 0; i < n; ++i) {
    const index_t y0 = (i / xmaps) * (h + p) + p, x0 = (i % xmaps) * (w + p) + p;
    grid.narrow(1, y0, h).narrow(2, x0, w).copy_(x.select(0, i));
  }
  return grid;
}

}  // namespace ink::io
