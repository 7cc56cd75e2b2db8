#include "support/byte_size.hpp"

#include <cctype>
#include <charconv>
#include <limits>
#include <string>

namespace sluice {

std::optional<std::size_t> parse_byte_size(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  std::string unit;
  for (char c : text.substr(digits))
    if (c != ' ') unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::size_t scale = unit.empty() || unit == "b"                    ? 1
                            : unit == "k" || unit == "kb" || unit == "kib" ? std::size_t{1} << 10
                            : unit == "m" || unit == "mb" || unit == "mib" ? std::size_t{1} << 20
                            : unit == "g" || unit == "gb" || unit == "gib" ? std::size_t{1} << 30
                                                                           : 0;
  std::size_t count = 0;
  const auto [end, failed] = std::from_chars(text.data(), text.data() + digits, count);
  if (digits == 0 || failed != std::errc() || scale == 0 || count > std::numeric_limits<std::size_t>::max() / scale)
    return std::nullopt;
  return count * scale;
}

}  // namespace sluice
