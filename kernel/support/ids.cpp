#include "support/ids.hpp"

#include <sys/random.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <system_error>

namespace sluice {

namespace {

std::string random_hex(std::size_t bytes) {
  unsigned char random[16];
  const std::size_t n = bytes < sizeof random ? bytes : sizeof random;
  if (::getrandom(random, n, 0) != static_cast<ssize_t>(n))
    throw std::system_error(errno, std::generic_category(), "getrandom");
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[random[i] >> 4];
    out += digits[random[i] & 15];
  }
  return out;
}

}  // namespace

std::string random_id() { return random_hex(16); }

std::string next_packet_id() {
  static const std::string prefix = random_hex(4) + '-';
  static std::atomic<std::uint64_t> counter{0};
  // One per packet: to_chars, not snprintf (4 % of NDJSON ingest).
  char digits[24];
  const auto end =
      std::to_chars(digits, digits + sizeof digits, counter.fetch_add(1, std::memory_order_relaxed) + 1).ptr;
  std::string id;
  id.reserve(prefix.size() + static_cast<std::size_t>(end - digits));
  id += prefix;
  id.append(digits, end);
  return id;
}

}  // namespace sluice
