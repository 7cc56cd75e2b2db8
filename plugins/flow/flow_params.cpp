#include "flow_params.hpp"

#include <xxhash.h>

#include <stdexcept>
#include <utility>

#include "packet_key.hpp"

namespace sluice::flow {

Condition parse_condition(const Params& params, std::string_view name) {
  const std::string text = params.get_string(name);
  try {
    return Condition::parse(text);
  } catch (const ConditionError& e) {
    throw std::invalid_argument("param '" + std::string(name) + "': " + e.what() + " in '" + text +
                                "'");
  }
}

ParamSpec condition_param(std::string description) {
  return {.name = "if",
          .type = ParamType::string,
          .description = std::move(description) + " (condition syntax: docs/conditions.md)",
          .required = true};
}

ParamSpec key_param(std::string description, bool required) {
  return {.name = "key",
          .type = ParamType::string_list,
          .description = std::move(description) +
                         "; values equal in conditions are one key (1 and 1.0, objects in any "
                         "key order), absent differs from null",
          .required = required};
}

std::vector<FieldPath> key_paths(const Params& params) {
  std::vector<FieldPath> paths = field_paths(params.get_string_list("key"));
  if (paths.empty()) throw std::invalid_argument("param 'key' is empty");
  return paths;
}

std::uint64_t key_hash(const Packet& packet, const std::vector<FieldPath>& paths) {
  const std::string text = plugins::key_text(packet, paths);
  return XXH3_64bits(text.data(), text.size());
}

}  // namespace sluice::flow
