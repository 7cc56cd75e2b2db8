// Small string functions the kernel shares: header names and media types are compared in
// lower case with surrounding whitespace trimmed, and names in messages are quoted as JSON
// strings.
#pragma once

#include <cctype>
#include <string>
#include <string_view>

#include <sluice/json.hpp>

namespace sluice {

inline std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

inline std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

// `text` as a JSON string literal, quotes and escapes included.
inline std::string json_quoted(std::string_view text) { return json::to_string(Value(text)); }

}  // namespace sluice
