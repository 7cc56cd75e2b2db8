// The key of a packet: the values at some field paths as one string, shared by the packages
// that compare packets by value (hash in transform; dedupe, sample and join in flow).
//
// Values that the condition language calls equal (docs/conditions.md) give the same key:
// `1` and `1.0` are one number, and objects are equal whatever their key order. Absent and
// null differ.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <sluice/json.hpp>
#include <sluice/packet.hpp>

namespace sluice::plugins {

// `value` as JSON in one form per equal value: integral numbers without a fraction, object
// members sorted by key.
inline void write_canonical(const Value& value, std::string& out) {
  if (value.is_double()) {
    const double d = value.as_double();
    // 2^63 is exact as a double; integral values in [-2^63, 2^63) fit an int64.
    if (std::trunc(d) == d && d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
      json::write(Value(static_cast<std::int64_t>(d)), out);
      return;
    }
    // and those in [2^63, 2^64) a uint64, as a big integer equal to them is written.
    if (std::trunc(d) == d && d >= 9223372036854775808.0 && d < 18446744073709551616.0) {
      json::write(Value(static_cast<std::uint64_t>(d)), out);
      return;
    }
  } else if (value.is_array()) {
    out += '[';
    const char* separator = "";
    for (const auto& item : value.as_array()) {
      out += separator;
      write_canonical(item, out);
      separator = ",";
    }
    out += ']';
    return;
  } else if (value.is_object()) {
    std::vector<const Object::Member*> members;
    for (const auto& member : value.as_object()) members.push_back(&member);
    std::sort(members.begin(), members.end(), [](auto* a, auto* b) { return a->first < b->first; });
    out += '{';
    const char* separator = "";
    for (const auto* member : members) {
      out += separator;
      json::write(Value(member->first), out);
      out += ':';
      write_canonical(member->second, out);
      separator = ",";
    }
    out += '}';
    return;
  }
  json::write(value, out);
}

// The canonical values at `paths`, in order, as one string.
inline std::string key_text(const Packet& packet, const std::vector<FieldPath>& paths) {
  std::string text;
  for (const auto& path : paths) {
    // \x1e never appears in JSON text, so it separates values unambiguously (["ab", "c"] is
    // not ["a", "bc"]); a lone \x1f (not valid JSON either) stands for an absent value.
    if (const Value* v = packet.find_path(path))
      write_canonical(*v, text);
    else
      text += '\x1f';
    text += '\x1e';
  }
  return text;
}

}  // namespace sluice::plugins
