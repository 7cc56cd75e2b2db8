#include "sluice/json.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <unordered_set>

#include "utf8.hpp"

namespace sluice::json {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

// Bytes a string cannot copy as they are: control characters, '"' and '\\' are escaped;
// bytes from 0x80 start UTF-8 sequences, which are checked.
constexpr auto needs_care = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = true;
  for (int c = 0x80; c < 0x100; ++c) table[c] = true;
  table['"'] = table['\\'] = true;
  return table;
}();

[[gnu::flatten]] void write_string(std::string_view s, std::string& out) {
  out.reserve(out.size() + s.size() + 2);
  out += '"';
  std::size_t run = 0;  // start of the bytes not yet copied
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (!needs_care[c]) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      const std::size_t len = utf8_sequence_length(s, i);
      if (len != 0) {
        i += len;
        continue;
      }
    }
    out.append(s.data() + run, i - run);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          const char escape[] = {'\\', 'u', '0', '0', hex_digits[c >> 4], hex_digits[c & 15]};
          out.append(escape, sizeof escape);
        } else {
          out += "\xEF\xBF\xBD";  // invalid UTF-8 byte → U+FFFD
        }
    }
    ++i;
    run = i;
  }
  out.append(s.data() + run, n - run);
  out += '"';
}

// std::to_chars finds the shortest digits that read back (Ryu): several hundred instructions a
// number. Doubles in records mostly have a few decimals (prices, scores, coordinates), so for
// 1 <= |d| < 2^32 decimals of up to 6 places are tried first. Two such decimals differ by at
// least 1e-6, more than ulp(d) <= 2^-21, so at most one reads back as d: the one found is the
// shortest, and fixed notation is what to_chars chooses for it. Returns false to fall back.
bool write_short_decimal(double d, std::string& out) {
  const double magnitude = std::fabs(d);
  if (!(magnitude >= 1.0 && magnitude < 4294967296.0) || magnitude == std::floor(magnitude))
    return false;
  static constexpr double powers_of_ten[] = {1e1, 1e2, 1e3, 1e4, 1e5, 1e6};
  for (int places = 1; places <= 6; ++places) {
    const double power = powers_of_ten[places - 1];
    const double scaled = magnitude * power;
    // digits / 10^places reads back as the correctly rounded quotient, which this computes.
    if (scaled != std::floor(scaled) || scaled / power != magnitude) continue;
    char digits[24];
    std::size_t length =
        std::to_chars(digits, digits + sizeof digits, static_cast<std::uint64_t>(scaled)).ptr - digits;
    int decimals = places;
    // The product may round to an integer only at a later power: drop the zeros that adds.
    while (digits[length - 1] == '0') {
      --length;
      --decimals;
    }
    if (d < 0) out += '-';
    out.append(digits, length - decimals);
    out += '.';
    out.append(digits + length - decimals, decimals);
    return true;
  }
  return false;
}

void write_double(double d, std::string& out) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  if (write_short_decimal(d, out)) return;
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, d);
  const std::string_view text(buffer, result.ptr - buffer);
  out += text;
  // Keep it a double when read back: "1" would come back as an integer.
  if (text.find_first_of(".e") == std::string_view::npos) out += ".0";
}

template <class Integer>
void write_integer(Integer i, std::string& out) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, i);
  out.append(buffer, result.ptr - buffer);
}

void write_value(const Value& v, std::string& out, int indent, int depth);

void newline(std::string& out, int indent, int depth) {
  if (indent <= 0) return;
  out += '\n';
  out.append(static_cast<std::size_t>(indent * depth), ' ');
}

[[gnu::flatten]] void write_object(const Object& object, std::string& out, int indent, int depth) {
  if (object.empty()) {
    out += "{}";
    return;
  }
  out += '{';
  bool first = true;
  for (const auto& [key, value] : object) {
    if (!first) out += ',';
    first = false;
    newline(out, indent, depth + 1);
    write_string(key, out);
    out += indent > 0 ? ": " : ":";
    write_value(value, out, indent, depth + 1);
  }
  newline(out, indent, depth);
  out += '}';
}

[[gnu::flatten]] void write_value(const Value& v, std::string& out, int indent, int depth) {
  switch (v.type()) {
    case ValueType::null: out += "null"; return;
    case ValueType::boolean: out += v.as_bool() ? "true" : "false"; return;
    case ValueType::integer: write_integer(v.as_int(), out); return;
    case ValueType::big_integer: write_integer(v.as_uint(), out); return;
    case ValueType::number: write_double(v.as_double(), out); return;
    case ValueType::string: write_string(v.as_string(), out); return;
    case ValueType::array: {
      const Array& array = v.as_array();
      if (array.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (std::size_t i = 0; i < array.size(); ++i) {
        if (i) out += ',';
        newline(out, indent, depth + 1);
        write_value(array[i], out, indent, depth + 1);
      }
      newline(out, indent, depth);
      out += ']';
      return;
    }
    case ValueType::object: write_object(v.as_object(), out, indent, depth); return;
  }
}

}  // namespace

void write(const Value& value, std::string& out) { write_value(value, out, 0, 0); }
void write_pretty(const Value& value, std::string& out, int indent) { write_value(value, out, indent, 0); }
void write_fields(const Packet& packet, std::string& out) { write_object(packet.fields(), out, 0, 0); }

void write_envelope(const Packet& packet, std::string& out) {
  out += "{\"fields\":";
  write_object(packet.fields(), out, 0, 0);
  out += ",\"meta\":";
  write_object(packet.meta(), out, 0, 0);
  out += ",\"field_meta\":";
  write_object(packet.field_meta(), out, 0, 0);
  out += '}';
}

std::string to_string(const Value& value) {
  std::string out;
  write(value, out);
  return out;
}

std::string to_pretty_string(const Value& value) {
  std::string out;
  write_pretty(value, out);
  return out;
}

std::string to_string(const Packet& packet) {
  std::string out;
  write_fields(packet, out);
  return out;
}

std::string to_envelope(const Packet& packet) {
  std::string out;
  write_envelope(packet, out);
  return out;
}

}  // namespace sluice::json
