// The condition language on arbitrary text: a Condition or a ConditionError; a condition
// parsed is evaluated against a packet.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <sluice/condition.hpp>
#include <sluice/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const sluice::Packet packet =
      sluice::json::to_packet(sluice::json::parse(R"({"n": 1, "s": "text", "a": [1, 2.5, "x"], "o": {"k": null}})"));
  try {
    const auto condition = sluice::Condition::parse(std::string_view(reinterpret_cast<const char*>(data), size));
    (void)condition.matches(packet);
  } catch (const sluice::ConditionError&) {
  }
  return 0;
}
