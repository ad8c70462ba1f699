// A minimal JSON value with a strict parser and a writer: enough for safetensors headers (and
// nothing else needs JSON here), so ink takes no JSON dependency. The parser is written for
// hostile input: bounded nesting, duplicate keys refused, integers kept exact. Part of io/.
#pragma once
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "ink/core/error.hpp"

namespace ink::io {

struct Json {
  enum class Kind { null, boolean, number, string, array, object };
  Kind kind = Kind::null;
  bool boolean = false;
  double number = 0;
  bool is_integer = false;  // the literal had no fraction or exponent and fits int64
  std::int64_t integer = 0;
  std::string string;
  std::vector<Json> array;
  std::vector<std::pair<std::string, Json>> object;  // in file order; keys are unique

  static Json make_string(std::string s) {
    Json j;
    j.kind = Kind::string;
    j.string = std::move(s);
    return j;
  }
  static Json make_integer(std::int64_t v) {
    Json j;
    j.kind = Kind::number;
    j.is_integer = true;
    j.integer = v;
    j.number = static_cast<double>(v);
    return j;
  }
  static Json make_array(std::vector<Json> items = {}) {
    Json j;
    j.kind = Kind::array;
    j.array = std::move(items);
    return j;
  }
  static Json make_object() {
    Json j;
    j.kind = Kind::object;
    return j;
  }

  // The member named `key` of an object, or nullptr.
  const Json* find(std::string_view key) const {
    for (const auto& [k, v] : object)
      if (k == key) return &v;
    return nullptr;
  }
};

namespace detail {

class JsonParser {
 public:
  JsonParser(std::string_view text, const std::string& context) : s_(text), context_(context) {}

  Json parse_document() {
    Json v = parse_value(0);
    skip_ws();
    if (pos_ != s_.size()) fail("unexpected text after the JSON value");
    return v;
  }

 private:
  static constexpr int max_depth = 64;  // deep enough for any real header, shallow for the stack

  [[noreturn]] void fail(const std::string& why) const {
    throw IOError(context_ + ": malformed JSON at byte " + std::to_string(pos_) + ": " + why);
  }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  char peek() {
    skip_ws();
    if (pos_ >= s_.size()) fail("unexpected end");
    return s_[pos_];
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  bool consume_literal(std::string_view lit) {
    if (s_.substr(pos_, lit.size()) != lit) return false;
    pos_ += lit.size();
    return true;
  }

  Json parse_value(int depth) {
    if (depth > max_depth) fail("nesting deeper than " + std::to_string(max_depth));
    const char c = peek();
    Json v;
    if (c == '{') {
      ++pos_;
      v.kind = Json::Kind::object;
      std::unordered_set<std::string> keys;  // a linear search per key would be quadratic
      if (peek() == '}') {
        ++pos_;
        return v;
      }
      for (;;) {
        if (peek() != '"') fail("expected a string key");
        std::string key = parse_string();
        if (!keys.insert(key).second) fail("duplicate key \"" + key + "\"");
        expect(':');
        v.object.emplace_back(std::move(key), parse_value(depth + 1));
        if (peek() == ',') {
          ++pos_;
          continue;
        }
        expect('}');
        return v;
      }
    }
    if (c == '[') {
      ++pos_;
      v.kind = Json::Kind::array;
      if (peek() == ']') {
        ++pos_;
        return v;
      }
      for (;;) {
        v.array.push_back(parse_value(depth + 1));
        if (peek() == ',') {
          ++pos_;
          continue;
        }
        expect(']');
        return v;
      }
    }
    if (c == '"') return Json::make_string(parse_string());
    if (consume_literal("true")) {
      v.kind = Json::Kind::boolean;
      v.boolean = true;
      return v;
    }
    if (consume_literal("false")) {
      v.kind = Json::Kind::boolean;
      return v;
    }
    if (consume_literal("null")) return v;
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number();
    fail(std::string("unexpected character '") + c + "'");
  }

  // RFC 8259 number grammar, checked before conversion so strtod never sees junk.
  Json parse_number() {
    const std::size_t start = pos_;
    auto digits = [&] {
      const std::size_t d = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      return pos_ - d;
    };
    if (s_[pos_] == '-') ++pos_;
    if (pos_ < s_.size() && s_[pos_] == '0') ++pos_;
    else if (digits() == 0) fail("bad number");
    bool integral = true;
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      integral = false;
      if (digits() == 0) fail("bad number");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      integral = false;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (digits() == 0) fail("bad number");
    }
    // from_chars, unlike strtod, ignores the C locale's decimal separator.
    const char* first = s_.data() + start;
    const char* last = s_.data() + pos_;
    Json v;
    v.kind = Json::Kind::number;
    if (std::from_chars(first, last, v.number).ec != std::errc()) {  // out of double's range
      const bool tiny = std::string_view(first, static_cast<std::size_t>(last - first)).find("e-") != std::string_view::npos ||
                        std::string_view(first, static_cast<std::size_t>(last - first)).find("E-") != std::string_view::npos;
      v.number = (first[0] == '-' ? -1.0 : 1.0) * (tiny ? 0.0 : HUGE_VAL);
    }
    if (integral) v.is_integer = std::from_chars(first, last, v.integer).ec == std::errc();
    return v;
  }

