#include "fields.hpp"

#include <stdexcept>

namespace sluice::transform {

ParamSpec path_param(std::string name, std::string description, bool required) {
  return {.name = std::move(name),
          .type = ParamType::string,
          .description = std::move(description),
          .required = required};
}

void erase_path(Packet& packet, const FieldPath& path) {
  if (!path.valid()) return;
  const auto& steps = path.steps();
  if (path.is_top_level()) {
    packet.erase(steps.front().key);
    return;
  }
  if (steps.back().is_index) {
    // `a[2]`: clear the value rather than shift the elements after it.
    if (Value* at = packet.find_path(path)) *at = nullptr;
    return;
  }
  if (Value* parent = packet.find_path(path.parent()); parent && parent->is_object())
    parent->as_object().erase(steps.back().key);
}

void set_path_or_throw(Packet& packet, const FieldPath& path, Value value) {
  if (!packet.set_path(path, std::move(value)))
    throw std::runtime_error("cannot set '" + path.text() + "': a step on the way is not an object");
}

void not_utf8(std::string_view component, const std::string& field) {
  throw std::runtime_error(std::string(component) + ": field '" + field + "' is not valid UTF-8");
}

Regex compile_param(std::string_view pattern, const std::string& param, RegexFlags flags) {
  try {
    return Regex(pattern, flags);
  } catch (const RegexError& e) {
    throw std::invalid_argument("param '" + param + "': bad regex at offset " + std::to_string(e.offset()) +
                                ": " + e.what());
  }
}

}  // namespace sluice::transform
