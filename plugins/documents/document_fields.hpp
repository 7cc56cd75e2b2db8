// What the document adapters share: fields set only when the document has them, times as
// ISO 8601 UTC, text without surrounding blank space.
#pragma once

#include <ctime>
#include <string>
#include <string_view>

#include <sluice/packet.hpp>

namespace sluice::documents {

// An empty property is as good as none: the field stays absent rather than "".
inline void set_text_unless_empty(Packet& packet, std::string_view field, std::string text) {
  if (!text.empty()) packet.set(field, std::move(text));
}

// `2024-03-01T12:00:00Z`, the form date_normalize writes; (time_t)-1 means "not given".
inline void set_time_unless_unset(Packet& packet, std::string_view field, std::time_t time) {
  if (time == static_cast<std::time_t>(-1)) return;
  std::tm utc{};
  if (!gmtime_r(&time, &utc)) return;
  char text[32];
  if (std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc) == 0) return;
  packet.set(field, std::string(text));
}

inline std::string trim_text(std::string_view text) {
  constexpr std::string_view blank = " \t\r\n\f\v";
  const auto begin = text.find_first_not_of(blank);
  if (begin == std::string_view::npos) return {};
  return std::string(text.substr(begin, text.find_last_not_of(blank) - begin + 1));
}

}  // namespace sluice::documents