  unsigned parse_hex4() {
    if (pos_ + 4 > s_.size()) fail("truncated \\u escape");
    unsigned u = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = s_[pos_++];
      u <<= 4;
      if (h >= '0' && h <= '9') u |= static_cast<unsigned>(h - '0');
      else if (h >= 'a' && h <= 'f') u |= static_cast<unsigned>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') u |= static_cast<unsigned>(h - 'A' + 10);
      else fail("bad \\u escape");
    }
    return u;
  }

  std::string parse_string() {
    ++pos_;  // opening quote
    std::string out;
    for (;;) {
      if (pos_ >= s_.size()) fail("unterminated string");
      const char c = s_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) fail("unterminated string");
      switch (const char e = s_[pos_++]; e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned cp = parse_hex4();
          if (cp >= 0xD800 && cp < 0xDC00) {  // a UTF-16 surrogate pair
            if (!consume_literal("\\u")) fail("unpaired surrogate");
            const unsigned lo = parse_hex4();
            if (lo < 0xDC00 || lo >= 0xE000) fail("unpaired surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            fail("unpaired surrogate");
          }
          append_utf8(out, cp);
          break;
        }
        default: fail(std::string("bad escape '\\") + e + "'");
      }
    }
  }

  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::string_view s_;
  const std::string& context_;
  std::size_t pos_ = 0;
};

inline void write_json_string(std::string& out, const std::string& s) {
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

}  // namespace detail

// Parses one JSON document; throws IOError prefixed by `context` (e.g. the file name) on any
// syntax error, duplicate object key or nesting deeper than 64.
inline Json parse_json(std::string_view text, const std::string& context = "parse_json") {
  return detail::JsonParser(text, context).parse_document();
}

// Compact JSON text of a value (no spaces). Non-finite numbers, which JSON cannot hold, are
// written as null.
inline void write_json(std::string& out, const Json& v) {
  switch (v.kind) {
    case Json::Kind::null: out += "null"; break;
    case Json::Kind::boolean: out += v.boolean ? "true" : "false"; break;
    case Json::Kind::number:
      if (v.is_integer) {
        out += std::to_string(v.integer);
      } else if (std::isfinite(v.number)) {
        char buf[32];  // shortest round-trip text, independent of the locale
        out.append(buf, std::to_chars(buf, buf + sizeof buf, v.number).ptr);
      } else {
        out += "null";
      }
      break;
    case Json::Kind::string: detail::write_json_string(out, v.string); break;
    case Json::Kind::array:
      out += '[';
      for (std::size_t i = 0; i < v.array.size(); ++i) {
        if (i) out += ',';
        write_json(out, v.array[i]);
      }
      out += ']';
      break;
    case Json::Kind::object:
      out += '{';
      for (std::size_t i = 0; i < v.object.size(); ++i) {
        if (i) out += ',';
        detail::write_json_string(out, v.object[i].first);
        out += ':';
        write_json(out, v.object[i].second);
      }
      out += '}';
      break;
  }
}
inline std::string to_json(const Json& v) {
  std::string out;
  write_json(out, v);
  return out;
}

}  // namespace ink::io
