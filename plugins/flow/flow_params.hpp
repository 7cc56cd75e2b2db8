// What the flow components share: condition and key params, and the hash of a key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/component.hpp>
#include <sluice/condition.hpp>

namespace sluice::flow {

// Param `name` read as a condition (docs/conditions.md); std::invalid_argument naming it and the text.
Condition parse_condition(const Params& params, std::string_view name);

// The required `if` param of drop, keep and route.
ParamSpec condition_param(std::string description);

// The `key` param (a list of field paths) of dedupe, sample and merge.
ParamSpec key_param(std::string description, bool required);

// The `key` param's paths; std::invalid_argument when it is empty.
std::vector<FieldPath> key_paths(const Params& params);

// The 64-bit hash of plugins::key_text (packet_key.hpp): the keys of dedupe and sample.
std::uint64_t key_hash(const Packet& packet, const std::vector<FieldPath>& paths);

}  // namespace sluice::flow
