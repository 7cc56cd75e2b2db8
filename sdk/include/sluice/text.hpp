// sluice/text.hpp — protocol text as HTTP and MIME define it: ASCII case does not matter in
// header names and media types, and whitespace around a value is not part of it.
//
//   sluice::text::lower("Content-Type")                                   // "content-type"
//   sluice::text::media_type(" Text/CSV ; charset=UTF-8")                 // "text/csv"
//   sluice::text::media_type_parameter("text/csv; charset=\"UTF-8\"", "charset")  // "utf-8"
//
// Header-only, shared by the kernel's ingress and the bundled components (the adapters read
// a packet's mimetype, http_poll a response's Content-Type).
#pragma once

#include <cctype>
#include <string>
#include <string_view>

namespace sluice::text {

// ASCII lower case; other bytes (UTF-8 included) are left as they are.
inline std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// `text` without the whitespace before and after it.
inline std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

// The type/subtype of a media type, lower case, without its parameters: "" for "".
inline std::string media_type(std::string_view content_type) {
  return lower(trim(content_type.substr(0, content_type.find(';'))));
}

// The value of parameter `name` (lower case) of a media type, lower case and unquoted, or ""
// when it has none: media_type_parameter("text/csv; charset=\"ISO-8859-1\"", "charset") is
// "iso-8859-1".
inline std::string media_type_parameter(std::string_view content_type, std::string_view name) {
  for (auto semicolon = content_type.find(';'); semicolon != std::string_view::npos;
       semicolon = content_type.find(';', semicolon + 1)) {
    std::string_view parameter = content_type.substr(semicolon + 1);
    parameter = parameter.substr(0, parameter.find(';'));
    const auto equals = parameter.find('=');
    if (equals == std::string_view::npos || lower(trim(parameter.substr(0, equals))) != name) continue;
    std::string value = lower(trim(parameter.substr(equals + 1)));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    return value;
  }
  return {};
}

}  // namespace sluice::text
