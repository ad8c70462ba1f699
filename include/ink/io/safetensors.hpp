// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}, then the
// raw little-endian tensor bytes. PyTorch, JAX and friends read and write it, so it is how ink
// exchanges weights; every header field is validated before use. Part of io/, above nn/.
#pragma once
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "ink/io/file.hpp"
#include "ink/io/json.hpp"
#include "ink/nn/module.hpp"

namespace ink::io {

static_assert(std::endian::native == std::endian::little,
              "ink::io safetensors copies little-endian data as is; big-endian hosts are not supported");

// Free-form string pairs stored in the header's "__metadata__".
using Metadata = std::map<std::string, std::string>;

namespace detail {

struct SafetensorsDtype {
  const char* name;
  std::size_t size;
};
// The dtypes ink reads; it writes F32, F64 and I64.
inline constexpr SafetensorsDtype safetensors_dtypes[] = {{"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
                                                          {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U8", 1},   {"BOOL", 1}};

// IEEE binary16 -> float, exactly (every half is a float).
inline float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1Fu, mant = h & 0x3FFu;
  if (exp == 0) {  // zero or subnormal: mant * 2^-24
    const float f = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -f : f;
  }
  const std::uint32_t bits = exp == 31 ? (sign | 0x7F800000u | (mant << 13)) : (sign | ((exp + 112) << 23) | (mant << 13));
  return std::bit_cast<float>(bits);
}

template <class T>
const char* safetensors_dtype_of() {
  if constexpr (std::is_same_v<T, float>) return "F32";
  else if constexpr (std::is_same_v<T, double>) return "F64";
  else return "I64";
}

// Converts `n` elements of `dtype` at `src` (any alignment) to T.
template <class T>
void convert_from(const std::string& dtype, const std::uint8_t* src, T* dst, std::size_t n) {
  auto each = [&](auto tag, auto&& f) {
    using S = decltype(tag);
    for (std::size_t i = 0; i < n; ++i) {
      S s;
      std::memcpy(&s, src + i * sizeof(S), sizeof(S));
      dst[i] = static_cast<T>(f(s));
    }
  };
  auto id = [](auto v) { return v; };
  if (dtype == safetensors_dtype_of<T>()) std::memcpy(dst, src, n * sizeof(T));
  else if (dtype == "F64") each(double{}, id);
  else if (dtype == "F32") each(float{}, id);
  else if (dtype == "F16") each(std::uint16_t{}, half_to_float);
  else if (dtype == "BF16") each(std::uint16_t{}, [](std::uint16_t b) { return std::bit_cast<float>(std::uint32_t(b) << 16); });
  else if (dtype == "I64") each(std::int64_t{}, id);
  else if (dtype == "I32") each(std::int32_t{}, id);
  else if (dtype == "I16") each(std::int16_t{}, id);
  else if (dtype == "I8") each(std::int8_t{}, id);
  else each(std::uint8_t{}, id);  // U8 and BOOL
}

}  // namespace detail

// Decodes safetensors bytes into named tensors of element type T, in the order of their data
// in the file (for files ink wrote: the order they were saved in). float / double accept every
// dtype (F16 / BF16 widen exactly; integers convert); int64_t accepts integer dtypes only.
// Metadata goes to `*metadata` when given. Throws IOError naming `name` for a header length
// beyond the file or over 100 MB, non-JSON, a missing or ill-typed field, an unknown dtype, a
// duplicate name, offsets out of range or not matching shape x dtype size, overlapping tensors
// or bytes no tensor covers.
template <class T = float>
nn::NamedTensors<T> decode_safetensors(const std::uint8_t* data, std::size_t size, const std::string& name = "<memory>",
                                       Metadata* metadata = nullptr) {
  const std::string ctx = "load_safetensors: '" + name + "'";
  INK_CHECK(IOError, size >= 8, ctx, " is too short (", size, " bytes) to be safetensors");
  std::uint64_t header_len;
  std::memcpy(&header_len, data, 8);
  INK_CHECK(IOError, header_len <= size - 8, ctx, " announces a header of ", header_len, " bytes but the file has only ",
            size - 8, " after the length");
  // The format's own limit (the reference implementation refuses longer headers too).
  INK_CHECK(IOError, header_len <= 100'000'000, ctx, " announces an absurd header length of ", header_len, " bytes");
  const std::string_view text(reinterpret_cast<const char*>(data + 8), static_cast<std::size_t>(header_len));
  INK_CHECK(IOError, !text.empty() && text[0] == '{', ctx, " has a header that is not a JSON object");
  const Json header = parse_json(text, ctx);
  INK_CHECK(IOError, header.kind == Json::Kind::object, ctx, " has a header that is not a JSON object");
  const std::uint8_t* buffer = data + 8 + header_len;
  const std::uint64_t buffer_size = size - 8 - header_len;

  struct Entry {
    std::string name, dtype;
    Shape shape;
    std::uint64_t begin, end;
  };
  std::vector<Entry> entries;
  for (const auto& [key, info] : header.object) {
    if (key == "__metadata__") {
      INK_CHECK(IOError, info.kind == Json::Kind::object, ctx, ": __metadata__ is not an object");
      for (const auto& [k, v] : info.object) {
        INK_CHECK(IOError, v.kind == Json::Kind::string, ctx, ": metadata value of \"", k, "\" is not a string");
        if (metadata) (*metadata)[k] = v.string;
      }
      continue;
    }
    const std::string where = ctx + ": tensor \"" + key + "\"";
    INK_CHECK(IOError, info.kind == Json::Kind::object, where, " is not described by an object");
    const Json* dtype = info.find("dtype");
    const Json* shape = info.find("shape");
    const Json* offsets = info.find("data_offsets");
    INK_CHECK(IOError, dtype && dtype->kind == Json::Kind::string, where, " has no dtype string");
    INK_CHECK(IOError, shape && shape->kind == Json::Kind::array, where, " has no shape array");
    INK_CHECK(IOError, offsets && offsets->kind == Json::Kind::array && offsets->array.size() == 2, where,
              " has no data_offsets [begin, end]");
    const auto* dt = std::find_if(std::begin(detail::safetensors_dtypes), std::end(detail::safetensors_dtypes),
                                  [&](const auto& d) { return dtype->string == d.name; });
    INK_CHECK(IOError, dt != std::end(detail::safetensors_dtypes), where, " has unknown dtype \"", dtype->string, "\"");
    if constexpr (std::is_integral_v<T>)
      INK_CHECK(IOError, dtype->string[0] != 'F' && dtype->string != "BF16", where, " has floating dtype ", dtype->string,
                "; load it as float or double");
    Entry e{key, dtype->string, {}, 0, 0};
    detail::check_file_rank(shape->array.size(), where);
    for (const Json& d : shape->array) {
      INK_CHECK(IOError, d.kind == Json::Kind::number && d.is_integer && d.integer >= 0, where,
                " has a shape entry that is not a non-negative integer");
      e.shape.push_back(d.integer);
    }
    detail::check_file_shape(e.shape, where);
    // Below 2^62 elements (checked above) times at most 8 bytes: no overflow.
    const std::uint64_t bytes = static_cast<std::uint64_t>(numel(e.shape)) * dt->size;
    for (const Json& o : offsets->array)
      INK_CHECK(IOError, o.kind == Json::Kind::number && o.is_integer && o.integer >= 0, where,
                " has a data offset that is not a non-negative integer");
    e.begin = static_cast<std::uint64_t>(offsets->array[0].integer);
    e.end = static_cast<std::uint64_t>(offsets->array[1].integer);
    INK_CHECK(IOError, e.begin <= e.end && e.end <= buffer_size, where, " has data_offsets [", e.begin, ", ", e.end,
              "] outside the data buffer of ", buffer_size, " bytes");
    INK_CHECK(IOError, e.end - e.begin == bytes, where, " has data_offsets [", e.begin, ", ", e.end, "] (", e.end - e.begin,
              " bytes) but shape ", e.shape, " of ", e.dtype, " needs ", bytes);
    entries.push_back(std::move(e));
  }
  // The format requires the tensors to tile the buffer exactly: no overlap (two names for one
  // set of bytes) and no holes (room for a second file hidden inside this one).
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t covered = 0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    INK_CHECK(IOError, e.begin >= covered, ctx, ": tensor \"", e.name, "\" [", e.begin, ", ", e.end,
              ") overlaps tensor \"", entries[i - 1].name, "\" [", entries[i - 1].begin, ", ", entries[i - 1].end, ")");
    INK_CHECK(IOError, e.begin == covered, ctx, ": bytes [", covered, ", ", e.begin, ") of the data belong to no tensor");
    covered = e.end;
  }
  INK_CHECK(IOError, covered == buffer_size, ctx, ": bytes [", covered, ", ", buffer_size,
            ") at the end of the file belong to no tensor");

  nn::NamedTensors<T> out;
  out.reserve(entries.size());
  for (const Entry& e : entries) {
    Tensor<T> t = empty<T>(e.shape);
    detail::convert_from<T>(e.dtype, buffer + e.begin, t.data_ptr(), static_cast<std::size_t>(t.numel()));
    out.emplace_back(e.name, std::move(t));
  }
  return out;
}

// Loads a .safetensors file (see decode_safetensors).
template <class T = float>
nn::NamedTensors<T> load_safetensors(const std::filesystem::path& path, Metadata* metadata = nullptr) {
  const Bytes b = read_file(path, "load_safetensors");
  return decode_safetensors<T>(b.data(), b.size(), path.string(), metadata);
}

// Writes named tensors (float as F32, double as F64, int64 as I64) and string metadata to a
// .safetensors file, atomically: the file is complete or absent, never partial. Names must be
// unique and not "__metadata__" (ValueError otherwise). The tensors' data follows in the given
// order; the header is padded with spaces to a multiple of 8 bytes so the data is aligned.
template <class T>
void save_safetensors(const std::filesystem::path& path, const nn::NamedTensors<T>& tensors, const Metadata& metadata = {}) {
  Json header = Json::make_object();
  if (!metadata.empty()) {
    Json m = Json::make_object();
    for (const auto& [k, v] : metadata) m.object.emplace_back(k, Json::make_string(v));
    header.object.emplace_back("__metadata__", std::move(m));
  }
  std::map<std::string, int> seen;
  std::int64_t offset = 0;
  for (const auto& [n, t] : tensors) {
    INK_CHECK(ValueError, n != "__metadata__" && seen[n]++ == 0, "save_safetensors: tensor name \"", n,
              "\" is reserved or used twice");
    INK_CHECK(ValueError, t.defined(), "save_safetensors: tensor \"", n, "\" is undefined");
    Json info = Json::make_object();
    info.object.emplace_back("dtype", Json::make_string(detail::safetensors_dtype_of<T>()));
    Json shape = Json::make_array();
    for (index_t d : t.shape()) shape.array.push_back(Json::make_integer(d));
    info.object.emplace_back("shape", std::move(shape));
    const std::int64_t bytes = t.numel() * static_cast<std::int64_t>(sizeof(T));
    info.object.emplace_back("data_offsets", Json::make_array({Json::make_integer(offset), Json::make_integer(offset + bytes)}));
    offset += bytes;
    header.object.emplace_back(n, std::move(info));
  }
  std::string text = to_json(header);
  text.append((8 - text.size() % 8) % 8, ' ');
  const std::uint64_t len = text.size();
  AtomicWriter w(path, "save_safetensors");
  w.write(&len, 8);
  w.write(text.data(), text.size());
  for (const auto& [n, t] : tensors) {
    const Tensor<T> c = t.detach().contiguous();
    w.write(c.data_ptr(), static_cast<std::size_t>(c.numel()) * sizeof(T));
  }
  w.commit();
}

}  // namespace ink::io
