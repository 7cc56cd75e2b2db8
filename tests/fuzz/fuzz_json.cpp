// The SDK's JSON and NDJSON readers on arbitrary text: a value or a ParseError. A value read
// is written back and read again to the same value.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <sluice/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const sluice::Value value = sluice::json::parse(text);
    if (sluice::json::parse(sluice::json::to_string(value)) != value) __builtin_trap();
  } catch (const sluice::json::ParseError&) {
  }
  try {
    sluice::json::for_each_ndjson(text, [](sluice::Value&&, std::size_t) {});
  } catch (const sluice::json::ParseError&) {
  }
  return 0;
}
