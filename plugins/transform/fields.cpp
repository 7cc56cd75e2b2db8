#include "fields.hpp"

#include <stdexcept>

namespace sluice::transform {

ParamSpec path_param(std::string name, std::string description, bool required) {
  return {.name = std::move(name),
          .type = ParamType::string,
          .description = std::move(description),
          .required = required};
}

bool is_top_level(std::string_view path) { return path.find_first_of(".[") == std::string::npos; }

void erase_path(Packet& packet, const std::string& path) {
  if (is_top_level(path)) {
    packet.erase(path);
    return;
  }
  const auto dot = path.rfind('.');
  if (dot == std::string::npos || path.find_first_of("[]", dot) != std::string::npos) {
    // `a[2]` or `a.b["x"]`: clear the value rather than guess at removing array slots.
    if (Value* v = packet.find_path(path)) *v = nullptr;
    return;
  }
  if (Value* parent = packet.find_path(path.substr(0, dot)); parent && parent->is_object())
    parent->as_object().erase(path.substr(dot + 1));
}

void set_path_or_throw(Packet& packet, const std::string& path, Value value) {
  if (!packet.set_path(path, std::move(value)))
    throw std::runtime_error("cannot set '" + path + "': a step on the way is not an object");
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
