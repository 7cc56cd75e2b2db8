// Small string functions the kernel shares: header names and media types are compared in
// lower case with surrounding whitespace trimmed, names in messages are quoted as JSON
// strings, and counts in messages carry their noun ("1 error", "3 errors").
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <sluice/json.hpp>
#include <sluice/text.hpp>

namespace sluice {

// The SDK's (sluice/text.hpp), which the bundled components use too.
using text::lower;
using text::trim;

// `text` as a JSON string literal, quotes and escapes included.
inline std::string json_quoted(std::string_view text) { return json::to_string(Value(text)); }

// "1 node", "2 nodes": `noun` is singular and takes an 's' in the plural.
inline std::string count_of(std::size_t n, std::string_view noun) {
  std::string out = std::to_string(n) + ' ' + std::string(noun);
  if (n != 1) out += 's';
  return out;
}

}  // namespace sluice
