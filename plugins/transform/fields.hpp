// What the transform components share: path params, writing and removing a field by path,
// the strings of a field, and a regex param compiled with the param named in its error.
#pragma once

#include <string>
#include <string_view>

#include <sluice/component.hpp>
#include <sluice/regex.hpp>

namespace sluice::transform {

// A required (by default) string param that names a field path.
ParamSpec path_param(std::string name, std::string description, bool required = true);

// Removes the value at `path` (an array element becomes null rather than shift the others);
// top-level fields lose their field metadata with them.
void erase_path(Packet& packet, const FieldPath& path);

// Packet::set_path, or a runtime_error when a step on the way is not an object.
void set_path_or_throw(Packet& packet, const FieldPath& path, Value value);

// Applies `change` to a string, or to each string in an array.
template <class F>
void for_strings(Value& value, F&& change) {
  if (value.is_string()) {
    change(value.as_string());
  } else if (value.is_array()) {
    for (auto& item : value.as_array())
      if (item.is_string()) change(item.as_string());
  }
}

// Text that is not UTF-8 cannot be case-mapped or trimmed by code point: a runtime_error.
[[noreturn]] void not_utf8(std::string_view component, const std::string& field);

// `pattern` compiled, or an invalid_argument naming `param` and where in it the problem is.
Regex compile_param(std::string_view pattern, const std::string& param, RegexFlags flags = {});

}  // namespace sluice::transform
