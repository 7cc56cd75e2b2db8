#include "support/duration.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>

namespace sluice {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  double amount = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), amount);
  if (ec != std::errc() || !std::isfinite(amount) || amount < 0) return std::nullopt;
  const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  double scale = 0;
  if (unit == "ms") scale = 1;
  else if (unit.empty() || unit == "s") scale = 1000;
  else if (unit == "m") scale = 60000;
  else return std::nullopt;
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(amount * scale)));
}

}  // namespace sluice
